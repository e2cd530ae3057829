"""Settings, read once at the edge: command-line options and environment into one object.

Only the command line (and scripts such as ``python -m famchain.soak``) build a :class:`Settings`; the
library takes explicit arguments. Importing this module is cheap (no web3).

Environment:

==================================  =====================================================================
``FAMCHAIN_RPC_URL``                JSON-RPC endpoint (default ``http://127.0.0.1:8545``)
``FAMCHAIN_DEPLOYMENT``             deployment file (default ``<deployments dir>/<chainId>.json``)
``FAMCHAIN_DEPLOYMENTS_DIR``        where ``famchain deploy`` writes by default (``deployments``)
``FAMCHAIN_KEYSTORE``               your keystore file or address
``FAMCHAIN_KEYSTORE_DIR``           folder of V3 keystores (``~/.famchain/keystores``)
``FAMCHAIN_PASSWORD_FILE``          keystore password file
``FAMCHAIN_PASSWORD``               keystore password
``FAMCHAIN_HOME``                   outboxes and devnet state (``~/.famchain``)
``FAMCHAIN_IPFS_BACKEND``           ``embedded`` or ``kubo``
``FAMCHAIN_IPFS_DIR``               embedded store folder (``~/.famchain/ipfs``)
``FAMCHAIN_IPFS_API``               Kubo RPC URL (``http://127.0.0.1:5001``)
``FAMCHAIN_IPFS_TIMEOUT``           store read timeout in seconds (120)
``FAMCHAIN_IPFS_GATEWAY``           a member's gated gateway: reads your store misses are fetched there, signed
                                    with your account
``FAMCHAIN_ANVIL``                  anvil binary for ``famchain devnet``
``FAMCHAIN_INSECURE_TEST_KEYSTORES``  **tests only**: new keystores use the light KDF and light keystores
                                    are accepted
``FAMCHAIN_DEBUG``                  tracebacks for unexpected errors
==================================  =====================================================================
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from famchain.errors import ConfigError

if TYPE_CHECKING:
    from famchain.crypto.keystore import KdfParams
    from famchain.storage.config import StoreConfig

DEFAULT_RPC = "http://127.0.0.1:8545"
DEFAULT_IPFS_API = "http://127.0.0.1:5001"
BACKENDS = ("embedded", "kubo")
INSECURE_TEST_KEYSTORES = "FAMCHAIN_INSECURE_TEST_KEYSTORES"
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class StoreSettings:
    """Which content store to open: the backend, the embedded folder, the Kubo RPC URL, the timeout."""

    backend: str = "embedded"
    directory: Path | None = None
    api_url: str = DEFAULT_IPFS_API
    timeout: str = "120"
    """As given; checked by :meth:`config` (only commands that open the store care)."""
    gateway: str | None = None
    """A gated gateway to read through (signed with the caller's account), or None."""

    def config(self) -> StoreConfig:
        """The library's :class:`~famchain.storage.config.StoreConfig` for these settings.

        Raises:
            ConfigError: an unknown backend, a timeout that is not a number, or a Kubo URL that is not http(s).
        """
        from urllib.parse import urlsplit

        from famchain.storage.config import StoreConfig

        if self.backend not in BACKENDS:
            raise ConfigError(
                f"unknown FAMCHAIN_IPFS_BACKEND {self.backend!r}: use one of {', '.join(BACKENDS)}"
            )
        try:
            timeout = float(self.timeout)
        except ValueError:
            raise ConfigError(
                f"FAMCHAIN_IPFS_TIMEOUT must be a number of seconds, not {self.timeout!r}"
            ) from None
        if self.backend == "kubo" and urlsplit(self.api_url).scheme not in ("http", "https"):
            raise ConfigError(f"FAMCHAIN_IPFS_API {self.api_url!r} is not an http:// or https:// URL")
        return StoreConfig(self.backend, self.directory, self.api_url, timeout)


@dataclass(frozen=True)
class Settings:
    """Every setting of one famchain invocation.

    Build it with :meth:`from_env` (options given on the command line override the environment).
    """

    rpc_url: str = DEFAULT_RPC
    deployment_file: Path | None = None
    deployments_dir: Path = Path("deployments")
    keystore: str | None = None
    keystore_dir: Path = field(default_factory=lambda: Path("~/.famchain/keystores").expanduser())
    password_file: Path | None = None
    password: str | None = field(default=None, repr=False)
    home: Path = field(default_factory=lambda: Path("~/.famchain").expanduser())
    store: StoreSettings = field(default_factory=StoreSettings)
    anvil: str | None = None
    insecure_test_keystores: bool = False
    debug: bool = False
    yes: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> Settings:
        """Read the environment (``os.environ`` by default), then apply the options that were given.

        Args:
            env: the environment to read.
            **options: field values from the command line; None means "not given".

        Values are checked where they are used (:meth:`StoreSettings.config`), so a bad store setting does
        not stop a command that never opens the store.
        """
        env = os.environ if env is None else env
        home = _path(env.get("FAMCHAIN_HOME")) or Path("~/.famchain").expanduser()
        backend = (env.get("FAMCHAIN_IPFS_BACKEND") or "embedded").strip().lower()
        settings = cls(
            rpc_url=env.get("FAMCHAIN_RPC_URL") or DEFAULT_RPC,
            deployment_file=_path(env.get("FAMCHAIN_DEPLOYMENT")),
            deployments_dir=Path(env.get("FAMCHAIN_DEPLOYMENTS_DIR") or "deployments"),
            keystore=env.get("FAMCHAIN_KEYSTORE") or None,
            keystore_dir=_path(env.get("FAMCHAIN_KEYSTORE_DIR"))
            or Path("~/.famchain/keystores").expanduser(),
            password_file=_path(env.get("FAMCHAIN_PASSWORD_FILE")),
            password=env.get("FAMCHAIN_PASSWORD"),
            home=home,
            store=StoreSettings(
                backend=backend,
                directory=_path(env.get("FAMCHAIN_IPFS_DIR")) or Path("~/.famchain/ipfs").expanduser(),
                api_url=env.get("FAMCHAIN_IPFS_API") or DEFAULT_IPFS_API,
                timeout=env.get("FAMCHAIN_IPFS_TIMEOUT") or "120",
                gateway=env.get("FAMCHAIN_IPFS_GATEWAY") or None,
            ),
            anvil=env.get("FAMCHAIN_ANVIL") or None,
            insecure_test_keystores=_flag(env.get(INSECURE_TEST_KEYSTORES)),
            debug=_flag(env.get("FAMCHAIN_DEBUG")),
        )
        return settings.with_options(**options)

    def with_options(self, **options: Any) -> Settings:
        """A copy with the given fields replaced (None values are ignored: the option was not given)."""
        store_changes = {
            key: options.pop(key) for key in ("store_backend", "store_dir", "store_api") if key in options
        }
        given = {k: v for k, v in options.items() if v is not None}
        if "keystore_dir" in given:
            given["keystore_dir"] = Path(given["keystore_dir"]).expanduser()
        out = replace(self, **given)
        store = out.store
        if store_changes.get("store_backend") is not None:
            store = replace(store, backend=str(store_changes["store_backend"]).strip().lower())
        if store_changes.get("store_dir") is not None:
            store = replace(store, directory=Path(store_changes["store_dir"]).expanduser())
        if store_changes.get("store_api") is not None:
            store = replace(store, api_url=str(store_changes["store_api"]))
        return replace(out, store=store)

    @property
    def kdf(self) -> KdfParams:
        """The KDF for new keystores: the default, or the light test KDF under the insecure test setting."""
        from famchain.crypto.keystore import KdfParams

        return KdfParams.light() if self.insecure_test_keystores else KdfParams.default()

    def deployment_path(self, chain_id: int) -> Path:
        """The deployment file: ``--deployment``, else ``<deployments dir>/<chainId>.json``."""
        return self.deployment_file or self.deployments_dir / f"{chain_id}.json"

    def anvil_binary(self) -> str:
        """anvil: ``FAMCHAIN_ANVIL``, else ``PATH``, else ``node_modules/.bin/anvil`` under the current folder.

        Raises:
            ConfigError: not found.
        """
        for candidate in (self.anvil, shutil.which("anvil"), str(Path("node_modules/.bin/anvil").resolve())):
            if candidate and Path(candidate).exists():
                return candidate
        raise ConfigError("anvil not found: run `make install` (npm @foundry-rs/anvil) or set FAMCHAIN_ANVIL")
