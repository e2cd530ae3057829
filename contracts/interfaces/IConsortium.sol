// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IConsortium
/// @notice The consortium of health institutions. Members (identified by their admin address) are admitted,
/// suspended, reinstated and removed, the voting threshold and the emergency parameters changed, emergency
/// custodians added and removed, and a dependent's guardianship ended, only by a vote of the active members.
/// A vote counts only while its voter is an active member, and the target of a suspension or removal never
/// votes on it: `activeApprovals` and `requiredApprovals` are evaluated when the proposal executes. After
/// bootstrap no single key can change anything: the active set never drops below two and every proposal needs at
/// least two approvals.
/// Each admission gives a member a new epoch; a practitioner is registered by an active member's admin with the
/// practitioner's own `Enrollment` signature, under the member's current epoch and a new per-account enrollment
/// number. A practitioner counts (`enrollmentOf != 0`) only while registered, its institution is active and the
/// institution's epoch is the one it was registered under: removing an institution deactivates its practitioners
/// for good, and grants or agreements bound to an enrollment never come back with a re-registration.
/// @dev EIP-712 domain `"famchain Consortium"`, version `"1"`. Type string:
/// `Enrollment(address practitioner,address institution,uint256 nonce,uint256 deadline)` (nonce key
/// `Enrollment/institution` = `10 << 160 | uint160(institution)`).
interface IConsortium is ISignedMessages {
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
        SetThreshold,
        AddCustodian,
        RemoveCustodian,
        SetParameter,
        EndGuardianship
    }

    /// @notice The emergency-access parameters the members set by vote.
    enum Parameter {
        None,
        CustodianThreshold,
        EmergencyDuration,
        PhysicianDailyLimit,
        InstitutionDailyLimit
    }

    /// @notice A proposal.
    /// @param action What the proposal does.
    /// @param kind The kind of institution to admit (`Admit` only).
    /// @param parameter The parameter to set (`SetParameter` only).
    /// @param votes Number of recorded votes (the proposer's included), whether or not their voters are still
    /// active; see `activeApprovals`.
    /// @param value The threshold in basis points (`SetThreshold`) or the parameter value (`SetParameter`).
    /// @param expiresAt Votes are accepted and the proposal executes only while `block.timestamp <= expiresAt`.
    /// @param executed Whether the proposal passed and was applied.
    /// @param institution The member concerned; the guardian for `EndGuardianship`; zero for `SetThreshold` and
    /// `SetParameter`.
    /// @param subject The resident for `EndGuardianship` (zero otherwise).
    /// @param proposer The member that created the proposal.
    struct Proposal {
        ProposalAction action;
        InstitutionKind kind;
        Parameter parameter;
        uint32 votes;
        uint64 value;
        uint64 expiresAt;
        bool executed;
        address institution;
        address subject;
        address proposer;
    }

    /// @notice A practitioner's standing now.
    /// @param institution The member that registered it last (zero when never registered).
    /// @param kind That member's institution kind.
    /// @param active Whether it counts now: registered, institution active, same member epoch.
    /// @param enrollment Its enrollment number while active, else 0.
    struct PractitionerStatus {
        address institution;
        InstitutionKind kind;
        bool active;
        uint32 enrollment;
    }

    /// @notice Fewer than two founders, or `founders` and `kinds` differ in length.
    error ConsortiumInvalidFounders(uint256 founders, uint256 kinds);

    /// @notice A threshold outside `(5000, 10000]` basis points.
    error ConsortiumInvalidThreshold(uint256 thresholdBps);

    /// @notice A zero voting period.
    error ConsortiumInvalidVotingPeriod();

    /// @notice A zero address where an institution, practitioner, guardian or resident is required.
    error ConsortiumZeroAddress();

    /// @notice `InstitutionKind.None` for a member.
    error ConsortiumInvalidKind(InstitutionKind kind);

    /// @notice A founder listed twice.
    error ConsortiumDuplicateFounder(address founder);

    /// @notice `account` is not an active member.
    error ConsortiumNotActiveMember(address account);

    /// @notice `action` cannot apply to `institution` in its current `status` (for `AddCustodian` also: it is a
    /// custodian already or has no member key; for `RemoveCustodian`: it is not a custodian).
    error ConsortiumInvalidTransition(ProposalAction action, address institution, MemberStatus status);

    /// @notice The change would leave fewer than two active members (`activeCount` is the count now).
    error ConsortiumTooFewActiveMembers(uint256 activeCount);

    /// @notice `Parameter.None`, or `value` outside the parameter's range (threshold 1..255; duration 1 s..24 h;
    /// limits >= 1).
    error ConsortiumInvalidParameter(Parameter parameter, uint64 value);

    /// @notice No proposal with this id.
    error ConsortiumUnknownProposal(uint256 proposalId);

    /// @notice The proposal's voting period ended at `expiresAt`.
    error ConsortiumProposalExpired(uint256 proposalId, uint64 expiresAt);

    /// @notice The proposal already passed.
    error ConsortiumProposalExecuted(uint256 proposalId);

    /// @notice `voter` already voted on the proposal.
    error ConsortiumAlreadyVoted(uint256 proposalId, address voter);

    /// @notice `execute` found fewer approvals of active members than required now.
    error ConsortiumNotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 required);

    /// @notice The encryption key is not 64 bytes or does not hash to `account`.
    error ConsortiumInvalidEncryptionKey(address account);

    /// @notice `practitioner` is an active practitioner of `institution`, so it cannot be registered again.
    error ConsortiumPractitionerActive(address practitioner, address institution);

    /// @notice `practitioner` is not an active practitioner of `institution`.
    error ConsortiumNotOwnPractitioner(address practitioner, address institution);

    /// @notice A proposal was created (and approved by its proposer).
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        ProposalAction action,
        address indexed institution,
        address subject,
        InstitutionKind kind,
        Parameter parameter,
        uint64 value,
        uint64 expiresAt
    );

    /// @notice `voter` voted for the proposal; `votes` is the number of recorded votes.
    event ProposalVoted(uint256 indexed proposalId, address indexed voter, uint32 votes);

    /// @notice The proposal passed with `approvals` of the `required` approvals of active members, and was applied.
    event ProposalExecuted(uint256 indexed proposalId, uint256 approvals, uint256 required);

    /// @notice `institution` became an active member (at deployment or by vote) with a new `epoch`.
    event MemberAdmitted(address indexed institution, InstitutionKind kind, uint32 epoch);

    /// @notice `institution` was suspended; its practitioners are inactive until it is reinstated.
    event MemberSuspended(address indexed institution);

    /// @notice `institution` was reinstated.
    event MemberReinstated(address indexed institution);

    /// @notice `institution` was removed; its practitioners are inactive for good.
    event MemberRemoved(address indexed institution);

    /// @notice The voting threshold changed.
    event ThresholdChanged(uint16 oldThresholdBps, uint16 newThresholdBps);

    /// @notice An emergency parameter changed (also at deployment, from 0).
    event ParameterChanged(Parameter indexed parameter, uint64 oldValue, uint64 newValue);

    /// @notice `institution` published the public key custodian shares are wrapped to.
    event MemberKeyPublished(address indexed institution, bytes key);

    /// @notice `institution` became an emergency custodian.
    event CustodianAdded(address indexed institution);

    /// @notice `institution` stopped being an emergency custodian (by vote, or by its removal).
    event CustodianRemoved(address indexed institution);

    /// @notice `institution` registered `practitioner` (with its signature) under `enrollment`.
    event PractitionerRegistered(
        address indexed institution, address indexed practitioner, uint32 enrollment, bytes encryptionKey
    );

    /// @notice `institution` deactivated `practitioner`.
    event PractitionerDeactivated(address indexed institution, address indexed practitioner);

    /// @notice `practitioner` resigned from `institution`.
    event PractitionerResigned(address indexed institution, address indexed practitioner);

    /// @notice Creates a proposal and counts the caller's vote. Caller: an active member.
    /// @param action What to do.
    /// @param institution The member concerned; the guardian for `EndGuardianship`; ignored for `SetThreshold`
    /// and `SetParameter`.
    /// @param subject The resident for `EndGuardianship` (ignored otherwise).
    /// @param kind The kind of the institution to admit (ignored unless `Admit`).
    /// @param parameter The parameter to set (ignored unless `SetParameter`).
    /// @param value The threshold in `(5000, 10000]` for `SetThreshold`, the parameter value for `SetParameter`
    /// (ignored otherwise).
    /// @return proposalId The new proposal's id (sequential from 1).
    function propose(
        ProposalAction action,
        address institution,
        address subject,
        InstitutionKind kind,
        Parameter parameter,
        uint64 value
    ) external returns (uint256 proposalId);

    /// @notice Records the caller's vote, then executes the proposal if `activeApprovals >= requiredApprovals`.
    /// Caller: an active member that has not voted on it.
    function vote(uint256 proposalId) external;

    /// @notice Executes an unexpired proposal whose approvals of active members reach the requirement now (a
    /// removal of a voter can make a pending proposal pass or fail). Caller: anyone.
    function execute(uint256 proposalId) external;

    /// @notice Registers (or re-registers) a practitioner of the caller's institution with the practitioner's own
    /// `Enrollment` signature naming the caller. Refused while the practitioner is active anywhere.
    /// Caller: the admin of an active member.
    /// @param practitioner The practitioner's account.
    /// @param encryptionKey The practitioner's 64-byte uncompressed secp256k1 public key (no `0x04` prefix); it
    /// must hash to `practitioner`.
    /// @param keyNonce The practitioner's nonce of key `Enrollment/caller`.
    /// @param deadline The signature's deadline.
    /// @param signature The practitioner's `Enrollment` signature.
    function registerPractitioner(
        address practitioner,
        bytes calldata encryptionKey,
        uint256 keyNonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Deactivates one of the caller's active practitioners. Caller: the admin of an active member.
    function deactivatePractitioner(address practitioner) external;

    /// @notice Ends the caller's registration. Caller: an active practitioner.
    function resign() external;

    /// @notice Publishes the key custodian shares are wrapped to. Caller: an active member; the key must hash to
    /// its admin address.
    function publishMemberKey(bytes calldata key) external;

    /// @notice Whether `account` is the admin of an active member.
    function isActiveMember(address account) external view returns (bool);

    /// @notice The kind, status and epoch of a member, and whether it holds the custodian flag (it is a custodian
    /// only while also active; see `isCustodian`).
    function member(address institution)
        external
        view
        returns (InstitutionKind kind, MemberStatus status, uint32 epoch, bool custodian);

    /// @notice The current epoch of a member (0 when never admitted).
    function memberEpoch(address institution) external view returns (uint32);

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

    /// @notice Whether `voter` voted on the proposal.
    function hasVoted(uint256 proposalId, address voter) external view returns (bool);

    /// @notice Everyone who voted on the proposal, in order (active now or not).
    function voters(uint256 proposalId) external view returns (address[] memory);

    /// @notice The voters of the proposal that are active members now, the target of a `Suspend`/`Remove`
    /// excluded.
    function activeApprovals(uint256 proposalId) external view returns (uint256);

    /// @notice `max(2, ceil(electorate * thresholdBps / 10000))`, electorate = active members now, less the target
    /// of a `Suspend`/`Remove` when it is active.
    function requiredApprovals(uint256 proposalId) external view returns (uint256);

    /// @notice The practitioner's institution, its kind, whether the practitioner counts now (registered,
    /// institution active, same member epoch), and its enrollment number when it counts (else 0).
    function practitioner(address account) external view returns (PractitionerStatus memory);

    /// @notice The enrollment number of `account` while it is an active practitioner, else 0. Grants and
    /// agreements made under an enrollment count only while it is the current one.
    function enrollmentOf(address account) external view returns (uint32);

    /// @notice Whether `account` is an active practitioner (`enrollmentOf(account) != 0`).
    function isActivePractitioner(address account) external view returns (bool);

    /// @notice The encryption public key a practitioner was last registered with (empty when never).
    function encryptionKeyOf(address practitioner) external view returns (bytes memory);

    /// @notice The key a member published for custodian shares (empty when none).
    function memberKeyOf(address institution) external view returns (bytes memory);

    /// @notice Whether `institution` is an emergency custodian now (custodian flag and active member).
    function isCustodian(address institution) external view returns (bool);

    /// @notice The emergency custodians now (flagged and active members).
    function custodians() external view returns (address[] memory);

    /// @notice The current value of an emergency parameter.
    function parameter(Parameter which) external view returns (uint64);
}
