// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IResidentRegistry
/// @notice Residents, their family-doctor agreements (家庭医生签约), their guardians and their deletion requests.
/// A resident registers an encryption public key (any valid secp256k1 point: it is bound to the account by the
/// account's own transaction or signature, so a key derived in the browser works) and a commitment (the sha2-256
/// digest of the raw-block CID) of the encrypted basic information. No personal data is stored or logged.
/// A family-doctor agreement (at most one in force per resident) names the doctor, the sections and actions the
/// doctor gets, ends at `endsAt` by block time, and is bound to the doctor's enrollment: it is in force only
/// while the doctor is an active `PrimaryCare` practitioner under the same enrollment. Proposals are per
/// (resident, doctor), expire after `PROPOSAL_TTL`, can be withdrawn by either side and are cleared by
/// acceptance and termination; termination also consumes the resident's `Agreement/doctor` nonce, so neither an
/// old proposal nor an unsubmitted signature can bring a terminated agreement back.
/// Guardians act for a resident within a scope and until an expiry; a `dependent` guardianship (a parent's) can
/// be ended by the guardian or by a consortium vote, not by the resident before it expires.
/// A deletion request for the whole card (`recordId == 0`) locks the card for good: the agreement ends, none can
/// come into force, and the other registries refuse new grants, anchors and key releases.
/// @dev EIP-712 domain `"famchain ResidentRegistry"`, version `"1"`. Type strings (nonce key in brackets):
/// `Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)` [Registration/0],
/// `Profile(address resident,bytes32 profile,uint256 nonce,uint256 deadline)` [Profile/0; guardian PROFILE],
/// `EncryptionKey(address resident,bytes encryptionKey,uint256 nonce,uint256 deadline)` [Profile/0; guardian PROFILE],
/// `Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)` [Agreement/doctor; guardian AGREEMENT],
/// `AgreementWithdrawal(address resident,address doctor,uint256 nonce,uint256 deadline)` [Agreement/doctor; guardian AGREEMENT],
/// `Termination(address resident,address doctor,uint256 nonce,uint256 deadline)` [Agreement/doctor; guardian AGREEMENT],
/// `Guardian(address resident,address guardian,uint8 scope,uint64 expiresAt,bool dependent,uint256 nonce,uint256 deadline)` [Guardian/guardian; resident only],
/// `GuardianRemoval(address resident,address guardian,uint256 nonce,uint256 deadline)` [Guardian/guardian; resident only],
/// `DeletionRequest(address resident,bytes32 recordId,uint256 nonce,uint256 deadline)` [Deletion/recordId; guardian RECORDS].
interface IResidentRegistry is ISignedMessages {
    /// @notice A resident's agreement as stored (may be expired or its doctor's enrollment gone; see
    /// `activeFamilyDoctor`).
    /// @param doctor The family doctor (zero when there has been none or it was terminated).
    /// @param sections Section bitmask the doctor may act on.
    /// @param actions Action bitmask (`READ = 1`, `APPEND = 2`).
    /// @param endsAt The agreement is in force while `block.timestamp < endsAt`.
    /// @param enrollment The doctor's enrollment number when it came into force.
    struct Agreement {
        address doctor;
        uint32 sections;
        uint8 actions;
        uint64 endsAt;
        uint32 enrollment;
    }

    /// @notice A proposal of one (resident, doctor) pair waiting for the other side (all zero when none).
    /// @param byResident Whether the resident proposed (else the doctor did).
    /// @param sections Proposed section bitmask.
    /// @param actions Proposed action bitmask.
    /// @param term Proposed duration in seconds, counted from acceptance.
    /// @param expiresAt The proposal can be accepted while `block.timestamp < expiresAt`.
    /// @param enrollment The doctor's enrollment number when it was proposed.
    struct PendingAgreement {
        bool byResident;
        uint32 sections;
        uint8 actions;
        uint64 term;
        uint64 expiresAt;
        uint32 enrollment;
    }

    /// @notice A guardian's standing for a resident (all zero when none).
    /// @param scope Guardian scope bits (`CONSENT 0x01`, `AGREEMENT 0x02`, `RECORDS 0x04`, `EMERGENCY 0x08`,
    /// `READ 0x10`, `PROFILE 0x20`).
    /// @param expiresAt The guardian acts while `block.timestamp < expiresAt`.
    /// @param dependent A parent's guardianship of a dependent: the resident cannot end it before `expiresAt`.
    struct Guardianship {
        uint8 scope;
        uint64 expiresAt;
        bool dependent;
    }

