// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {Masks} from "./utils/Masks.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title ConsentRegistry
/// @notice Patient consents and the access rule `isAuthorized`.
contract ConsentRegistry is IConsentRegistry, SignedMessages {
    bytes32 private constant _CONSENT_TYPEHASH = keccak256(
        "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint8 purpose,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );

    IConsortium private immutable _consortium;
    IResidentRegistry private immutable _residentRegistry;

    mapping(address patient => mapping(address grantee => Grant)) private _grants;
    mapping(address patient => mapping(address grantee => Request)) private _requests;

    /// @param consortium_ The consortium whose active practitioners can be grantees.
    /// @param residentRegistry_ Registration and family-doctor agreements.
    constructor(IConsortium consortium_, IResidentRegistry residentRegistry_)
        SignedMessages("famchain ConsentRegistry")
    {
        _consortium = consortium_;
        _residentRegistry = residentRegistry_;
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner) public view override(ISignedMessages, SignedMessages) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IConsentRegistry
    function grant(address grantee, uint32 sections, uint8 actions, uint8 purpose, uint64 expiresAt)
        external
    {
        _grant(msg.sender, grantee, sections, actions, purpose, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function grantWithSig(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                _CONSENT_TYPEHASH, patient, grantee, sections, actions, purpose, expiresAt, nonce, deadline
            )
        );
        _useSignature(patient, structHash, nonce, deadline, signature);
        _grant(patient, grantee, sections, actions, purpose, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee) external {
        if (_grants[msg.sender][grantee].sections == 0) {
            revert ConsentRegistryNotGranted(msg.sender, grantee);
        }
        delete _grants[msg.sender][grantee];
        emit ConsentRevoked(msg.sender, grantee);
    }

    /// @inheritdoc IConsentRegistry
    function requestAccess(address patient, uint32 sections, uint8 actions, uint8 purpose) external {
        _checkScope(sections, actions, purpose);
        if (patient == msg.sender || !_isActivePractitioner(msg.sender)) {
            revert ConsentRegistryInvalidGrantee(msg.sender);
        }
        if (!_residentRegistry.isRegistered(patient)) revert ConsentRegistryPatientNotRegistered(patient);
        Request memory current = _requests[patient][msg.sender];
        if (current.sections == sections && current.actions == actions && current.purpose == purpose) return;
        _requests[patient][msg.sender] = Request({sections: sections, actions: actions, purpose: purpose});
        emit AccessRequested(patient, msg.sender, sections, actions, purpose);
    }

    /// @inheritdoc IConsentRegistry
    function withdrawRequest(address patient) external {
        if (_requests[patient][msg.sender].sections == 0) {
            revert ConsentRegistryNoRequest(patient, msg.sender);
        }
        delete _requests[patient][msg.sender];
        emit AccessRequestWithdrawn(patient, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function isAuthorized(address patient, address accessor, uint32 sections, uint8 action)
        external
        view
        returns (bool)
    {
        if (!Masks.validSections(sections)) revert ConsentRegistryInvalidSections(sections);
        if (!Masks.validActions(action)) revert ConsentRegistryInvalidActions(action);
        if (accessor == patient) return true;
        // The grant slot first: one SLOAD decides for every accessor that is not a grantee.
        Grant memory g = _grants[patient][accessor];
        if (
            g.expiresAt > block.timestamp && Masks.covers(g.sections, sections)
                && Masks.covers(g.actions, action) && _isActivePractitioner(accessor)
        ) return true;
        // Then the family doctor in force (ResidentRegistry checks the doctor is still eligible).
        (address doctor, uint32 doctorSections, uint8 doctorActions, uint64 endsAt) =
            _residentRegistry.activeFamilyDoctor(patient);
        return doctor == accessor && doctor != address(0) && endsAt > block.timestamp
            && Masks.covers(doctorSections, sections) && Masks.covers(doctorActions, action);
    }

    /// @inheritdoc IConsentRegistry
    function grantOf(address patient, address grantee) external view returns (Grant memory) {
        return _grants[patient][grantee];
    }

    /// @inheritdoc IConsentRegistry
    function requestOf(address patient, address grantee) external view returns (Request memory) {
        return _requests[patient][grantee];
    }

    /// @inheritdoc IConsentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IConsentRegistry
    function residentRegistry() external view returns (address) {
        return address(_residentRegistry);
    }

    function _grant(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint8 purpose,
        uint64 expiresAt
    ) private {
        _checkScope(sections, actions, purpose);
        if (expiresAt <= block.timestamp) revert ConsentRegistryInvalidExpiry(expiresAt);
        if (!_residentRegistry.isRegistered(patient)) revert ConsentRegistryPatientNotRegistered(patient);
        if (grantee == patient || !_isActivePractitioner(grantee)) {
            revert ConsentRegistryInvalidGrantee(grantee);
        }
        Grant memory current = _grants[patient][grantee];
        if (
            current.sections == sections && current.actions == actions && current.purpose == purpose
                && current.expiresAt == expiresAt
        ) return;
        _grants[patient][grantee] =
            Grant({sections: sections, actions: actions, purpose: purpose, expiresAt: expiresAt});
        emit ConsentGranted(patient, grantee, sections, actions, purpose, expiresAt);
    }

    function _isActivePractitioner(address account) private view returns (bool) {
        return _consortium.isActivePractitioner(account);
    }

    function _checkScope(uint32 sections, uint8 actions, uint8 purpose) private pure {
        if (!Masks.validSections(sections)) revert ConsentRegistryInvalidSections(sections);
        if (!Masks.validActions(actions)) revert ConsentRegistryInvalidActions(actions);
        if (!Masks.validPurpose(purpose)) revert ConsentRegistryInvalidPurpose(purpose);
    }
}
