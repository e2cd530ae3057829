"""Shared options and the session of chain commands: settings read once, then the client opened lazily.

Every chain command takes ``--rpc-url``, ``--deployment``, ``--keystore`` (each with an environment
variable), opens only what it needs, and asks before sending a transaction unless ``--yes``. This module
imports no web3: command modules load it at start.
"""

from __future__ import annotations

import functools
import getpass
import inspect
import json
import math
import os
import stat
import sys
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import click
import typer

from famchain.errors import ConfigError, InputError
from famchain.i18n import N_, _
from famchain.settings import DEFAULT_RPC, Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from famchain.chain.contracts import Famchain
    from famchain.chain.deployment import Deployment
    from famchain.client import Client
    from famchain.storage.api import ContentStore

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


def settings(**options: Any) -> Settings:
    """The settings of this invocation: the environment, overridden by the options that were given."""
    return Settings.from_env(os.environ, **options)


PASSWORD_FILE = N_("password file")
KEYSTORE_PASSWORD = N_("Keystore password")


def read_password_file(path: Path, what: str = PASSWORD_FILE) -> str:
    """Read a secret file; warn on stderr when it is world-readable (it should be 0600)."""
    from famchain.crypto.keystore import read_password_file as read

    text = read(path, what)
    try:
        mode = path.stat().st_mode
    except OSError:
        return text
    if mode & stat.S_IROTH:
        typer.echo(
            _(
                "warning: {what} {path} is readable by other users (mode {mode}); run `chmod 600 {path}`"
            ).format(what=_(what), path=path, mode=f"{stat.S_IMODE(mode):o}"),
            err=True,
        )
    return text


def password(config: Settings, *, new: bool = False, prompt: str = KEYSTORE_PASSWORD) -> str:
    """The keystore password: ``--password-file``, else ``$FAMCHAIN_PASSWORD``, else stdin or a hidden prompt.

    Raises:
        ConfigError: no password source and nothing to read one from (stdin closed).
    """
    if config.password_file is not None:
        return read_password_file(config.password_file)
    if config.password is not None:
        return config.password
    if not sys.stdin.isatty():
        # No terminal: take it from stdin (twice for a new one) without a prompt, and without getpass's
        # multi-line "may be echoed" warning, so a missing password is still exactly one error line.
        first = sys.stdin.readline().rstrip("\r\n")
        if not first:
            raise ConfigError(
                _("no password: pass --password-file, set FAMCHAIN_PASSWORD, or pipe it on stdin")
            )
        if new and sys.stdin.readline().rstrip("\r\n") != first:
            raise ConfigError(_("the two passwords read from stdin differ"))
        return first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            return str(typer.prompt(_(prompt), hide_input=True, confirmation_prompt=new, err=True))
    except click.exceptions.Abort:
        raise ConfigError(_("no password: pass --password-file, set FAMCHAIN_PASSWORD, or type it")) from None


def unlock(config: Settings, ref: str | None = None) -> LocalAccount:
    """The keystore named by ``ref`` (else ``--keystore``), unlocked.

    Raises:
        ConfigError: no keystore named.
        InsecureKeystoreError: a test-only keystore outside tests.
    """
    from eth_account import Account

    from famchain.crypto import keystore

    ref = ref or config.keystore
    if not ref:
        raise ConfigError(_("no account: pass --keystore FILE_OR_ADDRESS or set FAMCHAIN_KEYSTORE"))
    wallet = keystore.unlock(
        ref, password(config), config.keystore_dir, allow_test_kdf=config.insecure_test_keystores
    )
    account: LocalAccount = Account.from_key(wallet.private_key)
    return account


