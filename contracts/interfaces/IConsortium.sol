// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IConsortium
/// @notice The consortium of health institutions. Members (identified by their admin address) are admitted,
/// suspended, reinstated and removed, and the voting threshold changed, only by a vote of the active members. After
/// bootstrap no single key can change membership: the contract never lets the active set drop below two members
/// and every threshold is a strict majority, so every change needs at least two approvals. The admin of an active
/// member registers and deactivates its own practitioners.
interface IConsortium {
    /// @notice The kind of a member institution.
    enum InstitutionKind {
        None,
        PrimaryCare,
        Hospital,
        Insurer,
        Research,
        Regulator
    }

    /// @notice The status of a member institution.
    enum MemberStatus {
        None,
        Active,
        Suspended,
        Removed
    }

    /// @notice What a proposal changes when it passes.
    enum ProposalAction {
        Admit,
        Suspend,
        Reinstate,
        Remove,
        SetThreshold
    }

    /// @notice A membership or threshold proposal.
    /// @param action What the proposal does.
    /// @param kind The kind of institution to admit (`Admit` only).
    /// @param newThresholdBps The threshold to set (`SetThreshold` only).
    /// @param approvals Number of active members that approved it (the proposer included).
    /// @param expiresAt Votes are accepted while `block.timestamp <= expiresAt`.
    /// @param executed Whether the proposal passed and was applied.
    /// @param institution The member concerned (zero for `SetThreshold`).
    /// @param proposer The member that created the proposal.
    struct Proposal {
        ProposalAction action;
        InstitutionKind kind;
        uint16 newThresholdBps;
        uint32 approvals;
        uint64 expiresAt;
        bool executed;
        address institution;
        address proposer;
    }

    /// @notice Fewer than two founders, or `founders` and `kinds` differ in length.
    error ConsortiumInvalidFounders(uint256 founders, uint256 kinds);

    /// @notice A threshold outside `(5000, 10000]` basis points.
    error ConsortiumInvalidThreshold(uint16 thresholdBps);

    /// @notice A zero voting period.
    error ConsortiumInvalidVotingPeriod();

    /// @notice A zero address where an institution or practitioner is required.
    error ConsortiumZeroAddress();

    /// @notice `InstitutionKind.None` (or an out-of-range kind) for a member.
    error ConsortiumInvalidKind(InstitutionKind kind);

    /// @notice A founder listed twice.
    error ConsortiumDuplicateFounder(address founder);

    /// @notice `account` is not an active member.
    error ConsortiumNotActiveMember(address account);

    /// @notice `action` cannot apply to `institution` in its current `status`.
    error ConsortiumInvalidTransition(ProposalAction action, address institution, MemberStatus status);

    /// @notice The change would leave fewer than two active members (`activeCount` is the count now).
    error ConsortiumTooFewActiveMembers(uint256 activeCount);

    /// @notice No proposal with this id.
    error ConsortiumUnknownProposal(uint256 proposalId);

    /// @notice The proposal's voting period ended at `expiresAt`.
    error ConsortiumProposalExpired(uint256 proposalId, uint64 expiresAt);

    /// @notice The proposal already passed.
    error ConsortiumProposalExecuted(uint256 proposalId);

    /// @notice `voter` already approved the proposal.
    error ConsortiumAlreadyVoted(uint256 proposalId, address voter);

    /// @notice The encryption key is not 64 bytes or does not hash to `account`.
    error ConsortiumInvalidEncryptionKey(address account);

    /// @notice `practitioner` is active at `institution`, so it cannot be registered again.
    error ConsortiumPractitionerActive(address practitioner, address institution);

    /// @notice `practitioner` is not an active practitioner of `institution`.
    error ConsortiumNotOwnPractitioner(address practitioner, address institution);

