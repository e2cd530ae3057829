"""Content identifiers: CIDv1 (base32, sha2-256) encoding and strict parsing, CIDv0 accepted on input.

A CID names a block by its hash. famchain emits CIDv1 in multibase base32 (``b`` prefix, lower case, no
padding) with a sha2-256 multihash and one of two codecs: ``raw`` (0x55, a leaf of file bytes) and ``dag-pb``
(0x70, a UnixFS node). CIDv0 (``Qm...``, base58btc, always dag-pb) is accepted when parsing and normalised
to CIDv1. On chain a CID travels as its 32-byte sha2-256 digest plus the codec byte
(:func:`digest_and_codec` / :func:`cid_from_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Final

from famchain.errors import InputError
from famchain.i18n import _
from famchain.types import Cid

RAW: Final = 0x55
"""Multicodec ``raw``: the block is plain bytes."""
DAG_PB: Final = 0x70
"""Multicodec ``dag-pb``: the block is a protobuf MerkleDAG node."""
SHA2_256: Final = 0x12
"""Multihash code of sha2-256."""
DIGEST_SIZE: Final = 32

CODECS: Final[dict[int, str]] = {RAW: "raw", DAG_PB: "dag-pb"}

_B32_ALPHABET: Final = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}
_MAX_VARINT_BYTES: Final = 9  # multiformats unsigned-varint caps values at 2**63 - 1


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint (multiformats / protobuf).

    Args:
        value: The integer, ``0 <= value < 2**63``.

    Returns:
        The varint bytes.
    """
    if value < 0:
        raise ValueError(_("varint must be non-negative"))
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int = 0, *, what: str = "varint") -> tuple[int, int]:
    """Decode a minimally-encoded unsigned varint from ``buf`` at ``pos``.

    Args:
        buf: The bytes to read from.
        pos: Where the varint starts.
        what: Name of the field, used in the error message.

    Returns:
        ``(value, position after the varint)``.

    Raises:
        InputError: If the varint is truncated, longer than 9 bytes or not minimally encoded.
    """
    value = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(buf):
            raise InputError(_("truncated {what} at byte {start}").format(what=what, start=start))
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and pos - start > 1:
                raise InputError(
                    _("non-minimal {what} encoding at byte {start}").format(what=what, start=start)
                )
            return value, pos
        shift += 7
        if pos - start >= _MAX_VARINT_BYTES:
            raise InputError(
                _("{what} at byte {start} is longer than {max_varint_bytes} bytes").format(
                    what=what, start=start, max_varint_bytes=_MAX_VARINT_BYTES
                )
            )


def b58encode(data: bytes) -> str:
    """Encode bytes in base58btc (Bitcoin alphabet)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58btc text.

    Raises:
        InputError: If a character is outside the base58btc alphabet.
    """
    num = 0
    for ch in text:
        idx = _B58_INDEX.get(ch)
        if idx is None:
            raise InputError(_("invalid base58btc character {ch!r}").format(ch=ch))
        num = num * 58 + idx
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32decode(text: str) -> bytes:
    if not text or not set(text) <= _B32_ALPHABET:
        raise InputError(_("CID base32 body must be non-empty lower-case RFC 4648 base32 (a-z, 2-7)"))
    if len(text) % 8 in (1, 3, 6):
        raise InputError(
            _("CID base32 body has an impossible length ({n_text} characters)").format(n_text=len(text))
        )
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        data = base64.b32decode(padded)
    except (binascii.Error, ValueError) as exc:
        raise InputError(_("CID base32 body is malformed: {exc}").format(exc=exc)) from None
    if _b32encode(data) != text:
        # Non-zero trailing bits or an impossible length: the text is not the canonical encoding of any bytes.
        raise InputError(_("CID base32 body is not canonically encoded"))
    return data


@dataclass(frozen=True, slots=True)
class CidInfo:
    """A decoded CID: version, codec and sha2-256 digest.

    Attributes:
        version: 0 or 1.
        codec: ``RAW`` or ``DAG_PB`` (always ``DAG_PB`` for version 0).
        digest: The 32-byte sha2-256 digest.
    """

    version: int
    codec: int
    digest: bytes

    @property
    def multihash(self) -> bytes:
        """The multihash bytes: ``0x12 0x20 || digest``."""
        return bytes((SHA2_256, DIGEST_SIZE)) + self.digest

    def to_bytes(self) -> bytes:
        """The binary CID (as carried in dag-pb links and CAR files)."""
        if self.version == 0:
            return self.multihash
        return encode_varint(1) + encode_varint(self.codec) + self.multihash

    def v1(self) -> CidInfo:
        """The same content named by a CIDv1 (a CIDv0 becomes dag-pb CIDv1)."""
        return self if self.version == 1 else CidInfo(1, self.codec, self.digest)

    def encode(self) -> str:
        """The text form: base32 ``b...`` for CIDv1, base58btc ``Qm...`` for CIDv0."""
        if self.version == 0:
            return b58encode(self.multihash)
        return "b" + _b32encode(self.to_bytes())

    @property
    def cid(self) -> Cid:
        """The canonical CIDv1 base32 string."""
        return Cid(self.v1().encode())

    def __str__(self) -> str:
        return self.encode()


def _check_multihash(code: int, size: int) -> None:
    if code != SHA2_256:
        raise InputError(
            _("unsupported multihash function 0x{code:x}: only sha2-256 (0x12) is accepted").format(code=code)
        )
    if size != DIGEST_SIZE:
        raise InputError(
            _("sha2-256 multihash must carry {digest_size} bytes, not {size}").format(
                digest_size=DIGEST_SIZE, size=size
            )
        )


