"""The on-disk block store: content-addressed files, crash-safe writes, recursive pins and garbage collection.

Layout under the root directory (default ``~/.famchain/ipfs``)::

    blocks/<shard>/<KEY>.data   one block; KEY is the base32 multihash, shard = KEY[-3:-1] (Kubo flatfs)
    pins/<cid>                  one recursive pin per file
    lock                        flock: shared for writers, exclusive for gc

A block becomes visible only by an atomic rename of a fully written and fsynced temporary file in the same
directory, so a crash never leaves a partial block under a block name; leftover ``.tmp-*`` files are ignored
by readers and removed by :meth:`BlockStore.gc`. Every read is re-hashed against the CID.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from famchain.errors import BlockIntegrityError, ConfigError, NotPinnedError, UnknownCidError
from famchain.i18n import _
from famchain.storage.cid import CidInfo, digest_from_key, multihash_key, parse_cid
from famchain.storage.unixfs import child_links, walk_dag
from famchain.types import Cid

DEFAULT_DIR: Final = Path("~/.famchain/ipfs")
_TMP_PREFIX: Final = ".tmp-"
_SUFFIX: Final = ".data"


def default_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the store directory: the argument, else ``~/.famchain/ipfs``."""
    chosen = root if root is not None else DEFAULT_DIR
    return Path(chosen).expanduser()


