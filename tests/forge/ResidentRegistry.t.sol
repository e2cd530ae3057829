// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IResidentRegistry} from "../../contracts/interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice Registration with any on-curve key, per-pair expiring proposals, termination that kills old proposals
/// and signatures, agreements bound to the doctor's enrollment, guardians (incl. dependents), deletion requests and
/// the card lock, and `accessOf`.
contract ResidentRegistryTest is Fixture {
    uint256 internal constant SECOND_DOCTOR_PK = 0xD0C5;
    uint256 internal constant NEW_RESIDENT_PK = 0xBA81;
    uint256 internal constant BROWSER_KEY_PK = 0xB0B0;
    address internal secondDoctor;
    address internal newResident;

    function setUp() public override {
        super.setUp();
        secondDoctor = vm.addr(SECOND_DOCTOR_PK);
        newResident = vm.addr(NEW_RESIDENT_PK);
        _registerPractitioner(pcAdmin, SECOND_DOCTOR_PK);
    }

    function _registrationSig(uint256 pk, bytes memory key, bytes32 profile, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(
            abi.encode(REGISTRATION_TYPEHASH, vm.addr(pk), keccak256(key), profile, nonce, deadline)
        );
        return _sign(pk, RESIDENTS_NAME, address(residents), structHash);
    }

    function _agreementNonce(address resident, address doctor) internal view returns (uint256) {
        return residents.nonces(resident, _key(D_AGREEMENT, doctor));
    }

    // ----- registration -----

    /// @dev A key derived in the browser (not the account's own) is accepted when it is a curve point.
    function test_register_succeeds_withBrowserDerivedKey() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.ResidentRegistered(newResident, key, _profileOf(newResident));
        vm.prank(newResident);
        residents.register(key, _profileOf(newResident));
        assertEq(residents.encryptionKeyOf(newResident), key);
        (bool registered, bool locked) = residents.residentStatus(newResident);
        assertTrue(registered);
        assertFalse(locked);
    }

    function test_register_reverts_whenKeyOffCurve() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        key[63] = key[63] ^ 0x01;
        vm.prank(newResident);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, newResident
            )
        );
        residents.register(key, _profileOf(newResident));
        bytes memory short = new bytes(63);
        vm.prank(newResident);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, newResident
            )
        );
        residents.register(short, _profileOf(newResident));
    }

    /// @dev Any 64 bytes that are not a point are refused; every real public key is accepted.
    function testFuzz_register_acceptsOnlyCurvePoints(uint256 pk, bytes32 x, bytes32 y) public {
        pk = bound(pk, 1, 2 ** 128);
        bytes memory key = publicKeyOf(pk);
        vm.prank(newResident);
        residents.register(key, _profileOf(newResident));
        bytes memory junk = abi.encodePacked(x, y);
        vm.assume(keccak256(junk) != keccak256(key));
        uint256 p = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
        uint256 ux = uint256(x);
        uint256 uy = uint256(y);
        bool onCurve = ux < p && uy < p && mulmod(uy, uy, p) == addmod(mulmod(mulmod(ux, ux, p), ux, p), 7, p);
        vm.assume(!onCurve);
        vm.prank(otherPatient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, otherPatient
            )
        );
        residents.setEncryptionKey(junk);
    }

    function test_register_reverts_whenZeroProfileOrTwice() public {
        bytes memory key = publicKeyOf(PATIENT_PK);
        vm.prank(newResident);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidProfile.selector));
        residents.register(key, 0);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryAlreadyRegistered.selector, patient)
        );
        residents.register(key, _profileOf(patient));
    }

    function test_registerWithSig_succeeds_relayedByAnyone() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        bytes32 profile = _profileOf(newResident);
        uint256 nonce = residents.nonces(newResident, _key(D_REGISTRATION, address(0)));
        bytes memory sig = _registrationSig(NEW_RESIDENT_PK, key, profile, nonce, block.timestamp);
        vm.prank(stranger);
        residents.registerWithSig(newResident, key, profile, nonce, block.timestamp, sig);
        assertTrue(residents.isRegistered(newResident));
        assertEq(residents.profileOf(newResident), profile);
    }

    function test_registerWithSig_reverts_whenNonceKeyOfAnotherDomain() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        bytes32 profile = _profileOf(newResident);
        uint256 nonce = residents.nonces(newResident, _key(D_PROFILE, address(0)));
        bytes memory sig = _registrationSig(NEW_RESIDENT_PK, key, profile, nonce, block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesWrongNonceKey.selector,
                _key(D_REGISTRATION, address(0)),
                _key(D_PROFILE, address(0))
            )
        );
        residents.registerWithSig(newResident, key, profile, nonce, block.timestamp, sig);
    }

    // ----- profile and key -----

    function test_updateProfile_emitsOnlyOnChange() public {
        bytes32 profile = keccak256("new");
        vm.expectEmit(address(residents));
        emit IResidentRegistry.ProfileUpdated(patient, profile);
        vm.prank(patient);
        residents.updateProfile(profile);
        vm.recordLogs();
        vm.prank(patient);
        residents.updateProfile(profile);
        assertEq(vm.getRecordedLogs().length, 0);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotRegistered.selector, stranger)
        );
        residents.updateProfile(profile);
    }

    function _profileSig(uint256 pk, address resident, bytes32 profile, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash =
            keccak256(abi.encode(PROFILE_TYPEHASH, resident, profile, nonce, block.timestamp));
        return _sign(pk, RESIDENTS_NAME, address(residents), structHash);
    }

    /// @dev Guardian within scope: a PROFILE guardian signs the profile update; the audit gets `GuardianActed`.
    function test_updateProfileWithSig_succeeds_byProfileGuardian() public {
        _appointGuardian(patient, guardian, G_PROFILE, uint64(block.timestamp + YEAR), false);
        bytes32 profile = keccak256("by guardian");
        uint256 nonce = residents.nonces(patient, _key(D_PROFILE, address(0)));
        bytes memory sig = _profileSig(GUARDIAN_PK, patient, profile, nonce);
        vm.expectEmit(address(residents));
        emit ISignedMessages.GuardianActed(patient, guardian, G_PROFILE);
        vm.prank(stranger);
        residents.updateProfileWithSig(patient, profile, nonce, block.timestamp, sig);
        assertEq(residents.profileOf(patient), profile);
    }

    /// @dev Guardian outside its scope, and an expired guardian: refused.
    function test_updateProfileWithSig_reverts_whenGuardianOutOfScopeOrExpired() public {
        _appointGuardian(patient, guardian, G_CONSENT, uint64(block.timestamp + 1 days), false);
        uint256 nonce = residents.nonces(patient, _key(D_PROFILE, address(0)));
        bytes memory sig = _profileSig(GUARDIAN_PK, patient, keccak256("x"), nonce);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, guardian)
        );
        residents.updateProfileWithSig(patient, keccak256("x"), nonce, block.timestamp, sig);
        _appointGuardian(patient, guardian, G_PROFILE, uint64(block.timestamp + 1 days), false);
        vm.warp(block.timestamp + 1 days);
        sig = _profileSig(GUARDIAN_PK, patient, keccak256("x"), nonce);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, guardian)
        );
        residents.updateProfileWithSig(patient, keccak256("x"), nonce, block.timestamp, sig);
    }

    function test_setEncryptionKey_rotates() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.EncryptionKeyChanged(patient, key);
        vm.prank(patient);
        residents.setEncryptionKey(key);
        assertEq(residents.encryptionKeyOf(patient), key);
    }

    function test_setEncryptionKeyWithSig_succeeds_byResident() public {
        bytes memory key = publicKeyOf(BROWSER_KEY_PK);
        uint256 nonce = residents.nonces(patient, _key(D_PROFILE, address(0)));
        bytes32 structHash =
            keccak256(abi.encode(ENCRYPTION_KEY_TYPEHASH, patient, keccak256(key), nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, RESIDENTS_NAME, address(residents), structHash);
        vm.prank(stranger);
        residents.setEncryptionKeyWithSig(patient, key, nonce, block.timestamp, sig);
        assertEq(residents.encryptionKeyOf(patient), key);
    }

    // ----- agreements -----

    function test_proposeAgreement_isPerPair_andExpires() public {
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(secondDoctor);
        residents.proposeAgreement(patient, DIAGNOSIS, READ, YEAR);
        IResidentRegistry.PendingAgreement memory p = residents.pendingAgreement(patient, familyDoctor);
        assertFalse(p.byResident);
        assertEq(p.expiresAt, block.timestamp + 30 days);
        assertEq(p.enrollment, 1);
        assertEq(residents.pendingAgreement(patient, secondDoctor).sections, DIAGNOSIS);
        vm.warp(block.timestamp + 30 days);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryProposalExpired.selector, patient, familyDoctor, p.expiresAt
            )
        );
        residents.acceptAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function test_proposeAgreement_reverts_whenInvalidCounterpartyOrTerms() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidCounterparty.selector, stranger, patient
            )
        );
        residents.proposeAgreement(patient, ALL_SECTIONS, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidCounterparty.selector, patient, hospitalDoctor
            )
        );
        residents.proposeAgreement(hospitalDoctor, ALL_SECTIONS, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidSections.selector, 0x100)
        );
        residents.proposeAgreement(familyDoctor, 0x100, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidActions.selector, 4));
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, 4, YEAR);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidTerm.selector, 0));
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ, 0);
    }

    function test_acceptAgreement_putsInForce_residentProposes() public {
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementAccepted(
            patient,
            familyDoctor,
            ALL_SECTIONS,
            READ_APPEND,
            uint64(block.timestamp),
            uint64(block.timestamp + YEAR)
        );
        vm.prank(familyDoctor);
        residents.acceptAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        assertEq(residents.pendingAgreement(patient, familyDoctor).expiresAt, 0);
        assertEq(residents.agreement(patient).enrollment, 1);
    }

    function test_acceptAgreement_reverts_whenTermsDifferOrNoProposal() public {
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryTermsMismatch.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, 2 * YEAR);
        // The proposer cannot accept its own proposal.
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    /// @dev Attack: the doctor is re-registered between proposal and acceptance; the old proposal is dead.
    function test_acceptAgreement_reverts_whenDoctorReRegistered() public {
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        _registerPractitioner(pcAdmin, FAMILY_DOCTOR_PK);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryEnrollmentChanged.selector, familyDoctor, 1, 2
            )
        );
        residents.acceptAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    /// @dev Attack: a re-registered practitioner does not inherit the agreement it had.
    function test_activeFamilyDoctor_none_afterDoctorReRegistered() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        consortium.resign();
        _registerPractitioner(pcAdmin, FAMILY_DOCTOR_PK);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
        (uint32 sections, uint8 actions) = residents.accessOf(patient, familyDoctor);
        assertEq(sections, 0);
        assertEq(actions, 0);
        assertFalse(consent.isAuthorized(patient, familyDoctor, DIAGNOSIS, READ));
    }

    function test_acceptAgreement_reverts_whenAnotherDoctorInForce() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(secondDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryAgreementInForce.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(secondDoctor, ALL_SECTIONS, READ, YEAR);
    }

    function test_acceptAgreementWithSig_byDoctor_needsNoProposal() public {
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            PATIENT_PK, patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp
        );
        vm.prank(familyDoctor);
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp, sig
        );
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
    }

    /// @dev Relayed by anyone else, the signature only accepts the doctor's pending proposal with these terms.
    function test_acceptAgreementWithSig_relayed_acceptsDoctorsProposalOnly() public {
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            PATIENT_PK, patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp
        );
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp, sig
        );
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(stranger);
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp, sig
        );
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
    }

    function test_acceptAgreementWithSig_byAgreementGuardian() public {
        _appointGuardian(patient, guardian, G_AGREEMENT, uint64(block.timestamp + YEAR), false);
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            GUARDIAN_PK, patient, familyDoctor, ALL_SECTIONS, READ, YEAR, nonce, block.timestamp
        );
        vm.expectEmit(address(residents));
        emit ISignedMessages.GuardianActed(patient, guardian, G_AGREEMENT);
        vm.prank(familyDoctor);
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ, YEAR, nonce, block.timestamp, sig
        );
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
    }

    function test_withdrawProposal_byEitherSide_killsOutstandingSignature() public {
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            PATIENT_PK, patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp
        );
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementProposalWithdrawn(patient, familyDoctor, patient);
        vm.prank(patient);
        residents.withdrawProposal(familyDoctor);
        assertEq(residents.pendingAgreement(patient, familyDoctor).expiresAt, 0);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, nonce + 1));
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp, sig
        );
        vm.prank(patient);
        residents.proposeAgreement(secondDoctor, ALL_SECTIONS, READ, YEAR);
        vm.prank(secondDoctor);
        residents.withdrawProposal(patient);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, stranger
            )
        );
        residents.withdrawProposal(patient);
    }

    function test_withdrawProposalWithSig_refusesForPortal() public {
        vm.prank(familyDoctor);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes32 structHash = keccak256(
            abi.encode(AGREEMENT_WITHDRAWAL_TYPEHASH, patient, familyDoctor, nonce, block.timestamp)
        );
        bytes memory sig = _sign(PATIENT_PK, RESIDENTS_NAME, address(residents), structHash);
        vm.prank(stranger);
        residents.withdrawProposalWithSig(patient, familyDoctor, nonce, block.timestamp, sig);
        assertEq(residents.pendingAgreement(patient, familyDoctor).expiresAt, 0);
    }

    /// @dev Attack: after termination, neither the old proposal nor an unsubmitted signature brings the agreement
    /// back.
    function test_terminateAgreement_killsOldProposalAndUnsubmittedSignature() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        // An unsubmitted renewal signature and a fresh proposal by the resident, both outstanding.
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            PATIENT_PK,
            patient,
            familyDoctor,
            ALL_SECTIONS,
            READ_APPEND,
            YEAR,
            nonce,
            block.timestamp + 1 days
        );
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        residents.terminateAgreement(patient);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, nonce + 1));
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR, nonce, block.timestamp + 1 days, sig
        );
    }

    function test_terminateAgreement_reverts_whenStrangerOrNone() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNoActiveAgreement.selector, patient)
        );
        residents.terminateAgreement(patient);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNotAgreementParty.selector, patient, stranger
            )
        );
        residents.terminateAgreement(patient);
    }

    function test_terminateAgreementWithSig_byResident() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes32 structHash =
            keccak256(abi.encode(TERMINATION_TYPEHASH, patient, familyDoctor, nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, RESIDENTS_NAME, address(residents), structHash);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementTerminated(patient, familyDoctor, patient);
        vm.prank(stranger);
        residents.terminateAgreementWithSig(patient, nonce, block.timestamp, sig);
        assertEq(residents.agreement(patient).doctor, address(0));
    }

    function test_renewAgreement_movesEnd() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(patient);
        residents.renewAgreement(2 * YEAR);
        assertEq(residents.agreement(patient).endsAt, block.timestamp + 2 * YEAR);
        vm.prank(otherPatient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNoActiveAgreement.selector, otherPatient)
        );
        residents.renewAgreement(YEAR);
    }

    // ----- guardians -----

    function test_appointGuardian_reverts_whenInvalid() public {
        vm.startPrank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidGuardian.selector, patient, patient
            )
        );
        residents.appointGuardian(patient, G_ALL, uint64(block.timestamp + 1), false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidGuardian.selector, patient, address(0)
            )
        );
        residents.appointGuardian(address(0), G_ALL, uint64(block.timestamp + 1), false);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidGuardianScope.selector, 0)
        );
        residents.appointGuardian(guardian, 0, uint64(block.timestamp + 1), false);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidGuardianScope.selector, 0x40)
        );
        residents.appointGuardian(guardian, 0x40, uint64(block.timestamp + 1), false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidGuardianExpiry.selector, uint64(block.timestamp)
            )
        );
        residents.appointGuardian(guardian, G_ALL, uint64(block.timestamp), false);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotRegistered.selector, stranger)
        );
        residents.appointGuardian(guardian, G_ALL, uint64(block.timestamp + 1), false);
    }

    function test_guardianScope_zeroAfterExpiry() public {
        uint64 expiresAt = uint64(block.timestamp + 1 days);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.GuardianAppointed(patient, guardian, G_READ | G_CONSENT, expiresAt, false);
        _appointGuardian(patient, guardian, G_READ | G_CONSENT, expiresAt, false);
        assertEq(residents.guardianScope(patient, guardian), G_READ | G_CONSENT);
        (uint32 sections, uint8 actions) = residents.accessOf(patient, guardian);
        assertEq(sections, ALL_SECTIONS);
        assertEq(actions, READ);
        vm.warp(expiresAt);
        assertEq(residents.guardianScope(patient, guardian), 0);
        (sections, actions) = residents.accessOf(patient, guardian);
        assertEq(sections, 0);
    }

    function _guardianSig(
        uint256 pk,
        address resident,
        address who,
        uint8 scope,
        uint64 expiresAt,
        bool dependent
    ) internal view returns (bytes memory sig, uint256 nonce) {
        nonce = residents.nonces(resident, _key(D_GUARDIAN, who));
        bytes32 structHash = keccak256(
            abi.encode(GUARDIAN_TYPEHASH, resident, who, scope, expiresAt, dependent, nonce, block.timestamp)
        );
        sig = _sign(pk, RESIDENTS_NAME, address(residents), structHash);
    }

    function test_appointGuardianWithSig_byResidentOnly() public {
        uint64 expiresAt = uint64(block.timestamp + YEAR);
        (bytes memory sig, uint256 nonce) =
            _guardianSig(PATIENT_PK, patient, guardian, G_ALL, expiresAt, false);
        vm.prank(stranger);
        residents.appointGuardianWithSig(
            patient, guardian, G_ALL, expiresAt, false, nonce, block.timestamp, sig
        );
        assertEq(residents.guardianScope(patient, guardian), G_ALL);
        // A guardian (even with every scope) cannot appoint another guardian.
        address second = vm.addr(0x6B6B);
        (sig, nonce) = _guardianSig(GUARDIAN_PK, patient, second, G_ALL, expiresAt, false);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, guardian)
        );
        residents.appointGuardianWithSig(
            patient, second, G_ALL, expiresAt, false, nonce, block.timestamp, sig
        );
    }

    function test_removeGuardian_byResidentOrGuardian_killsAppointmentSignature() public {
        uint64 expiresAt = uint64(block.timestamp + YEAR);
        _appointGuardian(patient, guardian, G_ALL, expiresAt, false);
        (bytes memory sig, uint256 nonce) =
            _guardianSig(PATIENT_PK, patient, guardian, G_ALL, expiresAt, false);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.GuardianRemoved(patient, guardian, patient);
        vm.prank(patient);
        residents.removeGuardian(patient, guardian);
        assertEq(residents.guardianScope(patient, guardian), 0);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, nonce + 1));
        residents.appointGuardianWithSig(
            patient, guardian, G_ALL, expiresAt, false, nonce, block.timestamp, sig
        );
        _appointGuardian(patient, guardian, G_ALL, expiresAt, false);
        vm.prank(guardian);
        residents.removeGuardian(patient, guardian);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNotGuardianshipParty.selector, patient, stranger
            )
        );
        residents.removeGuardian(patient, guardian);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoGuardianship.selector, patient, guardian
            )
        );
        residents.removeGuardian(patient, guardian);
    }

    /// @dev Attack: a child (dependent) tries to dismiss its parent, or to rewrite the guardianship first.
    function test_removeGuardian_reverts_whenDependentDismissesParent() public {
        uint64 expiresAt = uint64(block.timestamp + 10 * YEAR);
        _appointGuardian(patient, guardian, G_ALL, expiresAt, true);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryDependentGuardianship.selector, patient, guardian, expiresAt
            )
        );
        residents.removeGuardian(patient, guardian);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryDependentGuardianship.selector, patient, guardian, expiresAt
            )
        );
        residents.appointGuardian(guardian, G_READ, uint64(block.timestamp + 1), false);
        uint256 nonce = residents.nonces(patient, _key(D_GUARDIAN, guardian));
        bytes32 structHash =
            keccak256(abi.encode(GUARDIAN_REMOVAL_TYPEHASH, patient, guardian, nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, RESIDENTS_NAME, address(residents), structHash);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryDependentGuardianship.selector, patient, guardian, expiresAt
            )
        );
        residents.removeGuardianWithSig(patient, guardian, nonce, block.timestamp, sig);
        // After it expires the resident may end it.
        vm.warp(expiresAt);
        vm.prank(patient);
        residents.removeGuardian(patient, guardian);
    }

    /// @dev The consortium ends a dependent's guardianship by vote; the proposal is consumed once.
    function test_endGuardianship_byConsortiumVote() public {
        _appointGuardian(patient, guardian, G_ALL, uint64(block.timestamp + 10 * YEAR), true);
        uint256 id = _pass(
            IConsortium.ProposalAction.EndGuardianship,
            guardian,
            patient,
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
        vm.expectEmit(address(residents));
        emit IResidentRegistry.GuardianRemoved(patient, guardian, address(consortium));
        vm.prank(stranger);
        residents.endGuardianship(id);
        assertEq(residents.guardianScope(patient, guardian), 0);
        assertTrue(residents.isEndGuardianshipConsumed(id));
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryEndGuardianshipConsumed.selector, id)
        );
        residents.endGuardianship(id);
    }

    function test_endGuardianship_reverts_whenNotExecutedOrOtherAction() public {
        vm.prank(pcAdmin);
        uint256 pending = consortium.propose(
            IConsortium.ProposalAction.EndGuardianship,
            guardian,
            patient,
            IConsortium.InstitutionKind.None,
            IConsortium.Parameter.None,
            0
        );
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidEndGuardianship.selector, pending)
        );
        residents.endGuardianship(pending);
        uint256 other = _passMember(IConsortium.ProposalAction.Admit, vm.addr(0xA9));
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidEndGuardianship.selector, other)
        );
        residents.endGuardianship(other);
    }

    // ----- deletion requests -----

    function test_requestDeletion_recordsOnce() public {
        bytes32 recordId = keccak256("r");
        vm.expectEmit(address(residents));
        emit IResidentRegistry.DeletionRequested(patient, recordId, uint64(block.timestamp));
        vm.prank(patient);
        residents.requestDeletion(recordId);
        assertEq(residents.deletionRequestedAt(patient, recordId), block.timestamp);
        (, bool locked) = residents.residentStatus(patient);
        assertFalse(locked);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryDeletionAlreadyRequested.selector, patient, recordId
            )
        );
        residents.requestDeletion(recordId);
    }

    function test_requestDeletion_wholeCard_locksAndEndsAgreement() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementTerminated(patient, familyDoctor, patient);
        vm.prank(patient);
        residents.requestDeletion(0);
        (, bool locked) = residents.residentStatus(patient);
        assertTrue(locked);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
        // No agreement can be put in force again.
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryCardLocked.selector, patient)
        );
        residents.proposeAgreement(patient, ALL_SECTIONS, READ, YEAR);
        uint256 nonce = _agreementNonce(patient, familyDoctor);
        bytes memory sig = _agreementDigestSig(
            PATIENT_PK, patient, familyDoctor, ALL_SECTIONS, READ, YEAR, nonce, block.timestamp
        );
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryCardLocked.selector, patient)
        );
        residents.acceptAgreementWithSig(
            patient, familyDoctor, ALL_SECTIONS, READ, YEAR, nonce, block.timestamp, sig
        );
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryDeletionAlreadyRequested.selector, patient, 0
            )
        );
        residents.requestDeletion(0);
    }

    function test_requestDeletionWithSig_byRecordsGuardian() public {
        _appointGuardian(patient, guardian, G_RECORDS, uint64(block.timestamp + YEAR), false);
        bytes32 recordId = keccak256("r");
        uint256 nonce = residents.nonces(patient, _key(D_DELETION, recordId));
        bytes32 structHash =
            keccak256(abi.encode(DELETION_REQUEST_TYPEHASH, patient, recordId, nonce, block.timestamp));
        bytes memory sig = _sign(GUARDIAN_PK, RESIDENTS_NAME, address(residents), structHash);
        vm.prank(stranger);
        residents.requestDeletionWithSig(patient, recordId, nonce, block.timestamp, sig);
        assertEq(residents.deletionRequestedAt(patient, recordId), block.timestamp);
    }

    function test_requestDeletion_reverts_whenNotRegistered() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotRegistered.selector, stranger)
        );
        residents.requestDeletion(0);
    }

    // ----- accessOf -----

    function test_accessOf_familyDoctorTerms_strangerNothing() public {
        _agree(patient, familyDoctor, DIAGNOSIS, READ_APPEND, YEAR);
        (uint32 sections, uint8 actions) = residents.accessOf(patient, familyDoctor);
        assertEq(sections, DIAGNOSIS);
        assertEq(actions, READ_APPEND);
        (sections, actions) = residents.accessOf(patient, stranger);
        assertEq(sections, 0);
        assertEq(actions, 0);
        vm.warp(block.timestamp + YEAR);
        (sections,) = residents.accessOf(patient, familyDoctor);
        assertEq(sections, 0);
    }

    // ----- the hot slot: status and agreement together -----

    /// @dev `cardAccessOf` gives the status and the terms of the family doctor in force only: nothing for a
    /// stranger, a READ guardian (who reads but never appends), an expired or terminated agreement.
    function test_cardAccessOf_statusAndFamilyDoctorTermsOnly() public {
        (bool registered, bool locked, uint32 sections, uint8 actions) =
            residents.cardAccessOf(stranger, stranger);
        assertFalse(registered);
        assertFalse(locked);
        _agree(patient, familyDoctor, DIAGNOSIS, READ_APPEND, YEAR);
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        (registered, locked, sections, actions) = residents.cardAccessOf(patient, familyDoctor);
        assertTrue(registered);
        assertFalse(locked);
        assertEq(sections, DIAGNOSIS);
        assertEq(actions, READ_APPEND);
        (uint32 readSections,) = residents.accessOf(patient, guardian);
        assertEq(readSections, ALL_SECTIONS);
        (registered,, sections, actions) = residents.cardAccessOf(patient, guardian);
        assertTrue(registered);
        assertEq(sections, 0);
        assertEq(actions, 0);
        (,, sections,) = residents.cardAccessOf(patient, stranger);
        assertEq(sections, 0);
        vm.warp(block.timestamp + YEAR);
        (registered,, sections, actions) = residents.cardAccessOf(patient, familyDoctor);
        assertTrue(registered);
        assertEq(sections, 0);
        assertEq(actions, 0);
    }

    /// @dev The doctor's enrollment is part of "in force" on the hot path too: deactivated, it gets nothing.
    function test_cardAccessOf_nothing_whenDoctorDeactivated() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        (bool registered,, uint32 sections, uint8 actions) = residents.cardAccessOf(patient, familyDoctor);
        assertTrue(registered);
        assertEq(sections, 0);
        assertEq(actions, 0);
    }

    /// @dev Termination clears the agreement and only the agreement: the resident stays registered and unlocked,
    /// and a new agreement can be made.
    function test_terminateAgreement_keepsRegistration() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(patient);
        residents.terminateAgreement(patient);
        (bool registered, bool locked, uint32 sections,) = residents.cardAccessOf(patient, familyDoctor);
        assertTrue(registered);
        assertFalse(locked);
        assertEq(sections, 0);
        assertTrue(residents.isRegistered(patient));
        IResidentRegistry.Agreement memory a = residents.agreement(patient);
        assertEq(a.doctor, address(0));
        assertEq(a.endsAt, 0);
        assertEq(a.enrollment, 0);
        _agree(patient, familyDoctor, DIAGNOSIS, READ, YEAR);
        (address doctor, uint32 s,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        assertEq(s, DIAGNOSIS);
    }

    /// @dev The whole-card lock keeps the registration, records its time, and survives the termination it causes.
    function test_requestDeletion_wholeCard_keepsRegistrationAndLockTime() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(patient);
        residents.requestDeletion(0);
        (bool registered, bool locked, uint32 sections,) = residents.cardAccessOf(patient, familyDoctor);
        assertTrue(registered);
        assertTrue(locked);
        assertEq(sections, 0);
        (registered, locked) = residents.residentStatus(patient);
        assertTrue(registered);
        assertTrue(locked);
        assertEq(residents.deletionRequestedAt(patient, 0), block.timestamp);
        // A record's request does not lock another resident's card.
        vm.prank(otherPatient);
        residents.requestDeletion(keccak256("r"));
        (, locked) = residents.residentStatus(otherPatient);
        assertFalse(locked);
        assertEq(residents.deletionRequestedAt(otherPatient, 0), 0);
    }
}
