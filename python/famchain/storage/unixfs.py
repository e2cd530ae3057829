"""UnixFS file DAGs, byte-identical to Kubo's ``ipfs add``, built and read as streams.

The builder mirrors boxo's ``importer/balanced`` layout (what ``ipfs add`` uses): a fixed-size chunker, leaves
filled left to right, and every time a tree of depth ``d`` is full (``max_links`` children per node) it
becomes the first child of a new root of depth ``d + 1``. With :data:`KUBO_CIDV1`
(``ipfs add --cid-version=1``) leaves are raw blocks, a one-chunk file is just that raw block and the
empty file is the empty raw block.

Wire formats written here (protobuf, fields in the order Go's encoders emit them):

* dag-pb ``PBNode``: every ``Links`` entry (field 2) first, then ``Data`` (field 1).
* ``PBLink``: ``Hash`` (1, binary CID), ``Name`` (2, always present, empty), ``Tsize`` (3: the total size of
  the serialised blocks below the link, i.e. block length for a raw leaf and node length plus its links'
  ``Tsize`` for a dag-pb child).
* UnixFS ``Data``: ``Type`` (1) = File, ``Data`` (2, only in dag-pb leaves), ``filesize`` (3, always),
  ``blocksizes`` (4, one unpacked varint per child: the file bytes under that child).

Memory: the builder holds one chunk plus, per tree level, the link list of the node being filled (at most
``max_links`` small entries), whatever the file size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from famchain.errors import InputError, IntegrityError
from famchain.i18n import _
from famchain.storage.cid import DAG_PB, RAW, CidInfo, decode_varint, encode_varint, read_cid_bytes

CHUNK_SIZE: Final = 262144
"""Kubo's default fixed chunk size (``size-262144``)."""
MAX_LINKS: Final = 174
"""Kubo's default maximum number of links in a UnixFS file node (``Import.UnixFSFileMaxLinks``)."""

UNIXFS_RAW: Final = 0
UNIXFS_DIRECTORY: Final = 1
UNIXFS_FILE: Final = 2


@dataclass(frozen=True, slots=True)
class DagParams:
    """How a file is cut into a DAG.

    Attributes:
        chunk_size: Fixed chunk size in bytes.
        max_links: Maximum children per internal node.
        raw_leaves: Leaves as raw blocks (CIDv1 default) rather than dag-pb UnixFS nodes.
        cid_version: 1 (base32 ``b...``) or 0 (``Qm...``, requires ``raw_leaves=False``).
    """

    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS
    raw_leaves: bool = True
    cid_version: int = 1

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.max_links < 2:
            raise InputError(_("chunk_size must be >= 1 and max_links >= 2"))
        if self.cid_version not in (0, 1):
            raise InputError(_("cid_version must be 0 or 1"))
        if self.cid_version == 0 and self.raw_leaves:
            raise InputError(_("CIDv0 cannot name raw leaves"))


