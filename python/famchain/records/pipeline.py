"""Submit, update, read and share records: seal -> outbox -> store + pin -> anchor -> done.

Section keys are wrapped, at sealing time, for everyone entitled to each section at that moment: the patient,
the author, the active family doctor (for the sections of the agreement) and every current grantee with READ
on the section. Nobody else is wrapped in, so a revoked grantee or a former family doctor never receives a key
to a new record. Existing records are shared later by key-release bundles, each announced on chain.

Exactly-once anchoring: before any anchor transaction the flush reads, at one block ``N``, both the card head
and which of its record ids are already on the card; it then anchors the rest with ``expectedHead`` = the head
at ``N``. The contract's compare-and-swap lets only one transaction built on a given head succeed, so a
retried or duplicated submission can never put a record on the card twice.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from web3.types import TxReceipt

from famchain.chain.contracts import Famchain, FamilyDoctor
from famchain.chain.history import AnchoredRecord, History, leaf_hash, next_head
from famchain.chain.tx import TransactionSender, TransactionUnknownError
from famchain.crypto import envelope as env
from famchain.crypto import typed_data
from famchain.crypto.envelope import EnvelopeContext, KeyBundle, Recipient, SealedEnvelope, Withheld
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import (
    AccessDeniedError,
    ChainError,
    ContractRevertError,
    FamchainError,
    InputError,
    NotARecipientError,
    RpcUnavailableError,
    StorageError,
)
from famchain.records.model import RecordContent, decode_section
from famchain.records.outbox import (
    ANCHORED,
    AWAITING_APPROVAL,
    SEALED,
    STORED,
    Approval,
    Outbox,
    OutboxEntry,
)
from famchain.records.sections import Action, section_mask, section_names
from famchain.storage.api import ContentStore
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Address, RecordId

ZERO32 = b"\x00" * 32
MAX_BATCH = 50
STORE_WORKERS = 4
PIPELINED_ANCHOR_GAS = 150_000
"""Gas limit of a pipelined anchor (it cannot be estimated before the previous one is mined); only the gas
actually used is paid (about 57,000, or 74,000 for a patient's first record)."""
CAS_RETRIES = 5
PROFILE_SECTION = "basic_info"


class QueuedError(FamchainError):
    """Records are safe in the outbox but could not all be anchored now; a later flush will finish."""

    def __init__(self, queued: int, reason: str) -> None:
        self.queued = queued
        super().__init__(
            f"{queued} record(s) sealed and queued in the outbox, not yet anchored: {reason}; "
            "they will be anchored exactly once by `famchain outbox flush`"
        )


@dataclass
class Actor:
    """Everything one party needs to act: the contracts, its key, a sender, the content store."""

    fc: Famchain
    account: LocalAccount
    sender: TransactionSender
    store: ContentStore
    home: Path
    entitlements_cache: dict[str, Entitlements] = field(default_factory=dict, repr=False)

    @property
    def address(self) -> Address:
        """The actor's account."""
        return Address(str(self.account.address))

    @property
    def private_key(self) -> bytes:
        """The actor's secp256k1 private key (signs and decrypts)."""
        return bytes(self.account.key)

    @cached_property
    def history(self) -> History:
        """Event reader for this deployment."""
        return History(self.fc)

    @cached_property
    def outbox(self) -> Outbox:
        """This actor's outbox for this deployment."""
        return Outbox.for_author(self.home, self.fc.chain_id, self.fc.records.address, self.address)

    def context(self, record_id: bytes, patient: str) -> EnvelopeContext:
        """What a record of ``patient`` is bound to on this deployment."""
        return EnvelopeContext(
            RecordId(record_id), Address(patient), self.fc.chain_id, Address(self.fc.records.address)
        )


@dataclass
class FlushReport:
    """What one flush did."""

    anchored: list[OutboxEntry] = field(default_factory=list)
    already: list[OutboxEntry] = field(default_factory=list)
    waiting_approval: list[OutboxEntry] = field(default_factory=list)
    failed: list[tuple[OutboxEntry, str]] = field(default_factory=list)
    transactions: int = 0


# --- who may read what -----------------------------------------------------------------------------------


def current_grantees(actor: Actor, patient: str) -> dict[str, tuple[int, int]]:
    """Grantee -> (sections, actions) of every consent of ``patient`` in force now (checked on chain)."""
    candidates = {
        str(e.args["grantee"]) for e in actor.history.patient_events(patient) if e.name == "ConsentGranted"
    }
    now = actor.fc.latest_timestamp()
    out = {}
    for grantee in sorted(candidates):
        grant = actor.fc.grant(patient, grantee)
        if grant.active_at(now) and actor.fc.practitioner(grantee).active:
            out[grantee] = (grant.sections, grant.actions)
    return out


def _public_key(actor: Actor, account: str) -> bytes:
    key = actor.fc.encryption_key(account)
    if key is None:
        raise InputError(f"{account} has registered no encryption key")
    return key


@dataclass(frozen=True)
class Entitlements:
    """Who may read a patient's new records, and what the author may append, as of one block."""

    block: int
    doctor: FamilyDoctor | None
    grantees: dict[str, tuple[int, int]]
    appendable: dict[int, bool] = field(default_factory=dict)


def entitlements(actor: Actor, patient: str) -> Entitlements:
    """The patient's entitlements at the latest block; reused while no new block arrives.

    Sealing many records for one patient between two blocks (a batch) then costs one set of chain reads,
    and a record is never sealed on a view older than the block it is sealed in.
    """
    block = actor.fc.w3.eth.block_number
    cached = actor.entitlements_cache.get(patient)
    if cached is not None and cached.block == block:
        return cached
    view = Entitlements(block, actor.fc.family_doctor(patient), current_grantees(actor, patient))
    actor.entitlements_cache[patient] = view
    return view


def entitled_recipients(actor: Actor, patient: str, names: Iterable[str]) -> list[Recipient]:
    """Recipients of a new record of ``patient`` with sections ``names``, as of the latest block."""
    names = list(names)
    view = entitlements(actor, patient)
    recipients = [Recipient(_public_key(actor, patient)), Recipient(_public_key(actor, actor.address))]
    doctor = view.doctor
    if doctor is not None and doctor.actions & Action.READ:
        visible = frozenset(n for n in names if n in section_names(doctor.sections))
        if visible:
            recipients.append(Recipient(_public_key(actor, doctor.doctor), visible))
    for grantee, (sections, actions) in view.grantees.items():
        if actions & Action.READ:
            visible = frozenset(n for n in names if n in section_names(sections))
            if visible:
                recipients.append(Recipient(_public_key(actor, grantee), visible))
    return recipients


# --- submit ----------------------------------------------------------------------------------------------


def _check_author(actor: Actor, patient: str, mask: int) -> None:
    view = entitlements(actor, patient)
    if mask not in view.appendable:
        if not actor.fc.is_registered(patient):
            raise InputError(f"{patient} is not a registered resident")
        view.appendable[mask] = actor.fc.is_authorized(patient, actor.address, mask, Action.APPEND)
    if not view.appendable[mask]:
        raise AccessDeniedError(
            f"no active agreement or consent from {patient} lets {actor.address} add "
            f"{', '.join(section_names(mask))}"
        )


def seal_record(
    actor: Actor, patient: str, content: RecordContent, previous: bytes = ZERO32, *, check: bool = True
) -> OutboxEntry:
    """Seal a record for everyone entitled now and put it in the outbox (nothing leaves the machine yet).

    Raises:
        AccessDeniedError: the author may not append these sections for this patient.
    """
    patient = to_checksum_address(patient)
    mask = section_mask(content.names)
    if check:
        _check_author(actor, patient, mask)
    record_id = os.urandom(32)
    sealed = env.seal(
        content.plaintexts(),
        entitled_recipients(actor, patient, content.names),
        actor.context(record_id, patient),
    )
    data = sealed.to_bytes()
    # Hashed locally, not by the store: a record must reach the outbox even while the store is down.
    cid = build_dag(io.BytesIO(data)).cid
    entry = OutboxEntry(
        record_id="0x" + record_id.hex(),
        patient=patient,
        author=actor.address,
        chain_id=actor.fc.chain_id,
        registry=actor.fc.records.address,
        sections=mask,
        previous="0x" + previous.hex(),
        cid=str(cid),
        state=AWAITING_APPROVAL if previous != ZERO32 else SEALED,
    )
    return actor.outbox.add(entry, data)


def _store(actor: Actor, entry: OutboxEntry) -> OutboxEntry:
    cid = actor.store.put(actor.outbox.sealed_bytes(entry), pin=True)
    if cid != entry.cid:
        raise StorageError(f"store returned {cid} for record {entry.record_id}, expected {entry.cid}")
    # Kept in memory: if the process stops before the anchor, the next flush stores again (same bytes, same
    # CID) at no risk; flush() persists the state when it has to stop with records still queued.
    return replace(entry, state=STORED) if entry.state == SEALED else entry


def _anchor_struct(entry: OutboxEntry) -> tuple[bytes, bytes, bytes, int, int]:
    digest, codec = digest_and_codec(entry.cid)
    return (entry.record_bytes, entry.previous_bytes, digest, entry.sections, codec)


def _settle_on_card(
    actor: Actor, patient: str, entries: list[OutboxEntry], block: int, report: FlushReport
) -> list[OutboxEntry]:
    """Mark done the entries already on the patient's card at ``block``; return the others."""
    on_card = actor.history.anchors(patient, [e.record_bytes for e in entries], block)
    for entry in entries:
        rec = on_card.get(entry.record_bytes)
        if rec is not None:
            report.already.append(
                actor.outbox.update(entry, state=ANCHORED, tx_hash=rec.tx_hash, block=rec.block)
            )
    return [e for e in entries if e.record_bytes not in on_card]


def _mark_anchored(actor: Actor, entry: OutboxEntry, receipt: TxReceipt, report: FlushReport) -> None:
    done = actor.outbox.update(
        entry,
        state=ANCHORED,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block=int(receipt["blockNumber"]),
        last_error="",
    )
    report.anchored.append(done)


def _anchor_group(actor: Actor, patient: str, group: list[OutboxEntry], report: FlushReport) -> None:
    """Anchor entries of one patient (all new records, or one update) exactly once."""
    pending = list(group)
    for _ in range(CAS_RETRIES):
        block = actor.fc.w3.eth.block_number
        pending = _settle_on_card(actor, patient, pending, block, report)
        if not pending:
            return
        head = actor.fc.card(patient, block).head
        records = actor.fc.records.functions
        if pending[0].is_update:
            entry = pending[0]
            approval = entry.approval
            assert approval is not None
            call = records.anchorUpdate(
                patient,
                head,
                _anchor_struct(entry),
                approval.nonce,
                approval.deadline,
                bytes.fromhex(approval.signature.removeprefix("0x")),
            )
        elif len(pending) == 1:
            call = records.anchor(patient, head, _anchor_struct(pending[0]))
        else:
            call = records.anchorBatch(patient, head, [_anchor_struct(e) for e in pending])
        pending = [replace(e, attempts=e.attempts + 1) for e in pending]
        try:
            receipt = actor.sender.transact(call, f"anchor {len(pending)} record(s) for {patient}")
        except ContractRevertError as exc:
            if exc.error_name in ("RecordRegistryStaleHead", "RecordRegistryAlreadyAnchored"):
                continue  # the head moved: look again at one block, then retry on the new head
            raise
        report.transactions += 1
        for entry in pending:
            _mark_anchored(actor, entry, receipt, report)
        return
    raise ChainError(f"the card of {patient} kept changing; {len(pending)} record(s) left in the outbox")


def flush(actor: Actor, *, batch: bool = True) -> FlushReport:
    """Store, pin and anchor every pending outbox entry; each step resumes where a previous run stopped.

    Raises:
        QueuedError: the store or the chain is unreachable; entries stay queued.
    """
    report = FlushReport()
    with actor.outbox.locked():
        entries = actor.outbox.pending()
        try:
            ready: list[OutboxEntry] = []
            # Uploads are independent and idempotent: a few at a time keep both the store and the client busy.
            with ThreadPoolExecutor(max_workers=STORE_WORKERS) as pool:
                stored = list(pool.map(lambda e: _store(actor, e) if e.state == SEALED else e, entries))
            for entry in stored:
                if entry.state == AWAITING_APPROVAL:
                    report.waiting_approval.append(entry)
                else:
                    ready.append(entry)
            groups: dict[str, list[OutboxEntry]] = defaultdict(list)
            for entry in ready:
                if entry.is_update:
                    _run_group(actor, entry.patient, [entry], report)
                else:
                    groups[entry.patient].append(entry)
            for patient, group in groups.items():
                if not batch:
                    group = _anchor_pipelined(actor, patient, group, report)  # noqa: PLW2901
                for start in range(0, len(group), MAX_BATCH if batch else 1):
                    _run_group(actor, patient, group[start : start + (MAX_BATCH if batch else 1)], report)
        except (StorageError, RpcUnavailableError, TransactionUnknownError) as exc:
            done = {e.record_id for e in report.anchored + report.already}
            for entry in ready:
                if entry.record_id not in done:
                    actor.outbox.save(entry)  # remember that its bytes are stored
            left = len(actor.outbox.pending()) - len(report.waiting_approval)
            raise QueuedError(left, str(exc)) from None
    return report


def _anchor_pipelined(
    actor: Actor, patient: str, group: list[OutboxEntry], report: FlushReport
) -> list[OutboxEntry]:
    """One transaction per record, all signed and broadcast before any receipt is awaited.

    Each anchor names as ``expectedHead`` the head the previous one will leave (computed locally from the
    same leaf the contract hashes), so they chain in nonce order. The contract's compare-and-swap still decides:
    an anchor whose expected head is wrong reverts and stays queued. Returns the entries not anchored here
    (they go through the one-at-a-time path, which re-reads the card). Entries already on the card are
    marked done first, as in :func:`_anchor_group`.
    """
    if len(group) < 2:
        return group
    block = actor.fc.w3.eth.block_number
    pending = _settle_on_card(actor, patient, group, block, report)
    head = actor.fc.card(patient, block).head
    signed = []
    with actor.sender.one_fee_lookup():
        for entry in pending:
            anchor = _anchor_struct(entry)
            call = actor.fc.records.functions.anchor(patient, head, anchor)
            tx = actor.sender.sign(call, f"anchor {entry.record_id}", gas=PIPELINED_ANCHOR_GAS)
            signed.append((entry, tx))
            head = next_head(head, leaf_hash(*anchor, actor.address))
    for _, tx in signed:
        actor.sender.broadcast(tx)
    left = []
    for entry, tx in signed:
        try:
            receipt = actor.sender.wait(tx)
        except ContractRevertError:
            left.append(entry)
            continue
        report.transactions += 1
        _mark_anchored(actor, replace(entry, attempts=entry.attempts + 1), receipt, report)
    return left


def _run_group(actor: Actor, patient: str, group: list[OutboxEntry], report: FlushReport) -> None:
    try:
        _anchor_group(actor, patient, group, report)
    except ContractRevertError as exc:
        for entry in group:
            # A refused approval (expired, nonce used since) can never succeed: the update waits for a new
            # one instead of failing every later flush.
            changes: dict[str, Any] = (
                {"state": AWAITING_APPROVAL, "approval": None} if entry.is_update else {}
            )
            report.failed.append((actor.outbox.update(entry, last_error=str(exc), **changes), str(exc)))


def drop(actor: Actor, record_id: str) -> OutboxEntry:
    """Remove a pending entry the author gives up on (e.g. consent withdrawn before it was anchored).

    A record the chain already holds is not dropped but marked done: the card is the truth.

    Raises:
        InputError: no pending entry with that id in this outbox.
    """
    with actor.outbox.locked():
        entry = actor.outbox.get(record_id)
        if entry is None or entry.state == ANCHORED:
            raise InputError(f"no pending record {record_id} in this outbox")
        on_card = actor.history.anchors(entry.patient, [entry.record_bytes]).get(entry.record_bytes)
        if on_card is not None:
            return actor.outbox.update(entry, state=ANCHORED, tx_hash=on_card.tx_hash, block=on_card.block)
        actor.outbox.discard(entry)
        return entry


def submit(actor: Actor, patient: str, content: RecordContent) -> tuple[OutboxEntry, FlushReport]:
    """Seal a new visit record and flush the outbox (this record and any earlier queued ones).

    Raises:
        AccessDeniedError: the author may not append these sections.
        QueuedError: sealed and queued, but the store or the chain is down.
        ContractRevertError: the chain refused the anchor (the entry stays in the outbox with the reason).
    """
    entry = seal_record(actor, patient, content)
    report = flush(actor)
    for failed, reason in report.failed:
        if failed.record_id == entry.record_id:
            raise ContractRevertError(reason)
    return entry, report


# --- updates ---------------------------------------------------------------------------------------------


def find_anchor(actor: Actor, record_id: bytes) -> AnchoredRecord:
    """The anchor of a record by id, on any patient's card.

    Raises:
        InputError: no such record on this deployment.
    """
    found = actor.history.anchors(None, [record_id])
    if record_id not in found:
        raise InputError(f"no record 0x{record_id.hex()} on this deployment")
    return found[record_id]


def prepare_update(
    actor: Actor, record_id: bytes, content: RecordContent, *, ttl: int = 7 * 24 * 3600
) -> tuple[OutboxEntry, dict[str, Any]]:
    """Seal a new version of ``record_id`` and build the patient's approval request (EIP-712 typed data).

    Returns:
        The outbox entry (awaiting approval) and the approval request document to hand to the patient.
    """
    previous = find_anchor(actor, record_id)
    entry = seal_record(actor, previous.patient, content, previous=record_id)
    try:
        entry = _store(actor, entry)
        nonce = int(actor.fc.records.functions.nonces(previous.patient).call())
        deadline = actor.fc.latest_timestamp() + ttl
    except FamchainError:
        # No approval request was handed out, so nobody could ever approve this entry: drop it.
        actor.outbox.discard(entry)
        raise
    digest, _ = digest_and_codec(entry.cid)
    data = typed_data.record_update(
        patient=previous.patient,
        record_id=entry.record_bytes,
        previous=record_id,
        cid_digest=digest,
        sections=entry.sections,
        nonce=nonce,
        deadline=deadline,
        chain_id=actor.fc.chain_id,
        verifying_contract=actor.fc.records.address,
    )
    request = {"kind": "famchain.record-update-approval", "record": entry.record_id, "typed_data": data}
    return entry, request


def approve_request(private_key: bytes, request: dict[str, Any]) -> dict[str, Any]:
    """Sign an approval request as the patient; returns the request with the signature added.

    Raises:
        InputError: not an approval request, or signed by someone other than the named patient.
    """
    if request.get("kind") != "famchain.record-update-approval" or "typed_data" not in request:
        raise InputError("not a famchain record-update approval request")
    data = request["typed_data"]
    try:
        if data["primaryType"] != "RecordUpdate":
            raise InputError(f"an approval request signs a RecordUpdate, not a {data['primaryType']!r}")
        patient = to_checksum_address(data["message"]["patient"])
        signature = typed_data.sign_typed_data(private_key, data)
        signer = typed_data.recover_typed_data_signer(data, signature)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ValidationError, EncodingError) as exc:
        raise InputError(f"the approval request is malformed ({type(exc).__name__}: {exc})") from None
    if str(signer) != str(patient):
        raise InputError(f"this approval must be signed by the patient {patient}, not {signer}")
    return {**request, "signature": "0x" + signature.hex()}


