"""Erasure is the deletion of every copy: what each member store does on ``RecordErased``.

Wrapped section keys live inside the content-addressed envelope (and in key bundles, which hold keys but no
ciphertext), so erasure cannot be key destruction: the record is gone only when no store holds its sealed bytes.
When ``RecordRegistry.erase`` succeeds (the resident asked for the record's deletion and its retention period is
over), every member store:

1. reads the ``RecordErased`` events of the deployment (one ``eth_getLogs``) and the anchors of those records
   (one more), which give each record's CID;
2. unpins each CID it pins, then garbage-collects, so the record's blocks (every block of its DAG) are deleted;
3. reports what it still holds (a block something else still pins).

``famchain ipfs sync-erasures`` does this once (a cron job next to a Kubo node); ``famchain ipfs serve
--follow-erasures`` does it as the events arrive. :func:`copies` asks member gateways which of them still hold
a copy. What cannot be guaranteed: a copy someone kept outside the member stores (a download, a backup, a
reader's cache) is beyond the protocol; ``docs/protocol.md`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from famchain.chain.history import History
from famchain.errors import NotPinnedError
from famchain.storage.access import AccessSigner
from famchain.storage.api import ContentStore
from famchain.storage.blockstore import GcResult
from famchain.storage.copies import Holding, holding
from famchain.types import Cid, RecordId


@dataclass(frozen=True)
class ErasedRecord:
    """A record erased on chain and where its bytes were stored."""

    record_id: RecordId
    patient: str
    cid: Cid
    block: int
    tx_hash: str

    def to_json(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "record": str(self.record_id),
            "patient": self.patient,
            "cid": str(self.cid),
            "block": self.block,
            "tx": self.tx_hash,
        }


def erased_records(
    history: History, from_block: int | None = None, to_block: int | None = None
) -> list[ErasedRecord]:
    """Every record erased on this deployment (between the blocks given), with its CID, in chain order.

    An erasure whose record has no anchor (impossible unless the node forged the event: ``erase`` checks the
    record against the card) is ignored.
    """
    records = history.fc.records.address
    events = history.events(
        ["0x" + history.topic("RecordErased").hex()], [records], to_block=to_block, from_block=from_block
    )
    if not events:
        return []
    anchors = history.anchors(None, [bytes(e.args["recordId"]) for e in events], to_block=to_block)
    out = []
    for event in events:
        record_id = RecordId(bytes(event.args["recordId"]))
        anchor = anchors.get(record_id)
        if anchor is None or anchor.patient != event.args["patient"]:
            continue
        out.append(ErasedRecord(record_id, anchor.patient, anchor.cid, event.block, event.tx_hash))
    return out


@dataclass(frozen=True)
class Purged:
    """What one store did about one erased record."""

    record: ErasedRecord
    unpinned: bool
    held_before: bool
    held_after: bool


@dataclass(frozen=True)
class PurgeReport:
    """What a store did about erased records: each one it held or pinned, and the garbage collection."""

    checked: int
    purged: tuple[Purged, ...]
    gc: GcResult | None

    @property
    def deleted(self) -> list[Purged]:
        """Records whose bytes this store deleted now."""
        return [p for p in self.purged if p.held_before and not p.held_after]

    @property
    def still_held(self) -> list[Purged]:
        """Records whose root block the store still holds (something else pins it)."""
        return [p for p in self.purged if p.held_after]

    def to_json(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "erased_records": self.checked,
            "deleted": [p.record.to_json() for p in self.deleted],
            "still_held": [p.record.to_json() for p in self.still_held],
            "removed_blocks": self.gc.removed_blocks if self.gc is not None else 0,
        }


def purge(store: ContentStore, erased: Sequence[ErasedRecord]) -> PurgeReport:
    """Delete the sealed bytes of erased records from one store: unpin each, then garbage-collect once.

    Idempotent: records the store neither pins nor holds cost one lookup each, and no collection runs when
    there is nothing to delete.

    Raises:
        StoreUnavailableError: the store cannot be reached.
    """
    rows: list[tuple[ErasedRecord, bool, bool]] = []
    for record in erased:
        try:
            store.unpin(record.cid)
            unpinned = True
        except NotPinnedError:
            unpinned = False
        rows.append((record, unpinned, unpinned or store.has(record.cid)))
    collected = store.gc() if any(held for _, _, held in rows) else None
    purged = tuple(
        Purged(record, unpinned, held, store.has(record.cid) if held else False)
        for record, unpinned, held in rows
        if held
    )
    return PurgeReport(len(erased), purged, collected)


class ErasureFollower:
    """Follows ``RecordErased`` events for one store: each :meth:`sync` handles the erasures since the last
    one (the first: every erasure of the deployment)."""

    def __init__(self, history: History, store: ContentStore, from_block: int | None = None) -> None:
        self.history = history
        self.store = store
        self.next_block = from_block if from_block is not None else history.fc.deployment.start_block

    def sync(self) -> PurgeReport:
        """Purge the records erased since the last sync.

        Raises:
            RpcUnavailableError: the chain cannot be reached (nothing is skipped: the next sync retries).
            StoreUnavailableError: the store cannot be reached (likewise).
        """
        head = self.history.fc.block_number()
        if head < self.next_block:
            return PurgeReport(0, (), None)
        report = purge(self.store, erased_records(self.history, self.next_block, head))
        self.next_block = head + 1
        return report


@dataclass(frozen=True)
class Copies:
    """Which member stores still hold a record's sealed bytes."""

    record_id: RecordId
    cid: Cid
    erased: bool
    answers: tuple[Holding, ...]

    @property
    def holding(self) -> int:
        """How many stores answered that they hold a copy."""
        return sum(1 for a in self.answers if a.holds)

    @property
    def unknown(self) -> int:
        """How many stores could not be asked (unreachable, or refused to say)."""
        return sum(1 for a in self.answers if a.holds is None)

    def to_json(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "record": str(self.record_id),
            "cid": str(self.cid),
            "erased": self.erased,
            "stores": len(self.answers),
            "holding": self.holding,
            "unknown": self.unknown,
            "answers": [a.to_json() for a in self.answers],
        }


def copies(
    record_id: RecordId,
    cid: Cid,
    erased: bool,
    gateways: Iterable[str],
    signer: AccessSigner | None = None,
) -> Copies:
    """Ask each gateway whether it still holds the record's root block (signed by ``signer``: a gated gateway
    answers only the accounts it serves, e.g. member institutions and the patient)."""
    return Copies(record_id, cid, erased, tuple(holding(url, str(cid), signer=signer) for url in gateways))


__all__ = [
    "Copies",
    "ErasedRecord",
    "ErasureFollower",
    "PurgeReport",
    "Purged",
    "copies",
    "erased_records",
    "purge",
]
