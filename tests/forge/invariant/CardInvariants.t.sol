// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";
import {Vm} from "../utils/Vm.sol";
import {IRecordRegistry} from "../../../contracts/interfaces/IRecordRegistry.sol";

/// @notice Drives RecordRegistry with authorized and unauthorized authors, fresh and stale heads, retries,
/// batches and updates, and replays every `RecordAnchored` event into a ghost card.
contract CardHandler is Fixture {
    bytes32 internal constant RECORD_ANCHORED =
        keccak256("RecordAnchored(address,bytes32,address,bytes32,bytes32,uint32,uint8,uint64,bytes24)");

    bytes24 public ghostHead;
    uint64 public ghostLength;
    bool public lengthDecreased;
    bool public headMovedWithoutEvent;
    bool public eventMismatch;
    bool public duplicateAccepted;
    uint256 internal _seed;
    IRecordRegistry.Anchor internal _last;
    bytes24 internal _headBeforeLast;

    constructor() {
        setUp();
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, 100 * YEAR);
        _grant(patient, hospitalDoctor, DIAGNOSIS, READ_APPEND, uint64(START + 100 * YEAR));
    }

    function registry() external view returns (IRecordRegistry) {
        return records;
    }

    function cardOwner() external view returns (address) {
        return patient;
    }

    function _author(uint256 who) internal view returns (address) {
        address[4] memory authors = [familyDoctor, hospitalDoctor, stranger, patient];
        return authors[bound(who, 0, 3)];
    }

    function anchor(uint256 who, uint8 sections, bool stale) external {
        IRecordRegistry.Anchor memory a = _anchorOf(++_seed, uint32(bound(sections, 1, ALL_SECTIONS)));
        bytes24 expected = stale ? bytes24(keccak256(abi.encode(_seed))) : _head(patient);
        bool ok = _run(_author(who), abi.encodeCall(IRecordRegistry.anchor, (patient, expected, a)));
        if (ok) (_last, _headBeforeLast) = (a, expected);
    }

    function anchorBatch(uint256 who, uint8 n) external {
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](bound(n, 1, 8));
        for (uint256 i = 0; i < batch.length; ++i) {
            batch[i] = _anchorOf(++_seed, i % 2 == 0 ? DIAGNOSIS : ALL_SECTIONS);
        }
        _run(_author(who), abi.encodeCall(IRecordRegistry.anchorBatch, (patient, _head(patient), batch)));
    }

    /// @dev Replays the last anchored record with the head it was made against: it must never append twice.
    function retryLast() external {
        if (_last.recordId == 0) return;
        if (_run(familyDoctor, abi.encodeCall(IRecordRegistry.anchor, (patient, _headBeforeLast, _last)))) {
            duplicateAccepted = true;
        }
    }

    function anchorUpdate(uint256 who, bool approved) external {
        if (_last.recordId == 0) return;
        IRecordRegistry.Anchor memory u = _anchorOf(++_seed, _last.sections);
        u.previous = _last.recordId;
        if (approved) {
            vm.prank(patient);
            records.approveUpdate(u.recordId, u.previous, u.cidDigest, u.sections);
        }
        _run(
            _author(who), abi.encodeCall(IRecordRegistry.anchorUpdate, (patient, _head(patient), u, 0, 0, ""))
        );
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 30 days));
    }

    function _run(address author, bytes memory call) internal returns (bool ok) {
        bytes24 before = _head(patient);
        uint64 length = _length(patient);
        vm.recordLogs();
        vm.prank(author);
        (ok,) = address(records).call(call);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!ok) logs = new Vm.Log[](0);
        _sync(logs, before, length);
    }

    /// @dev Folds this call's `RecordAnchored` events into the ghost card and checks the stored card follows.
    function _sync(Vm.Log[] memory logs, bytes24 before, uint64 length) internal {
        uint256 events;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(records) || logs[i].topics[0] != RECORD_ANCHORED) continue;
            ++events;
            (bytes32 previous, bytes32 cidDigest, uint32 sections, uint8 codec, uint64 index, bytes24 head) =
                abi.decode(logs[i].data, (bytes32, bytes32, uint32, uint8, uint64, bytes24));
            address author = address(uint160(uint256(logs[i].topics[3])));
            bytes32 leaf =
                keccak256(abi.encode(logs[i].topics[2], previous, cidDigest, sections, codec, author));
            ghostHead = _next(ghostHead, leaf);
            if (index != ghostLength || head != ghostHead) eventMismatch = true;
            ++ghostLength;
        }
        (bytes24 headNow, uint64 lengthNow) = records.card(patient);
        if (lengthNow < length) lengthDecreased = true;
        if (events == 0 && (headNow != before || lengthNow != length)) headMovedWithoutEvent = true;
    }
}

contract CardInvariantTest is Test {
    CardHandler internal handler;
    IRecordRegistry internal records;

    function setUp() public {
        handler = new CardHandler();
        records = handler.registry();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = CardHandler.anchor.selector;
        selectors[1] = CardHandler.anchorBatch.selector;
        selectors[2] = CardHandler.retryLast.selector;
        selectors[3] = CardHandler.anchorUpdate.selector;
        selectors[4] = CardHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev The card is append-only: its length never decreases, its head moves only with `RecordAnchored`
    /// events, and replaying those events reaches the stored head and length.
    function invariant_cardIsAppendOnly() public view {
        assertFalse(handler.lengthDecreased(), "card length decreased");
        assertFalse(handler.headMovedWithoutEvent(), "head moved without RecordAnchored");
        assertFalse(handler.eventMismatch(), "event index/head disagree with replay");
        assertFalse(handler.duplicateAccepted(), "a record was anchored twice");
        (bytes24 head, uint64 length) = records.card(handler.cardOwner());
        assertEq(bytes32(head), bytes32(handler.ghostHead()), "stored head != replayed head");
        assertEq(length, handler.ghostLength(), "stored length != replayed length");
    }
}
