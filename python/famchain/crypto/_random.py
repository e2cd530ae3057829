"""The randomness hook: every random byte the sealing code draws goes through one :class:`Entropy` callable.

Library calls always use :func:`system_entropy` (the OS CSPRNG). Only the test-vector generator and tests pass
a scripted source (:class:`famchain.crypto.vectors.ScriptedEntropy`) to the private ``_seal`` /
``_release_keys`` functions, to reproduce envelopes byte for byte.
"""

from __future__ import annotations

import os
from typing import Protocol


class Entropy(Protocol):
    """Returns ``size`` random bytes; ``what`` names the draw (used by scripted sources, ignored here)."""

    def __call__(self, size: int, what: str) -> bytes: ...


def system_entropy(size: int, what: str) -> bytes:
    """``size`` bytes from the operating system's CSPRNG."""
    del what
    return os.urandom(size)
