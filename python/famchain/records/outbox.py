"""The author's local outbox: a sealed record is written here before anything leaves the machine.

An entry moves ``sealed -> stored -> anchored`` (updates wait in ``awaiting_approval`` between the first
two steps until the patient's signature arrives). Each step rewrites the entry atomically, so a process killed
at any point leaves an entry that the next flush resumes from; the sealed bytes never change, so a retried
upload yields the same CID. Anchored entries move to ``done/``. Entries hold who was treated by whom and
when: files are 0600 in 0700 folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from famchain._files import PRIVATE_FILE, private_dir
from famchain.chain.structs import RecordKind
from famchain.errors import ConfigError, InputError
from famchain.i18n import _
from famchain.storage.blockstore import atomic_write, sync_dir
from famchain.types import Cid, RecordId


class OutboxState(StrEnum):
    """Where an outbox entry is on its way to the chain (the value is what the entry file and ``--json`` say)."""

    SEALED = "sealed"
    """Sealed and written locally; not yet stored."""
    STORED = "stored"
    """Stored and pinned; not yet anchored."""
    AWAITING_APPROVAL = "awaiting_approval"
    """An update stored and waiting for the patient's signature."""
    ANCHORED = "anchored"
    """On the card."""


@dataclass(frozen=True)
class Approval:
    """The patient's EIP-712 ``RecordUpdate`` signature for an update (its nonce keyed Update/previous)."""

    nonce: int
    deadline: int
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """Serializable form (signature as 0x hex)."""
        return {"nonce": str(self.nonce), "deadline": self.deadline, "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Approval:
        """Inverse of :meth:`to_json`."""
        return cls(
            int(data["nonce"]),
            int(data["deadline"]),
            bytes.fromhex(str(data["signature"]).removeprefix("0x")),
        )


@dataclass(frozen=True)
class OutboxEntry:
    """One record on its way to the chain.

    Attributes:
        record_id: derived exactly as RecordRegistry will derive it from (patient, author, salt, digest,
            codec): known before anything is sent, and the only thing a retry settles by.
        salt: the author's random salt (the envelope context's and the record id's first input).
        kind: outpatient or inpatient.
        recipients: the addresses the record was sealed for (the stored envelope names nobody).
        sealed_block: the block whose entitlements chose the recipients.
    """

    record_id: RecordId
    patient: str
    author: str
    chain_id: int
    registry: str
    sections: int
    previous: RecordId
    cid: Cid
    salt: bytes
    kind: RecordKind = RecordKind.OUTPATIENT
    recipients: tuple[str, ...] = ()
    sealed_block: int = 0
    state: OutboxState = OutboxState.SEALED
    created: float = field(default_factory=time.time)
    attempts: int = 0
    last_error: str = ""
    tx_hash: str = ""
    block: int = 0
    approval: Approval | None = None

    @property
    def is_update(self) -> bool:
        """True for a new version of an earlier record."""
        return not self.previous.is_zero

    def to_json(self) -> dict[str, Any]:
        """Serializable form (the entry file's format)."""
        return {
            "record_id": self.record_id.to_0x_hex(),
            "patient": self.patient,
            "author": self.author,
            "chain_id": self.chain_id,
            "registry": self.registry,
            "sections": self.sections,
            "previous": self.previous.to_0x_hex(),
            "cid": str(self.cid),
            "salt": "0x" + self.salt.hex(),
            "kind": self.kind.label,
            "recipients": list(self.recipients),
            "sealed_block": self.sealed_block,
            "state": self.state.value,
            "created": self.created,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "tx_hash": self.tx_hash,
            "block": self.block,
            "approval": self.approval.to_json() if self.approval else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        """Inverse of :meth:`to_json`."""
        approval = data.get("approval")
        kinds = {k.label: k for k in RecordKind}
        return cls(
            record_id=RecordId.from_hex(data["record_id"]),
            patient=data["patient"],
            author=data["author"],
            chain_id=int(data["chain_id"]),
            registry=data["registry"],
            sections=int(data["sections"]),
            previous=RecordId.from_hex(data["previous"]),
            cid=Cid(data["cid"]),
            salt=bytes.fromhex(str(data["salt"]).removeprefix("0x")),
            kind=kinds[str(data.get("kind", "outpatient"))],
            recipients=tuple(str(a) for a in data.get("recipients", [])),
            sealed_block=int(data.get("sealed_block", 0)),
            state=OutboxState(data.get("state", "sealed")),
            created=float(data.get("created", 0.0)),
            attempts=int(data.get("attempts", 0)),
            last_error=str(data.get("last_error", "")),
            tx_hash=str(data.get("tx_hash", "")),
            block=int(data.get("block", 0)),
            approval=Approval.from_json(approval) if approval else None,
        )


class Outbox:
    """Entries of one author for one deployment, under ``root``.

    Only one process flushes an outbox at a time (an advisory lock on ``root/.lock``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done_dir = root / "done"
        try:
            private_dir(self.done_dir)
            os.chmod(root, 0o700)
        except OSError as exc:
            raise ConfigError(
                _("cannot create outbox {root}: {strerror}").format(root=root, strerror=exc.strerror)
            ) from None

    @classmethod
    def for_author(cls, home: Path, chain_id: int, registry: str, author: str) -> Outbox:
        """The outbox of ``author`` for the RecordRegistry at ``registry`` on ``chain_id``."""
        return cls(home / "outbox" / f"{chain_id}-{registry.lower()}" / author.lower())

    def _json(self, record_id: RecordId) -> Path:
        return self.root / f"{record_id}.json"

    def envelope_path(self, record_id: RecordId) -> Path:
        """Where the sealed bytes of an entry are kept."""
        return self.root / f"{record_id}.sealed"

    def add(self, entry: OutboxEntry, sealed: bytes) -> OutboxEntry:
        """Persist a new entry durably: sealed bytes first, then the entry (one directory sync covers both)."""
        atomic_write(self.envelope_path(entry.record_id), sealed, sync_dir=False, mode=PRIVATE_FILE)
        self.save(entry)
        return entry

    def add_many(self, sealed: list[tuple[OutboxEntry, bytes]]) -> list[OutboxEntry]:
        """Persist new entries as one group: each file written and fsynced, then one directory sync for all.

        Durable once this returns, like :meth:`add` for each (a crash before may keep some of them: they are
        complete entries, which a flush anchors like any other).
        """
        for entry, data in sealed:
            atomic_write(self.envelope_path(entry.record_id), data, sync_dir=False, mode=PRIVATE_FILE)
            body = json.dumps(entry.to_json(), indent=1).encode()
            atomic_write(self._json(entry.record_id), body, sync_dir=False, mode=PRIVATE_FILE)
        sync_dir(self.root)
        return [entry for entry, _ in sealed]

    def save(self, entry: OutboxEntry) -> None:
        """Rewrite an entry atomically; pending entries durably.

        An anchored entry moves to ``done/`` without fsync: the chain is its record, and should a power loss
        undo the move, the next flush finds the record on the card and marks it done again.
        """
        anchored = entry.state is OutboxState.ANCHORED
        target = self.done_dir if anchored else self.root
        data = json.dumps(entry.to_json(), indent=1).encode()
        atomic_write(target / f"{entry.record_id}.json", data, durable=not anchored, mode=PRIVATE_FILE)
        if anchored:
            self._json(entry.record_id).unlink(missing_ok=True)
            self.envelope_path(entry.record_id).unlink(missing_ok=True)

    def discard(self, entry: OutboxEntry) -> None:
        """Forget a pending entry that can never be completed (its sealed bytes too)."""
        self._json(entry.record_id).unlink(missing_ok=True)
        self.envelope_path(entry.record_id).unlink(missing_ok=True)

    def update(self, entry: OutboxEntry, **changes: Any) -> OutboxEntry:
        """Save a changed copy of ``entry`` and return it."""
        changed = replace(entry, **changes)
        self.save(changed)
        return changed

    def sealed_bytes(self, entry: OutboxEntry) -> bytes:
        """The sealed envelope of a pending entry.

        Raises:
            InputError: the sealed file is gone (the entry cannot be resumed).
        """
        try:
            return self.envelope_path(entry.record_id).read_bytes()
        except FileNotFoundError:
            raise InputError(
                _("outbox entry {record_id} lost its sealed bytes").format(record_id=entry.record_id)
            ) from None

    def pending(self) -> list[OutboxEntry]:
        """Entries not yet anchored, oldest first."""
        out = [OutboxEntry.from_json(json.loads(p.read_text())) for p in self.root.glob("0x*.json")]
        return sorted(out, key=lambda e: (e.created, e.record_id))

    def get(self, record_id: RecordId) -> OutboxEntry | None:
        """A pending or done entry by record id."""
        for folder in (self.root, self.done_dir):
            path = folder / f"{record_id}.json"
            if path.exists():
                return OutboxEntry.from_json(json.loads(path.read_text()))
        return None

    def find(self, prefix: str) -> list[OutboxEntry]:
        """Pending entries whose record id starts with ``prefix`` (hex, ``0x`` optional)."""
        return [e for e in self.pending() if e.record_id.matches(prefix)]

    def done(self) -> list[OutboxEntry]:
        """Anchored entries."""
        return [OutboxEntry.from_json(json.loads(p.read_text())) for p in self.done_dir.glob("0x*.json")]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the outbox's flush lock (blocks while another process flushes)."""
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
