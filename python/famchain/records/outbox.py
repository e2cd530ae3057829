"""The author's local outbox: a sealed record is written here before anything leaves the machine.

An entry moves ``sealed -> stored -> anchored`` (updates wait in ``awaiting_approval`` between the first
two steps until the patient's signature arrives). Each step rewrites the entry atomically, so a process killed
at any point leaves an entry that the next flush resumes from; the sealed bytes never change, so a retried
upload yields the same CID. Anchored entries move to ``done/``. Entries hold who was treated by whom and
when: files are 0600 in 0700 folders.

Layout under the outbox root: ``<first record id>.pack`` for each record or group of records sealed together (one
file, one fsync: every entry with its sealed bytes), with ``<first record id>.left`` naming those of its entries
no longer pending until the flush ends (:meth:`Outbox.compact`); ``<record id>.json`` for an entry changed since it was sealed (it takes precedence over the
pack's copy; entries written before packs existed also have a ``<record id>.sealed``); ``done/`` for anchored
entries, one file per entry or per group anchored together.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from famchain._files import PRIVATE_FILE, private_dir
from famchain.chain.structs import RecordKind
from famchain.errors import ConfigError, InputError
from famchain.i18n import _
from famchain.storage.blockstore import atomic_write
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


_PACK_SUFFIX = ".pack"
_PACK_MAGIC = b"famchain outbox pack 1\n"
_PACK_HEADER = struct.Struct(">II")


def _pack(sealed: list[tuple[OutboxEntry, bytes]]) -> bytes:
    """A group's pack: the magic line, then per entry its JSON and its sealed bytes, each length-prefixed."""
    parts = [_PACK_MAGIC]
    for entry, data in sealed:
        body = json.dumps(entry.to_json()).encode()
        parts += [_PACK_HEADER.pack(len(body), len(data)), body, data]
    return b"".join(parts)


_PackIndex = dict[RecordId, tuple[OutboxEntry, int, int]]
"""A pack's entries by record id, each with the offset and size of its sealed bytes in the pack."""


def _read_pack(data: bytes) -> _PackIndex:
    index: _PackIndex = {}
    offset = len(_PACK_MAGIC)
    try:
        if not data.startswith(_PACK_MAGIC):
            raise ValueError("magic")
        while offset < len(data):
            size_json, size_sealed = _PACK_HEADER.unpack_from(data, offset)
            offset += _PACK_HEADER.size
            entry = OutboxEntry.from_json(json.loads(data[offset : offset + size_json]))
            offset += size_json
            if offset + size_sealed > len(data):
                raise ValueError("truncated")
            index[entry.record_id] = (entry, offset, size_sealed)
            offset += size_sealed
    except (struct.error, ValueError, KeyError, TypeError):
        raise ConfigError(_("an outbox pack is not in famchain's format")) from None
    return index


def _left_path(pack: Path) -> Path:
    """Which entries of a pack are no longer pending (anchored or dropped): a JSON list of record ids."""
    return pack.with_suffix(".left")


