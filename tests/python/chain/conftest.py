"""A real devnet (anvil + the embedded store process) per test worker, and a fresh deployment per test.

Roles, each an :class:`~famchain.records.pipeline.Actor` with its own funded key:
``consortium`` (admin of a primary-care founder), ``family_doctor`` (its practitioner, in an agreement with
``patient``), ``specialist`` (hospital practitioner), ``insurer`` (insurer practitioner), ``stranger``
(a research practitioner with no consent) and ``outsider`` (a funded account with no role at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _chain_support import PROFILE, World
from eth_account import Account
from web3 import Web3

from famchain.chain.client import connect
from famchain.chain.contracts import Famchain, InstitutionKind
from famchain.chain.deploy import deploy
from famchain.chain.tx import TransactionSender
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import DEV_FUNDER_KEY, Devnet, DevnetInfo
from famchain.records import pipeline
from famchain.records.pipeline import Actor
from famchain.records.sections import ALL_SECTIONS, Action
from famchain.storage.kubo import KuboStore


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetInfo]:
    """anvil and the store gateway on free loopback ports, for this test worker."""
    net = Devnet(tmp_path_factory.mktemp("devnet"))
    info = net.up()
    yield info
    net.down()


@pytest.fixture(scope="session")
def w3(devnet: DevnetInfo) -> Web3:
    """Connection to the devnet."""
    return connect(devnet.rpc_url)


@pytest.fixture(scope="session")
def funder(w3: Web3) -> TransactionSender:
    """anvil's funded dev account."""
    return TransactionSender(w3, Account.from_key(DEV_FUNDER_KEY))


@pytest.fixture
def world(w3: Web3, funder: TransactionSender, devnet: DevnetInfo, tmp_path: Path) -> World:
    """A fresh deployment: founders, practitioners, a registered patient with an active family doctor."""
    keys = {
        name: Account.create()
        for name in (
            "pc",
            "hospital",
            "insurer_admin",
            "research",
            "doctor",
            "specialist",
            "insurer",
            "stranger",
            "patient",
            "outsider",
        )
    }
    for account in keys.values():
        funder.send_value(account.address, 10**20)
    founders = [
        (keys["pc"].address, InstitutionKind.PRIMARY_CARE),
        (keys["hospital"].address, InstitutionKind.HOSPITAL),
        (keys["insurer_admin"].address, InstitutionKind.INSURER),
        (keys["research"].address, InstitutionKind.RESEARCH),
    ]
    deployment = deploy(w3, funder, founders)
    fc = Famchain(w3, deployment)
    store = KuboStore(devnet.ipfs_url)
    home = tmp_path / "home"
    actors = {n: Actor(fc, a, TransactionSender(w3, a), store, home) for n, a in keys.items()}
    for institution, person in (
        ("pc", "doctor"),
        ("hospital", "specialist"),
        ("insurer_admin", "insurer"),
        ("research", "stranger"),
    ):
        actors[institution].sender.transact(
            fc.consortium.functions.registerPractitioner(
                actors[person].address, public_key_from_private(actors[person].private_key)
            )
        )
    patient, doctor = actors["patient"], actors["doctor"]
    digest, _ = pipeline.seal_profile(patient, PROFILE)
    patient.sender.transact(
        fc.residents.functions.register(public_key_from_private(patient.private_key), digest)
    )
    term = 365 * 86400
    both = Action.READ | Action.APPEND
    doctor.sender.transact(fc.residents.functions.proposeAgreement(patient.address, ALL_SECTIONS, both, term))
    patient.sender.transact(fc.residents.functions.acceptAgreement(doctor.address, ALL_SECTIONS, both, term))
    pipeline.release_existing(patient, doctor.address, ALL_SECTIONS)
    return World(
        fc,
        deployment,
        actors["pc"],
        actors["hospital"],
        actors["insurer_admin"],
        actors["research"],
        doctor,
        actors["specialist"],
        actors["insurer"],
        actors["stranger"],
        patient,
        actors["outsider"],
        home,
        store,
    )
