"""Store, pin and anchor queued records exactly once: three strategies over one compare-and-swap.

- **single**: one ``anchor`` transaction per record, waited for before the next.
- **batched**: up to :data:`MAX_BATCH` records of one patient in one ``anchorBatch`` transaction.
- **pipelined**: one ``anchor`` per record, in rounds: the next record of every patient signed and broadcast
  at once, each on its card's current head, before any receipt is awaited.

Exactly-once: record ids are derived (``keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec))``),
so the author knows each id before it sends anything, and nobody else can anchor under it: another party that
anchors the same sealed bytes gets its own id. Before any anchor transaction the flush reads, at one block
``N``, both the card head and which of its ids are already on the card (an event counts only when its id,
recomputed from its patient, author, salt, digest and codec, is the entry's); it then anchors the rest with
``expectedHead`` = the head at ``N``. The contract's compare-and-swap lets only one transaction built on a given
head succeed, so a retried or duplicated submission can never put a record on the card twice. Nothing is
anchored before its bytes are stored and pinned.

The card leaf includes the anchoring block's timestamp, so the head after an anchor is known only once it is
mined: a pipelined flush runs patients side by side, and one patient's records one after another.

After a flush, a party entitled at the anchoring block that the record was not sealed for (a consent that came
into force between sealing and anchoring) gets the record's keys from the author at once
(:func:`famchain.records.sharing.release_to_late_readers`).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from web3.types import TxReceipt

from famchain.chain.structs import Anchor
from famchain.chain.tx import TransactionUnknownError
from famchain.errors import ChainError, ContractRevertError, QueuedError, RpcUnavailableError, StorageError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.outbox import Approval, OutboxEntry, OutboxState
from famchain.storage.car import write_car
from famchain.storage.cid import CidInfo, digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Cid, RecordId

MAX_BATCH = 250
"""Records per ``anchorBatch``: 48 KB of calldata and about 2.4 million gas, inside GoQuorum's default 64 KB
transaction size limit (geth's is 128 KB) and any consortium block gas limit of 8 million or more; fewer
transactions per flush (each a gas estimate, a broadcast and a receipt) is what larger batches buy."""
STORE_GROUP = 100
"""Records stored with one request: their DAGs in one CAR, imported with its roots pinned."""
STORE_WORKERS = 2
"""Store requests in flight at once (one CAR is built while the store writes the previous one)."""
PIPELINED_ANCHOR_GAS = 150_000
"""Gas limit of a pipelined anchor (it cannot be estimated before the previous one is mined); only the gas
actually used is paid (about 57,000, or 74,000 for a patient's first record)."""
CAS_RETRIES = 5


class Strategy(StrEnum):
    """How a flush turns queued records into anchor transactions."""

    BATCHED = "batched"
    PIPELINED = "pipelined"
    SINGLE = "single"


@dataclass(frozen=True)
class Failure:
    """A queued record the chain refused, with the refusal itself (it stays in the outbox)."""

    entry: OutboxEntry
    error: ContractRevertError


@dataclass(frozen=True)
class FlushReport:
    """What one flush did.

    Attributes:
        anchored: entries this flush anchored.
        already: entries the chain already held (marked done, nothing sent).
        waiting_approval: updates still waiting for the patient's signature.
        failed: entries the chain refused, each with the refusal.
        transactions: anchor transactions sent.
        late_releases: key releases to parties that became entitled between sealing and anchoring.
    """

    anchored: tuple[OutboxEntry, ...] = ()
    already: tuple[OutboxEntry, ...] = ()
    waiting_approval: tuple[OutboxEntry, ...] = ()
    failed: tuple[Failure, ...] = ()
    transactions: int = 0
    late_releases: tuple[LateRelease, ...] = ()


@dataclass(frozen=True)
class LateRelease:
    """Keys of anchored records released by their author to a party entitled at the anchoring block that the
    records were not sealed for; ``error`` says why it could not be done (the patient can still release them)."""

    record_ids: tuple[RecordId, ...]
    grantee: str
    sections: int
    bundle_cid: Cid | None = None
    error: str | None = None


@dataclass
class _Tally:
    """A flush's report while it runs."""

    anchored: list[OutboxEntry] = field(default_factory=list)
    already: list[OutboxEntry] = field(default_factory=list)
    waiting_approval: list[OutboxEntry] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    transactions: int = 0

    def report(self) -> FlushReport:
        return FlushReport(
            tuple(self.anchored),
            tuple(self.already),
            tuple(self.waiting_approval),
            tuple(self.failed),
            self.transactions,
        )


def anchor_of(entry: OutboxEntry) -> Anchor:
    """The ``IRecordRegistry.Anchor`` of an outbox entry."""
    digest, codec = digest_and_codec(entry.cid)
    return Anchor(
        salt=entry.salt,
        previous=entry.previous,
        cidDigest=digest,
        sections=entry.sections,
        cidCodec=codec,
        kind=entry.kind,
    )


def store_entry(actor: Actor, entry: OutboxEntry) -> OutboxEntry:
    """Store and pin the sealed bytes of an entry (idempotent: same bytes, same CID).

    Raises:
        StorageError: the store is unreachable or named the bytes otherwise.
    """
    cid = actor.store.put(actor.outbox.sealed_bytes(entry), pin=True)
    if cid != entry.cid:
        raise StorageError(
            _("store returned {cid} for record {record_id}, expected {expected}").format(
                cid=cid, record_id=entry.record_id, expected=entry.cid
            )
        )
    # Kept in memory: if the process stops before the anchor, the next flush stores again (same bytes, same
    # CID) at no risk; flush() persists the state when it has to stop with records still queued.
    return replace(entry, state=OutboxState.STORED) if entry.state is OutboxState.SEALED else entry


def store_entries(actor: Actor, entries: list[OutboxEntry]) -> list[OutboxEntry]:
    """Store and pin the sealed bytes of many entries with one request: their DAGs, built locally exactly as an
    ``add`` builds them, in one CAR that the store imports with its roots pinned (Kubo's ``dag/import``; the
    embedded store makes the whole CAR durable before it answers, with one directory sync per group).

    Raises:
        StorageError: the store is unreachable or did not pin every record under its CID.
    """
    blocks: list[tuple[CidInfo, bytes]] = []
    roots: list[CidInfo] = []
    for entry in entries:
        root = build_dag(
            io.BytesIO(actor.outbox.sealed_bytes(entry)), lambda block: blocks.append((block.cid, block.data))
        )
        if root.cid != entry.cid:
            raise StorageError(
                _("the sealed bytes of record {record_id} no longer hash to {cid}").format(
                    record_id=entry.record_id, cid=entry.cid
                )
            )
        roots.append(root)
    car = io.BytesIO()
    write_car(roots, blocks, car)
    car.seek(0)
    pinned = set(actor.store.import_car(car, pin=True))
    missing = [e.record_id for e in entries if e.cid not in pinned]
    if missing:
        raise StorageError(
            _("the store did not pin record {missing} ({n_missing} of {n_entries})").format(
                missing=missing[0], n_missing=len(missing), n_entries=len(entries)
            )
        )
    return [replace(e, state=OutboxState.STORED) if e.state is OutboxState.SEALED else e for e in entries]


def _settle_on_card(
    actor: Actor, patient: str, entries: list[OutboxEntry], block: int, report: _Tally
) -> list[OutboxEntry]:
    """Mark done the entries already on the patient's card at ``block``; return the others.

    An entry counts as anchored only when an event of this card carries its derived id (recomputed from the
    event's patient, author, salt, digest and codec), which binds this author and these bytes: another party
    anchoring the same sealed bytes under its own address never settles it.
    """
    on_card = actor.history.anchors(patient, [e.record_id for e in entries], block)
    settled = []
    for entry in entries:
        rec = on_card.get(entry.record_id)
        if rec is not None and rec.patient == patient and rec.author == actor.address:
            settled.append(replace(entry, state=OutboxState.ANCHORED, tx_hash=rec.tx_hash, block=rec.block))
    actor.outbox.mark_done(settled)
    report.already += settled
    done = {e.record_id for e in settled}
    return [e for e in entries if e.record_id not in done]


def _anchored(entry: OutboxEntry, receipt: TxReceipt) -> OutboxEntry:
    return replace(
        entry,
        state=OutboxState.ANCHORED,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block=int(receipt["blockNumber"]),
        last_error="",
    )


def _mark_anchored(actor: Actor, entries: list[OutboxEntry], receipt: TxReceipt, report: _Tally) -> None:
    done = [_anchored(e, receipt) for e in entries]
    actor.outbox.mark_done(done)
    report.anchored += done


def _anchor_group(actor: Actor, patient: str, group: list[OutboxEntry], report: _Tally) -> None:
    """Anchor entries of one patient (all new records, or one update) exactly once."""
    pending = list(group)
    records = actor.fc.records
    for _attempt in range(CAS_RETRIES):
        block = actor.fc.block_number()
        pending = _settle_on_card(actor, patient, pending, block, report)
        if not pending:
            return
        head = actor.fc.card(patient, block).head
        if pending[0].is_update:
            entry = pending[0]
            approval = entry.approval
            if approval is None:
                raise ChainError(
                    _("update {record_id} has no approval to anchor with").format(record_id=entry.record_id)
                )
            call = records.anchor_update(
                patient, head, anchor_of(entry), approval.nonce, approval.deadline, approval.signature
            )
        elif len(pending) == 1:
            call = records.anchor(patient, head, anchor_of(pending[0]))
        else:
            call = records.anchor_batch(patient, head, [anchor_of(e) for e in pending])
        pending = [replace(e, attempts=e.attempts + 1) for e in pending]
        try:
            receipt = actor.sender.transact(call, f"anchor {len(pending)} record(s) for {patient}")
        except ContractRevertError as exc:
            if exc.error_name in STALE:
                continue  # the head moved: look again at one block, then retry on the new head
            raise
        report.transactions += 1
        _mark_anchored(actor, pending, receipt, report)
        return
    raise ChainError(
        _("the card of {patient} kept changing; {n_pending} record(s) left in the outbox").format(
            patient=patient, n_pending=len(pending)
        )
    )


def _anchor_pipelined(
    actor: Actor, groups: dict[str, list[OutboxEntry]], report: _Tally, uploads: _Uploads
) -> dict[str, list[OutboxEntry]]:
    """One transaction per record, in rounds: each round signs and broadcasts the next record of every patient
    at once, each on the head its card holds (read at one block first, then taken from the previous round's
    receipt), and only then awaits the receipts.

    A card's leaf holds the anchoring block's time, so a record's head cannot be predicted before the previous
    record of the same card is mined: records of different patients are pipelined, those of one patient follow
    each other. An anchor that reverts (another author moved the card) stops its patient's pipeline; the
    patient's remaining entries are returned for the one-at-a-time path, which re-reads the card. A record is
    signed once the store has answered for it (``uploads``), while the later store requests are in flight.
    """
    block = actor.fc.block_number()
    queues: dict[str, list[OutboxEntry]] = {}
    heads: dict[str, bytes] = {}
    for patient, group in groups.items():
        queues[patient] = _settle_on_card(actor, patient, group, block, report)
        heads[patient] = actor.fc.card(patient, block).head
    left: dict[str, list[OutboxEntry]] = {patient: [] for patient in groups}
    while any(queues.values()):
        # The whole round stored before any of it is signed: a signature takes a nonce that must then be sent.
        round_ = [(patient, uploads.stored(queue.pop(0))) for patient, queue in queues.items() if queue]
        signed = []
        with actor.sender.one_fee_lookup():
            for patient, entry in round_:
                call = actor.fc.records.anchor(patient, heads[patient], anchor_of(entry))
                tx = actor.sender.sign(call, f"anchor {entry.record_id}", gas=PIPELINED_ANCHOR_GAS)
                signed.append((patient, entry, tx))
        actor.sender.broadcast_all([tx for _patient, _entry, tx in signed])
        actor.sender.fetch_receipts([tx for _patient, _entry, tx in signed])
        done: list[OutboxEntry] = []  # the round's anchored entries leave the outbox together
        try:
            for patient, entry, tx in signed:
                try:
                    receipt = actor.sender.wait(tx)
                except ContractRevertError:
                    left[patient] += [entry, *queues[patient]]
                    queues[patient] = []
                    continue
                report.transactions += 1
                done.append(_anchored(replace(entry, attempts=entry.attempts + 1), receipt))
                heads[patient] = actor.fc.records.anchored_head(receipt)
        finally:
            actor.outbox.mark_done(done)
            report.anchored += done
    return left


def _run_group(actor: Actor, patient: str, group: list[OutboxEntry], report: _Tally) -> None:
    try:
        _anchor_group(actor, patient, group, report)
    except ContractRevertError as exc:
        _refused(actor, group, exc, report)


def _refused(actor: Actor, group: list[OutboxEntry], exc: ContractRevertError, report: _Tally) -> None:
    for entry in group:
        # A refused approval (expired, nonce used since) can never succeed: the update waits for a new
        # one instead of failing every later flush.
        changes: dict[str, Any] = (
            {"state": OutboxState.AWAITING_APPROVAL, "approval": None} if entry.is_update else {}
        )
        report.failed.append(Failure(actor.outbox.update(entry, last_error=str(exc), **changes), exc))


STALE = ("RecordRegistryStaleHead", "RecordRegistryAlreadyAnchored")
"""The compare-and-swap's refusals: the card moved since its head was read."""


def _anchor_batched(
    actor: Actor, patient: str, group: list[OutboxEntry], report: _Tally, uploads: _Uploads
) -> None:
    """One patient's new records in batches of :data:`MAX_BATCH`, each batch built on the head the previous
    batch's receipt gives: the card is settled and its head read once, at one block, for all of them.

    A batch refused by the compare-and-swap (another author moved the card) sends it and the rest down the
    one-batch-at-a-time path, which settles and re-reads the card before each; a batch refused otherwise is
    reported failed and the next one goes on the same head. A batch is sent once the store has answered for
    each of its records (``uploads``), while the requests for the next batches are still in flight.
    """
    block = actor.fc.block_number()
    pending = _settle_on_card(actor, patient, group, block, report)
    head = actor.fc.card(patient, block).head
    records = actor.fc.records
    for start in range(0, len(pending), MAX_BATCH):
        batch = [
            replace(uploads.stored(e), attempts=e.attempts + 1) for e in pending[start : start + MAX_BATCH]
        ]
        anchors = [anchor_of(e) for e in batch]
        if len(batch) == 1:
            call = records.anchor(patient, head, anchors[0])
        else:
            call = records.anchor_batch(patient, head, anchors)
        try:
            receipt = actor.sender.transact(call, f"anchor {len(batch)} record(s) for {patient}")
        except ContractRevertError as exc:
            if exc.error_name in STALE:
                for rest in range(start, len(pending), MAX_BATCH):
                    _run_group(actor, patient, uploads.all_stored(pending[rest : rest + MAX_BATCH]), report)
                return
            _refused(actor, batch, exc, report)
            continue
        report.transactions += 1
        _mark_anchored(actor, batch, receipt, report)
        head = records.anchored_head(receipt)


class _Uploads:
    """A flush's store requests, :data:`STORE_GROUP` sealed records each, sent at once and answered while the
    flush anchors: a record goes to the chain only once the request holding its bytes has answered."""

    def __init__(self, actor: Actor, entries: list[OutboxEntry], pool: ThreadPoolExecutor) -> None:
        sealed = [e for e in entries if e.state is OutboxState.SEALED]
        self._requests: dict[RecordId, Future[list[OutboxEntry]]] = {}
        for first in range(0, len(sealed), STORE_GROUP):
            group = sealed[first : first + STORE_GROUP]
            request = pool.submit(store_entries, actor, group)
            self._requests.update((e.record_id, request) for e in group)
        self._answers: dict[RecordId, OutboxEntry] = {}

    def stored(self, entry: OutboxEntry) -> OutboxEntry:
        """``entry`` once its bytes are stored and pinned (waits for the store's answer).

        Raises:
            StorageError: the store refused or could not be reached.
        """
        request = self._requests.get(entry.record_id)
        if request is None:
            return entry
        if entry.record_id not in self._answers:
            self._answers.update((e.record_id, e) for e in request.result())
        return self._answers[entry.record_id]

    def all_stored(self, entries: list[OutboxEntry]) -> list[OutboxEntry]:
        """:meth:`stored` of each."""
        return [self.stored(e) for e in entries]

    def settled(self, entry: OutboxEntry) -> OutboxEntry:
        """``entry`` as the store's answer leaves it: stored, or as it was if its request failed (waits for the
        requests still in flight; for a flush that has to stop and remember what is stored)."""
        request = self._requests.get(entry.record_id)
        if request is None or request.exception() is not None:
            return entry
        return self.stored(entry)


def _approved_on_chain(actor: Actor, entry: OutboxEntry) -> OutboxEntry | None:
    """A waiting update the patient approved on chain (``approveUpdateWithSig``, relayed by the portal, or
    ``approveUpdate``), ready to anchor against the stored approval with an empty signature; else None."""
    stored = actor.fc.records.approval_of(entry.patient, entry.record_id, entry.previous)
    if stored.deadline == 0 or stored.deadline < actor.fc.latest_timestamp():
        return None
    return replace(entry, approval=Approval(0, 0, b""), state=OutboxState.STORED)


def flush(actor: Actor, *, strategy: Strategy = Strategy.BATCHED) -> FlushReport:
    """Store, pin and anchor every pending outbox entry; each step resumes where a previous run stopped.

    Args:
        actor: the author whose outbox is flushed.
        strategy: how new records become transactions (updates always go one at a time).

    Raises:
        QueuedError: the store or the chain is unreachable; entries stay queued.
    """
    report = _Tally()
    with actor.outbox.locked(), ThreadPoolExecutor(max_workers=STORE_WORKERS) as pool:
        entries = actor.outbox.pending()
        ready: list[OutboxEntry] = []
        uploads = _Uploads(actor, entries, pool)
        try:
            for entry in entries:
                if entry.state is OutboxState.AWAITING_APPROVAL:
                    approved = _approved_on_chain(actor, entry)
                    if approved is None:
                        report.waiting_approval.append(entry)
                    else:
                        ready.append(approved)
                else:
                    ready.append(entry)
            groups: dict[str, list[OutboxEntry]] = defaultdict(list)
            for entry in ready:
                if entry.is_update:
                    _run_group(actor, entry.patient, uploads.all_stored([entry]), report)
                else:
                    groups[entry.patient].append(entry)
            if strategy is Strategy.BATCHED:
                for patient, group in groups.items():
                    _anchor_batched(actor, patient, group, report, uploads)
                groups.clear()
            if strategy is Strategy.PIPELINED:
                groups = defaultdict(list, _anchor_pipelined(actor, dict(groups), report, uploads))
            for patient, group in groups.items():
                for entry in uploads.all_stored(group):
                    _run_group(actor, patient, [entry], report)
        except (StorageError, RpcUnavailableError, TransactionUnknownError) as exc:
            done = {e.record_id for e in report.anchored + report.already}
            for entry in (e for e in ready if e.record_id not in done):
                settled = uploads.settled(entry)
                if settled.state is not entry.state:
                    actor.outbox.save(settled)  # remember that its bytes are stored
            for entry in actor.outbox.pending():  # `outbox list` says why each is still queued
                if entry.record_id not in done and entry.state is not OutboxState.AWAITING_APPROVAL:
                    actor.outbox.update(entry, last_error=str(exc))
            actor.outbox.compact()
            states = Counter(e.state for e in actor.outbox.pending())
            raise QueuedError(
                states[OutboxState.SEALED] + states[OutboxState.STORED],
                str(exc),
                sealed=states[OutboxState.SEALED],
                stored=states[OutboxState.STORED],
                awaiting_approval=states[OutboxState.AWAITING_APPROVAL],
            ) from exc
        actor.outbox.compact()
    result = report.report()
    if result.anchored:
        from famchain.records.sharing import release_to_late_readers

        result = replace(result, late_releases=tuple(release_to_late_readers(actor, result.anchored)))
    return result


def drop(actor: Actor, entry: OutboxEntry) -> OutboxEntry:
    """Remove a pending entry the author gives up on (e.g. consent withdrawn before it was anchored).

    A record the chain already holds is not dropped but marked done: the card is the truth.
    """
    with actor.outbox.locked():
        on_card = actor.history.anchors(entry.patient, [entry.record_id]).get(entry.record_id)
        if on_card is not None and on_card.author == actor.address:
            return actor.outbox.update(
                entry, state=OutboxState.ANCHORED, tx_hash=on_card.tx_hash, block=on_card.block
            )
        actor.outbox.discard(entry)
        actor.outbox.compact()
        return entry
