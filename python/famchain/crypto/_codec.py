"""Length-prefixed big-endian encoding helpers shared by the envelope and key-bundle formats."""

from __future__ import annotations

from famchain.errors import MalformedError


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
        self._data = memoryview(bytes(data))
        self._pos = 0
        self.what = what

    def fail(self, reason: str) -> MalformedError:
        return MalformedError(self.what, f"{reason} (at byte {self._pos})")

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int, field: str) -> bytes:
        if size > self.remaining:
            raise self.fail(f"{field} needs {size} bytes, only {self.remaining} left")
        out = bytes(self._data[self._pos : self._pos + size])
        self._pos += size
        return out

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "big")

    def lp8(self, field: str) -> bytes:
        return self.take(self.uint(1, field), field)

    def end(self) -> None:
        if self.remaining:
            raise self.fail(f"{self.remaining} trailing bytes")