def sync_dir(path: Path) -> None:
    """fsync a directory: the files created or renamed in it so far survive a power loss."""
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, *, sync_dir: bool = True, durable: bool = True, mode: int = 0o644
) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or all of it, also after a crash.

    Args:
        path: Destination file.
        data: Its full contents.
        sync_dir: Also fsync the directory so the rename itself is durable.
        durable: fsync at all; False keeps the write atomic for other processes and process crashes but not
            across a power loss (for files whose loss the caller can reconstruct).
        mode: Permission bits of the new file (0o600 for anything holding records or their metadata).
    """
    tmp = path.parent / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    if sync_dir and durable:
        _fsync_dir(path.parent)


@dataclass(frozen=True, slots=True)
class BadBlock:
    """A stored block whose bytes no longer hash to its name.

    Attributes:
        key: The base32 multihash the block is filed under.
        digest: The sha2-256 digest it should have (match it with a CID's ``digest``).
        path: The file on disk.
    """

    key: str
    digest: bytes
    path: Path


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a garbage collection removed."""

    removed_blocks: int
    freed_bytes: int
    kept_blocks: int


class BlockStore:
    """Content-addressed blocks on disk, keyed by multihash, with recursive pins.

    Args:
        root: The store directory (see :func:`default_root`); created if missing.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = default_root(root)
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
            self._pins.mkdir(exist_ok=True)
            (self.root / "lock").touch(exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                _("cannot use store directory {root}: {reason}").format(
                    root=self.root, reason=exc.strerror or exc
                )
            ) from None

    # --- locking ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        # One open file description per use, so threads of one process exclude each other as processes do.
        with open(self.root / "lock", "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Hold while writing blocks and pinning them, so gc cannot collect them in between."""
        return self._lock(exclusive=False)

    # --- blocks -----------------------------------------------------------------------------------------

    def path_of(self, cid: CidInfo) -> Path:
        """The file a block is (or would be) stored in."""
        key = multihash_key(cid)
        return self._blocks / key[-3:-1] / (key + _SUFFIX)

    def has(self, cid: CidInfo) -> bool:
        """Whether the block is stored (not re-hashed)."""
        return self.path_of(cid).is_file()

    def get(self, cid: CidInfo) -> bytes:
        """Read a block and check it against its CID.

        Raises:
            UnknownCidError: If the block is not stored.
            BlockIntegrityError: If the stored bytes do not hash to the CID.
        """
        try:
            data = self.path_of(cid).read_bytes()
        except FileNotFoundError:
            raise UnknownCidError(cid.cid) from None
        if hashlib.sha256(data).digest() != cid.digest:
            raise BlockIntegrityError(cid.cid)
        return data

    def size(self, cid: CidInfo) -> int:
        """Size in bytes of a stored block.

        Raises:
            UnknownCidError: If the block is not stored.
        """
        try:
            return self.path_of(cid).stat().st_size
        except FileNotFoundError:
            raise UnknownCidError(cid.cid) from None

    def put(self, cid: CidInfo, data: bytes, *, sync_dir: bool = True, source: str = "the caller") -> bool:
        """Store a block after checking it against its CID.

        Args:
            cid: The block's CID.
            data: The block bytes.
            sync_dir: fsync the shard directory now; pass False inside a batch and call
                :meth:`sync_dirs` before relying on durability.
            source: Who supplied the bytes, for the error message.

        Returns:
            True if the block was written (new, or replacing a corrupted copy), False if an intact copy
            was already stored.

        Raises:
            BlockIntegrityError: If ``data`` does not hash to ``cid``.
        """
        if hashlib.sha256(data).digest() != cid.digest:
            raise BlockIntegrityError(cid.cid, source)
        path = self.path_of(cid)
        if path.is_file() and hashlib.sha256(path.read_bytes()).digest() == cid.digest:
            return False
        # Absent, or a corrupted copy on disk: (re)write it; this is how a fetch repairs a bad block.
        if not path.parent.is_dir():
            path.parent.mkdir(exist_ok=True)
            _fsync_dir(self._blocks)  # make the new shard's own directory entry durable
        atomic_write(path, data, sync_dir=sync_dir)
        return True

    def sync_dirs(self, cids: Iterable[CidInfo]) -> None:
        """fsync the shard directories of ``cids`` (makes renames done with ``sync_dir=False`` durable)."""
        for directory in {self.path_of(c).parent for c in cids}:
            _fsync_dir(directory)

    def delete(self, cid: CidInfo) -> bool:
        """Remove a block; True if it was there."""
        try:
            self.path_of(cid).unlink()
        except FileNotFoundError:
            return False
        return True

    def _files(self) -> Iterator[tuple[str, Path]]:
        for shard in sorted(self._blocks.iterdir()):
            if not shard.is_dir():
                continue
            for path in sorted(shard.iterdir()):
                if path.name.endswith(_SUFFIX) and not path.name.startswith(_TMP_PREFIX):
                    yield path.name[: -len(_SUFFIX)], path

    def count(self) -> tuple[int, int]:
        """``(number of blocks, total bytes)`` stored."""
        n = total = 0
        for _key, path in self._files():
            n += 1
            total += path.stat().st_size
        return n, total

    # --- DAG traversal ----------------------------------------------------------------------------------

    def walk(self, root: CidInfo) -> Iterator[tuple[CidInfo, bytes]]:
        """Yield every block under ``root`` once, depth-first pre-order (the ``ipfs dag export`` order).

        Raises:
            UnknownCidError: If a block of the DAG is missing.
            BlockIntegrityError: If a block is corrupted.
        """
        return walk_dag(root, self.get)

    # --- pins -------------------------------------------------------------------------------------------

    def _pin_path(self, cid: CidInfo) -> Path:
        return self._pins / cid.cid

    def pin(self, cid: CidInfo, *, check: bool = True) -> None:
        """Pin ``cid`` recursively; every block under it must be present and intact.

        Args:
            cid: The root.
            check: Walk and re-hash the DAG first. Callers that have just written and verified every
                block (an add) pass False.

        Raises:
            UnknownCidError: If a block of the DAG is missing.
            BlockIntegrityError: If a block is corrupted.
        """
        with self.writing():
            if check:
                for _ in self.walk(cid):
                    pass
            path = self._pin_path(cid)
            if not path.exists():
                atomic_write(path, b"recursive\n")

    def pin_many(self, cids: list[CidInfo], *, check: bool = True) -> None:
        """Pin several roots as :meth:`pin` does each, with one directory sync for all their pin files."""
        with self.writing():
            if check:
                for cid in cids:
                    for _ in self.walk(cid):
                        pass
            for cid in cids:
                path = self._pin_path(cid)
                if not path.exists():
                    atomic_write(path, b"recursive\n", sync_dir=False)
            _fsync_dir(self._pins)

    def unpin(self, cid: CidInfo) -> None:
        """Remove the recursive pin on ``cid``.

        Raises:
            NotPinnedError: If ``cid`` is not pinned.
        """
        try:
            self._pin_path(cid).unlink()
        except FileNotFoundError:
            raise NotPinnedError(cid.cid) from None
        _fsync_dir(self._pins)

    def is_pinned(self, cid: CidInfo) -> bool:
        """Whether ``cid`` holds a recursive pin."""
        return self._pin_path(cid).is_file()

    def pins(self) -> list[Cid]:
        """The recursively pinned roots, sorted."""
        out = []
        for path in sorted(self._pins.iterdir()):
            if path.name.startswith(_TMP_PREFIX):
                continue
            with contextlib.suppress(Exception):
                out.append(parse_cid(path.name).cid)
        return out

    # --- maintenance ------------------------------------------------------------------------------------

    def gc(self) -> GcResult:
        """Delete every block not reachable from a pin, and stale temporary files.

        A pinned DAG with a missing or corrupted block keeps every block that is still reachable.

        Returns:
            Counts of removed and kept blocks.
        """
        with self._lock(exclusive=True):
            live: set[str] = set()
            for pinned in self.pins():
                stack = [parse_cid(pinned)]
                while stack:
                    cid = stack.pop()
                    key = multihash_key(cid)
                    if key in live:
                        continue
                    live.add(key)
                    try:
                        data = self.get(cid)
                    except (UnknownCidError, BlockIntegrityError):
                        continue
                    stack.extend(child_links(cid, data))
            removed = freed = kept = 0
            for key, path in self._files():
                if key in live:
                    kept += 1
                    continue
                freed += path.stat().st_size
                path.unlink()
                removed += 1
            for tmp in [*self._blocks.glob(f"*/{_TMP_PREFIX}*"), *self._pins.glob(f"{_TMP_PREFIX}*")]:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            return GcResult(removed, freed, kept)

    def verify(self) -> list[BadBlock]:
        """Re-hash every stored block.

        Returns:
            The blocks whose bytes do not match their name (empty if the store is sound).
        """
        bad = []
        for key, path in self._files():
            digest = digest_from_key(key)
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                while piece := fh.read(1 << 20):
                    h.update(piece)
            if digest is None or h.digest() != digest:
                bad.append(BadBlock(key, digest or b"", path))
        return bad
