// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {Masks} from "./utils/Masks.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title ConsentRegistry
/// @notice Patient consents with committed PIPL terms, access requests, and the access rule `isAuthorized`.
contract ConsentRegistry is IConsentRegistry, SignedMessages {
    bytes32 private constant _CONSENT_TYPEHASH = keccak256(
        "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint64 expiresAt,ConsentTerms terms,bytes32 bundleDigest,uint8 bundleCodec,uint256 nonce,uint256 deadline)ConsentTerms(string recipient,string contact,string purpose,string data,string method,uint64 recordsFrom,uint64 recordsUntil,bytes32 salt)"
    );
    bytes32 private constant _REVOCATION_TYPEHASH =
        keccak256("Revocation(address patient,address grantee,uint256 nonce,uint256 deadline)");
    bytes32 private constant _REFUSAL_TYPEHASH =
        keccak256("Refusal(address patient,address grantee,uint256 nonce,uint256 deadline)");

    /// @dev One slot per pair: the grant (17 bytes) and the open request (13 bytes), so a grant clears the
    /// request and `isAuthorized` decides with one read. The request's terms digest lives in `_requestTerms`.
    struct Pair {
        uint32 sections;
        uint8 actions;
        uint64 expiresAt;
        uint32 enrollment;
        uint32 requestSections;
        uint8 requestActions;
        uint64 requestDuration;
    }

    IConsortium private immutable _consortium;
    IResidentRegistry private immutable _residentRegistry;

    mapping(address patient => mapping(address grantee => Pair)) private _pairs;
    mapping(address patient => mapping(address grantee => bytes32)) private _requestTerms;

    /// @param consortium_ The consortium whose active practitioners can be grantees.
    /// @param residentRegistry_ Registration, card lock, family-doctor agreements and guardians.
    constructor(IConsortium consortium_, IResidentRegistry residentRegistry_)
        SignedMessages("famchain ConsentRegistry")
    {
        _consortium = consortium_;
        _residentRegistry = residentRegistry_;
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

    /// @inheritdoc IConsentRegistry
    function grant(
        address grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec
    ) external {
        _grant(msg.sender, grantee, sections, actions, expiresAt, terms, bundleDigest, bundleCodec);
    }

    /// @inheritdoc IConsentRegistry
    function grantWithSig(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        {
            bytes32 structHash = keccak256(
                abi.encode(
                    _CONSENT_TYPEHASH,
                    patient,
                    grantee,
                    sections,
                    actions,
                    expiresAt,
                    terms,
                    bundleDigest,
                    bundleCodec,
                    nonce,
                    deadline
                )
            );
            _useConsentSignature(patient, grantee, structHash, nonce, deadline, signature);
        }
        _grant(patient, grantee, sections, actions, expiresAt, terms, bundleDigest, bundleCodec);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee) external {
        if (_pairs[msg.sender][grantee].sections == 0) revert ConsentRegistryNotGranted(msg.sender, grantee);
        _bumpNonce(msg.sender, _nonceKey(_DOMAIN_CONSENT, grantee));
        _revoke(msg.sender, grantee);
    }

    /// @inheritdoc IConsentRegistry
    function revokeWithSig(
        address patient,
        address grantee,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (_pairs[patient][grantee].sections == 0) {
            revert ConsentRegistryNotGranted(patient, grantee);
        }
        bytes32 structHash = keccak256(abi.encode(_REVOCATION_TYPEHASH, patient, grantee, nonce, deadline));
        _useSignature(
            patient,
            Masks.GUARDIAN_CONSENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_CONSENT, grantee),
            deadline,
            signature
        );
        _revoke(patient, grantee);
    }

    /// @inheritdoc IConsentRegistry
    function revokeMany(address[] calldata grantees) external {
        uint256 n = grantees.length;
        for (uint256 i = 0; i < n; ++i) {
            address grantee = grantees[i];
            if (_pairs[msg.sender][grantee].sections == 0) continue;
            _bumpNonce(msg.sender, _nonceKey(_DOMAIN_CONSENT, grantee));
            _revoke(msg.sender, grantee);
        }
    }

    /// @inheritdoc IConsentRegistry
    function requestAccess(address patient, uint32 sections, uint8 actions, uint64 duration, bytes32 terms)
        external
    {
        _checkScope(sections, actions);
        if (duration == 0 || terms == 0) revert ConsentRegistryInvalidTerms(terms);
        if (patient == msg.sender || !_consortium.isActivePractitioner(msg.sender)) {
            revert ConsentRegistryInvalidGrantee(msg.sender);
        }
        _checkPatient(patient);
        Pair storage p = _pairs[patient][msg.sender];
        if (
            p.requestSections == sections && p.requestActions == actions && p.requestDuration == duration
                && _requestTerms[patient][msg.sender] == terms
        ) return;
        p.requestSections = sections;
        p.requestActions = actions;
        p.requestDuration = duration;
        _requestTerms[patient][msg.sender] = terms;
        emit AccessRequested(patient, msg.sender, sections, actions, duration, terms);
    }

    /// @inheritdoc IConsentRegistry
    function withdrawRequest(address patient) external {
        if (_pairs[patient][msg.sender].requestSections == 0) {
            revert ConsentRegistryNoRequest(patient, msg.sender);
        }
        _clearRequest(patient, msg.sender);
        emit AccessRequestWithdrawn(patient, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function refuseRequest(address grantee) external {
        if (_pairs[msg.sender][grantee].requestSections == 0) {
            revert ConsentRegistryNoRequest(msg.sender, grantee);
        }
        _bumpNonce(msg.sender, _nonceKey(_DOMAIN_CONSENT, grantee));
        _refuse(msg.sender, grantee);
    }

    /// @inheritdoc IConsentRegistry
    function refuseRequestWithSig(
        address patient,
        address grantee,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (_pairs[patient][grantee].requestSections == 0) {
            revert ConsentRegistryNoRequest(patient, grantee);
        }
        bytes32 structHash = keccak256(abi.encode(_REFUSAL_TYPEHASH, patient, grantee, nonce, deadline));
        _useSignature(
            patient,
            Masks.GUARDIAN_CONSENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_CONSENT, grantee),
            deadline,
            signature
        );
        _refuse(patient, grantee);
    }

    /// @inheritdoc IConsentRegistry
    function isAuthorized(address patient, address accessor, uint32 sections, uint8 action)
        external
        view
        returns (bool)
    {
        _checkScope(sections, action);
        if (accessor == patient) return true;
        // The pair slot first: one read decides for every accessor that is not a grantee.
        Pair storage g = _pairs[patient][accessor];
        (uint32 granted, uint8 allowed, uint64 expiresAt, uint32 enrollment) =
            (g.sections, g.actions, g.expiresAt, g.enrollment);
        if (
            expiresAt > block.timestamp && Masks.covers(granted, sections) && Masks.covers(allowed, action)
                && enrollment != 0 && _consortium.enrollmentOf(accessor) == enrollment
        ) return true;
        // Then the family doctor in force and a READ guardian (ResidentRegistry checks the doctor's enrollment).
        (uint32 allowedSections, uint8 allowedActions) = _residentRegistry.accessOf(patient, accessor);
        return Masks.covers(allowedSections, sections) && Masks.covers(allowedActions, action);
    }

    /// @inheritdoc IConsentRegistry
    function grantOf(address patient, address grantee) external view returns (Grant memory) {
        Pair memory p = _pairs[patient][grantee];
        return
            Grant({
                sections: p.sections, actions: p.actions, expiresAt: p.expiresAt, enrollment: p.enrollment
            });
    }

    /// @inheritdoc IConsentRegistry
    function requestOf(address patient, address grantee) external view returns (Request memory) {
        Pair memory p = _pairs[patient][grantee];
        if (p.requestSections == 0) return Request({sections: 0, actions: 0, duration: 0, terms: 0});
        return Request({
            sections: p.requestSections,
            actions: p.requestActions,
            duration: p.requestDuration,
            terms: _requestTerms[patient][grantee]
        });
    }

    /// @inheritdoc IConsentRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IConsentRegistry
    function residentRegistry() external view returns (address) {
        return address(_residentRegistry);
    }

    function _guardianScope(address resident, address guardian) internal view override returns (uint8) {
        return _residentRegistry.guardianScope(resident, guardian);
    }

    function _grant(
        address patient,
        address grantee,
        uint32 sections,
        uint8 actions,
        uint64 expiresAt,
        bytes32 terms,
        bytes32 bundleDigest,
        uint8 bundleCodec
    ) private {
        _checkScope(sections, actions);
        if (expiresAt <= block.timestamp) revert ConsentRegistryInvalidExpiry(expiresAt);
        if (terms == 0) revert ConsentRegistryInvalidTerms(terms);
        // No bundle: no codec. A bundle: a valid codec, and a grant that may read what it releases.
        bool validBundle = bundleDigest == 0
            ? bundleCodec == 0
            : Masks.validCodec(bundleCodec) && Masks.covers(actions, Masks.READ);
        if (!validBundle) revert ConsentRegistryInvalidBundle(bundleDigest, bundleCodec);
        _checkPatient(patient);
        uint32 enrollment = _consortium.enrollmentOf(grantee);
        if (grantee == patient || enrollment == 0) revert ConsentRegistryInvalidGrantee(grantee);
        // The whole slot in one write: the grant, and the request cleared.
        _pairs[patient][grantee] = Pair({
            sections: sections,
            actions: actions,
            expiresAt: expiresAt,
            enrollment: enrollment,
            requestSections: 0,
            requestActions: 0,
            requestDuration: 0
        });
        emit ConsentGranted(patient, grantee, sections, actions, expiresAt, terms, bundleDigest, bundleCodec);
    }

    function _useConsentSignature(
        address patient,
        address grantee,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        _useSignature(
            patient,
            Masks.GUARDIAN_CONSENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_CONSENT, grantee),
            deadline,
            signature
        );
    }

    function _revoke(address patient, address grantee) private {
        Pair storage p = _pairs[patient][grantee];
        p.sections = 0;
        p.actions = 0;
        p.expiresAt = 0;
        p.enrollment = 0;
        emit ConsentRevoked(patient, grantee);
    }

    function _refuse(address patient, address grantee) private {
        _clearRequest(patient, grantee);
        emit AccessRequestRefused(patient, grantee);
    }

    function _clearRequest(address patient, address grantee) private {
        Pair storage p = _pairs[patient][grantee];
        p.requestSections = 0;
        p.requestActions = 0;
        p.requestDuration = 0;
        delete _requestTerms[patient][grantee];
    }

    function _checkPatient(address patient) private view {
        (bool registered, bool locked) = _residentRegistry.residentStatus(patient);
        if (!registered) revert ConsentRegistryPatientNotRegistered(patient);
        if (locked) revert ConsentRegistryCardLocked(patient);
    }

    function _checkScope(uint32 sections, uint8 actions) private pure {
        if (!Masks.validSections(sections)) revert ConsentRegistryInvalidSections(sections);
        if (!Masks.validActions(actions)) revert ConsentRegistryInvalidActions(actions);
    }
}
