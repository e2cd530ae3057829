// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IEmergencyAccess
/// @notice Break-glass access. The keys of the sections a resident opts into (default past history, diagnosis,
/// prescriptions, allergies; `0` opts out) are split by the authors among the consortium's emergency custodians
/// (t of n). A physician of an active `Hospital` member declares an emergency for a registered, unlocked patient
/// within daily limits; while it is unexpired, each current custodian may release its shares re-wrapped to the
/// physician once, as an event; at the threshold the emergency is open. It is time-boxed (`EmergencyDuration`),
/// covers the records anchored before the declaration (`cardLength`), and is reviewed afterwards by the patient,
/// a guardian with EMERGENCY scope, or the family doctor (a contest is final). Every event names the patient as
/// its first indexed argument, so the patient's audit reads it with the same filter as the other contracts.
/// @dev EIP-712 domain `"famchain EmergencyAccess"`, version `"1"`. Type strings (nonce key `Emergency/0` =
/// `9 << 160`; guardian EMERGENCY):
/// `EmergencyChoice(address resident,uint32 sections,uint256 nonce,uint256 deadline)`,
/// `EmergencyReview(address patient,uint256 id,bool contested,uint256 nonce,uint256 deadline)`.
interface IEmergencyAccess is ISignedMessages {
    /// @notice A declared emergency (all zero when unknown). Three slots.
    /// @param patient The patient.
    /// @param declaredAt When it was declared.
    /// @param sections The sections it may open (the patient's choice at declaration).
    /// @param physician The declaring physician.
    /// @param expiresAt Shares may be released and the emergency is open only while `block.timestamp < expiresAt`.
    /// @param reason A non-zero reason code (the client's catalogue).
    /// @param threshold The custodian threshold at declaration.
    /// @param approvals Custodians that released their shares.
    /// @param review `0` not reviewed, `1` accepted, `2` contested (final).
    /// @param institution The physician's institution.
    /// @param cardLength The card length at declaration: records `0 .. cardLength - 1` may open.
    struct Emergency {
        address patient;
        uint64 declaredAt;
        uint32 sections;
        address physician;
        uint64 expiresAt;
        uint8 reason;
        uint8 threshold;
        uint8 approvals;
        uint8 review;
        address institution;
        uint64 cardLength;
    }

    /// @notice `account` is not an active practitioner of an active Hospital member.
    error EmergencyAccessNotHospitalPhysician(address account);

    /// @notice `resident` is not a registered resident.
    error EmergencyAccessNotRegistered(address resident);

    /// @notice `patient` asked for the deletion of the whole card.
    error EmergencyAccessCardLocked(address patient);

    /// @notice `patient` opted out of emergency access.
    error EmergencyAccessOptedOut(address patient);

    /// @notice Fewer active custodians (`custodians`) than the custodian threshold.
    error EmergencyAccessTooFewCustodians(uint256 custodians, uint256 threshold);

    /// @notice A zero reason code.
    error EmergencyAccessInvalidReason();

    /// @notice A section bitmask with bits above bit 7.
    error EmergencyAccessInvalidSections(uint32 sections);

    /// @notice `physician` reached its daily limit of declarations.
    error EmergencyAccessPhysicianLimit(address physician, uint64 limit);

    /// @notice `institution` reached its daily limit of declarations.
    error EmergencyAccessInstitutionLimit(address institution, uint64 limit);

    /// @notice No emergency with this id.
    error EmergencyAccessUnknown(uint256 id);

    /// @notice The emergency expired at `expiresAt`.
    error EmergencyAccessExpired(uint256 id, uint64 expiresAt);

    /// @notice `account` is not a current emergency custodian.
    error EmergencyAccessNotCustodian(address account);

    /// @notice `custodian` already released its shares for this emergency.
    error EmergencyAccessAlreadyApproved(uint256 id, address custodian);

    /// @notice A zero bundle digest or an invalid codec.
    error EmergencyAccessInvalidBundle(bytes32 bundleDigest, uint8 bundleCodec);

    /// @notice The declaring physician is no longer an active practitioner of the institution it declared for.
    error EmergencyAccessPhysicianInactive(uint256 id, address physician);

