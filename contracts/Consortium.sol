// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {Masks} from "./utils/Masks.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title Consortium
/// @notice Member institutions governed by vote, the practitioners each registers with their own signature, the
/// emergency custodians and the emergency parameters.
contract Consortium is IConsortium, SignedMessages {
    bytes32 private constant _ENROLLMENT_TYPEHASH =
        keccak256("Enrollment(address practitioner,address institution,uint256 nonce,uint256 deadline)");

    uint16 private constant _DEFAULT_THRESHOLD_BPS = 5001;
    uint16 private constant _MAX_BPS = 10_000;
    uint256 private constant _MIN_ACTIVE_MEMBERS = 2;
    uint256 private constant _MIN_APPROVALS = 2;

    uint64 private constant _DEFAULT_CUSTODIAN_THRESHOLD = 2;
    uint64 private constant _DEFAULT_EMERGENCY_DURATION = 24 hours;
    uint64 private constant _DEFAULT_PHYSICIAN_DAILY_LIMIT = 3;
    uint64 private constant _DEFAULT_INSTITUTION_DAILY_LIMIT = 20;
    uint64 private constant _MAX_CUSTODIAN_THRESHOLD = type(uint8).max;
    uint64 private constant _MAX_EMERGENCY_DURATION = 24 hours;

    struct Member {
        InstitutionKind kind;
        MemberStatus status;
        uint32 epoch;
        bool custodian;
    }

    struct Practitioner {
        address institution;
        uint32 memberEpoch;
        uint32 enrollment;
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
    mapping(uint256 proposalId => address[]) private _voters;
    mapping(address account => Practitioner) private _practitioners;
    mapping(address account => bytes) private _encryptionKeys;
    mapping(address institution => bytes) private _memberKeys;
    mapping(Parameter => uint64) private _parameters;
    /// @dev Members holding the custodian flag (bounded by the member count).
    address[] private _custodianList;

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
    ) SignedMessages("famchain Consortium") {
        if (founders.length < _MIN_ACTIVE_MEMBERS || founders.length != kinds.length) {
            revert ConsortiumInvalidFounders(founders.length, kinds.length);
        }
        if (thresholdBps_ == 0) thresholdBps_ = _DEFAULT_THRESHOLD_BPS;
        _checkThreshold(thresholdBps_);
        if (votingPeriod_ == 0) revert ConsortiumInvalidVotingPeriod();
        _votingPeriod = votingPeriod_;
        _thresholdBps = thresholdBps_;
        emit ThresholdChanged(0, thresholdBps_);
        _setParameter(Parameter.CustodianThreshold, _DEFAULT_CUSTODIAN_THRESHOLD);
        _setParameter(Parameter.EmergencyDuration, _DEFAULT_EMERGENCY_DURATION);
        _setParameter(Parameter.PhysicianDailyLimit, _DEFAULT_PHYSICIAN_DAILY_LIMIT);
        _setParameter(Parameter.InstitutionDailyLimit, _DEFAULT_INSTITUTION_DAILY_LIMIT);
        for (uint256 i = 0; i < founders.length; ++i) {
            address founder = founders[i];
            if (founder == address(0)) revert ConsortiumZeroAddress();
            _checkKind(kinds[i]);
            if (_members[founder].status != MemberStatus.None) revert ConsortiumDuplicateFounder(founder);
            _members[founder] =
                Member({kind: kinds[i], status: MemberStatus.Active, epoch: 1, custodian: false});
            emit MemberAdmitted(founder, kinds[i], 1);
        }
        _activeCount = uint32(founders.length);
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner, uint192 key)
        public
        view
        override(ISignedMessages, SignedMessages)
        returns (uint256)
    {
        return super.nonces(owner, key);
    }

    modifier onlyActiveMember() {
        _checkActiveMember(msg.sender);
        _;
    }

    /// @inheritdoc IConsortium
    function propose(
        ProposalAction action,
        address institution,
        address subject,
        InstitutionKind kind,
        Parameter parameter_,
        uint64 value
    ) external onlyActiveMember returns (uint256 proposalId) {
        if (action == ProposalAction.SetThreshold || action == ProposalAction.SetParameter) {
            if (action == ProposalAction.SetThreshold) {
                _checkThreshold(value);
                parameter_ = Parameter.None;
            } else {
                _checkParameter(parameter_, value);
            }
            (institution, subject, kind) = (address(0), address(0), InstitutionKind.None);
        } else {
            if (institution == address(0)) revert ConsortiumZeroAddress();
            if (action == ProposalAction.EndGuardianship) {
                if (subject == address(0)) revert ConsortiumZeroAddress();
            } else {
                subject = address(0);
                _checkTransition(action, institution);
            }
            if (action == ProposalAction.Admit) _checkKind(kind);
            else kind = InstitutionKind.None;
            (parameter_, value) = (Parameter.None, 0);
        }
        proposalId = ++_proposalCount;
        uint64 expiresAt = uint64(block.timestamp) + _votingPeriod;
        _proposals[proposalId] = Proposal({
            action: action,
            kind: kind,
            parameter: parameter_,
            votes: 1,
            value: value,
            expiresAt: expiresAt,
            executed: false,
            institution: institution,
            subject: subject,
            proposer: msg.sender
        });
        _voted[proposalId][msg.sender] = true;
        _voters[proposalId].push(msg.sender);
        emit ProposalCreated(
            proposalId, msg.sender, action, institution, subject, kind, parameter_, value, expiresAt
        );
        // One vote never reaches the minimum of two approvals: no execution here.
    }

    /// @inheritdoc IConsortium
    function vote(uint256 proposalId) external onlyActiveMember {
        Proposal storage p = _openProposal(proposalId);
        if (_voted[proposalId][msg.sender]) revert ConsortiumAlreadyVoted(proposalId, msg.sender);
        _voted[proposalId][msg.sender] = true;
        _voters[proposalId].push(msg.sender);
        uint32 votes = p.votes + 1;
        p.votes = votes;
        emit ProposalVoted(proposalId, msg.sender, votes);
        (uint256 approvals, uint256 required) = _tally(proposalId, p);
        if (approvals >= required) _execute(proposalId, p, approvals, required);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        (uint256 approvals, uint256 required) = _tally(proposalId, p);
        if (approvals < required) revert ConsortiumNotEnoughApprovals(proposalId, approvals, required);
        _execute(proposalId, p, approvals, required);
    }

    /// @inheritdoc IConsortium
    function registerPractitioner(
        address practitioner_,
        bytes calldata encryptionKey,
        uint256 keyNonce,
        uint256 deadline,
        bytes calldata signature
    ) external onlyActiveMember {
        if (practitioner_ == address(0)) revert ConsortiumZeroAddress();
        if (!Masks.isKeyOf(encryptionKey, practitioner_)) {
            revert ConsortiumInvalidEncryptionKey(practitioner_);
        }
        Practitioner storage p = _practitioners[practitioner_];
        if (_enrollmentOf(p) != 0) revert ConsortiumPractitionerActive(practitioner_, p.institution);
        bytes32 structHash =
            keccak256(abi.encode(_ENROLLMENT_TYPEHASH, practitioner_, msg.sender, keyNonce, deadline));
        _useSignature(
            practitioner_,
            0,
            structHash,
            keyNonce,
            _nonceKey(_DOMAIN_ENROLLMENT, msg.sender),
            deadline,
            signature
        );
        uint32 enrollment = p.enrollment + 1;
        _practitioners[practitioner_] = Practitioner({
            institution: msg.sender,
            memberEpoch: _members[msg.sender].epoch,
            enrollment: enrollment,
            active: true
        });
        _encryptionKeys[practitioner_] = encryptionKey;
        emit PractitionerRegistered(msg.sender, practitioner_, enrollment, encryptionKey);
    }

    /// @inheritdoc IConsortium
    function deactivatePractitioner(address practitioner_) external onlyActiveMember {
        Practitioner storage p = _practitioners[practitioner_];
        if (p.institution != msg.sender || _enrollmentOf(p) == 0) {
            revert ConsortiumNotOwnPractitioner(practitioner_, msg.sender);
        }
        p.active = false;
        emit PractitionerDeactivated(msg.sender, practitioner_);
    }

    /// @inheritdoc IConsortium
    function resign() external {
        Practitioner storage p = _practitioners[msg.sender];
        if (_enrollmentOf(p) == 0) revert ConsortiumNotOwnPractitioner(msg.sender, p.institution);
        p.active = false;
        emit PractitionerResigned(p.institution, msg.sender);
    }

    /// @inheritdoc IConsortium
    function publishMemberKey(bytes calldata key) external onlyActiveMember {
        if (!Masks.isKeyOf(key, msg.sender)) revert ConsortiumInvalidEncryptionKey(msg.sender);
        _memberKeys[msg.sender] = key;
        emit MemberKeyPublished(msg.sender, key);
    }

    /// @inheritdoc IConsortium
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].status == MemberStatus.Active;
    }

    /// @inheritdoc IConsortium
    function member(address institution)
        external
        view
        returns (InstitutionKind kind, MemberStatus status, uint32 epoch, bool custodian)
    {
        Member memory m = _members[institution];
        return (m.kind, m.status, m.epoch, m.custodian);
    }

    /// @inheritdoc IConsortium
    function memberEpoch(address institution) external view returns (uint32) {
        return _members[institution].epoch;
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
    function voters(uint256 proposalId) external view returns (address[] memory) {
        return _voters[proposalId];
    }

    /// @inheritdoc IConsortium
    function activeApprovals(uint256 proposalId) external view returns (uint256 approvals) {
        (approvals,) = _tally(proposalId, _proposals[proposalId]);
    }

    /// @inheritdoc IConsortium
    function requiredApprovals(uint256 proposalId) external view returns (uint256 required) {
        (, required) = _tally(proposalId, _proposals[proposalId]);
    }

    /// @inheritdoc IConsortium
    function practitioner(address account) external view returns (PractitionerStatus memory status) {
        Practitioner storage p = _practitioners[account];
        status.institution = p.institution;
        status.kind = _members[status.institution].kind;
        status.enrollment = _enrollmentOf(p);
        status.active = status.enrollment != 0;
    }

    /// @inheritdoc IConsortium
    function enrollmentOf(address account) external view returns (uint32) {
        return _enrollmentOf(_practitioners[account]);
    }

    /// @inheritdoc IConsortium
    function isActivePractitioner(address account) external view returns (bool) {
        return _enrollmentOf(_practitioners[account]) != 0;
    }

    /// @inheritdoc IConsortium
    function encryptionKeyOf(address practitioner_) external view returns (bytes memory) {
        return _encryptionKeys[practitioner_];
    }

    /// @inheritdoc IConsortium
    function memberKeyOf(address institution) external view returns (bytes memory) {
        return _memberKeys[institution];
    }

    /// @inheritdoc IConsortium
    function isCustodian(address institution) external view returns (bool) {
        Member storage m = _members[institution];
        return m.custodian && m.status == MemberStatus.Active;
    }

    /// @inheritdoc IConsortium
    function custodians() external view returns (address[] memory list) {
        uint256 n = _custodianList.length;
        list = new address[](n);
        uint256 count = 0;
        for (uint256 i = 0; i < n; ++i) {
            address c = _custodianList[i];
            if (_members[c].status == MemberStatus.Active) list[count++] = c;
        }
        // Shrinks the returned array to the active custodians (no copy).
        address[] memory active = new address[](count);
        for (uint256 i = 0; i < count; ++i) {
            active[i] = list[i];
        }
        return active;
    }

    /// @inheritdoc IConsortium
    function parameter(Parameter which) external view returns (uint64) {
        return _parameters[which];
    }

    /// @dev The Consortium knows no guardians: practitioners sign for themselves.
    function _guardianScope(address, address) internal pure override returns (uint8) {
        return 0;
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        uint64 expiresAt = p.expiresAt;
        if (expiresAt == 0) revert ConsortiumUnknownProposal(proposalId);
        if (p.executed) revert ConsortiumProposalExecuted(proposalId);
        if (block.timestamp > expiresAt) revert ConsortiumProposalExpired(proposalId, expiresAt);
    }

    /// @dev Approvals = voters active now (the target of a Suspend/Remove excluded); required =
    /// `max(2, ceil(electorate * bps / 10000))`, electorate = active members less an active target.
    function _tally(uint256 proposalId, Proposal storage p)
        private
        view
        returns (uint256 approvals, uint256 required)
    {
        ProposalAction action = p.action;
        address target =
            action == ProposalAction.Suspend || action == ProposalAction.Remove ? p.institution : address(0);
        address[] storage list = _voters[proposalId];
        uint256 n = list.length;
        for (uint256 i = 0; i < n; ++i) {
            address voter = list[i];
            if (voter != target && _members[voter].status == MemberStatus.Active) ++approvals;
        }
        uint256 electorate = _activeCount;
        if (target != address(0) && _members[target].status == MemberStatus.Active) --electorate;
        required = (electorate * _thresholdBps + _MAX_BPS - 1) / _MAX_BPS;
        if (required < _MIN_APPROVALS) required = _MIN_APPROVALS;
    }

    function _execute(uint256 proposalId, Proposal storage p, uint256 approvals, uint256 required) private {
        p.executed = true;
        emit ProposalExecuted(proposalId, approvals, required);
        ProposalAction action = p.action;
        if (action == ProposalAction.SetThreshold) {
            uint16 old = _thresholdBps;
            uint16 bps = uint16(p.value); // validated to (5000, 10000] when proposed
            _thresholdBps = bps;
            emit ThresholdChanged(old, bps);
        } else if (action == ProposalAction.SetParameter) {
            _setParameter(p.parameter, p.value);
        } else if (action != ProposalAction.EndGuardianship) {
            // ResidentRegistry consumes an executed EndGuardianship; the others are re-checked here: other
            // proposals may have changed the member or the active count since this one was made.
            _applyMemberChange(action, p.institution, p.kind);
        }
    }

    function _applyMemberChange(ProposalAction action, address institution, InstitutionKind kind) private {
        _checkTransition(action, institution);
        Member storage m = _members[institution];
        if (action == ProposalAction.Admit) {
            uint32 epoch = m.epoch + 1;
            m.kind = kind;
            m.status = MemberStatus.Active;
            m.epoch = epoch;
            ++_activeCount;
            emit MemberAdmitted(institution, kind, epoch);
        } else if (action == ProposalAction.Suspend) {
            m.status = MemberStatus.Suspended;
            --_activeCount;
            emit MemberSuspended(institution);
        } else if (action == ProposalAction.Reinstate) {
            m.status = MemberStatus.Active;
            ++_activeCount;
            emit MemberReinstated(institution);
        } else if (action == ProposalAction.Remove) {
            if (m.status == MemberStatus.Active) --_activeCount;
            m.status = MemberStatus.Removed;
            emit MemberRemoved(institution);
            // A re-admitted institution does not come back as a custodian.
            if (m.custodian) _dropCustodian(m, institution);
        } else if (action == ProposalAction.AddCustodian) {
            m.custodian = true;
            _custodianList.push(institution);
            emit CustodianAdded(institution);
        } else {
            _dropCustodian(m, institution);
        }
    }

    function _dropCustodian(Member storage m, address institution) private {
        m.custodian = false;
        uint256 n = _custodianList.length;
        for (uint256 i = 0; i < n; ++i) {
            if (_custodianList[i] == institution) {
                _custodianList[i] = _custodianList[n - 1];
                _custodianList.pop();
                break;
            }
        }
        emit CustodianRemoved(institution);
    }

    function _setParameter(Parameter which, uint64 value) private {
        uint64 old = _parameters[which];
        _parameters[which] = value;
        emit ParameterChanged(which, old, value);
    }

    function _checkTransition(ProposalAction action, address institution) private view {
        Member storage m = _members[institution];
        MemberStatus status = m.status;
        bool valid = false;
        bool leavesActive = false;
        if (action == ProposalAction.Admit) {
            valid = status == MemberStatus.None || status == MemberStatus.Removed;
        } else if (action == ProposalAction.Suspend) {
            valid = status == MemberStatus.Active;
            leavesActive = true;
        } else if (action == ProposalAction.Reinstate) {
            valid = status == MemberStatus.Suspended;
        } else if (action == ProposalAction.Remove) {
            valid = status == MemberStatus.Active || status == MemberStatus.Suspended;
            leavesActive = status == MemberStatus.Active;
        } else if (action == ProposalAction.AddCustodian) {
            valid = status == MemberStatus.Active && !m.custodian && _memberKeys[institution].length != 0;
        } else {
            valid = m.custodian;
        }
        if (!valid) revert ConsortiumInvalidTransition(action, institution, status);
        if (leavesActive && _activeCount <= _MIN_ACTIVE_MEMBERS) {
            revert ConsortiumTooFewActiveMembers(_activeCount);
        }
    }

    /// @dev Non-zero only while registered, the institution active and in the epoch it was registered under.
    function _enrollmentOf(Practitioner storage p) private view returns (uint32) {
        // Read in one expression each, so that every slot is loaded once.
        (bool active, address institution, uint32 registeredEpoch, uint32 enrollment) =
            (p.active, p.institution, p.memberEpoch, p.enrollment);
        Member storage m = _members[institution];
        (MemberStatus status, uint32 epoch) = (m.status, m.epoch);
        if (!active || status != MemberStatus.Active || epoch != registeredEpoch) return 0;
        return enrollment;
    }

    function _checkActiveMember(address account) private view {
        if (_members[account].status != MemberStatus.Active) revert ConsortiumNotActiveMember(account);
    }

    function _checkThreshold(uint256 bps) private pure {
        if (bps <= _MAX_BPS / 2 || bps > _MAX_BPS) revert ConsortiumInvalidThreshold(bps);
    }

    function _checkParameter(Parameter which, uint64 value) private pure {
        bool valid = false;
        if (which == Parameter.CustodianThreshold) valid = value >= 1 && value <= _MAX_CUSTODIAN_THRESHOLD;
        else if (which == Parameter.EmergencyDuration) valid = value >= 1 && value <= _MAX_EMERGENCY_DURATION;
        else if (which != Parameter.None) valid = value >= 1;
        if (!valid) revert ConsortiumInvalidParameter(which, value);
    }

    function _checkKind(InstitutionKind kind) private pure {
        if (kind == InstitutionKind.None) revert ConsortiumInvalidKind(kind);
    }
}
