"""Deletion requests (PIPL art. 47) under medical-record retention duties, as the client honours them.

A resident asks on chain (``ResidentRegistry.requestDeletion``) that a record, or the whole card, be erased. From
that moment the record is *locked* until it is erased:

- The contracts refuse what they can see. A whole-card request locks the card: the agreement ends, and no grant,
  access request, agreement, anchor, key release or emergency declaration or approval is accepted for that
  patient. For a single record the chain cannot tell which records a key bundle or an emergency share bundle
  holds (they are encrypted), so the client is the line there.
- The client: no key of a locked record goes into a new key bundle (consent, consent sync, record share, late
  release) nor into an emergency share release; no amendment of it is sealed; only the patient reads it (every
  other reader gets it withheld, with the reason). A lock reaches the later versions of a record (an amendment
  carries its content forward); ``famchain resident delete-request RECORD`` asks for every version at once.
- Once a record's retention period (outpatient / inpatient, deployment parameters: 15 and 30 years by default)
  has passed since it was anchored, anyone may erase it (``RecordRegistry.erase`` with a proof built from the
  verified card); every member store then deletes its sealed bytes (:mod:`famchain.records.erasure`), and the
  card shows it as erased on that date at the resident's request.

Everything here is read from the patient's events (one ``eth_getLogs``), plus one block timestamp per erasure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from famchain.chain.history import AnchoredRecord, ChainEvent
from famchain.errors import RecordErasedError
from famchain.records.actor import Actor
from famchain.types import RecordId

LOCKED_FOR_READERS = "only the patient can read it"
"""What a reader other than the patient is told about a locked record."""


@dataclass(frozen=True)
class Erasure:
    """A ``RecordErased`` event: the record, who sent the erasure, and when (the block's time)."""

    record_id: RecordId
    by: str
    block: int
    tx_hash: str
    erased_at: int

    @property
    def phrase(self) -> str:
        """``erased on <date> at the resident's request``."""
        return RecordErasedError.phrase(self.erased_at)


@dataclass(frozen=True)
class Deletions:
    """A patient's deletion requests and erasures, as the chain's events say.

    Attributes:
        card_locked_at: when the whole card was locked (0: not locked).
        requested: record -> when its deletion was requested (on chain: what ``erase`` accepts).
        inherited: record -> the request time of an earlier version it amends (the lock reaches it; erasing it
            needs its own request or the card's).
        erased: record -> its erasure.
    """

    patient: str
    card_locked_at: int = 0
    requested: Mapping[RecordId, int] = field(default_factory=dict)
    erased: Mapping[RecordId, Erasure] = field(default_factory=dict)
    inherited: Mapping[RecordId, int] = field(default_factory=dict)

    @property
    def card_locked(self) -> bool:
        """True once the resident asked for the deletion of the whole card."""
        return self.card_locked_at != 0

    def has_request(self, record_id: RecordId) -> bool:
        """True when the chain holds a deletion request for the record itself or the whole card."""
        return bool(self.requested.get(record_id) or self.card_locked_at)

    def locked_at(self, record_id: RecordId) -> int:
        """When the record was locked (its own request, an earlier version's, or the card's), else 0."""
        own = (self.requested.get(record_id, 0), self.inherited.get(record_id, 0), self.card_locked_at)
        times = [t for t in own if t]
        return min(times) if times else 0

    def is_locked(self, record_id: RecordId) -> bool:
        """True when a deletion request covers the record."""
        return self.locked_at(record_id) != 0

    def erasure(self, record_id: RecordId) -> Erasure | None:
        """The record's erasure, if it was erased."""
        return self.erased.get(record_id)

    def releasable(self, records: Iterable[AnchoredRecord]) -> list[AnchoredRecord]:
        """The records no deletion request covers (what a key or share release may hold)."""
        return [r for r in records if not self.is_locked(r.record_id) and r.record_id not in self.erased]

    def skip_reason(self, record_id: RecordId) -> str | None:
        """Why a release leaves the record out (None: it may be released)."""
        erased = self.erased.get(record_id)
        if erased is not None:
            return erased.phrase
        at = self.locked_at(record_id)
        if at:
            return f"locked by the resident's deletion request of {_day(at)}"
        return None


def _day(timestamp: int) -> str:
    import time

    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


def deletions_from(
    patient: str,
    events: Iterable[ChainEvent],
    timestamp: Callable[[int], int],
    card: Sequence[AnchoredRecord] | None = None,
) -> Deletions:
    """Build a patient's :class:`Deletions` from their events.

    Args:
        patient: whose.
        events: the patient's events (``History.patient_events``).
        timestamp: block number -> its time (asked once per erasure).
        card: the verified card, to carry a record's lock to its later versions.
    """
    card_locked_at = 0
    requested: dict[RecordId, int] = {}
    erased: dict[RecordId, Erasure] = {}
    for event in events:
        if event.name == "DeletionRequested":
            record_id = RecordId(bytes(event.args["recordId"]))
            at = int(event.args["requestedAt"])
            if record_id.is_zero:
                card_locked_at = card_locked_at or at
            else:
                requested.setdefault(record_id, at)
        elif event.name == "RecordErased":
            record_id = RecordId(bytes(event.args["recordId"]))
            erased.setdefault(
                record_id,
                Erasure(record_id, str(event.args["by"]), event.block, event.tx_hash, timestamp(event.block)),
            )
    inherited: dict[RecordId, int] = {}
    for record in card or ():  # in card order: an earlier version is seen before the versions amending it
        if not record.is_update:
            continue
        at = requested.get(record.previous, 0) or inherited.get(record.previous, 0)
        if at and record.record_id not in requested:
            inherited.setdefault(record.record_id, at)
    return Deletions(patient, card_locked_at, requested, erased, inherited)


def deletions(actor: Actor, patient: str, card: Sequence[AnchoredRecord] | None = None) -> Deletions:
    """The patient's deletion requests and erasures now (one ``eth_getLogs``)."""
    return deletions_from(patient, actor.history.patient_events(patient), actor.fc.block_timestamp, card)


def versions(card: Sequence[AnchoredRecord], record_id: RecordId) -> list[AnchoredRecord]:
    """Every version of a record on its card, in card order: the versions it amends and those amending it."""
    by_id = {r.record_id: r for r in card}
    linked: dict[RecordId, set[RecordId]] = {}
    for record in card:
        if record.is_update and record.previous in by_id:
            linked.setdefault(record.record_id, set()).add(record.previous)
            linked.setdefault(record.previous, set()).add(record.record_id)
    seen = {record_id}
    todo = [record_id]
    while todo:
        for other in linked.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return [r for r in card if r.record_id in seen]


__all__ = ["LOCKED_FOR_READERS", "Deletions", "Erasure", "deletions", "deletions_from", "versions"]
