// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {Masks} from "./utils/Masks.sol";

/// @title Consortium
/// @notice Member institutions governed by vote, and the practitioners each institution registers.
contract Consortium is IConsortium {
    uint16 private constant _DEFAULT_THRESHOLD_BPS = 5001;
    uint16 private constant _MAX_BPS = 10_000;
    uint256 private constant _MIN_ACTIVE_MEMBERS = 2;

    struct Member {
        InstitutionKind kind;
        MemberStatus status;
    }

    struct Practitioner {
        address institution;
        bool active;
    }

    /// @dev Immutable: changing how long votes stay open would itself need a vote; redeploy instead.
    uint64 private immutable _votingPeriod;

    uint16 private _thresholdBps;
    uint32 private _activeCount;
    uint256 private _proposalCount;

    mapping(address institution => Member) private _members;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address voter => bool)) private _voted;
    mapping(address account => Practitioner) private _practitioners;
    mapping(address account => bytes) private _encryptionKeys;

    /// @param founders Admin addresses of the founding members (at least two, distinct, non-zero).
    /// @param kinds Their institution kinds (none may be `None`).
    /// @param thresholdBps_ Approval threshold in `(5000, 10000]` basis points of the active members; `0` means
    /// 5001 (strict majority).
    /// @param votingPeriod_ Seconds a proposal accepts votes (non-zero).
    constructor(
        address[] memory founders,
        InstitutionKind[] memory kinds,
        uint16 thresholdBps_,
        uint64 votingPeriod_
    ) {
        if (founders.length < _MIN_ACTIVE_MEMBERS || founders.length != kinds.length) {
            revert ConsortiumInvalidFounders(founders.length, kinds.length);
        }
        if (thresholdBps_ == 0) thresholdBps_ = _DEFAULT_THRESHOLD_BPS;
        _checkThreshold(thresholdBps_);
        if (votingPeriod_ == 0) revert ConsortiumInvalidVotingPeriod();
        _votingPeriod = votingPeriod_;
        _thresholdBps = thresholdBps_;
        emit ThresholdChanged(0, thresholdBps_);
        for (uint256 i = 0; i < founders.length; ++i) {
            address founder = founders[i];
            if (founder == address(0)) revert ConsortiumZeroAddress();
            _checkKind(kinds[i]);
            if (_members[founder].status != MemberStatus.None) revert ConsortiumDuplicateFounder(founder);
            _members[founder] = Member({kind: kinds[i], status: MemberStatus.Active});
            emit MemberAdmitted(founder, kinds[i]);
        }
        _activeCount = uint32(founders.length);
    }

    modifier onlyActiveMember() {
        _checkActiveMember(msg.sender);
        _;
    }

    /// @inheritdoc IConsortium
    function propose(ProposalAction action, address institution, InstitutionKind kind, uint16 newThresholdBps)
        external
        onlyActiveMember
        returns (uint256 proposalId)
    {
        if (action == ProposalAction.SetThreshold) {
            _checkThreshold(newThresholdBps);
            institution = address(0);
            kind = InstitutionKind.None;
        } else {
            if (institution == address(0)) revert ConsortiumZeroAddress();
            if (action == ProposalAction.Admit) _checkKind(kind);
            else kind = InstitutionKind.None;
            newThresholdBps = 0;
            _checkTransition(action, institution);
        }
        proposalId = ++_proposalCount;
        uint64 expiresAt = uint64(block.timestamp) + _votingPeriod;
        _proposals[proposalId] = Proposal({
            action: action,
            kind: kind,
            newThresholdBps: newThresholdBps,
            approvals: 1,
            expiresAt: expiresAt,
            executed: false,
            institution: institution,
            proposer: msg.sender
        });
        _voted[proposalId][msg.sender] = true;
        emit ProposalCreated(proposalId, msg.sender, action, institution, kind, newThresholdBps, expiresAt);
        // One approval never reaches a strict majority of two or more members: no execution here.
    }

    /// @inheritdoc IConsortium
    function vote(uint256 proposalId) external onlyActiveMember {
        Proposal storage p = _proposals[proposalId];
        uint64 expiresAt = p.expiresAt;
        if (expiresAt == 0) revert ConsortiumUnknownProposal(proposalId);
        if (p.executed) revert ConsortiumProposalExecuted(proposalId);
        if (block.timestamp > expiresAt) revert ConsortiumProposalExpired(proposalId, expiresAt);
        if (_voted[proposalId][msg.sender]) revert ConsortiumAlreadyVoted(proposalId, msg.sender);
        _voted[proposalId][msg.sender] = true;
        uint32 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalVoted(proposalId, msg.sender, approvals);
        if (approvals >= _requiredApprovals()) {
            p.executed = true;
            emit ProposalExecuted(proposalId);
            _execute(p.action, p.institution, p.kind, p.newThresholdBps);
        }
    }

    /// @inheritdoc IConsortium
    function registerPractitioner(address practitioner_, bytes calldata encryptionKey)
        external
        onlyActiveMember
    {
        if (practitioner_ == address(0)) revert ConsortiumZeroAddress();
        if (!Masks.isKeyOf(encryptionKey, practitioner_)) {
            revert ConsortiumInvalidEncryptionKey(practitioner_);
        }
        Practitioner storage p = _practitioners[practitioner_];
        if (p.active) revert ConsortiumPractitionerActive(practitioner_, p.institution);
        p.institution = msg.sender;
        p.active = true;
        _encryptionKeys[practitioner_] = encryptionKey;
        emit PractitionerRegistered(msg.sender, practitioner_, encryptionKey);
    }

    /// @inheritdoc IConsortium
    function deactivatePractitioner(address practitioner_) external onlyActiveMember {
        Practitioner storage p = _practitioners[practitioner_];
        if (!p.active || p.institution != msg.sender) {
            revert ConsortiumNotOwnPractitioner(practitioner_, msg.sender);
        }
        p.active = false;
        emit PractitionerDeactivated(msg.sender, practitioner_);
    }

    /// @inheritdoc IConsortium
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].status == MemberStatus.Active;
    }

    /// @inheritdoc IConsortium
    function member(address institution) external view returns (InstitutionKind kind, MemberStatus status) {
        Member memory m = _members[institution];
        return (m.kind, m.status);
    }

    /// @inheritdoc IConsortium
    function activeMemberCount() external view returns (uint256) {
        return _activeCount;
    }

    /// @inheritdoc IConsortium
    function thresholdBps() external view returns (uint16) {
        return _thresholdBps;
    }

    /// @inheritdoc IConsortium
    function votingPeriod() external view returns (uint64) {
        return _votingPeriod;
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc IConsortium
    function hasVoted(uint256 proposalId, address voter) external view returns (bool) {
        return _voted[proposalId][voter];
    }

    /// @inheritdoc IConsortium
    function practitioner(address account)
        external
        view
        returns (address institution, InstitutionKind kind, bool active)
    {
        Practitioner memory p = _practitioners[account];
        Member memory m = _members[p.institution];
        return (p.institution, m.kind, p.active && m.status == MemberStatus.Active);
    }

    /// @inheritdoc IConsortium
    function isActivePractitioner(address account) external view returns (bool) {
        Practitioner storage p = _practitioners[account];
        return p.active && _members[p.institution].status == MemberStatus.Active;
    }

    /// @inheritdoc IConsortium
    function encryptionKeyOf(address practitioner_) external view returns (bytes memory) {
        return _encryptionKeys[practitioner_];
    }

    function _execute(
        ProposalAction action,
        address institution,
        InstitutionKind kind,
        uint16 newThresholdBps
    ) private {
        if (action == ProposalAction.SetThreshold) {
            uint16 old = _thresholdBps;
            _thresholdBps = newThresholdBps;
            emit ThresholdChanged(old, newThresholdBps);
            return;
        }
        // Re-checked: other proposals may have changed the member or the active count since this one was made.
        _checkTransition(action, institution);
        Member storage m = _members[institution];
        if (action == ProposalAction.Admit) {
            m.kind = kind;
            m.status = MemberStatus.Active;
            ++_activeCount;
            emit MemberAdmitted(institution, kind);
        } else if (action == ProposalAction.Suspend) {
            m.status = MemberStatus.Suspended;
            --_activeCount;
            emit MemberSuspended(institution);
        } else if (action == ProposalAction.Reinstate) {
            m.status = MemberStatus.Active;
            ++_activeCount;
            emit MemberReinstated(institution);
        } else {
            if (m.status == MemberStatus.Active) --_activeCount;
            m.status = MemberStatus.Removed;
            emit MemberRemoved(institution);
        }
    }

    function _checkTransition(ProposalAction action, address institution) private view {
        MemberStatus status = _members[institution].status;
        bool valid;
        if (action == ProposalAction.Admit) {
            valid = status == MemberStatus.None || status == MemberStatus.Removed;
        } else if (action == ProposalAction.Suspend) {
            valid = status == MemberStatus.Active;
        } else if (action == ProposalAction.Reinstate) {
            valid = status == MemberStatus.Suspended;
        } else {
            valid = status == MemberStatus.Active || status == MemberStatus.Suspended;
        }
        if (!valid) revert ConsortiumInvalidTransition(action, institution, status);
        if (status == MemberStatus.Active && _activeCount <= _MIN_ACTIVE_MEMBERS) {
            revert ConsortiumTooFewActiveMembers(_activeCount);
        }
    }

    /// @dev `ceil(active * bps / 10000)`; with `bps > 5000` and at least two active members this is at least two.
    function _requiredApprovals() private view returns (uint256) {
        return (uint256(_activeCount) * _thresholdBps + _MAX_BPS - 1) / _MAX_BPS;
    }

    function _checkActiveMember(address account) private view {
        if (_members[account].status != MemberStatus.Active) revert ConsortiumNotActiveMember(account);
    }

    function _checkThreshold(uint16 bps) private pure {
        if (bps <= _MAX_BPS / 2 || bps > _MAX_BPS) revert ConsortiumInvalidThreshold(bps);
    }

    function _checkKind(InstitutionKind kind) private pure {
        if (kind == InstitutionKind.None) revert ConsortiumInvalidKind(kind);
    }
}