def apply_approval(actor: Actor, signed: dict[str, Any]) -> OutboxEntry:
    """Attach the patient's signed approval to the waiting update in the outbox.

    Raises:
        InputError: no signature, or no waiting update for that record in this outbox.
    """
    if "signature" not in signed:
        raise InputError(
            "the approval file carries no signature: the patient must run `famchain record approve`"
        )
    entry = actor.outbox.get(str(signed.get("record")))
    if entry is None or entry.state != AWAITING_APPROVAL:
        raise InputError(f"no update of record {signed.get('record')} is waiting for approval in this outbox")
    try:
        message = signed["typed_data"]["message"]
        nonce, deadline = int(message["nonce"]), int(message["deadline"])
        signature = bytes.fromhex(str(signed["signature"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"the approval file is malformed ({type(exc).__name__}: {exc})") from None
    # Check the signature against the update as this outbox holds it (not as the file describes it), so a
    # tampered or mistaken approval is refused here instead of failing every later flush.
    digest, _ = digest_and_codec(entry.cid)
    expected = typed_data.record_update(
        patient=entry.patient,
        record_id=entry.record_bytes,
        previous=entry.previous_bytes,
        cid_digest=digest,
        sections=entry.sections,
        nonce=nonce,
        deadline=deadline,
        chain_id=entry.chain_id,
        verifying_contract=entry.registry,
    )
    try:
        signer: str | None = typed_data.recover_typed_data_signer(expected, signature)
    except (ValueError, ValidationError, BadSignature):
        signer = None
    if signer != entry.patient:
        raise InputError(
            f"the approval is not the patient {entry.patient}'s signature of update {entry.record_id}"
        )
    approval = Approval(nonce, deadline, "0x" + signature.hex())
    return actor.outbox.update(entry, approval=approval, state=STORED)


# --- reading ---------------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    """A decrypted record: readable sections as JSON values, the others withheld with the reason."""

    anchor: AnchoredRecord
    sections: dict[str, Any]
    withheld: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        a = self.anchor
        return {
            "record": "0x" + a.record_id.hex(),
            "patient": a.patient,
            "author": a.author,
            "previous": None if not a.is_update else "0x" + a.previous.hex(),
            "cid": str(cid_from_digest(a.cid_digest, a.cid_codec)),
            "block": a.block,
            "sections": self.sections,
            "withheld": self.withheld,
        }


def bundles_for(actor: Actor, patient: str, reader: str) -> list[KeyBundle]:
    """Key-release bundles published on chain for ``reader`` by ``patient`` (fetched and verified)."""
    out = []
    for event in actor.history.patient_events(patient):
        if event.name == "KeysReleased" and event.args["grantee"] == reader:
            cid = cid_from_digest(bytes(event.args["bundleDigest"]), int(event.args["bundleCodec"]))
            out.append(KeyBundle.from_bytes(actor.store.get(cid)))
    return out


def read_record(actor: Actor, record_id: bytes, *, bundles: list[KeyBundle] | None = None) -> ReadResult:
    """Fetch, verify and decrypt what the reader may see of one record.

    Sections are released only when the reader holds their key AND the chain still authorizes the reader
    (revocation takes effect on the next check); the others are reported withheld, not as errors.

    Raises:
        InputError: unknown record.
        AccessDeniedError: the reader may see no section of this record.
        IntegrityError: the stored bytes do not match the anchor.
    """
    anchor = find_anchor(actor, record_id)
    cid = cid_from_digest(anchor.cid_digest, anchor.cid_codec)
    sealed = SealedEnvelope.from_bytes(actor.store.get(cid))
    reader = actor.address
    if bundles is None:
        bundles = bundles_for(actor, anchor.patient, reader) if reader != anchor.patient else []
    context = actor.context(record_id, anchor.patient)
    try:
        opened = env.open_all(sealed, actor.private_key, context, bundles=bundles)
    except NotARecipientError:
        opened = {name: Withheld(name) for name in sealed.section_names}
    sections: dict[str, Any] = {}
    withheld: dict[str, str] = {}
    for name, value in opened.items():
        if isinstance(value, Withheld):
            withheld[name] = "no key released to this reader"
        elif reader not in (anchor.patient, anchor.author) and not actor.fc.is_authorized(
            anchor.patient, reader, section_mask([name]), Action.READ
        ):
            withheld[name] = "consent revoked or expired"
        else:
            sections[name] = decode_section(name, value)
    if not sections:
        why = (
            f"the consent of {anchor.patient} was revoked or has expired"
            if "consent revoked or expired" in withheld.values()
            else f"no consent from {anchor.patient} covers it"
        )
        raise AccessDeniedError(f"{reader} may read no section of record 0x{record_id.hex()}: {why}")
    return ReadResult(anchor, sections, withheld)


# --- sharing existing records ----------------------------------------------------------------------------


def covered_envelopes(actor: Actor, sections: int) -> list[tuple[SealedEnvelope, list[str]]]:
    """As the patient: the sealed records on your card holding any of ``sections``, with those names."""
    names = section_names(sections)
    out = []
    for record in actor.history.card(actor.address):
        sealed = SealedEnvelope.from_bytes(
            actor.store.get(cid_from_digest(record.cid_digest, record.cid_codec))
        )
        if set(names) & set(sealed.section_names):
            out.append((sealed, names))
    return out


def store_release(actor: Actor, grantee: str, sections: int) -> tuple[str, int] | None:
    """As the patient: store and pin a key bundle for ``grantee``, not yet announced on chain.

    The bundle re-wraps the keys of ``sections`` of every record on the card (and the basic information for
    the active family doctor); :func:`announce_release` then puts it on the audit trail.

    Returns the bundle CID and the number of sealed objects it covers, or None when there is nothing to share.
    """
    patient = actor.address
    grants = covered_envelopes(actor, sections)
    profile = profile_envelope(actor, patient)
    if profile is not None and grantee_is_family_doctor(actor, patient, grantee):
        grants.append((profile, [PROFILE_SECTION]))
    if not grants:
        return None
    bundle = env.release_keys(actor.private_key, _public_key(actor, grantee), grants)
    cid = actor.store.put(bundle.to_bytes(), pin=True)
    return str(cid), len(grants)


def announce_release(actor: Actor, grantee: str, sections: int, bundle_cid: str) -> None:
    """As the patient: ``releaseKeys`` for a stored bundle, which puts the release on the audit trail."""
    digest, codec = digest_and_codec(bundle_cid)
    actor.sender.transact(
        actor.fc.records.functions.releaseKeys(grantee, digest, codec, sections), "release keys"
    )


def release_existing(actor: Actor, grantee: str, sections: int) -> tuple[str, int] | None:
    """As the patient: re-wrap the keys of ``sections`` of every record on the card for ``grantee``.

    The bundle is stored, pinned and announced by ``releaseKeys`` so the release is on the audit trail.
    Returns the bundle CID and the number of records it covers, or None when the card has nothing to share.
    """
    stored = store_release(actor, grantee, sections)
    if stored is not None:
        announce_release(actor, grantee, sections, stored[0])
    return stored


def grantee_is_family_doctor(actor: Actor, patient: str, account: str) -> bool:
    """True when ``account`` is the patient's active family doctor."""
    doctor = actor.fc.family_doctor(patient)
    return doctor is not None and doctor.doctor == account


# --- basic information (profile) -------------------------------------------------------------------------


def profile_record_id(resident: str) -> bytes:
    """The fixed record id a resident's profile envelope is bound to."""
    return keccak(b"famchain.profile" + bytes.fromhex(to_checksum_address(resident)[2:]))


def seal_profile(actor: Actor, profile: dict[str, Any], resident: str | None = None) -> tuple[bytes, str]:
    """Seal the resident's basic information for the resident and the active family doctor; store and pin.

    Returns the 32-byte digest to commit on chain and the CID.
    """
    from famchain.records.model import canonical_json

    resident = resident or actor.address
    recipients = [Recipient(public_key_from_private(actor.private_key))]
    doctor = actor.fc.family_doctor(resident) if actor.fc.is_registered(resident) else None
    if doctor is not None:
        recipients.append(Recipient(_public_key(actor, doctor.doctor)))
    sealed = env.seal(
        {PROFILE_SECTION: canonical_json(profile)},
        recipients,
        actor.context(profile_record_id(resident), resident),
    )
    cid = actor.store.put(sealed.to_bytes(), pin=True)
    digest, codec = digest_and_codec(cid)
    if codec != 0x55:
        raise InputError("the basic information is too large: it must fit one 256 KiB block")
    return digest, str(cid)


def profile_envelope(actor: Actor, resident: str) -> SealedEnvelope | None:
    """The resident's sealed profile as committed on chain, or None when not registered."""
    digest = actor.fc.profile_digest(resident)
    if digest == ZERO32:
        return None
    return SealedEnvelope.from_bytes(actor.store.get(cid_from_digest(digest, 0x55)))


def read_profile(actor: Actor, resident: str) -> dict[str, Any]:
    """Decrypt a resident's basic information (the resident, or their family doctor with a released key).

    Raises:
        InputError: not registered.
        AccessDeniedError: the reader holds no key to it.
    """
    sealed = profile_envelope(actor, resident)
    if sealed is None:
        raise InputError(f"{resident} is not a registered resident")
    bundles = bundles_for(actor, resident, actor.address) if actor.address != resident else []
    try:
        plain = env.open_section(
            sealed,
            PROFILE_SECTION,
            actor.private_key,
            actor.context(profile_record_id(resident), resident),
            bundles=bundles,
        )
    except NotARecipientError:
        raise AccessDeniedError(
            f"{actor.address} holds no key to the basic information of {resident}"
        ) from None
    if actor.address != resident and not grantee_is_family_doctor(actor, resident, actor.address):
        raise AccessDeniedError(f"{actor.address} is not the active family doctor of {resident}")
    result: dict[str, Any] = decode_section(PROFILE_SECTION, plain)
    return result