@dataclass
class Session:
    """What a chain command needs, each part opened on first use."""

    config: Settings

    @property
    def yes(self) -> bool:
        """``--yes`` was given."""
        return self.config.yes

    @cached_property
    def w3(self) -> Web3:
        """The connection (fails with a one-line error when the endpoint is down)."""
        from famchain.chain.rpc import connect

        return connect(self.config.rpc_url)

    @cached_property
    def deployment(self) -> Deployment:
        """The deployment file for the connected chain."""
        from famchain.chain.deployment import Deployment

        return Deployment.load(self.config.deployment_path(self.w3.eth.chain_id))

    @cached_property
    def fc(self) -> Famchain:
        """The deployed contracts."""
        from famchain.chain.contracts import Famchain

        return Famchain(self.w3, self.deployment)

    @cached_property
    def account(self) -> LocalAccount:
        """The caller's unlocked key."""
        return unlock(self.config)

    @cached_property
    def store(self) -> ContentStore:
        """The content store the settings name; with a gateway (``FAMCHAIN_IPFS_GATEWAY``), reads it misses are
        fetched from that gated gateway, signed with the caller's account."""
        from famchain.storage.config import open_store

        local = open_store(self.config.store.config())
        if not self.config.store.gateway:
            return local
        from famchain.storage.access import AccessSigner, origin
        from famchain.storage.remote import GatewayStore

        origin(self.config.store.gateway)  # a bad URL is one line, before the keystore is unlocked
        return GatewayStore(self.config.store.gateway, AccessSigner(bytes(self.account.key)), local=local)

    @cached_property
    def client(self) -> Client:
        """The caller's client (connection, deployment, account, store, outbox home)."""
        from famchain.client import Client

        fc, account, store = self.fc, self.account, self.store
        return Client(self.w3, self.deployment, account, store=store, home=self.config.home, _chain=fc)

    @cached_property
    def reader(self) -> Client:
        """A client without an account, for public reads."""
        from famchain.client import Client

        return Client(self.w3, self.deployment, None, home=self.config.home, _chain=self.fc)

    def confirm(self, what: str) -> None:
        """Ask before sending a transaction, unless ``--yes``; the answer defaults to no.

        Raises:
            ConfigError: no terminal to ask on and no ``--yes``.
            typer.Abort: the user said no.
        """
        if self.yes:
            return
        if not sys.stdin.isatty():
            raise ConfigError(_("not sending ({what}) without confirmation: pass --yes").format(what=what))
        if not typer.confirm(
            _("Send transaction: {what}?").format(what=what), default=False
        ):  # Enter alone sends nothing
            raise typer.Abort()


UINT64_MAX = 2**64 - 1
MAX_DAYS = 36_525
"""A century: the longest consent, agreement or vote the command line takes (its end must be a date people
can read, and fits the contracts' ``uint64`` by far)."""


def days_to_seconds(days: float, option: str) -> int:
    """A positive number of days, at most :data:`MAX_DAYS`, from the command line as whole seconds.

    Raises:
        InputError: not finite, not positive, or too large for the contracts.
    """
    if not math.isfinite(days) or days <= 0:
        raise InputError(
            _("{option} must be a positive number of days, not {days}").format(option=option, days=days)
        )
    exact = days * 86400  # may overflow to inf for a huge finite day count
    seconds = int(exact) if math.isfinite(exact) else UINT64_MAX
    if seconds < 1 or seconds > MAX_DAYS * 86400:
        raise InputError(
            _("{option} {days} is out of range: from one second to {most} days").format(
                option=option, days=days, most=MAX_DAYS
            )
        )
    return seconds


def address_arg(value: str, what: str = "address") -> str:
    """Validate an address given on the command line."""
    from famchain.chain.deployment import checked_address

    return checked_address(value, what)


def record_arg(value: str) -> Any:
    """A record id given on the command line (``0x`` + 64 hex digits)."""
    from famchain.types import RecordId

    return RecordId.from_hex(value)


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """Print ``data`` as JSON, or the human text."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif human is not None:
        typer.echo(human)


def info(message: str) -> None:
    """A progress line on stderr (kept off stdout so ``--json`` output stays parseable)."""
    typer.echo(message, err=True)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file the user named.

    Raises:
        InputError: unreadable, not JSON, or not an object.
    """
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(_("{path}: cannot read ({reason})").format(path=path, reason=exc.strerror)) from None
    except json.JSONDecodeError as exc:
        raise InputError(_("{path}: not JSON ({reason})").format(path=path, reason=exc.msg)) from None
    if not isinstance(data, dict):
        raise InputError(_("{path}: expected a JSON object").format(path=path))
    return data


def write_private(path: Path, text: str) -> None:
    """Write a file holding record data or signatures readable by the owner only (0600)."""
    from famchain._files import write_private as write

    write(path, text.encode())


_COMMON: list[tuple[str, Any, Any]] = [
    ("rpc_url", RpcUrl, DEFAULT_RPC),
    ("deployment", DeploymentFile, None),
    ("keystore", KeystoreOpt, None),
    ("keystore_dir", KeystoreDir, None),
    ("password_file", PasswordFile, None),
    ("yes", Yes, False),
]


def chain_command(app: typer.Typer, name: str | None = None, **options: Any) -> Callable[[F], F]:
    """Register ``fn(s: Session, ...)`` as a command that also takes the common chain options.

    The options (``--rpc-url``, ``--deployment``, ``--keystore``, ``--keystore-dir``, ``--password-file``,
    ``--yes``, each with its environment variable) are added to the command's signature and folded, with
    the environment, into the :class:`Settings` of the :class:`Session` passed as the first argument.
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
            common = {key: kwargs.pop(key) for key, _annotation, _default in _COMMON}
            config = settings(
                rpc_url=common["rpc_url"],
                deployment_file=common["deployment"],
                keystore=common["keystore"],
                keystore_dir=common["keystore_dir"],
                password_file=common["password_file"],
                yes=common["yes"],
            )
            return fn(Session(config), **kwargs)

        command.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + extra}
        app.command(name, **options)(command)
        return fn

    return register
