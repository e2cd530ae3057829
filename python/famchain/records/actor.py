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
from famchain.records.outbox import Outbox
from famchain.storage.api import ContentStore
from famchain.types import Address, RecordId

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

    def context(self, record_id: RecordId, patient: str) -> EnvelopeContext:
        """What a record of ``patient`` is bound to on this deployment."""
        return EnvelopeContext(
            record_id, Address(patient), self.fc.chain_id, Address(self.fc.records.address)
        )
