"""CARv1 archives: ``varint(len) || dag-cbor {roots, version: 1}``, then ``varint(len) || CID || block``.

The header is the only dag-cbor famchain needs, so it is encoded and decoded by hand (canonical key order:
``roots`` before ``version``; CIDs as tag 42 byte strings with a leading 0x00). The reader checks every
block against its CID and rejects truncated or trailing garbage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Final

from famchain.errors import BlockIntegrityError, InputError
from famchain.i18n import _
from famchain.storage.cid import CidInfo, encode_varint, read_cid_bytes

MAX_HEADER: Final = 1 << 20
MAX_SECTION: Final = (4 << 20) + 4096  # Kubo caps blocks at 2 MiB (+ CID); leave headroom.
CONTENT_TYPE: Final = "application/vnd.ipld.car"


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes((major << 5 | value,))
    for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes((major << 5 | extra,)) + value.to_bytes(width, "big")
    raise ValueError(_("CBOR value too large"))


def encode_header(roots: list[CidInfo]) -> bytes:
    """The dag-cbor CARv1 header ``{"roots": [...], "version": 1}``."""
    out = bytearray(_cbor_head(5, 2))
    out += _cbor_head(3, 5) + b"roots" + _cbor_head(4, len(roots))
    for root in roots:
        raw = b"\0" + root.to_bytes()
        out += _cbor_head(6, 42) + _cbor_head(2, len(raw)) + raw
    out += _cbor_head(3, 7) + b"version" + _cbor_head(0, 1)
    return bytes(out)


class _Cbor:
    """Decoder for the dag-cbor subset a CAR header uses (maps, arrays, text, bytes, uints, tag 42)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise InputError(_("truncated CAR header"))
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _head(self) -> tuple[int, int]:
        first = self._take(1)[0]
        major, info = first >> 5, first & 31
        if info < 24:
            return major, info
        if info > 27:
            raise InputError(_("CAR header uses indefinite-length or reserved CBOR items"))
        return major, int.from_bytes(self._take(1 << (info - 24)), "big")

    def item(self, depth: int = 0) -> object:
        if depth > 8:
            raise InputError(_("CAR header nests too deeply"))
        major, value = self._head()
        if major == 0:
            return value
        if major in (2, 3):
            raw = self._take(value)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(_("CAR header holds invalid UTF-8")) from None
        if major == 4:
            return [self.item(depth + 1) for _ in range(value)]
        if major == 5:
            out: dict[object, object] = {}
            for _i in range(value):
                key = self.item(depth + 1)
                if not isinstance(key, str) or key in out:
                    raise InputError(_("CAR header map keys must be unique strings"))
                out[key] = self.item(depth + 1)
            return out
        if major == 6 and value == 42:
            link = self.item(depth + 1)
            if not isinstance(link, bytes) or not link.startswith(b"\0"):
                raise InputError(_("CAR header CID link must be bytes with a 0x00 prefix"))
            info, end = read_cid_bytes(link, 1)
            if end != len(link):
                raise InputError(_("CAR header CID has trailing bytes"))
            return info
        raise InputError(
            _("CAR header holds an unsupported CBOR item (major type {major})").format(major=major)
        )


def decode_header(data: bytes) -> list[CidInfo]:
    """Decode a CARv1 header and return its roots.

    Raises:
        InputError: If it is not a CARv1 header.
    """
    dec = _Cbor(data)
    header = dec.item()
    if dec.pos != len(data):
        raise InputError(_("trailing bytes in CAR header"))
    if not isinstance(header, dict) or header.get("version") != 1:
        raise InputError(_("not a CARv1 file (header version must be 1)"))
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, CidInfo) for r in roots):
        raise InputError(_("CAR header roots must be a list of CIDs"))
    return [r for r in roots if isinstance(r, CidInfo)]


def _read_varint(inp: BinaryIO) -> int | None:
    value = shift = 0
    for i in range(9):
        byte = inp.read(1)
        if not byte:
            if i == 0:
                return None
            raise InputError(_("CAR truncated inside a length prefix"))
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
    raise InputError(_("CAR length prefix is too long"))


def _read_exact(inp: BinaryIO, n: int, what: str) -> bytes:
    parts = []
    left = n
    while left:
        piece = inp.read(left)
        if not piece:
            raise InputError(_("CAR truncated inside {what}").format(what=what))
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


class CarReader:
    """Iterates the verified blocks of a CARv1 stream.

    Args:
        inp: The CAR bytes, read sequentially.
        source: Who supplied them, for error messages.

    Raises:
        InputError: On a malformed header, a truncated file or a malformed section.
    """

    def __init__(self, inp: BinaryIO, source: str = "the CAR file") -> None:
        self._inp = inp
        self.source = source
        length = _read_varint(inp)
        if length is None:
            raise InputError(_("empty CAR file"))
        if length == 0 or length > MAX_HEADER:
            raise InputError(_("CAR header length {length} is out of range").format(length=length))
        self.roots = decode_header(_read_exact(inp, length, "the header"))

    def __iter__(self) -> Iterator[tuple[CidInfo, bytes]]:
        """Yield ``(cid, block)`` pairs, each checked against its hash.

        Raises:
            InputError: On truncation or a malformed section.
            BlockIntegrityError: If a block does not hash to its CID.
        """
        while True:
            length = _read_varint(self._inp)
            if length is None:
                return
            if length == 0 or length > MAX_SECTION:
                raise InputError(_("CAR section length {length} is out of range").format(length=length))
            section = _read_exact(self._inp, length, "a block")
            cid, pos = read_cid_bytes(section)
            data = section[pos:]
            if hashlib.sha256(data).digest() != cid.digest:
                raise BlockIntegrityError(cid.cid, self.source)
            yield cid, data


def iter_car(roots: list[CidInfo], blocks: Iterable[tuple[CidInfo, bytes]]) -> Iterator[bytes]:
    """Yield the bytes of a CARv1 archive piece by piece (for streaming responses).

    Args:
        roots: The header roots.
        blocks: ``(cid, bytes)`` pairs in the order to write them.

    Yields:
        The header, then for each block its section prefix and its bytes.
    """
    header = encode_header(roots)
    yield encode_varint(len(header)) + header
    for cid, data in blocks:
        cid_bytes = cid.to_bytes()
        yield encode_varint(len(cid_bytes) + len(data)) + cid_bytes
        yield data


def write_car(roots: list[CidInfo], blocks: Iterable[tuple[CidInfo, bytes]], out: BinaryIO) -> None:
    """Write a CARv1 archive to ``out``.

    Args:
        roots: The header roots.
        blocks: ``(cid, bytes)`` pairs in the order to write them.
        out: Destination stream.
    """
    for piece in iter_car(roots, blocks):
        out.write(piece)
