// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Consortium} from "../../contracts/Consortium.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {ISignedMessages} from "../../contracts/interfaces/ISignedMessages.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice Governance (votes of members active at execution, the target never needed), member epochs,
/// practitioner enrollment by the practitioner's own signature, member keys, custodians and parameters.
contract ConsortiumTest is Fixture {
    IConsortium.ProposalAction internal constant ADMIT = IConsortium.ProposalAction.Admit;
    IConsortium.ProposalAction internal constant SUSPEND = IConsortium.ProposalAction.Suspend;
    IConsortium.ProposalAction internal constant REINSTATE = IConsortium.ProposalAction.Reinstate;
    IConsortium.ProposalAction internal constant REMOVE = IConsortium.ProposalAction.Remove;
    IConsortium.ProposalAction internal constant SET_THRESHOLD = IConsortium.ProposalAction.SetThreshold;
    IConsortium.ProposalAction internal constant ADD_CUSTODIAN = IConsortium.ProposalAction.AddCustodian;
    IConsortium.ProposalAction internal constant REMOVE_CUSTODIAN =
    IConsortium.ProposalAction.RemoveCustodian;
    IConsortium.ProposalAction internal constant SET_PARAMETER = IConsortium.ProposalAction.SetParameter;
    IConsortium.ProposalAction internal constant END_GUARDIANSHIP =
    IConsortium.ProposalAction.EndGuardianship;
    IConsortium.InstitutionKind internal constant NONE = IConsortium.InstitutionKind.None;
    IConsortium.InstitutionKind internal constant HOSPITAL = IConsortium.InstitutionKind.Hospital;
    IConsortium.InstitutionKind internal constant RESEARCH = IConsortium.InstitutionKind.Research;
    IConsortium.Parameter internal constant NO_PARAM = IConsortium.Parameter.None;

    uint256 internal constant NEWCOMER_PK = 0xA4;
    uint256 internal constant FIFTH_PK = 0xA5;
    uint256 internal constant RESEARCHER_PK = 0xD0C4;
    address internal newcomer;
    address internal fifth;
    address internal researcher;

    function setUp() public override {
        super.setUp();
        newcomer = vm.addr(NEWCOMER_PK);
        fifth = vm.addr(FIFTH_PK);
        researcher = vm.addr(RESEARCHER_PK);
    }

    function _propose(address by, IConsortium.ProposalAction action, address institution)
        internal
        returns (uint256 id)
    {
        vm.prank(by);
        id = consortium.propose(
            action, institution, address(0), action == ADMIT ? RESEARCH : NONE, NO_PARAM, 0
        );
    }

    function _vote(address by, uint256 id) internal {
        vm.prank(by);
        consortium.vote(id);
    }

    /// @dev Admits `newcomer` (Research) so that four members are active.
    function _admitNewcomer() internal {
        uint256 id = _propose(pcAdmin, ADMIT, newcomer);
        _vote(hospitalAdmin, id);
        assertTrue(consortium.isActiveMember(newcomer));
    }

    // ----- constructor -----

    function test_constructor_setsFoundersEpochsAndParameters() public view {
        assertEq(consortium.activeMemberCount(), 3);
        (IConsortium.InstitutionKind kind, IConsortium.MemberStatus status, uint32 epoch, bool custodian) =
            consortium.member(hospitalAdmin);
        assertTrue(kind == HOSPITAL);
        assertTrue(status == IConsortium.MemberStatus.Active);
        assertEq(epoch, 1);
        assertFalse(custodian);
        assertEq(consortium.thresholdBps(), 5001);
        assertEq(consortium.parameter(IConsortium.Parameter.CustodianThreshold), 2);
        assertEq(consortium.parameter(IConsortium.Parameter.EmergencyDuration), 24 hours);
        assertEq(consortium.parameter(IConsortium.Parameter.PhysicianDailyLimit), 3);
        assertEq(consortium.parameter(IConsortium.Parameter.InstitutionDailyLimit), 20);
        assertEq(consortium.votingPeriod(), VOTING_PERIOD);
    }

    function test_constructor_reverts_whenOneFounder() public {
        address[] memory founders = new address[](1);
        founders[0] = pcAdmin;
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](1);
        kinds[0] = HOSPITAL;
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidFounders.selector, 1, 1));
        new Consortium(founders, kinds, 0, VOTING_PERIOD);
    }

    function test_constructor_reverts_whenInvalidThresholdOrPeriodOrFounder() public {
        address[] memory founders = new address[](2);
        founders[0] = pcAdmin;
        founders[1] = hospitalAdmin;
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](2);
        kinds[0] = HOSPITAL;
        kinds[1] = HOSPITAL;
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 5000));
        new Consortium(founders, kinds, 5000, VOTING_PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidVotingPeriod.selector));
        new Consortium(founders, kinds, 0, 0);
        kinds[1] = NONE;
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidKind.selector, NONE));
        new Consortium(founders, kinds, 0, VOTING_PERIOD);
        kinds[1] = HOSPITAL;
        founders[1] = pcAdmin;
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumDuplicateFounder.selector, pcAdmin));
        new Consortium(founders, kinds, 0, VOTING_PERIOD);
        founders[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        new Consortium(founders, kinds, 0, VOTING_PERIOD);
    }

    // ----- propose -----

    function test_propose_reverts_whenStranger() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        consortium.propose(ADMIT, stranger, address(0), HOSPITAL, NO_PARAM, 0);
    }

    function test_propose_reverts_whenInvalidArguments() public {
        vm.startPrank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        consortium.propose(ADMIT, address(0), address(0), HOSPITAL, NO_PARAM, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidKind.selector, NONE));
        consortium.propose(ADMIT, newcomer, address(0), NONE, NO_PARAM, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                ADMIT,
                hospitalAdmin,
                IConsortium.MemberStatus.Active
            )
        );
        consortium.propose(ADMIT, hospitalAdmin, address(0), HOSPITAL, NO_PARAM, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 10_001));
        consortium.propose(SET_THRESHOLD, address(0), address(0), NONE, NO_PARAM, 10_001);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        consortium.propose(END_GUARDIANSHIP, guardian, address(0), NONE, NO_PARAM, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                ADD_CUSTODIAN,
                hospitalAdmin,
                IConsortium.MemberStatus.Active
            )
        );
        consortium.propose(ADD_CUSTODIAN, hospitalAdmin, address(0), NONE, NO_PARAM, 0); // no member key
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumInvalidTransition.selector,
                REMOVE_CUSTODIAN,
                hospitalAdmin,
                IConsortium.MemberStatus.Active
            )
        );
        consortium.propose(REMOVE_CUSTODIAN, hospitalAdmin, address(0), NONE, NO_PARAM, 0);
        vm.stopPrank();
    }

    function test_propose_reverts_whenParameterOutOfRange() public {
        IConsortium.Parameter[6] memory params = [
            IConsortium.Parameter.None,
            IConsortium.Parameter.CustodianThreshold,
            IConsortium.Parameter.CustodianThreshold,
            IConsortium.Parameter.EmergencyDuration,
            IConsortium.Parameter.EmergencyDuration,
            IConsortium.Parameter.PhysicianDailyLimit
        ];
        uint64[6] memory values = [uint64(1), 0, 256, 0, 24 hours + 1, 0];
        for (uint256 i = 0; i < params.length; ++i) {
            vm.prank(pcAdmin);
            vm.expectRevert(
                abi.encodeWithSelector(IConsortium.ConsortiumInvalidParameter.selector, params[i], values[i])
            );
            consortium.propose(SET_PARAMETER, address(0), address(0), NONE, params[i], values[i]);
        }
    }

    function test_propose_storesProposalAndCountsProposer() public {
        vm.expectEmit(address(consortium));
        emit IConsortium.ProposalCreated(
            1,
            pcAdmin,
            ADMIT,
            newcomer,
            address(0),
            RESEARCH,
            NO_PARAM,
            0,
            uint64(block.timestamp) + VOTING_PERIOD
        );
        uint256 id = _propose(pcAdmin, ADMIT, newcomer);
        IConsortium.Proposal memory p = consortium.proposal(id);
        assertEq(id, 1);
        assertEq(p.votes, 1);
        assertEq(p.proposer, pcAdmin);
        assertEq(p.institution, newcomer);
        assertTrue(consortium.hasVoted(id, pcAdmin));
        assertEq(consortium.voters(id).length, 1);
        assertEq(consortium.activeApprovals(id), 1);
        assertEq(consortium.requiredApprovals(id), 2);
        assertFalse(consortium.isActiveMember(newcomer));
    }

    // ----- vote / execute -----

    function test_vote_executes_atThreshold() public {
        uint256 id = _propose(pcAdmin, ADMIT, newcomer);
        vm.expectEmit(address(consortium));
        emit IConsortium.ProposalExecuted(id, 2, 2);
        _vote(hospitalAdmin, id);
        assertTrue(consortium.proposal(id).executed);
        (,, uint32 epoch,) = consortium.member(newcomer);
        assertEq(epoch, 1);
        assertEq(consortium.activeMemberCount(), 4);
    }

    function test_vote_reverts_whenUnknownExecutedExpiredOrTwice() public {
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 9));
        consortium.vote(9);
        uint256 id = _propose(pcAdmin, ADMIT, newcomer);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyVoted.selector, id, pcAdmin));
        consortium.vote(id);
        uint256 late = _propose(pcAdmin, ADMIT, fifth);
        _vote(hospitalAdmin, id);
        vm.prank(insurerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalExecuted.selector, id));
        consortium.vote(id);
        vm.warp(block.timestamp + VOTING_PERIOD + 1);
        uint64 expiresAt = consortium.proposal(late).expiresAt;
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumProposalExpired.selector, late, expiresAt)
        );
        consortium.vote(late);
    }

    function test_vote_reverts_whenSuspendedMember() public {
        _admitNewcomer();
        _passMember(SUSPEND, insurerAdmin);
        uint256 id = _propose(pcAdmin, ADMIT, fifth);
        vm.prank(insurerAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, insurerAdmin));
        consortium.vote(id);
    }

    function test_execute_reverts_whenApprovalsShort() public {
        uint256 id = _propose(pcAdmin, ADMIT, newcomer);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotEnoughApprovals.selector, id, 1, 2));
        consortium.execute(id);
    }

    /// @dev Attack: a member votes, is then removed; its earlier vote no longer counts.
    function test_execute_ignoresVote_ofRemovedMember() public {
        _admitNewcomer(); // four members: required for an admission is ceil(4 * 0.5001) = 3
        uint256 id = _propose(newcomer, ADMIT, fifth);
        _vote(insurerAdmin, id);
        assertEq(consortium.activeApprovals(id), 2);
        // The others remove the newcomer (its vote is not needed for its own removal).
        uint256 removal = _propose(pcAdmin, REMOVE, newcomer);
        _vote(hospitalAdmin, removal);
        assertFalse(consortium.isActiveMember(newcomer));
        // Three active members: two approvals needed, only the insurer's counts now.
        assertEq(consortium.activeApprovals(id), 1);
        assertEq(consortium.requiredApprovals(id), 2);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotEnoughApprovals.selector, id, 1, 2));
        consortium.execute(id);
        _vote(pcAdmin, id);
        assertTrue(consortium.isActiveMember(fifth));
    }

    /// @dev A removal of a non-voter lowers the bar; `execute` by anyone applies the now-passing proposal.
    function test_execute_succeeds_afterElectorateShrinks() public {
        _admitNewcomer();
        uint256 id = _propose(pcAdmin, ADMIT, fifth);
        _vote(hospitalAdmin, id);
        assertEq(consortium.requiredApprovals(id), 3);
        uint256 removal = _propose(pcAdmin, REMOVE, newcomer);
        _vote(insurerAdmin, removal);
        assertEq(consortium.requiredApprovals(id), 2);
        vm.prank(stranger);
        consortium.execute(id);
        assertTrue(consortium.isActiveMember(fifth));
    }

    /// @dev Attack: at threshold 10000 the target of a removal could block it by not voting; its vote is never
    /// needed.
    function test_vote_removesMember_withoutItsVote_atThreshold10000() public {
        address[] memory founders = new address[](3);
        (founders[0], founders[1], founders[2]) = (pcAdmin, hospitalAdmin, insurerAdmin);
        IConsortium.InstitutionKind[] memory kinds = new IConsortium.InstitutionKind[](3);
        (kinds[0], kinds[1], kinds[2]) = (HOSPITAL, HOSPITAL, HOSPITAL);
        Consortium strict = new Consortium(founders, kinds, 10_000, VOTING_PERIOD);
        vm.prank(pcAdmin);
        uint256 id = strict.propose(REMOVE, insurerAdmin, address(0), NONE, NO_PARAM, 0);
        assertEq(strict.requiredApprovals(id), 2);
        vm.prank(hospitalAdmin);
        strict.vote(id);
        (, IConsortium.MemberStatus status,,) = strict.member(insurerAdmin);
        assertTrue(status == IConsortium.MemberStatus.Removed);
    }

    /// @dev The target voting for (or against by abstaining) its own suspension changes nothing.
    function test_vote_targetsVote_neverCounts() public {
        _admitNewcomer();
        uint256 id = _propose(pcAdmin, SUSPEND, newcomer);
        _vote(newcomer, id);
        assertEq(consortium.activeApprovals(id), 1);
        assertEq(consortium.requiredApprovals(id), 2); // electorate 3 without the target
        assertTrue(consortium.isActiveMember(newcomer));
        _vote(hospitalAdmin, id);
        assertFalse(consortium.isActiveMember(newcomer));
    }

    /// @dev Attack: colluding members below the threshold (2 of 5 at 5001, 3 of 5 at 7500) pass nothing.
    function test_execute_reverts_forCollusionBelowThreshold() public {
        _admitNewcomer();
        uint256 admitFifth = _propose(pcAdmin, ADMIT, fifth);
        _vote(hospitalAdmin, admitFifth);
        _vote(insurerAdmin, admitFifth);
        assertEq(consortium.activeMemberCount(), 5);
        vm.prank(pcAdmin);
        uint256 t = consortium.propose(SET_THRESHOLD, address(0), address(0), NONE, NO_PARAM, 7500);
        _vote(hospitalAdmin, t);
        _vote(insurerAdmin, t);
        assertEq(consortium.thresholdBps(), 7500);
        // Three colluders try to admit a sybil: required ceil(5 * 0.75) = 4.
        vm.prank(newcomer);
        uint256 sybil = consortium.propose(ADMIT, stranger, address(0), HOSPITAL, NO_PARAM, 0);
        _vote(fifth, sybil);
        _vote(pcAdmin, sybil);
        assertFalse(consortium.isActiveMember(stranger));
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumNotEnoughApprovals.selector, sybil, 3, 4)
        );
        consortium.execute(sybil);
    }

    function test_vote_reverts_whenTooFewActiveMembersWouldRemain() public {
        _passMember(SUSPEND, insurerAdmin);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumTooFewActiveMembers.selector, 2));
        consortium.propose(REMOVE, hospitalAdmin, address(0), NONE, NO_PARAM, 0);
    }

    function test_vote_reinstatesAndRemovesSuspended() public {
        _passMember(SUSPEND, insurerAdmin);
        assertEq(consortium.activeMemberCount(), 2);
        _passMember(REINSTATE, insurerAdmin);
        assertEq(consortium.activeMemberCount(), 3);
        _passMember(SUSPEND, insurerAdmin);
        _passMember(REMOVE, insurerAdmin);
        (, IConsortium.MemberStatus status,,) = consortium.member(insurerAdmin);
        assertTrue(status == IConsortium.MemberStatus.Removed);
    }

    function test_vote_setsThresholdAndParameter() public {
        vm.prank(pcAdmin);
        uint256 id = consortium.propose(SET_THRESHOLD, address(0), address(0), NONE, NO_PARAM, 6000);
        vm.expectEmit(address(consortium));
        emit IConsortium.ThresholdChanged(5001, 6000);
        _vote(hospitalAdmin, id);
        assertEq(consortium.thresholdBps(), 6000);
        vm.prank(pcAdmin);
        id = consortium.propose(
            SET_PARAMETER, address(0), address(0), NONE, IConsortium.Parameter.EmergencyDuration, 2 hours
        );
        vm.expectEmit(address(consortium));
        emit IConsortium.ParameterChanged(IConsortium.Parameter.EmergencyDuration, 24 hours, 2 hours);
        _vote(hospitalAdmin, id);
        assertEq(consortium.parameter(IConsortium.Parameter.EmergencyDuration), 2 hours);
    }

    function test_vote_passesEndGuardianship() public {
        uint256 id = _pass(END_GUARDIANSHIP, guardian, patient, NONE, NO_PARAM, 0);
        IConsortium.Proposal memory p = consortium.proposal(id);
        assertTrue(p.executed);
        assertEq(p.institution, guardian);
        assertEq(p.subject, patient);
    }

    // ----- epochs and practitioners -----

    /// @dev Attack: a removed institution is re-admitted; its old practitioners must not come back.
    function test_readmission_doesNotReactivatePractitioners() public {
        assertTrue(consortium.isActivePractitioner(insurerStaff));
        _passMember(REMOVE, insurerAdmin);
        assertFalse(consortium.isActivePractitioner(insurerStaff));
        assertEq(consortium.enrollmentOf(insurerStaff), 0);
        _passMember(ADMIT, insurerAdmin);
        assertEq(consortium.memberEpoch(insurerAdmin), 2);
        assertFalse(consortium.isActivePractitioner(insurerStaff));
        IConsortium.PractitionerStatus memory status = consortium.practitioner(insurerStaff);
        assertEq(status.institution, insurerAdmin);
        assertFalse(status.active);
        assertEq(status.enrollment, 0);
        // Registered again (with a new signature) it gets a new enrollment.
        _registerPractitioner(insurerAdmin, INSURER_STAFF_PK);
        assertEq(consortium.enrollmentOf(insurerStaff), 2);
    }

    function test_suspension_pausesPractitioners_untilReinstated() public {
        _passMember(SUSPEND, insurerAdmin);
        assertFalse(consortium.isActivePractitioner(insurerStaff));
        _passMember(REINSTATE, insurerAdmin);
        assertEq(consortium.enrollmentOf(insurerStaff), 1);
    }

    function test_registerPractitioner_storesEnrollmentAndKey() public {
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        uint256 nonce = consortium.nonces(researcher, _key(D_ENROLLMENT, hospitalAdmin));
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, nonce, block.timestamp);
        vm.expectEmit(address(consortium));
        emit IConsortium.PractitionerRegistered(hospitalAdmin, researcher, 1, key);
        vm.prank(hospitalAdmin);
        consortium.registerPractitioner(researcher, key, nonce, block.timestamp, sig);
        assertEq(consortium.enrollmentOf(researcher), 1);
        assertEq(consortium.encryptionKeyOf(researcher), key);
        IConsortium.PractitionerStatus memory status = consortium.practitioner(researcher);
        assertEq(status.institution, hospitalAdmin);
        assertTrue(status.kind == HOSPITAL);
    }

    /// @dev Attack: a member claims another institution's doctor (or a doctor who never agreed): the
    /// practitioner's signature names the institution it joins.
    function test_registerPractitioner_reverts_whenSignatureNamesOtherInstitution() public {
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        // The researcher signed to join the hospital; the insurer replays it under its own key domain.
        uint256 hospitalNonce = consortium.nonces(researcher, _key(D_ENROLLMENT, hospitalAdmin));
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, hospitalNonce, block.timestamp);
        vm.prank(insurerAdmin);
        // The digest names the insurer, so the key recovered is not the researcher's.
        vm.expectPartialRevert(ISignedMessages.SignedMessagesInvalidSigner.selector);
        consortium.registerPractitioner(researcher, key, hospitalNonce, block.timestamp, sig);
        // With a nonce of the insurer's key the signature does not match either.
        uint256 insurerNonce = consortium.nonces(researcher, _key(D_ENROLLMENT, insurerAdmin));
        vm.prank(insurerAdmin);
        vm.expectPartialRevert(ISignedMessages.SignedMessagesInvalidSigner.selector);
        consortium.registerPractitioner(researcher, key, insurerNonce, block.timestamp, sig);
        assertFalse(consortium.isActivePractitioner(researcher));
    }

    function test_registerPractitioner_reverts_whenNonceKeyOfOtherInstitution() public {
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        uint256 wrong = consortium.nonces(researcher, _key(D_ENROLLMENT, insurerAdmin));
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, wrong, block.timestamp);
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedMessages.SignedMessagesWrongNonceKey.selector,
                _key(D_ENROLLMENT, hospitalAdmin),
                _key(D_ENROLLMENT, insurerAdmin)
            )
        );
        consortium.registerPractitioner(researcher, key, wrong, block.timestamp, sig);
    }

    function test_registerPractitioner_reverts_whenSignatureReplayedAfterDeactivation() public {
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        uint256 nonce = consortium.nonces(researcher, _key(D_ENROLLMENT, hospitalAdmin));
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, nonce, block.timestamp + 1 days);
        vm.prank(hospitalAdmin);
        consortium.registerPractitioner(researcher, key, nonce, block.timestamp + 1 days, sig);
        vm.prank(hospitalAdmin);
        consortium.deactivatePractitioner(researcher);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, researcher, nonce + 1));
        consortium.registerPractitioner(researcher, key, nonce, block.timestamp + 1 days, sig);
    }

    function test_registerPractitioner_reverts_whenActiveBadKeyOrStranger() public {
        bytes memory key = publicKeyOf(FAMILY_DOCTOR_PK);
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumPractitionerActive.selector, familyDoctor, pcAdmin)
        );
        consortium.registerPractitioner(familyDoctor, key, 0, block.timestamp, "");
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumInvalidEncryptionKey.selector, researcher)
        );
        consortium.registerPractitioner(researcher, key, 0, block.timestamp, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        consortium.registerPractitioner(researcher, publicKeyOf(RESEARCHER_PK), 0, block.timestamp, "");
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumZeroAddress.selector));
        consortium.registerPractitioner(address(0), key, 0, block.timestamp, "");
    }

    function test_registerPractitioner_reverts_whenExpired() public {
        uint256 nonce = consortium.nonces(researcher, _key(D_ENROLLMENT, hospitalAdmin));
        uint256 deadline = block.timestamp - 1;
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, nonce, deadline);
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISignedMessages.SignedMessagesExpired.selector, deadline));
        consortium.registerPractitioner(researcher, key, nonce, deadline, sig);
    }

    function test_cancelNonce_killsEnrollmentSignature() public {
        uint256 nonce = consortium.nonces(researcher, _key(D_ENROLLMENT, hospitalAdmin));
        bytes memory sig = _enrollmentSig(RESEARCHER_PK, hospitalAdmin, nonce, block.timestamp);
        vm.expectEmit(address(consortium));
        emit ISignedMessages.NonceCancelled(researcher, nonce);
        vm.prank(researcher);
        consortium.cancelNonce(nonce);
        bytes memory key = publicKeyOf(RESEARCHER_PK);
        vm.prank(hospitalAdmin);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, researcher, nonce + 1));
        consortium.registerPractitioner(researcher, key, nonce, block.timestamp, sig);
    }

    function test_reRegistration_incrementsEnrollment_atAnotherInstitution() public {
        vm.prank(insurerAdmin);
        consortium.deactivatePractitioner(insurerStaff);
        assertEq(consortium.enrollmentOf(insurerStaff), 0);
        _registerPractitioner(hospitalAdmin, INSURER_STAFF_PK);
        assertEq(consortium.enrollmentOf(insurerStaff), 2);
        assertEq(consortium.practitioner(insurerStaff).institution, hospitalAdmin);
    }

    function test_deactivatePractitioner_reverts_whenNotOwn() public {
        vm.prank(hospitalAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumNotOwnPractitioner.selector, familyDoctor, hospitalAdmin
            )
        );
        consortium.deactivatePractitioner(familyDoctor);
    }

    function test_resign_deactivates() public {
        vm.expectEmit(address(consortium));
        emit IConsortium.PractitionerResigned(pcAdmin, familyDoctor);
        vm.prank(familyDoctor);
        consortium.resign();
        assertFalse(consortium.isActivePractitioner(familyDoctor));
        vm.prank(familyDoctor);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumNotOwnPractitioner.selector, familyDoctor, pcAdmin)
        );
        consortium.resign();
    }

    // ----- member keys, custodians -----

    function test_publishMemberKey_reverts_whenKeyNotAdmins() public {
        bytes memory key = publicKeyOf(HOSPITAL_ADMIN_PK);
        vm.prank(pcAdmin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidEncryptionKey.selector, pcAdmin));
        consortium.publishMemberKey(key);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotActiveMember.selector, stranger));
        consortium.publishMemberKey(key);
    }

    function test_custodians_addListAndDropOnSuspension() public {
        _setUpCustodians();
        address[] memory list = consortium.custodians();
        assertEq(list.length, 2);
        assertTrue(consortium.isCustodian(pcAdmin));
        assertEq(consortium.memberKeyOf(pcAdmin), publicKeyOf(PC_ADMIN_PK));
        _passMember(SUSPEND, insurerAdmin);
        assertEq(consortium.custodians().length, 1);
        assertFalse(consortium.isCustodian(insurerAdmin));
        _passMember(REINSTATE, insurerAdmin);
        assertTrue(consortium.isCustodian(insurerAdmin));
    }

    function test_custodians_removedMemberLosesFlag_evenIfReadmitted() public {
        _setUpCustodians();
        uint256 id = _propose(pcAdmin, REMOVE, insurerAdmin);
        vm.expectEmit(address(consortium));
        emit IConsortium.CustodianRemoved(insurerAdmin);
        _vote(hospitalAdmin, id);
        _passMember(ADMIT, insurerAdmin);
        assertFalse(consortium.isCustodian(insurerAdmin));
        assertEq(consortium.custodians().length, 1);
    }

    function test_removeCustodian_byVote() public {
        _setUpCustodians();
        _pass(REMOVE_CUSTODIAN, pcAdmin, address(0), NONE, NO_PARAM, 0);
        assertFalse(consortium.isCustodian(pcAdmin));
        address[] memory list = consortium.custodians();
        assertEq(list.length, 1);
        assertEq(list[0], insurerAdmin);
    }
}