KUBO_CIDV1: Final = DagParams()
"""``ipfs add --cid-version=1``: raw leaves, 256 KiB chunks, 174 links, balanced layout."""


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a DAG: its CID and bytes."""

    cid: CidInfo
    data: bytes


BlockSink = Callable[[Block], None]


# --- protobuf encoding ------------------------------------------------------------------------------------


def _field_bytes(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _field_varint(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value)


def encode_unixfs_file(filesize: int, blocksizes: list[int], data: bytes | None = None) -> bytes:
    """Encode a UnixFS ``Data`` message of type File as Go's protobuf encoder does.

    Args:
        filesize: Total file bytes under the node.
        blocksizes: File bytes under each child link, in order.
        data: Inline file bytes (dag-pb leaves only).

    Returns:
        The protobuf bytes.
    """
    out = bytearray(_field_varint(1, UNIXFS_FILE))
    if data:
        out += _field_bytes(2, data)
    out += _field_varint(3, filesize)
    for size in blocksizes:
        out += _field_varint(4, size)
    return bytes(out)


def encode_pbnode(links: list[tuple[bytes, int]], data: bytes | None) -> bytes:
    """Encode a dag-pb ``PBNode`` in canonical order: links, then data.

    Args:
        links: ``(binary CID, Tsize)`` per link, in order; names are written empty.
        data: The ``Data`` field, or ``None`` to omit it.

    Returns:
        The block bytes.
    """
    out = bytearray()
    for cid_bytes, tsize in links:
        link = _field_bytes(1, cid_bytes) + _field_bytes(2, b"") + _field_varint(3, tsize)
        out += _field_bytes(2, link)
    if data is not None:
        out += _field_bytes(1, data)
    return bytes(out)


# --- builder ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Child:
    cid_bytes: bytes
    tsize: int
    filesize: int


@dataclass(slots=True)
class _Pending:
    children: list[_Child] = field(default_factory=list)


class _Chunker:
    """Fixed-size chunker with one chunk of look-ahead, so ``done`` is known before building a node."""

    def __init__(self, stream: BinaryIO, size: int, progress: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._size = size
        self._progress = progress
        self._next: bytes | None = self._read()

    def _read(self) -> bytes | None:
        parts: list[bytes] = []
        want = self._size
        while want > 0:
            piece = self._stream.read(want)
            if not piece:
                break
            parts.append(piece)
            want -= len(piece)
        chunk = b"".join(parts)
        if chunk and self._progress is not None:
            self._progress(len(chunk))
        return chunk or None

    @property
    def done(self) -> bool:
        return self._next is None

    def take(self) -> bytes:
        chunk = self._next
        assert chunk is not None
        self._next = self._read()
        return chunk


class DagBuilder:
    """Builds the balanced UnixFS DAG of one file, handing each block to ``sink`` as soon as it is final."""

    def __init__(self, params: DagParams = KUBO_CIDV1, sink: BlockSink | None = None) -> None:
        self.params = params
        self._sink = sink
        self.block_count = 0
        self.dag_size = 0
        """After :meth:`build`: total bytes of all blocks under the root (the root link's ``Tsize``)."""

    def _emit(self, data: bytes, codec: int) -> CidInfo:
        info = CidInfo(self.params.cid_version, codec, hashlib.sha256(data).digest())
        self.block_count += 1
        if self._sink is not None:
            self._sink(Block(info, data))
        return info

    def _leaf(self, chunk: bytes) -> _Child:
        if self.params.raw_leaves:
            info = self._emit(chunk, RAW)
            return _Child(info.to_bytes(), len(chunk), len(chunk))
        node = encode_pbnode([], encode_unixfs_file(len(chunk), [], chunk))
        info = self._emit(node, DAG_PB)
        return _Child(info.to_bytes(), len(node), len(chunk))

    def _commit(self, pending: _Pending) -> _Child:
        kids = pending.children
        filesize = sum(c.filesize for c in kids)
        data = encode_unixfs_file(filesize, [c.filesize for c in kids])
        node = encode_pbnode([(c.cid_bytes, c.tsize) for c in kids], data)
        info = self._emit(node, DAG_PB)
        return _Child(info.to_bytes(), len(node) + sum(c.tsize for c in kids), filesize)

    def _fill(self, chunks: _Chunker, pending: _Pending, depth: int) -> _Child:
        # boxo balanced.fillNodeRec: add children until the node is full or the input ends.
        while len(pending.children) < self.params.max_links and not chunks.done:
            child = self._leaf(chunks.take()) if depth == 1 else self._fill(chunks, _Pending(), depth - 1)
            pending.children.append(child)
        return self._commit(pending)

    def build(self, stream: BinaryIO, progress: Callable[[int], None] | None = None) -> tuple[CidInfo, int]:
        """Chunk ``stream`` and build its DAG.

        Args:
            stream: A binary stream, read to its end in ``chunk_size`` pieces.
            progress: Called with the byte count of each chunk read.

        Returns:
            ``(root CID, file size)``.
        """
        chunks = _Chunker(stream, self.params.chunk_size, progress)
        if chunks.done:
            # boxo: an empty input is a single empty leaf.
            if self.params.raw_leaves:
                return self._emit(b"", RAW), 0
            empty = encode_pbnode([], encode_unixfs_file(0, []))
            self.dag_size = len(empty)
            return self._emit(empty, DAG_PB), 0
        root = self._leaf(chunks.take())
        depth = 1
        while not chunks.done:
            root = self._fill(chunks, _Pending([root]), depth)
            depth += 1
        self.dag_size = root.tsize
        info, _ = read_cid_bytes(root.cid_bytes)
        return info, root.filesize


def build_dag(
    stream: BinaryIO,
    sink: BlockSink | None = None,
    params: DagParams = KUBO_CIDV1,
    progress: Callable[[int], None] | None = None,
) -> CidInfo:
    """Build the UnixFS DAG of a stream and return its root CID.

    Args:
        stream: The file contents.
        sink: Receives every block, children before parents.
        params: Chunking and layout; the default matches ``ipfs add --cid-version=1``.
        progress: Called with the size of each chunk read.

    Returns:
        The root CID (``CidInfo``; ``.cid`` is the canonical string).
    """
    root, _ = DagBuilder(params, sink).build(stream, progress)
    return root


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PBLink:
    """A decoded dag-pb link."""

    cid: CidInfo
    name: str
    tsize: int | None


@dataclass(frozen=True, slots=True)
class PBNode:
    """A decoded dag-pb node."""

    links: list[PBLink]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """The fields of a UnixFS ``Data`` message that file reading needs."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: list[int]


def _iter_fields(buf: bytes, what: str) -> Iterator[tuple[int, int, int | bytes]]:
    pos = 0
    view = memoryview(buf)
    while pos < len(buf):
        key, pos = decode_varint(view, pos, what=f"{what} field key")
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = decode_varint(view, pos, what=f"{what} field {number}")
            yield number, wire, value
        elif wire == 2:
            length, pos = decode_varint(view, pos, what=f"{what} field {number} length")
            if pos + length > len(buf):
                raise IntegrityError(
                    _("{what} field {number} runs past the end of the block").format(what=what, number=number)
                )
            yield number, wire, bytes(view[pos : pos + length])
            pos += length
        else:
            raise IntegrityError(
                _("{what} field {number} has unsupported wire type {wire}").format(
                    what=what, number=number, wire=wire
                )
            )


def decode_pbnode(block: bytes) -> PBNode:
    """Decode a dag-pb block.

    Raises:
        IntegrityError: If the block is not a well-formed dag-pb node.
    """
    links: list[PBLink] = []
    data: bytes | None = None
    try:
        for number, wire, value in _iter_fields(block, "dag-pb node"):
            if number == 2 and wire == 2 and isinstance(value, bytes):
                links.append(_decode_link(value))
            elif number == 1 and wire == 2 and isinstance(value, bytes):
                data = value
            else:
                raise IntegrityError(_("unexpected dag-pb node field {number}").format(number=number))
    except InputError as exc:
        raise IntegrityError(_("malformed dag-pb node: {exc}").format(exc=exc)) from None
    return PBNode(links, data)


def _decode_link(buf: bytes) -> PBLink:
    cid: CidInfo | None = None
    name = ""
    tsize: int | None = None
    for number, wire, value in _iter_fields(buf, "dag-pb link"):
        if number == 1 and isinstance(value, bytes):
            info, end = read_cid_bytes(value)
            if end != len(value):
                raise IntegrityError(_("dag-pb link hash has trailing bytes"))
            cid = info
        elif number == 2 and isinstance(value, bytes):
            name = value.decode("utf-8", "replace")
        elif number == 3 and wire == 0 and isinstance(value, int):
            tsize = value
        else:
            raise IntegrityError(_("unexpected dag-pb link field {number}").format(number=number))
    if cid is None:
        raise IntegrityError(_("dag-pb link without a hash"))
    return PBLink(cid, name, tsize)


def decode_unixfs(buf: bytes) -> UnixFSData:
    """Decode a UnixFS ``Data`` message (unknown optional fields are skipped).

    Raises:
        IntegrityError: If it is malformed.
    """
    kind: int | None = None
    data = b""
    filesize: int | None = None
    blocksizes: list[int] = []
    try:
        for number, _wire, value in _iter_fields(buf, "UnixFS data"):
            if number == 1 and isinstance(value, int):
                kind = value
            elif number == 2 and isinstance(value, bytes):
                data = value
            elif number == 3 and isinstance(value, int):
                filesize = value
            elif number == 4 and isinstance(value, int):
                blocksizes.append(value)
            elif number == 4 and isinstance(value, bytes):  # packed encoding, accepted on read
                pos = 0
                while pos < len(value):
                    size, pos = decode_varint(value, pos, what="blocksize")
                    blocksizes.append(size)
    except InputError as exc:
        raise IntegrityError(_("malformed UnixFS data: {exc}").format(exc=exc)) from None
    if kind is None:
        raise IntegrityError(_("UnixFS data without a type"))
    return UnixFSData(kind, data, filesize, blocksizes)


def child_links(cid: CidInfo, block: bytes) -> list[CidInfo]:
    """The CIDs a block links to (none for raw blocks).

    Raises:
        IntegrityError: If a dag-pb block is malformed.
    """
    if cid.codec != DAG_PB:
        return []
    return [link.cid for link in decode_pbnode(block).links]


def walk_links(root: CidInfo, links_of: Callable[[CidInfo], list[CidInfo]]) -> Iterator[CidInfo]:
    """Yield every CID under ``root`` once, depth-first pre-order; ``links_of`` gives a node's links in order
    (asked once per node, after the node was yielded)."""
    seen: set[bytes] = set()
    stack = [root]
    while stack:
        cid = stack.pop()
        key = cid.multihash + bytes((cid.codec,))
        if key in seen:
            continue
        seen.add(key)
        yield cid
        stack.extend(reversed(links_of(cid)))


def walk_dag(root: CidInfo, get_block: Callable[[CidInfo], bytes]) -> Iterator[tuple[CidInfo, bytes]]:
    """Yield every block under ``root`` once, depth-first pre-order (the ``ipfs dag export`` order).

    Args:
        root: Where to start.
        get_block: Returns a block's verified bytes (from disk, a gateway, ...).
    """
    yielded: dict[bytes, bytes] = {}  # the block just yielded, whose links the walk asks for next

    def links_of(cid: CidInfo) -> list[CidInfo]:
        return child_links(cid, yielded.pop(cid.multihash))

    for cid in walk_links(root, links_of):
        yielded[cid.multihash] = block = get_block(cid)
        yield cid, block


def iter_file(root: CidInfo, get_block: Callable[[CidInfo], bytes]) -> Iterator[bytes]:
    """Yield the bytes of the UnixFS file rooted at ``root``, in order, one block at a time.

    Args:
        root: The file's root CID.
        get_block: Returns a block's verified bytes.

    Yields:
        File data pieces.

    Raises:
        IntegrityError: If a node is malformed or the sizes it declares do not add up.
        InputError: If the DAG is not a UnixFS file (a directory, for instance).
    """
    block = get_block(root)
    if root.codec == RAW:
        yield block
        return
    node = decode_pbnode(block)
    if node.data is None:
        raise IntegrityError(_("dag-pb node {root} carries no UnixFS data").format(root=root))
    fs = decode_unixfs(node.data)
    if fs.type not in (UNIXFS_FILE, UNIXFS_RAW):
        raise InputError(
            _("{root} is not a UnixFS file (UnixFS type {type}); only files can be read").format(
                root=root, type=fs.type
            )
        )
    if node.links and len(fs.blocksizes) != len(node.links):
        raise IntegrityError(
            _("{root} declares {n_blocksizes} block sizes for {n_links} links").format(
                root=root, n_blocksizes=len(fs.blocksizes), n_links=len(node.links)
            )
        )
    if fs.data:
        yield fs.data
    for link, expected in zip(node.links, fs.blocksizes, strict=False):
        got = 0
        for piece in iter_file(link.cid, get_block):
            got += len(piece)
            yield piece
        if got != expected:
            raise IntegrityError(
                _("child {cid} of {root} holds {got} bytes, its parent says {expected}").format(
                    cid=link.cid, root=root, got=got, expected=expected
                )
            )