    /// @notice The encryption key is not a 64-byte secp256k1 point.
    error ResidentRegistryInvalidEncryptionKey(address account);

    /// @notice A zero profile commitment.
    error ResidentRegistryInvalidProfile();

    /// @notice `resident` is already registered.
    error ResidentRegistryAlreadyRegistered(address resident);

    /// @notice `resident` is not registered.
    error ResidentRegistryNotRegistered(address resident);

    /// @notice `resident` asked for the deletion of the whole card: no agreement can come into force.
    error ResidentRegistryCardLocked(address resident);

    /// @notice A section bitmask that is zero or has bits above bit 7.
    error ResidentRegistryInvalidSections(uint32 sections);

    /// @notice An action bitmask that is zero or has bits above bit 1.
    error ResidentRegistryInvalidActions(uint8 actions);

    /// @notice A zero term, or one whose end does not fit in 40 bits of seconds.
    error ResidentRegistryInvalidTerm(uint64 term);

    /// @notice `doctor` is not an active practitioner of an active PrimaryCare member.
    error ResidentRegistryNotFamilyDoctor(address doctor);

    /// @notice Neither side of the proposed agreement is the caller in a valid role (a registered resident
    /// proposing to an eligible doctor, or an eligible doctor proposing to a registered resident).
    error ResidentRegistryInvalidCounterparty(address caller, address counterparty);

    /// @notice No pending proposal of the pair made by the side that must have made it.
    error ResidentRegistryNoPendingAgreement(address resident, address doctor);

    /// @notice The pair's proposal expired at `expiresAt`.
    error ResidentRegistryProposalExpired(address resident, address doctor, uint64 expiresAt);

    /// @notice The accepted terms differ from the pending proposal.
    error ResidentRegistryTermsMismatch(address resident, address doctor);

    /// @notice The doctor was re-registered (or deactivated) since the proposal: `proposed` != `current`.
    error ResidentRegistryEnrollmentChanged(address doctor, uint32 proposed, uint32 current);

    /// @notice `resident` already has an agreement in force with another doctor (`doctor`).
    error ResidentRegistryAgreementInForce(address resident, address doctor);

    /// @notice `resident` has no agreement that has not ended.
    error ResidentRegistryNoActiveAgreement(address resident);

    /// @notice `caller` is neither the resident nor the doctor of the agreement or proposal.
    error ResidentRegistryNotAgreementParty(address resident, address caller);

    /// @notice A zero guardian, or the resident as its own guardian.
    error ResidentRegistryInvalidGuardian(address resident, address guardian);

    /// @notice A guardian scope that is zero or has bits above bit 5.
    error ResidentRegistryInvalidGuardianScope(uint8 scope);

    /// @notice A guardianship expiry that is not in the future.
    error ResidentRegistryInvalidGuardianExpiry(uint64 expiresAt);

    /// @notice `guardian` is not a guardian of `resident`.
    error ResidentRegistryNoGuardianship(address resident, address guardian);

    /// @notice The resident cannot change or end a dependent guardianship before it expires at `expiresAt`.
    error ResidentRegistryDependentGuardianship(address resident, address guardian, uint64 expiresAt);

    /// @notice `caller` is neither the resident nor the guardian.
    error ResidentRegistryNotGuardianshipParty(address resident, address caller);

    /// @notice `proposalId` is not an executed `EndGuardianship` proposal of the consortium.
    error ResidentRegistryInvalidEndGuardianship(uint256 proposalId);

    /// @notice The `EndGuardianship` proposal was applied already.
    error ResidentRegistryEndGuardianshipConsumed(uint256 proposalId);

    /// @notice `resident` already asked for the deletion of `recordId` (0 = the whole card).
    error ResidentRegistryDeletionAlreadyRequested(address resident, bytes32 recordId);

    /// @notice `resident` registered with its encryption public key and profile commitment.
    event ResidentRegistered(address indexed resident, bytes encryptionKey, bytes32 profile);

    /// @notice `resident` replaced its profile commitment.
    event ProfileUpdated(address indexed resident, bytes32 profile);

    /// @notice `resident` replaced its encryption public key.
    event EncryptionKeyChanged(address indexed resident, bytes encryptionKey);

    /// @notice An agreement was proposed by `proposer` (the resident or the doctor); it expires at `expiresAt`.
    event AgreementProposed(
        address indexed resident,
        address indexed doctor,
        address proposer,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint64 expiresAt
    );

    /// @notice The pair's pending proposal was withdrawn (or refused) by `by`.
    event AgreementProposalWithdrawn(address indexed resident, address indexed doctor, address by);

