// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Test} from "../utils/Test.sol";
import {Consortium} from "../../../contracts/Consortium.sol";
import {IConsortium} from "../../../contracts/interfaces/IConsortium.sol";

/// @notice Five founders (and two outsiders) proposing, voting and executing every membership and threshold change
/// in any order and at any time. Before each vote or execution the handler recounts, from the member statuses at
/// that moment, the approvals of active members (the target excluded) and the requirement; a proposal that
/// executes in that call must have met it.
contract GovernanceHandler is Test {
    Consortium public consortium;
    address[] public accounts;
    bool public passedWithoutQuorum;
    uint256 public executions;

    constructor() {
        for (uint256 i = 0; i < 5; ++i) {
            accounts.push(address(uint160(0xF1 + i)));
        }
        accounts.push(address(0xBAD1));
        accounts.push(address(0xBAD2));
        address[] memory founders = new address[](5);
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](5);
        for (uint256 i = 0; i < 5; ++i) {
            founders[i] = accounts[i];
            kinds[i] = IConsortium.InstitutionKind(1 + (i % 5));
        }
        consortium = new Consortium(founders, kinds, 0, 7 days);
    }

    function _status(address a) internal view returns (IConsortium.MemberStatus status) {
        (, status,,) = consortium.member(a);
    }

    /// @dev The handler's own count of what a proposal has now, with `extra` counted as a voter too.
    function _recount(uint256 id, address extra) internal view returns (uint256 approvals, uint256 required) {
        IConsortium.Proposal memory p = consortium.proposal(id);
        address target = p.action == IConsortium.ProposalAction.Suspend
            || p.action == IConsortium.ProposalAction.Remove
            ? p.institution
            : address(0);
        address[] memory list = consortium.voters(id);
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] != target && _status(list[i]) == IConsortium.MemberStatus.Active) ++approvals;
        }
        if (extra != address(0) && extra != target && _status(extra) == IConsortium.MemberStatus.Active) {
            ++approvals;
        }
        uint256 electorate = 0;
        for (uint256 i = 0; i < accounts.length; ++i) {
            if (accounts[i] != target && _status(accounts[i]) == IConsortium.MemberStatus.Active) {
                ++electorate;
            }
        }
        required = (electorate * consortium.thresholdBps() + 9999) / 10_000;
        if (required < 2) required = 2;
    }

    /// @dev Proposes a change that is valid for the target's status now (so that proposals can pass): admit an
    /// outsider or removed member, suspend or remove an active one, reinstate or remove a suspended one, or (one in
    /// five) change the threshold.
    function propose(uint256 by, uint8 action, uint256 target, uint8 kind, uint16 bps) external {
        address who = accounts[bound(target, 0, 6)];
        IConsortium.MemberStatus status = _status(who);
        IConsortium.ProposalAction a;
        if (action % 5 == 4) {
            a = IConsortium.ProposalAction.SetThreshold;
        } else if (status == IConsortium.MemberStatus.None || status == IConsortium.MemberStatus.Removed) {
            a = IConsortium.ProposalAction.Admit;
        } else if (status == IConsortium.MemberStatus.Active) {
            a = action % 2 == 0 ? IConsortium.ProposalAction.Suspend : IConsortium.ProposalAction.Remove;
        } else {
            a = action % 2 == 0 ? IConsortium.ProposalAction.Reinstate : IConsortium.ProposalAction.Remove;
        }
        vm.prank(by % 8 == 0 ? accounts[bound(by, 0, 6)] : _activeNonVoter(0, by));
        try consortium.propose(
            a,
            who,
            address(0),
            IConsortium.InstitutionKind(bound(kind, 1, 5)),
            IConsortium.Parameter.None,
            uint64(bound(bps, 5001, 10_000))
        ) {}
            catch {}
    }

    /// @dev Votes on one of the three latest proposals, so that proposals pass while others are pending.
    function vote(uint256 by, uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        id = count - bound(id, 0, count < 3 ? count - 1 : 2);
        // Mostly an active member that has not voted yet (so that proposals progress), sometimes anyone.
        address voter = by % 8 == 0 ? accounts[bound(by, 0, 6)] : _activeNonVoter(id, by);
        (uint256 approvals, uint256 required) = _recount(id, voter);
        bool before = consortium.proposal(id).executed;
        vm.prank(voter);
        try consortium.vote(id) {} catch {}
        _check(id, before, approvals, required);
    }

    function execute(uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        id = count - bound(id, 0, count < 3 ? count - 1 : 2);
        (uint256 approvals, uint256 required) = _recount(id, address(0));
        bool before = consortium.proposal(id).executed;
        try consortium.execute(id) {} catch {}
        _check(id, before, approvals, required);
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 3 days));
    }

    /// @dev The first account from `start` on that is an active member and has not voted on `id`.
    function _activeNonVoter(uint256 id, uint256 start) internal view returns (address) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            address a = accounts[(start % accounts.length + i) % accounts.length];
            if (_status(a) == IConsortium.MemberStatus.Active && !consortium.hasVoted(id, a)) return a;
        }
        return accounts[start % accounts.length];
    }

    function _check(uint256 id, bool before, uint256 approvals, uint256 required) internal {
        if (!before && consortium.proposal(id).executed) {
            ++executions;
            if (approvals < required) passedWithoutQuorum = true;
        }
    }
}

