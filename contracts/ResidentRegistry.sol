// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {Masks} from "./utils/Masks.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title ResidentRegistry
/// @notice Resident registration and family-doctor agreements.
contract ResidentRegistry is IResidentRegistry, SignedMessages {
    bytes32 private constant _REGISTRATION_TYPEHASH = keccak256(
        "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _AGREEMENT_TYPEHASH = keccak256(
        "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,uint256 nonce,uint256 deadline)"
    );

    /// @dev The agreement in one slot (20 + 4 + 1 + 5 bytes): 40-bit seconds last until the year 36812.
    struct StoredAgreement {
        address doctor;
        uint32 sections;
        uint8 actions;
        uint40 endsAt;
    }

    IConsortium private immutable _consortium;

    mapping(address resident => bytes32) private _profiles;
    mapping(address resident => bytes) private _encryptionKeys;
    mapping(address resident => StoredAgreement) private _agreements;
    mapping(address resident => PendingAgreement) private _pending;

    /// @param consortium_ The consortium whose practitioners can be family doctors and relayers.
    constructor(IConsortium consortium_) SignedMessages("famchain ResidentRegistry") {
        _consortium = consortium_;
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner) public view override(ISignedMessages, SignedMessages) returns (uint256) {
        return super.nonces(owner);
    }

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
        if (!_consortium.isActiveMember(msg.sender) && !_consortium.isActivePractitioner(msg.sender)) {
            revert ResidentRegistryUnauthorizedRelayer(msg.sender);
        }
        bytes32 structHash = keccak256(
            abi.encode(_REGISTRATION_TYPEHASH, resident, keccak256(encryptionKey), profile, nonce, deadline)
        );
        _useSignature(resident, structHash, nonce, deadline, signature);
        _register(resident, encryptionKey, profile);
    }

    /// @inheritdoc IResidentRegistry
    function updateProfile(bytes32 profile) external {
        bytes32 current = _profiles[msg.sender];
        if (current == 0) revert ResidentRegistryNotRegistered(msg.sender);
        if (profile == 0) revert ResidentRegistryInvalidProfile();
        if (profile == current) return;
        _profiles[msg.sender] = profile;
        emit ProfileUpdated(msg.sender, profile);
    }

    /// @inheritdoc IResidentRegistry
    function proposeAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external {
        _checkTerms(sections, actions, term);
        bool residentProposes =
            counterparty != msg.sender && _profiles[msg.sender] != 0 && _isFamilyDoctor(counterparty);
        if (
            !residentProposes
                && (counterparty == msg.sender
                    || _profiles[counterparty] == 0
                    || !_isFamilyDoctor(msg.sender))
        ) revert ResidentRegistryInvalidCounterparty(msg.sender, counterparty);
        (address resident, address doctor) =
            residentProposes ? (msg.sender, counterparty) : (counterparty, msg.sender);
        _pending[resident] = PendingAgreement({
            doctor: doctor, proposer: msg.sender, sections: sections, actions: actions, term: term
        });
        emit AgreementProposed(resident, doctor, msg.sender, sections, actions, term);
    }

    /// @inheritdoc IResidentRegistry
    function acceptAgreement(address counterparty, uint32 sections, uint8 actions, uint64 term) external {
        address resident;
        address doctor;
        PendingAgreement memory p = _pending[msg.sender];
        if (p.proposer == counterparty && p.doctor == counterparty && counterparty != address(0)) {
            (resident, doctor) = (msg.sender, counterparty);
        } else {
            p = _pending[counterparty];
            if (p.proposer != counterparty || p.doctor != msg.sender || counterparty == address(0)) {
                revert ResidentRegistryNoPendingAgreement(msg.sender, counterparty);
            }
            (resident, doctor) = (counterparty, msg.sender);
        }
        if (p.sections != sections || p.actions != actions || p.term != term) {
            revert ResidentRegistryTermsMismatch(resident, doctor);
        }
        _checkTerm(term);
        _putInForce(resident, doctor, sections, actions, term);
    }

    /// @inheritdoc IResidentRegistry
    function acceptAgreementWithSig(
        address resident,
        uint32 sections,
        uint8 actions,
        uint64 term,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkTerms(sections, actions, term);
        bytes32 structHash = keccak256(
            abi.encode(_AGREEMENT_TYPEHASH, resident, msg.sender, sections, actions, term, nonce, deadline)
        );
        _useSignature(resident, structHash, nonce, deadline, signature);
        _putInForce(resident, msg.sender, sections, actions, term);
    }

    /// @inheritdoc IResidentRegistry
    function renewAgreement(uint64 term) external {
        _checkTerm(term);
        StoredAgreement memory a = _agreements[msg.sender];
        if (!_inForce(a)) revert ResidentRegistryNoActiveAgreement(msg.sender);
        uint40 endsAt = SafeCast.toUint40(block.timestamp + term);
        if (endsAt != a.endsAt) {
            _agreements[msg.sender].endsAt = endsAt;
            emit AgreementRenewed(msg.sender, a.doctor, endsAt);
        }
    }

    /// @inheritdoc IResidentRegistry
    function terminateAgreement(address resident) external {
        StoredAgreement memory a = _agreements[resident];
        if (a.doctor == address(0) || a.endsAt <= block.timestamp) {
            revert ResidentRegistryNoActiveAgreement(resident);
        }
        if (msg.sender != resident && msg.sender != a.doctor) {
            revert ResidentRegistryNotAgreementParty(resident, msg.sender);
        }
        delete _agreements[resident];
        emit AgreementTerminated(resident, a.doctor, msg.sender);
    }

    /// @inheritdoc IResidentRegistry
    function isRegistered(address resident) external view returns (bool) {
        return _profiles[resident] != 0;
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
        StoredAgreement memory a = _agreements[resident];
        if (_inForce(a)) return (a.doctor, a.sections, a.actions, a.endsAt);
        return (address(0), 0, 0, 0);
    }

    /// @inheritdoc IResidentRegistry
    function agreement(address resident) external view returns (Agreement memory) {
        StoredAgreement memory a = _agreements[resident];
        return Agreement({doctor: a.doctor, sections: a.sections, actions: a.actions, endsAt: a.endsAt});
    }

    /// @inheritdoc IResidentRegistry
    function pendingAgreement(address resident) external view returns (PendingAgreement memory) {
        return _pending[resident];
    }

    /// @inheritdoc IResidentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    function _register(address resident, bytes calldata encryptionKey, bytes32 profile) private {
        if (!Masks.isKeyOf(encryptionKey, resident)) revert ResidentRegistryInvalidEncryptionKey(resident);
        if (profile == 0) revert ResidentRegistryInvalidProfile();
        if (_profiles[resident] != 0) revert ResidentRegistryAlreadyRegistered(resident);
        _profiles[resident] = profile;
        _encryptionKeys[resident] = encryptionKey;
        emit ResidentRegistered(resident, encryptionKey, profile);
    }

    function _putInForce(address resident, address doctor, uint32 sections, uint8 actions, uint64 term)
        private
    {
        if (_profiles[resident] == 0) revert ResidentRegistryNotRegistered(resident);
        if (!_isFamilyDoctor(doctor)) revert ResidentRegistryNotFamilyDoctor(doctor);
        StoredAgreement memory current = _agreements[resident];
        if (current.doctor != doctor && _inForce(current)) {
            revert ResidentRegistryAgreementInForce(resident, current.doctor);
        }
        uint40 endsAt = SafeCast.toUint40(block.timestamp + term);
        _agreements[resident] =
            StoredAgreement({doctor: doctor, sections: sections, actions: actions, endsAt: endsAt});
        if (_pending[resident].doctor == doctor) delete _pending[resident];
        emit AgreementAccepted(resident, doctor, sections, actions, uint64(block.timestamp), endsAt);
    }

    /// @dev In force: not ended by block time, and the doctor still an active PrimaryCare practitioner.
    function _inForce(StoredAgreement memory a) private view returns (bool) {
        return a.endsAt > block.timestamp && _isFamilyDoctor(a.doctor);
    }

    function _isFamilyDoctor(address doctor) private view returns (bool) {
        (address institution, IConsortium.InstitutionKind kind, bool active) =
            _consortium.practitioner(doctor);
        if (!active || institution == address(0) || kind != IConsortium.InstitutionKind.PrimaryCare) {
            return false;
        }
        return true;
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