    /// @notice `account` may not review this emergency.
    error EmergencyAccessNotReviewer(uint256 id, address account);

    /// @notice The emergency is not `patient`'s.
    error EmergencyAccessWrongPatient(uint256 id, address patient);

    /// @notice `resident` chose the sections an emergency may open (0 = opted out).
    event EmergencySectionsSet(address indexed resident, uint32 sections);

    /// @notice `physician` of `institution` declared emergency `id` for `patient`; the records it may open are the
    /// card's first `cardLength`, whose head was `cardHead`.
    event EmergencyDeclared(
        address indexed patient,
        uint256 indexed id,
        address indexed physician,
        address institution,
        uint8 reason,
        uint32 sections,
        uint64 cardLength,
        bytes24 cardHead,
        uint64 expiresAt
    );

    /// @notice `custodian` released its shares to `physician` in the bundle `bundleDigest`; `approvals` so far.
    event EmergencySharesReleased(
        address indexed patient,
        uint256 indexed id,
        address indexed custodian,
        address physician,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint8 approvals
    );

    /// @notice Emergency `id` reached its custodian threshold.
    event EmergencyOpened(address indexed patient, uint256 indexed id);

    /// @notice `reviewer` reviewed emergency `id` (`contested` or accepted).
    event EmergencyReviewed(
        address indexed patient, uint256 indexed id, address indexed reviewer, bool contested
    );

    /// @notice Sets the sections an emergency may open (`0` opts out). Caller: the registered resident.
    function setEmergencySections(uint32 sections) external;

    /// @notice Same as `setEmergencySections`, on the resident's (or an EMERGENCY guardian's) `EmergencyChoice`
    /// signature. Caller: anyone.
    function setEmergencySectionsWithSig(
        address resident,
        uint32 sections,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Declares an emergency for `patient`. Caller: an active practitioner of an active Hospital member,
    /// within the physician's and the institution's daily limits (a day is `block.timestamp / 1 days`).
    /// @param patient A registered, unlocked resident that has not opted out.
    /// @param reason A non-zero reason code.
    /// @return id The emergency's id (sequential from 1).
    function declare(address patient, uint8 reason) external returns (uint256 id);

    /// @notice Releases the caller's shares for emergency `id`, re-wrapped to the physician in a bundle. Caller: a
    /// current custodian, once per emergency, before expiry, while the physician is still active, the card not
    /// locked and the patient not opted out.
    function approve(uint256 id, bytes32 bundleDigest, uint8 bundleCodec) external;

    /// @notice Reviews emergency `id` (a contest is final). Caller: the patient, a guardian of the patient with
    /// EMERGENCY scope, or the patient's family doctor in force.
    function review(uint256 id, bool contested) external;

    /// @notice Same as `review` by the patient, on its (or an EMERGENCY guardian's) `EmergencyReview` signature.
    function reviewWithSig(
        address patient,
        uint256 id,
        bool contested,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The sections an emergency may open for `resident`: `0x9a` until a choice is made, `0` after an
    /// opt-out.
    function emergencySections(address resident) external view returns (uint32);

    /// @notice An emergency by id.
    function emergency(uint256 id) external view returns (Emergency memory);

    /// @notice The number of emergencies declared (the last id).
    function emergencyCount() external view returns (uint256);

    /// @notice Whether the emergency reached its threshold and has not expired.
    function isOpen(uint256 id) external view returns (bool);

    /// @notice Whether `custodian` released its shares for emergency `id`.
    function hasApproved(uint256 id, address custodian) external view returns (bool);

    /// @notice Declarations by `physician` today.
    function declarationsToday(address physician) external view returns (uint256);

    /// @notice Declarations by `institution`'s physicians today.
    function institutionDeclarationsToday(address institution) external view returns (uint256);

    /// @notice The consortium (physicians, custodians, parameters).
    function consortium() external view returns (address);

    /// @notice The resident registry (registration, lock, guardians, family doctors).
    function residentRegistry() external view returns (address);

    /// @notice The record registry (card lengths).
    function recordRegistry() external view returns (address);
}
