// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Consortium} from "../../contracts/Consortium.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";

contract ConsortiumTest is Fixture {
    address internal newcomer = address(0xA4);

    function _propose(address by, IConsortium.ProposalAction action, address institution)
        internal
        returns (uint256)
    {
        vm.prank(by);
        return consortium.propose(action, institution, IConsortium.InstitutionKind.Research, 0);
    }

    function _admitNewcomer() internal {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
    }

    // ----- constructor -----

    function test_constructor_succeeds_withFounders() public view {
        assertEq(consortium.activeMemberCount(), 3);
        assertEq(consortium.thresholdBps(), 5001);
        assertEq(consortium.votingPeriod(), VOTING_PERIOD);
        assertTrue(consortium.isActiveMember(pcAdmin));
        (IConsortium.InstitutionKind kind, IConsortium.MemberStatus status) = consortium.member(hospitalAdmin);
        assertTrue(kind == IConsortium.InstitutionKind.Hospital);
        assertTrue(status == IConsortium.MemberStatus.Active);
    }

    function _founders(uint256 n)
        internal
        pure
        returns (address[] memory f, IConsortium.InstitutionKind[] memory k)
    {
        f = new address[](n);
        k = new IConsortium.InstitutionKind[](n);
        for (uint256 i = 0; i < n; ++i) {
            f[i] = address(uint160(0x100 + i));
            k[i] = IConsortium.InstitutionKind.Hospital;
        }
    }

    function test_constructor_reverts_withOneFounder() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidFounders.selector, 1, 1));
        new Consortium(f, k, 0, VOTING_PERIOD);
    }

    function test_constructor_reverts_withLengthMismatch() public {
        (address[] memory f,) = _founders(2);
        (, IConsortium.InstitutionKind[] memory k) = _founders(3);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidFounders.selector, 2, 3));
        new Consortium(f, k, 0, VOTING_PERIOD);
    }

    function test_constructor_reverts_withMinorityThreshold() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(2);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, uint16(5000)));
        new Consortium(f, k, 5000, VOTING_PERIOD);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, uint16(10_001))
        );
        new Consortium(f, k, 10_001, VOTING_PERIOD);
    }

    function test_constructor_reverts_withZeroVotingPeriod() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(2);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidVotingPeriod.selector));
        new Consortium(f, k, 0, 0);
    }

    function test_constructor_reverts_withZeroFounder() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(2);
        f[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        new Consortium(f, k, 0, VOTING_PERIOD);
    }

    function test_constructor_reverts_withKindNone() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(2);
        k[0] = IConsortium.InstitutionKind.None;
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidKind.selector, IConsortium.InstitutionKind.None
            )
        );
        new Consortium(f, k, 0, VOTING_PERIOD);
    }

    function test_constructor_reverts_withDuplicateFounder() public {
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(2);
        f[1] = f[0];
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumDuplicateFounder.selector, f[0]));
        new Consortium(f, k, 0, VOTING_PERIOD);
    }

    // ----- propose / vote -----

    function test_propose_succeeds_countsProposerVote() public {
        vm.expectEmit(address(consortium));
        emit IConsortium.ProposalCreated(
            1,
            pcAdmin,
            IConsortium.ProposalAction.Admit,
            newcomer,
            IConsortium.InstitutionKind.Research,
            0,
            uint64(START) + VOTING_PERIOD
        );
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        assertEq(id, 1);
        assertEq(consortium.proposalCount(), 1);
        IConsortium.Proposal memory p = consortium.proposal(id);
        assertEq(p.approvals, 1);
        assertEq(p.institution, newcomer);
        assertEq(p.proposer, pcAdmin);
        assertFalse(p.executed);
        assertTrue(consortium.hasVoted(id, pcAdmin));
        assertFalse(consortium.isActiveMember(newcomer), "one vote never changes membership");
    }

    function test_propose_reverts_whenNotMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        _propose(stranger, IConsortium.ProposalAction.Admit, newcomer);
    }

    function test_propose_reverts_whenZeroInstitution() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        _propose(pcAdmin, IConsortium.ProposalAction.Admit, address(0));
    }

    function test_propose_reverts_whenAdmitKindNone() public {
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidKind.selector, IConsortium.InstitutionKind.None
            )
        );
        consortium.propose(IConsortium.ProposalAction.Admit, newcomer, IConsortium.InstitutionKind.None, 0);
    }

    function test_propose_reverts_whenAdmittingActiveMember() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                IConsortium.ProposalAction.Admit,
                hospitalAdmin,
                IConsortium.MemberStatus.Active
            )
        );
        _propose(pcAdmin, IConsortium.ProposalAction.Admit, hospitalAdmin);
    }

    function test_propose_reverts_whenReinstatingActiveMember() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                IConsortium.ProposalAction.Reinstate,
                hospitalAdmin,
                IConsortium.MemberStatus.Active
            )
        );
        _propose(pcAdmin, IConsortium.ProposalAction.Reinstate, hospitalAdmin);
    }

    function test_propose_reverts_whenInvalidThreshold() public {
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, uint16(4000)));
        consortium.propose(
            IConsortium.ProposalAction.SetThreshold, address(0), IConsortium.InstitutionKind.None, 4000
        );
    }

    function test_vote_succeeds_executesAdmitAtMajority() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberAdmitted(newcomer, IConsortium.InstitutionKind.Research);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertTrue(consortium.isActiveMember(newcomer));
        assertEq(consortium.activeMemberCount(), 4);
        assertTrue(consortium.proposal(id).executed);
    }

    function test_vote_succeeds_belowThresholdDoesNotExecute() public {
        _admitNewcomer(); // 4 active: ceil(4 * 0.5001) = 3 approvals
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertFalse(consortium.proposal(id).executed);
        assertTrue(consortium.isActiveMember(insurerAdmin));
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberSuspended(insurerAdmin);
        vm.prank(newcomer);
        consortium.vote(id);
        assertFalse(consortium.isActiveMember(insurerAdmin));
        assertEq(consortium.activeMemberCount(), 3);
    }

    function test_vote_succeeds_suspendReinstateRemove() public {
        _admitNewcomer();
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        vm.prank(insurerAdmin);
        consortium.vote(id);
        (, IConsortium.MemberStatus status) = consortium.member(newcomer);
        assertTrue(status == IConsortium.MemberStatus.Suspended);

        id = _propose(pcAdmin, IConsortium.ProposalAction.Reinstate, newcomer);
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberReinstated(newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertTrue(consortium.isActiveMember(newcomer));

        id = _propose(pcAdmin, IConsortium.ProposalAction.Remove, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        vm.expectEmit(address(consortium));
        emit IConsortium.MemberRemoved(newcomer);
        vm.prank(insurerAdmin);
        consortium.vote(id);
        (, status) = consortium.member(newcomer);
        assertTrue(status == IConsortium.MemberStatus.Removed);
        assertEq(consortium.activeMemberCount(), 3);
    }

    function test_vote_succeeds_removesSuspendedMemberWithoutCountChange() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertEq(consortium.activeMemberCount(), 2);
        id = _propose(pcAdmin, IConsortium.ProposalAction.Remove, insurerAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        (, IConsortium.MemberStatus status) = consortium.member(insurerAdmin);
        assertTrue(status == IConsortium.MemberStatus.Removed);
        assertEq(consortium.activeMemberCount(), 2);
    }

    function test_vote_succeeds_setsThreshold() public {
        vm.prank(pcAdmin);
        uint256 id = consortium.propose(
            IConsortium.ProposalAction.SetThreshold, address(0), IConsortium.InstitutionKind.None, 10_000
        );
        vm.expectEmit(address(consortium));
        emit IConsortium.ThresholdChanged(5001, 10_000);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertEq(consortium.thresholdBps(), 10_000);
        // Unanimity now: two of three no longer admit.
        id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertFalse(consortium.isActiveMember(newcomer));
        vm.prank(insurerAdmin);
        consortium.vote(id);
        assertTrue(consortium.isActiveMember(newcomer));
    }

    function test_vote_reverts_whenNotMember() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.prank(newcomer);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, newcomer));
        consortium.vote(id);
    }

    function test_vote_reverts_whenUnknown() public {
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 7));
        consortium.vote(7);
    }

    function test_vote_reverts_whenAlreadyVoted() public {
        _admitNewcomer();
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyVoted.selector, id, pcAdmin));
        consortium.vote(id);
    }

    function test_vote_reverts_whenExpired() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        uint64 expiresAt = uint64(START) + VOTING_PERIOD;
        vm.warp(expiresAt + 1);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalExpired.selector, id, expiresAt));
        consortium.vote(id);
    }

    function test_vote_succeeds_atExpiryInstant() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.warp(uint64(START) + VOTING_PERIOD);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        assertTrue(consortium.isActiveMember(newcomer));
    }

    function test_vote_reverts_whenExecuted() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        vm.prank(insurerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalExecuted.selector, id));
        consortium.vote(id);
    }

    function test_propose_reverts_whenDroppingBelowTwoActive() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumTooFewActiveMembers.selector, 2));
        _propose(pcAdmin, IConsortium.ProposalAction.Remove, hospitalAdmin);
    }

    function test_vote_reverts_whenExecutionWouldDropBelowTwoActive() public {
        // Two proposals made while three are active; after the first passes the second may not.
        uint256 first = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        uint256 second = _propose(pcAdmin, IConsortium.ProposalAction.Remove, hospitalAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(first);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumTooFewActiveMembers.selector, 2));
        consortium.vote(second);
    }

    function test_vote_reverts_whenTransitionNoLongerValid() public {
        uint256 first = _propose(pcAdmin, IConsortium.ProposalAction.Admit, newcomer);
        uint256 second = _propose(hospitalAdmin, IConsortium.ProposalAction.Admit, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(first);
        vm.prank(pcAdmin);
        consortium.vote(second); // 2 of 4 active: below threshold
        vm.prank(insurerAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                IConsortium.ProposalAction.Admit,
                newcomer,
                IConsortium.MemberStatus.Active
            )
        );
        consortium.vote(second);
    }

    function test_vote_reverts_whenSuspendedMemberVotes() public {
        _admitNewcomer();
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, newcomer);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        vm.prank(insurerAdmin);
        consortium.vote(id);
        uint256 other = _propose(pcAdmin, IConsortium.ProposalAction.Admit, address(0xA5));
        vm.prank(newcomer);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, newcomer));
        consortium.vote(other);
    }

    function testFuzz_requiredApprovals_isStrictMajorityAtLeastTwo(uint16 bps, uint8 extra) public {
        bps = uint16(bound(bps, 5001, 10_000));
        uint256 members = bound(extra, 0, 6) + 2;
        (address[] memory f, IConsortium.InstitutionKind[] memory k) = _founders(members);
        Consortium c = new Consortium(f, k, bps, VOTING_PERIOD);
        vm.prank(f[0]);
        uint256 id =
            c.propose(IConsortium.ProposalAction.Admit, newcomer, IConsortium.InstitutionKind.Research, 0);
        uint256 required = (members * bps + 9999) / 10_000;
        assertGe(required, 2, "required approvals");
        for (uint256 i = 1; i < required; ++i) {
            assertFalse(c.isActiveMember(newcomer), "executed too early");
            vm.prank(f[i]);
            c.vote(id);
        }
        assertTrue(c.isActiveMember(newcomer), "not executed at threshold");
        assertGe(required * 2, members + 1, "not a strict majority");
    }

    // ----- practitioners -----

    function test_registerPractitioner_succeeds_byOwnInstitution() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.expectEmit(address(consortium));
        emit IConsortium.PractitionerRegistered(hospitalAdmin, stranger, key);
        vm.prank(hospitalAdmin);
        consortium.registerPractitioner(stranger, key);
        (address institution, IConsortium.InstitutionKind kind, bool active) =
            consortium.practitioner(stranger);
        assertEq(institution, hospitalAdmin);
        assertTrue(kind == IConsortium.InstitutionKind.Hospital);
        assertTrue(active);
        assertEq(consortium.encryptionKeyOf(stranger), key);
    }

    function test_registerPractitioner_reverts_whenNotMember() public {
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        consortium.registerPractitioner(stranger, key);
    }

    function test_registerPractitioner_reverts_whenKeyNotOwn() public {
        bytes memory key = publicKeyOf(PATIENT_PK);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidEncryptionKey.selector, stranger));
        consortium.registerPractitioner(stranger, key);
    }

    function test_registerPractitioner_reverts_whenKeyWrongLength() public {
        bytes memory key = abi.encodePacked(bytes1(0x04), publicKeyOf(STRANGER_PK));
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidEncryptionKey.selector, stranger));
        consortium.registerPractitioner(stranger, key);
    }

    function test_registerPractitioner_reverts_whenZeroAddress() public {
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        consortium.registerPractitioner(address(0), "");
    }

    function test_registerPractitioner_reverts_whenActiveElsewhere() public {
        bytes memory key = publicKeyOf(FAMILY_DOCTOR_PK);
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumPractitionerActive.selector, familyDoctor, pcAdmin)
        );
        consortium.registerPractitioner(familyDoctor, key);
    }

    function test_registerPractitioner_succeeds_afterDeactivationAtOtherInstitution() public {
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        _registerPractitioner(hospitalAdmin, FAMILY_DOCTOR_PK);
        (address institution,, bool active) = consortium.practitioner(familyDoctor);
        assertEq(institution, hospitalAdmin);
        assertTrue(active);
    }

    function test_deactivatePractitioner_succeeds_byOwnInstitution() public {
        vm.expectEmit(address(consortium));
        emit IConsortium.PractitionerDeactivated(pcAdmin, familyDoctor);
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        (,, bool active) = consortium.practitioner(familyDoctor);
        assertFalse(active);
    }

    function test_deactivatePractitioner_reverts_whenOtherInstitution() public {
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumNotOwnPractitioner.selector, familyDoctor, hospitalAdmin
            )
        );
        consortium.deactivatePractitioner(familyDoctor);
    }

    function test_deactivatePractitioner_reverts_whenAlreadyInactive() public {
        vm.prank(pcAdmin);
        consortium.deactivatePractitioner(familyDoctor);
        vm.prank(pcAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumNotOwnPractitioner.selector, familyDoctor, pcAdmin)
        );
        consortium.deactivatePractitioner(familyDoctor);
    }

    function test_deactivatePractitioner_reverts_whenNotMember() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        consortium.deactivatePractitioner(familyDoctor);
    }

    function test_practitioner_isInactive_whenInstitutionSuspended() public {
        uint256 id = _propose(pcAdmin, IConsortium.ProposalAction.Suspend, insurerAdmin);
        vm.prank(hospitalAdmin);
        consortium.vote(id);
        (address institution,, bool active) = consortium.practitioner(insurerStaff);
        assertEq(institution, insurerAdmin);
        assertFalse(active);
        // And the suspended admin can no longer register practitioners.
        bytes memory key = publicKeyOf(STRANGER_PK);
        vm.prank(insurerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, insurerAdmin));
        consortium.registerPractitioner(stranger, key);
    }

    function test_practitioner_returnsZero_whenUnknown() public view {
        (address institution, IConsortium.InstitutionKind kind, bool active) =
            consortium.practitioner(stranger);
        assertEq(institution, address(0));
        assertTrue(kind == IConsortium.InstitutionKind.None);
        assertFalse(active);
    }
}
