// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";

contract ConsentRegistryTest is Fixture {
    uint64 internal expiresAt;

    function setUp() public override {
        super.setUp();
        expiresAt = uint64(START + 30 days);
    }

    // ----- grant -----

    function test_grant_succeeds_byPatient() public {
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentGranted(patient, hospitalDoctor, DIAGNOSIS, READ, REFERRAL, expiresAt);
        vm.prank(patient);
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, REFERRAL, expiresAt);
        IConsentRegistry.Grant memory g = consent.grantOf(patient, hospitalDoctor);
        assertEq(g.sections, DIAGNOSIS);
        assertEq(g.actions, READ);
        assertEq(g.purpose, REFERRAL);
        assertEq(g.expiresAt, expiresAt);
    }

    function test_grant_succeeds_replacesPreviousGrant() public {
        _grant(patient, hospitalDoctor, ALL_SECTIONS, READ_APPEND, expiresAt);
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt + 1);
        IConsentRegistry.Grant memory g = consent.grantOf(patient, hospitalDoctor);
        assertEq(g.sections, DIAGNOSIS);
        assertEq(g.actions, READ);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, PRESCRIPTIONS, READ));
    }

    function test_grant_emitsNothing_whenUnchanged() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.recordLogs();
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_grant_reverts_whenInvalidSections() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSections.selector, 0x81)
        );
        consent.grant(hospitalDoctor, 0x81, READ, TREATMENT, expiresAt);
    }

    function test_grant_reverts_whenInvalidActions() public {
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidActions.selector, 0));
        consent.grant(hospitalDoctor, DIAGNOSIS, 0, TREATMENT, expiresAt);
    }

    function test_grant_reverts_whenInvalidPurpose() public {
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidPurpose.selector, 5));
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, 5, expiresAt);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidPurpose.selector, 0));
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, 0, expiresAt);
    }

    function test_grant_reverts_whenExpiryNotFuture() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidExpiry.selector, uint64(START))
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, TREATMENT, uint64(START));
    }

    function test_grant_reverts_whenPatientNotRegistered() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPatientNotRegistered.selector, stranger)
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, TREATMENT, expiresAt);
    }

    function test_grant_reverts_whenGranteeNotPractitioner() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidGrantee.selector, otherPatient)
        );
        consent.grant(otherPatient, DIAGNOSIS, READ, TREATMENT, expiresAt);
    }

    function test_grant_reverts_whenGranteeIsPatient() public {
        // A practitioner who is also a registered resident cannot grant itself.
        bytes memory key = publicKeyOf(HOSPITAL_DOCTOR_PK);
        vm.prank(hospitalDoctor);
        residents.register(key, keccak256("p"));
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidGrantee.selector, hospitalDoctor)
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, TREATMENT, expiresAt);
    }

    // ----- revoke -----

    function test_revoke_succeeds_byPatient() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentRevoked(patient, hospitalDoctor);
        vm.prank(patient);
        consent.revoke(hospitalDoctor);
        assertEq(consent.grantOf(patient, hospitalDoctor).sections, 0);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_revoke_reverts_whenNotGranted() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryNotGranted.selector, patient, hospitalDoctor
            )
        );
        consent.revoke(hospitalDoctor);
    }

    function test_revoke_reverts_whenGranteeTriesToRevokeOthers() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryNotGranted.selector, hospitalDoctor, hospitalDoctor
            )
        );
        consent.revoke(hospitalDoctor);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    // ----- requests -----

    function test_requestAccess_succeeds_byPractitioner() public {
        vm.expectEmit(address(consent));
        emit IConsentRegistry.AccessRequested(patient, insurerStaff, DIAGNOSIS, READ, INSURANCE_CLAIM);
        vm.prank(insurerStaff);
        consent.requestAccess(patient, DIAGNOSIS, READ, INSURANCE_CLAIM);
        IConsentRegistry.Request memory r = consent.requestOf(patient, insurerStaff);
        assertEq(r.sections, DIAGNOSIS);
        assertEq(r.purpose, INSURANCE_CLAIM);
    }

    function test_requestAccess_emitsNothing_whenUnchanged() public {
        vm.prank(insurerStaff);
        consent.requestAccess(patient, DIAGNOSIS, READ, INSURANCE_CLAIM);
        vm.recordLogs();
        vm.prank(insurerStaff);
        consent.requestAccess(patient, DIAGNOSIS, READ, INSURANCE_CLAIM);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_requestAccess_reverts_whenNotPractitioner() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidGrantee.selector, stranger)
        );
        consent.requestAccess(patient, DIAGNOSIS, READ, RESEARCH);
    }

    function test_requestAccess_reverts_whenPatientNotRegistered() public {
        vm.prank(insurerStaff);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPatientNotRegistered.selector, stranger)
        );
        consent.requestAccess(stranger, DIAGNOSIS, READ, RESEARCH);
    }

    function test_requestAccess_reverts_whenInvalidPurpose() public {
        vm.prank(insurerStaff);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidPurpose.selector, 9));
        consent.requestAccess(patient, DIAGNOSIS, READ, 9);
    }

    function test_withdrawRequest_succeeds_byRequester() public {
        vm.prank(insurerStaff);
        consent.requestAccess(patient, DIAGNOSIS, READ, INSURANCE_CLAIM);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.AccessRequestWithdrawn(patient, insurerStaff);
        vm.prank(insurerStaff);
        consent.withdrawRequest(patient);
        assertEq(consent.requestOf(patient, insurerStaff).sections, 0);
    }

    function test_withdrawRequest_reverts_whenNoRequest() public {
        vm.prank(insurerStaff);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNoRequest.selector, patient, insurerStaff)
        );
        consent.withdrawRequest(patient);
    }

    // ----- isAuthorized -----

    function test_isAuthorized_true_forPatient() public view {
        assertTrue(consent.isAuthorized(patient, patient, ALL_SECTIONS, APPEND));
    }

    function test_isAuthorized_false_forStranger() public view {
        assertFalse(consent.isAuthorized(patient, stranger, DIAGNOSIS, READ));
    }

    function test_isAuthorized_true_forGranteeWithinScope() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS | PRESCRIPTIONS, READ, expiresAt);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS | PRESCRIPTIONS, READ));
        assertFalse(
            consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS | 0x01, READ), "uncovered section"
        );
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, APPEND), "uncovered action");
        assertFalse(consent.isAuthorized(otherPatient, hospitalDoctor, DIAGNOSIS, READ), "other patient");
    }

    function test_isAuthorized_false_afterExpiry() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.warp(expiresAt - 1);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        vm.warp(expiresAt);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_isAuthorized_false_whenGranteeDeactivated() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.prank(hospitalAdmin);
        consortium.deactivatePractitioner(hospitalDoctor);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_isAuthorized_false_whenGranteeInstitutionSuspended() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt);
        vm.prank(pcAdmin);
        uint256 id = consortium.propose(
            IConsortium.ProposalAction.Suspend, hospitalAdmin, IConsortium.InstitutionKind.None, 0
        );
        vm.prank(insurerAdmin);
        consortium.vote(id);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_isAuthorized_true_forFamilyDoctorWithinAgreement() public {
        _agree(patient, familyDoctor, DIAGNOSIS | PRESCRIPTIONS, READ_APPEND, YEAR);
        assertTrue(consent.isAuthorized(patient, familyDoctor, DIAGNOSIS, APPEND));
        assertTrue(consent.isAuthorized(patient, familyDoctor, PRESCRIPTIONS, READ));
        assertFalse(consent.isAuthorized(patient, familyDoctor, 0x01, READ), "section outside agreement");
        assertFalse(
            consent.isAuthorized(otherPatient, familyDoctor, DIAGNOSIS, READ), "not their family doctor"
        );
        vm.warp(START + YEAR);
        assertFalse(consent.isAuthorized(patient, familyDoctor, DIAGNOSIS, READ), "agreement ended");
    }

    function test_isAuthorized_reverts_whenInvalidSections() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSections.selector, 0));
        consent.isAuthorized(patient, patient, 0, READ);
    }

    function test_isAuthorized_reverts_whenInvalidAction() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidActions.selector, 4));
        consent.isAuthorized(patient, patient, DIAGNOSIS, 4);
    }

    function testFuzz_isAuthorized_matchesGrantScope(
        uint32 granted,
        uint8 actions,
        uint32 asked,
        uint8 action
    ) public {
        granted = uint32(bound(granted, 1, ALL_SECTIONS));
        actions = uint8(bound(actions, 1, 3));
        asked = uint32(bound(asked, 1, ALL_SECTIONS));
        action = uint8(bound(action, 1, 2));
        _grant(patient, hospitalDoctor, granted, actions, expiresAt);
        bool expected = granted & asked == asked && actions & action == action;
        assertEq(consent.isAuthorized(patient, hospitalDoctor, asked, action), expected);
    }

    function testFuzz_isAuthorized_neverAfterExpiry(uint64 expiry, uint256 later) public {
        expiry = uint64(bound(expiry, START + 1, START + 10 * YEAR));
        _grant(patient, hospitalDoctor, ALL_SECTIONS, READ_APPEND, expiry);
        vm.warp(bound(later, expiry, uint256(expiry) + 10 * YEAR));
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function testFuzz_grant_rejectsInvalidSections(uint32 sections) public {
        vm.assume(sections == 0 || sections > ALL_SECTIONS);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSections.selector, sections)
        );
        consent.grant(hospitalDoctor, sections, READ, TREATMENT, expiresAt);
    }

    function test_views_returnWiring() public view {
        assertEq(consent.consortium(), address(consortium));
        assertEq(consent.residentRegistry(), address(residents));
        (, string memory name,,, address verifying,,) = consent.eip712Domain();
        assertEq(name, "famchain ConsentRegistry");
        assertEq(verifying, address(consent));
    }
}
