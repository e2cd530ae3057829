"""Shared options and the lazily built session (connection, deployment, wallet, sender, store) of chain commands.

Every chain command takes ``--rpc-url``, ``--deployment``, ``--keystore`` (each with an environment
variable), opens only what it needs, and asks before sending a transaction unless ``--yes``.
"""

from __future__ import annotations

import functools
import getpass
import inspect
import json
import math
import os
import sys
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import click
import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from famchain.chain.client import connect
from famchain.chain.contracts import Famchain
from famchain.chain.deployment import Deployment, checked_address, default_path
from famchain.chain.tx import TransactionSender
from famchain.crypto import keystore
from famchain.errors import ConfigError, InputError
from famchain.records.pipeline import Actor
from famchain.storage.api import ContentStore
from famchain.storage.config import StoreConfig, open_store

DEFAULT_RPC = "http://127.0.0.1:8545"
F = TypeVar("F", bound=Callable[..., Any])

RpcUrl = Annotated[str, typer.Option("--rpc-url", envvar="FAMCHAIN_RPC_URL", help="JSON-RPC endpoint.")]
DeploymentFile = Annotated[
    Path | None,
    typer.Option(
        "--deployment",
        envvar="FAMCHAIN_DEPLOYMENT",
        help="Deployment file [default: deployments/<chainId>.json].",
    ),
]
KeystoreOpt = Annotated[
    str | None,
    typer.Option("--keystore", envvar="FAMCHAIN_KEYSTORE", help="Your keystore: its file, or its address."),
]
KeystoreDir = Annotated[
    Path | None,
    typer.Option("--keystore-dir", envvar="FAMCHAIN_KEYSTORE_DIR", help="Folder of keystores."),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        envvar="FAMCHAIN_PASSWORD_FILE",
        help="Read the keystore password from this file [default: $FAMCHAIN_PASSWORD, else prompt].",
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Send transactions without asking.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def password(password_file: Path | None, *, new: bool = False, prompt: str = "Keystore password") -> str:
    """The keystore password: ``--password-file``, else ``$FAMCHAIN_PASSWORD``, else a hidden prompt.

    Raises:
        ConfigError: no password source and nothing to read one from (stdin closed).
    """
    if password_file is not None:
        return keystore.read_password_file(password_file)
    env = keystore.password_from_env()
    if env is not None:
        return env
    if not sys.stdin.isatty():
        # No terminal: take it from stdin (twice for a new one) without a prompt, and without getpass's
        # multi-line "may be echoed" warning, so a missing password is still exactly one error line.
        first = sys.stdin.readline().rstrip("\r\n")
        if not first:
            raise ConfigError("no password: pass --password-file, set FAMCHAIN_PASSWORD, or pipe it on stdin")
        if new and sys.stdin.readline().rstrip("\r\n") != first:
            raise ConfigError("the two passwords read from stdin differ")
        return first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=new, err=True))
    except click.exceptions.Abort:
        raise ConfigError("no password: pass --password-file, set FAMCHAIN_PASSWORD, or type it") from None


