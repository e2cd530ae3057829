"""A token bucket per resident: how many relayed actions the portal accepts for one patient per minute."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from famchain.errors import RateLimitedError


@dataclass
class RateLimiter:
    """``per_minute`` actions per resident, refilled continuously; a burst of up to ``per_minute`` is allowed.

    Attributes:
        per_minute: bucket size and refill rate (0 turns the limit off).
        clock: seconds, monotonic (tests pass their own).
    """

    per_minute: int = 10
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, resident: str) -> None:
        """Spend one token of ``resident``'s bucket.

        Raises:
            RateLimitedError: the bucket is empty (its message says when to try again).
        """
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        key = resident.lower()
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError(resident, max(1, math.ceil((1.0 - tokens) / rate)))
            self._buckets[key] = (tokens - 1.0, now)
