// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {Masks} from "./utils/Masks.sol";
import {ISignedMessages} from "./interfaces/ISignedMessages.sol";
import {SignedMessages} from "./utils/SignedMessages.sol";

/// @title RecordRegistry
/// @notice The visit card: one hash-chain head per patient, records and key releases in events.
contract RecordRegistry is IRecordRegistry, SignedMessages {
    bytes32 private constant _RECORD_UPDATE_TYPEHASH = keccak256(
        "RecordUpdate(address patient,bytes32 recordId,bytes32 previous,bytes32 cidDigest,uint32 sections,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _KEY_RELEASE_TYPEHASH = keccak256(
        "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint32 sections,uint256 nonce,uint256 deadline)"
    );

    IConsentRegistry private immutable _consentRegistry;

    mapping(address patient => Card) private _cards;
    mapping(address patient => mapping(bytes32 approval => bool)) private _approvals;

    /// @param consentRegistry_ The access rule for authors and key-release grantees.
    constructor(IConsentRegistry consentRegistry_) SignedMessages("famchain RecordRegistry") {
        _consentRegistry = consentRegistry_;
    }

    /// @inheritdoc ISignedMessages
    function nonces(address owner) public view override(ISignedMessages, SignedMessages) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IRecordRegistry
    function anchor(address patient, bytes24 expectedHead, Anchor calldata a) external {
        _checkAnchor(a);
        if (a.previous != 0) revert RecordRegistryInvalidPrevious(a.recordId, a.previous);
        _checkAuthor(patient, a.sections);
        _append(patient, expectedHead, a);
    }

    /// @inheritdoc IRecordRegistry
    function anchorBatch(address patient, bytes24 expectedHead, Anchor[] calldata anchors) external {
        uint256 n = anchors.length;
        if (n == 0) revert RecordRegistryEmptyBatch();
        uint32 union = 0;
        for (uint256 i = 0; i < n; ++i) {
            Anchor calldata a = anchors[i];
            _checkAnchor(a);
            if (a.previous != 0) revert RecordRegistryInvalidPrevious(a.recordId, a.previous);
            union |= a.sections;
        }
        _checkAuthor(patient, union);

        bytes24[] memory heads = new bytes24[](n);
        bytes24 head = expectedHead;
        for (uint256 i = 0; i < n; ++i) {
            head = _next(head, _leaf(anchors[i], msg.sender));
            heads[i] = head;
        }
        Card memory c = _cards[patient];
        if (c.head != expectedHead) {
            if (c.head == head) revert RecordRegistryAlreadyAnchored(anchors[0].recordId);
            revert RecordRegistryStaleHead(patient, expectedHead, c.head);
        }
        uint64 index = c.length;
        _cards[patient] = Card({head: head, length: index + SafeCast.toUint64(n)});
        for (uint256 i = 0; i < n; ++i) {
            Anchor calldata a = anchors[i];
            emit RecordAnchored(
                patient, a.recordId, msg.sender, 0, a.cidDigest, a.sections, a.cidCodec, index++, heads[i]
            );
        }
    }

    /// @inheritdoc IRecordRegistry
    function anchorUpdate(
        address patient,
        bytes24 expectedHead,
        Anchor calldata a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkAnchor(a);
        if (a.previous == 0) revert RecordRegistryInvalidPrevious(a.recordId, 0);
        _checkAuthor(patient, a.sections);
        if (signature.length == 0) {
            bytes32 approval = _approvalOf(a.recordId, a.previous, a.cidDigest, a.sections);
            if (!_approvals[patient][approval]) revert RecordRegistryUpdateNotApproved(patient, approval);
            delete _approvals[patient][approval];
        } else {
            bytes32 structHash = keccak256(
                abi.encode(
                    _RECORD_UPDATE_TYPEHASH,
                    patient,
                    a.recordId,
                    a.previous,
                    a.cidDigest,
                    a.sections,
                    nonce,
                    deadline
                )
            );
            _useSignature(patient, structHash, nonce, deadline, signature);
        }
        _append(patient, expectedHead, a);
    }

    /// @inheritdoc IRecordRegistry
    function approveUpdate(bytes32 recordId, bytes32 previous, bytes32 cidDigest, uint32 sections) external {
        if (!Masks.validSections(sections)) revert RecordRegistryInvalidSections(sections);
        if (recordId == 0 || cidDigest == 0) revert RecordRegistryInvalidAnchor(recordId);
        if (previous == 0) revert RecordRegistryInvalidPrevious(recordId, 0);
        bytes32 approval = _approvalOf(recordId, previous, cidDigest, sections);
        if (_approvals[msg.sender][approval]) {
            revert RecordRegistryUpdateAlreadyApproved(msg.sender, approval);
        }
        _approvals[msg.sender][approval] = true;
        emit UpdateApproved(msg.sender, recordId, approval);
    }

    /// @inheritdoc IRecordRegistry
    function releaseKeys(address grantee, bytes32 bundleDigest, uint8 bundleCodec, uint32 sections) external {
        _release(msg.sender, grantee, bundleDigest, bundleCodec, sections);
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
            abi.encode(_KEY_RELEASE_TYPEHASH, patient, grantee, bundleDigest, sections, nonce, deadline)
        );
        _useSignature(patient, structHash, nonce, deadline, signature);
        _release(patient, grantee, bundleDigest, bundleCodec, sections);
    }

    /// @inheritdoc IRecordRegistry
    function card(address patient) external view returns (bytes24 head, uint64 length) {
        Card memory c = _cards[patient];
        return (c.head, c.length);
    }

    /// @inheritdoc IRecordRegistry
    function isUpdateApproved(address patient, bytes32 approval) external view returns (bool) {
        return _approvals[patient][approval];
    }

    /// @inheritdoc IRecordRegistry
    function consentRegistry() external view returns (address) {
        return address(_consentRegistry);
    }

    /// @dev Compare-and-swap of the head, then the event. Gas does not depend on the card's length.
    function _append(address patient, bytes24 expectedHead, Anchor calldata a) private {
        Card memory c = _cards[patient];
        bytes24 head = _next(expectedHead, _leaf(a, msg.sender));
        if (c.head != expectedHead) {
            if (c.head == head) revert RecordRegistryAlreadyAnchored(a.recordId);
            revert RecordRegistryStaleHead(patient, expectedHead, c.head);
        }
        _cards[patient] = Card({head: head, length: c.length + 1});
        emit RecordAnchored(
            patient, a.recordId, msg.sender, a.previous, a.cidDigest, a.sections, a.cidCodec, c.length, head
        );
    }

    function _release(
        address patient,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    ) private {
        if (!Masks.validSections(sections)) revert RecordRegistryInvalidSections(sections);
        if (!Masks.validCodec(bundleCodec)) revert RecordRegistryInvalidCodec(bundleCodec);
        if (bundleDigest == 0) revert RecordRegistryInvalidBundle(bundleDigest);
        if (!_consentRegistry.isAuthorized(patient, grantee, sections, Masks.READ)) {
            revert RecordRegistryGranteeUnauthorized(patient, grantee, sections);
        }
        emit KeysReleased(patient, grantee, msg.sender, bundleDigest, bundleCodec, sections);
    }

    function _checkAuthor(address patient, uint32 sections) private view {
        if (!_consentRegistry.isAuthorized(patient, msg.sender, sections, Masks.APPEND)) {
            revert RecordRegistryUnauthorized(patient, msg.sender, sections);
        }
    }

    function _checkAnchor(Anchor calldata a) private pure {
        if (!Masks.validSections(a.sections)) revert RecordRegistryInvalidSections(a.sections);
        if (!Masks.validCodec(a.cidCodec)) revert RecordRegistryInvalidCodec(a.cidCodec);
        if (a.recordId == 0 || a.cidDigest == 0) revert RecordRegistryInvalidAnchor(a.recordId);
    }

    function _leaf(Anchor calldata a, address author) private pure returns (bytes32) {
        return keccak256(abi.encode(a.recordId, a.previous, a.cidDigest, a.sections, a.cidCodec, author));
    }

    function _next(bytes24 head, bytes32 leaf) private pure returns (bytes24) {
        return bytes24(keccak256(abi.encode(head, leaf)));
    }

    function _approvalOf(bytes32 recordId, bytes32 previous, bytes32 cidDigest, uint32 sections)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(recordId, previous, cidDigest, sections));
    }
}
