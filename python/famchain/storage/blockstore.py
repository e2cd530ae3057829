"""The on-disk block store: content-addressed files, crash-safe writes, recursive pins and garbage collection.

Layout under the root directory (default ``~/.famchain/ipfs``)::

    blocks/<shard>/<KEY>.data   one block; KEY is the base32 multihash, shard = KEY[-3:-1] (Kubo flatfs)
    pins/<cid>                  one recursive pin per file (a hard link to pin-template where possible)
    pin-template                the bytes every pin file holds, fsynced once
    lock                        flock: shared for writers, exclusive for gc

A block becomes visible only by an atomic rename of a fully written and fsynced temporary file in the same
directory, so a crash never leaves a partial block under a block name; leftover ``.tmp-*`` files are ignored
by readers and removed by :meth:`BlockStore.gc`. Every read is re-hashed against the CID.

Many blocks at once (a CAR, a fetched DAG) go through a :class:`BlockBatch`: every block is verified and written
to its temporary file first, then one ``syncfs(2)`` makes all their bytes durable, the renames follow, and a
second ``syncfs`` makes the names durable, so the order "bytes durable, then name visible" holds for every
block with two flushes per batch instead of a file fsync and a directory fsync per block (where the C library
has no ``syncfs``, each file is fsynced as it is written and each shard directory after the renames).

A pin is the presence of its file: readers look at names only, so a pin file is not fsynced itself; the
``pins`` directory is, after the blocks of the DAG are durable, before the pin call returns. A new pin file is
a hard link to ``pin-template`` (no inode to allocate); where the filesystem refuses links it is a file of its
own.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from famchain.errors import BlockIntegrityError, ConfigError, IntegrityError, NotPinnedError, UnknownCidError
from famchain.i18n import _
from famchain.storage.cid import DAG_PB, CidInfo, digest_from_key, multihash_key, parse_cid
from famchain.storage.unixfs import child_links, walk_dag, walk_links
from famchain.types import Cid

DEFAULT_DIR: Final = Path("~/.famchain/ipfs")
_TMP_PREFIX: Final = ".tmp-"
_SUFFIX: Final = ".data"
_PIN_BODY: Final = b"recursive\n"
_PIN_TEMPLATE: Final = "pin-template"
# link(2) errors of a filesystem without hard links (or that refuses them here).
_NO_HARD_LINKS: Final = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS})


def default_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the store directory: the argument, else ``~/.famchain/ipfs``."""
    chosen = root if root is not None else DEFAULT_DIR
    return Path(chosen).expanduser()


def sync_dir(path: Path) -> None:
    """fsync a directory: the files created or renamed in it so far survive a power loss."""
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    _fsync_path(path, os.O_RDONLY | os.O_DIRECTORY)


def _fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, data: bytes, *, durable: bool, mode: int = 0o644) -> Path:
    """Write ``data`` to a new temporary file in ``directory`` (fsynced if ``durable``) and return its path.

    The file is removed again if writing fails.
    """
    tmp = directory / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
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
    return tmp


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
    tmp = _write_temp(path.parent, data, durable=durable, mode=mode)
    os.replace(tmp, path)
    if sync_dir and durable:
        _fsync_dir(path.parent)


_Syncfs = Callable[[int], int]
_syncfs_loaded = False
_syncfs_call: _Syncfs | None = None


def _load_syncfs() -> _Syncfs | None:
    """The C library's ``syncfs(2)`` returning 0 or an errno, or None where it has none (``os`` lacks it)."""
    import ctypes  # here: the command line imports this module and needs no ctypes for --help

    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int

    def call(fd: int) -> int:
        if fn(fd) == 0:
            return 0
        return ctypes.get_errno() or errno.EIO

    return call


def _syncfs() -> _Syncfs | None:
    global _syncfs_loaded, _syncfs_call
    if not _syncfs_loaded:
        _syncfs_call = _load_syncfs()
        _syncfs_loaded = True
    return _syncfs_call


def can_sync_filesystem() -> bool:
    """Whether :func:`sync_filesystem` can flush a whole filesystem here (else it returns False)."""
    return _syncfs() is not None


