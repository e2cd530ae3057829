// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice Derived record ids, cards for registered and unlocked residents only, update approvals bound to author,
/// codec, sections, kind and deadline, key releases by the patient or an authorized reader, and erasure after
/// retention with a card proof.
contract RecordRegistryTest is Fixture {
    bytes32 internal constant BUNDLE = keccak256("bundle");

    /// @dev Per card built by `_build`: every leaf and the head before each record.
    bytes32[] internal leaves;
    bytes24[] internal headsBefore;
    uint64[] internal times;
    bytes32[] internal ids;

    function setUp() public override {
        super.setUp();
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, 40 * YEAR);
    }

    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    /// @dev Anchors `n` records on the patient's card by the family doctor, one per hour, and keeps the proof data.
    function _build(uint256 n, uint8 kind) internal {
        for (uint256 i = 0; i < n; ++i) {
            IRecordRegistry.Anchor memory a = _anchorOf(100 + i, DIAGNOSIS);
            a.kind = kind;
            headsBefore.push(_head(patient));
            bytes32 id = _anchor(familyDoctor, patient, a);
            ids.push(id);
            times.push(uint64(block.timestamp));
            leaves.push(_leaf(id, 0, DIAGNOSIS, kind, uint64(block.timestamp)));
            vm.warp(block.timestamp + 1 hours);
        }
    }

    function _proofOf(uint256 index) internal view returns (IRecordRegistry.ErasureProof memory p) {
        p.index = uint64(index);
        p.headBefore = headsBefore[index];
        p.recordId = ids[index];
        p.previous = 0;
        p.sections = DIAGNOSIS;
        p.kind = OUTPATIENT;
        p.anchoredAt = times[index];
        p.laterLeaves = new bytes32[](leaves.length - index - 1);
        for (uint256 i = index + 1; i < leaves.length; ++i) {
            p.laterLeaves[i - index - 1] = leaves[i];
        }
    }

    // ----- anchor -----

    function test_anchor_derivesId_andMovesHead() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        bytes32 id = _recordId(patient, familyDoctor, a);
        assertEq(records.recordIdOf(patient, familyDoctor, a.salt, a.cidDigest, a.cidCodec), id);
        bytes32 leaf = _leaf(id, 0, DIAGNOSIS, OUTPATIENT, uint64(block.timestamp));
        assertEq(records.leafOf(id, 0, DIAGNOSIS, OUTPATIENT, uint64(block.timestamp)), leaf);
        bytes24 head = _next(bytes24(0), leaf);
        vm.expectEmit(address(records));
        emit IRecordRegistry.RecordAnchored(
            patient,
            id,
            familyDoctor,
            0,
            a.salt,
            a.cidDigest,
            DIAGNOSIS,
            RAW,
            OUTPATIENT,
            uint64(block.timestamp),
            0,
            head
        );
        vm.prank(familyDoctor);
        records.anchor(patient, bytes24(0), a);
        (bytes24 stored, uint64 length) = records.card(patient);
        assertEq(bytes32(stored), bytes32(head));
        assertEq(length, 1);
    }

    /// @dev Attack (stranger): a "card" of an unregistered account (its own, where it is trivially authorized).
    function test_anchor_reverts_whenCardUnregistered() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryPatientNotRegistered.selector, stranger)
        );
        records.anchor(stranger, bytes24(0), _anchorOf(1, DIAGNOSIS));
    }

    function test_anchor_reverts_whenStrangerOnRegisteredCard() public {
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, stranger, DIAGNOSIS
            )
        );
        records.anchor(patient, bytes24(0), _anchorOf(1, DIAGNOSIS));
    }

    /// @dev Attack (grantee with APPEND, and the patient): neither can make the doctor's record id resolve to its own
    /// content: the id commits to patient, author and content.
    function test_anchor_grantee_cannotTakeOverExistingId() public {
        IRecordRegistry.Anchor memory original = _anchorOf(1, DIAGNOSIS);
        bytes32 id = _anchor(familyDoctor, patient, original);
        _grant(patient, hospitalDoctor, DIAGNOSIS, APPEND, uint64(block.timestamp + 30 days));
        IRecordRegistry.Anchor memory forged = _anchorOf(1, DIAGNOSIS);
        forged.cidDigest = keccak256("forged content");
        bytes32 forgedId = _anchor(hospitalDoctor, patient, forged);
        assertTrue(forgedId != id);
        // Even the same salt and content anchored by another author (or the patient) is another id.
        assertTrue(_anchor(hospitalDoctor, patient, original) != id);
        assertTrue(_anchor(patient, patient, original) != id);
    }

    /// @dev Fuzz: any (patient, author, salt, digest, codec) that differs from the original in any field gives
    /// another id.
    function testFuzz_recordIdOf_bindsEveryField(
        address p,
        address author,
        bytes32 salt,
        bytes32 digest,
        bool dagPb,
        uint8 which
    ) public view {
        uint8 codec = dagPb ? DAG_PB : RAW;
        bytes32 id = records.recordIdOf(p, author, salt, digest, codec);
        assertEq(id, keccak256(abi.encode(p, author, salt, digest, codec)));
        which = uint8(bound(which, 0, 4));
        if (which == 0) p = address(uint160(p) ^ 1);
        else if (which == 1) author = address(uint160(author) ^ 1);
        else if (which == 2) salt = salt ^ bytes32(uint256(1));
        else if (which == 3) digest = digest ^ bytes32(uint256(1));
        else codec = dagPb ? RAW : DAG_PB;
        assertTrue(records.recordIdOf(p, author, salt, digest, codec) != id);
    }

    function test_anchor_reverts_whenInvalidAnchor() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        vm.startPrank(familyDoctor);
        a.sections = 0x100;
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidSections.selector, 0x100));
        records.anchor(patient, 0, a);
        a.sections = DIAGNOSIS;
        a.cidCodec = 0x71;
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidCodec.selector, 0x71));
        records.anchor(patient, 0, a);
        a.cidCodec = RAW;
        a.kind = 2;
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidKind.selector, 2));
        records.anchor(patient, 0, a);
        a.kind = OUTPATIENT;
        a.cidDigest = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidAnchor.selector, bytes32(0))
        );
        records.anchor(patient, 0, a);
        a = _anchorOf(1, DIAGNOSIS);
        a.previous = keccak256("p");
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector,
                _recordId(patient, familyDoctor, a),
                a.previous
            )
        );
        records.anchor(patient, 0, a);
        vm.stopPrank();
    }

    function test_anchor_reverts_whenReplayedOrStale() public {
        IRecordRegistry.Anchor memory a = _anchorOf(1, DIAGNOSIS);
        bytes32 id = _anchor(familyDoctor, patient, a);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryAlreadyAnchored.selector, id));
        records.anchor(patient, bytes24(0), a);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryStaleHead.selector, patient, bytes24(0), head
            )
        );
        records.anchor(patient, bytes24(0), _anchorOf(2, DIAGNOSIS));
    }

    /// @dev Attack: anchoring (even by the patient) on a locked card.
    /// @dev RecordRegistry asks ResidentRegistry first (status and the family doctor's terms in one slot), then
    /// ConsentRegistry: whoever the actor and whatever the state, an anchor goes through exactly when
    /// `isAuthorized(patient, author, sections, APPEND)` says so (the rule the order must not change).
    function testFuzz_anchor_admitsExactlyWhomIsAuthorizedAdmits(uint256 who, uint256 sections, uint256 state)
        public
    {
        address[6] memory actors = [patient, familyDoctor, hospitalDoctor, insurerStaff, guardian, stranger];
        address author = actors[bound(who, 0, 5)];
        uint32 s = uint32(bound(sections, 1, ALL_SECTIONS));
        _grant(
            patient, hospitalDoctor, DIAGNOSIS | PRESCRIPTIONS, READ_APPEND, uint64(block.timestamp + YEAR)
        );
        _grant(patient, insurerStaff, ALL_SECTIONS, READ, uint64(block.timestamp + YEAR));
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        state = bound(state, 0, 4);
        if (state == 1) {
            vm.prank(patient);
            residents.terminateAgreement(patient);
        } else if (state == 2) {
            _agree(patient, familyDoctor, DIAGNOSIS, READ_APPEND, YEAR); // narrower terms, same doctor
        } else if (state == 3) {
            _agree(patient, familyDoctor, ALL_SECTIONS, READ, YEAR); // read-only
        } else if (state == 4) {
            vm.prank(pcAdmin);
            consortium.deactivatePractitioner(familyDoctor);
        }
        bool expected = consent.isAuthorized(patient, author, s, APPEND);
        vm.prank(author);
        try records.anchor(patient, bytes24(0), _anchorOf(1, s)) {
            assertTrue(expected, "anchored without isAuthorized");
            assertEq(_length(patient), 1);
        } catch (bytes memory reason) {
            assertFalse(expected, "refused although isAuthorized");
            assertEq(
                reason,
                abi.encodeWithSelector(
                    IRecordRegistry.RecordRegistryUnauthorized.selector, patient, author, s
                )
            );
        }
    }

    /// @dev Attack (a former family doctor, a read-only or narrower agreement, a READ guardian): none appends.
    function test_anchor_reverts_whenFamilyDoctorNoLongerEntitled() public {
        _agree(patient, familyDoctor, DIAGNOSIS, READ_APPEND, YEAR);
        _expectUnauthorized(familyDoctor, PRESCRIPTIONS);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ, YEAR);
        _expectUnauthorized(familyDoctor, DIAGNOSIS);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        _anchor(familyDoctor, patient, _anchorOf(2, DIAGNOSIS));
        vm.prank(familyDoctor);
        residents.terminateAgreement(patient);
        _expectUnauthorized(familyDoctor, DIAGNOSIS);
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        vm.warp(block.timestamp + YEAR);
        _expectUnauthorized(familyDoctor, DIAGNOSIS);
        _appointGuardian(patient, guardian, G_READ, uint64(block.timestamp + YEAR), false);
        _expectUnauthorized(guardian, DIAGNOSIS);
        // The patient's own anchors need no agreement.
        _anchor(patient, patient, _anchorOf(3, DIAGNOSIS));
        assertEq(_length(patient), 2);
    }

    function _expectUnauthorized(address author, uint32 sections) internal {
        bytes24 head = _head(patient);
        vm.prank(author);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUnauthorized.selector, patient, author, sections
            )
        );
        records.anchor(patient, head, _anchorOf(uint256(uint160(author)) + sections, sections));
    }

    function test_anchor_reverts_whenCardLocked() public {
        vm.prank(patient);
        residents.requestDeletion(0);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryCardLocked.selector, patient));
        records.anchor(patient, bytes24(0), _anchorOf(1, DIAGNOSIS));
    }

    function test_anchorBatch_appendsAll() public {
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](3);
        bytes24 head = bytes24(0);
        for (uint256 i = 0; i < 3; ++i) {
            batch[i] = _anchorOf(i, DIAGNOSIS);
            head = _next(
                head,
                _leaf(_recordId(patient, familyDoctor, batch[i]), 0, DIAGNOSIS, 0, uint64(block.timestamp))
            );
        }
        vm.prank(familyDoctor);
        records.anchorBatch(patient, bytes24(0), batch);
        assertEq(bytes32(_head(patient)), bytes32(head));
        assertEq(_length(patient), 3);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryAlreadyAnchored.selector,
                _recordId(patient, familyDoctor, batch[0])
            )
        );
        records.anchorBatch(patient, bytes24(0), batch);
    }

    function test_anchorBatch_reverts_whenEmptyUpdateOrLocked() public {
        IRecordRegistry.Anchor[] memory empty = new IRecordRegistry.Anchor[](0);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryEmptyBatch.selector));
        records.anchorBatch(patient, 0, empty);
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](1);
        batch[0] = _anchorOf(1, DIAGNOSIS);
        batch[0].previous = keccak256("p");
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector,
                _recordId(patient, familyDoctor, batch[0]),
                batch[0].previous
            )
        );
        records.anchorBatch(patient, 0, batch);
        batch[0].previous = 0;
        vm.prank(otherPatient);
        residents.requestDeletion(0);
        vm.prank(otherPatient);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryCardLocked.selector, otherPatient)
        );
        records.anchorBatch(otherPatient, 0, batch);
    }

    // ----- updates -----

    function _update(bytes32 previous, uint256 seed) internal pure returns (IRecordRegistry.Anchor memory a) {
        a = _anchorOf(seed, DIAGNOSIS);
        a.previous = previous;
    }

    function _updateNonce(bytes32 previous) internal view returns (uint256) {
        return records.nonces(patient, _key(D_UPDATE, previous));
    }

    function test_anchorUpdate_withSignature() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint256 nonce = _updateNonce(previous);
        bytes memory sig = _recordUpdateSig(PATIENT_PK, patient, familyDoctor, u, nonce, block.timestamp);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, nonce, block.timestamp, sig);
        assertEq(_length(patient), 2);
    }

    /// @dev Attack: an update signature used by another author, with another codec, or after its deadline.
    function test_anchorUpdate_reverts_whenOtherAuthorCodecOrLate() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        _grant(patient, hospitalDoctor, DIAGNOSIS, APPEND, uint64(block.timestamp + 30 days));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint256 nonce = _updateNonce(previous);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _recordUpdateSig(PATIENT_PK, patient, familyDoctor, u, nonce, deadline);
        bytes24 head = _head(patient);
        vm.prank(hospitalDoctor);
        vm.expectPartialRevert(ISignedMessages.SignedMessagesInvalidSigner.selector);
        records.anchorUpdate(patient, head, u, nonce, deadline, sig);
        IRecordRegistry.Anchor memory otherCodec = _update(previous, 2);
        otherCodec.cidCodec = DAG_PB;
        vm.prank(familyDoctor);
        vm.expectPartialRevert(ISignedMessages.SignedMessagesInvalidSigner.selector);
        records.anchorUpdate(patient, head, otherCodec, nonce, deadline, sig);
        vm.warp(deadline + 1);
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, deadline));
        records.anchorUpdate(patient, head, u, nonce, deadline, sig);
    }

    function test_anchorUpdate_reverts_whenNoPreviousOrNotApproved() public {
        IRecordRegistry.Anchor memory u = _anchorOf(2, DIAGNOSIS);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryInvalidPrevious.selector,
                _recordId(patient, familyDoctor, u),
                bytes32(0)
            )
        );
        records.anchorUpdate(patient, 0, u, 0, 0, "");
        u.previous = keccak256("p");
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateNotApproved.selector,
                patient,
                _recordId(patient, familyDoctor, u)
            )
        );
        records.anchorUpdate(patient, 0, u, 0, 0, "");
    }

    function test_anchorUpdate_byRecordsGuardianSignature() public {
        _appointGuardian(patient, guardian, G_RECORDS, uint64(block.timestamp + YEAR), false);
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint256 nonce = _updateNonce(previous);
        bytes memory sig = _recordUpdateSig(GUARDIAN_PK, patient, familyDoctor, u, nonce, block.timestamp);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, nonce, block.timestamp, sig);
        assertEq(_length(patient), 2);
    }

    function test_approveUpdate_usedOnce_boundToAuthorCodecSectionsAndDeadline() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint64 deadline = uint64(block.timestamp + 1 days);
        bytes32 id = _recordId(patient, familyDoctor, u);
        vm.expectEmit(address(records));
        emit IRecordRegistry.UpdateApproved(patient, id, previous, DIAGNOSIS, OUTPATIENT, deadline);
        vm.prank(patient);
        records.approveUpdate(familyDoctor, u, deadline);
        assertEq(records.approvalOf(patient, id, previous).deadline, deadline);
        _grant(patient, hospitalDoctor, ALL_SECTIONS, APPEND, uint64(block.timestamp + 30 days));
        bytes24 head = _head(patient);
        // Another author: another record id, not approved.
        vm.prank(hospitalDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateNotApproved.selector,
                patient,
                _recordId(patient, hospitalDoctor, u)
            )
        );
        records.anchorUpdate(patient, head, u, 0, 0, "");
        // Another codec: another record id.
        IRecordRegistry.Anchor memory v = _update(previous, 2); // a copy (memory structs alias)
        v.cidCodec = DAG_PB;
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryUpdateNotApproved.selector,
                patient,
                _recordId(patient, familyDoctor, v)
            )
        );
        records.anchorUpdate(patient, head, v, 0, 0, "");
        // Other sections: same id, but not what was approved.
        v = _update(previous, 2);
        v.sections = ALL_SECTIONS;
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryUpdateNotApproved.selector, patient, id)
        );
        records.anchorUpdate(patient, head, v, 0, 0, "");
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, 0, 0, "");
        head = _head(patient);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryUpdateNotApproved.selector, patient, id)
        );
        records.anchorUpdate(patient, head, u, 0, 0, "");
    }

    function test_approveUpdate_reverts_afterDeadline() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.prank(patient);
        records.approveUpdate(familyDoctor, u, deadline);
        vm.warp(deadline + 1);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryApprovalExpired.selector,
                patient,
                _recordId(patient, familyDoctor, u),
                deadline
            )
        );
        records.anchorUpdate(patient, head, u, 0, 0, "");
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidDeadline.selector, deadline)
        );
        records.approveUpdate(familyDoctor, u, deadline);
    }

    function test_approveUpdateWithSig_storesMessageDeadline() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint256 nonce = _updateNonce(previous);
        uint256 deadline = block.timestamp + 2 days;
        bytes memory sig = _recordUpdateSig(PATIENT_PK, patient, familyDoctor, u, nonce, deadline);
        vm.prank(stranger);
        records.approveUpdateWithSig(patient, familyDoctor, u, nonce, deadline, sig);
        IRecordRegistry.Approval memory ap =
            records.approvalOf(patient, _recordId(patient, familyDoctor, u), previous);
        assertEq(ap.deadline, deadline);
        assertEq(ap.sections, DIAGNOSIS);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        records.anchorUpdate(patient, head, u, 0, 0, "");
    }

    /// @dev Withdrawing deletes the stored approval and kills any outstanding signature for that previous record.
    function test_withdrawApproval_killsApprovalAndSignature() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        bytes32 id = _recordId(patient, familyDoctor, u);
        vm.prank(patient);
        records.approveUpdate(familyDoctor, u, uint64(block.timestamp + 1 days));
        uint256 nonce = _updateNonce(previous);
        bytes memory sig = _recordUpdateSig(PATIENT_PK, patient, familyDoctor, u, nonce, block.timestamp);
        vm.expectEmit(address(records));
        emit IRecordRegistry.UpdateRefused(patient, id, previous);
        vm.prank(patient);
        records.withdrawApproval(previous, id);
        assertEq(records.approvalOf(patient, id, previous).deadline, 0);
        bytes24 head = _head(patient);
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryUpdateNotApproved.selector, patient, id)
        );
        records.anchorUpdate(patient, head, u, 0, 0, "");
        vm.prank(familyDoctor);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, nonce + 1));
        records.anchorUpdate(patient, head, u, nonce, block.timestamp, sig);
    }

    function test_refuseUpdateWithSig_byPatient() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        bytes32 id = _recordId(patient, familyDoctor, u);
        vm.prank(patient);
        records.approveUpdate(familyDoctor, u, uint64(block.timestamp + 1 days));
        uint256 nonce = _updateNonce(previous);
        bytes32 structHash =
            keccak256(abi.encode(UPDATE_REFUSAL_TYPEHASH, patient, previous, id, nonce, block.timestamp));
        bytes memory sig = _sign(PATIENT_PK, RECORDS_NAME, address(records), structHash);
        vm.prank(stranger);
        records.refuseUpdateWithSig(patient, previous, id, nonce, block.timestamp, sig);
        assertEq(records.approvalOf(patient, id, previous).deadline, 0);
        assertEq(_updateNonce(previous), nonce + 1);
    }

    /// @dev #10 item 8: a consent and an update approval (and a key release) outstanding together; any order.
    function test_signatures_consentUpdateAndRelease_eitherOrder() public {
        bytes32 previous = _anchor(familyDoctor, patient, _anchorOf(1, DIAGNOSIS));
        IRecordRegistry.Anchor memory u = _update(previous, 2);
        uint256 updateNonce = _updateNonce(previous);
        bytes memory updateSig =
            _recordUpdateSig(PATIENT_PK, patient, familyDoctor, u, updateNonce, block.timestamp);
        ConsentMsg memory m = _consentMsg(patient, hospitalDoctor);
        bytes memory consentSig = _signConsent(PATIENT_PK, m);
        uint256 releaseNonce = records.nonces(patient, _key(D_KEY_RELEASE, hospitalDoctor));
        bytes memory releaseSig = _keyReleaseSig(
            PATIENT_PK, patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, releaseNonce, block.timestamp
        );
        // Update approval first, then the consent, then the release (which needs the consent).
        vm.prank(stranger);
        records.approveUpdateWithSig(patient, familyDoctor, u, updateNonce, block.timestamp, updateSig);
        _grantWithSig(m, consentSig);
        records.releaseKeysWithSig(
            patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, releaseNonce, block.timestamp, releaseSig
        );
        // The other order on the other patient.
        _agree(otherPatient, familyDoctor, ALL_SECTIONS, READ_APPEND, YEAR);
        bytes32 otherPrevious = _anchor(familyDoctor, otherPatient, _anchorOf(3, DIAGNOSIS));
        IRecordRegistry.Anchor memory w = _update(otherPrevious, 4);
        uint256 n2 = records.nonces(otherPatient, _key(D_UPDATE, otherPrevious));
        bytes memory sig2 =
            _recordUpdateSig(OTHER_PATIENT_PK, otherPatient, familyDoctor, w, n2, block.timestamp);
        ConsentMsg memory m2 = _consentMsg(otherPatient, hospitalDoctor);
        _grantWithSig(m2, _signConsent(OTHER_PATIENT_PK, m2));
        bytes24 head = _head(otherPatient);
        vm.prank(familyDoctor);
        records.anchorUpdate(otherPatient, head, w, n2, block.timestamp, sig2);
        assertEq(_length(otherPatient), 2);
    }

    // ----- key releases -----

    function test_releaseKeys_byPatient_andByAuthorizedReader() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        vm.expectEmit(address(records));
        emit IRecordRegistry.KeysReleased(patient, hospitalDoctor, patient, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(patient);
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS);
        // The family doctor (itself a reader) shares what the consent already entitles the grantee to.
        vm.expectEmit(address(records));
        emit IRecordRegistry.KeysReleased(patient, hospitalDoctor, familyDoctor, BUNDLE, DAG_PB, DIAGNOSIS);
        vm.prank(familyDoctor);
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, DAG_PB, DIAGNOSIS);
    }

    /// @dev Attack: a key release by a stranger, and one to an unauthorized grantee.
    function test_releaseKeys_reverts_whenStrangerOrUnauthorizedGrantee() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryReleaserUnauthorized.selector, patient, stranger, DIAGNOSIS
            )
        );
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryGranteeUnauthorized.selector, patient, insurerStaff, DIAGNOSIS
            )
        );
        records.releaseKeys(patient, insurerStaff, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryGranteeUnauthorized.selector,
                patient,
                hospitalDoctor,
                ALL_SECTIONS
            )
        );
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, RAW, ALL_SECTIONS);
    }

    function test_releaseKeys_reverts_whenInvalidOrLocked() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidSections.selector, 0));
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, RAW, 0);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidCodec.selector, 0));
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, 0, DIAGNOSIS);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryInvalidBundle.selector, bytes32(0))
        );
        records.releaseKeys(patient, hospitalDoctor, 0, RAW, DIAGNOSIS);
        residents.requestDeletion(0);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryCardLocked.selector, patient));
        records.releaseKeys(patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS);
        vm.stopPrank();
    }

    function test_releaseKeysWithSig_namesPatient_andSignsCodec() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        uint256 nonce = records.nonces(patient, _key(D_KEY_RELEASE, hospitalDoctor));
        bytes memory sig = _keyReleaseSig(
            PATIENT_PK, patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, nonce, block.timestamp
        );
        vm.prank(stranger);
        vm.expectPartialRevert(ISignedMessages.SignedMessagesInvalidSigner.selector);
        records.releaseKeysWithSig(
            patient, hospitalDoctor, BUNDLE, DAG_PB, DIAGNOSIS, nonce, block.timestamp, sig
        );
        vm.expectEmit(address(records));
        emit IRecordRegistry.KeysReleased(patient, hospitalDoctor, patient, BUNDLE, RAW, DIAGNOSIS);
        vm.prank(stranger);
        records.releaseKeysWithSig(
            patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, nonce, block.timestamp, sig
        );
    }

    function test_releaseKeysWithSig_byConsentGuardian() public {
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ, uint64(block.timestamp + 30 days));
        _appointGuardian(patient, guardian, G_CONSENT, uint64(block.timestamp + YEAR), false);
        uint256 nonce = records.nonces(patient, _key(D_KEY_RELEASE, hospitalDoctor));
        bytes memory sig = _keyReleaseSig(
            GUARDIAN_PK, patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, nonce, block.timestamp
        );
        vm.expectEmit(address(records));
        emit ISignedMessages.GuardianActed(patient, guardian, G_CONSENT);
        records.releaseKeysWithSig(
            patient, hospitalDoctor, BUNDLE, RAW, DIAGNOSIS, nonce, block.timestamp, sig
        );
    }

    // ----- erasure -----

    function test_erase_succeeds_afterRequestAndRetention() public {
        _build(5, OUTPATIENT);
        vm.prank(patient);
        residents.requestDeletion(ids[1]);
        vm.warp(times[1] + OUTPATIENT_RETENTION);
        vm.expectEmit(address(records));
        emit IRecordRegistry.RecordErased(patient, ids[1], stranger);
        vm.prank(stranger);
        records.erase(patient, _proofOf(1));
        assertTrue(records.isErased(ids[1]));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordRegistryAlreadyErased.selector, ids[1]));
        records.erase(patient, _proofOf(1));
    }

    function test_erase_reverts_beforeRetention() public {
        _build(3, OUTPATIENT);
        vm.prank(patient);
        residents.requestDeletion(0);
        uint64 endsAt = times[0] + OUTPATIENT_RETENTION;
        vm.warp(endsAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryRetentionNotOver.selector, ids[0], endsAt)
        );
        records.erase(patient, _proofOf(0));
        vm.warp(endsAt);
        records.erase(patient, _proofOf(0)); // the whole-card request covers it
    }

    function test_erase_reverts_withoutRequest() public {
        _build(2, OUTPATIENT);
        vm.prank(patient);
        residents.requestDeletion(ids[1]);
        vm.warp(block.timestamp + OUTPATIENT_RETENTION);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryNoDeletionRequest.selector, patient, ids[0])
        );
        records.erase(patient, _proofOf(0));
    }

    /// @dev Attack: a forged proof (wrong anchoredAt to dodge retention, wrong kind, a dropped leaf, a record of
    /// another card).
    function test_erase_reverts_withForgedProof() public {
        _build(3, OUTPATIENT);
        vm.prank(patient);
        residents.requestDeletion(0);
        IRecordRegistry.ErasureProof memory p = _proofOf(1);
        p.anchoredAt -= 1;
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, patient, ids[1])
        );
        records.erase(patient, p);
        p = _proofOf(1);
        p.kind = INPATIENT;
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, patient, ids[1])
        );
        records.erase(patient, p);
        p = _proofOf(0);
        bytes32[] memory shorter = new bytes32[](1);
        shorter[0] = p.laterLeaves[0];
        p.laterLeaves = shorter;
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, patient, ids[0])
        );
        records.erase(patient, p);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, otherPatient, ids[1])
        );
        records.erase(otherPatient, _proofOf(1));
    }

    function test_erase_inpatient_usesLongerRetention() public {
        _build(1, INPATIENT);
        vm.prank(patient);
        residents.requestDeletion(0);
        IRecordRegistry.ErasureProof memory p = _proofOf(0);
        p.kind = INPATIENT;
        vm.warp(times[0] + OUTPATIENT_RETENTION);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordRegistryRetentionNotOver.selector,
                ids[0],
                times[0] + INPATIENT_RETENTION
            )
        );
        records.erase(patient, p);
        assertEq(records.retention(INPATIENT), INPATIENT_RETENTION);
        assertEq(records.retention(OUTPATIENT), OUTPATIENT_RETENTION);
    }

    /// @dev Fuzz: for any card length and position the honest proof erases, and any tampered leaf does not.
    function testFuzz_erase_proofs(uint256 n, uint256 index, uint256 tamper) public {
        n = bound(n, 1, 12);
        index = bound(index, 0, n - 1);
        _build(n, OUTPATIENT);
        vm.prank(patient);
        residents.requestDeletion(0);
        vm.warp(block.timestamp + OUTPATIENT_RETENTION);
        IRecordRegistry.ErasureProof memory p = _proofOf(index);
        if (p.laterLeaves.length > 0) {
            IRecordRegistry.ErasureProof memory bad = _proofOf(index);
            bad.laterLeaves[bound(tamper, 0, bad.laterLeaves.length - 1)] ^= bytes32(uint256(1));
            vm.expectRevert(
                abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, patient, ids[index])
            );
            records.erase(patient, bad);
        }
        IRecordRegistry.ErasureProof memory wrongIndex = _proofOf(index);
        wrongIndex.index += 1;
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordRegistryBadProof.selector, patient, ids[index])
        );
        records.erase(patient, wrongIndex);
        records.erase(patient, p);
        assertTrue(records.isErased(ids[index]));
    }
}
