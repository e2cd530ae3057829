// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedMessages} from "./ISignedMessages.sol";

/// @title IRecordRegistry
/// @notice The visit card (就诊卡): per patient, an append-only ordered list of record anchors kept as one storage
/// slot `Card { bytes24 head; uint64 length; }`; the records themselves live only in `RecordAnchored` events.
/// A record id names one record forever: the contract derives it,
/// `recordId = keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec))` with `author = msg.sender`, so
/// nobody can make an id name another patient, author or content. Each anchor appends
/// `leaf = keccak256(abi.encode(recordId, previous, sections, kind, anchoredAt))` and moves the head to
/// `bytes24(keccak256(abi.encode(head, leaf)))`; a client that replays the events in order and reaches the stored
/// head and length has seen the whole card. Anchoring is a compare-and-swap on the head (exactly-once). Only a
/// registered resident whose card is not locked has a card that grows. Updates are new records linked to the
/// version they amend and need the patient's approval, bound to author, content, codec, sections, kind and a
/// deadline. Key releases (a wrapped-key bundle published for a grantee) are events only. After a deletion request
/// and the retention period of the record's kind, anyone may mark a record erased with a proof that it is on the
/// card; member stores delete its sealed bytes on that event.
/// @dev EIP-712 domain `"famchain RecordRegistry"`, version `"1"`. Type strings (nonce key in brackets):
/// `RecordUpdate(address patient,address author,bytes32 previous,bytes32 salt,bytes32 cidDigest,uint8 cidCodec,uint32 sections,uint8 kind,uint256 nonce,uint256 deadline)` [Update/previous; guardian RECORDS],
/// `UpdateRefusal(address patient,bytes32 previous,bytes32 recordId,uint256 nonce,uint256 deadline)` [Update/previous; guardian RECORDS],
/// `KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint8 bundleCodec,uint32 sections,uint256 nonce,uint256 deadline)` [KeyRelease/grantee; guardian CONSENT].
interface IRecordRegistry is ISignedMessages {
    /// @notice One record to anchor.
    /// @param salt Chosen (random) by the author before sealing; part of the record id.
    /// @param previous The record version it amends (zero for a new visit record).
    /// @param cidDigest The sha2-256 digest inside the sealed record's CIDv1 (non-zero).
    /// @param sections Bitmask of the sections present.
    /// @param cidCodec The CID codec: `0x55` raw or `0x70` dag-pb.
    /// @param kind `0` outpatient, `1` inpatient (chooses the retention period).
    struct Anchor {
        bytes32 salt;
        bytes32 previous;
        bytes32 cidDigest;
        uint32 sections;
        uint8 cidCodec;
        uint8 kind;
    }

    /// @notice A patient's card: the hash-chain head and the number of records.
    struct Card {
        bytes24 head;
        uint64 length;
    }

    /// @notice A stored update approval (all zero when none), keyed by `(recordId, previous)`.
    /// @param deadline Usable while `block.timestamp <= deadline`.
    /// @param sections The sections the update must carry.
    /// @param kind The kind the update must carry.
    struct Approval {
        uint64 deadline;
        uint32 sections;
        uint8 kind;
    }

    /// @notice A proof that a record is on the patient's card: the record's leaf fields and position, the head
    /// before it, and the leaves anchored after it, which fold to the card's current head.
    /// @param index The record's position on the card.
    /// @param headBefore The card head before the record was anchored.
    /// @param recordId The record's id.
    /// @param previous The record's `previous`.
    /// @param sections The record's anchored sections.
    /// @param kind The record's kind.
    /// @param anchoredAt The record's `anchoredAt`.
    /// @param laterLeaves The leaves of the records anchored after it, in order.
    struct ErasureProof {
        uint64 index;
        bytes24 headBefore;
        bytes32 recordId;
        bytes32 previous;
        uint32 sections;
        uint8 kind;
        uint64 anchoredAt;
        bytes32[] laterLeaves;
    }

    /// @notice A section bitmask that is zero or has bits above bit 7.
    error RecordRegistryInvalidSections(uint32 sections);

    /// @notice A CID codec other than `0x55` or `0x70`.
    error RecordRegistryInvalidCodec(uint8 codec);

