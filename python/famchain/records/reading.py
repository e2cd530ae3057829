"""Reading: fetch by CID, verify against the anchor, decrypt what the reader may see, now.

Sections are released only when the reader holds their key (wrapped at sealing time, or in a key-release
bundle announced on chain) AND the chain still authorizes the reader: revocation takes effect on the next
check. The others are reported withheld, with the reason, not as errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from famchain.chain.history import AnchoredRecord
from famchain.crypto import envelope as env
from famchain.crypto.envelope import KeyBundle, SealedEnvelope, Withheld
from famchain.errors import AccessDeniedError, NotARecipientError, UnknownRecordError
from famchain.records.actor import Actor
from famchain.records.model import decode_section
from famchain.records.sections import Action, section_mask
from famchain.storage.cid import cid_from_digest
from famchain.types import RecordId

NO_KEY = "no key released to this reader"
REVOKED = "consent revoked or expired"
READ_WORKERS = 8


@dataclass(frozen=True)
class ReadResult:
    """A decrypted record: readable sections as JSON values, the others withheld with the reason."""

    anchor: AnchoredRecord
    sections: dict[str, Any]
    withheld: dict[str, str]

    @property
    def record_id(self) -> RecordId:
        """The record's id."""
        return self.anchor.record_id

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        a = self.anchor
        return {
            "record": a.record_id.to_0x_hex(),
            "patient": a.patient,
            "author": a.author,
            "previous": a.previous.to_0x_hex() if a.is_update else None,
            "cid": str(a.cid),
            "block": a.block,
            "sections": self.sections,
            "withheld": self.withheld,
        }


def find_anchor(actor: Actor, record_id: RecordId) -> AnchoredRecord:
    """The anchor of a record by id, on any patient's card.

    Raises:
        UnknownRecordError: no such record on this deployment.
    """
    found = actor.history.anchors(None, [record_id])
    if record_id not in found:
        raise UnknownRecordError(record_id)
    return found[record_id]


def bundles_for(actor: Actor, patient: str, reader: str) -> list[KeyBundle]:
    """Key-release bundles published on chain for ``reader`` by ``patient`` (fetched and verified)."""
    out = []
    for event in actor.history.patient_events(patient):
        if event.name == "KeysReleased" and event.args["grantee"] == reader:
            cid = cid_from_digest(bytes(event.args["bundleDigest"]), int(event.args["bundleCodec"]))
            out.append(KeyBundle.from_bytes(actor.store.get(cid)))
    return out


def _open(
    actor: Actor,
    anchor: AnchoredRecord,
    sealed: SealedEnvelope,
    bundles: list[KeyBundle],
    authorized: Callable[[str], bool],
) -> ReadResult:
    context = actor.context(anchor.record_id, anchor.patient)
    try:
        opened = env.open_all(sealed, actor.private_key, context, bundles=bundles)
    except NotARecipientError:
        opened = {name: Withheld(name) for name in sealed.section_names}
    sections: dict[str, Any] = {}
    withheld: dict[str, str] = {}
    for name, value in opened.items():
        if isinstance(value, Withheld):
            withheld[name] = NO_KEY
        elif not authorized(name):
            withheld[name] = REVOKED
        else:
            sections[name] = decode_section(name, value)
    return ReadResult(anchor, sections, withheld)


def _authorizer(actor: Actor, anchor: AnchoredRecord) -> Callable[[str], bool]:
    """Whether the chain lets the reader READ a section of this patient now (asked once per section)."""
    reader = actor.address
    if reader in (anchor.patient, anchor.author):
        return lambda _name: True
    answers: dict[str, bool] = {}

    def authorized(name: str) -> bool:
        if name not in answers:
            answers[name] = actor.fc.is_authorized(anchor.patient, reader, section_mask([name]), Action.READ)
        return answers[name]

    return authorized


def read_record(actor: Actor, record_id: RecordId, *, bundles: list[KeyBundle] | None = None) -> ReadResult:
    """Fetch, verify and decrypt what the reader may see of one record.

    Raises:
        UnknownRecordError: unknown record.
        AccessDeniedError: the reader may see no section of this record.
        IntegrityError: the stored bytes do not match the anchor.
    """
    anchor = find_anchor(actor, record_id)
    sealed = SealedEnvelope.from_bytes(actor.store.get(anchor.cid))
    if bundles is None:
        bundles = bundles_for(actor, anchor.patient, actor.address) if actor.address != anchor.patient else []
    result = _open(actor, anchor, sealed, bundles, _authorizer(actor, anchor))
    if not result.sections:
        why = (
            f"the consent of {anchor.patient} was revoked or has expired"
            if REVOKED in result.withheld.values()
            else f"no consent from {anchor.patient} covers it"
        )
        raise AccessDeniedError(f"{actor.address} may read no section of record {record_id}: {why}")
    return result


def read_card(
    actor: Actor, patient: str, records: Sequence[AnchoredRecord] | None = None
) -> list[ReadResult]:
    """Open a whole visit card: the verified history, every envelope fetched and checked against its anchor,
    decrypted with the reader's own keys and key-release bundles, each section re-checked on chain.

    The card and the bundles are read once; the chain is asked about each (author, section) once, so the
    JSON-RPC calls do not grow with the number of records. Records the reader may not see come back with
    every section withheld (not as errors).

    Raises:
        IntegrityError: the events do not reproduce the card's head, or a stored envelope was altered.
    """
    card = list(records) if records is not None else actor.history.card(patient)
    bundles = bundles_for(actor, patient, actor.address) if actor.address != patient and card else []
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        blobs = list(pool.map(lambda r: actor.store.get(r.cid), card))
    answers: dict[str, bool] = {}

    def check(name: str) -> bool:
        if name not in answers:
            answers[name] = actor.fc.is_authorized(patient, actor.address, section_mask([name]), Action.READ)
        return answers[name]

    out = []
    for record, blob in zip(card, blobs, strict=True):
        allow = _always if actor.address in (patient, record.author) else check
        out.append(_open(actor, record, SealedEnvelope.from_bytes(blob), bundles, allow))
    return out


def _always(_name: str) -> bool:
    return True


def readable(results: Iterable[ReadResult]) -> list[ReadResult]:
    """The results with at least one readable section."""
    return [r for r in results if r.sections]
