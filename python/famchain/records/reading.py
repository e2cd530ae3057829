"""Reading: find a record on its patient's verified card, fetch it by CID, check it against the anchor, decrypt
what the reader may see, now.

The reader's checks (the client's second line behind the contracts):

- A record is resolved within its patient's card only: the card is replayed from its events up to the head
  stored on chain, each record id recomputed from its event's patient, author, salt, digest and codec; when the
  same id appears twice, the first occurrence is the record.
- The envelope's context (salt, patient, author, chain, registry) comes from the anchor, never from the
  envelope; bytes are checked against the anchored digest and codec; an envelope holding a section the anchor
  does not list is refused.
- Keys come from the envelope's own entry for the reader, or from key bundles announced on chain for the
  reader (a ``ConsentGranted`` naming a bundle, or ``KeysReleased``), never from a file.
- A section is released only when the chain still authorizes the reader: revocation takes effect on the next
  check. The others are reported withheld, with the reason, not as errors.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from famchain.chain.history import AnchoredRecord, ChainEvent, History
from famchain.crypto import envelope as env
from famchain.crypto.bundle import OpenedBundle, open_bundle
from famchain.crypto.envelope import EnvelopeContext, KeyBundle, SealedEnvelope, Withheld
from famchain.errors import (
    AccessDeniedError,
    AuthenticationError,
    CryptoError,
    FamchainError,
    GatewayRefusedError,
    InputError,
    IntegrityError,
    KeyNotReleasedError,
    NotARecipientError,
    RecordErasedError,
    RecordLockedError,
    StorageError,
    StoreUnavailableError,
    UnknownRecordError,
)
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.deletion import LOCKED_FOR_READERS, Deletions, deletions_from
from famchain.records.model import decode_section
from famchain.records.sections import Action, section_mask, section_names
from famchain.storage.cid import cid_from_digest
from famchain.storage.unixfs import build_dag
from famchain.types import Address, RecordId

NO_KEY = "no key released to this reader"
REVOKED = "consent revoked or expired"
READ_WORKERS = 8


def not_released(reader: str, patient: str, author: str, record_id: object) -> str:
    """Why a section the reader may read is withheld, and who can fix it."""
    return KeyNotReleasedError.why(reader, patient, author, record_id)


@dataclass(frozen=True)
class ReadResult:
    """A decrypted record: readable sections as JSON values, the others withheld with the reason.

    Attributes:
        error: set when the record itself is unusable (its bytes are missing, altered, or not sealed for its
            anchor), erased, or locked by a deletion request for a reader other than the patient: then nothing
            is readable.
    """

    anchor: AnchoredRecord
    sections: dict[str, Any]
    withheld: dict[str, str]
    error: str | None = None
    ciphers: dict[str, str] = field(default_factory=dict)
    """Section -> the AEAD that sealed it, as the envelope records it (the deployment's cipher policy at sealing
    time; empty when the bytes could not be read)."""

    @property
    def record_id(self) -> RecordId:
        """The record's id."""
        return self.anchor.record_id

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        a = self.anchor
        out = {
            "record": a.record_id.to_0x_hex(),
            "patient": a.patient,
            "author": a.author,
            "previous": a.previous.to_0x_hex() if a.is_update else None,
            "kind": a.kind.label,
            "cid": str(a.cid),
            "block": a.block,
            "anchored_at": a.anchored_at,
            "sections": self.sections,
            "withheld": self.withheld,
            "ciphers": self.ciphers,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def context_of(actor: Actor, anchor: AnchoredRecord) -> EnvelopeContext:
    """A record's envelope context, from its anchor and the deployment (never from the envelope)."""
    return EnvelopeContext(
        anchor.salt,
        Address(anchor.patient),
        Address(anchor.author),
        actor.fc.chain_id,
        Address(actor.fc.records.address),
    )


def first_occurrences(card: Iterable[AnchoredRecord]) -> list[AnchoredRecord]:
    """The card with later repeats of an id dropped (the first occurrence is the record)."""
    seen: set[RecordId] = set()
    out = []
    for record in card:
        if record.record_id not in seen:
            seen.add(record.record_id)
            out.append(record)
    return out


def find_anchor(history: History, record_id: RecordId, patient: str | None = None) -> AnchoredRecord:
    """A record as its patient's verified card holds it (the first occurrence of the id).

    Args:
        history: the deployment's event reader.
        record_id: the record.
        patient: whose card (found from the record's event when None).

    Raises:
        UnknownRecordError: no such record on this deployment (or not on that patient's card).
        IntegrityError: the card's events do not reproduce its on-chain head.
    """
    return find_on_card(history, record_id, patient)[0]


def find_on_card(
    history: History, record_id: RecordId, patient: str | None = None
) -> tuple[AnchoredRecord, list[AnchoredRecord]]:
    """:func:`find_anchor`, with the verified card it was found on.

    Raises:
        UnknownRecordError: no such record on this deployment (or not on that patient's card).
        IntegrityError: the card's events do not reproduce its on-chain head.
    """
    if patient is None:
        found = history.anchors(None, [record_id])
        if record_id not in found:
            raise UnknownRecordError(record_id)
        patient = found[record_id].patient
    card = history.card(patient)
    for record in card:
        if record.record_id == record_id:
            return record, card
    raise UnknownRecordError(record_id)


def check_bytes(anchor: AnchoredRecord, data: bytes) -> SealedEnvelope:
    """The envelope in ``data``, checked against its anchor: the bytes hash to the anchored digest under the
    anchored codec, and every section it holds is one the anchor lists.

    Raises:
        IntegrityError: the bytes are not the anchored ones, do not parse, or hold an unanchored section.
    """
    if str(build_dag(io.BytesIO(data)).cid) != str(anchor.cid):
        raise IntegrityError(
            _("the stored bytes of record {record} are not the anchored {cid}").format(
                record=anchor.record_id, cid=anchor.cid
            )
        )
    sealed = SealedEnvelope.from_bytes(data)
    extra = sorted(set(sealed.section_names) - set(section_names(anchor.sections)))
    if extra:
        raise IntegrityError(
            _("record {record} holds section {section}, which its anchor does not list ({listed})").format(
                record=anchor.record_id,
                section=repr(extra[0]),
                listed=", ".join(section_names(anchor.sections)),
            )
        )
    return sealed


def fetch_envelope(actor: Actor, anchor: AnchoredRecord) -> SealedEnvelope:
    """Fetch a record's sealed bytes and check them against the anchor (:func:`check_bytes`).

    Raises:
        StorageError: the store does not have them or cannot be reached.
        IntegrityError: see :func:`check_bytes`.
    """
    return check_bytes(anchor, actor.store.get(anchor.cid))


def announced_bundles(
    actor: Actor, patient: str, reader: str, events: Sequence[ChainEvent] | None = None
) -> list[KeyBundle]:
    """Key bundles announced on chain for ``reader`` on ``patient``'s card: a ``ConsentGranted`` naming a bundle
    (released by the patient with the consent) and ``KeysReleased`` (by the patient or a party the chain let
    release), fetched. A bundle that is missing or malformed is skipped (it opens nothing). ``events``: the
    patient's events when the caller has them already."""
    out = []
    for event in events if events is not None else actor.history.patient_events(patient):
        if event.args.get("grantee") != reader:
            continue
        if event.name not in ("ConsentGranted", "KeysReleased") or not any(bytes(event.args["bundleDigest"])):
            continue
        cid = cid_from_digest(bytes(event.args["bundleDigest"]), int(event.args["bundleCodec"]))
        try:
            out.append(KeyBundle.from_bytes(actor.store.get(cid)))
        except StoreUnavailableError:
            raise
        except FamchainError:
            continue
    return out


def opened_bundles(actor: Actor, bundles: Sequence[KeyBundle | OpenedBundle]) -> list[OpenedBundle]:
    """The bundles that open with the reader's key, opened once (each then serves every record)."""
    out = []
    for bundle in bundles:
        if isinstance(bundle, OpenedBundle):
            out.append(bundle)
            continue
        try:
            out.append(open_bundle(bundle, actor.private_key))
        except (AuthenticationError, IntegrityError):
            continue
    return out


def _open(
    actor: Actor,
    anchor: AnchoredRecord,
    sealed: SealedEnvelope,
    bundles: Sequence[OpenedBundle],
    authorized: Callable[[str], bool],
) -> ReadResult:
    try:
        opened = env.open_all(sealed, actor.private_key, context_of(actor, anchor), bundles=bundles)
    except NotARecipientError:
        opened = {name: Withheld(name) for name in sealed.section_names}
    reader = actor.address
    own = reader in (anchor.patient, anchor.author)
    sections: dict[str, Any] = {}
    withheld: dict[str, str] = {}
    for name, value in opened.items():
        if isinstance(value, Withheld):
            withheld[name] = (
                not_released(reader, anchor.patient, anchor.author, anchor.record_id)
                if not own and authorized(name)
                else NO_KEY
            )
        elif not authorized(name):
            withheld[name] = REVOKED
        else:
            sections[name] = decode_section(name, value)
    ciphers = {name: sealed.section(name).aead.name for name in sealed.section_names}
    return ReadResult(anchor, sections, withheld, ciphers=ciphers)


class _Authorizer:
    """Whether the chain lets the reader READ a section of a patient now (asked once per section)."""

    def __init__(self, actor: Actor, patient: str) -> None:
        self.actor = actor
        self.patient = patient
        self.answers: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        if self.actor.address == self.patient:
            return True
        if name not in self.answers:
            self.answers[name] = self.actor.fc.is_authorized(
                self.patient, self.actor.address, section_mask([name]), Action.READ
            )
        return self.answers[name]

    def for_record(self, anchor: AnchoredRecord) -> Callable[[str], bool]:
        """The check for one record: its author reads it always (it wrote it)."""
        return _always if self.actor.address == anchor.author else self


def _always(_name: str) -> bool:
    return True


def read_record(
    actor: Actor,
    record_id: RecordId,
    *,
    patient: str | None = None,
    bundles: Sequence[KeyBundle | OpenedBundle] | None = None,
) -> ReadResult:
    """Fetch, verify and decrypt what the reader may see of one record.

    Raises:
        UnknownRecordError: unknown record (or not on ``patient``'s card).
        RecordErasedError: the record was erased (its bytes are deleted from every member store).
        RecordLockedError: the resident asked for its deletion and the reader is not the patient.
        KeyNotReleasedError: the chain lets the reader read it, but no key has been released to it yet.
        AccessDeniedError: the reader may see no section of this record.
        IntegrityError: the card's history or the stored bytes do not match the chain, or the envelope is not
            sealed for its anchor.
    """
    anchor, card = find_on_card(actor.history, record_id, patient)
    events = actor.history.patient_events(anchor.patient)
    state = deletions_from(anchor.patient, events, actor.fc.block_timestamp, card)
    erased = state.erasure(anchor.record_id)
    if erased is not None:
        raise RecordErasedError(anchor.record_id, erased.erased_at)
    if actor.address != anchor.patient and state.is_locked(anchor.record_id):
        raise RecordLockedError(anchor.record_id, state.locked_at(anchor.record_id), LOCKED_FOR_READERS)
    sealed = fetch_envelope(actor, anchor)
    if bundles is None:
        bundles = (
            announced_bundles(actor, anchor.patient, actor.address, events)
            if actor.address != anchor.patient
            else []
        )
    authorizer = _Authorizer(actor, anchor.patient)
    result = _open(actor, anchor, sealed, opened_bundles(actor, bundles), authorizer.for_record(anchor))
    if not result.sections:
        reasons = set(result.withheld.values())
        if REVOKED in reasons:
            why = _("the consent of {patient} was revoked or has expired").format(patient=anchor.patient)
        elif reasons - {NO_KEY}:
            raise KeyNotReleasedError(actor.address, anchor.patient, anchor.author, record_id)
        else:
            why = _("no consent from {patient} covers it").format(patient=anchor.patient)
        raise AccessDeniedError(
            _("{reader} may read no section of record {record}: {why}").format(
                reader=actor.address, record=record_id, why=why
            )
        )
    return result


def _fetch(actor: Actor, anchor: AnchoredRecord) -> bytes | FamchainError:
    try:
        return actor.store.get(anchor.cid)
    except StoreUnavailableError:
        raise
    except FamchainError as exc:
        return exc


def read_card(
    actor: Actor, patient: str, records: Sequence[AnchoredRecord] | None = None
) -> list[ReadResult]:
    """Open a whole visit card: the verified history, every envelope fetched and checked against its anchor,
    decrypted with the reader's own keys and the key bundles announced for it, each section re-checked on chain.

    The card and the bundles are read once; the chain is asked about each section once, so the JSON-RPC calls
    do not grow with the number of records. Records the reader may not see come back with every section
    withheld; a record whose bytes are missing, altered or not sealed for its anchor comes back with its
    ``error`` (one bad record never hides the others), and so does an erased record ("erased on <date> at the
    resident's request") and, for every reader but the patient, a record locked by a deletion request; their
    bytes are not fetched. A repeated id is shown once (its first occurrence).

    Raises:
        IntegrityError: the events do not reproduce the card's head.
        StoreUnavailableError: the store cannot be reached.
    """
    full = records if records is not None else actor.history.card(patient)
    card = first_occurrences(full)
    events = actor.history.patient_events(patient) if card else []
    state = deletions_from(patient, events, actor.fc.block_timestamp, full)
    bundles = (
        opened_bundles(actor, announced_bundles(actor, patient, actor.address, events))
        if actor.address != patient and card
        else []
    )
    closed = {r.record_id: _closed(actor, r, state) for r in card}
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        blobs = list(
            pool.map(
                lambda r: closed[r.record_id] or _fetch(actor, r), card
            )  # nothing fetched for closed ones
        )
    authorizer = _Authorizer(actor, patient)
    out = []
    for record, blob in zip(card, blobs, strict=True):
        shut = closed[record.record_id]
        if shut is not None:
            out.append(
                ReadResult(record, {}, dict.fromkeys(section_names(record.sections), str(shut)), str(shut))
            )
            continue
        try:
            if isinstance(blob, FamchainError):
                raise blob
            sealed = check_bytes(record, blob)
            out.append(_open(actor, record, sealed, bundles, authorizer.for_record(record)))
        except GatewayRefusedError as exc:
            # The gateway does not serve this reader this record now (a revoked grant, say): the others still open.
            out.append(
                ReadResult(record, {}, dict.fromkeys(section_names(record.sections), str(exc)), str(exc))
            )
        except (IntegrityError, InputError, CryptoError, StorageError) as exc:
            if isinstance(exc, StoreUnavailableError):
                raise
            reason = f"unusable record: {exc}"
            withheld = dict.fromkeys(section_names(record.sections), reason)
            out.append(ReadResult(record, {}, withheld, str(exc)))
    return out


def _closed(actor: Actor, record: AnchoredRecord, state: Deletions) -> FamchainError | None:
    """Why a record of a card is not opened at all: erased, or locked for a reader other than the patient."""
    erased = state.erasure(record.record_id)
    if erased is not None:
        return RecordErasedError(record.record_id, erased.erased_at)
    if actor.address != record.patient and state.is_locked(record.record_id):
        return RecordLockedError(record.record_id, state.locked_at(record.record_id), LOCKED_FOR_READERS)
    return None


def readable(results: Iterable[ReadResult]) -> list[ReadResult]:
    """The results with at least one readable section."""
    return [r for r in results if r.sections]