def sync_filesystem(target: Path | int) -> bool:
    """Flush every written file and directory entry of a filesystem (``syncfs(2)``).

    It flushes what other processes wrote on that filesystem too, in one journal commit and one device flush,
    and (since Linux 5.8) reports the filesystem's write-back errors as fsync does: those since ``target`` was
    opened, when it is a descriptor, so a caller opens one before it writes what it means to flush.

    Args:
        target: A path on the filesystem, or an open descriptor of one.

    Returns:
        True once flushed; False where the system has no ``syncfs`` (then fsync each file and directory).

    Raises:
        OSError: If the flush failed.
    """
    global _syncfs_call
    fn = _syncfs()
    if fn is None:
        return False
    if isinstance(target, int):
        err = fn(target)
    else:
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
        try:
            err = fn(fd)
        finally:
            os.close(fd)
    if err == errno.ENOSYS:  # a kernel without the call under a C library that has it
        _syncfs_call = None
        return False
    if err:
        raise OSError(err, os.strerror(err), str(target))
    return True


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
        self._pin_template = self.root / _PIN_TEMPLATE
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

    def batch(self, *, source: str = "the caller") -> BlockBatch:
        """A :class:`BlockBatch` of this store; use it under :meth:`writing`."""
        return BlockBatch(self, source=source)

    def _check_dag(self, root: CidInfo, batch: BlockBatch | None) -> None:
        """Raise unless every block under ``root`` is stored and intact.

        Blocks ``batch`` carried are taken from it (verified when they were added, not re-read); the others are
        read from disk and re-hashed.
        """

        def links_of(cid: CidInfo) -> list[CidInfo]:
            links = batch.links(cid) if batch is not None else None
            return links if links is not None else child_links(cid, self.get(cid))

        for _cid in walk_links(root, links_of):
            pass

    def _write_pins(self, cids: Iterable[CidInfo]) -> None:
        # No fsync of the pin files: a pin is the presence of its name (pins() and is_pinned() read no bytes),
        # and the directory sync below makes the names durable.
        for cid in cids:
            path = self._pin_path(cid)
            if not path.exists():
                self._add_pin_file(path)
        _fsync_dir(self._pins)

    def _add_pin_file(self, path: Path) -> None:
        """Create one pin's file, as a hard link to the store's pin template where the filesystem allows.

        A link allocates no inode, and allocating one is what creating a file costs (on ext4 here ~0.6 ms of
        kernel time, as much as an fsync); the template's bytes are durable, so a linked pin never reads empty
        after a crash. Where links are refused, the pin is a file of its own.
        """
        for _attempt in range(2):
            try:
                os.link(self._pin_template, path)
            except FileExistsError:
                return  # pinned meanwhile
            except FileNotFoundError:  # a store without a template yet
                self._make_pin_template()
            except OSError as exc:
                if exc.errno == errno.EMLINK:  # the template is at the filesystem's link-count limit
                    self._make_pin_template()
                elif exc.errno in _NO_HARD_LINKS:
                    break
                else:
                    raise
            else:
                return
        atomic_write(path, _PIN_BODY, durable=False)

    def _make_pin_template(self) -> None:
        # Replaced atomically: pins linked to an older template keep it. Made durable once, with its name.
        tmp = _write_temp(self._pins, _PIN_BODY, durable=True)  # in pins/, where gc removes a leftover
        os.replace(tmp, self._pin_template)
        _fsync_dir(self.root)

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
        self.pin_many([cid], check=check)

    def pin_many(self, cids: list[CidInfo], *, check: bool = True, batch: BlockBatch | None = None) -> None:
        """Pin several roots as :meth:`pin` does each, with one directory sync for all their pin files.

        Args:
            cids: The roots.
            check: Make sure every DAG is complete and intact first; no pin is written unless all are.
            batch: A committed batch whose blocks count as verified: the check takes them (and the links of
                its dag-pb nodes) from memory and reads from disk only the blocks the batch did not carry.

        Raises:
            UnknownCidError: If a block of a DAG is missing.
            BlockIntegrityError: If a block is corrupted.
        """
        with self.writing():
            if check:
                for cid in cids:
                    self._check_dag(cid, batch)
            self._write_pins(cids)

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


