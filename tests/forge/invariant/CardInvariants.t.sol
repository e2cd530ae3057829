// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";
import {Vm} from "../utils/Vm.sol";
import {IRecordRegistry} from "../../../contracts/interfaces/IRecordRegistry.sol";

/// @notice Authors, grantees, patients and strangers anchoring on registered and unregistered cards with a small pool
/// of salts and contents (so collisions are tried), single and batched. Every `RecordAnchored` event is replayed into
/// a ghost copy of each card.
contract CardHandler is Fixture {
    bytes32 internal constant ANCHORED = keccak256(
        "RecordAnchored(address,bytes32,address,bytes32,bytes32,bytes32,uint32,uint8,uint8,uint64,uint64,bytes24)"
    );

    address[] public cards;
    address[] internal authors;
    mapping(bytes32 recordId => address patient) public cardOf;
    mapping(address patient => bytes24) public ghostHead;
    mapping(address patient => uint64) public ghostLength;
    bool public idOnTwoCards;
    bool public unregisteredCardGrew;
    bool public eventsInconsistent;
    uint256 public anchored;

    constructor() {
        setUp();
        _agree(patient, familyDoctor, ALL_SECTIONS, READ_APPEND, 10 * YEAR);
        _agree(otherPatient, familyDoctor, ALL_SECTIONS, READ_APPEND, 10 * YEAR);
        _grant(patient, hospitalDoctor, DIAGNOSIS, APPEND, uint64(block.timestamp + 10 * YEAR));
        _grant(otherPatient, hospitalDoctor, DIAGNOSIS, APPEND, uint64(block.timestamp + 10 * YEAR));
        cards.push(patient);
        cards.push(otherPatient);
        cards.push(stranger); // never registered
        authors.push(familyDoctor);
        authors.push(hospitalDoctor);
        authors.push(patient);
        authors.push(stranger);
    }

    function recordsCard(address p) external view returns (bytes24 head, uint64 length) {
        return records.card(p);
    }

    function cardCount() external view returns (uint256) {
        return cards.length;
    }

    function _anchorFrom(uint256 salt, uint256 content, bool dagPb, bool diagnosisOnly)
        internal
        pure
        returns (IRecordRegistry.Anchor memory a)
    {
        a = _anchorOf(0, diagnosisOnly ? DIAGNOSIS : ALL_SECTIONS);
        a.salt = keccak256(abi.encode("salt", salt % 3));
        a.cidDigest = keccak256(abi.encode("cid", content % 3));
        a.cidCodec = dagPb ? DAG_PB : RAW;
    }

    function anchor(uint256 ci, uint256 ai, uint256 salt, uint256 content, bool dagPb, bool diagnosisOnly)
        external
    {
        address card = cards[bound(ci, 0, cards.length - 1)];
        address author = authors[bound(ai, 0, authors.length - 1)];
        IRecordRegistry.Anchor memory a = _anchorFrom(salt, content, dagPb, diagnosisOnly);
        bytes24 head = _head(card);
        vm.recordLogs();
        vm.prank(author);
        try records.anchor(card, head, a) {
            _replay();
        } catch {}
    }

    function anchorBatch(uint256 ci, uint256 ai, uint256 salt, uint256 content, uint8 n) external {
        address card = cards[bound(ci, 0, cards.length - 1)];
        address author = authors[bound(ai, 0, authors.length - 1)];
        IRecordRegistry.Anchor[] memory batch = new IRecordRegistry.Anchor[](bound(n, 1, 4));
        for (uint256 i = 0; i < batch.length; ++i) {
            batch[i] = _anchorFrom(salt % 3 + i, content % 3 + 2 * i, i % 2 == 0, true);
        }
        bytes24 head = _head(card);
        vm.recordLogs();
        vm.prank(author);
        try records.anchorBatch(card, head, batch) {
            _replay();
        } catch {}
    }

    function warp(uint16 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 1 days));
    }

    /// @dev Folds every `RecordAnchored` event of the last call into the ghost cards.
    function _replay() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(records) || logs[i].topics[0] != ANCHORED) continue;
            address card = address(uint160(uint256(logs[i].topics[1])));
            bytes32 recordId = logs[i].topics[2];
            (
                bytes32 previous,,,
                uint32 sections,,
                uint8 kind,
                uint64 anchoredAt,
                uint64 index,
                bytes24 head
            ) = abi.decode(
                logs[i].data, (bytes32, bytes32, bytes32, uint32, uint8, uint8, uint64, uint64, bytes24)
            );
            address seen = cardOf[recordId];
            if (seen != address(0) && seen != card) idOnTwoCards = true;
            cardOf[recordId] = card;
            if (!residents.isRegistered(card)) unregisteredCardGrew = true;
            if (index != ghostLength[card]) eventsInconsistent = true;
            ghostHead[card] = _next(ghostHead[card], _leaf(recordId, previous, sections, kind, anchoredAt));
            if (ghostHead[card] != head) eventsInconsistent = true;
            ++ghostLength[card];
            ++anchored;
        }
    }
}

contract CardInvariantTest is Test {
    CardHandler internal handler;

    function setUp() public {
        handler = new CardHandler();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](3);
        selectors[0] = CardHandler.anchor.selector;
        selectors[1] = CardHandler.anchorBatch.selector;
        selectors[2] = CardHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev No record id appears on two cards.
    function invariant_noRecordIdOnTwoCards() public view {
        assertFalse(handler.idOnTwoCards(), "a record id appeared on two cards");
    }

    /// @dev Only registered residents have cards that grow.
    function invariant_unregisteredCardsStayEmpty() public view {
        assertFalse(handler.unregisteredCardGrew(), "an unregistered card grew");
    }

    /// @dev Replaying the events reaches each card's stored head and length, and every event's own index and head.
    function invariant_eventsReplayToTheCard() public view {
        assertFalse(handler.eventsInconsistent(), "an event's index or head differs from the replay");
        (bool ok,) = address(this).staticcall(abi.encodeWithSelector(this.checkCards.selector));
        assertTrue(ok, "events do not replay to the stored card");
    }

    function checkCards() external view {
        for (uint256 i = 0; i < handler.cardCount(); ++i) {
            address card = handler.cards(i);
            (bytes24 head, uint64 length) = CardHandlerView(address(handler)).recordsCard(card);
            require(head == handler.ghostHead(card) && length == handler.ghostLength(card), "card");
        }
    }
}

/// @dev The handler's registry, reached through the handler (the test holds no reference of its own).
interface CardHandlerView {
    function recordsCard(address patient) external view returns (bytes24 head, uint64 length);
}
