"""Choosing the content store from configuration.

Environment:

* ``FAMCHAIN_IPFS_BACKEND``: ``embedded`` (default, a local directory) or ``kubo`` (a Kubo RPC endpoint, or
  another famchain store's ``famchain ipfs serve`` URL: it speaks the same RPC subset).
* ``FAMCHAIN_IPFS_DIR``: the embedded store directory (default ``~/.famchain/ipfs``).
* ``FAMCHAIN_IPFS_API``: the RPC URL for ``kubo`` (default ``http://127.0.0.1:5001``).
* ``FAMCHAIN_IPFS_TIMEOUT``: RPC read timeout in seconds (default 120).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from famchain.errors import ConfigError
from famchain.storage.api import ContentStore
from famchain.storage.blockstore import ENV_DIR, default_root

ENV_BACKEND: Final = "FAMCHAIN_IPFS_BACKEND"
ENV_API: Final = "FAMCHAIN_IPFS_API"
ENV_TIMEOUT: Final = "FAMCHAIN_IPFS_TIMEOUT"
DEFAULT_API: Final = "http://127.0.0.1:5001"
BACKENDS: Final = ("embedded", "kubo")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Which content store to open and where.

    Attributes:
        backend: ``embedded`` or ``kubo``.
        root: Embedded store directory.
        api_url: Kubo RPC URL.
        timeout: RPC read timeout in seconds.
    """

    backend: str = "embedded"
    root: Path | None = None
    api_url: str = DEFAULT_API
    timeout: float = 120.0

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        backend: str | None = None,
        root: str | os.PathLike[str] | None = None,
        api_url: str | None = None,
    ) -> StoreConfig:
        """Build a config from explicit values, falling back to the environment, then defaults.

        Raises:
            ConfigError: On an unknown backend or a malformed timeout.
        """
        env = os.environ if env is None else env
        chosen = (backend or env.get(ENV_BACKEND) or "embedded").strip().lower()
        if chosen not in BACKENDS:
            raise ConfigError(f"unknown {ENV_BACKEND} {chosen!r}: use one of {', '.join(BACKENDS)}")
        raw_timeout = env.get(ENV_TIMEOUT) or "120"
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ConfigError(f"{ENV_TIMEOUT} must be a number of seconds, not {raw_timeout!r}") from None
        directory = root if root is not None else env.get(ENV_DIR) or None
        return cls(
            backend=chosen,
            root=default_root(directory),
            api_url=api_url or env.get(ENV_API) or DEFAULT_API,
            timeout=timeout,
        )


def open_store(config: StoreConfig | None = None) -> ContentStore:
    """Open the content store a config names (the environment's when ``config`` is None).

    Returns:
        An :class:`~famchain.storage.embedded.EmbeddedStore` or a :class:`~famchain.storage.kubo.KuboStore`.
    """
    config = config or StoreConfig.from_env()
    if config.backend == "kubo":
        from famchain.storage.kubo import KuboStore

        return KuboStore(config.api_url, timeout=(3.05, config.timeout))
    from famchain.storage.embedded import EmbeddedStore

    return EmbeddedStore(config.root)