    /// @notice An agreement came into force (new, replacing terms with the same doctor, or renewed by signature).
    event AgreementAccepted(
        address indexed resident,
        address indexed doctor,
        uint32 sections,
        uint8 actions,
        uint64 startsAt,
        uint64 endsAt
    );

    /// @notice The resident moved the end of the agreement in force.
    event AgreementRenewed(address indexed resident, address indexed doctor, uint64 endsAt);

    /// @notice The agreement was terminated by `by` (the resident, the doctor, or the resident's deletion request).
    event AgreementTerminated(address indexed resident, address indexed doctor, address by);

    /// @notice `resident` appointed (or re-appointed) `guardian`.
    event GuardianAppointed(
        address indexed resident, address indexed guardian, uint8 scope, uint64 expiresAt, bool dependent
    );

    /// @notice The guardianship ended, by `by`: the resident, the guardian, or the Consortium (a vote).
    event GuardianRemoved(address indexed resident, address indexed guardian, address by);

    /// @notice `resident` asked for the deletion of `recordId` (0 = the whole card, which is now locked).
    event DeletionRequested(address indexed resident, bytes32 indexed recordId, uint64 requestedAt);

    /// @notice Registers the caller. Caller: the resident.
    /// @param encryptionKey 64-byte uncompressed secp256k1 public key (no `0x04` prefix), a valid curve point.
    /// @param profile Digest of the encrypted basic-information block (non-zero).
    function register(bytes calldata encryptionKey, bytes32 profile) external;

