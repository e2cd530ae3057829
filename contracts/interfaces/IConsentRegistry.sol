// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IConsentRegistry
/// @notice Patient consents. One grant per `(patient, grantee)` names the sections (bitmask), actions
/// (`READ = 1`, `APPEND = 2`) and expiry, and is bound to the grantee's enrollment; a new grant replaces the old
/// one. The PIPL terms (recipient, contact, purpose, data, method, records period, salt) are committed, not
/// stored: a consent carries `terms`, the EIP-712 `hashStruct` of the `ConsentTerms` the wallet showed in clear.
/// A consent may name a key bundle (`bundleDigest`, `bundleCodec`): the re-wrapped section keys of existing
/// records, announced in the same transaction as the grant, so the release is the patient's act.
/// Only the patient (or a guardian with CONSENT scope, by signature) changes consent. Revoking or refusing a
/// grantee consumes the patient's `Consent/grantee` nonce: every outstanding consent signature for that grantee
/// dies with it. `isAuthorized` is the single access rule used by the record registry.
/// @dev EIP-712 domain `"famchain ConsentRegistry"`, version `"1"`. Type strings (nonce key `Consent/grantee`):
/// `Consent(address patient,address grantee,uint32 sections,uint8 actions,uint64 expiresAt,ConsentTerms terms,bytes32 bundleDigest,uint8 bundleCodec,uint256 nonce,uint256 deadline)ConsentTerms(string recipient,string contact,string purpose,string data,string method,uint64 recordsFrom,uint64 recordsUntil,bytes32 salt)`,
/// `Revocation(address patient,address grantee,uint256 nonce,uint256 deadline)`,
/// `Refusal(address patient,address grantee,uint256 nonce,uint256 deadline)`.
interface IConsentRegistry is ISignedMessages {
    /// @notice A stored grant (all zero when none).
    /// @param sections Section bitmask.
    /// @param actions Action bitmask.
    /// @param expiresAt The grant authorizes while `block.timestamp < expiresAt`.
    /// @param enrollment The grantee's enrollment number when granted; the grant counts only while it is current.
    struct Grant {
        uint32 sections;
        uint8 actions;
        uint64 expiresAt;
        uint32 enrollment;
    }

    /// @notice A grantee's open access request (all zero when none).
    /// @param sections Requested section bitmask.
    /// @param actions Requested action bitmask.
    /// @param duration Requested duration in seconds.
    /// @param terms The sha2-256 digest of a raw IPFS block holding the request terms sealed to the patient and
    /// the requester.
    struct Request {
        uint32 sections;
        uint8 actions;
        uint64 duration;
        bytes32 terms;
    }

    /// @notice A section bitmask that is zero or has bits above bit 7.
    error ConsentRegistryInvalidSections(uint32 sections);

    /// @notice An action bitmask that is zero or has bits above bit 1.
    error ConsentRegistryInvalidActions(uint8 actions);

    /// @notice `expiresAt` is not in the future.
    error ConsentRegistryInvalidExpiry(uint64 expiresAt);

    /// @notice A zero terms commitment, or a zero request duration.
    error ConsentRegistryInvalidTerms(bytes32 terms);

    /// @notice A bundle with an invalid codec, a codec without a bundle, or a bundle for a grant without READ.
    error ConsentRegistryInvalidBundle(bytes32 bundleDigest, uint8 bundleCodec);

    /// @notice `patient` is not a registered resident.
    error ConsentRegistryPatientNotRegistered(address patient);

    /// @notice `patient` asked for the deletion of the whole card: no new grant or request.
    error ConsentRegistryCardLocked(address patient);

    /// @notice `grantee` is not an active practitioner (or is the patient).
    error ConsentRegistryInvalidGrantee(address grantee);

    /// @notice `patient` has no grant for `grantee` to revoke.
    error ConsentRegistryNotGranted(address patient, address grantee);

    /// @notice `grantee` has no open request to `patient`.
    error ConsentRegistryNoRequest(address patient, address grantee);

    /// @notice `patient` granted (or replaced the grant of) `grantee` under the committed `terms`, and announced
    /// the key bundle `bundleDigest` (zero when none) for it.
    event ConsentGranted(
        address indexed patient,
        address indexed grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec
    );