/// @notice Two colluding members of five (below the 5001 threshold: three approvals needed) acting alone.
contract CollusionHandler is Test {
    Consortium public consortium;
    address[] public founders;
    address[] internal _colluders;
    address[] internal _targets;

    constructor() {
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](5);
        for (uint256 i = 0; i < 5; ++i) {
            founders.push(address(uint160(0xF1 + i)));
            kinds[i] = IConsortium.InstitutionKind.Hospital;
        }
        consortium = new Consortium(founders, kinds, 0, 7 days);
        _colluders.push(founders[0]);
        _colluders.push(founders[1]);
        for (uint256 i = 0; i < 5; ++i) {
            _targets.push(founders[i]);
        }
        _targets.push(address(0xBAD)); // a sybil they would like to admit
    }

    function founderCount() external view returns (uint256) {
        return founders.length;
    }

    function propose(uint256 by, uint8 action, uint256 target, uint8 parameter, uint64 value) external {
        vm.prank(_colluders[bound(by, 0, 1)]);
        try consortium.propose(
            IConsortium.ProposalAction(bound(action, 0, 8)),
            _targets[bound(target, 0, 5)],
            address(0xC41D),
            IConsortium.InstitutionKind.Hospital,
            IConsortium.Parameter(bound(parameter, 0, 4)),
            value
        ) {}
            catch {}
    }

    function vote(uint256 by, uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        vm.prank(_colluders[bound(by, 0, 1)]);
        try consortium.vote(bound(id, 1, count)) {} catch {}
    }

    function execute(uint256 id) external {
        uint256 count = consortium.proposalCount();
        if (count == 0) return;
        try consortium.execute(bound(id, 1, count)) {} catch {}
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 10 days));
    }
}

contract ConsortiumInvariantTest is Test {
    GovernanceHandler internal governance;

    function setUp() public {
        governance = new GovernanceHandler();
        targetContract(address(governance));
        bytes4[] memory g = new bytes4[](4);
        g[0] = GovernanceHandler.propose.selector;
        g[1] = GovernanceHandler.vote.selector;
        g[2] = GovernanceHandler.execute.selector;
        g[3] = GovernanceHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(governance), selectors: g}));
    }

    /// @dev A passed proposal had the required approvals of members active when it executed.
    function invariant_passedProposalsHadActiveQuorum() public view {
        assertFalse(
            governance.passedWithoutQuorum(), "a proposal passed without the approvals of active members"
        );
    }

    /// @dev Never fewer than two active members.
    function invariant_atLeastTwoActiveMembers() public view {
        assertGe(governance.consortium().activeMemberCount(), 2, "active members");
    }
}

contract CollusionInvariantTest is Test {
    CollusionHandler internal collusion;

    function setUp() public {
        collusion = new CollusionHandler();
        targetContract(address(collusion));
        bytes4[] memory c = new bytes4[](4);
        c[0] = CollusionHandler.propose.selector;
        c[1] = CollusionHandler.vote.selector;
        c[2] = CollusionHandler.execute.selector;
        c[3] = CollusionHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(collusion), selectors: c}));
    }

    /// @dev Colluding members below the threshold change nothing: membership, threshold, parameters, custodians.
    function invariant_collusionBelowThresholdChangesNothing() public view {
        Consortium c = collusion.consortium();
        assertEq(c.activeMemberCount(), 5, "active count");
        assertEq(c.thresholdBps(), 5001, "threshold");
        assertEq(c.parameter(IConsortium.Parameter.CustodianThreshold), 2, "custodian threshold");
        assertEq(c.custodians().length, 0, "custodians");
        for (uint256 i = 0; i < collusion.founderCount(); ++i) {
            assertTrue(c.isActiveMember(collusion.founders(i)), "founder lost membership");
        }
        (, IConsortium.MemberStatus status,,) = c.member(address(0xBAD));
        assertTrue(status == IConsortium.MemberStatus.None, "sybil admitted");
        for (uint256 id = 1; id <= c.proposalCount(); ++id) {
            assertFalse(c.proposal(id).executed, "a colluders' proposal executed");
        }
    }
}