    /// @notice A record kind other than `0` or `1`.
    error RecordRegistryInvalidKind(uint8 kind);

    /// @notice A zero content digest.
    error RecordRegistryInvalidAnchor(bytes32 cidDigest);

    /// @notice A zero key-bundle digest.
    error RecordRegistryInvalidBundle(bytes32 bundleDigest);

    /// @notice `anchor`/`anchorBatch` got a record with a non-zero `previous`, or an update one with zero.
    error RecordRegistryInvalidPrevious(bytes32 recordId, bytes32 previous);

    /// @notice An empty batch.
    error RecordRegistryEmptyBatch();

    /// @notice `patient` is not a registered resident: it has no card.
    error RecordRegistryPatientNotRegistered(address patient);

    /// @notice `patient` asked for the deletion of the whole card: no new anchors or key releases.
    error RecordRegistryCardLocked(address patient);

    /// @notice `author` may not append `sections` to `patient`'s card.
    error RecordRegistryUnauthorized(address patient, address author, uint32 sections);

    /// @notice `grantee` may not read `sections` of `patient`'s records, so keys cannot be released to it.
    error RecordRegistryGranteeUnauthorized(address patient, address grantee, uint32 sections);

    /// @notice `releaser` is neither the patient nor itself authorized to read `sections` of `patient`'s records.
    error RecordRegistryReleaserUnauthorized(address patient, address releaser, uint32 sections);

    /// @notice This exact record (or batch, named by its first record) already moved the head from `expectedHead`.
    error RecordRegistryAlreadyAnchored(bytes32 recordId);

    /// @notice The card's head is `head`, not `expectedHead`: fetch the new events and retry.
    error RecordRegistryStaleHead(address patient, bytes24 expectedHead, bytes24 head);

    /// @notice The update has neither a signature nor a stored approval of exactly this update.
    error RecordRegistryUpdateNotApproved(address patient, bytes32 recordId);

    /// @notice The stored approval's deadline passed.
    error RecordRegistryApprovalExpired(address patient, bytes32 recordId, uint64 deadline);

    /// @notice An approval deadline in the past.
    error RecordRegistryInvalidDeadline(uint256 deadline);

    /// @notice The retention period of the record ends at `endsAt`.
    error RecordRegistryRetentionNotOver(bytes32 recordId, uint64 endsAt);

    /// @notice `patient` asked for the deletion of neither `recordId` nor the whole card.
    error RecordRegistryNoDeletionRequest(address patient, bytes32 recordId);

    /// @notice The erasure proof does not fold to the card's head and length.
    error RecordRegistryBadProof(address patient, bytes32 recordId);

    /// @notice The record was erased already.
    error RecordRegistryAlreadyErased(bytes32 recordId);

    /// @notice A record was appended to `patient`'s card at position `index`; `head` is the card's new head.
    event RecordAnchored(
        address indexed patient,
        bytes32 indexed recordId,
        address indexed author,
        bytes32 previous,
        bytes32 salt,
        bytes32 cidDigest,
        uint32 sections,
        uint8 cidCodec,
        uint8 kind,
        uint64 anchoredAt,
        uint64 index,
        bytes24 head
    );

    /// @notice `patient` approved the update `recordId` of `previous` with these sections and kind, usable once
    /// until `deadline`.
    event UpdateApproved(
        address indexed patient,
        bytes32 indexed recordId,
        bytes32 indexed previous,
        uint32 sections,
        uint8 kind,
        uint64 deadline
    );

    /// @notice `patient` refused (or withdrew its approval of) the update `recordId` of `previous`; every
    /// outstanding `RecordUpdate` signature for `previous` is dead.
    event UpdateRefused(address indexed patient, bytes32 indexed recordId, bytes32 indexed previous);

    /// @notice A wrapped-key bundle for `grantee` was published by `releaser` (the patient, including by signature,
    /// or a party authorized to read those sections).
    event KeysReleased(
        address indexed patient,
        address indexed grantee,
        address indexed releaser,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    );