class BlockBatch:
    """Blocks stored as one unit: none becomes visible before :meth:`commit`, which makes them all durable together.

    :meth:`add` verifies a block and writes it to a temporary file in its shard without an fsync;
    :meth:`commit` flushes all those bytes with one ``syncfs(2)``, renames every file to its block name and
    flushes the names with a second ``syncfs``. A crash before the first flush leaves only temporary files
    (invisible, removed by gc), a crash after it can only expose complete blocks, and :meth:`commit` returns
    once every block is durable. Where there is no ``syncfs``, each file is fsynced as it is written and each
    shard directory after the renames, as :meth:`BlockStore.put` does. :meth:`abort` removes what the batch
    wrote. Use a batch under :meth:`BlockStore.writing`, so gc cannot run in between.

    Args:
        store: The block store.
        source: Who supplied the blocks, for error messages.
    """

    def __init__(self, store: BlockStore, *, source: str = "the caller") -> None:
        self._store = store
        self._source = source
        self._grouped = can_sync_filesystem()
        self._temps: dict[bytes, tuple[Path, Path]] = {}  # multihash -> (temporary file, block file)
        self._renamed: list[Path] = []
        self._found: set[bytes] = set()  # multihashes found already stored and intact
        self._links: dict[bytes, list[CidInfo]] = {}  # multihash -> links of each dag-pb node carried
        self._new_shard = False
        self._committed = False
        self._fs: int | None = None  # the store directory, open from before the first write until the flush
        self.written: list[CidInfo] = []
        """The blocks this batch writes (new, or replacing a corrupted copy), in the order added."""

    def add(self, cid: CidInfo, data: bytes) -> bool:
        """Verify a block and stage it (invisible until :meth:`commit`).

        Returns:
            True if it will be written, False if an intact copy is already stored or staged.

        Raises:
            BlockIntegrityError: If ``data`` does not hash to ``cid``.
        """
        if self._committed:
            raise RuntimeError("BlockBatch.add after commit")
        if hashlib.sha256(data).digest() != cid.digest:
            raise BlockIntegrityError(cid.cid, self._source)
        mh = cid.multihash
        if cid.codec == DAG_PB:
            # The links, not the bytes, for the completeness walk of a pin (dag-pb leaves can be 256 KiB each).
            # A node that does not parse is left to that walk, which reads it from disk and fails as before.
            with contextlib.suppress(IntegrityError):
                self._links[mh] = child_links(cid, data)
        if mh in self._temps or mh in self._found:
            return False
        path = self._store.path_of(cid)
        if path.is_file() and hashlib.sha256(path.read_bytes()).digest() == cid.digest:
            self._found.add(mh)
            return False
        # Absent, or a corrupted copy on disk: (re)write it.
        if self._grouped and self._fs is None:
            # Opened before the first write, so the flush reports a write-back error of any of the batch's files.
            self._fs = os.open(self._store.root, os.O_RDONLY | os.O_DIRECTORY)
        if not path.parent.is_dir():
            path.parent.mkdir(exist_ok=True)
            self._new_shard = True
        tmp = _write_temp(path.parent, data, durable=not self._grouped)
        self._temps[mh] = (tmp, path)
        self.written.append(cid)
        return True

    def commit(self) -> None:
        """Make every staged block visible under its name, durably; returns once a power loss loses none.

        Raises:
            OSError: If flushing or renaming fails; :meth:`abort` then removes what the batch wrote.
        """
        if self._committed:
            return
        self._committed = True
        try:
            self._publish()
        finally:
            self._close()

    def _publish(self) -> None:
        if not self._temps:
            return
        if self._fs is not None and not sync_filesystem(self._fs):
            self._close()  # syncfs turned out missing: flush the files one by one after all
            for tmp, _path in self._temps.values():
                _fsync_path(tmp)
        for tmp, path in self._temps.values():
            os.replace(tmp, path)
            self._renamed.append(path)
        if self._fs is not None and sync_filesystem(self._fs):
            return
        if self._new_shard:
            _fsync_dir(self._store._blocks)
        self._store.sync_dirs(self.written)

    def _close(self) -> None:
        if self._fs is not None:
            os.close(self._fs)
            self._fs = None

    def abort(self) -> None:
        """Remove what this batch wrote: its temporary files and the blocks it made visible that no pin names."""
        self._close()
        for tmp, _path in self._temps.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if not self._renamed:
            return
        pinned = {parse_cid(p).multihash for p in self._store.pins()}
        for path, cid in zip(self._renamed, self.written, strict=False):
            if cid.multihash not in pinned:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def links(self, cid: CidInfo) -> list[CidInfo] | None:
        """The links of a block this batch carried, for a completeness walk; None if it did not carry it.

        A block the batch wrote counts as present without a look at the disk; one it found already stored is
        looked up again (another writer's failed import may have removed it since), not re-read.
        """
        mh = cid.multihash
        if mh in self._temps:
            if not self._committed:
                return None
        elif mh not in self._found or not self._store.path_of(cid).is_file():
            return None
        if cid.codec != DAG_PB:
            return []
        return self._links.get(mh)
