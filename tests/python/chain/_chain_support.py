"""Shared test support for the chain tests (imported by conftest and the test modules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from famchain.chain.contracts import Famchain
from famchain.chain.deployment import Deployment
from famchain.chain.tx import TransactionSender
from famchain.records.pipeline import Actor
from famchain.storage.kubo import KuboStore

PROFILE = {"name": "Li Lei", "birth_date": "1970-02-03", "national_id": "110101197002030011"}


@dataclass
class World:
    """A deployed consortium with every role."""

    fc: Famchain
    deployment: Deployment
    consortium: Actor
    hospital: Actor
    insurer_admin: Actor
    research: Actor
    family_doctor: Actor
    specialist: Actor
    insurer: Actor
    stranger: Actor
    patient: Actor
    outsider: Actor
    home: Path
    store: KuboStore

    def actor(self, key: bytes | None = None) -> Actor:
        """A new actor (fresh key unless given), not funded."""
        account = Account.from_key(key) if key else Account.create()
        return Actor(self.fc, account, TransactionSender(self.fc.w3, account), self.store, self.home)
