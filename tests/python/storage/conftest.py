"""Fixtures for the storage tests: fresh stores in temporary directories and served gateways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayServer


@pytest.fixture(autouse=True)
def _no_ambient_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch ~/.famchain or a configured node from a test."""
    monkeypatch.setenv("FAMCHAIN_IPFS_DIR", str(tmp_path / "ambient-store"))
    monkeypatch.delenv("FAMCHAIN_IPFS_BACKEND", raising=False)
    monkeypatch.delenv("FAMCHAIN_IPFS_API", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "store")


@pytest.fixture
def other_store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "other-store")


@pytest.fixture
def served(store: EmbeddedStore) -> Iterator[GatewayServer]:
    """``store`` served on a free loopback port."""
    with GatewayServer(store, host="127.0.0.1", port=0) as server:
        yield server
