"""Domain scalar types shared across packages."""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", str)
"""A checksummed 0x-prefixed Ethereum address."""

Cid = NewType("Cid", str)
"""A CIDv1 in its canonical base32 string form (``bafy...`` / ``bafk...``)."""

RecordId = NewType("RecordId", bytes)
"""A 32-byte record identifier chosen by the author before sealing."""
