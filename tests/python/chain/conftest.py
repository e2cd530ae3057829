"""Fixtures of the chain suites that drive the command line: the CLI on the test's world, light keystores."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli_support import Cli

from _world import World
from famchain.devnet import DevnetInfo


@pytest.fixture
def light_keystores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keystores with a light KDF, written and accepted by the CLI only under this variable (refused without)."""
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")


@pytest.fixture
def cli(world: World, devnet: DevnetInfo, tmp_path: Path, light_keystores: None) -> Cli:
    """The CLI on this test's world: its deployment file saved, a keystore folder, the world's home."""
    path = tmp_path / "deployments" / "world.json"
    world.deployment.save(path)
    return Cli(devnet.rpc_url, devnet.ipfs_url, path, tmp_path / "keystores", world.home)
