// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";
import {ConsentRegistry} from "../../contracts/ConsentRegistry.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice EIP-712 consent signatures (`SignedMessages` as used by ConsentRegistry): each way a signature can be
/// wrong is rejected with its own error, and a relayer grants exactly what was signed.
contract SignaturesTest is Fixture {
    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    function test_grantWithSig_succeeds_relayedByThirdParty() public {
        ConsentMsg memory m = _consentMsg(patient, insurerStaff);
        m.sections = DIAGNOSIS;
        m.purpose = INSURANCE_CLAIM;
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.expectEmit(address(consent));
        emit IConsentRegistry.ConsentGranted(
            patient, insurerStaff, DIAGNOSIS, READ, INSURANCE_CLAIM, m.expiresAt
        );
        vm.prank(stranger);
        _grantWithSig(m, sig);
        IConsentRegistry.Grant memory g = consent.grantOf(patient, insurerStaff);
        assertEq(g.sections, DIAGNOSIS);
        assertEq(g.actions, READ);
        assertEq(g.purpose, INSURANCE_CLAIM);
        assertEq(g.expiresAt, m.expiresAt);
        assertEq(consent.nonces(patient), 1);
        assertTrue(consent.isAuthorized(patient, insurerStaff, DIAGNOSIS, READ));
        assertFalse(consent.isAuthorized(patient, insurerStaff, DIAGNOSIS | PRESCRIPTIONS, READ));
        assertFalse(consent.isAuthorized(patient, insurerStaff, DIAGNOSIS, APPEND));
    }

    function test_grantWithSig_reverts_whenRelayerAltersScope() public {
        ConsentMsg memory m = _consentMsg(patient, insurerStaff);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        m.sections = ALL_SECTIONS; // widened by the relayer
        address recovered = _recover(_consentDigest(address(consent), m), sig);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenReplayedOnOtherChain() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.chainId(block.chainid + 1);
        address recovered = _recover(_consentDigest(address(consent), m), sig);
        assertTrue(recovered != patient);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenReplayedOnOtherDeployment() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        ConsentRegistry twin = new ConsentRegistry(consortium, residents);
        address recovered = _recover(_consentDigest(address(twin), m), sig);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        twin.grantWithSig(
            m.patient, m.grantee, m.sections, m.actions, m.purpose, m.expiresAt, m.nonce, m.deadline, sig
        );
    }

    function test_grantWithSig_reverts_whenNonceReused() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        _grantWithSig(m, sig);
        vm.prank(patient);
        consent.revoke(hospitalDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 1));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenNonceSkipped() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        m.nonce = 5;
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 0));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenDeadlinePassed() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.warp(m.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, m.deadline));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_succeeds_atDeadline() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.warp(m.deadline);
        _grantWithSig(m, sig);
        assertEq(consent.nonces(patient), 1);
    }

    function test_grantWithSig_reverts_whenWrongSigner() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(OTHER_PATIENT_PK, _consentDigest(address(consent), m));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector, patient, otherPatient
            )
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenHighS() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes32 digest = _consentDigest(address(consent), m);
        bytes memory sig = highS(PATIENT_PK, digest);
        (, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        // The twin is a valid secp256k1 signature by the patient; only the low-s rule rejects it.
        assertEq(_recover(digest, sig), patient);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesMalleable.selector, s));
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenBadLength() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        bytes memory short = new bytes(64);
        for (uint256 i = 0; i < 64; ++i) {
            short[i] = sig[i];
        }
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidLength.selector, 64));
        _grantWithSig(m, short);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidLength.selector, 0));
        _grantWithSig(m, "");
    }

    function test_grantWithSig_reverts_whenSignatureGarbage() public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(30));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, address(0))
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_reverts_whenZeroPatientAndGarbage() public {
        ConsentMsg memory m = _consentMsg(address(0), hospitalDoctor);
        bytes memory sig = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(30));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector, address(0), address(0)
            )
        );
        _grantWithSig(m, sig);
    }

    function test_grantWithSig_succeeds_forERC1271Wallet() public {
        // A contract wallet cannot register an encryption key (no key hashes to it), so the registered patient's
        // address is given the code of a wallet owned by the patient key: the ERC-1271 branch then decides.
        vm.etch(patient, address(new MockERC1271Wallet(patient)).code);
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.prank(stranger);
        _grantWithSig(m, sig);
        assertTrue(consent.isAuthorized(patient, hospitalDoctor, DIAGNOSIS, READ));
        assertEq(consent.nonces(patient), 1);
    }

    function test_grantWithSig_reverts_whenERC1271WalletRefuses() public {
        vm.etch(patient, address(new MockERC1271Wallet(otherPatient)).code);
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, address(0))
        );
        _grantWithSig(m, sig);
    }

    /// @dev The other signing contracts share the checks: a high-s twin and a truncated signature are refused.
    function test_registerWithSig_reverts_whenHighSOrBadLength() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        bytes32 digest = _registrationDigest(address(residents), stranger, key, keccak256("p"), 0, START + 1);
        bytes memory sig = highS(STRANGER_PK, digest);
        (, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesMalleable.selector, s));
        residents.registerWithSig(stranger, key, keccak256("p"), 0, START + 1, sig);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidLength.selector, 1));
        residents.registerWithSig(stranger, key, keccak256("p"), 0, START + 1, hex"01");
    }

    function test_releaseKeysWithSig_reverts_whenHighS() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        bytes32 bundle = keccak256("bundle");
        bytes32 digest =
            _keyReleaseDigest(address(records), patient, insurerStaff, bundle, DIAGNOSIS, 0, START + 1);
        bytes memory sig = highS(PATIENT_PK, digest);
        (, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesMalleable.selector, s));
        records.releaseKeysWithSig(patient, insurerStaff, bundle, RAW, DIAGNOSIS, 0, START + 1, sig);
    }

    /// @dev A consent signature means nothing to another contract of the system (own domain and type per contract).
    function test_grantWithSig_signatureNotValidAsKeyRelease() public {
        ConsentMsg memory m = _consentMsg(patient, insurerStaff);
        m.sections = DIAGNOSIS;
        _grantWithSig(m, signDigest(PATIENT_PK, _consentDigest(address(consent), m)));
        bytes memory consentSig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        bytes32 digest = _keyReleaseDigest(
            address(records), patient, insurerStaff, keccak256("b"), DIAGNOSIS, 0, m.deadline
        );
        address recovered = _recover(digest, consentSig);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        records.releaseKeysWithSig(
            patient, insurerStaff, keccak256("b"), RAW, DIAGNOSIS, 0, m.deadline, consentSig
        );
    }

    function testFuzz_grantWithSig_grantsExactlyWhatWasSigned(
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint64 ttl,
        address relayer
    ) public {
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        m.sections = uint32(bound(sections, 1, ALL_SECTIONS));
        m.actions = uint8(bound(actions, 1, 3));
        m.purpose = uint8(bound(purpose, 1, 4));
        m.expiresAt = uint64(block.timestamp + bound(ttl, 1, 10 * YEAR));
        bytes memory sig = signDigest(PATIENT_PK, _consentDigest(address(consent), m));
        vm.prank(relayer);
        _grantWithSig(m, sig);
        IConsentRegistry.Grant memory g = consent.grantOf(patient, hospitalDoctor);
        assertEq(g.sections, m.sections);
        assertEq(g.actions, m.actions);
        assertEq(g.purpose, m.purpose);
        assertEq(g.expiresAt, m.expiresAt);
    }
}
