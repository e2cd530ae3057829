"""Padmé padding with a floor: a sealed length reveals a size class, not a size.

Every section plaintext (attachments too) and every key-bundle body is encoded before encryption as::

    u32 big-endian length L | the L bytes | zero bytes up to padded_size(L)

``padded_size(L) = max(256, padme(L + 4))`` where, for ``n >= 1`` (Nikitin et al., "Reducing Metadata Leakage
from Encrypted Files and Communication with PURBs", PETS 2019)::

    E = floor(log2 n)            (n.bit_length() - 1)
    S = floor(log2 E) + 1        (E.bit_length(); 0 when E == 0)
    z = E - S                    (low bits forced to zero)
    padme(n) = (n + 2^z - 1) & ~(2^z - 1)

A padded size keeps only its top ``S`` significant bits, so at most ``O(log log n)`` bits of the length leak,
and the overhead is below 12 % (at most ``2^z - 1`` bytes over ``n``); the 256-byte floor hides every short
section (an empty history, a one-line diagnosis) in one class. Every plaintext length in ``0 .. 252`` seals to
the same 256 + 16 bytes.

The length prefix was chosen over the ISO/IEC 7816-4 ``0x80 00..`` pad: it decodes in constant time without
scanning up to 12 % of a large attachment from the end, and a reader checks both that the prefix fits and
that every pad byte is zero, so exactly one encoding exists per plaintext.
"""

from __future__ import annotations

from famchain.errors import MalformedError
from famchain.i18n import _

PAD_FLOOR = 256
"""Smallest padded size: plaintexts of at most 252 bytes all pad to 256."""
LENGTH_PREFIX = 4
"""Bytes of the big-endian length in front of the plaintext."""


def padme(length: int) -> int:
    """Rounds ``length`` (at least 1) up to the Padmé size class that contains it."""
    if length < 1:
        raise ValueError("padme is defined for lengths of at least 1")
    exponent = length.bit_length() - 1
    zero_bits = exponent - exponent.bit_length()
    mask = (1 << zero_bits) - 1
    return (length + mask) & ~mask


def padded_size(length: int) -> int:
    """The encoded size of a ``length``-byte plaintext: ``max(256, padme(length + 4))``."""
    return max(PAD_FLOOR, padme(length + LENGTH_PREFIX))


def is_size_class(size: int) -> bool:
    """Tells whether ``size`` is a padded size some plaintext encodes to (the strict parsers check this)."""
    return size >= PAD_FLOOR and padme(size) == size


def pad(data: bytes) -> bytes:
    """Encodes ``data`` as length prefix, data, zero padding (see the module docstring)."""
    if len(data) >= 1 << 32:
        raise ValueError("padding input must be shorter than 2**32 bytes")
    size = padded_size(len(data))
    return len(data).to_bytes(LENGTH_PREFIX, "big") + data + bytes(size - LENGTH_PREFIX - len(data))


def unpad(padded: bytes, what: str) -> bytes:
    """Decodes :func:`pad` output strictly.

    Args:
        padded: The decrypted, padded bytes.
        what: Names the object in the error message.

    Raises:
        MalformedError: The size is not a size class, the length prefix does not fit, or a pad byte is not
            zero (the encoding is not the one :func:`pad` makes).
    """
    if not is_size_class(len(padded)):
        raise MalformedError(
            what, _("{n_padded} bytes is not a padded size class").format(n_padded=len(padded))
        )
    length = int.from_bytes(padded[:LENGTH_PREFIX], "big")
    end = LENGTH_PREFIX + length
    if padded_size(length) != len(padded):
        raise MalformedError(
            what,
            _("length prefix {length} does not belong to size class {n_padded}").format(
                length=length, n_padded=len(padded)
            ),
        )
    if padded[end:].count(0) != len(padded) - end:
        raise MalformedError(what, _("non-zero padding"))
    return padded[LENGTH_PREFIX:end]
