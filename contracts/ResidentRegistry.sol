// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {Masks} from "./utils/Masks.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title ResidentRegistry
/// @notice Resident registration, family-doctor agreements, guardians and deletion requests.
contract ResidentRegistry is IResidentRegistry, SignedMessages {
    bytes32 private constant _REGISTRATION_TYPEHASH = keccak256(
        "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _PROFILE_TYPEHASH =
        keccak256("Profile(address resident,bytes32 profile,uint256 nonce,uint256 deadline)");
    bytes32 private constant _ENCRYPTION_KEY_TYPEHASH =
        keccak256("EncryptionKey(address resident,bytes encryptionKey,uint256 nonce,uint256 deadline)");
    bytes32 private constant _AGREEMENT_TYPEHASH = keccak256(
        "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _AGREEMENT_WITHDRAWAL_TYPEHASH =
        keccak256("AgreementWithdrawal(address resident,address doctor,uint256 nonce,uint256 deadline)");
    bytes32 private constant _TERMINATION_TYPEHASH =
        keccak256("Termination(address resident,address doctor,uint256 nonce,uint256 deadline)");
    bytes32 private constant _GUARDIAN_TYPEHASH = keccak256(
        "Guardian(address resident,address guardian,uint8 scope,uint64 expiresAt,bool dependent,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _GUARDIAN_REMOVAL_TYPEHASH =
        keccak256("GuardianRemoval(address resident,address guardian,uint256 nonce,uint256 deadline)");
    bytes32 private constant _DELETION_REQUEST_TYPEHASH =
        keccak256("DeletionRequest(address resident,bytes32 recordId,uint256 nonce,uint256 deadline)");

    /// @inheritdoc IResidentRegistry
    uint64 public constant PROPOSAL_TTL = 30 days;

    /// @dev A resident's hot slot (20 + 1 + 1 + 5 + 4 + 1 bytes): the family-doctor agreement and the resident's
    /// status bits, so that an anchor's checks (registered, card not locked, the family doctor in force) read one
    /// slot. Valid sections fit in 8 bits; 40-bit seconds last until the year 36812. The lock time is kept with the
    /// deletion requests (`_deletions[resident][0]`).
    struct Resident {
        address doctor;
        uint8 sections;
        uint8 actions;
        uint40 endsAt;
        uint32 enrollment;
        uint8 status;
    }

    uint8 private constant _REGISTERED = 0x01;
    uint8 private constant _LOCKED = 0x02;

    IConsortium private immutable _consortium;

    mapping(address resident => Resident) private _residents;
    mapping(address resident => bytes32) private _profiles;
    mapping(address resident => bytes) private _encryptionKeys;
    mapping(address resident => mapping(address doctor => PendingAgreement)) private _pending;
    mapping(address resident => mapping(address guardian => Guardianship)) private _guardians;
    /// @dev When the resident asked for the deletion of a record, or (record id 0) of the whole card.
    mapping(address resident => mapping(bytes32 recordId => uint64)) private _deletions;
    mapping(uint256 proposalId => bool) private _consumedProposals;

    /// @param consortium_ The consortium whose practitioners can be family doctors.
    constructor(IConsortium consortium_) SignedMessages("famchain ResidentRegistry") {
        _consortium = consortium_;
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

    // ----- registration and profile -----

    /// @inheritdoc IResidentRegistry
    function register(bytes calldata encryptionKey, bytes32 profile) external {
        _register(msg.sender, encryptionKey, profile);
    }

    /// @inheritdoc IResidentRegistry
    function registerWithSig(
        address resident,
        bytes calldata encryptionKey,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_REGISTRATION_TYPEHASH, resident, keccak256(encryptionKey), profile, nonce, deadline)
        );
        _useSignature(
            resident, 0, structHash, nonce, _nonceKey(_DOMAIN_REGISTRATION, address(0)), deadline, signature
        );
        _register(resident, encryptionKey, profile);
    }

    /// @inheritdoc IResidentRegistry
    function updateProfile(bytes32 profile) external {
        _updateProfile(msg.sender, profile);
    }

    /// @inheritdoc IResidentRegistry
    function updateProfileWithSig(
        address resident,
        bytes32 profile,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(_PROFILE_TYPEHASH, resident, profile, nonce, deadline));
        _useSignature(
            resident,
            Masks.GUARDIAN_PROFILE,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_PROFILE, address(0)),
            deadline,
            signature
        );
        _updateProfile(resident, profile);
    }

    /// @inheritdoc IResidentRegistry
    function setEncryptionKey(bytes calldata encryptionKey) external {
        _setEncryptionKey(msg.sender, encryptionKey);
    }

    /// @inheritdoc IResidentRegistry
    function setEncryptionKeyWithSig(
        address resident,
        bytes calldata encryptionKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_ENCRYPTION_KEY_TYPEHASH, resident, keccak256(encryptionKey), nonce, deadline)
        );
        _useSignature(
            resident,
            Masks.GUARDIAN_PROFILE,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_PROFILE, address(0)),
            deadline,
            signature
        );
        _setEncryptionKey(resident, encryptionKey);
    }

    // ----- agreements -----

    /// @inheritdoc IResidentRegistry
    function proposeAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external {
        _checkTerms(sections, actions, term);
        bool residentProposes =
            counterparty != msg.sender && _isRegistered(msg.sender) && _isFamilyDoctor(counterparty);
        if (
            !residentProposes
                && (counterparty == msg.sender
                    || !_isRegistered(counterparty)
                    || !_isFamilyDoctor(msg.sender))
        ) revert ResidentRegistryInvalidCounterparty(msg.sender, counterparty);
        (address resident, address doctor) =
            residentProposes ? (msg.sender, counterparty) : (counterparty, msg.sender);
        _checkUnlocked(resident);
        uint64 expiresAt = uint64(block.timestamp) + PROPOSAL_TTL;
        _pending[resident][doctor] = PendingAgreement({
            byResident: residentProposes,
            sections: sections,
            actions: actions,
            term: term,
            expiresAt: expiresAt,
            enrollment: _enrollmentAsFamilyDoctor(doctor)
        });
        emit AgreementProposed(resident, doctor, msg.sender, sections, actions, term, expiresAt);
    }

    /// @inheritdoc IResidentRegistry
    function acceptAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external {
        // The caller is the resident when the counterparty (the doctor) proposed to it, else the doctor.
        bool callerIsResident = _pending[msg.sender][counterparty].expiresAt != 0
            && !_pending[msg.sender][counterparty].byResident;
        (address resident, address doctor) =
            callerIsResident ? (msg.sender, counterparty) : (counterparty, msg.sender);
        _acceptPending(resident, doctor, !callerIsResident, sections, actions, term);
    }

    /// @inheritdoc IResidentRegistry
    function acceptAgreementWithSig(
        address resident,
        address doctor,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkTerms(sections, actions, term);
        bytes32 structHash = keccak256(
            abi.encode(_AGREEMENT_TYPEHASH, resident, doctor, sections, actions, term, nonce, deadline)
        );
        _useSignature(
            resident,
            Masks.GUARDIAN_AGREEMENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_AGREEMENT, doctor),
            deadline,
            signature
        );
        if (msg.sender == doctor) {
            _putInForce(resident, doctor, sections, actions, term);
        } else {
            // Relayed: the resident accepts the doctor's proposal with exactly the signed terms.
            _acceptPending(resident, doctor, false, sections, actions, term);
        }
    }

    /// @inheritdoc IResidentRegistry
    function withdrawProposal(address counterparty) external {
        bool callerIsResident = _pending[msg.sender][counterparty].expiresAt != 0;
        (address resident, address doctor) =
            callerIsResident ? (msg.sender, counterparty) : (counterparty, msg.sender);
        if (_pending[resident][doctor].expiresAt == 0) {
            revert ResidentRegistryNoPendingAgreement(resident, doctor);
        }
        _bumpNonce(resident, _nonceKey(_DOMAIN_AGREEMENT, doctor));
        _withdraw(resident, doctor, msg.sender);
    }

    /// @inheritdoc IResidentRegistry
    function withdrawProposalWithSig(
        address resident,
        address doctor,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (_pending[resident][doctor].expiresAt == 0) {
            revert ResidentRegistryNoPendingAgreement(resident, doctor);
        }
        bytes32 structHash =
            keccak256(abi.encode(_AGREEMENT_WITHDRAWAL_TYPEHASH, resident, doctor, nonce, deadline));
        _useSignature(
            resident,
            Masks.GUARDIAN_AGREEMENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_AGREEMENT, doctor),
            deadline,
            signature
        );
        _withdraw(resident, doctor, resident);
    }

    /// @inheritdoc IResidentRegistry
    function renewAgreement(uint64 term) external {
        _checkTerm(term);
        Resident memory a = _residents[msg.sender];
        if (!_inForce(a)) revert ResidentRegistryNoActiveAgreement(msg.sender);
        uint40 endsAt = SafeCast.toUint40(block.timestamp + term);
        if (endsAt != a.endsAt) {
            _residents[msg.sender].endsAt = endsAt;
            emit AgreementRenewed(msg.sender, a.doctor, endsAt);
        }
    }

    /// @inheritdoc IResidentRegistry
    function terminateAgreement(address resident) external {
        address doctor = _agreementNotEnded(resident);
        if (msg.sender != resident && msg.sender != doctor) {
            revert ResidentRegistryNotAgreementParty(resident, msg.sender);
        }
        _bumpNonce(resident, _nonceKey(_DOMAIN_AGREEMENT, doctor));
        _terminate(resident, doctor, msg.sender);
    }

    /// @inheritdoc IResidentRegistry
    function terminateAgreementWithSig(
        address resident,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        address doctor = _agreementNotEnded(resident);
        bytes32 structHash = keccak256(abi.encode(_TERMINATION_TYPEHASH, resident, doctor, nonce, deadline));
        _useSignature(
            resident,
            Masks.GUARDIAN_AGREEMENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_AGREEMENT, doctor),
            deadline,
            signature
        );
        _terminate(resident, doctor, resident);
    }

    // ----- guardians -----

    /// @inheritdoc IResidentRegistry
    function appointGuardian(address guardian, uint8 scope, uint64 expiresAt, bool dependent) external {
        _appoint(msg.sender, guardian, scope, expiresAt, dependent);
    }

    /// @inheritdoc IResidentRegistry
    function appointGuardianWithSig(
        address resident,
        address guardian,
        uint8 scope,
        uint64 expiresAt,
        bool dependent,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_GUARDIAN_TYPEHASH, resident, guardian, scope, expiresAt, dependent, nonce, deadline)
        );
        _useSignature(
            resident, 0, structHash, nonce, _nonceKey(_DOMAIN_GUARDIAN, guardian), deadline, signature
        );
        _appoint(resident, guardian, scope, expiresAt, dependent);
    }

    /// @inheritdoc IResidentRegistry
    function removeGuardian(address resident, address guardian) external {
        if (msg.sender != resident && msg.sender != guardian) {
            revert ResidentRegistryNotGuardianshipParty(resident, msg.sender);
        }
        _bumpNonce(resident, _nonceKey(_DOMAIN_GUARDIAN, guardian));
        _removeGuardian(resident, guardian, msg.sender);
    }

    /// @inheritdoc IResidentRegistry
    function removeGuardianWithSig(
        address resident,
        address guardian,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_GUARDIAN_REMOVAL_TYPEHASH, resident, guardian, nonce, deadline)
        );
        _useSignature(
            resident, 0, structHash, nonce, _nonceKey(_DOMAIN_GUARDIAN, guardian), deadline, signature
        );
        _removeGuardian(resident, guardian, resident);
    }

    /// @inheritdoc IResidentRegistry
    function endGuardianship(uint256 proposalId) external {
        if (_consumedProposals[proposalId]) revert ResidentRegistryEndGuardianshipConsumed(proposalId);
        IConsortium.Proposal memory p = _consortium.proposal(proposalId);
        if (p.action != IConsortium.ProposalAction.EndGuardianship || !p.executed) {
            revert ResidentRegistryInvalidEndGuardianship(proposalId);
        }
        _consumedProposals[proposalId] = true;
        (address resident, address guardian) = (p.subject, p.institution);
        if (_guardians[resident][guardian].scope != 0) {
            delete _guardians[resident][guardian];
            _bumpNonce(resident, _nonceKey(_DOMAIN_GUARDIAN, guardian));
            emit GuardianRemoved(resident, guardian, address(_consortium));
        }
    }

    // ----- deletion requests -----

    /// @inheritdoc IResidentRegistry
    function requestDeletion(bytes32 recordId) external {
        _requestDeletion(msg.sender, recordId);
    }

    /// @inheritdoc IResidentRegistry
    function requestDeletionWithSig(
        address resident,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_DELETION_REQUEST_TYPEHASH, resident, recordId, nonce, deadline)
        );
        _useSignature(
            resident,
            Masks.GUARDIAN_RECORDS,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_DELETION, recordId),
            deadline,
            signature
        );
        _requestDeletion(resident, recordId);
    }

    // ----- views -----

    /// @inheritdoc IResidentRegistry
    function isRegistered(address resident) external view returns (bool) {
        return _isRegistered(resident);
    }

    /// @inheritdoc IResidentRegistry
    function residentStatus(address resident) external view returns (bool registered, bool locked) {
        uint8 status = _residents[resident].status;
        return (status & _REGISTERED != 0, status & _LOCKED != 0);
    }

    /// @inheritdoc IResidentRegistry
    function cardAccessOf(address resident, address accessor)
        external
        view
        returns (bool registered, bool locked, uint32 sections, uint8 actions)
    {
        Resident memory r = _residents[resident];
        registered = r.status & _REGISTERED != 0;
        locked = r.status & _LOCKED != 0;
        if (r.doctor == accessor && accessor != address(0) && _inForce(r)) {
            (sections, actions) = (r.sections, r.actions);
        }
    }

    /// @inheritdoc IResidentRegistry
    function encryptionKeyOf(address resident) external view returns (bytes memory) {
        return _encryptionKeys[resident];
    }

    /// @inheritdoc IResidentRegistry
    function profileOf(address resident) external view returns (bytes32) {
        return _profiles[resident];
    }

    /// @inheritdoc IResidentRegistry
    function activeFamilyDoctor(address resident)
        external
        view
        returns (address doctor, uint32 sections, uint8 actions, uint64 endsAt)
    {
        Resident memory a = _residents[resident];
        if (_inForce(a)) return (a.doctor, a.sections, a.actions, a.endsAt);
        return (address(0), 0, 0, 0);
    }

    /// @inheritdoc IResidentRegistry
    function familyDoctorOf(address resident) external view returns (address) {
        Resident memory a = _residents[resident];
        return _inForce(a) ? a.doctor : address(0);
    }

    /// @inheritdoc IResidentRegistry
    function accessOf(address patient, address accessor)
        external
        view
        returns (uint32 sections, uint8 actions)
    {
        Resident memory a = _residents[patient];
        if (a.doctor == accessor && accessor != address(0) && _inForce(a)) return (a.sections, a.actions);
        Guardianship memory g = _guardians[patient][accessor];
        if (g.scope & Masks.GUARDIAN_READ != 0 && g.expiresAt > block.timestamp) {
            return (Masks.ALL_SECTIONS, Masks.READ);
        }
        return (0, 0);
    }

    /// @inheritdoc IResidentRegistry
    function agreement(address resident) external view returns (Agreement memory) {
        Resident memory a = _residents[resident];
        return Agreement({
            doctor: a.doctor,
            sections: a.sections,
            actions: a.actions,
            endsAt: a.endsAt,
            enrollment: a.enrollment
        });
    }

    /// @inheritdoc IResidentRegistry
    function pendingAgreement(address resident, address doctor)
        external
        view
        returns (PendingAgreement memory)
    {
        return _pending[resident][doctor];
    }

    /// @inheritdoc IResidentRegistry
    function guardianScope(address resident, address guardian) external view returns (uint8) {
        return _guardianScope(resident, guardian);
    }

    /// @inheritdoc IResidentRegistry
    function guardianship(address resident, address guardian) external view returns (Guardianship memory) {
        return _guardians[resident][guardian];
    }

    /// @inheritdoc IResidentRegistry
    function deletionRequestedAt(address resident, bytes32 recordId) external view returns (uint64) {
        return _deletions[resident][recordId];
    }

    /// @inheritdoc IResidentRegistry
    function isEndGuardianshipConsumed(uint256 proposalId) external view returns (bool) {
        return _consumedProposals[proposalId];
    }

    /// @inheritdoc IResidentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    // ----- internals -----

    function _guardianScope(address resident, address guardian) internal view override returns (uint8) {
        Guardianship memory g = _guardians[resident][guardian];
        return g.expiresAt > block.timestamp ? g.scope : 0;
    }

    function _register(address resident, bytes calldata encryptionKey, bytes32 profile) private {
        if (!Masks.isOnCurve(encryptionKey)) revert ResidentRegistryInvalidEncryptionKey(resident);
        if (profile == 0) revert ResidentRegistryInvalidProfile();
        if (_isRegistered(resident)) revert ResidentRegistryAlreadyRegistered(resident);
        // Nothing else is stored in the slot of an unregistered resident (agreements and locks need registration).
        _residents[resident].status = _REGISTERED;
        _profiles[resident] = profile;
        _encryptionKeys[resident] = encryptionKey;
        emit ResidentRegistered(resident, encryptionKey, profile);
    }

    function _updateProfile(address resident, bytes32 profile) private {
        _checkRegistered(resident);
        if (profile == 0) revert ResidentRegistryInvalidProfile();
        if (profile == _profiles[resident]) return;
        _profiles[resident] = profile;
        emit ProfileUpdated(resident, profile);
    }

    function _setEncryptionKey(address resident, bytes calldata encryptionKey) private {
        _checkRegistered(resident);
        if (!Masks.isOnCurve(encryptionKey)) revert ResidentRegistryInvalidEncryptionKey(resident);
        if (keccak256(encryptionKey) == keccak256(_encryptionKeys[resident])) return;
        _encryptionKeys[resident] = encryptionKey;
        emit EncryptionKeyChanged(resident, encryptionKey);
    }

    /// @dev Accepts the pair's unexpired proposal made by the resident (`byResident`) or the doctor.
    function _acceptPending(
        address resident,
        address doctor,
        bool byResident,
        uint32 sections,
        uint8 actions,
        uint64 term
    ) private {
        PendingAgreement memory p = _pending[resident][doctor];
        if (p.expiresAt == 0 || p.byResident != byResident || doctor == address(0)) {
            revert ResidentRegistryNoPendingAgreement(resident, doctor);
        }
        if (block.timestamp >= p.expiresAt) {
            revert ResidentRegistryProposalExpired(resident, doctor, p.expiresAt);
        }
        if (p.sections != sections || p.actions != actions || p.term != term) {
            revert ResidentRegistryTermsMismatch(resident, doctor);
        }
        uint32 current = _enrollmentAsFamilyDoctor(doctor);
        if (current != p.enrollment) revert ResidentRegistryEnrollmentChanged(doctor, p.enrollment, current);
        _checkTerm(term);
        _putInForce(resident, doctor, sections, actions, term);
    }

    function _putInForce(address resident, address doctor, uint32 sections, uint8 actions, uint64 term)
        private
    {
        _checkRegistered(resident);
        _checkUnlocked(resident);
        uint32 enrollment = _requireFamilyDoctor(doctor);
        Resident memory current = _residents[resident];
        if (current.doctor != doctor && _inForce(current)) {
            revert ResidentRegistryAgreementInForce(resident, current.doctor);
        }
        uint40 endsAt = SafeCast.toUint40(block.timestamp + term);
        _residents[resident] = Resident({
            doctor: doctor,
            // Valid sections fit in 8 bits (checked by `_checkTerms`).
            // forge-lint: disable-next-line(unsafe-typecast)
            sections: uint8(sections),
            actions: actions,
            endsAt: endsAt,
            enrollment: enrollment,
            status: current.status
        });
        if (_pending[resident][doctor].expiresAt != 0) delete _pending[resident][doctor];
        emit AgreementAccepted(resident, doctor, sections, actions, uint64(block.timestamp), endsAt);
    }

    function _withdraw(address resident, address doctor, address by) private {
        delete _pending[resident][doctor];
        emit AgreementProposalWithdrawn(resident, doctor, by);
    }

    /// @dev The doctor of `resident`'s agreement that has not ended by time (its enrollment may be gone).
    function _agreementNotEnded(address resident) private view returns (address doctor) {
        Resident memory a = _residents[resident];
        if (a.doctor == address(0) || a.endsAt <= block.timestamp) {
            revert ResidentRegistryNoActiveAgreement(resident);
        }
        return a.doctor;
    }

    /// @dev Clears the agreement and keeps the resident's status bits.
    function _terminate(address resident, address doctor, address by) private {
        _residents[resident] = Resident({
            doctor: address(0),
            sections: 0,
            actions: 0,
            endsAt: 0,
            enrollment: 0,
            status: _residents[resident].status
        });
        if (_pending[resident][doctor].expiresAt != 0) delete _pending[resident][doctor];
        emit AgreementTerminated(resident, doctor, by);
    }

    function _appoint(address resident, address guardian, uint8 scope, uint64 expiresAt, bool dependent)
        private
    {
        _checkRegistered(resident);
        if (guardian == address(0) || guardian == resident) {
            revert ResidentRegistryInvalidGuardian(resident, guardian);
        }
        if (!Masks.validGuardianScope(scope)) revert ResidentRegistryInvalidGuardianScope(scope);
        if (expiresAt <= block.timestamp) revert ResidentRegistryInvalidGuardianExpiry(expiresAt);
        _checkNotDependent(resident, guardian);
        _guardians[resident][guardian] =
            Guardianship({scope: scope, expiresAt: expiresAt, dependent: dependent});
        emit GuardianAppointed(resident, guardian, scope, expiresAt, dependent);
    }

    function _removeGuardian(address resident, address guardian, address by) private {
        if (_guardians[resident][guardian].scope == 0) {
            revert ResidentRegistryNoGuardianship(resident, guardian);
        }
        if (by == resident) _checkNotDependent(resident, guardian);
        delete _guardians[resident][guardian];
        emit GuardianRemoved(resident, guardian, by);
    }

    /// @dev A dependent cannot dismiss (or replace the terms of) its guardian before the guardianship expires.
    function _checkNotDependent(address resident, address guardian) private view {
        Guardianship memory g = _guardians[resident][guardian];
        if (g.dependent && g.expiresAt > block.timestamp) {
            revert ResidentRegistryDependentGuardianship(resident, guardian, g.expiresAt);
        }
    }

    function _requestDeletion(address resident, bytes32 recordId) private {
        _checkRegistered(resident);
        uint64 now_ = uint64(block.timestamp);
        if (_deletions[resident][recordId] != 0) {
            revert ResidentRegistryDeletionAlreadyRequested(resident, recordId);
        }
        _deletions[resident][recordId] = now_;
        emit DeletionRequested(resident, recordId, now_);
        if (recordId == 0) {
            Resident memory a = _residents[resident];
            _residents[resident].status = a.status | _LOCKED;
            if (a.doctor != address(0) && a.endsAt > block.timestamp) {
                _bumpNonce(resident, _nonceKey(_DOMAIN_AGREEMENT, a.doctor));
                _terminate(resident, a.doctor, resident);
            }
        }
    }

    /// @dev In force: not ended by block time, and the doctor still an active PrimaryCare practitioner under the
    /// enrollment the agreement was made with.
    function _inForce(Resident memory a) private view returns (bool) {
        // Slither's context-insensitive taint ties these enrollment counters to block.timestamp; comparing two
        // counters for equality is exactly what is meant here.
        // slither-disable-next-line incorrect-equality
        return a.endsAt > block.timestamp && a.enrollment != 0
            && _enrollmentAsFamilyDoctor(a.doctor) == a.enrollment;
    }

    function _isFamilyDoctor(address doctor) private view returns (bool) {
        return _enrollmentAsFamilyDoctor(doctor) != 0;
    }

    function _requireFamilyDoctor(address doctor) private view returns (uint32 enrollment) {
        enrollment = _enrollmentAsFamilyDoctor(doctor);
        if (enrollment != 0) return enrollment;
        revert ResidentRegistryNotFamilyDoctor(doctor);
    }

    /// @dev The doctor's enrollment when it is an active practitioner of an active PrimaryCare member, else 0.
    function _enrollmentAsFamilyDoctor(address doctor) private view returns (uint32) {
        IConsortium.PractitionerStatus memory p = _consortium.practitioner(doctor);
        return p.kind != IConsortium.InstitutionKind.PrimaryCare ? 0 : p.enrollment;
    }

    function _isRegistered(address resident) private view returns (bool) {
        return _residents[resident].status & _REGISTERED != 0;
    }

    function _checkRegistered(address resident) private view {
        if (!_isRegistered(resident)) revert ResidentRegistryNotRegistered(resident);
    }

    function _checkUnlocked(address resident) private view {
        if (_residents[resident].status & _LOCKED != 0) revert ResidentRegistryCardLocked(resident);
    }

    function _checkTerms(uint32 sections, uint8 actions, uint64 term) private view {
        if (!Masks.validSections(sections)) revert ResidentRegistryInvalidSections(sections);
        if (!Masks.validActions(actions)) revert ResidentRegistryInvalidActions(actions);
        _checkTerm(term);
    }

    function _checkTerm(uint64 term) private view {
        if (term == 0 || block.timestamp + term > type(uint40).max) revert ResidentRegistryInvalidTerm(term);
    }
}
