"""The famchain client: one object per deployment and account, with a service per domain.

Example::

    from famchain import Client, Deployment

    client = Client("http://127.0.0.1:8545", Deployment.load(path), account, store=store, home=home)
    client.records.submit(patient, content)

Like web3.py's ``w3.eth``, each domain is an attribute: :attr:`Client.consortium`, :attr:`Client.residents`,
:attr:`Client.agreements`, :attr:`Client.consents`, :attr:`Client.records`, :attr:`Client.guardians`,
:attr:`Client.emergency`, :attr:`Client.audit`. Every
argument is explicit: the library reads no environment variable and no current directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from famchain.chain.contracts import Famchain
from famchain.chain.deploy import (
    DEFAULT_INPATIENT_RETENTION,
    DEFAULT_OUTPATIENT_RETENTION,
    DEFAULT_VOTING_PERIOD,
    deploy,
)
from famchain.chain.deployment import Deployment
from famchain.chain.history import History
from famchain.chain.rpc import connect
from famchain.chain.structs import InstitutionKind
from famchain.chain.tx import TransactionSender
from famchain.errors import ConfigError, NoAccountError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.services import (
    AgreementService,
    AuditService,
    ConsentService,
    ConsortiumService,
    EmergencyService,
    GuardianService,
    RecordService,
    RelayService,
    ResidentService,
    TxInfo,
)
from famchain.storage.api import ContentStore
from famchain.types import Address


class Client:
    """famchain on one deployment, as one account (or none, for public reads).

    Args:
        w3: a web3 connection, or the JSON-RPC URL to open one.
        deployment: where the five contracts live (:meth:`Deployment.load`).
        account: who signs and decrypts; None for reads that need no key (cards, audit, consents in force).
        store: the content store holding sealed records (needed to submit or read records).
        home: the folder of this account's outboxes (needed to submit or update records).
        receipt_timeout: seconds to wait for a receipt before rebroadcasting.
        fee_cache_seconds: reuse a base-fee lookup this long (for bursts of transactions).
        poll_interval: seconds between receipt polls.
        check_code: check at once that every contract address holds code.

    Raises:
        RpcUnavailableError: the endpoint does not answer.
        ConfigError: the endpoint is another chain, or the deployment's contracts are gone.
    """

    def __init__(
        self,
        w3: Web3 | str,
        deployment: Deployment,
        account: LocalAccount | None = None,
        *,
        store: ContentStore | None = None,
        home: Path | None = None,
        receipt_timeout: float = 60.0,
        fee_cache_seconds: float = 0.0,
        poll_interval: float = 0.01,
        check_code: bool = True,
        _chain: Famchain | None = None,
    ) -> None:
        self.w3 = connect(w3) if isinstance(w3, str) else w3
        self.chain = _chain or Famchain(self.w3, deployment, check_code=check_code)
        self.deployment = deployment
        self.account = account
        self.store = store
        self.home = home
        self._sender_options = {
            "receipt_timeout": receipt_timeout,
            "fee_cache_seconds": fee_cache_seconds,
            "poll_interval": poll_interval,
        }
        self.consortium = ConsortiumService(self)
        """Membership votes and practitioners."""
        self.residents = ResidentService(self)
        """Registration and basic information."""
        self.agreements = AgreementService(self)
        """Family-doctor agreements."""
        self.consents = ConsentService(self)
        """Consents and access requests."""
        self.records = RecordService(self)
        """Visit records and the outbox."""
        self.guardians = GuardianService(self)
        """Guardians who act for residents."""
        self.emergency = EmergencyService(self)
        """Emergency access (chain access)."""
        self.audit = AuditService(self)
        """Patients' audit trails."""
        self.relay = RelayService(self)
        """Actions residents sign in their own wallets, relayed (the portal)."""

    @classmethod
    def deploy(
        cls,
        w3: Web3 | str,
        payer: LocalAccount,
        founders: Sequence[tuple[str, InstitutionKind]],
        *,
        threshold_bps: int = 0,
        voting_period: int = DEFAULT_VOTING_PERIOD,
        outpatient_retention: int = DEFAULT_OUTPATIENT_RETENTION,
        inpatient_retention: int = DEFAULT_INPATIENT_RETENTION,
        cipher_policy: dict[str, Any] | None = None,
        store: ContentStore | None = None,
        home: Path | None = None,
    ) -> Client:
        """Deploy the five contracts with their founding members; returns a client of ``payer`` on them.

        Raises:
            InputError: fewer than two founders, or one listed twice.
            ContractRevertError: a constructor refused its arguments.
        """
        w3 = connect(w3) if isinstance(w3, str) else w3
        deployment = deploy(
            w3,
            TransactionSender(w3, payer),
            founders,
            threshold_bps=threshold_bps,
            voting_period=voting_period,
            outpatient_retention=outpatient_retention,
            inpatient_retention=inpatient_retention,
            cipher_policy=cipher_policy,
        )
        return cls(w3, deployment, payer, store=store, home=home)

    def with_account(self, account: LocalAccount | None, **options: float) -> Client:
        """The same deployment, connection, store and home, as another account."""
        settings = {**self._sender_options, **options}
        return Client(
            self.w3,
            self.deployment,
            account,
            store=self.store,
            home=self.home,
            _chain=self.chain,
            receipt_timeout=settings["receipt_timeout"],
            fee_cache_seconds=settings["fee_cache_seconds"],
            poll_interval=settings["poll_interval"],
        )

    # --- who and where ---

    @property
    def address(self) -> Address:
        """The client's account.

        Raises:
            NoAccountError: built without an account.
        """
        if self.account is None:
            raise NoAccountError(_("this operation"))
        return Address(str(self.account.address))

    @property
    def chain_id(self) -> int:
        """The chain the deployment is on."""
        return self.chain.chain_id

    def now(self) -> int:
        """Timestamp of the latest block: the contracts' notion of now."""
        return self.chain.latest_timestamp()

    @cached_property
    def history(self) -> History:
        """The deployment's event reader."""
        return History(self.chain)

    @cached_property
    def sender(self) -> TransactionSender:
        """Signs and sends this account's transactions.

        Raises:
            NoAccountError: built without an account.
        """
        if self.account is None:
            raise NoAccountError(_("sending a transaction"))
        return TransactionSender(
            self.w3,
            self.account,
            receipt_timeout=self._sender_options["receipt_timeout"],
            fee_cache_seconds=self._sender_options["fee_cache_seconds"],
            poll_interval=self._sender_options["poll_interval"],
        )

    @cached_property
    def actor(self) -> Actor:
        """The account as a party to records: key, sender, store and outbox home.

        Raises:
            NoAccountError: built without an account.
            ConfigError: no content store or no home folder was given.
        """
        if self.account is None:
            raise NoAccountError(_("sealing, reading or sharing records"))
        if self.store is None:
            raise ConfigError(_("this operation needs a content store: build the client with store=..."))
        if self.home is None:
            raise ConfigError(
                _("this operation needs a home folder for the outbox: build the client with home=...")
            )
        history = self.history
        actor = Actor(self.chain, self.account, self.sender, self.store, self.home)
        actor.__dict__["history"] = history  # share the event reader (its decoders are built once)
        return actor

    def account_key(self) -> bytes:
        """The account's private key (signing offline).

        Raises:
            NoAccountError: built without an account.
        """
        if self.account is None:
            raise NoAccountError(_("signing"))
        return bytes(self.account.key)

    def transfer(self, to: str, wei: int) -> TxInfo:
        """Send ``wei`` of the chain's currency to ``to`` (funding an account on a devnet)."""
        return TxInfo.from_receipt(self.sender.send_value(to, wei))

    def __repr__(self) -> str:
        who = self.account.address if self.account is not None else "no account"
        return f"Client(chain {self.chain_id}, {who})"
