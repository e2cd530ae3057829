// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/Vm.sol";
import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

contract RecordRegistryTest is Fixture {
    bytes32 internal constant BUNDLE = keccak256("wrapped key bundle");

    function setUp() public override {
        super.setUp();
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
    }

    function _anchorAs(address author, address patient_, IRecordRegistry.Anchor memory a) internal {
        bytes24 head = _head(patient_);
        vm.prank(author);
        records.anchor(patient_, head, a);
    }

    function _updateOf(IRecordRegistry.Anchor memory old, uint256 seed)
        internal
        pure
        returns (IRecordRegistry.Anchor memory u)
    {
        u = _anchorOf(seed, old.sections);
        u.previous = old.recordId;
    }

    // ----- anchor -----

    function test_anchor_succeeds_byFamilyDoctor() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        bytes24 head = _next(bytes24(0), _leaf(a, familyDoctor));
        vm.expectEmit(address(records));
        emit IRecordRegistry.RecordAnchored(
            patient, a.recordId, familyDoctor, 0, a.cidDigest, a.sections, a.cidCodec, 0, head
        );
        _anchorAs(familyDoctor, patient, a);
        (bytes24 stored, uint64 length) = records.card(patient);
        assertEq(bytes32(stored), bytes32(head));
        assertEq(length, 1);
    }

    function test_anchor_succeeds_byGranteeWithAppend() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ_APPEND, uint64(START + 1 days));
        _anchorAs(hospitalDoctor, patient, _anchorOf(1, DIAGNOSIS));
        assertEq(_length(patient), 1);
    }

    function test_anchor_succeeds_byPatient() public {
        _anchorAs(patient, patient, _anchorOf(1, 0x40));
        assertEq(_length(patient), 1);
    }

    function test_anchor_reverts_whenStranger() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, stranger, DIAGNOSIS
            )
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenGranteeReadOnly() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(START + 1 days));
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, hospitalDoctor, DIAGNOSIS
            )
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenSectionsOutsideAgreement() public {
        _agree(otherPatient, familyDoctor, DIAGNOSIS, READ_APPEND, YEAR);
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS | PRESCRIPTIONS);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector,
                otherPatient,
                familyDoctor,
                DIAGNOSIS | PRESCRIPTIONS
            )
        );
        records.anchor(otherPatient, bytes24(0), a);
    }

    function test_anchor_reverts_whenAgreementEnded() public {
        vm.warp(START + YEAR);
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, familyDoctor, DIAGNOSIS
            )
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenAnchoredTwice() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.prank(familyDoctor);
        records.anchor(patient, bytes24(0), a);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryAlreadyAnchored.selector, a.recordId)
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenHeadStale() public {
        _anchorAs(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        bytes24 head = _head(patient);
        IRecordRegistry.Anchor memory a = _anchorOf(2, DIAGNOSIS);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryStaleHead.selector, patient, bytes24(0), head
            )
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenPreviousSet() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        a.previous = keccak256("old");
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector, a.recordId, a.previous
            )
        );
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenInvalidSections() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, 0x80);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidSections.selector, 0x80));
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenInvalidCodec() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        a.cidCodec = 0x71;
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidCodec.selector, 0x71));
        records.anchor(patient, bytes24(0), a);
    }

    function test_anchor_reverts_whenZeroIds() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        a.cidDigest = 0;
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidAnchor.selector, a.recordId)
        );
        records.anchor(patient, bytes24(0), a);
        a = _anchorOf(1, DIAGNOSIS);
        a.recordId = 0;
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidAnchor.selector, bytes32(0))
        );
        records.anchor(patient, bytes24(0), a);
    }

    // ----- anchorBatch -----

    function _batch(uint256 n, uint256 seed) internal pure returns (IRecordRegistry.Anchor[] memory batch) {
        batch = new IRecordRegistry.Anchor[](n);
        for (uint256 i = 0; i < n; ++i) {
            batch[i] = _anchorOf(seed + i, i % 2 == 0 ? DIAGNOSIS : PRESCRIPTIONS);
        }
    }

    function test_anchorBatch_succeeds_oneHeadWrite() public {
        _anchorAs(familyDoctor, patient, _anchorOf(100, DIAGNOSIS));
        IRecordRegistry.Anchor[] memory batch = _batch(5, 1);
        bytes24 head = _head(patient);
        vm.recordLogs();
        vm.prank(familyDoctor);
        records.anchorBatch(patient, head, batch);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 5);
        for (uint256 i = 0; i < 5; ++i) {
            head = _next(head, _leaf(batch[i], familyDoctor));
            assertEq(logs[i].topics[2], batch[i].recordId);
            (,,,, uint64 index, bytes24 eventHead) =
                abi.decode(logs[i].data, (bytes32, bytes32, uint32, uint8, uint64, bytes24));
            assertEq(index, i + 1);
            assertEq(bytes32(eventHead), bytes32(head));
        }
        (bytes24 stored, uint64 length) = records.card(patient);
        assertEq(bytes32(stored), bytes32(head));
        assertEq(length, 6);
    }

    function test_anchorBatch_reverts_whenEmpty() public {
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](0);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryEmptyBatch.selector));
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function test_anchorBatch_reverts_whenRetried() public {
        IRecordRegistry.Anchor[] memory batch = _batch(3, 1);
        vm.prank(familyDoctor);
        records.anchorBatch(patient, bytes24(0), batch);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryAlreadyAnchored.selector, batch[0].recordId)
        );
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function test_anchorBatch_reverts_whenHeadStale() public {
        _anchorAs(familyDoctor, patient, _anchorOf(100, DIAGNOSIS));
        bytes24 head = _head(patient);
        IRecordRegistry.Anchor[] memory batch = _batch(3, 1);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryStaleHead.selector, patient, bytes24(0), head
            )
        );
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function test_anchorBatch_reverts_whenUnionNotAuthorized() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ_APPEND, uint64(START + 1 days));
        IRecordRegistry.Anchor[] memory batch = _batch(2, 1); // DIAGNOSIS and PRESCRIPTIONS
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector,
                patient,
                hospitalDoctor,
                DIAGNOSIS | PRESCRIPTIONS
            )
        );
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function test_anchorBatch_reverts_whenPreviousSet() public {
        IRecordRegistry.Anchor[] memory batch = _batch(2, 1);
        batch[1].previous = batch[0].recordId;
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector, batch[1].recordId, batch[0].recordId
            )
        );
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function testFuzz_anchorBatch_headReplaysFromEvents(uint8 first, uint8 second) public {
        uint256 n1 = bound(first, 1, 20);
        uint256 n2 = bound(second, 1, 20);
        IRecordRegistry.Anchor[] memory a = _batch(n1, 1);
        IRecordRegistry.Anchor[] memory b = _batch(n2, 1000);
        vm.prank(familyDoctor);
        records.anchorBatch(patient, bytes24(0), a);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorBatch(patient, head, b);
        bytes24 replay;
        for (uint256 i = 0; i < n1; ++i) {
            replay = _next(replay, _leaf(a[i], familyDoctor));
        }
        for (uint256 i = 0; i < n2; ++i) {
            replay = _next(replay, _leaf(b[i], familyDoctor));
        }
        (bytes24 stored, uint64 length) = records.card(patient);
        assertEq(bytes32(stored), bytes32(replay));
        assertEq(length, n1 + n2);
    }

    // ----- anchorUpdate / approveUpdate -----

    function test_anchorUpdate_succeeds_withPatientSignature() public {
        IRecordRegistry.Anchor memory old = _anchorOf(1, DIAGNOSIS);
        _anchorAs(familyDoctor, patient, old);
        IRecordRegistry.Anchor memory u = _updateOf(old, 2);
        uint256 deadline = START + 1 hours;
        bytes memory sig =
            signDigest(PATIENT_PK, _recordUpdateDigest(address(records), patient, u, 0, deadline));
        bytes24 head = _head(patient);
        vm.expectEmit(address(records));
        emit IRecordRegistry.RecordAnchored(
            patient,
            u.recordId,
            familyDoctor,
            old.recordId,
            u.cidDigest,
            u.sections,
            u.cidCodec,
            1,
            _next(head, _leaf(u, familyDoctor))
        );
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, 0, deadline, sig);
        assertEq(_length(patient), 2);
        assertEq(records.nonces(patient), 1);
    }

    function test_anchorUpdate_succeeds_withPriorApproval() public {
        IRecordRegistry.Anchor memory old = _anchorOf(1, DIAGNOSIS);
        _anchorAs(familyDoctor, patient, old);
        IRecordRegistry.Anchor memory u = _updateOf(old, 2);
        bytes32 approval = keccak256(abi.encode(u.recordId, u.previous, u.cidDigest, u.sections));
        vm.expectEmit(address(records));
        emit IRecordRegistry.UpdateApproved(patient, u.recordId, approval);
        vm.prank(patient);
        records.approveUpdate(u.recordId, u.previous, u.cidDigest, u.sections);
        assertTrue(records.isUpdateApproved(patient, approval));
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, 0, 0, "");
        assertFalse(records.isUpdateApproved(patient, approval), "approval not consumed");
        assertEq(_length(patient), 2);
    }

    function test_anchorUpdate_reverts_whenApprovalReused() public {
        IRecordRegistry.Anchor memory old = _anchorOf(1, DIAGNOSIS);
        _anchorAs(familyDoctor, patient, old);
        IRecordRegistry.Anchor memory u = _updateOf(old, 2);
        vm.prank(patient);
        records.approveUpdate(u.recordId, u.previous, u.cidDigest, u.sections);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, 0, 0, "");
        head = _head(patient);
        bytes32 approval = keccak256(abi.encode(u.recordId, u.previous, u.cidDigest, u.sections));
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateNotApproved.selector, patient, approval
            )
        );
        records.anchorUpdate(patient, head, u, 0, 0, "");
    }

    function test_anchorUpdate_reverts_whenNotApproved() public {
        IRecordRegistry.Anchor memory u = _updateOf(_anchorOf(1, DIAGNOSIS), 2);
        bytes32 approval = keccak256(abi.encode(u.recordId, u.previous, u.cidDigest, u.sections));
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateNotApproved.selector, patient, approval
            )
        );
        records.anchorUpdate(patient, bytes24(0), u, 0, 0, "");
    }

    function test_anchorUpdate_reverts_whenPreviousZero() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector, a.recordId, bytes32(0)
            )
        );
        records.anchorUpdate(patient, bytes24(0), a, 0, 0, "");
    }

    function test_anchorUpdate_reverts_whenSignedByOther() public {
        IRecordRegistry.Anchor memory u = _updateOf(_anchorOf(1, DIAGNOSIS), 2);
        uint256 deadline = START + 1 hours;
        bytes memory sig =
            signDigest(OTHER_PATIENT_PK, _recordUpdateDigest(address(records), patient, u, 0, deadline));
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesInvalidSigner.selector, patient, otherPatient
            )
        );
        records.anchorUpdate(patient, bytes24(0), u, 0, deadline, sig);
    }

    function test_anchorUpdate_reverts_whenSignatureExpired() public {
        IRecordRegistry.Anchor memory u = _updateOf(_anchorOf(1, DIAGNOSIS), 2);
        uint256 deadline = START - 1;
        bytes memory sig =
            signDigest(PATIENT_PK, _recordUpdateDigest(address(records), patient, u, 0, deadline));
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, deadline));
        records.anchorUpdate(patient, bytes24(0), u, 0, deadline, sig);
    }

    function test_anchorUpdate_reverts_whenUnauthorizedAuthor() public {
        IRecordRegistry.Anchor memory u = _updateOf(_anchorOf(1, DIAGNOSIS), 2);
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, hospitalDoctor, DIAGNOSIS
            )
        );
        records.anchorUpdate(patient, bytes24(0), u, 0, 0, "");
    }

    function test_approveUpdate_reverts_whenAlreadyApproved() public {
        IRecordRegistry.Anchor memory u = _updateOf(_anchorOf(1, DIAGNOSIS), 2);
        vm.prank(patient);
        records.approveUpdate(u.recordId, u.previous, u.cidDigest, u.sections);
        bytes32 approval = keccak256(abi.encode(u.recordId, u.previous, u.cidDigest, u.sections));
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateAlreadyApproved.selector, patient, approval
            )
        );
        records.approveUpdate(u.recordId, u.previous, u.cidDigest, u.sections);
    }

    function test_approveUpdate_reverts_whenInvalid() public {
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidSections.selector, 0));
        records.approveUpdate(keccak256("r"), keccak256("p"), keccak256("c"), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidAnchor.selector, bytes32(0))
        );
        records.approveUpdate(0, keccak256("p"), keccak256("c"), DIAGNOSIS);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector, keccak256("r"), bytes32(0)
            )
        );
        records.approveUpdate(keccak256("r"), 0, keccak256("c"), DIAGNOSIS);
        vm.stopPrank();
    }

    // ----- key releases -----

    function test_releaseKeys_succeeds_toGrantee() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        vm.expectEmit(address(records));
        emit IRecordRegistry.KeysReleased(patient, insurerStaff, patient, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(patient);
        records.releaseKeys(insurerStaff, BUNDLE, RAW, DIAGNOSIS);
    }

    function test_releaseKeys_succeeds_toFamilyDoctor() public {
        vm.prank(patient);
        records.releaseKeys(familyDoctor, BUNDLE, DAG_PB, ALL_SECTIONS);
    }

    function test_releaseKeys_reverts_whenGranteeNotAuthorized() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryGranteeUnauthorized.selector,
                patient,
                insurerStaff,
                DIAGNOSIS | PRESCRIPTIONS
            )
        );
        records.releaseKeys(insurerStaff, BUNDLE, RAW, DIAGNOSIS | PRESCRIPTIONS);
    }

    function test_releaseKeys_reverts_whenGrantRevoked() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        vm.prank(patient);
        consent.revoke(insurerStaff);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryGranteeUnauthorized.selector, patient, insurerStaff, DIAGNOSIS
            )
        );
        records.releaseKeys(insurerStaff, BUNDLE, RAW, DIAGNOSIS);
    }

    function test_releaseKeys_reverts_whenInvalidInput() public {
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidCodec.selector, 0));
        records.releaseKeys(familyDoctor, BUNDLE, 0, DIAGNOSIS);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidBundle.selector, bytes32(0))
        );
        records.releaseKeys(familyDoctor, 0, RAW, DIAGNOSIS);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidSections.selector, 0x100));
        records.releaseKeys(familyDoctor, BUNDLE, RAW, 0x100);
        vm.stopPrank();
    }

    function test_releaseKeysWithSig_succeeds_relayed() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        uint256 deadline = START + 1 hours;
        bytes memory sig = signDigest(
            PATIENT_PK,
            _keyReleaseDigest(address(records), patient, insurerStaff, BUNDLE, DIAGNOSIS, 0, deadline)
        );
        vm.expectEmit(address(records));
        emit IRecordRegistry.KeysReleased(patient, insurerStaff, insurerStaff, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(insurerStaff);
        records.releaseKeysWithSig(patient, insurerStaff, BUNDLE, RAW, DIAGNOSIS, 0, deadline, sig);
        assertEq(records.nonces(patient), 1);
    }

    function test_releaseKeysWithSig_reverts_whenReplayed() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        uint256 deadline = START + 1 hours;
        bytes memory sig = signDigest(
            PATIENT_PK,
            _keyReleaseDigest(address(records), patient, insurerStaff, BUNDLE, DIAGNOSIS, 0, deadline)
        );
        records.releaseKeysWithSig(patient, insurerStaff, BUNDLE, RAW, DIAGNOSIS, 0, deadline, sig);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 1));
        records.releaseKeysWithSig(patient, insurerStaff, BUNDLE, RAW, DIAGNOSIS, 0, deadline, sig);
    }

    function test_releaseKeysWithSig_reverts_whenOtherGrantee() public {
        _grant(patient, insurerStaff, DIAGNOSIS, READ, uint64(START + 1 days));
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(START + 1 days));
        uint256 deadline = START + 1 hours;
        bytes memory sig = signDigest(
            PATIENT_PK,
            _keyReleaseDigest(address(records), patient, insurerStaff, BUNDLE, DIAGNOSIS, 0, deadline)
        );
        bytes32 digest =
            _keyReleaseDigest(address(records), patient, hospitalDoctor, BUNDLE, DIAGNOSIS, 0, deadline);
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        address recovered = ecrecover(digest, uint8(sig[64]), r, s);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedMessages.SignedMessagesInvalidSigner.selector, patient, recovered)
        );
        records.releaseKeysWithSig(patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, 0, deadline, sig);
    }

    function test_views_returnWiring() public view {
        assertEq(records.consentRegistry(), address(consent));
        (, string memory name,,, address verifying,,) = records.eip712Domain();
        assertEq(name, "famchain RecordRegistry");
        assertEq(verifying, address(records));
    }
}