def _check_codec(codec: int) -> None:
    if codec not in CODECS:
        raise InputError(
            _("unsupported CID codec 0x{codec:x}: only raw (0x55) and dag-pb (0x70) are accepted").format(
                codec=codec
            )
        )


def read_cid_bytes(buf: bytes | memoryview, pos: int = 0) -> tuple[CidInfo, int]:
    """Decode a binary CID that starts at ``buf[pos]`` and may be followed by other bytes.

    Args:
        buf: The buffer.
        pos: Offset of the CID.

    Returns:
        ``(cid, position after the CID)``.

    Raises:
        InputError: If the bytes are not a sha2-256 CIDv0/CIDv1 with a supported codec.
    """
    if len(buf) - pos >= 2 and buf[pos] == SHA2_256 and buf[pos + 1] == DIGEST_SIZE:
        end = pos + 2 + DIGEST_SIZE
        if end > len(buf):
            raise InputError(_("truncated CIDv0 multihash"))
        return CidInfo(0, DAG_PB, bytes(buf[pos + 2 : end])), end
    version, pos = decode_varint(buf, pos, what="CID version")
    if version != 1:
        raise InputError(_("unsupported CID version {version}").format(version=version))
    codec, pos = decode_varint(buf, pos, what="CID codec")
    _check_codec(codec)
    code, pos = decode_varint(buf, pos, what="multihash code")
    size, pos = decode_varint(buf, pos, what="multihash length")
    _check_multihash(code, size)
    end = pos + size
    if end > len(buf):
        raise InputError(_("truncated multihash digest in CID"))
    return CidInfo(1, codec, bytes(buf[pos:end])), end


def decode_cid_bytes(data: bytes) -> CidInfo:
    """Decode a binary CID that must span all of ``data``.

    Raises:
        InputError: If the bytes are not exactly one valid CID.
    """
    info, end = read_cid_bytes(data)
    if end != len(data):
        raise InputError(_("{count} trailing bytes after the CID").format(count=len(data) - end))
    return info


def parse_cid(text: str | Cid) -> CidInfo:
    """Parse a CID string strictly.

    Accepts CIDv1 in multibase base32 (``b`` + lower-case base32) and CIDv0 (``Qm`` + base58btc). Only
    sha2-256 multihashes and the raw / dag-pb codecs are accepted.

    Args:
        text: The CID text.

    Returns:
        The decoded CID.

    Raises:
        InputError: With a message saying what is wrong.
    """
    if not isinstance(text, str):
        raise InputError(_("a CID must be a string, not {type}").format(type=type(text).__name__))
    if not text:
        raise InputError(_("empty CID"))
    if text != text.strip():
        raise InputError(_("CID has leading or trailing whitespace"))
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        if len(text) == 46 and text.startswith("Qm"):
            raw = b58decode(text)
            if len(raw) != 2 + DIGEST_SIZE or raw[0] != SHA2_256 or raw[1] != DIGEST_SIZE:
                raise InputError(_("a CIDv0 must be a base58btc sha2-256 multihash"))
            return CidInfo(0, DAG_PB, raw[2:])
        if text[0] != "b":
            raise InputError(_("expected a CIDv1 in base32 ('b...') or a CIDv0 ('Qm...')"))
        return decode_cid_bytes(_b32decode(text[1:]))
    except InputError as exc:
        raise InputError(_("invalid CID {cid}: {reason}").format(cid=repr(shown), reason=exc)) from None


def normalize_cid(text: str | Cid) -> Cid:
    """Parse a CID (v0 or v1) and return its canonical CIDv1 base32 string.

    Raises:
        InputError: If ``text`` is not a valid CID.
    """
    return parse_cid(text).cid


def make_cid(data: bytes | memoryview, codec: int = RAW) -> Cid:
    """The CIDv1 of a block: sha2-256 of ``data`` under ``codec``.

    Args:
        data: The block bytes.
        codec: ``RAW`` or ``DAG_PB``.

    Returns:
        The canonical CIDv1 string.
    """
    return cid_from_digest(hashlib.sha256(data).digest(), codec)


def cid_from_digest(digest: bytes, codec: int) -> Cid:
    """Rebuild a CIDv1 from the sha2-256 digest and codec stored on chain.

    Args:
        digest: The 32-byte sha2-256 digest.
        codec: ``RAW`` (0x55) or ``DAG_PB`` (0x70).

    Returns:
        The canonical CIDv1 string.

    Raises:
        InputError: If the digest is not 32 bytes or the codec is unsupported.
    """
    if not isinstance(digest, bytes | bytearray) or len(digest) != DIGEST_SIZE:
        raise InputError(_("a sha2-256 digest is {digest_size} bytes").format(digest_size=DIGEST_SIZE))
    _check_codec(codec)
    return CidInfo(1, codec, bytes(digest)).cid


def digest_and_codec(cid: str | Cid) -> tuple[bytes, int]:
    """Split a CID into the ``(digest32, codec)`` pair stored on chain.

    Args:
        cid: A CIDv1 or CIDv0 string.

    Returns:
        The 32-byte sha2-256 digest and the codec number.

    Raises:
        InputError: If ``cid`` is not a valid CID.
    """
    info = parse_cid(cid)
    return info.digest, info.codec


def multihash_key(info: CidInfo) -> str:
    """The block-store key of a CID: upper-case unpadded base32 of its multihash (Kubo flatfs style)."""
    return base64.b32encode(info.multihash).decode("ascii").rstrip("=")


def digest_from_key(key: str) -> bytes | None:
    """Inverse of :func:`multihash_key`; ``None`` if ``key`` is not a sha2-256 multihash key."""
    try:
        raw = base64.b32decode(key + "=" * (-len(key) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 + DIGEST_SIZE or raw[0] != SHA2_256 or raw[1] != DIGEST_SIZE:
        return None
    return raw[2:]