class Outbox:
    """Entries of one author for one deployment, under ``root``.

    Only one process flushes an outbox at a time (an advisory lock on ``root/.lock``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done_dir = root / "done"
        self._index: dict[Path, tuple[tuple[int, int, int], _PackIndex]] = {}
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

    def _sealed_path(self, record_id: RecordId) -> Path:
        """Where an entry written before packs existed keeps its sealed bytes."""
        return self.root / f"{record_id}.sealed"

    def add(self, entry: OutboxEntry, sealed: bytes) -> OutboxEntry:
        """Persist a new entry durably: a pack of one (the entry and its sealed bytes in one file, one fsync
        and one directory sync)."""
        self.add_many([(entry, sealed)])
        return entry

    def add_many(self, sealed: list[tuple[OutboxEntry, bytes]]) -> list[OutboxEntry]:
        """Persist new entries as one group: one pack file holding every entry and its sealed bytes, written
        with one fsync and one directory sync.

        Durable once this returns; a crash before leaves no pack at all (it appears by an atomic rename).
        """
        if sealed:
            atomic_write(self._pack_path(sealed[0][0].record_id), _pack(sealed), mode=PRIVATE_FILE)
        return [entry for entry, _ in sealed]

    def save(self, entry: OutboxEntry) -> None:
        """Rewrite an entry atomically; pending entries durably (an entry of a pack gets a file of its own,
        which takes precedence over the pack's copy; its sealed bytes stay in the pack).

        An anchored entry moves to ``done/`` as :meth:`mark_done` moves it.
        """
        if entry.state is OutboxState.ANCHORED:
            self.mark_done([entry])
            return
        data = json.dumps(entry.to_json(), indent=1).encode()
        atomic_write(self._json(entry.record_id), data, mode=PRIVATE_FILE)

    def mark_done(self, entries: list[OutboxEntry]) -> None:
        """Move anchored entries to ``done/`` together: one file for the group, then each leaves the pending
        set (its own files removed, its pack told, the pack removed once all of it is done).

        Without fsync: the chain is the record of an anchored entry, and should a power loss undo the move,
        the next flush finds the records on the card and marks them done again.
        """
        if not entries:
            return
        body: Any = entries[0].to_json() if len(entries) == 1 else [e.to_json() for e in entries]
        data = json.dumps(body, indent=1).encode()
        atomic_write(self.done_dir / f"{entries[0].record_id}.json", data, durable=False, mode=PRIVATE_FILE)
        self._leave([e.record_id for e in entries])

    def discard(self, entry: OutboxEntry) -> None:
        """Forget a pending entry that can never be completed (its sealed bytes too)."""
        self._leave([entry.record_id])

    def _leave(self, record_ids: list[RecordId]) -> None:
        """Take entries out of the pending set: their own files, and their place in a pack."""
        packs = self._packs()
        # Own files: an entry changed since it was sealed, or one written before packs existed (listed once).
        names = set(os.listdir(self.root))
        for record_id in record_ids:
            for suffix in (".json", ".sealed"):
                if f"{record_id}{suffix}" in names:
                    (self.root / f"{record_id}{suffix}").unlink(missing_ok=True)
        gone = set(record_ids)
        for pack, index in packs.items():
            leaving = gone & index.keys()
            if not leaving:
                continue
            left = self._left_of(pack) | leaving
            if left >= index.keys():
                pack.unlink(missing_ok=True)
                _left_path(pack).unlink(missing_ok=True)
            else:
                data = json.dumps(sorted(str(r) for r in left)).encode()
                atomic_write(_left_path(pack), data, durable=False, mode=PRIVATE_FILE)

    def compact(self) -> None:
        """Rewrite every pack some of whose entries have left with only those still pending (durably, as a
        pack of its own), so that no copy of an anchored or dropped record stays here; a flush calls it when it
        ends. Idempotent: a crash midway leaves at worst two packs holding the same pending entries."""
        for pack, index in self._packs().items():
            left = self._left_of(pack)
            if not left:
                continue
            data = pack.read_bytes()
            keep = [(e, data[at : at + size]) for r, (e, at, size) in index.items() if r not in left]
            if keep:
                atomic_write(self._pack_path(keep[0][0].record_id), _pack(keep), mode=PRIVATE_FILE)
            if not keep or self._pack_path(keep[0][0].record_id) != pack:
                pack.unlink(missing_ok=True)
            _left_path(pack).unlink(missing_ok=True)

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
            return self._sealed_path(entry.record_id).read_bytes()
        except FileNotFoundError:
            pass
        try:  # its own pack, or the pack of the group it opens
            data = self._pack_path(entry.record_id).read_bytes()
        except FileNotFoundError:
            data = b""
        if data and (found := _read_pack(data).get(entry.record_id)) is not None:
            return data[found[1] : found[1] + found[2]]
        for pack, index in self._packs().items():
            if entry.record_id in index:
                offset, size = index[entry.record_id][1:]
                with contextlib.suppress(FileNotFoundError), pack.open("rb") as f:
                    f.seek(offset)
                    data = f.read(size)
                    if len(data) == size:
                        return data
        raise InputError(
            _("outbox entry {record_id} lost its sealed bytes").format(record_id=entry.record_id)
        ) from None

    def pending(self) -> list[OutboxEntry]:
        """Entries not yet anchored, oldest first."""
        own = {
            e.record_id: e
            for e in (OutboxEntry.from_json(json.loads(p.read_text())) for p in self.root.glob("0x*.json"))
        }
        for pack, index in self._packs().items():
            left = self._left_of(pack)
            for record_id, (entry, _offset, _size) in index.items():
                if record_id not in left:
                    own.setdefault(record_id, entry)
        return sorted(own.values(), key=lambda e: (e.created, e.record_id))

    def get(self, record_id: RecordId) -> OutboxEntry | None:
        """A pending or done entry by record id."""
        for entry in self.pending():
            if entry.record_id == record_id:
                return entry
        path = self.done_dir / f"{record_id}.json"
        paths = [path] if path.exists() else []
        for entry in self._done_in(paths or sorted(self.done_dir.glob("0x*.json"))):
            if entry.record_id == record_id:
                return entry
        return None

    def find(self, prefix: str) -> list[OutboxEntry]:
        """Pending entries whose record id starts with ``prefix`` (hex, ``0x`` optional)."""
        return [e for e in self.pending() if e.record_id.matches(prefix)]

    def done(self) -> list[OutboxEntry]:
        """Anchored entries."""
        seen: dict[RecordId, OutboxEntry] = {}
        for entry in self._done_in(self.done_dir.glob("0x*.json")):
            seen.setdefault(entry.record_id, entry)
        return list(seen.values())

    @staticmethod
    def _done_in(paths: Iterable[Path]) -> Iterator[OutboxEntry]:
        for path in paths:
            body = json.loads(path.read_text())
            for item in body if isinstance(body, list) else [body]:
                yield OutboxEntry.from_json(item)

    # --- packs: the groups add_many writes -----------------------------------------------------------------
    def _pack_path(self, first: RecordId) -> Path:
        return self.root / f"{first}{_PACK_SUFFIX}"

    def _packs(self) -> dict[Path, _PackIndex]:
        """Every pack in the outbox with its index (entry, offset and size of the sealed bytes); a pack is read
        again only when its file changed (packs are written once, but a record id can come back)."""
        out: dict[Path, _PackIndex] = {}
        for pack in sorted(self.root.glob(f"0x*{_PACK_SUFFIX}")):
            try:
                st = pack.stat()
                signature = (st.st_ino, st.st_mtime_ns, st.st_size)
                cached = self._index.get(pack)
                if cached is None or cached[0] != signature:
                    cached = (signature, _read_pack(pack.read_bytes()))
                    self._index[pack] = cached
            except FileNotFoundError:
                continue
            out[pack] = cached[1]
        for gone in self._index.keys() - out.keys():
            del self._index[gone]
        return out

    @staticmethod
    def _left_of(pack: Path) -> set[RecordId]:
        try:
            return {RecordId.from_hex(r) for r in json.loads(_left_path(pack).read_text())}
        except FileNotFoundError:
            return set()

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