    /// @notice Registers `resident` with its `Registration` signature. Caller: anyone (the portal relays).
    function registerWithSig(
        address resident,
        bytes calldata encryptionKey,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Replaces the caller's profile commitment (no event when unchanged). Caller: the resident.
    function updateProfile(bytes32 profile) external;

    /// @notice Same as `updateProfile`, on the resident's (or a PROFILE guardian's) `Profile` signature.
    function updateProfileWithSig(
        address resident,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Replaces the caller's encryption key (no event when unchanged). Caller: the resident.
    function setEncryptionKey(bytes calldata encryptionKey) external;

    /// @notice Same as `setEncryptionKey`, on the resident's (or a PROFILE guardian's) `EncryptionKey` signature.
    function setEncryptionKeyWithSig(
        address resident,
        bytes calldata encryptionKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Proposes an agreement: a registered resident to an eligible doctor, or an eligible doctor to a
    /// registered, unlocked resident. Replaces the pair's pending proposal; expires after `PROPOSAL_TTL`.
    /// @param counterparty The other side.
    /// @param sections Section bitmask for the doctor.
    /// @param actions Action bitmask for the doctor.
    /// @param term Duration in seconds from acceptance.
    function proposeAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external;

    /// @notice Accepts the pair's unexpired proposal made by `counterparty`; the terms must equal it and the
    /// doctor's enrollment must be unchanged. Caller: the other side.
    function acceptAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external;

    /// @notice Puts an agreement in force on the resident's (or an AGREEMENT guardian's) `Agreement` signature.
    /// Sent by the doctor it needs no proposal (with the same doctor in force it renews with the signed terms);
    /// relayed by anyone else it accepts the doctor's unexpired proposal with exactly these terms.
    function acceptAgreementWithSig(
        address resident,
        address doctor,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Deletes the pair's pending proposal and consumes the resident's `Agreement/doctor` nonce.
    /// Caller: the resident or the doctor of the pair.
    function withdrawProposal(address counterparty) external;

    /// @notice Deletes the pair's pending proposal on the resident's (or an AGREEMENT guardian's)
    /// `AgreementWithdrawal` signature (the portal's "refuse"). Caller: anyone.
    function withdrawProposalWithSig(
        address resident,
        address doctor,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Sets the end of the caller's agreement in force to `block.timestamp + term`. Caller: the resident.
    function renewAgreement(uint64 term) external;

    /// @notice Terminates the agreement of `resident` that has not ended, clears the pair's proposal and consumes
    /// the resident's `Agreement/doctor` nonce. Caller: the resident or the doctor.
    function terminateAgreement(address resident) external;

    /// @notice Same as `terminateAgreement` by the resident, on its (or an AGREEMENT guardian's) `Termination`
    /// signature naming the doctor of the agreement. Caller: anyone.
    function terminateAgreementWithSig(
        address resident,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Appoints (or re-appoints with new terms) `guardian`. Refused over an unexpired dependent
    /// guardianship. Caller: the registered resident.
    /// @param guardian Any account other than the resident.
    /// @param scope Guardian scope bits (non-zero, within `0x3f`).
    /// @param expiresAt The guardian acts while `block.timestamp < expiresAt` (in the future).
    /// @param dependent Whether the resident is the guardian's dependent (cannot dismiss it before `expiresAt`).
    function appointGuardian(address guardian, uint8 scope, uint64 expiresAt, bool dependent) external;

    /// @notice Same as `appointGuardian`, on the resident's own `Guardian` signature (a guardian cannot appoint
    /// guardians). Caller: anyone.
    function appointGuardianWithSig(
        address resident,
        address guardian,
        uint8 scope,
        uint64 expiresAt,
        bool dependent,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Ends a guardianship and consumes the resident's `Guardian/guardian` nonce. Caller: the guardian
    /// (resigns), or the resident (refused for an unexpired dependent guardianship).
    function removeGuardian(address resident, address guardian) external;

    /// @notice Same as `removeGuardian` by the resident, on its own `GuardianRemoval` signature. Caller: anyone.
    function removeGuardianWithSig(
        address resident,
        address guardian,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Applies an executed, not yet applied `EndGuardianship` proposal of the consortium: ends the
    /// guardianship of `proposal.institution` for `proposal.subject` if there is one (a proposal is consumed
    /// either way, so a stale one never ends a later guardianship). Caller: anyone.
    function endGuardianship(uint256 proposalId) external;

    /// @notice Records the caller's irrevocable deletion request (PIPL art. 47) for one record, or with
    /// `recordId == 0` for the whole card, which locks it. Caller: the registered resident.
    function requestDeletion(bytes32 recordId) external;

    /// @notice Same as `requestDeletion`, on the resident's (or a RECORDS guardian's) `DeletionRequest` signature.
    function requestDeletionWithSig(
        address resident,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Whether `resident` is registered.
    function isRegistered(address resident) external view returns (bool);

    /// @notice Whether `resident` is registered and whether its card is locked (one call for the hot checks).
    function residentStatus(address resident) external view returns (bool registered, bool locked);

    /// @notice `residentStatus` and, when `accessor` is the family doctor in force, the agreement's terms (zeros
    /// otherwise; guardians are not counted: they only read) — one slot read, what RecordRegistry checks an author
    /// with before it asks ConsentRegistry.
    function cardAccessOf(address resident, address accessor)
        external
        view
        returns (bool registered, bool locked, uint32 sections, uint8 actions);

    /// @notice The encryption public key of `resident` (empty when not registered).
    function encryptionKeyOf(address resident) external view returns (bytes memory);

    /// @notice The profile commitment of `resident` (zero when not registered).
    function profileOf(address resident) external view returns (bytes32);

    /// @notice The family doctor in force for `resident`: zero values when the agreement ended, or its doctor is no
    /// longer an active PrimaryCare practitioner under the enrollment the agreement was made with.
    function activeFamilyDoctor(address resident)
        external
        view
        returns (address doctor, uint32 sections, uint8 actions, uint64 endsAt);

    /// @notice The family doctor in force for `resident` (zero when none): `activeFamilyDoctor`'s doctor alone.
    function familyDoctorOf(address resident) external view returns (address);

    /// @notice What `accessor` may do on `patient`'s records by this registry's rules: the agreement's terms when
    /// `accessor` is the family doctor in force; else `(ALL_SECTIONS, READ)` for an unexpired guardian with READ
    /// scope; else zeros.
    function accessOf(address patient, address accessor)
        external
        view
        returns (uint32 sections, uint8 actions);

    /// @notice The stored agreement of `resident`, in force or not.
    function agreement(address resident) external view returns (Agreement memory);

    /// @notice The pending proposal of the pair (possibly expired).
    function pendingAgreement(address resident, address doctor)
        external
        view
        returns (PendingAgreement memory);

    /// @notice The scope of `guardian` for `resident` now (0 when none or expired).
    function guardianScope(address resident, address guardian) external view returns (uint8);

    /// @notice The stored guardianship (possibly expired).
    function guardianship(address resident, address guardian) external view returns (Guardianship memory);

    /// @notice When `resident` asked for the deletion of `recordId` (0 = the whole card), or 0.
    function deletionRequestedAt(address resident, bytes32 recordId) external view returns (uint64);

    /// @notice Whether the `EndGuardianship` proposal was applied.
    function isEndGuardianshipConsumed(uint256 proposalId) external view returns (bool);

    /// @notice How long a proposal can be accepted: 30 days.
    function PROPOSAL_TTL() external view returns (uint64);

    /// @notice The consortium whose practitioners can be family doctors.
    function consortium() external view returns (address);
}
