// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IEmergencyAccess} from "../../contracts/interfaces/IEmergencyAccess.sol";
import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";

/// @notice The gas targets, measured as the execution gas of the call's frame (`vm.lastCallGas`) with every famchain
/// contract cooled first (`vm.cool`) and the called contract touched (a transaction's `to` is warm, EIP-2929); the
/// transaction total adds the 21,000 intrinsic gas and the calldata cost (EIP-2028: 4 per zero byte, 16 other).
contract GasTest is Fixture {
    uint256 internal constant ANCHOR_TX_TARGET = 60_000;
    uint256 internal constant BATCH_PER_RECORD_TARGET = 10_000;
    uint256 internal constant GRANT_WITH_SIG_TX_TARGET = 100_000;
    uint256 internal constant IS_AUTHORIZED_GRANTEE_TARGET = 12_000;
    uint256 internal constant BATCH = 50;

    /// @dev Patients: `patient` has an empty card, `otherPatient` 999 records, `third` one record, `fourth` 100.
    uint256 internal constant THIRD_PK = 0xBA80;
    uint256 internal constant FOURTH_PK = 0xBA82;
    address internal third;
    address internal fourth;
    bytes24[] internal fourthHeads;
    bytes32[] internal fourthLeaves;
    uint64 internal fourthAnchoredAt;

    function setUp() public override {
        super.setUp();
        third = vm.addr(THIRD_PK);
        fourth = vm.addr(FOURTH_PK);
        _registerResident(THIRD_PK);
        _registerResident(FOURTH_PK);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _agree(otherPatient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _agree(third, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _agree(fourth, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ_APPEND, uint64(START + 30 days));
        _grant(third, hospitalDoctor, DIAGNOSIS, READ_APPEND, uint64(START + 30 days));
        uint256 seed = 1_000_000;
        for (uint256 done = 0; done < 999;) {
            uint256 n = 999 - done < 100 ? 999 - done : 100;
            IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](n);
            for (uint256 i = 0; i < n; ++i) {
                batch[i] = _anchorOf(seed++, ALL_SECTIONS);
            }
            bytes24 head = _head(otherPatient);
            vm.prank(familyDoctor);
            records.anchorBatch(otherPatient, head, batch);
            done += n;
        }
        _anchor(familyDoctor, third, _anchorOf(seed++, ALL_SECTIONS));
        // A card of 100 records (for erase), with every leaf kept for the proof.
        fourthAnchoredAt = uint64(block.timestamp);
        for (uint256 i = 0; i < 100; ++i) {
            IRecordRegistry.Anchor memory a = _anchorOf(seed++, DIAGNOSIS);
            fourthHeads.push(_head(fourth));
            bytes32 id = _anchor(familyDoctor, fourth, a);
            fourthLeaves.push(_leaf(id, 0, DIAGNOSIS, OUTPATIENT, fourthAnchoredAt));
        }
        _setUpCustodians();
    }

    /// @dev Cools every famchain contract (a new transaction), then touches `target` (the transaction's `to`);
    /// `require` keeps the optimizer from dropping the touch.
    function _freshTx(address target) internal {
        vm.cool(address(records));
        vm.cool(address(consent));
        vm.cool(address(residents));
        vm.cool(address(consortium));
        vm.cool(address(emergency));
        require(target.code.length > 0, "no code");
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function _total(uint256 execution, bytes memory data) internal pure returns (uint256) {
        return 21_000 + _calldataGas(data) + execution;
    }

    function _measureAnchor(address author, address who, uint256 seed, uint32 sections)
        internal
        returns (uint256 execution, uint256 total)
    {
        IRecordRegistry.Anchor memory a = _anchorOf(seed, sections);
        a.cidCodec = DAG_PB;
        bytes24 head = _head(who);
        bytes memory data = abi.encodeCall(IRecordRegistry.anchor, (who, head, a));
        _freshTx(address(records));
        vm.prank(author);
        records.anchor(who, head, a);
        execution = vm.lastCallGas().gasTotalUsed;
        total = _total(execution, data);
    }

    function test_gas_anchor_steadyAndFirst() public {
        (uint256 firstExec, uint256 firstTotal) = _measureAnchorAs(patient, 1);
        (uint256 secondExec, uint256 secondTotal) = _measureAnchorAs(third, 2);
        (uint256 thousandthExec, uint256 thousandthTotal) = _measureAnchorAs(otherPatient, 3);
        assertEq(_length(otherPatient), 1000);
        emit log_named_uint("anchor #1 (creates the card slot) execution", firstExec);
        emit log_named_uint("anchor #1 (creates the card slot) tx total", firstTotal);
        emit log_named_uint("anchor #2 (card of 1) execution", secondExec);
        emit log_named_uint("anchor #2 (card of 1) tx total", secondTotal);
        emit log_named_uint("anchor #1000 (card of 999) execution", thousandthExec);
        emit log_named_uint("anchor #1000 (card of 999) tx total", thousandthTotal);
        assertEq(thousandthExec, secondExec, "anchor gas grows with the card");
        assertLe(secondTotal, ANCHOR_TX_TARGET, "anchor (card of 1) tx total");
        assertLe(thousandthTotal, ANCHOR_TX_TARGET, "anchor (card of 999) tx total");
    }

    function _measureAnchorAs(address who, uint256 seed) internal returns (uint256, uint256) {
        return _measureAnchor(familyDoctor, who, seed, DIAGNOSIS | PRESCRIPTIONS);
    }

    function test_gas_anchor_byGrantee() public {
        (uint256 execution, uint256 total) = _measureAnchor(hospitalDoctor, third, 7, DIAGNOSIS);
        emit log_named_uint("anchor by grantee (card of 1) execution", execution);
        emit log_named_uint("anchor by grantee (card of 1) tx total", total);
    }

    function test_gas_anchorBatch_perRecordAt50() public {
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            batch[i] = _anchorOf(5000 + i, DIAGNOSIS | PRESCRIPTIONS);
        }
        bytes24 head = _head(otherPatient);
        bytes memory data = abi.encodeCall(IRecordRegistry.anchorBatch, (otherPatient, head, batch));
        _freshTx(address(records));
        vm.prank(familyDoctor);
        records.anchorBatch(otherPatient, head, batch);
        uint256 total = _total(vm.lastCallGas().gasTotalUsed, data);
        emit log_named_uint("anchorBatch(50) calldata gas", _calldataGas(data));
        emit log_named_uint("anchorBatch(50) execution", vm.lastCallGas().gasTotalUsed);
        emit log_named_uint("anchorBatch(50) tx total", total);
        emit log_named_uint("anchorBatch(50) per record", total / BATCH);
        assertLe(total, BATCH_PER_RECORD_TARGET * BATCH, "batch per record");
    }

    /// @dev The relayed consent with its key bundle named and announced in the same transaction.
    function test_gas_grantWithSig_relayedWithBundle() public {
        ConsentMsg memory m = _consentMsg(otherPatient, insurerStaff);
        bytes memory sig = _signConsent(OTHER_PATIENT_PK, m);
        bytes memory data = abi.encodeCall(
            IConsentRegistry.grantWithSig,
            (
                m.patient,
                m.grantee,
                m.sections,
                m.actions,
                m.expiresAt,
                m.terms,
                m.bundleDigest,
                m.bundleCodec,
                m.nonce,
                m.deadline,
                sig
            )
        );
        _freshTx(address(consent));
        vm.prank(stranger);
        _grantWithSig(m, sig);
        uint256 total = _total(vm.lastCallGas().gasTotalUsed, data);
        emit log_named_uint("grantWithSig with bundle (first nonce, new grant) tx total", total);
        assertLe(total, GRANT_WITH_SIG_TX_TARGET, "grantWithSig tx total");
    }

    function test_gas_isAuthorized_grantee() public {
        _freshTx(address(consent));
        (address p, address accessor) = (patient, hospitalDoctor);
        bool ok = consent.isAuthorized(p, accessor, DIAGNOSIS, READ);
        uint256 execution = vm.lastCallGas().gasTotalUsed;
        assertTrue(ok);
        emit log_named_uint("isAuthorized (grantee) execution", execution);
        assertLe(execution, IS_AUTHORIZED_GRANTEE_TARGET, "isAuthorized grantee");
    }

    function test_gas_isAuthorized_patientAndFamilyDoctor() public {
        _freshTx(address(consent));
        address p = patient;
        assertTrue(consent.isAuthorized(p, p, DIAGNOSIS, READ));
        emit log_named_uint("isAuthorized (patient) execution", vm.lastCallGas().gasTotalUsed);
        _freshTx(address(consent));
        address doctor = familyDoctor;
        assertTrue(consent.isAuthorized(p, doctor, DIAGNOSIS, APPEND));
        emit log_named_uint("isAuthorized (family doctor) execution", vm.lastCallGas().gasTotalUsed);
    }

    function test_gas_revoke() public {
        bytes memory data = abi.encodeCall(IConsentRegistry.revoke, (hospitalDoctor));
        _freshTx(address(consent));
        vm.prank(patient);
        consent.revoke(hospitalDoctor);
        emit log_named_uint("revoke tx total", _total(vm.lastCallGas().gasTotalUsed, data));
    }

    function test_gas_registerPractitioner() public {
        uint256 pk = 0xD0C9;
        address account = vm.addr(pk);
        bytes memory key = publicKeyOf(pk);
        uint256 nonce = consortium.nonces(account, _key(D_ENROLLMENT, hospitalAdmin));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _enrollmentSig(pk, hospitalAdmin, nonce, deadline);
        bytes memory data =
            abi.encodeCall(IConsortium.registerPractitioner, (account, key, nonce, deadline, sig));
        _freshTx(address(consortium));
        vm.prank(hospitalAdmin);
        consortium.registerPractitioner(account, key, nonce, deadline, sig);
        emit log_named_uint("registerPractitioner tx total", _total(vm.lastCallGas().gasTotalUsed, data));
    }

    function test_gas_declareAndApprove() public {
        bytes memory data = abi.encodeCall(IEmergencyAccess.declare, (patient, uint8(1)));
        _freshTx(address(emergency));
        vm.prank(hospitalDoctor);
        uint256 id = emergency.declare(patient, 1);
        emit log_named_uint("declare tx total", _total(vm.lastCallGas().gasTotalUsed, data));
        bytes32 bundle = keccak256("shares");
        data = abi.encodeCall(IEmergencyAccess.approve, (id, bundle, RAW));
        _freshTx(address(emergency));
        vm.prank(pcAdmin);
        emergency.approve(id, bundle, RAW);
        emit log_named_uint("approve (first custodian) tx total", _total(vm.lastCallGas().gasTotalUsed, data));
        _freshTx(address(emergency));
        vm.prank(insurerAdmin);
        emergency.approve(id, bundle, RAW);
        emit log_named_uint(
            "approve (second custodian, opens) tx total", _total(vm.lastCallGas().gasTotalUsed, data)
        );
    }

    /// @dev Erasure of the first record of a 100-record card (the longest proof: 99 later leaves).
    function test_gas_erase_first_of100() public {
        vm.prank(fourth);
        residents.requestDeletion(0);
        vm.warp(block.timestamp + OUTPATIENT_RETENTION);
        IRecordRegistry.ErasureProof memory p;
        p.index = 0;
        p.headBefore = fourthHeads[0];
        p.recordId = _recordId(fourth, familyDoctor, _anchorOf(1_000_000 + 999 + 1, DIAGNOSIS));
        p.sections = DIAGNOSIS;
        p.kind = OUTPATIENT;
        p.anchoredAt = fourthAnchoredAt;
        p.laterLeaves = new bytes32[](99);
        for (uint256 i = 1; i < 100; ++i) {
            p.laterLeaves[i - 1] = fourthLeaves[i];
        }
        bytes memory data = abi.encodeCall(IRecordRegistry.erase, (fourth, p));
        _freshTx(address(records));
        records.erase(fourth, p);
        assertTrue(records.isErased(p.recordId));
        emit log_named_uint("erase (record 1 of 100) tx total", _total(vm.lastCallGas().gasTotalUsed, data));
    }

    event log_named_uint(string key, uint256 val);
}
