// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {IResidentRegistry} from "./interfaces/IResidentRegistry.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {Masks} from "./utils/Masks.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title RecordRegistry
/// @notice The visit card: one hash-chain head per patient, records and key releases in events, update approvals,
/// and erasure after retention.
contract RecordRegistry is IRecordRegistry, SignedMessages {
    bytes32 private constant _RECORD_UPDATE_TYPEHASH = keccak256(
        "RecordUpdate(address patient,address author,bytes32 previous,bytes32 salt,bytes32 cidDigest,uint8 cidCodec,uint32 sections,uint8 kind,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _UPDATE_REFUSAL_TYPEHASH = keccak256(
        "UpdateRefusal(address patient,bytes32 previous,bytes32 recordId,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _KEY_RELEASE_TYPEHASH = keccak256(
        "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint8 bundleCodec,uint32 sections,uint256 nonce,uint256 deadline)"
    );

    IConsentRegistry private immutable _consentRegistry;
    IResidentRegistry private immutable _residentRegistry;
    uint64 private immutable _outpatientRetention;
    uint64 private immutable _inpatientRetention;

    mapping(address patient => Card) private _cards;
    /// @dev Keyed by `keccak256(abi.encode(recordId, previous))`.
    mapping(address patient => mapping(bytes32 key => Approval)) private _approvals;
    mapping(bytes32 recordId => bool) private _erased;

    /// @param consentRegistry_ The access rule for authors, releasers and grantees.
    /// @param residentRegistry_ Registration, card lock and deletion requests.
    /// @param outpatientRetention_ Seconds an outpatient record is kept after it is anchored (deploy default 15
    /// years).
    /// @param inpatientRetention_ Seconds an inpatient record is kept (deploy default 30 years).
    constructor(
        IConsentRegistry consentRegistry_,
        IResidentRegistry residentRegistry_,
        uint64 outpatientRetention_,
        uint64 inpatientRetention_
    ) SignedMessages("famchain RecordRegistry") {
        _consentRegistry = consentRegistry_;
        _residentRegistry = residentRegistry_;
        _outpatientRetention = outpatientRetention_;
        _inpatientRetention = inpatientRetention_;
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

    /// @inheritdoc IRecordRegistry
    function anchor(address patient, bytes24 expectedHead, Anchor calldata anchor_) external {
        Anchor memory a = anchor_; // each calldata field decoded once
        _checkAnchor(a);
        bytes32 recordId = _recordId(patient, msg.sender, a);
        if (a.previous != 0) revert RecordRegistryInvalidPrevious(recordId, a.previous);
        _checkCardAndAuthor(patient, a.sections);
        _append(patient, expectedHead, a, recordId);
    }

    /// @inheritdoc IRecordRegistry
    function anchorBatch(address patient, bytes24 expectedHead, Anchor[] calldata anchors) external {
        uint256 n = anchors.length;
        if (n == 0) revert RecordRegistryEmptyBatch();
        uint32 union = 0;
        for (uint256 i = 0; i < n; ++i) {
            union |= anchors[i].sections;
        }
        _checkCardAndAuthor(patient, union);
        Card memory c = _cards[patient];
        if (c.head != expectedHead) _revertStale(patient, expectedHead, c.head, anchors);
        // One pass: each record is validated, chained and announced; the head is written once at the end (a
        // revert anywhere discards the whole batch, its events included).
        uint64 anchoredAt = uint64(block.timestamp);
        uint64 index = c.length;
        bytes24 head = expectedHead;
        for (uint256 i = 0; i < n; ++i) {
            head = _appendOne(patient, anchors[i], anchoredAt, index++, head);
        }
        _cards[patient] = Card({head: head, length: index});
    }

    /// @inheritdoc IRecordRegistry
    function anchorUpdate(
        address patient,
        bytes24 expectedHead,
        Anchor calldata anchor_,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        Anchor memory a = anchor_;
        _checkAnchor(a);
        bytes32 recordId = _recordId(patient, msg.sender, a);
        if (a.previous == 0) revert RecordRegistryInvalidPrevious(recordId, 0);
        _checkCardAndAuthor(patient, a.sections);
        if (signature.length == 0) {
            bytes32 key = _approvalKey(recordId, a.previous);
            Approval memory ap = _approvals[patient][key];
            if (ap.deadline == 0 || ap.sections != a.sections || ap.kind != a.kind) {
                revert RecordRegistryUpdateNotApproved(patient, recordId);
            }
            if (block.timestamp > ap.deadline) {
                revert RecordRegistryApprovalExpired(patient, recordId, ap.deadline);
            }
            delete _approvals[patient][key];
        } else {
            _useUpdateSignature(patient, msg.sender, a, nonce, deadline, signature);
        }
        _append(patient, expectedHead, a, recordId);
    }

    /// @inheritdoc IRecordRegistry
    function approveUpdate(address author, Anchor calldata a, uint64 deadline) external {
        _approve(msg.sender, author, a, deadline);
    }

    /// @inheritdoc IRecordRegistry
    function approveUpdateWithSig(
        address patient,
        address author,
        Anchor calldata a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useUpdateSignature(patient, author, a, nonce, deadline, signature);
        _approve(patient, author, a, SafeCast.toUint64(deadline));
    }

    /// @inheritdoc IRecordRegistry
    function withdrawApproval(bytes32 previous, bytes32 recordId) external {
        _bumpNonce(msg.sender, _nonceKey(_DOMAIN_UPDATE, previous));
        _refuse(msg.sender, previous, recordId);
    }

    /// @inheritdoc IRecordRegistry
    function refuseUpdateWithSig(
        address patient,
        bytes32 previous,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_UPDATE_REFUSAL_TYPEHASH, patient, previous, recordId, nonce, deadline)
        );
        _useSignature(
            patient,
            Masks.GUARDIAN_RECORDS,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_UPDATE, previous),
            deadline,
            signature
        );
        _refuse(patient, previous, recordId);
    }

    /// @inheritdoc IRecordRegistry
    function releaseKeys(
        address patient,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    ) external {
        if (
            msg.sender != patient && !_consentRegistry.isAuthorized(patient, msg.sender, sections, Masks.READ)
        ) {
            revert RecordRegistryReleaserUnauthorized(patient, msg.sender, sections);
        }
        _release(patient, grantee, msg.sender, bundleDigest, bundleCodec, sections);
    }

    /// @inheritdoc IRecordRegistry
    function releaseKeysWithSig(
        address patient,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                _KEY_RELEASE_TYPEHASH, patient, grantee, bundleDigest, bundleCodec, sections, nonce, deadline
            )
        );
        _useSignature(
            patient,
            Masks.GUARDIAN_CONSENT,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_KEY_RELEASE, grantee),
            deadline,
            signature
        );
        _release(patient, grantee, patient, bundleDigest, bundleCodec, sections);
    }

    /// @inheritdoc IRecordRegistry
    function erase(address patient, ErasureProof calldata proof) external {
        bytes32 recordId = proof.recordId;
        if (_erased[recordId]) revert RecordRegistryAlreadyErased(recordId);
        Card memory c = _cards[patient];
        uint256 later = proof.laterLeaves.length;
        if (uint256(proof.index) + 1 + later != c.length) revert RecordRegistryBadProof(patient, recordId);
        bytes24 head = _next(
            proof.headBefore, _leaf(recordId, proof.previous, proof.sections, proof.kind, proof.anchoredAt)
        );
        for (uint256 i = 0; i < later; ++i) {
            head = _next(head, proof.laterLeaves[i]);
        }
        if (head != c.head) revert RecordRegistryBadProof(patient, recordId);
        if (
            _residentRegistry.deletionRequestedAt(patient, recordId) == 0
                && _residentRegistry.deletionRequestedAt(patient, 0) == 0
        ) revert RecordRegistryNoDeletionRequest(patient, recordId);
        uint256 endsAt = uint256(proof.anchoredAt) + _retention(proof.kind);
        if (block.timestamp < endsAt) {
            revert RecordRegistryRetentionNotOver(recordId, SafeCast.toUint64(endsAt));
        }
        _erased[recordId] = true;
        emit RecordErased(patient, recordId, msg.sender);
    }

    /// @inheritdoc IRecordRegistry
    function card(address patient) external view returns (bytes24 head, uint64 length) {
        Card memory c = _cards[patient];
        return (c.head, c.length);
    }

    /// @inheritdoc IRecordRegistry
    function recordIdOf(address patient, address author, bytes32 salt, bytes32 cidDigest, uint8 cidCodec)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec));
    }

    /// @inheritdoc IRecordRegistry
    function leafOf(bytes32 recordId, bytes32 previous, uint32 sections, uint8 kind, uint64 anchoredAt)
        external
        pure
        returns (bytes32)
    {
        return _leaf(recordId, previous, sections, kind, anchoredAt);
    }

    /// @inheritdoc IRecordRegistry
    function approvalOf(address patient, bytes32 recordId, bytes32 previous)
        external
        view
        returns (Approval memory)
    {
        return _approvals[patient][_approvalKey(recordId, previous)];
    }

    /// @inheritdoc IRecordRegistry
    function retention(uint8 kind) external view returns (uint64) {
        if (!Masks.validKind(kind)) revert RecordRegistryInvalidKind(kind);
        return _retention(kind);
    }

    /// @inheritdoc IRecordRegistry
    function isErased(bytes32 recordId) external view returns (bool) {
        return _erased[recordId];
    }

    /// @inheritdoc IRecordRegistry
    function consentRegistry() external view returns (address) {
        return address(_consentRegistry);
    }

    /// @inheritdoc IRecordRegistry
    function residentRegistry() external view returns (address) {
        return address(_residentRegistry);
    }

    function _guardianScope(address resident, address guardian) internal view override returns (uint8) {
        return _residentRegistry.guardianScope(resident, guardian);
    }

    /// @dev Compare-and-swap of the head, then the event. Gas does not depend on the card's length.
    function _append(address patient, bytes24 expectedHead, Anchor memory a, bytes32 recordId) private {
        Card memory c = _cards[patient];
        uint64 anchoredAt = uint64(block.timestamp);
        bytes24 head = _next(expectedHead, _leaf(recordId, a.previous, a.sections, a.kind, anchoredAt));
        if (c.head != expectedHead) {
            // The head moved: by this very record in this block (a replay), or by other records.
            if (c.head != head) revert RecordRegistryStaleHead(patient, expectedHead, c.head);
            revert RecordRegistryAlreadyAnchored(recordId);
        }
        _cards[patient] = Card({head: head, length: c.length + 1});
        _emitAnchored(patient, recordId, a, anchoredAt, c.length, head);
    }

    /// @dev Validates, chains and announces one new record of a batch (its calldata decoded once).
    function _appendOne(
        address patient,
        Anchor calldata anchor_,
        uint64 anchoredAt,
        uint64 index,
        bytes24 head
    ) private returns (bytes24) {
        Anchor memory a = anchor_;
        _checkAnchor(a);
        bytes32 recordId = _recordId(patient, msg.sender, a);
        if (a.previous != 0) revert RecordRegistryInvalidPrevious(recordId, a.previous);
        head = _next(head, _leaf(recordId, 0, a.sections, a.kind, anchoredAt));
        _emitAnchored(patient, recordId, a, anchoredAt, index, head);
        return head;
    }

    function _emitAnchored(
        address patient,
        bytes32 recordId,
        Anchor memory a,
        uint64 anchoredAt,
        uint64 index,
        bytes24 head
    ) private {
        emit RecordAnchored(
            patient,
            recordId,
            msg.sender,
            a.previous,
            a.salt,
            a.cidDigest,
            a.sections,
            a.cidCodec,
            a.kind,
            anchoredAt,
            index,
            head
        );
    }

    /// @dev Reverts `AlreadyAnchored` when this exact batch moved the head from `expectedHead`, else `StaleHead`.
    function _revertStale(address patient, bytes24 expectedHead, bytes24 current, Anchor[] calldata anchors)
        private
        view
    {
        uint64 anchoredAt = uint64(block.timestamp);
        bytes24 head = expectedHead;
        for (uint256 i = 0; i < anchors.length; ++i) {
            Anchor memory a = anchors[i];
            head = _next(
                head, _leaf(_recordId(patient, msg.sender, a), a.previous, a.sections, a.kind, anchoredAt)
            );
        }
        if (current != head) revert RecordRegistryStaleHead(patient, expectedHead, current);
        revert RecordRegistryAlreadyAnchored(_recordId(patient, msg.sender, anchors[0]));
    }

    function _useUpdateSignature(
        address patient,
        address author,
        Anchor memory a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        bytes32 structHash = keccak256(
            abi.encode(
                _RECORD_UPDATE_TYPEHASH,
                patient,
                author,
                a.previous,
                a.salt,
                a.cidDigest,
                a.cidCodec,
                a.sections,
                a.kind,
                nonce,
                deadline
            )
        );
        _useSignature(
            patient,
            Masks.GUARDIAN_RECORDS,
            structHash,
            nonce,
            _nonceKey(_DOMAIN_UPDATE, a.previous),
            deadline,
            signature
        );
    }

    function _approve(address patient, address author, Anchor memory a, uint64 deadline) private {
        _checkAnchor(a);
        bytes32 recordId = _recordId(patient, author, a);
        if (a.previous == 0) revert RecordRegistryInvalidPrevious(recordId, 0);
        if (deadline < block.timestamp) revert RecordRegistryInvalidDeadline(deadline);
        _approvals[patient][_approvalKey(recordId, a.previous)] =
            Approval({deadline: deadline, sections: a.sections, kind: a.kind});
        emit UpdateApproved(patient, recordId, a.previous, a.sections, a.kind, deadline);
    }

    function _refuse(address patient, bytes32 previous, bytes32 recordId) private {
        bytes32 key = _approvalKey(recordId, previous);
        if (_approvals[patient][key].deadline != 0) delete _approvals[patient][key];
        emit UpdateRefused(patient, recordId, previous);
    }

    function _release(
        address patient,
        address grantee,
        address releaser,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    ) private {
        if (!Masks.validSections(sections)) {
            revert RecordRegistryInvalidSections(sections);
        }
        if (!Masks.validCodec(bundleCodec)) revert RecordRegistryInvalidCodec(bundleCodec);
        if (bundleDigest == 0) revert RecordRegistryInvalidBundle(bundleDigest);
        _checkCard(patient);
        if (!_consentRegistry.isAuthorized(patient, grantee, sections, Masks.READ)) {
            revert RecordRegistryGranteeUnauthorized(patient, grantee, sections);
        }
        emit KeysReleased(patient, grantee, releaser, bundleDigest, bundleCodec, sections);
    }

    /// @dev Only a registered resident whose card is not locked has a card that grows or releases keys.
    function _checkCard(address patient) private view {
        (bool registered, bool locked) = _residentRegistry.residentStatus(patient);
        if (!registered) revert RecordRegistryPatientNotRegistered(patient);
        if (locked) revert RecordRegistryCardLocked(patient);
    }

    /// @dev The card checks of `_checkCard` and `msg.sender` authorized to APPEND `sections`, by
    /// `ConsentRegistry.isAuthorized`'s rule evaluated in the order that costs the usual author least: the patient
    /// and the family doctor in force are known from ResidentRegistry's one slot that also holds the status; anyone
    /// else (a grantee with APPEND) is asked of ConsentRegistry, whose answer includes the same two cases.
    function _checkCardAndAuthor(address patient, uint32 sections) private view {
        (bool registered, bool locked, uint32 allowedSections, uint8 allowedActions) =
            _residentRegistry.cardAccessOf(patient, msg.sender);
        if (!registered) revert RecordRegistryPatientNotRegistered(patient);
        if (locked) revert RecordRegistryCardLocked(patient);
        if (msg.sender == patient) return;
        if (Masks.covers(allowedSections, sections) && Masks.covers(allowedActions, Masks.APPEND)) return;
        if (!_consentRegistry.isAuthorized(patient, msg.sender, sections, Masks.APPEND)) {
            revert RecordRegistryUnauthorized(patient, msg.sender, sections);
        }
    }

    function _checkAnchor(Anchor memory a) private pure {
        if (!Masks.validSections(a.sections)) revert RecordRegistryInvalidSections(a.sections);
        if (!Masks.validCodec(a.cidCodec)) revert RecordRegistryInvalidCodec(a.cidCodec);
        if (!Masks.validKind(a.kind)) revert RecordRegistryInvalidKind(a.kind);
        if (a.cidDigest == 0) revert RecordRegistryInvalidAnchor(a.cidDigest);
    }

    function _retention(uint8 kind) private view returns (uint64) {
        return kind == Masks.KIND_INPATIENT ? _inpatientRetention : _outpatientRetention;
    }

    function _recordId(address patient, address author, Anchor memory a) private pure returns (bytes32) {
        return keccak256(abi.encode(patient, author, a.salt, a.cidDigest, a.cidCodec));
    }

    function _leaf(bytes32 recordId, bytes32 previous, uint32 sections, uint8 kind, uint64 anchoredAt)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(recordId, previous, sections, kind, anchoredAt));
    }

    function _next(bytes24 head, bytes32 leaf) private pure returns (bytes24) {
        return bytes24(keccak256(abi.encode(head, leaf)));
    }

    function _approvalKey(bytes32 recordId, bytes32 previous) private pure returns (bytes32) {
        return keccak256(abi.encode(recordId, previous));
    }
}
