// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "../utils/Test.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {IConsortium} from "../../../contracts/interfaces/IConsortium.sol";

/// @notice One founding member acting alone, with every governance call in any order and at any time.
contract LoneMemberHandler is Test {
    Consortium public consortium;
    address public lone;
    address[] public founders;
    address[] internal _targets;

    constructor() {
        founders.push(address(0xF1));
        founders.push(address(0xF2));
        founders.push(address(0xF3));
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](3);
        kinds[0] = IConsortium.InstitutionKind.PrimaryCare;
        kinds[1] = IConsortium.InstitutionKind.Hospital;
        kinds[2] = IConsortium.InstitutionKind.Insurer;
        consortium = new Consortium(founders, kinds, 0, 7 days);
        lone = founders[0];
        _targets.push(founders[0]);
        _targets.push(founders[1]);
        _targets.push(founders[2]);
        _targets.push(address(0xBAD)); // a sybil the lone member would like to admit
    }

    function founderCount() external view returns (uint256) {
        return founders.length;
    }

    function propose(uint8 action, uint256 target, uint8 kind, uint16 bps) external {
        vm.prank(lone);
        try consortium.propose(
            IConsortium.ProposalAction(bound(action, 0, 4)),
            _targets[bound(target, 0, 3)],
            IConsortium.InstitutionKind(bound(kind, 0, 5)),
            uint16(bound(bps, 5001, 10_000))
        ) {}
            catch {}
    }

    function vote(uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        vm.prank(lone);
        try consortium.vote(bound(id, 1, count)) {} catch {}
    }

    /// @dev The sybil (not a member) tries to vote too.
    function sybilVote(uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        vm.prank(address(0xBAD));
        try consortium.vote(bound(id, 1, count)) {} catch {}
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 10 days));
    }
}

contract ConsortiumInvariantTest is Test {
    LoneMemberHandler internal handler;
    Consortium internal consortium;

    function setUp() public {
        handler = new LoneMemberHandler();
        consortium = handler.consortium();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](4);
        selectors[0] = LoneMemberHandler.propose.selector;
        selectors[1] = LoneMemberHandler.vote.selector;
        selectors[2] = LoneMemberHandler.sybilVote.selector;
        selectors[3] = LoneMemberHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev After bootstrap no single member changes membership or the threshold.
    function invariant_loneMemberChangesNothing() public view {
        assertEq(consortium.activeMemberCount(), 3, "active count");
        assertEq(consortium.thresholdBps(), 5001, "threshold");
        for (uint256 i = 0; i < handler.founderCount(); ++i) {
            assertTrue(consortium.isActiveMember(handler.founders(i)), "founder lost membership");
        }
        (, IConsortium.MemberStatus status) = consortium.member(address(0xBAD));
        assertTrue(status == IConsortium.MemberStatus.None, "sybil admitted");
    }
}
