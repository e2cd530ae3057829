"""Amendments: a new version of a record points to the old one and needs the patient's signature.

The author seals the new version and hands the patient an approval request (EIP-712 ``RecordUpdate`` typed
data, a JSON document); the patient signs it offline; the author attaches the signature to the waiting outbox
entry and flushes. Nothing is overwritten: the card keeps both versions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError

from famchain.chain.nonces import NonceDomain
from famchain.crypto import envelope as env
from famchain.crypto import typed_data
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope, Withheld
from famchain.errors import FamchainError, InputError, IntegrityError, RecordLockedError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.anchoring import store_entry
from famchain.records.deletion import deletions
from famchain.records.model import RecordContent, decode_section
from famchain.records.outbox import Approval, OutboxEntry, OutboxState
from famchain.records.reading import find_on_card, read_record
from famchain.records.sealing import seal_record
from famchain.records.sections import section_names
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Address, RecordId

APPROVAL_KIND = "famchain.record-update-approval"
DEFAULT_APPROVAL_TTL = 7 * 24 * 3600


def prepare_update(
    actor: Actor, record_id: RecordId, content: RecordContent, *, ttl: int = DEFAULT_APPROVAL_TTL
) -> tuple[OutboxEntry, dict[str, Any]]:
    """Seal a new version of ``record_id``, store it, and build the patient's approval request.

    Returns:
        The outbox entry (awaiting approval) and the approval request document to hand to the patient.

    Raises:
        UnknownRecordError: no such record.
        RecordLockedError: the resident asked for the record's deletion.
        AccessDeniedError: the author may not append these sections.
        StorageError: the store is down (nothing is left queued: nobody could approve it).
    """
    previous, card = find_on_card(actor.history, record_id)
    locks = deletions(actor, previous.patient, card)
    if locks.is_locked(record_id) or locks.erasure(record_id) is not None:
        # a new version would carry the content of a record the resident asked to have erased
        raise RecordLockedError(record_id, locks.locked_at(record_id), _("it cannot be amended"))
    entry = seal_record(actor, previous.patient, content, previous=record_id)
    try:
        entry = store_entry(actor, entry)
        nonce = actor.fc.records.nonce(previous.patient, NonceDomain.UPDATE, bytes(record_id))
        deadline = actor.fc.latest_timestamp() + ttl
    except FamchainError:
        # No approval request was handed out, so nobody could ever approve this entry: drop it.
        actor.outbox.discard(entry)
        raise
    data = update_typed_data(entry, nonce, deadline)
    request = {"kind": APPROVAL_KIND, "record": entry.record_id.to_0x_hex(), "typed_data": data}
    return entry, request


def update_typed_data(entry: OutboxEntry, nonce: int, deadline: int) -> dict[str, Any]:
    """The ``RecordUpdate`` message of a waiting update, as this outbox holds it."""
    digest, codec = digest_and_codec(entry.cid)
    return typed_data.record_update(
        patient=entry.patient,
        author=entry.author,
        previous=entry.previous,
        salt=entry.salt,
        cid_digest=digest,
        cid_codec=codec,
        sections=entry.sections,
        kind=int(entry.kind),
        nonce=nonce,
        deadline=deadline,
        chain_id=entry.chain_id,
        verifying_contract=entry.registry,
    )


def approve_request(private_key: bytes, request: dict[str, Any]) -> dict[str, Any]:
    """Sign an approval request as the patient (offline: no chain access); returns it with the signature.

    Raises:
        InputError: not an approval request, or signed by someone other than the named patient.
    """
    data = check_request(request)
    try:
        patient = to_checksum_address(data["message"]["patient"])
        signature = typed_data.sign_typed_data(private_key, data)
        signer = typed_data.recover_typed_data_signer(data, signature)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ValidationError, EncodingError) as exc:
        raise InputError(
            _("the approval request is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
        ) from None
    if str(signer) != str(patient):
        raise InputError(
            _("this approval must be signed by the patient {patient}, not {signer}").format(
                patient=patient, signer=signer
            )
        )
    return {**request, "signature": "0x" + signature.hex()}


@dataclass(frozen=True)
class Change:
    """What an amendment changes, as the patient's client reads both versions: the sections the new version
    adds, removes, alters and keeps, with their content before and after."""

    previous: RecordId
    record_id: RecordId
    added: tuple[str, ...]
    removed: tuple[str, ...]
    altered: tuple[str, ...]
    kept: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "record": str(self.record_id),
            "previous": str(self.previous),
            "added": list(self.added),
            "removed": list(self.removed),
            "altered": list(self.altered),
            "unchanged": list(self.kept),
            "before": self.before,
            "after": self.after,
        }


def check_request(request: dict[str, Any]) -> dict[str, Any]:
    """The ``RecordUpdate`` typed data of an approval request.

    Raises:
        InputError: not an approval request.
    """
    if request.get("kind") != APPROVAL_KIND or "typed_data" not in request:
        raise InputError(_("not a famchain record-update approval request"))
    data = request["typed_data"]
    if not isinstance(data, dict):
        raise InputError(_("the approval request is malformed (TypeError: typed_data is not an object)"))
    if data.get("primaryType") != "RecordUpdate":
        raise InputError(
            _("an approval request signs a RecordUpdate, not a {primary_type!r}").format(
                primary_type=data.get("primaryType")
            )
        )
    if not isinstance(data.get("message"), dict):
        raise InputError(_("the approval request is malformed (KeyError: 'message')"))
    return data


def describe_update(actor: Actor, request: dict[str, Any]) -> Change:
    """As the patient: read the record an approval request amends and the new version it names (fetched by
    the CID the message signs, checked against it, opened with the patient's key), and say what changes.

    Raises:
        InputError: not an approval request, or not addressed to this patient or deployment.
        UnknownRecordError: the amended record is not on the card.
        StorageError: the store does not have the new version or cannot be reached.
        IntegrityError: the stored bytes are not the ones the message names, or not sealed for it.
    """
    data = check_request(request)
    try:
        m = data["message"]
        patient = to_checksum_address(m["patient"])
        author = to_checksum_address(m["author"])
        previous = RecordId.from_hex(str(m["previous"]))
        salt = bytes.fromhex(str(m["salt"]).removeprefix("0x"))
        cid = cid_from_digest(bytes.fromhex(str(m["cidDigest"]).removeprefix("0x")), int(m["cidCodec"]))
        sections = int(m["sections"])
        chain_id = int(data["domain"]["chainId"])
        registry = to_checksum_address(data["domain"]["verifyingContract"])
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            _("the approval request is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
        ) from None
    if str(patient) != str(actor.address):
        raise InputError(
            _("this approval request is for the patient {patient}, not {address}").format(
                patient=patient, address=actor.address
            )
        )
    if (chain_id, registry) != (actor.fc.chain_id, actor.fc.records.address):
        raise InputError(_("this approval request is for another deployment"))
    old = read_record(actor, previous, patient=patient)
    data_bytes = actor.store.get(cid)
    if str(build_dag(io.BytesIO(data_bytes)).cid) != str(cid):
        raise IntegrityError(_("the stored new version is not the {cid} the approval names").format(cid=cid))
    sealed = SealedEnvelope.from_bytes(data_bytes)
    extra = sorted(set(sealed.section_names) - set(section_names(sections)))
    if extra:
        raise IntegrityError(
            _("the new version holds section {extra!r}, which the approval does not list").format(
                extra=extra[0]
            )
        )
    context = EnvelopeContext(salt, Address(patient), Address(author), chain_id, Address(registry))
    opened = env.open_all(sealed, actor.private_key, context)
    after = {
        name: decode_section(name, value) for name, value in opened.items() if not isinstance(value, Withheld)
    }
    before = dict(old.sections)
    record_id = RecordId.from_hex(str(request.get("record", "0x" + "00" * 32)))
    return Change(
        previous,
        record_id,
        tuple(n for n in after if n not in before),
        tuple(n for n in before if n not in after),
        tuple(n for n in after if n in before and after[n] != before[n]),
        tuple(n for n in after if n in before and after[n] == before[n]),
        before,
        after,
    )


def apply_approval(actor: Actor, signed: dict[str, Any]) -> OutboxEntry:
    """Attach the patient's signed approval to the waiting update in the outbox.

    Raises:
        InputError: no signature, or no waiting update for that record in this outbox.
    """
    if "signature" not in signed:
        raise InputError(
            _("the approval file carries no signature: the patient must run `famchain record approve`")
        )
    try:
        record_id: RecordId | None = RecordId.from_hex(str(signed.get("record")))
    except InputError:
        record_id = None
    entry = actor.outbox.get(record_id) if record_id is not None else None
    if entry is None or entry.state is not OutboxState.AWAITING_APPROVAL:
        raise InputError(
            _("no update of record {record} is waiting for approval in this outbox").format(
                record=signed.get("record")
            )
        )
    try:
        message = signed["typed_data"]["message"]
        nonce, deadline = int(message["nonce"]), int(message["deadline"])
        signature = bytes.fromhex(str(signed["signature"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            _("the approval file is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
        ) from None
    # Check the signature against the update as this outbox holds it (not as the file describes it), so a
    # tampered or mistaken approval is refused here instead of failing every later flush.
    expected = update_typed_data(entry, nonce, deadline)
    try:
        signer: str | None = typed_data.recover_typed_data_signer(expected, signature)
    except (ValueError, ValidationError, BadSignature):
        signer = None
    if signer != entry.patient:
        raise InputError(
            _("the approval is not the patient {patient}'s signature of update {record_id}").format(
                patient=entry.patient, record_id=entry.record_id
            )
        )
    return actor.outbox.update(entry, approval=Approval(nonce, deadline, signature), state=OutboxState.STORED)
