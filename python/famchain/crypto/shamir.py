"""Shamir threshold secret sharing over GF(2^8), byte by byte.

A secret of ``L`` bytes is shared with threshold ``t`` among ``n <= 255`` holders: for each byte position an
independent random polynomial of degree ``t - 1`` over GF(2^8) has the secret byte as its constant term, and
holder ``x`` (``1 .. n``) gets its value at ``x``. Any ``t`` shares give the secret by Lagrange interpolation
at 0; any ``t - 1`` shares are uniformly distributed whatever the secret (each choice of the ``t - 1`` random
coefficients gives a distinct share tuple, so every tuple occurs exactly once per secret).

Why GF(2^8) rather than a prime field: a 32-byte section key is shared byte-wise with no encoding step, every
share is exactly as long as the secret, and 255 non-zero x-coordinates are more custodians than any deployment
needs. The field is GF(2)[x] / (x^8 + x^4 + x^3 + x + 1) (AES's polynomial, 0x11B); addition is XOR.

Share bytes (canonical; :meth:`Share.from_bytes` accepts nothing else)::

    u8 version=1 | u8 x (1..255) | u8 threshold t (1..255) | u16 length L (1..65535) | y[L]

Random coefficients are drawn in order of degree (1 .. t-1), ``L`` bytes each, through the entropy hook.
A share carries no integrity of its own: an altered share interpolates to a wrong secret. The envelope checks
the reconstructed section key against its key commitment before using it, and :func:`combine` given more than
``t`` shares checks that they all lie on one polynomial.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from famchain.crypto import _codec
from famchain.crypto._random import Entropy, system_entropy
from famchain.errors import InconsistentSharesError, InputError, InsufficientSharesError
from famchain.i18n import N_, _

SHARE_VERSION = 1
MAX_SHARES = 255
MAX_SECRET = 0xFFFF
SHARE_HEADER = 5
"""Bytes before ``y``: version, x, threshold, length."""
_WHAT = N_("secret share")


def _tables() -> tuple[list[int], list[int]]:
    exp = [0] * 510
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        # multiply by the generator 0x03: v * 2 (reduced) XOR v
        doubled = value << 1
        if doubled & 0x100:
            doubled ^= 0x11B
        value = doubled ^ value
    for power in range(255, 510):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _tables()


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    if a == 0:
        return 0
    return _EXP[_LOG[a] + 255 - _LOG[b]]


_SCALE = [bytes(_mul(c, v) for v in range(256)) for c in range(256)]
"""``_SCALE[c]`` is a ``bytes.translate`` table multiplying every byte by ``c``."""


def _scale(data: bytes, factor: int) -> bytes:
    return data.translate(_SCALE[factor])


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


@dataclass(frozen=True)
class Share:
    """One holder's share.

    Attributes:
        x: The holder's non-zero x-coordinate (1..255).
        threshold: How many shares reconstruct the secret.
        y: The polynomial values at ``x``, one byte per secret byte.
    """

    x: int
    threshold: int
    y: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.x, int) and 1 <= self.x <= MAX_SHARES):
            raise InputError(
                _("share x-coordinate must be in 1..{max_shares}, got {x!r}").format(
                    max_shares=MAX_SHARES, x=self.x
                )
            )
        if not (isinstance(self.threshold, int) and 1 <= self.threshold <= MAX_SHARES):
            raise InputError(
                _("share threshold must be in 1..{max_shares}, got {threshold!r}").format(
                    max_shares=MAX_SHARES, threshold=self.threshold
                )
            )
        if not isinstance(self.y, bytes) or not 1 <= len(self.y) <= MAX_SECRET:
            raise InputError(_("share value must be 1..{max_secret} bytes").format(max_secret=MAX_SECRET))

    def to_bytes(self) -> bytes:
        """The canonical form ``version | x | t | length | y``."""
        return (
            _codec.u8(SHARE_VERSION)
            + _codec.u8(self.x)
            + _codec.u8(self.threshold)
            + _codec.u16(len(self.y))
            + self.y
        )

    @classmethod
    def read(cls, rd: _codec.Reader) -> Share:
        """Reads one share from a reader positioned at its first byte (for formats that embed shares).

        Raises:
            MalformedError: Unknown version, x or threshold of zero, zero length, or truncation.
        """
        version = rd.uint(1, "share version")
        if version != SHARE_VERSION:
            raise rd.fail(_("unsupported share version {version}").format(version=version))
        x = rd.uint(1, "share x")
        threshold = rd.uint(1, "share threshold")
        length = rd.uint(2, "share length")
        if x == 0:
            raise rd.fail(_("share x-coordinate is zero"))
        if threshold == 0:
            raise rd.fail(_("share threshold is zero"))
        if length == 0:
            raise rd.fail(_("share length is zero"))
        return cls(x, threshold, rd.take(length, "share value"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        """Parses the canonical form, rejecting anything else.

        Raises:
            MalformedError: Not exactly one well-formed share.
        """
        rd = _codec.Reader(data, _WHAT)
        share = cls.read(rd)
        rd.end()
        return share


def split(secret: bytes, threshold: int, count: int) -> list[Share]:
    """Shares ``secret`` so that any ``threshold`` of the ``count`` shares reconstruct it.

    Args:
        secret: 1..65535 bytes.
        threshold: 1..count.
        count: 1..255; share ``i`` (0-based) has x-coordinate ``i + 1``.

    Raises:
        InputError: A parameter is out of range.
    """
    return _split(secret, threshold, count, system_entropy)


def _split(secret: bytes, threshold: int, count: int, entropy: Entropy) -> list[Share]:
    if not isinstance(secret, bytes) or not 1 <= len(secret) <= MAX_SECRET:
        raise InputError(_("a shared secret must be 1..{max_secret} bytes").format(max_secret=MAX_SECRET))
    if not (isinstance(count, int) and 1 <= count <= MAX_SHARES):
        raise InputError(
            _("share count must be in 1..{max_shares}, got {count!r}").format(
                max_shares=MAX_SHARES, count=count
            )
        )
    if not (isinstance(threshold, int) and 1 <= threshold <= count):
        raise InputError(
            _("threshold must be in 1..{count}, got {threshold!r}").format(count=count, threshold=threshold)
        )
    coefficients = [entropy(len(secret), f"shamir coefficient {d}") for d in range(1, threshold)]
    shares = []
    for x in range(1, count + 1):
        # Horner from the highest degree down: y = (((a_{t-1} x + a_{t-2}) x + ...) x + secret)
        acc = bytes(len(secret))
        for coefficient in reversed(coefficients):
            acc = _xor(_scale(acc, x), coefficient)
        shares.append(Share(x, threshold, _xor(_scale(acc, x), secret)))
    return shares


def _interpolate(points: list[Share], at: int) -> bytes:
    """The value at ``at`` of the polynomial through ``points`` (Lagrange)."""
    out = bytes(len(points[0].y))
    for i, share in enumerate(points):
        weight = 1
        for j, other in enumerate(points):
            if i != j:
                weight = _mul(weight, _div(at ^ other.x, share.x ^ other.x))
        out = _xor(out, _scale(share.y, weight))
    return out


def combine(shares: Iterable[Share]) -> bytes:
    """Reconstructs the secret from at least ``threshold`` shares.

    Identical duplicates count once. With more than ``threshold`` distinct shares the extra ones must lie on
    the same polynomial.

    Raises:
        InsufficientSharesError: Fewer distinct shares than the threshold.
        InconsistentSharesError: Shares of different thresholds or lengths, two values for one x, or extra
            shares off the polynomial.
    """
    distinct: dict[int, Share] = {}
    for share in shares:
        seen = distinct.setdefault(share.x, share)
        if seen != share:
            raise InconsistentSharesError(_("two different shares for x = {x}").format(x=share.x))
    if not distinct:
        raise InsufficientSharesError(0, 1, _("a secret"))
    points = sorted(distinct.values(), key=lambda s: s.x)
    threshold = points[0].threshold
    if any(s.threshold != threshold for s in points):
        raise InconsistentSharesError(_("mixed thresholds"))
    if any(len(s.y) != len(points[0].y) for s in points):
        raise InconsistentSharesError(_("mixed lengths"))
    if len(points) < threshold:
        raise InsufficientSharesError(len(points), threshold, _("a secret"))
    base = points[:threshold]
    for extra in points[threshold:]:
        if _interpolate(base, extra.x) != extra.y:
            raise InconsistentSharesError(_("the share for x = {x} is off the polynomial").format(x=extra.x))
    return _interpolate(base, 0)


__all__ = ["MAX_SHARES", "SHARE_VERSION", "Share", "combine", "split"]