    /// @notice `recordId` of `patient` was marked erased (by `by`); stores delete its sealed bytes.
    event RecordErased(address indexed patient, bytes32 indexed recordId, address by);

    /// @notice Anchors a new visit record (`a.previous == 0`). Caller: an author authorized to APPEND `a.sections`
    /// on a registered, unlocked patient's card.
    /// @param patient The patient.
    /// @param expectedHead The head the caller last saw.
    /// @param a The record.
    function anchor(address patient, bytes24 expectedHead, Anchor calldata a) external;

    /// @notice Anchors many new visit records in one transaction, one head write. Authorization is checked once
    /// for the union of the sections.
    function anchorBatch(address patient, bytes24 expectedHead, Anchor[] calldata anchors) external;

    /// @notice Anchors a new version of a record (`a.previous != 0`). Caller: an author authorized to APPEND
    /// `a.sections`, with the patient's (or a RECORDS guardian's) `RecordUpdate` signature, or with an empty
    /// `signature` and the patient's stored approval of exactly this update (consumed; `nonce` and `deadline` are
    /// then ignored).
    function anchorUpdate(
        address patient,
        bytes24 expectedHead,
        Anchor calldata a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Stores the caller's approval of one update by `author`, usable once until `deadline`.
    /// Caller: the patient.
    function approveUpdate(address author, Anchor calldata a, uint64 deadline) external;

    /// @notice Stores the approval on the patient's (or a RECORDS guardian's) `RecordUpdate` signature, with the
    /// message's deadline (the portal relays it; the author's next flush uses it). Caller: anyone.
    function approveUpdateWithSig(
        address patient,
        address author,
        Anchor calldata a,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Deletes the caller's stored approval of the update `recordId` of `previous` (if any) and consumes
    /// its `Update/previous` nonce. Caller: the patient.
    function withdrawApproval(bytes32 previous, bytes32 recordId) external;

    /// @notice Same as `withdrawApproval`, on the patient's (or a RECORDS guardian's) `UpdateRefusal` signature
    /// (which consumes the `Update/previous` nonce). Caller: anyone.
    function refuseUpdateWithSig(
        address patient,
        bytes32 previous,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Publishes a wrapped-key bundle for `grantee`, who must be authorized to READ `sections`.
    /// Caller: the patient, or a party itself authorized to READ those sections of the patient (an author or the
    /// family doctor sharing what the patient's consent already entitles the grantee to).
    function releaseKeys(
        address patient,
        address grantee,
        bytes32 bundleDigest,
        uint8 bundleCodec,
        uint32 sections
    ) external;

    /// @notice Same as `releaseKeys` by the patient, on its (or a CONSENT guardian's) `KeyRelease` signature; the
    /// event names the patient as releaser. Caller: anyone.
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

    /// @notice Marks a record erased: the proof must fold to the card's head and length, the patient must have
    /// asked for the deletion of the record or the whole card, and `anchoredAt + retention(kind)` must have
    /// passed. Caller: anyone.
    function erase(address patient, ErasureProof calldata proof) external;

    /// @notice The card of `patient`.
    function card(address patient) external view returns (bytes24 head, uint64 length);

    /// @notice The record id the contract derives for these fields.
    function recordIdOf(address patient, address author, bytes32 salt, bytes32 cidDigest, uint8 cidCodec)
        external
        pure
        returns (bytes32);

    /// @notice The card leaf of a record.
    function leafOf(bytes32 recordId, bytes32 previous, uint32 sections, uint8 kind, uint64 anchoredAt)
        external
        pure
        returns (bytes32);

    /// @notice The stored approval of the update `recordId` of `previous` by `patient` (all zero when none).
    function approvalOf(address patient, bytes32 recordId, bytes32 previous)
        external
        view
        returns (Approval memory);

    /// @notice The retention period of a record kind, in seconds.
    function retention(uint8 kind) external view returns (uint64);

    /// @notice Whether the record was marked erased.
    function isErased(bytes32 recordId) external view returns (bool);

    /// @notice The consent registry consulted for every anchor and key release.
    function consentRegistry() external view returns (address);

    /// @notice The resident registry (registration, lock, deletion requests, guardians).
    function residentRegistry() external view returns (address);
}
