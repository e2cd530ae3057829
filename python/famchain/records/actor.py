"""One party acting on one deployment: the contracts, its key, a transaction sender, the content store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount

from famchain.chain.contracts import Famchain
from famchain.chain.history import History
from famchain.chain.tx import TransactionSender
from famchain.crypto.envelope import EnvelopeContext
from famchain.crypto.policy import CipherPolicy
from famchain.records.outbox import Outbox
from famchain.storage.api import ContentStore
from famchain.types import Address

if TYPE_CHECKING:
    from famchain.records.entitlements import Entitlements


@dataclass
class Actor:
    """Everything one party needs to act: the contracts, its key, a sender, the content store, its home.

    Attributes:
        home: the folder of this party's outboxes (one per deployment).
    """

    fc: Famchain
    account: LocalAccount
    sender: TransactionSender
    store: ContentStore
    home: Path
    entitlements_cache: dict[str, Entitlements] = field(default_factory=dict, repr=False)

    @property
    def address(self) -> Address:
        """The actor's account."""
        return Address(str(self.account.address))

    @property
    def private_key(self) -> bytes:
        """The actor's secp256k1 private key (signs and decrypts)."""
        return bytes(self.account.key)

    @cached_property
    def history(self) -> History:
        """Event reader for this deployment."""
        return History(self.fc)

    @cached_property
    def outbox(self) -> Outbox:
        """This actor's outbox for this deployment."""
        return Outbox.for_author(self.home, self.fc.chain_id, self.fc.records.address, self.address)

    @cached_property
    def policy(self) -> CipherPolicy | None:
        """The deployment's section cipher policy (None: AES-256-GCM everywhere).

        Raises:
            ConfigError: the deployment file's policy is malformed.
        """
        data = self.fc.deployment.cipher_policy
        return None if data is None else CipherPolicy.from_dict(data)

    def context(self, salt: bytes, patient: str, author: str | None = None) -> EnvelopeContext:
        """What a record of ``patient`` by ``author`` (this actor by default) is bound to on this deployment:
        the author's salt, patient, author, chain and RecordRegistry (the same fields the record id hashes)."""
        return EnvelopeContext(
            bytes(salt),
            Address(patient),
            Address(author or self.address),
            self.fc.chain_id,
            Address(self.fc.records.address),
        )
