"""``client.records``: visit records on a patient's card (就诊卡): submit, read, amend, and the outbox of
records sealed locally and waiting to be stored or anchored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from famchain.chain.history import AnchoredRecord
from famchain.chain.structs import ZERO_HEAD, ErasureProof, RecordKind
from famchain.errors import ConfigError, ErasureRefusedError, InputError
from famchain.i18n import _
from famchain.records import anchoring, erasure, reading, sealing, sharing, updates
from famchain.records.anchoring import FlushReport, Strategy
from famchain.records.deletion import Deletions, deletions_from, versions
from famchain.records.erasure import Copies, ErasedRecord, ErasureFollower, PurgeReport
from famchain.records.model import RecordContent
from famchain.records.outbox import OutboxEntry, OutboxState
from famchain.records.reading import ReadResult
from famchain.records.sharing import Release
from famchain.services._base import Service
from famchain.services.results import TxInfo
from famchain.storage.api import ContentStore
from famchain.types import RecordId


@dataclass(frozen=True)
class Submitted:
    """A record submitted: its outbox entry (anchored) and what the flush did (earlier queued records too)."""

    entry: OutboxEntry
    report: FlushReport

    @property
    def record_id(self) -> RecordId:
        """The new record's id."""
        return self.entry.record_id


@dataclass(frozen=True)
class PreparedUpdate:
    """A new version sealed and stored, waiting for the patient's approval; ``request`` goes to the patient."""

    entry: OutboxEntry
    request: dict[str, Any]


@dataclass(frozen=True)
class RetentionEnd:
    """When a record's retention period ends: the earliest time it may be erased after a deletion request."""

    record_id: RecordId
    kind: RecordKind
    ends_at: int


MIN_PREFIX = 4
"""The fewest hex digits a record id prefix may have."""


