// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IEmergencyAccess} from "../../contracts/interfaces/IEmergencyAccess.sol";
import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";

/// @notice The gas targets, measured as real transactions. This contract runs in forge's isolation mode (the
/// `forge-config` line below): every call the test makes is executed as a transaction of its own, so revm charges
/// the 21,000 intrinsic gas and the calldata, starts it with every account and slot cold except the sender, the
/// `to` and the precompiles (EIP-2929), prices each SSTORE against the value before the transaction (EIP-2200) and
/// applies the refund (EIP-3529). `vm.lastCallGas().gasTotalUsed` is then what the receipt of that transaction
/// shows as `gasUsed`; the execution gas is that minus 21,000 minus the calldata (EIP-2028: 4 per zero byte, 16
/// per other byte). Before a view call the isolation marks every account and slot cold, and the figure is the
/// callee frame's gas (what `eth_estimateGas` charges beyond the intrinsic and calldata gas).
/// (`vm.cool` is not enough: it marks an account's slots cold but leaves the account warm, so a contract the test
/// had touched before paid 100 instead of 2,600 per call: 7,500 less than a real steady anchor.)
/// Every figure is also written to `snapshots/GasTest.json`, which `tests/python/chain/test_gas_parity.py` checks
/// against real transactions on the devnet.
/// forge-config: default.isolate = true
contract GasTest is Fixture {
    uint256 internal constant ANCHOR_TX_TARGET = 60_000;
    uint256 internal constant BATCH_PER_RECORD_TARGET = 10_000;
    uint256 internal constant GRANT_WITH_SIG_TX_TARGET = 100_000;
    uint256 internal constant IS_AUTHORIZED_GRANTEE_TARGET = 12_000;
    uint256 internal constant BATCH = 50;
    uint256 internal constant INTRINSIC = 21_000;
    string internal constant GROUP = "GasTest";

    /// @dev What the benchmark (`famchain bench`) anchors: every section, a raw CID, an outpatient record.
    uint32 internal constant BENCH_SECTIONS = ALL_SECTIONS;

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

    function _calldataGas(bytes memory data) internal pure returns (uint256 gas) {
        for (uint256 i = 0; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// @dev The last call's transaction: its `gasUsed` and its execution gas (without intrinsic and calldata gas).
    function _lastTx(bytes memory data) internal view returns (uint256 total, uint256 execution) {
        total = vm.lastCallGas().gasTotalUsed;
        execution = total - INTRINSIC - _calldataGas(data);
    }

    /// @dev Logs and snapshots `<name>_tx` and `<name>_execution`.
    function _report(string memory name, uint256 total, uint256 execution) internal {
        emit log_named_uint(string.concat(name, " tx total"), total);
        emit log_named_uint(string.concat(name, " execution"), execution);
        vm.snapshotValue(GROUP, string.concat(name, "_tx"), total);
        vm.snapshotValue(GROUP, string.concat(name, "_execution"), execution);
    }

    function _measureAnchor(address author, address who, uint256 seed, uint32 sections)
        internal
        returns (uint256 total, uint256 execution)
    {
        IRecordRegistry.Anchor memory a = _anchorOf(seed, sections);
        bytes24 head = _head(who);
        bytes memory data = abi.encodeCall(IRecordRegistry.anchor, (who, head, a));
        uint64 lengthBefore = _length(who);
        vm.prank(author);
        records.anchor(who, head, a);
        (total, execution) = _lastTx(data);
        assertEq(_length(who), lengthBefore + 1);
    }

    function test_gas_anchor_steadyAndFirst() public {
        (uint256 firstTotal, uint256 firstExec) = _measureAnchor(familyDoctor, patient, 1, BENCH_SECTIONS);
        (uint256 secondTotal, uint256 secondExec) = _measureAnchor(familyDoctor, third, 2, BENCH_SECTIONS);
        (uint256 thousandthTotal, uint256 thousandthExec) =
            _measureAnchor(familyDoctor, otherPatient, 3, BENCH_SECTIONS);
        assertEq(_length(otherPatient), 1000);
        _report("anchor_first", firstTotal, firstExec);
        _report("anchor_steady", secondTotal, secondExec);
        _report("anchor_steady_1000th", thousandthTotal, thousandthExec);
        assertEq(thousandthExec, secondExec, "anchor gas grows with the card");
        assertLe(secondTotal, ANCHOR_TX_TARGET, "anchor (card of 1) tx total");
        assertLe(thousandthTotal, ANCHOR_TX_TARGET, "anchor (card of 999) tx total");
    }

    function test_gas_anchor_byGrantee() public {
        (uint256 total, uint256 execution) = _measureAnchor(hospitalDoctor, third, 7, DIAGNOSIS);
        _report("anchor_grantee", total, execution);
        assertLe(total, ANCHOR_TX_TARGET, "anchor by grantee tx total");
    }

    function test_gas_anchorBatch_perRecordAt50() public {
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            batch[i] = _anchorOf(5000 + i, BENCH_SECTIONS);
        }
        bytes24 head = _head(otherPatient);
        bytes memory data = abi.encodeCall(IRecordRegistry.anchorBatch, (otherPatient, head, batch));
        vm.prank(familyDoctor);
        records.anchorBatch(otherPatient, head, batch);
        (uint256 total, uint256 execution) = _lastTx(data);
        assertEq(_length(otherPatient), 999 + BATCH);
        _report("anchor_batch50", total, execution);
        emit log_named_uint("anchor_batch50 calldata gas", _calldataGas(data));
        emit log_named_uint("anchor_batch50 per record", total / BATCH);
        vm.snapshotValue(GROUP, "anchor_batch50_per_record", total / BATCH);
        assertLe(total, BATCH_PER_RECORD_TARGET * BATCH, "batch per record");
    }

    /// @dev The relayed consent with its key bundle named and announced in the same transaction (the key release).
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
        vm.prank(stranger);
        _grantWithSig(m, sig);
        (uint256 total, uint256 execution) = _lastTx(data);
        assertEq(consent.grantOf(otherPatient, insurerStaff).sections, m.sections);
        _report("grant_with_sig", total, execution);
        assertLe(total, GRANT_WITH_SIG_TX_TARGET, "grantWithSig tx total");
    }

    function test_gas_isAuthorized_grantee() public {
        (address p, address accessor) = (patient, hospitalDoctor);
        bool ok = consent.isAuthorized(p, accessor, DIAGNOSIS, READ);
        uint256 execution = vm.lastCallGas().gasTotalUsed;
        assertTrue(ok);
        emit log_named_uint("is_authorized_grantee execution", execution);
        vm.snapshotValue(GROUP, "is_authorized_grantee_execution", execution);
        assertLe(execution, IS_AUTHORIZED_GRANTEE_TARGET, "isAuthorized grantee");
    }

    function test_gas_isAuthorized_patientAndFamilyDoctor() public {
        address p = patient;
        assertTrue(consent.isAuthorized(p, p, DIAGNOSIS, READ));
        uint256 execution = vm.lastCallGas().gasTotalUsed;
        emit log_named_uint("is_authorized_patient execution", execution);
        vm.snapshotValue(GROUP, "is_authorized_patient_execution", execution);
        address doctor = familyDoctor;
        assertTrue(consent.isAuthorized(p, doctor, DIAGNOSIS, APPEND));
        execution = vm.lastCallGas().gasTotalUsed;
        emit log_named_uint("is_authorized_family_doctor execution", execution);
        vm.snapshotValue(GROUP, "is_authorized_family_doctor_execution", execution);
    }

    /// @dev The first revocation of a grant made by transaction (its Consent/grantee nonce goes from 0 to 1).
    function test_gas_revoke() public {
        bytes memory data = abi.encodeCall(IConsentRegistry.revoke, (hospitalDoctor));
        vm.prank(patient);
        consent.revoke(hospitalDoctor);
        (uint256 total, uint256 execution) = _lastTx(data);
        assertEq(consent.grantOf(patient, hospitalDoctor).sections, 0);
        _report("revoke", total, execution);
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
        vm.prank(hospitalAdmin);
        consortium.registerPractitioner(account, key, nonce, deadline, sig);
        (uint256 total, uint256 execution) = _lastTx(data);
        assertTrue(consortium.isActivePractitioner(account));
        _report("register_practitioner", total, execution);
    }

    function test_gas_declareAndApprove() public {
        bytes memory data = abi.encodeCall(IEmergencyAccess.declare, (patient, uint8(1)));
        vm.prank(hospitalDoctor);
        uint256 id = emergency.declare(patient, 1);
        (uint256 total, uint256 execution) = _lastTx(data);
        _report("declare", total, execution);
        bytes32 bundle = keccak256("shares");
        data = abi.encodeCall(IEmergencyAccess.approve, (id, bundle, RAW));
        vm.prank(pcAdmin);
        emergency.approve(id, bundle, RAW);
        (total, execution) = _lastTx(data);
        _report("approve_first", total, execution);
        vm.prank(insurerAdmin);
        emergency.approve(id, bundle, RAW);
        (total, execution) = _lastTx(data);
        _report("approve_opens", total, execution);
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
        records.erase(fourth, p);
        (uint256 total, uint256 execution) = _lastTx(data);
        assertTrue(records.isErased(p.recordId));
        _report("erase_first_of100", total, execution);
    }

    event log_named_uint(string key, uint256 val);
}
