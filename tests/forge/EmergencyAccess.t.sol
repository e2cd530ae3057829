// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IEmergencyAccess} from "../../contracts/interfaces/IEmergencyAccess.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";

/// @notice Emergency declarations by hospital physicians within limits, t-of-n custodian share releases, expiry,
/// and reviews.
contract EmergencyAccessTest is Fixture {
    uint8 internal constant REASON = 1;
    bytes32 internal constant BUNDLE = keccak256("shares");
    uint256 internal constant SECOND_PHYSICIAN_PK = 0xD0C6;
    address internal secondPhysician;

    function setUp() public override {
        super.setUp();
        _setUpCustodians();
        secondPhysician = vm.addr(SECOND_PHYSICIAN_PK);
        _registerPractitioner(hospitalAdmin, SECOND_PHYSICIAN_PK);
    }

    function _declare() internal returns (uint256 id) {
        vm.prank(hospitalDoctor);
        id = emergency.declare(patient, REASON);
    }

    function _approve(address custodian, uint256 id) internal {
        vm.prank(custodian);
        emergency.approve(id, BUNDLE, RAW);
    }

    function _setParameter(IConsortium.Parameter which, uint64 value) internal {
        _pass(
            IConsortium.ProposalAction.SetParameter,
            address(0),
            address(0),
            IConsortium.InstitutionKind.None,
            which,
            value
        );
    }

    // ----- choice -----

    function test_emergencySections_defaultThenChoiceThenOptOut() public {
        assertEq(emergency.emergencySections(patient), DEFAULT_EMERGENCY);
        vm.expectEmit(address(emergency));
        emit IEmergencyAccess.EmergencySectionsSet(patient, ALLERGIES);
        vm.prank(patient);
        emergency.setEmergencySections(ALLERGIES);
        assertEq(emergency.emergencySections(patient), ALLERGIES);
        vm.recordLogs();
        vm.prank(patient);
        emergency.setEmergencySections(ALLERGIES);
        assertEq(vm.getRecordedLogs().length, 0);
        vm.prank(patient);
        emergency.setEmergencySections(0);
        assertEq(emergency.emergencySections(patient), 0);
    }

    function test_setEmergencySections_reverts_whenInvalidOrUnregistered() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessInvalidSections.selector, 0x100)
        );
        emergency.setEmergencySections(0x100);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotRegistered.selector, stranger)
        );
        emergency.setEmergencySections(ALLERGIES);
    }

    function test_setEmergencySectionsWithSig_byEmergencyGuardian() public {
        _appointGuardian(patient, guardian, G_EMERGENCY, uint64(block.timestamp + YEAR), false);
        uint256 nonce = emergency.nonces(patient, _key(D_EMERGENCY, address(0)));
        bytes32 structHash =
            keccak256(abi.encode(EMERGENCY_CHOICE_TYPEHASH, patient, uint32(0), nonce, block.timestamp));
        bytes memory sig = _sign(GUARDIAN_PK, EMERGENCY_NAME, address(emergency), structHash);
        vm.expectEmit(address(emergency));
        emit ISignedMessages.GuardianActed(patient, guardian, G_EMERGENCY);
        emergency.setEmergencySectionsWithSig(patient, 0, nonce, block.timestamp, sig);
        assertEq(emergency.emergencySections(patient), 0);
    }

    // ----- declare -----

    function test_declare_storesEmergency() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        uint64 expiresAt = uint64(block.timestamp + 24 hours);
        vm.expectEmit(address(emergency));
        emit IEmergencyAccess.EmergencyDeclared(
            patient, 1, hospitalDoctor, hospitalAdmin, REASON, DEFAULT_EMERGENCY, 1, _head(patient), expiresAt
        );
        uint256 id = _declare();
        IEmergencyAccess.Emergency memory e = emergency.emergency(id);
        assertEq(e.patient, patient);
        assertEq(e.physician, hospitalDoctor);
        assertEq(e.institution, hospitalAdmin);
        assertEq(e.cardLength, 1);
        assertEq(e.threshold, 2);
        assertEq(e.expiresAt, expiresAt);
        assertEq(emergency.emergencyCount(), 1);
        assertEq(emergency.declarationsToday(hospitalDoctor), 1);
        assertEq(emergency.institutionDeclarationsToday(hospitalAdmin), 1);
        assertFalse(emergency.isOpen(id));
    }

    /// @dev Attack: a non-hospital practitioner (family doctor, insurer staff) or a stranger declares.
    function test_declare_reverts_whenNotHospitalPhysician() public {
        address[3] memory who = [familyDoctor, insurerStaff, stranger];
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(who[i]);
            vm.expectRevert(
                abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotHospitalPhysician.selector, who[i])
            );
            emergency.declare(patient, REASON);
        }
    }

    /// @dev Attack: the physician of a suspended hospital declares.
    function test_declare_reverts_whenInstitutionSuspended() public {
        _passMember(IConsortium.ProposalAction.Suspend, hospitalAdmin);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEmergencyAccess.EmergencyAccessNotHospitalPhysician.selector, hospitalDoctor
            )
        );
        emergency.declare(patient, REASON);
    }

    /// @dev Attack: declarations for an opted-out, a locked or an unregistered patient, or with no reason.
    function test_declare_reverts_forOptedOutLockedOrUnregistered() public {
        vm.prank(patient);
        emergency.setEmergencySections(0);
        vm.prank(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessOptedOut.selector, patient));
        emergency.declare(patient, REASON);
        vm.prank(otherPatient);
        residents.requestDeletion(0);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessCardLocked.selector, otherPatient)
        );
        emergency.declare(otherPatient, REASON);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotRegistered.selector, stranger)
        );
        emergency.declare(stranger, REASON);
        vm.prank(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessInvalidReason.selector));
        emergency.declare(otherPatient, 0);
    }

    function test_declare_reverts_whenTooFewCustodians() public {
        _pass(
            IConsortium.ProposalAction.RemoveCustodian,
            insurerAdmin,
            address(0),
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessTooFewCustodians.selector, 1, 2)
        );
        emergency.declare(patient, REASON);
    }

    /// @dev Attack: over the physician's daily limit (3), then the next day it may declare again.
    function test_declare_reverts_overPhysicianDailyLimit() public {
        for (uint256 i = 0; i < 3; ++i) {
            _declare();
        }
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessPhysicianLimit.selector, hospitalDoctor, 3)
        );
        emergency.declare(patient, REASON);
        vm.warp((block.timestamp / 1 days + 1) * 1 days);
        assertEq(emergency.declarationsToday(hospitalDoctor), 0);
        _declare();
    }

    /// @dev Attack: the institution's physicians together over the institution's daily limit.
    function test_declare_reverts_overInstitutionDailyLimit() public {
        _setParameter(IConsortium.Parameter.InstitutionDailyLimit, 1);
        _declare();
        vm.prank(secondPhysician);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEmergencyAccess.EmergencyAccessInstitutionLimit.selector, hospitalAdmin, 1
            )
        );
        emergency.declare(patient, REASON);
    }

    // ----- approve -----

    function test_approve_opensAtThreshold() public {
        uint256 id = _declare();
        vm.expectEmit(address(emergency));
        emit IEmergencyAccess.EmergencySharesReleased(patient, id, pcAdmin, hospitalDoctor, BUNDLE, RAW, 1);
        _approve(pcAdmin, id);
        assertFalse(emergency.isOpen(id));
        vm.expectEmit(address(emergency));
        emit IEmergencyAccess.EmergencyOpened(patient, id);
        vm.prank(insurerAdmin);
        emergency.approve(id, BUNDLE, RAW);
        assertTrue(emergency.isOpen(id));
        assertTrue(emergency.hasApproved(id, insurerAdmin));
        vm.warp(block.timestamp + 24 hours);
        assertFalse(emergency.isOpen(id));
    }

    /// @dev Attack: approvals by a non-custodian member, a removed custodian, twice, after expiry.
    function test_approve_reverts_whenNotCustodianRemovedTwiceOrExpired() public {
        uint256 id = _declare();
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotCustodian.selector, hospitalAdmin)
        );
        emergency.approve(id, BUNDLE, RAW);
        _approve(pcAdmin, id);
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessAlreadyApproved.selector, id, pcAdmin)
        );
        emergency.approve(id, BUNDLE, RAW);
        _pass(
            IConsortium.ProposalAction.RemoveCustodian,
            insurerAdmin,
            address(0),
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
        vm.prank(insurerAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotCustodian.selector, insurerAdmin)
        );
        emergency.approve(id, BUNDLE, RAW);
        uint64 expiresAt = emergency.emergency(id).expiresAt;
        vm.warp(expiresAt);
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessExpired.selector, id, expiresAt)
        );
        emergency.approve(id, BUNDLE, RAW);
    }

    function test_approve_reverts_whenSuspendedCustodian() public {
        uint256 id = _declare();
        _passMember(IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(insurerAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotCustodian.selector, insurerAdmin)
        );
        emergency.approve(id, BUNDLE, RAW);
    }

    function test_approve_reverts_whenPhysicianGoneLockedOptedOutOrBadBundle() public {
        uint256 id = _declare();
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessInvalidBundle.selector, bytes32(0), RAW)
        );
        emergency.approve(id, 0, RAW);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessUnknown.selector, 9));
        emergency.approve(9, BUNDLE, RAW);
        vm.prank(patient);
        emergency.setEmergencySections(0);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessOptedOut.selector, patient));
        emergency.approve(id, BUNDLE, RAW);
        vm.prank(patient);
        residents.requestDeletion(0);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessCardLocked.selector, patient));
        emergency.approve(id, BUNDLE, RAW);
        vm.prank(hospitalDoctor);
        consortium.resign();
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEmergencyAccess.EmergencyAccessPhysicianInactive.selector, id, hospitalDoctor
            )
        );
        emergency.approve(id, BUNDLE, RAW);
    }

    // ----- review -----

    function test_review_byPatientGuardianOrFamilyDoctor_contestIsFinal() public {
        uint256 id = _declare();
        vm.expectEmit(address(emergency));
        emit IEmergencyAccess.EmergencyReviewed(patient, id, patient, true);
        vm.prank(patient);
        emergency.review(id, true);
        assertEq(emergency.emergency(id).review, 2);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        emergency.review(id, false);
        assertEq(emergency.emergency(id).review, 2);
        _appointGuardian(patient, guardian, G_EMERGENCY, uint64(block.timestamp + YEAR), false);
        vm.prank(guardian);
        emergency.review(id, false);
        uint256 second = _declare();
        vm.prank(guardian);
        emergency.review(second, false);
        assertEq(emergency.emergency(second).review, 1);
    }

    function test_review_reverts_forStrangerOrOutOfScopeGuardian() public {
        uint256 id = _declare();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotReviewer.selector, id, stranger)
        );
        emergency.review(id, true);
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessNotReviewer.selector, id, guardian)
        );
        emergency.review(id, true);
    }

    function test_reviewWithSig_byPatient_andWrongPatient() public {
        uint256 id = _declare();
        uint256 nonce = emergency.nonces(patient, _key(D_EMERGENCY, address(0)));
        bytes32 structHash =
            keccak256(abi.encode(EMERGENCY_REVIEW_TYPEHASH, patient, id, true, nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, EMERGENCY_NAME, address(emergency), structHash);
        vm.expectRevert(
            abi.encodeWithSelector(IEmergencyAccess.EmergencyAccessWrongPatient.selector, id, otherPatient)
        );
        emergency.reviewWithSig(otherPatient, id, true, nonce, block.timestamp, sig);
        vm.prank(stranger);
        emergency.reviewWithSig(patient, id, true, nonce, block.timestamp, sig);
        assertEq(emergency.emergency(id).review, 2);
    }
}
