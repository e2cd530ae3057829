"""Big-endian encoding helpers and section-name rules shared by the envelope, key-bundle and share formats."""

from __future__ import annotations

import re

from famchain.errors import InputError, MalformedError
from famchain.i18n import _

MAX_SECTIONS = 64
MAX_SECTION_NAME = 64
_SECTION_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_section_name(name: str) -> str:
    """Validates a section name (lowercase ASCII identifier ``[a-z][a-z0-9_]*``, at most 64 characters).

    Raises:
        InputError: The name is not acceptable.
    """
    if not isinstance(name, str) or len(name) > MAX_SECTION_NAME or not _SECTION_NAME.fullmatch(name):
        raise InputError(
            _("invalid section name {name!r}: expected [a-z][a-z0-9_]*, at most {max}").format(
                name=name, max=MAX_SECTION_NAME
            )
        )
    return name


def u8(value: int) -> bytes:
    return value.to_bytes(1, "big")


def u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def lp8(data: bytes) -> bytes:
    """One length byte, then ``data`` (at most 255 bytes)."""
    return u8(len(data)) + data


class Reader:
    """Consumes a byte string front to back; every shortfall is a :class:`MalformedError`."""

    def __init__(self, data: bytes, what: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedError(_(what), _("expected bytes, got {type}").format(type=type(data).__name__))
        self._data = memoryview(bytes(data))
        self._pos = 0
        self.what = what

    def fail(self, reason: str) -> MalformedError:
        return MalformedError(
            _(self.what), _("{reason} (at byte {pos})").format(reason=reason, pos=self._pos)
        )

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int, field: str) -> bytes:
        if size > self.remaining:
            raise self.fail(
                _("{field} needs {size} bytes, only {remaining} left").format(
                    field=field, size=size, remaining=self.remaining
                )
            )
        out = bytes(self._data[self._pos : self._pos + size])
        self._pos += size
        return out

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "big")

    def lp8(self, field: str) -> bytes:
        return self.take(self.uint(1, field), field)

    def section_name(self) -> str:
        """Reads ``lp8`` ASCII and checks it is a valid section name."""
        raw = self.lp8("section name")
        try:
            return check_section_name(raw.decode("ascii"))
        except (UnicodeDecodeError, InputError):
            raise self.fail(_("invalid section name {raw!r}").format(raw=raw)) from None

    def end(self) -> None:
        if self.remaining:
            raise self.fail(_("{remaining} trailing bytes").format(remaining=self.remaining))