@dataclass
class Session:
    """What a chain command needs, each part opened on first use."""

    rpc_url: str = DEFAULT_RPC
    deployment_file: Path | None = None
    keystore_ref: str | None = None
    keystore_dir: Path | None = None
    password_file: Path | None = None
    yes: bool = False

    @cached_property
    def w3(self) -> Web3:
        """The connection (fails with a one-line error when the endpoint is down)."""
        return connect(self.rpc_url)

    @cached_property
    def deployment(self) -> Deployment:
        """The deployment file for the connected chain."""
        return Deployment.load(self.deployment_file or default_path(self.w3.eth.chain_id))

    @cached_property
    def fc(self) -> Famchain:
        """The deployed contracts."""
        return Famchain(self.w3, self.deployment)

    @cached_property
    def account(self) -> LocalAccount:
        """The caller's unlocked key."""
        if not self.keystore_ref:
            raise ConfigError("no account: pass --keystore FILE_OR_ADDRESS or set FAMCHAIN_KEYSTORE")
        wallet = keystore.unlock(self.keystore_ref, password(self.password_file), self.keystore_dir)
        account: LocalAccount = Account.from_key(wallet.private_key)
        return account

    @cached_property
    def sender(self) -> TransactionSender:
        """Transaction sender for the caller's key."""
        return TransactionSender(self.w3, self.account)

    @cached_property
    def store(self) -> ContentStore:
        """The content store chosen by ``FAMCHAIN_IPFS_*``.

        Raises:
            ConfigError: a Kubo RPC URL that is not http(s), or another bad setting.
        """
        config = StoreConfig.from_env()
        if config.backend == "kubo" and urlsplit(config.api_url).scheme not in ("http", "https"):
            raise ConfigError(f"FAMCHAIN_IPFS_API {config.api_url!r} is not an http:// or https:// URL")
        return open_store(config)

    @cached_property
    def actor(self) -> Actor:
        """The caller as a famchain actor."""
        home = Path(os.environ.get("FAMCHAIN_HOME", Path.home() / ".famchain")).expanduser()
        return Actor(self.fc, self.account, self.sender, self.store, home)

    def confirm(self, what: str) -> None:
        """Ask before sending a transaction, unless ``--yes``.

        Raises:
            ConfigError: no terminal to ask on and no ``--yes``.
            typer.Abort: the user said no.
        """
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise ConfigError(f"not sending ({what}) without confirmation: pass --yes")
        if not typer.confirm(f"Send transaction: {what}?", default=True):
            raise typer.Abort()


def session(
    rpc_url: str = DEFAULT_RPC,
    deployment: Path | None = None,
    keystore_ref: str | None = None,
    keystore_dir: Path | None = None,
    password_file: Path | None = None,
    yes: bool = False,
) -> Session:
    """Build a session from the common options."""
    return Session(rpc_url, deployment, keystore_ref, keystore_dir, password_file, yes)


UINT64_MAX = 2**64 - 1


def days_to_seconds(days: float, option: str) -> int:
    """A positive number of days from the command line as whole seconds that fit a ``uint64``.

    Raises:
        InputError: not finite, not positive, or too large for the contracts.
    """
    if not math.isfinite(days) or days <= 0:
        raise InputError(f"{option} must be a positive number of days, not {days}")
    exact = days * 86400  # may overflow to inf for a huge finite day count
    seconds = int(exact) if math.isfinite(exact) else UINT64_MAX
    if seconds < 1 or seconds > UINT64_MAX // 2:
        raise InputError(
            f"{option} {days} is out of range: from one second to {UINT64_MAX // 2 // 86400} days"
        )
    return seconds


def address_arg(value: str, what: str = "address") -> str:
    """Validate an address given on the command line."""
    return checked_address(value, what)


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """Print ``data`` as JSON, or the human text."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif human is not None:
        typer.echo(human)


def info(message: str) -> None:
    """A progress line on stderr (kept off stdout so ``--json`` output stays parseable)."""
    typer.echo(message, err=True)


_COMMON: list[tuple[str, Any, Any]] = [
    ("rpc_url", RpcUrl, DEFAULT_RPC),
    ("deployment", DeploymentFile, None),
    ("keystore", KeystoreOpt, None),
    ("keystore_dir", KeystoreDir, None),
    ("password_file", PasswordFile, None),
    ("yes", Yes, False),
]


def chain_command(app: typer.Typer, name: str | None = None, **settings: Any) -> Callable[[F], F]:
    """Register ``fn(s: Session, ...)`` as a command that also takes the common chain options.

    The options (``--rpc-url``, ``--deployment``, ``--keystore``, ``--keystore-dir``, ``--password-file``,
    ``--yes``, each with its environment variable) are added to the command's signature and folded into
    the :class:`Session` passed as the first argument.
    """

    def register(fn: F) -> F:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "s"]
        extra = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
            for key, annotation, default in _COMMON
        ]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            common = {key: kwargs.pop(key) for key, _, _ in _COMMON}
            s = session(
                common["rpc_url"],
                common["deployment"],
                common["keystore"],
                common["keystore_dir"],
                common["password_file"],
                common["yes"],
            )
            return fn(s, **kwargs)

        command.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + extra}
        app.command(name, **settings)(command)
        return fn

    return register
