"""Driving the ``famchain`` CLI in-process (typer's CliRunner) as one actor or another.

Each actor gets a light-KDF (test-only) keystore in one folder; every invocation points the common environment
variables at the devnet, the deployment file, that folder, the store and a private ``FAMCHAIN_HOME`` (the
outboxes), and sets the insecure test setting that lets the CLI open such keystores.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import typer.main
from click.testing import CliRunner, Result
from eth_account.signers.local import LocalAccount

from famchain import Client
from famchain.cli import app
from famchain.crypto.keystore import KdfParams, create_keystore

PASSWORD = "walkthrough password"
_COMMAND: list[click.Command] = []


VISIT = {
    "sections": {
        "present_illness": "Sore throat.",
        "diagnosis": [{"text": "Pharyngitis", "code": "J02.9"}],
        "prescriptions": [{"drug": "Lozenges", "days": 5}],
    }
}
"""A visit record file (the CLI's JSON) for the flows that amend it."""
AMENDED = {
    "sections": {
        "present_illness": "Sore throat.",
        "diagnosis": [{"text": "Streptococcal pharyngitis", "code": "J02.0"}],
        "examinations": [{"name": "Rapid strep test", "value": "positive"}],
    }
}
"""Its amendment: one section altered, one added, one removed, one unchanged."""


def command() -> click.Command:
    """The root click command, built from the typer app once (typer's runner rebuilds it on every call)."""
    if not _COMMAND:
        _COMMAND.append(typer.main.get_command(app))
    return _COMMAND[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_error_line(result: Result) -> str:
    """Assert the failure shape every command promises and return the message after ``error: ``."""
    assert result.exit_code not in (0, None), result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0].removeprefix("error: ")


@dataclass
class Cli:
    """The CLI pointed at one devnet and deployment file, with a keystore per actor."""

    rpc_url: str
    ipfs_url: str
    deployment: Path
    keystores: Path
    home: Path
    runner: CliRunner = field(default_factory=lambda: CliRunner(mix_stderr=False))
    _known: set[str] = field(default_factory=set)

    def key(self, who: Client | LocalAccount) -> str:
        """Ensure a keystore for ``who`` exists; returns its address."""
        account = who.account if isinstance(who, Client) else who
        assert account is not None
        if account.address not in self._known:
            create_keystore(PASSWORD, self.keystores, private_key=bytes(account.key), kdf=KdfParams.light())
            self._known.add(account.address)
        return str(account.address)

    def env(self, who: Client | LocalAccount | None = None, **extra: str | None) -> dict[str, str | None]:
        """The environment of one invocation (``extra`` overrides; None unsets)."""
        env: dict[str, str | None] = {
            "FAMCHAIN_RPC_URL": self.rpc_url,
            "FAMCHAIN_DEPLOYMENT": str(self.deployment),
            "FAMCHAIN_DEPLOYMENTS_DIR": str(self.deployment.parent),
            "FAMCHAIN_KEYSTORE_DIR": str(self.keystores),
            "FAMCHAIN_KEYSTORE": self.key(who) if who is not None else None,
            "FAMCHAIN_PASSWORD": PASSWORD,
            "FAMCHAIN_PASSWORD_FILE": None,
            "FAMCHAIN_IPFS_BACKEND": "kubo",
            "FAMCHAIN_IPFS_API": self.ipfs_url,
            "FAMCHAIN_HOME": str(self.home),
            "FAMCHAIN_DEBUG": None,
            "FAMCHAIN_INSECURE_TEST_KEYSTORES": "1",
        }
        env.update(extra)
        return env

    def invoke(self, who: Client | LocalAccount | None, *args: str, **env: str | None) -> Result:
        """Run ``famchain ARGS`` as ``who``; returns the result whatever the exit code."""
        return self.runner.invoke(command(), list(args), env=self.env(who, **env))

    def ok(self, who: Client | LocalAccount | None, *args: str, **env: str | None) -> Result:
        """Run and require success."""
        result = self.invoke(who, *args, **env)
        assert result.exit_code == 0, f"famchain {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result

    def tx(self, who: Client | LocalAccount | None, *args: str, **env: str | None) -> Result:
        """Run a transaction command with ``--yes`` and require success."""
        return self.ok(who, *args, "--yes", **env)

    def json(self, who: Client | LocalAccount | None, *args: str, **env: str | None) -> Any:
        """Run with ``--json`` and decode stdout."""
        return json.loads(self.ok(who, *args, "--json", **env).stdout)

    def fail(self, who: Client | LocalAccount | None, *args: str, **env: str | None) -> str:
        """Run, require the one-line failure, and return the message."""
        return one_error_line(self.invoke(who, *args, **env))