    /// @notice `patient` revoked the grant of `grantee`.
    event ConsentRevoked(address indexed patient, address indexed grantee);

    /// @notice `grantee` asked `patient` for access under the sealed request `terms`.
    event AccessRequested(
        address indexed patient,
        address indexed grantee,
        uint32 sections,
        uint8 actions,
        uint64 duration,
        bytes32 terms
    );

    /// @notice `grantee` withdrew its request to `patient`.
    event AccessRequestWithdrawn(address indexed patient, address indexed grantee);

    /// @notice `patient` refused the request of `grantee`.
    event AccessRequestRefused(address indexed patient, address indexed grantee);

    /// @notice Grants (or replaces the grant of) `grantee` and clears its request. Caller: the patient, registered
    /// and not locked. Every accepted grant emits `ConsentGranted` (the committed terms are not stored, so the
    /// event is the record of what was agreed).
    /// @param grantee An active practitioner other than the patient.
    /// @param sections Section bitmask.
    /// @param actions Action bitmask.
    /// @param expiresAt Expiry time, in the future.
    /// @param terms `hashStruct(ConsentTerms)` (non-zero).
    /// @param bundleDigest The sha2-256 digest of the key bundle for `grantee` (zero: none).
    /// @param bundleCodec The bundle's CID codec (`0x55`/`0x70`; zero when there is no bundle).
    function grant(
        address grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec
    ) external;

    /// @notice Same as `grant`, on the patient's (or a CONSENT guardian's) `Consent` signature. Caller: anyone.
    function grantWithSig(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Deletes the grant of `grantee` and consumes the caller's `Consent/grantee` nonce. Caller: the
    /// patient.
    function revoke(address grantee) external;

    /// @notice Same as `revoke`, on the patient's (or a CONSENT guardian's) `Revocation` signature (which consumes
    /// the `Consent/grantee` nonce). Caller: anyone.
    function revokeWithSig(
        address patient,
        address grantee,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice `revoke` for each grantee that has a stored grant (the others are skipped). Caller: the patient.
    function revokeMany(address[] calldata grantees) external;

    /// @notice Opens (or replaces) a request for access to `patient`. Caller: an active practitioner. No event
    /// when the request is unchanged.
    /// @param patient A registered, unlocked resident.
    /// @param sections Section bitmask requested.
    /// @param actions Action bitmask requested.
    /// @param duration Requested duration in seconds (non-zero).
    /// @param terms Digest of the sealed request-terms block (non-zero).
    function requestAccess(address patient, uint32 sections, uint8 actions, uint64 duration, bytes32 terms)
        external;

    /// @notice Withdraws the caller's open request to `patient`. Caller: the grantee that raised it.
    function withdrawRequest(address patient) external;

    /// @notice Deletes the request of `grantee` and consumes the caller's `Consent/grantee` nonce. Caller: the
    /// patient.
    function refuseRequest(address grantee) external;

    /// @notice Same as `refuseRequest`, on the patient's (or a CONSENT guardian's) `Refusal` signature.
    function refuseRequestWithSig(
        address patient,
        address grantee,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Whether `accessor` may perform `action` on `sections` of `patient`'s records now: the patient; an
    /// unexpired grant covering the request whose grantee is still enrolled under the grant's enrollment; or what
    /// `ResidentRegistry.accessOf` allows (the family doctor in force, a READ guardian).
    /// @param patient The patient.
    /// @param accessor The reader or author.
    /// @param sections Section bitmask requested (every bit must be covered).
    /// @param action `READ = 1` or `APPEND = 2` (a bitmask; every bit must be covered).
    function isAuthorized(address patient, address accessor, uint32 sections, uint8 action)
        external
        view
        returns (bool);

    /// @notice The stored grant of `patient` to `grantee` (possibly expired or of an old enrollment).
    function grantOf(address patient, address grantee) external view returns (Grant memory);

    /// @notice The open request of `grantee` to `patient`.
    function requestOf(address patient, address grantee) external view returns (Request memory);

    /// @notice The consortium whose practitioners can be grantees.
    function consortium() external view returns (address);

    /// @notice The resident registry (registration, lock, family doctors and guardians).
    function residentRegistry() external view returns (address);
}