class RecordService(Service):
    """Records: the author's side (submit, update, outbox) and every reader's (card, read)."""

    # --- authors ---

    def submit(
        self,
        patient: str,
        content: RecordContent,
        *,
        strategy: Strategy = Strategy.BATCHED,
        kind: RecordKind | None = None,
    ) -> Submitted:
        """Seal a visit record for everyone entitled to it now, store and pin it, and anchor it on the card
        (earlier queued records of this author are flushed with it). ``kind`` overrides the record's own.

        Raises:
            AccessDeniedError: the author may not append these sections (nothing is queued).
            QueuedError: sealed and queued, but the store or the chain is down; a later flush finishes.
            ContractRevertError: the chain refused the anchor (the record stays queued with the reason).
        """
        entry = sealing.seal_record(self._client.actor, patient, content, kind=kind)
        report = self.flush(strategy=strategy)
        for failure in report.failed:
            if failure.entry.record_id == entry.record_id:
                raise failure.error
        done = self._client.actor.outbox.get(entry.record_id) or entry
        return Submitted(done, report)

    def seal(
        self, patient: str, content: RecordContent, *, kind: RecordKind | None = None, check: bool = True
    ) -> OutboxEntry:
        """Seal a record into the outbox without sending anything (:meth:`flush` stores and anchors it).

        Args:
            patient: whose card.
            content: the sections.
            kind: outpatient or inpatient [default: the record's own].
            check: refuse an author the chain would refuse (False only to test the contract's own check).
        """
        return sealing.seal_record(self._client.actor, patient, content, kind=kind, check=check)

    def seal_many(
        self,
        patient: str,
        contents: Sequence[RecordContent],
        *,
        kind: RecordKind | None = None,
        workers: int = 1,
    ) -> list[OutboxEntry]:
        """Seal many new visit records of one patient into the outbox at once (one view of the chain, one group
        of durable writes; ``workers`` > 1 seals in that many processes); :meth:`flush` stores and anchors them.

        Raises:
            AccessDeniedError: the author may not append some record's sections (nothing is queued).
        """
        return sealing.seal_records(self._client.actor, patient, contents, kind=kind, workers=workers)

    def flush(self, *, strategy: Strategy = Strategy.BATCHED) -> FlushReport:
        """Store and anchor every queued record exactly once.

        Raises:
            QueuedError: the store or the chain is unreachable; records stay queued.
        """
        return anchoring.flush(self._client.actor, strategy=strategy)

    def pending(self) -> list[OutboxEntry]:
        """Records of this author not yet anchored, oldest first."""
        return self._client.actor.outbox.pending()

    def outbox_entry(self, record_id: RecordId) -> OutboxEntry | None:
        """This author's outbox entry for a record (pending or done)."""
        return self._client.actor.outbox.get(record_id)

    def drop(self, record_id: RecordId) -> OutboxEntry:
        """Give up a queued record that can never be anchored; one the chain already holds is marked done.

        Raises:
            InputError: no pending record with that id in this outbox.
        """
        entry = self._client.actor.outbox.get(record_id)
        if entry is None or entry.state is OutboxState.ANCHORED:
            raise InputError(_("no pending record {record_id} in this outbox").format(record_id=record_id))
        return anchoring.drop(self._client.actor, entry)

    def prepare_update(
        self, record_id: RecordId, content: RecordContent, *, ttl: int = updates.DEFAULT_APPROVAL_TTL
    ) -> PreparedUpdate:
        """Seal and store a new version of a record; returns the approval request for the patient."""
        entry, request = updates.prepare_update(self._client.actor, record_id, content, ttl=ttl)
        return PreparedUpdate(entry, request)

    def describe_update(self, request: dict[str, Any]) -> updates.Change:
        """As the patient: what the amendment an approval request names changes (sections added, removed,
        altered), read from both versions with your key before you sign.

        Raises:
            InputError: not an approval request for you on this deployment.
            StorageError: the new version cannot be fetched.
            IntegrityError: the stored new version is not the one the request names.
        """
        return updates.describe_update(self._client.actor, request)

    def approve(self, request: dict[str, Any]) -> dict[str, Any]:
        """As the patient: sign an approval request offline (no chain access); returns the signed document."""
        return updates.approve_request(self._client.account_key(), request)

    def apply_approval(self, signed: dict[str, Any]) -> OutboxEntry:
        """Attach the patient's signed approval to the waiting update (checked against the outbox's copy)."""
        return updates.apply_approval(self._client.actor, signed)

    def anchor_approved(self, signed: dict[str, Any]) -> OutboxEntry:
        """Attach the patient's signed approval and anchor the update.

        Raises:
            InputError: the approval does not fit a waiting update, or the chain refused it.
        """
        entry = self.apply_approval(signed)
        report = self.flush()
        for failure in report.failed:
            if failure.entry.record_id == entry.record_id:
                raise InputError(_("update refused: {error}").format(error=failure.error)) from failure.error
        return self._client.actor.outbox.get(entry.record_id) or entry

    # --- readers ---

    def resolve(self, text: str, patient: str | None = None) -> RecordId:
        """A record id from the whole id or a unique prefix of it (like git): the anchored records of the
        deployment (of ``patient``'s card when given) and this client's queued ones.

        Raises:
            InputError: not hex, shorter than :data:`MIN_PREFIX` digits, matching no record, or more than one.
        """
        raw = text.strip() if isinstance(text, str) else ""
        digits = raw.removeprefix("0x").removeprefix("0X").lower()
        if len(digits) == 2 * RecordId.SIZE:
            return RecordId.from_hex(raw)
        if not digits or any(c not in "0123456789abcdef" for c in digits) or len(digits) > 2 * RecordId.SIZE:
            raise InputError(_("record id {text!r} is not hex (0x + up to 64 hex digits)").format(text=text))
        if len(digits) < MIN_PREFIX:
            raise InputError(
                _(
                    "record id {text!r} is too short: give at least {min_prefix} hex digits or the whole id"
                ).format(text=text, min_prefix=MIN_PREFIX)
            )
        client = self._client
        known = set(client.history.record_ids(patient))
        if client.account is not None and client.home is not None and client.store is not None:
            known |= {e.record_id for e in self.pending()}
        found = sorted(str(r) for r in known if r.hex().startswith(digits))
        if not found:
            where = f" on the card of {patient}" if patient else ""
            raise InputError(
                _("no record id{where} starts with 0x{digits}: see `famchain record list`").format(
                    where=where, digits=digits
                )
            )
        if len(found) > 1:
            shown = ", ".join(f[: 2 + len(digits) + 4] + "…" for f in found[:3])
            raise InputError(
                _(
                    "record id 0x{digits} is ambiguous: it starts {n_found} records ({shown}); give more digits"
                ).format(digits=digits, n_found=len(found), shown=shown)
            )
        return RecordId.from_hex(found[0])

    def card(self, patient: str) -> list[AnchoredRecord]:
        """The patient's visit card in order, verified against the head stored on chain."""
        return self._client.history.card(patient)

    def find(self, record_id: RecordId, patient: str | None = None) -> AnchoredRecord:
        """A record as its patient's verified card holds it (the first occurrence of its id).

        Raises:
            UnknownRecordError: no such record on this deployment (or not on ``patient``'s card).
        """
        return reading.find_anchor(self._client.history, record_id, patient)

    def read(self, record_id: RecordId, patient: str | None = None) -> ReadResult:
        """Fetch, verify and decrypt the sections you may read now; the rest come back withheld.

        Raises:
            UnknownRecordError: no such record.
            KeyNotReleasedError: the chain lets you read it but no key has been released to you yet (the
                message says who can release it).
            AccessDeniedError: you may read no section of it.
            IntegrityError: the stored bytes do not match the anchor, or are not sealed for it.
        """
        return reading.read_record(self._client.actor, record_id, patient=patient)

    def share(self, record_id: RecordId, grantee: str) -> Release:
        """As the record's author (or the patient, or any party the chain lets read it): release the keys of
        one record to ``grantee`` for the sections the chain lets it read now (``releaseKeys``; you are the
        releaser on the audit trail).

        Raises:
            AccessDeniedError: ``grantee`` may read none of it, or you may not release it.
        """
        return sharing.share_record(self._client.actor, record_id, grantee)

    def erasure_proof(self, record_id: RecordId, patient: str | None = None) -> ErasureProof:
        """The proof ``erase`` needs, from the verified card: the record's leaf fields, the head before it
        and every later leaf.

        Raises:
            UnknownRecordError: no such record.
        """
        record = self.find(record_id, patient)
        card = self._client.history.card(record.patient)
        before = card[record.index - 1].head if record.index else ZERO_HEAD
        return ErasureProof(
            index=record.index,
            headBefore=before,
            recordId=record.record_id,
            previous=record.previous,
            sections=record.sections,
            kind=record.kind,
            anchoredAt=record.anchored_at,
            laterLeaves=tuple(r.leaf for r in card[record.index + 1 :]),
        )

    def erase(self, record_id: RecordId, patient: str | None = None, *, check: bool = True) -> TxInfo:
        """Erase a record (anyone may) whose deletion was requested and whose retention period is over; member
        stores then delete its sealed bytes on the ``RecordErased`` event (:meth:`purge_erased`).

        The proof is built from the verified card; what the contract would refuse is refused here first, in
        words (``check=False`` only to test the contract's own refusal).

        Raises:
            ErasureRefusedError: no deletion request covers it, its retention period is not over, or it was
                erased already.
            ContractRevertError: the chain refused it all the same (the card moved on, say).
        """
        record = self.find(record_id, patient)
        if check:
            self._check_erasable(record, self.deletions(record.patient), self._client.now())
        proof = self.erasure_proof(record_id, record.patient)
        return self._send(self._client.chain.records.erase(record.patient, proof), "erase record")

    def _check_erasable(self, record: AnchoredRecord, state: Deletions, now: int) -> None:
        erased = state.erasure(record.record_id)
        if erased is not None:
            raise ErasureRefusedError(record.record_id, _("it was {phrase}").format(phrase=erased.phrase))
        if not state.has_request(record.record_id):
            raise ErasureRefusedError(
                record.record_id,
                _("the resident has not asked for its deletion (`famchain resident delete-request`)"),
            )
        retention = self.retention(record.kind)
        ends_at = record.anchored_at + retention
        if now < ends_at:
            raise ErasureRefusedError.retention(record.record_id, record.kind.label, ends_at, retention)

    def erasable(self, patient: str) -> list[AnchoredRecord]:
        """The records of ``patient`` that :meth:`erase` would erase now: the resident asked for their deletion
        (or the whole card's) and their retention period is over."""
        card = reading.first_occurrences(self.card(patient))
        state = self.deletions(patient)
        now = self._client.now()
        out = []
        for record in card:
            try:
                self._check_erasable(record, state, now)
            except ErasureRefusedError:
                continue
            out.append(record)
        return out

    def retention_ends(self, patient: str, record_id: RecordId | None = None) -> list[RetentionEnd]:
        """When each record of ``patient`` (``record_id`` and its other versions; None: the whole card) may be
        erased: anchoring time plus the retention period of its kind."""
        card = reading.first_occurrences(self.card(patient))
        chosen = versions(card, record_id) if record_id is not None else card
        periods = {kind: self.retention(kind) for kind in {r.kind for r in chosen}}
        return [RetentionEnd(r.record_id, r.kind, r.anchored_at + periods[r.kind]) for r in chosen]

    def deletions(self, patient: str) -> Deletions:
        """The patient's deletion requests (which records are locked, since when) and erasures, from chain
        events (a record's lock reaches its later versions)."""
        history = self._client.history
        return deletions_from(
            patient,
            history.patient_events(patient),
            self._client.chain.block_timestamp,
            history.card(patient),
        )

    def erased_records(self, from_block: int | None = None) -> list[ErasedRecord]:
        """Every record erased on this deployment (from ``from_block``), with the CID of its sealed bytes."""
        return erasure.erased_records(self._client.history, from_block)

    def purge_erased(self, store: ContentStore | None = None) -> PurgeReport:
        """As a member store: delete the sealed bytes of every erased record (unpin, then garbage-collect).
        Idempotent; run it after each ``RecordErased`` (``famchain ipfs sync-erasures``).

        Args:
            store: the store to purge [default: the client's].

        Raises:
            ConfigError: no store given and the client has none.
            StoreUnavailableError: the store cannot be reached.
        """
        target = store if store is not None else self._client.store
        if target is None:
            raise ConfigError(_("purging erased records needs a content store"))
        return erasure.purge(target, self.erased_records())

    def erasure_follower(self, store: ContentStore) -> ErasureFollower:
        """A follower that purges ``store`` of each record as it is erased (``famchain ipfs serve
        --follow-erasures``)."""
        return ErasureFollower(self._client.history, store)

    def copies(self, record_id: RecordId, gateways: Sequence[str]) -> Copies:
        """Ask member stores' gateways which of them still hold the record's sealed bytes (after an erasure,
        every one of them should answer no).

        Raises:
            UnknownRecordError: no such record.
        """
        record = self.find(record_id)
        signer = None
        if self._client.account is not None:
            from famchain.storage.access import AccessSigner

            signer = AccessSigner(self._client.account_key())
        return erasure.copies(record_id, record.cid, self.is_erased(record_id), gateways, signer)

    def retention(self, kind: RecordKind) -> int:
        """Seconds a record of ``kind`` is kept before a deletion request may erase it."""
        return self._client.chain.records.retention(kind)

    def is_erased(self, record_id: RecordId) -> bool:
        """True once the record was erased."""
        return self._client.chain.records.is_erased(record_id)

    def read_card(self, patient: str) -> list[ReadResult]:
        """Open a whole card as the reader (records you may not see come back fully withheld)."""
        return reading.read_card(self._client.actor, patient)
