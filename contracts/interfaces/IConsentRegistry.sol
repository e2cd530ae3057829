// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IConsentRegistry
/// @notice Patient consents. One grant per `(patient, grantee)` names the sections (bitmask), actions
/// (`READ = 1`, `APPEND = 2`), purpose (`1 Treatment`, `2 Referral`, `3 InsuranceClaim`, `4 Research`) and expiry;
/// a new grant replaces the old one. Only the patient changes consent: by transaction, or by an EIP-712 `Consent`
/// signature that anyone may relay (ERC-1271 wallets included). `isAuthorized` is the single access rule used by
/// the record registry: the patient; an unexpired grant covering the request whose grantee is still an active
/// practitioner; or the family doctor in force whose agreement covers the request.
/// @dev EIP-712 domain `"famchain ConsentRegistry"`, version `"1"`. Type string:
/// `Consent(address patient,address grantee,uint32 sections,uint8 actions,uint8 purpose,uint64 expiresAt,uint256 nonce,uint256 deadline)`.
interface IConsentRegistry is ISignedMessages {
    /// @notice A stored grant (all zero when none).
    struct Grant {
        uint32 sections;
        uint8 actions;
        uint8 purpose;
        uint64 expiresAt;
    }

    /// @notice A grantee's open access request (all zero when none).
    struct Request {
        uint32 sections;
        uint8 actions;
        uint8 purpose;
    }

    /// @notice A section bitmask that is zero or has bits above bit 6.
    error ConsentRegistryInvalidSections(uint32 sections);

    /// @notice An action bitmask that is zero or has bits above bit 1.
    error ConsentRegistryInvalidActions(uint8 actions);

    /// @notice A purpose outside 1..4.
    error ConsentRegistryInvalidPurpose(uint8 purpose);

    /// @notice `expiresAt` is not in the future.
    error ConsentRegistryInvalidExpiry(uint64 expiresAt);

    /// @notice `patient` is not a registered resident.
    error ConsentRegistryPatientNotRegistered(address patient);

    /// @notice `grantee` is not an active practitioner (or is the patient).
    error ConsentRegistryInvalidGrantee(address grantee);

    /// @notice `patient` has no grant for `grantee` to revoke.
    error ConsentRegistryNotGranted(address patient, address grantee);

    /// @notice `grantee` has no open request to `patient`.
    error ConsentRegistryNoRequest(address patient, address grantee);

    /// @notice `patient` granted (or replaced the grant of) `grantee`.
    event ConsentGranted(
        address indexed patient,
        address indexed grantee,
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint64 expiresAt
    );

    /// @notice `patient` revoked the grant of `grantee`.
    event ConsentRevoked(address indexed patient, address indexed grantee);

    /// @notice `grantee` asked `patient` for access.
    event AccessRequested(
        address indexed patient, address indexed grantee, uint32 sections, uint8 actions, uint8 purpose
    );

    /// @notice `grantee` withdrew its request to `patient`.
    event AccessRequestWithdrawn(address indexed patient, address indexed grantee);

    /// @notice Grants (or replaces the grant of) `grantee`. Caller: the patient, who must be registered. No event
    /// when the grant is unchanged.
    /// @param grantee An active practitioner other than the patient.
    /// @param sections Section bitmask.
    /// @param actions Action bitmask.
    /// @param purpose Purpose code 1..4.
    /// @param expiresAt Expiry time, in the future.
    function grant(address grantee, uint32 sections, uint8 actions, uint8 purpose, uint64 expiresAt) external;

    /// @notice Same as `grant`, on `patient`'s `Consent` signature. Caller: anyone.
    function grantWithSig(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Deletes the grant of `grantee`. Caller: the patient.
    function revoke(address grantee) external;

    /// @notice Opens (or replaces) a request for access to `patient`. Caller: an active practitioner. No event
    /// when the request is unchanged.
    function requestAccess(address patient, uint32 sections, uint8 actions, uint8 purpose) external;

    /// @notice Withdraws the caller's open request to `patient`. Caller: the grantee that raised it.
    function withdrawRequest(address patient) external;

    /// @notice Whether `accessor` may perform `action` on `sections` of `patient`'s records now.
    /// @param patient The patient.
    /// @param accessor The reader or author.
    /// @param sections Section bitmask requested (every bit must be covered).
    /// @param action `READ = 1` or `APPEND = 2` (a bitmask; every bit must be covered).
    function isAuthorized(address patient, address accessor, uint32 sections, uint8 action)
        external
        view
        returns (bool);

    /// @notice The stored grant of `patient` to `grantee` (possibly expired).
    function grantOf(address patient, address grantee) external view returns (Grant memory);

    /// @notice The open request of `grantee` to `patient`.
    function requestOf(address patient, address grantee) external view returns (Request memory);

    /// @notice The consortium whose practitioners can be grantees.
    function consortium() external view returns (address);

    /// @notice The resident registry (registration and family-doctor agreements).
    function residentRegistry() external view returns (address);
}