    /// @notice A proposal was created (and approved by its proposer).
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        ProposalAction action,
        address indexed institution,
        InstitutionKind kind,
        uint16 newThresholdBps,
        uint64 expiresAt
    );

    /// @notice `voter` approved the proposal; `approvals` is the new count.
    event ProposalVoted(uint256 indexed proposalId, address indexed voter, uint32 approvals);

    /// @notice The proposal reached the threshold and was applied.
    event ProposalExecuted(uint256 indexed proposalId);

    /// @notice `institution` became an active member (at deployment or by vote).
    event MemberAdmitted(address indexed institution, InstitutionKind kind);

    /// @notice `institution` was suspended; its practitioners are inactive until it is reinstated.
    event MemberSuspended(address indexed institution);

    /// @notice `institution` was reinstated.
    event MemberReinstated(address indexed institution);

    /// @notice `institution` was removed.
    event MemberRemoved(address indexed institution);

    /// @notice The voting threshold changed.
    event ThresholdChanged(uint16 oldThresholdBps, uint16 newThresholdBps);

    /// @notice `institution` registered `practitioner` with its encryption public key.
    event PractitionerRegistered(
        address indexed institution, address indexed practitioner, bytes encryptionKey
    );

    /// @notice `institution` deactivated `practitioner`.
    event PractitionerDeactivated(address indexed institution, address indexed practitioner);

    /// @notice Creates a proposal and counts the caller's approval. Caller: an active member.
    /// @param action What to do.
    /// @param institution The member concerned (ignored for `SetThreshold`).
    /// @param kind The kind of the institution to admit (ignored unless `Admit`).
    /// @param newThresholdBps The new threshold in `(5000, 10000]` (ignored unless `SetThreshold`).
    /// @return proposalId The new proposal's id (sequential from 1).
    function propose(ProposalAction action, address institution, InstitutionKind kind, uint16 newThresholdBps)
        external
        returns (uint256 proposalId);

    /// @notice Approves a proposal; applies it as soon as approvals reach
    /// `ceil(activeMemberCount * thresholdBps / 10000)`. Caller: an active member that has not voted on it.
    /// @param proposalId The proposal.
    function vote(uint256 proposalId) external;

    /// @notice Registers (or re-registers after deactivation) a practitioner of the caller's institution.
    /// Caller: the admin of an active member.
    /// @param practitioner The practitioner's account.
    /// @param encryptionKey The practitioner's 64-byte uncompressed secp256k1 public key (no `0x04` prefix); it
    /// must hash to `practitioner`.
    function registerPractitioner(address practitioner, bytes calldata encryptionKey) external;

    /// @notice Deactivates one of the caller's practitioners. Caller: the admin of an active member.
    /// @param practitioner The practitioner.
    function deactivatePractitioner(address practitioner) external;

    /// @notice Whether `account` is the admin of an active member.
    function isActiveMember(address account) external view returns (bool);

    /// @notice The kind and status of a member.
    function member(address institution) external view returns (InstitutionKind kind, MemberStatus status);

    /// @notice The number of active members.
    function activeMemberCount() external view returns (uint256);

    /// @notice The voting threshold in basis points (strictly above 5000).
    function thresholdBps() external view returns (uint16);

    /// @notice How long a proposal accepts votes, in seconds.
    function votingPeriod() external view returns (uint64);

    /// @notice The number of proposals created so far (the last id).
    function proposalCount() external view returns (uint256);

    /// @notice A proposal by id (all zero when unknown).
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Whether `voter` approved the proposal.
    function hasVoted(uint256 proposalId, address voter) external view returns (bool);

    /// @notice The institution of `account`, its kind, and whether the practitioner is active (practitioner
    /// active AND institution an active member).
    function practitioner(address account)
        external
        view
        returns (address institution, InstitutionKind kind, bool active);

    /// @notice Whether `account` is an active practitioner of an active member (the `active` of `practitioner`,
    /// cheaper: the access checks call it).
    function isActivePractitioner(address account) external view returns (bool);

    /// @notice The encryption public key a practitioner was registered with (empty when never registered).
    function encryptionKeyOf(address practitioner) external view returns (bytes memory);
}
