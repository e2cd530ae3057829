"""Domain scalar types shared across packages: one value, one type.

Importing this module is cheap (no web3, no eth-utils): the CLI and ``import famchain`` load it at start.
"""

from __future__ import annotations

import os
import re
from typing import NewType

from famchain.errors import InputError
from famchain.i18n import _

Address = NewType("Address", str)
"""A checksummed 0x-prefixed Ethereum address."""

Cid = NewType("Cid", str)
"""A CIDv1 in its canonical base32 string form (``bafy...`` / ``bafk...``)."""

_HEX = re.compile(r"[0-9a-fA-F]*")


class RecordId(bytes):
    """A 32-byte record identifier chosen by the author before sealing; the same type everywhere.

    It is ``bytes`` (so it goes into ABI ``bytes32`` arguments and envelope contexts as is) that prints as
    ``0x`` + 64 hex digits. ``hex()`` keeps the ``bytes`` meaning (no prefix); :meth:`to_0x_hex` and ``str()``
    give the prefixed form used in files, JSON and on the command line.

    Raises:
        InputError: not exactly 32 bytes.
    """

    SIZE = 32

    def __new__(cls, value: bytes | bytearray | memoryview) -> RecordId:
        raw = bytes(value)
        if len(raw) != cls.SIZE:
            raise InputError(
                _("a record id is {size} bytes, not {n_raw}").format(size=cls.SIZE, n_raw=len(raw))
            )
        return super().__new__(cls, raw)

    @classmethod
    def from_hex(cls, text: str) -> RecordId:
        """Parse ``0x`` + 64 hex digits (the prefix and surrounding spaces are optional).

        Raises:
            InputError: not 32 bytes of hex.
        """
        raw = text.strip().removeprefix("0x").removeprefix("0X") if isinstance(text, str) else ""
        if len(raw) != 2 * cls.SIZE or not _HEX.fullmatch(raw):
            raise InputError(
                _("record id {text!r} is not 32 bytes of hex (0x + 64 hex digits)").format(text=text)
            )
        return cls(bytes.fromhex(raw))

    @classmethod
    def random(cls) -> RecordId:
        """A fresh random id (what an author picks for a new record)."""
        return cls(os.urandom(cls.SIZE))

    @classmethod
    def zero(cls) -> RecordId:
        """The all-zero id: ``previous`` of a record that updates nothing."""
        return cls(bytes(cls.SIZE))

    @property
    def is_zero(self) -> bool:
        """True for the all-zero id."""
        return not any(self)

    def to_0x_hex(self) -> str:
        """``0x`` + 64 lowercase hex digits."""
        return "0x" + bytes.hex(self)

    def matches(self, prefix: str) -> bool:
        """True when the id starts with ``prefix`` (hex, ``0x`` optional, any case): ids typed in short."""
        digits = prefix.strip().lower().removeprefix("0x")
        return bool(digits) and bytes.hex(self).startswith(digits)

    def short(self) -> str:
        """The first 16 hex digits with an ellipsis, for human output."""
        return self.to_0x_hex()[:18] + "…"

    def __str__(self) -> str:
        return self.to_0x_hex()

    def __repr__(self) -> str:
        return f"RecordId('{self.to_0x_hex()}')"

    def __reduce__(self) -> tuple[type[RecordId], tuple[bytes]]:
        return (RecordId, (bytes(self),))


def checksum_address(text: str) -> Address:
    """EIP-55 form of a 20-byte hex address (light: only the keccak backend, not eth-utils).

    Raises:
        InputError: not 0x + 40 hex digits.
    """
    digits = text.strip().removeprefix("0x").removeprefix("0X") if isinstance(text, str) else ""
    if len(digits) != 40 or not _HEX.fullmatch(digits):
        raise InputError(
            _("{text!r} is not an Ethereum address (0x followed by 40 hex digits)").format(text=text)
        )
    from eth_hash.auto import keccak

    lower = digits.lower()
    hashed = keccak(lower.encode()).hex()[:40]
    return Address(
        "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, hashed, strict=True))
    )
