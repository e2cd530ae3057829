"""Content storage: Kubo-identical CIDs, the embedded block store, CAR files, gateway and Kubo backend.

Typical use::

    from famchain.storage import StoreConfig, open_store

    store = open_store(StoreConfig("embedded", Path("/var/lib/famchain/ipfs")))
    cid = store.put(b"sealed record bytes")
    assert store.get(cid) == b"sealed record bytes"
"""

from __future__ import annotations

from famchain.storage.api import ContentStore
from famchain.storage.cid import (
    DAG_PB,
    RAW,
    cid_from_digest,
    digest_and_codec,
    make_cid,
    normalize_cid,
    parse_cid,
)
from famchain.storage.config import StoreConfig, open_store

__all__ = [
    "DAG_PB",
    "RAW",
    "ContentStore",
    "StoreConfig",
    "cid_from_digest",
    "digest_and_codec",
    "make_cid",
    "normalize_cid",
    "open_store",
    "parse_cid",
]
