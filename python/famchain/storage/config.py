"""Choosing the content store from an explicit configuration (the CLI's settings build it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from famchain.storage.api import ContentStore
from famchain.storage.blockstore import default_root

DEFAULT_API: Final = "http://127.0.0.1:5001"
BACKENDS: Final = ("embedded", "kubo")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Which content store to open and where.

    Attributes:
        backend: ``embedded`` or ``kubo``.
        root: Embedded store directory.
        api_url: Kubo RPC URL (or a ``famchain ipfs serve`` URL: it speaks the same RPC subset).
        timeout: RPC read timeout in seconds.
    """

    backend: str = "embedded"
    root: Path | None = None
    api_url: str = DEFAULT_API
    timeout: float = 120.0


def open_store(config: StoreConfig) -> ContentStore:
    """Open the content store a config names.

    Returns:
        An :class:`~famchain.storage.embedded.EmbeddedStore` or a :class:`~famchain.storage.kubo.KuboStore`.
    """
    if config.backend == "kubo":
        from famchain.storage.kubo import KuboStore

        return KuboStore(config.api_url, timeout=(3.05, config.timeout))
    from famchain.storage.embedded import EmbeddedStore

    return EmbeddedStore(default_root(config.root))
