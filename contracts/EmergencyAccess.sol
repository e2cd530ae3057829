// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";
import {IEmergencyAccess} from "./interfaces/IEmergencyAccess.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {Masks} from "./utils/Masks.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title EmergencyAccess
/// @notice Emergency declarations by hospital physicians, custodian share releases, and reviews.
contract EmergencyAccess is IEmergencyAccess, SignedMessages {
    bytes32 private constant _EMERGENCY_CHOICE_TYPEHASH =
        keccak256("EmergencyChoice(address resident,uint32 sections,uint256 nonce,uint256 deadline)");
    bytes32 private constant _EMERGENCY_REVIEW_TYPEHASH = keccak256(
        "EmergencyReview(address patient,uint256 id,bool contested,uint256 nonce,uint256 deadline)"
    );

    uint8 private constant _REVIEW_ACCEPTED = 1;
    uint8 private constant _REVIEW_CONTESTED = 2;

    struct Choice {
        bool chosen;
        uint32 sections;
    }

    struct Daily {
        uint64 day;
        uint64 count;
    }

    IConsortium private immutable _consortium;
    IResidentRegistry private immutable _residentRegistry;
    IRecordRegistry private immutable _recordRegistry;

    uint256 private _emergencyCount;
    mapping(address resident => Choice) private _choices;
    mapping(uint256 id => Emergency) private _emergencies;
    mapping(uint256 id => mapping(address custodian => bool)) private _approved;
    mapping(address physician => Daily) private _physicianDays;
    mapping(address institution => Daily) private _institutionDays;

    /// @param consortium_ Physicians, custodians and the emergency parameters.
    /// @param residentRegistry_ Registration, lock, guardians and family doctors.
    /// @param recordRegistry_ The cards (their length at declaration).
    constructor(IConsortium consortium_, IResidentRegistry residentRegistry_, IRecordRegistry recordRegistry_)
        SignedMessages("famchain EmergencyAccess")
    {
        _consortium = consortium_;
        _residentRegistry = residentRegistry_;
        _recordRegistry = recordRegistry_;
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner, uint192 key)
        public
        view
        override(ISignedMessages, SignedMessages)
        returns (uint256)
    {
        return super.nonces(owner, key);
    }

    /// @inheritdoc IEmergencyAccess
    function setEmergencySections(uint32 sections) external {
        _setSections(msg.sender, sections);
    }

    /// @inheritdoc IEmergencyAccess
    function setEmergencySectionsWithSig(
        address resident,
        uint32 sections,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_EMERGENCY_CHOICE_TYPEHASH, resident, sections, nonce, deadline)
        );
        _useSignature(
            resident,
            Masks.GUARDIAN_EMERGENCY,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_EMERGENCY, address(0)),
            deadline,
            signature
        );
        _setSections(resident, sections);
    }

    /// @inheritdoc IEmergencyAccess
    function declare(address patient, uint8 reason) external returns (uint256 id) {
        IConsortium.PractitionerStatus memory physician = _consortium.practitioner(msg.sender);
        address institution = physician.institution;
        if (!physician.active || physician.kind != IConsortium.InstitutionKind.Hospital) {
            revert EmergencyAccessNotHospitalPhysician(msg.sender);
        }
        if (reason == 0) revert EmergencyAccessInvalidReason();
        _checkPatient(patient);
        uint32 sections = _sectionsOf(patient);
        if (sections == 0) revert EmergencyAccessOptedOut(patient);
        uint64 threshold = _consortium.parameter(IConsortium.Parameter.CustodianThreshold);
        uint256 custodianCount = _consortium.custodians().length;
        if (custodianCount < threshold) revert EmergencyAccessTooFewCustodians(custodianCount, threshold);
        _countDeclaration(msg.sender, institution);
        (bytes24 cardHead, uint64 cardLength) = _recordRegistry.card(patient);
        uint64 expiresAt =
            uint64(block.timestamp) + _consortium.parameter(IConsortium.Parameter.EmergencyDuration);
        id = ++_emergencyCount;
        _emergencies[id] = Emergency({
            patient: patient,
            declaredAt: uint64(block.timestamp),
            sections: sections,
            physician: msg.sender,
            expiresAt: expiresAt,
            reason: reason,
            threshold: SafeCast.toUint8(threshold),
            approvals: 0,
            review: 0,
            institution: institution,
            cardLength: cardLength
        });
        emit EmergencyDeclared(
            patient, id, msg.sender, institution, reason, sections, cardLength, cardHead, expiresAt
        );
    }

    /// @inheritdoc IEmergencyAccess
    function approve(uint256 id, bytes32 bundleDigest, uint8 bundleCodec) external {
        Emergency storage e = _known(id);
        if (block.timestamp >= e.expiresAt) revert EmergencyAccessExpired(id, e.expiresAt);
        if (!_consortium.isCustodian(msg.sender)) revert EmergencyAccessNotCustodian(msg.sender);
        if (_approved[id][msg.sender]) revert EmergencyAccessAlreadyApproved(id, msg.sender);
        if (bundleDigest == 0 || !Masks.validCodec(bundleCodec)) {
            revert EmergencyAccessInvalidBundle(bundleDigest, bundleCodec);
        }
        address patient = e.patient;
        address physician = e.physician;
        IConsortium.PractitionerStatus memory p = _consortium.practitioner(physician);
        if (!p.active || p.institution != e.institution) {
            revert EmergencyAccessPhysicianInactive(id, physician);
        }
        _checkPatient(patient);
        if (_sectionsOf(patient) == 0) revert EmergencyAccessOptedOut(patient);
        _approved[id][msg.sender] = true;
        uint8 approvals = e.approvals + 1;
        e.approvals = approvals;
        emit EmergencySharesReleased(patient, id, msg.sender, physician, bundleDigest, bundleCodec, approvals);
        if (approvals == e.threshold) emit EmergencyOpened(patient, id);
    }

    /// @inheritdoc IEmergencyAccess
    function review(uint256 id, bool contested) external {
        Emergency storage e = _known(id);
        address patient = e.patient;
        if (msg.sender != patient) {
            bool guardian =
                _residentRegistry.guardianScope(patient, msg.sender) & Masks.GUARDIAN_EMERGENCY != 0;
            if (!guardian) {
                address doctor = _residentRegistry.familyDoctorOf(patient);
                if (doctor != msg.sender || doctor == address(0)) {
                    revert EmergencyAccessNotReviewer(id, msg.sender);
                }
            }
        }
        _review(e, id, msg.sender, contested);
    }

    /// @inheritdoc IEmergencyAccess
    function reviewWithSig(
        address patient,
        uint256 id,
        bool contested,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        Emergency storage e = _known(id);
        if (e.patient != patient) revert EmergencyAccessWrongPatient(id, patient);
        bytes32 structHash =
            keccak256(abi.encode(_EMERGENCY_REVIEW_TYPEHASH, patient, id, contested, nonce, deadline));
        address actor = _useSignature(
            patient,
            Masks.GUARDIAN_EMERGENCY,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_EMERGENCY, address(0)),
            deadline,
            signature
        );
        _review(e, id, actor, contested);
    }

    /// @inheritdoc IEmergencyAccess
    function emergencySections(address resident) external view returns (uint32) {
        return _sectionsOf(resident);
    }

    /// @inheritdoc IEmergencyAccess
    function emergency(uint256 id) external view returns (Emergency memory) {
        return _emergencies[id];
    }

    /// @inheritdoc IEmergencyAccess
    function emergencyCount() external view returns (uint256) {
        return _emergencyCount;
    }

    /// @inheritdoc IEmergencyAccess
    function isOpen(uint256 id) external view returns (bool) {
        Emergency storage e = _emergencies[id];
        return e.patient != address(0) && e.approvals >= e.threshold && block.timestamp < e.expiresAt;
    }

    /// @inheritdoc IEmergencyAccess
    function hasApproved(uint256 id, address custodian) external view returns (bool) {
        return _approved[id][custodian];
    }

    /// @inheritdoc IEmergencyAccess
    function declarationsToday(address physician) external view returns (uint256) {
        return _today(_physicianDays[physician]);
    }

    /// @inheritdoc IEmergencyAccess
    function institutionDeclarationsToday(address institution) external view returns (uint256) {
        return _today(_institutionDays[institution]);
    }

    /// @inheritdoc IEmergencyAccess
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IEmergencyAccess
    function residentRegistry() external view returns (address) {
        return address(_residentRegistry);
    }

    /// @inheritdoc IEmergencyAccess
    function recordRegistry() external view returns (address) {
        return address(_recordRegistry);
    }

    function _guardianScope(address resident, address guardian) internal view override returns (uint8) {
        return _residentRegistry.guardianScope(resident, guardian);
    }

    function _setSections(address resident, uint32 sections) private {
        if (!_residentRegistry.isRegistered(resident)) revert EmergencyAccessNotRegistered(resident);
        if (sections & ~Masks.ALL_SECTIONS != 0) revert EmergencyAccessInvalidSections(sections);
        Choice memory current = _choices[resident];
        if (current.chosen && current.sections == sections) return;
        _choices[resident] = Choice({chosen: true, sections: sections});
        emit EmergencySectionsSet(resident, sections);
    }

    function _countDeclaration(address physician, address institution) private {
        uint64 day = uint64(block.timestamp / 1 days);
        uint64 physicianLimit = _consortium.parameter(IConsortium.Parameter.PhysicianDailyLimit);
        uint64 institutionLimit = _consortium.parameter(IConsortium.Parameter.InstitutionDailyLimit);
        if (!_bump(_physicianDays[physician], day, physicianLimit)) {
            revert EmergencyAccessPhysicianLimit(physician, physicianLimit);
        }
        if (!_bump(_institutionDays[institution], day, institutionLimit)) {
            revert EmergencyAccessInstitutionLimit(institution, institutionLimit);
        }
    }

    /// @dev Counts one declaration on `day`; false when the day's count already reached `limit`.
    function _bump(Daily storage d, uint64 day, uint64 limit) private returns (bool) {
        uint64 count = d.day != day ? 0 : d.count;
        if (count >= limit) return false;
        d.day = day;
        d.count = count + 1;
        return true;
    }

    function _today(Daily storage d) private view returns (uint256) {
        return d.day != block.timestamp / 1 days ? 0 : d.count;
    }

    function _review(Emergency storage e, uint256 id, address reviewer, bool contested) private {
        if (contested) e.review = _REVIEW_CONTESTED;
        else if (e.review == 0) e.review = _REVIEW_ACCEPTED;
        emit EmergencyReviewed(e.patient, id, reviewer, contested);
    }

    function _known(uint256 id) private view returns (Emergency storage e) {
        e = _emergencies[id];
        if (e.patient == address(0)) revert EmergencyAccessUnknown(id);
    }

    function _checkPatient(address patient) private view {
        (bool registered, bool locked) = _residentRegistry.residentStatus(patient);
        if (!registered) revert EmergencyAccessNotRegistered(patient);
        if (locked) revert EmergencyAccessCardLocked(patient);
    }

    function _sectionsOf(address resident) private view returns (uint32) {
        Choice memory c = _choices[resident];
        return c.chosen ? c.sections : Masks.DEFAULT_EMERGENCY_SECTIONS;
    }
}
