"""The embedded content store: the UnixFS builder over the on-disk :class:`BlockStore`."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from famchain.storage.api import Progress
from famchain.storage.blockstore import BadBlock, BlockStore, GcResult
from famchain.storage.car import CarReader, write_car
from famchain.storage.cid import CidInfo, parse_cid
from famchain.storage.unixfs import KUBO_CIDV1, Block, DagParams, build_dag, iter_file
from famchain.types import Cid


class EmbeddedStore:
    """A :class:`~famchain.storage.api.ContentStore` kept in a local directory.

    Args:
        root: The store directory; default ``$FAMCHAIN_IPFS_DIR`` or ``~/.famchain/ipfs``.
        params: DAG layout; the default is Kubo's ``--cid-version=1`` layout.
    """

    backend = "embedded"

    def __init__(self, root: str | os.PathLike[str] | None = None, params: DagParams = KUBO_CIDV1) -> None:
        self.blocks = BlockStore(root)
        self.params = params

    @property
    def location(self) -> str:
        """The store directory."""
        return str(self.blocks.root)

    def put(
        self,
        data: bytes | BinaryIO,
        *,
        pin: bool = True,
        only_hash: bool = False,
        progress: Progress | None = None,
    ) -> Cid:
        """Add a file; see :meth:`ContentStore.put`."""
        stream: BinaryIO = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        if only_hash:
            return build_dag(stream, None, self.params, progress).cid
        written: list[CidInfo] = []

        def sink(block: Block) -> None:
            if self.blocks.put(block.cid, block.data, sync_dir=False):
                written.append(block.cid)

        with self.blocks.writing():
            root = build_dag(stream, sink, self.params, progress).v1()
            # One fsync per shard directory at the end instead of one per block; nothing refers to the
            # blocks (no pin, no CID returned) before this point.
            self.blocks.sync_dirs(written)
            if pin:
                # Every block of this DAG was either just hashed by the builder or already stored.
                self.blocks.pin(root, check=False)
        return root.cid

    def get_block(self, cid: str | Cid | CidInfo) -> bytes:
        """One block's verified bytes.

        Raises:
            UnknownCidError: If it is not stored.
            BlockIntegrityError: If it is corrupted.
        """
        return self.blocks.get(_info(cid))

    def put_block(self, cid: str | Cid | CidInfo, data: bytes, *, source: str = "the caller") -> bool:
        """Store one block after checking it against ``cid``; True if newly written."""
        return self.blocks.put(_info(cid), data, source=source)

    def get(self, cid: str | Cid) -> bytes:
        """The whole file, every block verified."""
        return b"".join(self.stream(cid))

    def stream(self, cid: str | Cid) -> Iterator[bytes]:
        """Yield the file block by block, each verified."""
        return iter_file(_info(cid), self.blocks.get)

    def walk(self, cid: str | Cid | CidInfo) -> Iterator[tuple[CidInfo, bytes]]:
        """Every verified block of the DAG under ``cid``, depth-first, each once."""
        return self.blocks.walk(_info(cid))

    def pin(self, cid: str | Cid) -> None:
        """Pin recursively; the whole DAG must be stored."""
        self.blocks.pin(_info(cid))

    def unpin(self, cid: str | Cid) -> None:
        """Remove a recursive pin (``NotPinnedError`` if there is none)."""
        self.blocks.unpin(_info(cid))

    def pins(self) -> list[Cid]:
        """The recursively pinned roots."""
        return self.blocks.pins()

    def has(self, cid: str | Cid) -> bool:
        """Whether the block named ``cid`` is stored."""
        return self.blocks.has(_info(cid))

    def export_car(self, cid: str | Cid, out: BinaryIO) -> None:
        """Write the DAG as a CARv1, blocks in depth-first order as ``ipfs dag export`` does."""
        root = _info(cid)
        write_car([root], self.blocks.walk(root), out)

    def import_car(self, inp: BinaryIO, *, pin: bool = True) -> list[Cid]:
        """Store a CAR's blocks (each verified) and pin its roots, durably once it returns.

        The blocks are written as one :class:`~famchain.storage.blockstore.BlockBatch` (two filesystem flushes
        for the whole CAR, not an fsync per block); each root's DAG is checked complete, taking the blocks the
        CAR carried from memory, before any pin file is written. If the CAR is corrupted or truncated, nothing
        becomes visible; if a root to pin is incomplete, the blocks this import added are removed again.

        Raises:
            InputError: If the CAR is malformed or truncated.
            BlockIntegrityError: If a block does not match its CID.
            UnknownCidError: If ``pin`` and a root's DAG is incomplete.
        """
        reader = CarReader(inp)
        self.add_blocks(iter(reader), source=reader.source, pin=list(reader.roots) if pin else [])
        return [r.cid for r in reader.roots]

    def add_blocks(
        self,
        blocks: Iterator[tuple[CidInfo, bytes]],
        *,
        source: str,
        pin: CidInfo | list[CidInfo] | None = None,
    ) -> list[CidInfo]:
        """Store verified blocks as one unit: if any fails, those this call added are removed again.

        Args:
            blocks: ``(cid, bytes)`` pairs; each is checked against its CID.
            source: Who supplied them, for error messages.
            pin: Roots to pin once every block is in, under the same lock (gc cannot slip in between); each
                DAG must be complete (blocks carried here are not re-read, others are read and verified).

        Returns:
            The blocks newly written.
        """
        roots = [pin] if isinstance(pin, CidInfo) else (pin or [])
        with self.blocks.writing():
            batch = self.blocks.batch(source=source)
            try:
                for cid, data in blocks:
                    batch.add(cid, data)
                batch.commit()
                if roots:
                    # One CAR may carry many DAGs (a flush's records): one directory sync for all their pins.
                    self.blocks.pin_many(roots, batch=batch)
            except BaseException:
                batch.abort()
                raise
        return batch.written

    def gc(self) -> GcResult:
        """Remove blocks no pin reaches."""
        return self.blocks.gc()

    def verify(self) -> list[BadBlock]:
        """Re-hash every stored block; returns the corrupted ones."""
        return self.blocks.verify()

    def healthy(self) -> bool:
        """True when the store directory is usable."""
        return self.blocks.root.is_dir() and os.access(self.blocks.root, os.W_OK)

    def status(self) -> dict[str, Any]:
        """Backend, directory, block count and bytes, pin count."""
        count, size = self.blocks.count()
        return {
            "backend": self.backend,
            "location": self.location,
            "healthy": self.healthy(),
            "blocks": count,
            "bytes": size,
            "pins": len(self.pins()),
        }


def _info(cid: str | Cid | CidInfo) -> CidInfo:
    return cid if isinstance(cid, CidInfo) else parse_cid(cid)
