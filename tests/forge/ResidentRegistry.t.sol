// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IResidentRegistry} from "../../contracts/interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract ResidentRegistryTest is Fixture {
    bytes32 internal constant PROFILE = keccak256("sealed profile block");

    // ----- register -----

    function test_register_succeeds_withOwnKey() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.ResidentRegistered(stranger, key, PROFILE);
        vm.prank(stranger);
        residents.register(key, PROFILE);
        assertTrue(residents.isRegistered(stranger));
        assertEq(residents.encryptionKeyOf(stranger), key);
        assertEq(residents.profileOf(stranger), PROFILE);
    }

    function test_register_reverts_whenKeyNotOwn() public {
        bytes memory key = publicKeyOf(PATIENT_PK);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, stranger)
        );
        residents.register(key, PROFILE);
    }

    function test_register_reverts_whenKeyTruncated() public {
        bytes memory full = publicKeyOf(STRANGER_PK);
        bytes memory key = new bytes(63);
        for (uint256 i = 0; i < 63; ++i) {
            key[i] = full[i];
        }
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, stranger)
        );
        residents.register(key, PROFILE);
    }

    function test_register_reverts_whenZeroProfile() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidProfile.selector));
        residents.register(key, bytes32(0));
    }

    function test_register_reverts_whenAlreadyRegistered() public {
        bytes memory key = publicKeyOf(PATIENT_PK);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryAlreadyRegistered.selector, patient)
        );
        residents.register(key, PROFILE);
    }

    // ----- registerWithSig -----

    function _registrationSig(uint256 pk, bytes memory key, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return signDigest(
            pk, _registrationDigest(address(residents), vm.addr(pk), key, PROFILE, nonce, deadline)
        );
    }

    function test_registerWithSig_succeeds_relayedByMember() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 0, START + 1 hours);
        vm.prank(pcAdmin);
        residents.registerWithSig(stranger, key, PROFILE, 0, START + 1 hours, sig);
        assertTrue(residents.isRegistered(stranger));
        assertEq(residents.nonces(stranger), 1);
    }

    function test_registerWithSig_succeeds_relayedByPractitioner() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 0, START + 1 hours);
        vm.prank(familyDoctor);
        residents.registerWithSig(stranger, key, PROFILE, 0, START + 1 hours, sig);
        assertTrue(residents.isRegistered(stranger));
    }

    function test_registerWithSig_reverts_whenRelayerNotConsortium() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 0, START + 1 hours);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryUnauthorizedRelayer.selector, patient)
        );
        residents.registerWithSig(stranger, key, PROFILE, 0, START + 1 hours, sig);
    }

    function test_registerWithSig_reverts_whenSignedOverOtherKey() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 0, START + 1 hours);
        bytes memory otherKey = publicKeyOf(PATIENT_PK);
        bytes32 digest =
            _registrationDigest(address(residents), stranger, otherKey, PROFILE, 0, START + 1 hours);
        address recovered = ecrecoverSig(digest, sig);
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, stranger, recovered)
        );
        residents.registerWithSig(stranger, otherKey, PROFILE, 0, START + 1 hours, sig);
    }

    function test_registerWithSig_reverts_whenNonceReused() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 1, START + 1 hours);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, stranger, 0));
        residents.registerWithSig(stranger, key, PROFILE, 1, START + 1 hours, sig);
    }

    function test_registerWithSig_reverts_whenExpired() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes memory sig = _registrationSig(STRANGER_PK, key, 0, START - 1);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, START - 1));
        residents.registerWithSig(stranger, key, PROFILE, 0, START - 1, sig);
    }

    function ecrecoverSig(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    // ----- updateProfile -----

    function test_updateProfile_succeeds_byResident() public {
        vm.expectEmit(address(residents));
        emit IResidentRegistry.ProfileUpdated(patient, PROFILE);
        vm.prank(patient);
        residents.updateProfile(PROFILE);
        assertEq(residents.profileOf(patient), PROFILE);
    }

    function test_updateProfile_emitsNothing_whenUnchanged() public {
        bytes32 current = residents.profileOf(patient);
        vm.recordLogs();
        vm.prank(patient);
        residents.updateProfile(current);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_updateProfile_reverts_whenNotRegistered() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotRegistered.selector, stranger)
        );
        residents.updateProfile(PROFILE);
    }

    function test_updateProfile_reverts_whenZero() public {
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidProfile.selector));
        residents.updateProfile(bytes32(0));
    }

    // ----- proposeAgreement / acceptAgreement -----

    function test_proposeAgreement_succeeds_byResident() public {
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementProposed(
            patient, familyDoctor, patient, ALL_SECTIONS, READ_APPEND, YEAR
        );
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        IResidentRegistry.PendingAgreement memory p = residents.pendingAgreement(patient);
        assertEq(p.doctor, familyDoctor);
        assertEq(p.proposer, patient);
        assertEq(p.term, YEAR);
    }

    function test_acceptAgreement_succeeds_byDoctorAfterResidentProposal() public {
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementAccepted(
            patient, familyDoctor, ALL_SECTIONS, READ_APPEND, uint64(START), uint64(START) + YEAR
        );
        vm.prank(familyDoctor);
        residents.acceptAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
        (address doctor, uint32 sections, uint8 actions, uint64 endsAt) =
            residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        assertEq(sections, ALL_SECTIONS);
        assertEq(actions, READ_APPEND);
        assertEq(endsAt, START + YEAR);
        assertEq(residents.pendingAgreement(patient).doctor, address(0));
    }

    function test_acceptAgreement_succeeds_byResidentAfterDoctorProposal() public {
        _agree(patient, familyDoctor, DIAGNOSIS, READ, YEAR);
        IResidentRegistry.Agreement memory a = residents.agreement(patient);
        assertEq(a.doctor, familyDoctor);
        assertEq(a.sections, DIAGNOSIS);
        assertEq(a.actions, READ);
    }

    function test_proposeAgreement_reverts_whenDoctorNotPrimaryCare() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidCounterparty.selector, patient, hospitalDoctor
            )
        );
        residents.proposeAgreement(hospitalDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function test_proposeAgreement_reverts_whenResidentNotRegistered() public {
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryInvalidCounterparty.selector, familyDoctor, stranger
            )
        );
        residents.proposeAgreement(stranger, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function test_proposeAgreement_reverts_whenInvalidSections() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidSections.selector, 0x80)
        );
        residents.proposeAgreement(familyDoctor, 0x80, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidSections.selector, 0));
        residents.proposeAgreement(familyDoctor, 0, READ, YEAR);
    }

    function test_proposeAgreement_reverts_whenInvalidActions() public {
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidActions.selector, 4));
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, 4, YEAR);
    }

    function test_proposeAgreement_reverts_whenZeroTerm() public {
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidTerm.selector, 0));
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ, 0);
    }

    function test_proposeAgreement_reverts_whenTermOverflows() public {
        uint64 term = type(uint64).max;
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidTerm.selector, term));
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ, term);
    }

    function test_acceptAgreement_reverts_whenNoProposal() public {
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, familyDoctor, patient
            )
        );
        residents.acceptAgreement(patient, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function test_acceptAgreement_reverts_whenProposerAccepts() public {
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function test_acceptAgreement_reverts_whenTermsDiffer() public {
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, DIAGNOSIS, READ, YEAR);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryTermsMismatch.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(patient, ALL_SECTIONS, READ, YEAR);
    }

    function test_acceptAgreement_reverts_whenDoctorDeactivatedMeanwhile() public {
        vm.prank(patient);
        residents.proposeAgreement(familyDoctor, DIAGNOSIS, READ, YEAR);
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        vm.prank(patient); // the proposer cannot accept its own proposal
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNoPendingAgreement.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(familyDoctor, DIAGNOSIS, READ, YEAR);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotFamilyDoctor.selector, familyDoctor)
        );
        residents.acceptAgreement(patient, DIAGNOSIS, READ, YEAR);
    }

    function test_acceptAgreement_reverts_whenOtherDoctorInForce() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(pcAdmin);
        consortium.registerPractitioner(stranger, key);
        vm.prank(stranger);
        residents.proposeAgreement(patient, ALL_SECTIONS, READ, YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryAgreementInForce.selector, patient, familyDoctor
            )
        );
        residents.acceptAgreement(stranger, ALL_SECTIONS, READ, YEAR);
    }

    function test_acceptAgreement_succeeds_otherDoctorAfterExpiry() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(pcAdmin);
        consortium.registerPractitioner(stranger, key);
        vm.warp(START + YEAR);
        _agree(patient, stranger, ALL_SECTIONS, READ, YEAR);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, stranger);
    }

    // ----- acceptAgreementWithSig -----

    function _agreementSig(uint32 sections, uint8 actions, uint64 term, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return signDigest(
            PATIENT_PK,
            _agreementDigest(
                address(residents), patient, familyDoctor, sections, actions, term, nonce, deadline
            )
        );
    }

    function test_acceptAgreementWithSig_succeeds_withoutProposal() public {
        bytes memory sig = _agreementSig(ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 1 hours);
        vm.prank(familyDoctor);
        residents.acceptAgreementWithSig(patient, ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 1 hours, sig);
        (address doctor,,, uint64 endsAt) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        assertEq(endsAt, START + YEAR);
        assertEq(residents.nonces(patient), 1);
    }

    function test_acceptAgreementWithSig_succeeds_renewsSameDoctor() public {
        _agree(patient, familyDoctor, DIAGNOSIS, READ, YEAR);
        vm.warp(START + 100 days);
        bytes memory sig = _agreementSig(ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 101 days);
        vm.prank(familyDoctor);
        residents.acceptAgreementWithSig(patient, ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 101 days, sig);
        (, uint32 sections,, uint64 endsAt) = residents.activeFamilyDoctor(patient);
        assertEq(sections, ALL_SECTIONS);
        assertEq(endsAt, START + 100 days + YEAR);
    }

    function test_acceptAgreementWithSig_reverts_whenOtherDoctorSubmits() public {
        bytes memory sig = _agreementSig(ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 1 hours);
        bytes32 digest = _agreementDigest(
            address(residents), patient, hospitalDoctor, ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 1 hours
        );
        address recovered = ecrecoverSig(digest, sig);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        residents.acceptAgreementWithSig(patient, ALL_SECTIONS, READ_APPEND, YEAR, 0, START + 1 hours, sig);
    }

    function test_acceptAgreementWithSig_reverts_whenNotPrimaryCare() public {
        bytes32 digest = _agreementDigest(
            address(residents), patient, hospitalDoctor, ALL_SECTIONS, READ, YEAR, 0, START + 1 hours
        );
        bytes memory sig = signDigest(PATIENT_PK, digest);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNotFamilyDoctor.selector, hospitalDoctor)
        );
        residents.acceptAgreementWithSig(patient, ALL_SECTIONS, READ, YEAR, 0, START + 1 hours, sig);
    }

    // ----- renew / terminate -----

    function test_renewAgreement_succeeds_byResident() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.warp(START + 300 days);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementRenewed(patient, familyDoctor, uint64(START + 300 days + YEAR));
        vm.prank(patient);
        residents.renewAgreement(YEAR);
        (,,, uint64 endsAt) = residents.activeFamilyDoctor(patient);
        assertEq(endsAt, START + 300 days + YEAR);
    }

    function test_renewAgreement_emitsNothing_whenUnchanged() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.recordLogs();
        vm.prank(patient);
        residents.renewAgreement(YEAR);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_renewAgreement_reverts_whenExpired() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.warp(START + YEAR);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNoActiveAgreement.selector, patient)
        );
        residents.renewAgreement(YEAR);
    }

    function test_renewAgreement_reverts_whenCalledByDoctor() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNoActiveAgreement.selector, familyDoctor)
        );
        residents.renewAgreement(YEAR);
    }

    function test_terminateAgreement_succeeds_byResident() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.expectEmit(address(residents));
        emit IResidentRegistry.AgreementTerminated(patient, familyDoctor, patient);
        vm.prank(patient);
        residents.terminateAgreement(patient);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
    }

    function test_terminateAgreement_succeeds_byDoctor() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(familyDoctor);
        residents.terminateAgreement(patient);
        assertEq(residents.agreement(patient).doctor, address(0));
    }

    function test_terminateAgreement_reverts_whenStranger() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IResidentRegistry.ResidentRegistryNotAgreementParty.selector, patient, stranger
            )
        );
        residents.terminateAgreement(patient);
    }

    function test_terminateAgreement_reverts_whenNone() public {
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryNoActiveAgreement.selector, patient)
        );
        residents.terminateAgreement(patient);
    }

    // ----- activeFamilyDoctor -----

    function test_activeFamilyDoctor_returnsZero_afterEnd() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.warp(START + YEAR - 1);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        vm.warp(START + YEAR);
        (doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
    }

    function test_activeFamilyDoctor_returnsZero_whenInstitutionSuspended() public {
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.prank(hospitalAdmin);
        uint256 id = consortium.propose(
            IConsortium.ProposalAction.Suspend, pcAdmin, IConsortium.InstitutionKind.None, 0
        );
        vm.prank(insurerAdmin);
        consortium.vote(id);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
    }

    function testFuzz_register_bindsKeyToAccount(uint256 pk, uint256 otherPk) public {
        pk = bound(pk, 1, 2 ** 160);
        otherPk = bound(otherPk, 1, 2 ** 160);
        vm.assume(pk != otherPk);
        address resident = vm.addr(pk);
        vm.assume(!residents.isRegistered(resident));
        bytes memory otherKey = publicKeyOf(otherPk);
        vm.prank(resident);
        vm.expectRevert(
            abi.encodeWithSelector(IResidentRegistry.ResidentRegistryInvalidEncryptionKey.selector, resident)
        );
        residents.register(otherKey, PROFILE);
        bytes memory key = publicKeyOf(pk);
        vm.prank(resident);
        residents.register(key, PROFILE);
        assertEq(residents.encryptionKeyOf(resident), key);
    }

    function testFuzz_activeFamilyDoctor_endsExactlyAtTerm(uint64 term, uint256 later) public {
        term = uint64(bound(term, 1, 50 * YEAR));
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, term);
        vm.warp(START + term - 1);
        (address doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, familyDoctor);
        vm.warp(bound(later, START + term, START + term + 100 * YEAR));
        (doctor,,,) = residents.activeFamilyDoctor(patient);
        assertEq(doctor, address(0));
        assertFalse(consent.isAuthorized(patient, familyDoctor, DIAGNOSIS, READ));
    }

    function test_views_returnWiring() public view {
        assertEq(residents.consortium(), address(consortium));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            residents.eip712Domain();
        assertEq(name, "famchain ResidentRegistry");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(residents));
    }
}
