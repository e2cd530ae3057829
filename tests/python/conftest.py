"""Fixtures shared by every suite: one real devnet (anvil + the embedded store process) per test worker, and
one world-building fixture, ``world``, that deploys a fresh consortium through the client for each test.

Roles (each a :class:`famchain.Client`): ``consortium``, ``hospital``, ``insurer_admin``, ``research``
(institution admins), ``family_doctor`` (in an agreement with ``patient``), ``specialist``, ``insurer``,
``stranger`` (practitioners), ``patient`` and ``outsider`` (funded, no role).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from _world import ANVIL, World, build_world
from famchain import i18n
from famchain.chain.rpc import connect
from famchain.devnet import Devnet, DevnetInfo, dev_account
from famchain.storage.kubo import KuboStore


@pytest.fixture
def chinese() -> Iterator[None]:
    """Simplified Chinese for the test, as `famchain.cli.main` sets it from ``FAMCHAIN_LANG=zh_CN`` (CliRunner
    calls the command, not ``main``); the language before it afterwards."""
    before = i18n.language()
    i18n.use_language("zh_CN")
    try:
        yield
    finally:
        i18n.use_language(before)


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetInfo]:
    """anvil and the store gateway on free loopback ports, for this test worker."""
    net = Devnet(tmp_path_factory.mktemp("devnet"), anvil=ANVIL)
    info = net.up()
    yield info
    net.down()


@pytest.fixture(scope="session")
def w3(devnet: DevnetInfo) -> Web3:
    """Connection to the devnet."""
    return connect(devnet.rpc_url)


@pytest.fixture
def world(w3: Web3, devnet: DevnetInfo, tmp_path: Path) -> World:
    """A fresh deployment: founders, practitioners, a registered patient with an active family doctor."""
    return build_world(w3, dev_account(), KuboStore(devnet.ipfs_url), tmp_path / "home")
