// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IResidentRegistry
/// @notice Residents and their family-doctor agreements (家庭医生签约).
/// A resident registers an encryption public key that provably is the account's own (it must hash to the address)
/// and a commitment (the sha2-256 digest of the raw-block CID) of the encrypted basic information; only the
/// resident changes the commitment. No personal data is stored or logged.
/// A family-doctor agreement (at most one per resident) names the doctor, the sections and actions the doctor
/// gets, and ends at `endsAt` by block time. The doctor must be an active practitioner of an active `PrimaryCare`
/// member when it is proposed, when it is accepted, and for `activeFamilyDoctor` to return it.
/// @dev EIP-712 domain `"famchain ResidentRegistry"`, version `"1"`. Type strings:
/// `Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)` and
/// `Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)`.
interface IResidentRegistry is ISignedMessages {
    /// @notice A resident's agreement as stored (may be expired or its doctor inactive; see `activeFamilyDoctor`).
    /// @param doctor The family doctor (zero when there has been none or it was terminated).
    /// @param sections Section bitmask the doctor may act on.
    /// @param actions Action bitmask (`READ = 1`, `APPEND = 2`).
    /// @param endsAt The agreement is in force while `block.timestamp < endsAt`.
    struct Agreement {
        address doctor;
        uint32 sections;
        uint8 actions;
        uint64 endsAt;
    }

    /// @notice A proposal waiting for the other side's acceptance (one per resident; a new one replaces it).
    /// @param doctor The proposed family doctor (zero when none is pending).
    /// @param proposer The side that proposed: the resident or the doctor.
    /// @param sections Proposed section bitmask.
    /// @param actions Proposed action bitmask.
    /// @param term Proposed duration in seconds, counted from acceptance.
    struct PendingAgreement {
        address doctor;
        address proposer;
        uint32 sections;
        uint8 actions;
        uint64 term;
    }

    /// @notice The encryption key is not 64 bytes or does not hash to `account`.
    error ResidentRegistryInvalidEncryptionKey(address account);

    /// @notice A zero profile commitment.
    error ResidentRegistryInvalidProfile();

    /// @notice `resident` is already registered.
    error ResidentRegistryAlreadyRegistered(address resident);

    /// @notice `resident` is not registered.
    error ResidentRegistryNotRegistered(address resident);

    /// @notice The relayer is neither an active member admin nor an active practitioner.
    error ResidentRegistryUnauthorizedRelayer(address relayer);

    /// @notice A section bitmask that is zero or has bits above bit 6.
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

    /// @notice No pending agreement between `caller` and `counterparty` proposed by `counterparty`.
    error ResidentRegistryNoPendingAgreement(address caller, address counterparty);

    /// @notice The accepted terms differ from the pending proposal.
    error ResidentRegistryTermsMismatch(address resident, address doctor);

    /// @notice `resident` already has an agreement in force with another doctor (`doctor`).
    error ResidentRegistryAgreementInForce(address resident, address doctor);

    /// @notice `resident` has no agreement in force.
    error ResidentRegistryNoActiveAgreement(address resident);

    /// @notice `caller` is neither the resident nor the doctor of the agreement.
    error ResidentRegistryNotAgreementParty(address resident, address caller);

    /// @notice `resident` registered with its encryption public key and profile commitment.
    event ResidentRegistered(address indexed resident, bytes encryptionKey, bytes32 profile);

    /// @notice `resident` replaced its profile commitment.
    event ProfileUpdated(address indexed resident, bytes32 profile);

    /// @notice An agreement was proposed by `proposer` (the resident or the doctor).
    event AgreementProposed(
        address indexed resident,
        address indexed doctor,
        address proposer,
        uint32 sections,
        uint8 actions,
        uint64 term
    );

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

    /// @notice The agreement was terminated by `by` (the resident or the doctor).
    event AgreementTerminated(address indexed resident, address indexed doctor, address by);

    /// @notice Registers the caller. Caller: the resident.
    /// @param encryptionKey 64-byte uncompressed secp256k1 public key (no `0x04` prefix) hashing to the caller.
    /// @param profile Digest of the encrypted basic-information block (non-zero).
    function register(bytes calldata encryptionKey, bytes32 profile) external;

    /// @notice Registers `resident` with its `Registration` signature. Caller: an active member admin or an
    /// active practitioner (so the resident needs no gas).
    function registerWithSig(
        address resident,
        bytes calldata encryptionKey,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Replaces the caller's profile commitment (no event when it is unchanged). Caller: the resident.
    function updateProfile(bytes32 profile) external;

    /// @notice Proposes an agreement: a registered resident to an eligible doctor, or an eligible doctor to a
    /// registered resident. Replaces the resident's pending proposal.
    /// @param counterparty The other side.
    /// @param sections Section bitmask for the doctor.
    /// @param actions Action bitmask for the doctor.
    /// @param term Duration in seconds from acceptance.
    function proposeAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external;

    /// @notice Accepts the counterparty's pending proposal; the terms must equal it. Caller: the other side.
    function acceptAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external;

    /// @notice Puts an agreement with the caller (the doctor) in force with the resident's `Agreement`
    /// signature; no proposal needed. With the same doctor already in force it renews with the signed terms.
    function acceptAgreementWithSig(
        address resident,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Sets the end of the caller's agreement in force to `block.timestamp + term`. Caller: the resident.
    function renewAgreement(uint64 term) external;

    /// @notice Terminates the agreement of `resident` that has not ended. Caller: the resident or the doctor.
    function terminateAgreement(address resident) external;

    /// @notice Whether `resident` is registered.
    function isRegistered(address resident) external view returns (bool);

    /// @notice The encryption public key of `resident` (empty when not registered).
    function encryptionKeyOf(address resident) external view returns (bytes memory);

    /// @notice The profile commitment of `resident` (zero when not registered).
    function profileOf(address resident) external view returns (bytes32);

    /// @notice The family doctor in force for `resident`: zero values when the agreement ended or its doctor is no
    /// longer an active practitioner of an active PrimaryCare member.
    function activeFamilyDoctor(address resident)
        external
        view
        returns (address doctor, uint32 sections, uint8 actions, uint64 endsAt);

    /// @notice The stored agreement of `resident`, in force or not.
    function agreement(address resident) external view returns (Agreement memory);

    /// @notice The pending proposal of `resident`.
    function pendingAgreement(address resident) external view returns (PendingAgreement memory);

    /// @notice The consortium whose practitioners can be family doctors.
    function consortium() external view returns (address);
}
