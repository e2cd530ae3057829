// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice Consents with committed PIPL terms and a bundle announced in the same transaction, keyed revocation,
/// requests, refusals, cancel, guardians, and the enrollment-checked access rule.
contract ConsentRegistryTest is Fixture {
    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    function _consentNonce(address patient_, address grantee) internal view returns (uint256) {
        return consent.nonces(patient_, _key(D_CONSENT, grantee));
    }

    // ----- grant -----

    function test_grant_storesEnrollment_andAnnouncesBundle() public {
        bytes32 bundle = keccak256("bundle");
        uint64 expiresAt = uint64(block.timestamp + 30 days);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentGranted(
            patient, hospitalDoctor, DIAGNOSIS, READ, expiresAt, _terms(), bundle, DAG_PB
        );
        vm.prank(patient);
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, expiresAt, _terms(), bundle, DAG_PB);
        IConsentRegistry.Grant memory g = consent.grantOf(patient, hospitalDoctor);
        assertEq(g.sections, DIAGNOSIS);
        assertEq(g.actions, READ);
        assertEq(g.expiresAt, expiresAt);
        assertEq(g.enrollment, 1);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_grant_reverts_whenInvalidScopeTermsOrBundle() public {
        uint64 expiresAt = uint64(block.timestamp + 1 days);
        bytes32 terms = _terms();
        vm.startPrank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSections.selector, 0x100)
        );
        consent.grant(hospitalDoctor, 0x100, READ, expiresAt, terms, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidActions.selector, 0));
        consent.grant(hospitalDoctor, DIAGNOSIS, 0, expiresAt, terms, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryInvalidExpiry.selector, uint64(block.timestamp)
            )
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp), terms, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidTerms.selector, bytes32(0))
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, expiresAt, 0, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidBundle.selector, bytes32(0), RAW)
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, expiresAt, terms, 0, RAW);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryInvalidBundle.selector, keccak256("b"), 0x71
            )
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, expiresAt, terms, keccak256("b"), 0x71);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryInvalidBundle.selector, keccak256("b"), RAW
            )
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, APPEND, expiresAt, terms, keccak256("b"), RAW);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidGrantee.selector, stranger)
        );
        consent.grant(stranger, DIAGNOSIS, READ, expiresAt, terms, 0, 0);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPatientNotRegistered.selector, stranger)
        );
        consent.grant(hospitalDoctor, DIAGNOSIS, READ, expiresAt, terms, 0, 0);
    }

    /// @dev Attack: a grant on a locked card (the patient asked for the deletion of everything).
    function test_grant_reverts_whenCardLocked() public {
        vm.prank(patient);
        residents.requestDeletion(0);
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryCardLocked.selector, patient));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_relayed_withBundle() public {
        ConsentMsg memory m = _consentMsg(patient, insurerStaff);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentGranted(
            patient, insurerStaff, m.sections, READ, m.expiresAt, m.terms, m.bundleDigest, RAW
        );
        vm.prank(stranger);
        _grantWithSig(m, sig);
        assertEq(_consentNonce(patient, insurerStaff), m.nonce + 1);
        assertTrue(consent.isAuthorized(patient, insurerStaff, DIAGNOSIS, READ));
    }

    /// @dev Attack (relayer): changing the terms, the bundle or the scope breaks the signature.
    function test_grantWithSig_reverts_whenRelayerAltersTermsOrBundle() public {
        ConsentMsg memory m = _consentMsg(patient, insurerStaff);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        m.terms = _termsOf("research", keccak256("salt"));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector,
                patient,
                _recover(_consentDigest(m), sig)
            )
        );
        _grantWithSig(m, sig);
        m = _consentMsg(patient, insurerStaff);
        m.bundleDigest = keccak256("another bundle");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector,
                patient,
                _recover(_consentDigest(m), sig)
            )
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenMalleableShortOrOtherChain() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory twin = highS(PATIENT_PK, _consentDigest(m));
        (, bytes32 s) = abi.decode(twin, (bytes32, bytes32));
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesMalleable.selector, s));
        _grantWithSig(m, twin);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidLength.selector, 64));
        _grantWithSig(m, new bytes(64));
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.chainId(block.chainid + 1);
        address recovered = _recover(_consentDigest(m), sig);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenExpiredDeadline() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.warp(m.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, m.deadline));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenNonceKeyNamesOtherGrantee() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        m.nonce = _consentNonce(patient, insurerStaff);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesWrongNonceKey.selector,
                _key(D_CONSENT, hospitalDoctor),
                _key(D_CONSENT, insurerStaff)
            )
        );
        _grantWithSig(m, sig);
    }

    /// @dev Attack (#10 item 8): two outstanding consents to two grantees; both usable, in either order.
    function test_grantWithSig_twoGrantees_eitherOrder() public {
        for (uint256 order = 0; order < 2; ++order) {
            address p = order == 0 ? patient : otherPatient;
            uint256 pk = order == 0 ? PATIENT_PK : OTHER_PATIENT_PK;
            ConsentMsg memory a = _consentMsg(p, hospitalDoctor);
            ConsentMsg memory b = _consentMsg(p, insurerStaff);
            bytes memory sigA = _signConsent(pk, a);
            bytes memory sigB = _signConsent(pk, b);
            if (order == 0) {
                _grantWithSig(a, sigA);
                _grantWithSig(b, sigB);
            } else {
                _grantWithSig(b, sigB);
                _grantWithSig(a, sigA);
            }
            assertTrue(consent.isAuthorized(p, hospitalDoctor, DIAGNOSIS, READ));
            assertTrue(consent.isAuthorized(p, insurerStaff, DIAGNOSIS, READ));
        }
    }

    /// @dev Two signatures for the same grantee share the key's current nonce: using one kills the other.
    function test_grantWithSig_sameGrantee_usingOneKillsTheOther() public {
        ConsentMsg memory first = _consentMsg(patient, hospitalDoctor);
        ConsentMsg memory second = _consentMsg(patient, hospitalDoctor);
        second.sections = DIAGNOSIS;
        bytes memory sigFirst = _signConsent(PATIENT_PK, first);
        bytes memory sigSecond = _signConsent(PATIENT_PK, second);
        _grantWithSig(second, sigSecond);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, first.nonce + 1));
        _grantWithSig(first, sigFirst);
        assertEq(consent.grantOf(patient, hospitalDoctor).sections, DIAGNOSIS);
    }

    /// @dev Guardian within scope grants; a READ-only guardian cannot.
    function test_grantWithSig_byConsentGuardian_notByReadGuardian() public {
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(GUARDIAN_PK, m);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, guardian)
        );
        _grantWithSig(m, sig);
        _appointGuardian(patient, guardian, G_CONSENT, uint64(block.timestamp + YEAR), false);
        vm.expectEmit(address(consent));
        emit ISignedMessages.GuardianActed(patient, guardian, G_CONSENT);
        _grantWithSig(m, sig);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_grantWithSig_byERC1271Wallet() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(stranger);
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(address(wallet));
        residents.register(key, _profileOf(address(wallet)));
        ConsentMsg memory m = _consentMsg(address(wallet), hospitalDoctor);
        _grantWithSig(m, _signConsent(STRANGER_PK, m));
        assertTrue(consent.isAuthorized(address(wallet), hospitalDoctor, DIAGNOSIS, READ));
        ConsentMsg memory n = _consentMsg(address(wallet), insurerStaff);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector, address(wallet), address(0)
            )
        );
        _grantWithSig(n, _signConsent(PATIENT_PK, n));
    }

    // ----- revoke -----

    /// @dev Attack: the grantee kept a consent signature made before the revocation.
    function test_revoke_killsConsentSignatureMadeBefore() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentRevoked(patient, hospitalDoctor);
        vm.prank(patient);
        consent.revoke(hospitalDoctor);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        vm.prank(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, m.nonce + 1));
        _grantWithSig(m, sig);
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

    function test_revokeWithSig_byPatient() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        uint256 nonce = _consentNonce(patient, hospitalDoctor);
        bytes32 structHash =
            keccak256(abi.encode(REVOCATION_TYPEHASH, patient, hospitalDoctor, nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, CONSENT_NAME, address(consent), structHash);
        vm.prank(stranger);
        consent.revokeWithSig(patient, hospitalDoctor, nonce, block.timestamp, sig);
        assertEq(consent.grantOf(patient, hospitalDoctor).sections, 0);
    }

    function test_revokeMany_skipsGranteesWithoutGrant() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        address[] memory list = new address[](3);
        (list[0], list[1], list[2]) = (hospitalDoctor, stranger, insurerStaff);
        vm.recordLogs();
        vm.prank(patient);
        consent.revokeMany(list);
        assertEq(vm.getRecordedLogs().length, 2);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        assertFalse(consent.isAuthorized(patient, insurerStaff, DIAGNOSIS, READ));
        assertEq(_consentNonce(patient, stranger), uint256(_key(D_CONSENT, stranger)) << 64);
    }

    // ----- cancel -----

    function test_cancelNonce_killsOutstandingConsent() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.prank(patient);
        consent.cancelNonce(m.nonce);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, m.nonce + 1));
        _grantWithSig(m, sig);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, m.nonce + 1));
        consent.cancelNonce(m.nonce);
    }

    /// @dev A signed cancel, by the patient or by a guardian with any scope (it can only kill).
    function test_cancelNonceWithSig_byPatientOrAnyGuardian_notStranger() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory byStranger =
            _cancelSig(STRANGER_PK, CONSENT_NAME, address(consent), patient, m.nonce, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, stranger)
        );
        consent.cancelNonceWithSig(patient, m.nonce, deadline, byStranger);
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        bytes memory byGuardian =
            _cancelSig(GUARDIAN_PK, CONSENT_NAME, address(consent), patient, m.nonce, deadline);
        vm.expectEmit(address(consent));
        emit ISignedMessages.GuardianActed(patient, guardian, G_READ);
        vm.prank(stranger);
        consent.cancelNonceWithSig(patient, m.nonce, deadline, byGuardian);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, m.nonce + 1));
        _grantWithSig(m, sig);
        // The patient's own signed cancel of the next one.
        bytes memory own =
            _cancelSig(PATIENT_PK, CONSENT_NAME, address(consent), patient, m.nonce + 1, deadline);
        consent.cancelNonceWithSig(patient, m.nonce + 1, deadline, own);
        assertEq(_consentNonce(patient, hospitalDoctor), m.nonce + 2);
    }

    // ----- requests -----

    function test_requestAccess_storesCommittedTerms_andGrantClearsIt() public {
        bytes32 terms = keccak256("sealed request");
        vm.expectEmit(address(consent));
        emit IConsentRegistry.AccessRequested(patient, hospitalDoctor, DIAGNOSIS, READ, 30 days, terms);
        vm.prank(hospitalDoctor);
        consent.requestAccess(patient, DIAGNOSIS, READ, 30 days, terms);
        IConsentRegistry.Request memory r = consent.requestOf(patient, hospitalDoctor);
        assertEq(r.terms, terms);
        assertEq(r.duration, 30 days);
        vm.recordLogs();
        vm.prank(hospitalDoctor);
        consent.requestAccess(patient, DIAGNOSIS, READ, 30 days, terms);
        assertEq(vm.getRecordedLogs().length, 0);
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        assertEq(consent.requestOf(patient, hospitalDoctor).sections, 0);
        assertEq(consent.requestOf(patient, hospitalDoctor).terms, bytes32(0));
    }

    function test_requestAccess_reverts_whenInvalid() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidGrantee.selector, stranger)
        );
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, keccak256("t"));
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidTerms.selector, bytes32(0))
        );
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, 0);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPatientNotRegistered.selector, stranger)
        );
        consent.requestAccess(stranger, DIAGNOSIS, READ, 1 days, keccak256("t"));
        vm.prank(patient);
        residents.requestDeletion(0);
        vm.prank(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryCardLocked.selector, patient));
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, keccak256("t"));
    }

    function test_withdrawRequest_byGrantee() public {
        vm.prank(hospitalDoctor);
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, keccak256("t"));
        vm.expectEmit(address(consent));
        emit IConsentRegistry.AccessRequestWithdrawn(patient, hospitalDoctor);
        vm.prank(hospitalDoctor);
        consent.withdrawRequest(patient);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryNoRequest.selector, patient, hospitalDoctor
            )
        );
        consent.withdrawRequest(patient);
    }

    /// @dev Refusing a request also kills any outstanding consent signature for that grantee.
    function test_refuseRequest_killsOutstandingConsent() public {
        vm.prank(hospitalDoctor);
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, keccak256("t"));
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = _signConsent(PATIENT_PK, m);
        vm.expectEmit(address(consent));
        emit IConsentRegistry.AccessRequestRefused(patient, hospitalDoctor);
        vm.prank(patient);
        consent.refuseRequest(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, m.nonce + 1));
        _grantWithSig(m, sig);
    }

    function test_refuseRequestWithSig_byConsentGuardian() public {
        _appointGuardian(patient, guardian, G_CONSENT, uint64(block.timestamp + YEAR), false);
        vm.prank(hospitalDoctor);
        consent.requestAccess(patient, DIAGNOSIS, READ, 1 days, keccak256("t"));
        uint256 nonce = _consentNonce(patient, hospitalDoctor);
        bytes32 structHash =
            keccak256(abi.encode(REFUSAL_TYPEHASH, patient, hospitalDoctor, nonce, block.timestamp));
        bytes memory sig = _sign(GUARDIAN_PK, CONSENT_NAME, address(consent), structHash);
        consent.refuseRequestWithSig(patient, hospitalDoctor, nonce, block.timestamp, sig);
        assertEq(consent.requestOf(patient, hospitalDoctor).sections, 0);
    }

    // ----- isAuthorized -----

    function test_isAuthorized_paths() public {
        assertTrue(consent.isAuthorized(patient, patient, ALL_SECTIONS, READ_APPEND));
        assertFalse(consent.isAuthorized(patient, stranger, DIAGNOSIS, READ));
        _agree(patient, familyDoctor, DIAGNOSIS | PRESCRIPTIONS, READ_APPEND, YEAR);
        assertTrue(consent.isAuthorized(patient, familyDoctor, DIAGNOSIS, APPEND));
        assertFalse(consent.isAuthorized(patient, familyDoctor, ALLERGIES, READ));
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        assertTrue(consent.isAuthorized(patient, guardian, ALL_SECTIONS, READ));
        assertFalse(consent.isAuthorized(patient, guardian, DIAGNOSIS, APPEND));
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 1 days));
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS | PRESCRIPTIONS, READ));
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, APPEND));
        vm.warp(block.timestamp + 1 days);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }

    function test_isAuthorized_reverts_whenInvalidMasks() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSections.selector, 0));
        consent.isAuthorized(patient, patient, 0, READ);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidActions.selector, 4));
        consent.isAuthorized(patient, patient, DIAGNOSIS, 4);
    }

    /// @dev Attack: a re-registered practitioner (same or other institution) does not inherit its grant.
    function test_isAuthorized_false_forReRegisteredGrantee() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        vm.prank(hospitalAdmin);
        consortium.deactivatePractitioner(hospitalDoctor);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        _registerPractitioner(hospitalAdmin, HOSPITAL_DOCTOR_PK);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        assertEq(consent.grantOf(patient, hospitalDoctor).enrollment, 1);
        assertEq(consortium.enrollmentOf(hospitalDoctor), 2);
    }

    /// @dev Attack: the grantee's institution is removed and re-admitted; the old grant stays dead.
    function test_isAuthorized_false_afterInstitutionReadmitted() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        _passMember(IConsortium.ProposalAction.Remove, hospitalAdmin);
        _passMember(IConsortium.ProposalAction.Admit, hospitalAdmin);
        assertFalse(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
    }
}
