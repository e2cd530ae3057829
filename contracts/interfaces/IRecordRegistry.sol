// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IRecordRegistry
/// @notice The visit card (就诊卡): per patient, an append-only ordered list of record anchors kept as one storage
/// slot `Card { bytes24 head; uint64 length; }`; the records themselves live only in `RecordAnchored` events.
/// For each anchored record `leaf = keccak256(abi.encode(recordId, previous, cidDigest, sections, cidCodec, author))`
/// and `head' = bytes24(keccak256(abi.encode(head, leaf)))`. A client that replays the events in order and reaches
/// the stored head and length has seen the whole card. Anchoring is a compare-and-swap on the head, which makes it
/// exactly-once. Updates are new records linked to the version they update and need the patient's approval. Key
/// releases (a wrapped-key bundle published for a grantee) are events only.
/// @dev EIP-712 domain `"famchain RecordRegistry"`, version `"1"`. Type strings:
/// `RecordUpdate(address patient,bytes32 recordId,bytes32 previous,bytes32 cidDigest,uint32 sections,uint256 nonce,uint256 deadline)`
/// and `KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint32 sections,uint256 nonce,uint256 deadline)`.
interface IRecordRegistry is ISignedMessages {
    /// @notice One record to anchor.
    /// @param recordId The record's identifier (non-zero).
    /// @param previous The record version it updates (zero for a new visit record).
    /// @param cidDigest The sha2-256 digest inside the sealed record's CIDv1 (non-zero).
    /// @param sections Bitmask of the sections present.
    /// @param cidCodec The CID codec: `0x55` raw or `0x70` dag-pb.
    struct Anchor {
        bytes32 recordId;
        bytes32 previous;
        bytes32 cidDigest;
        uint32 sections;
        uint8 cidCodec;
    }

    /// @notice A patient's card: the hash-chain head and the number of records.
    struct Card {
        bytes24 head;
        uint64 length;
    }

    /// @notice A section bitmask that is zero or has bits above bit 6.
    error RecordRegistryInvalidSections(uint32 sections);

    /// @notice A CID codec other than `0x55` or `0x70`.
    error RecordRegistryInvalidCodec(uint8 codec);

    /// @notice A zero record id or zero content digest.
    error RecordRegistryInvalidAnchor(bytes32 recordId);

    /// @notice A zero key-bundle digest.
    error RecordRegistryInvalidBundle(bytes32 bundleDigest);

    /// @notice `anchor`/`anchorBatch` got a record with a non-zero `previous`, or `anchorUpdate` one with zero.
    error RecordRegistryInvalidPrevious(bytes32 recordId, bytes32 previous);

    /// @notice An empty batch.
    error RecordRegistryEmptyBatch();

    /// @notice `author` may not append `sections` to `patient`'s card.
    error RecordRegistryUnauthorized(address patient, address author, uint32 sections);

    /// @notice `grantee` may not read `sections` of `patient`'s records, so keys cannot be released to it.
    error RecordRegistryGranteeUnauthorized(address patient, address grantee, uint32 sections);

    /// @notice This exact record (or batch, named by its first record) already moved the head from `expectedHead`.
    error RecordRegistryAlreadyAnchored(bytes32 recordId);

    /// @notice The card's head is `head`, not `expectedHead`: fetch the new events and retry.
    error RecordRegistryStaleHead(address patient, bytes24 expectedHead, bytes24 head);

    /// @notice The update has neither a signature nor a prior `approveUpdate` by the patient.
    error RecordRegistryUpdateNotApproved(address patient, bytes32 approval);

    /// @notice The patient already approved this exact update and it has not been used yet.
    error RecordRegistryUpdateAlreadyApproved(address patient, bytes32 approval);

    /// @notice A record was appended to `patient`'s card at position `index`; `head` is the card's new head.
    event RecordAnchored(
        address indexed patient,
        bytes32 indexed recordId,
        address indexed author,
        bytes32 previous,
        bytes32 cidDigest,
        uint32 sections,
        uint8 cidCodec,
        uint64 index,
        bytes24 head
    );

    /// @notice `patient` approved an update; `approval = keccak256(abi.encode(recordId, previous, cidDigest,
    /// sections))`.
    event UpdateApproved(address indexed patient, bytes32 indexed recordId, bytes32 approval);

    /// @notice A wrapped-key bundle for `grantee` was published (by the patient or relayed by `releaser`).
    event KeysReleased(
        address indexed patient,
        address indexed grantee,
        address indexed releaser,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    );

    /// @notice Anchors a new visit record (`a.previous == 0`). Caller: an author authorized to APPEND `a.sections`.
    /// @param patient The patient.
    /// @param expectedHead The head the caller last saw.
    /// @param a The record.
    function anchor(address patient, bytes24 expectedHead, Anchor calldata a) external;

    /// @notice Anchors many new visit records in one transaction, one head write. Authorization is checked once
    /// for the union of the sections.
    function anchorBatch(address patient, bytes24 expectedHead, Anchor[] calldata anchors) external;

    /// @notice Anchors a new version of a record (`a.previous != 0`). Caller: an author authorized to APPEND
    /// `a.sections`, with the patient's `RecordUpdate` signature, or with an empty `signature` after the patient's
    /// `approveUpdate` of exactly this update (consumed; `nonce` and `deadline` are then ignored).
    function anchorUpdate(
        address patient,
        bytes24 expectedHead,
        Anchor calldata a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Approves one update of the caller's record, to be used once by `anchorUpdate`. Caller: the patient.
    function approveUpdate(bytes32 recordId, bytes32 previous, bytes32 cidDigest, uint32 sections) external;

    /// @notice Publishes a wrapped-key bundle for `grantee`, who must be authorized to READ `sections`.
    /// Caller: the patient.
    function releaseKeys(address grantee, bytes32 bundleDigest, uint8 bundleCodec, uint32 sections) external;

    /// @notice Same as `releaseKeys`, on the patient's `KeyRelease` signature. Caller: anyone.
    function releaseKeysWithSig(
        address patient,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The card of `patient`.
    function card(address patient) external view returns (bytes24 head, uint64 length);

    /// @notice Whether `patient` approved this update and it has not been used.
    function isUpdateApproved(address patient, bytes32 approval) external view returns (bool);

    /// @notice The consent registry consulted for every anchor and key release.
    function consentRegistry() external view returns (address);
}
