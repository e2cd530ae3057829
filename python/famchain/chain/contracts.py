"""Typed views over the four deployed contracts.

:class:`Famchain` binds a web3 connection to one :class:`~famchain.chain.deployment.Deployment`; its methods
return small dataclasses instead of raw tuples. Transactions go through a
:class:`~famchain.chain.tx.TransactionSender` held by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from web3 import Web3
from web3.contract import Contract

from famchain.chain import artifacts
from famchain.chain.deployment import Deployment
from famchain.errors import ConfigError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_HEAD = b"\x00" * 24


class InstitutionKind(IntEnum):
    """Kind of a consortium member (``IConsortium.InstitutionKind``)."""

    NONE = 0
    PRIMARY_CARE = 1
    HOSPITAL = 2
    INSURER = 3
    RESEARCH = 4
    REGULATOR = 5


class MemberStatus(IntEnum):
    """Membership state (``IConsortium.MemberStatus``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class ProposalAction(IntEnum):
    """What a membership proposal does (``IConsortium.ProposalAction``)."""

    ADMIT = 0
    SUSPEND = 1
    REINSTATE = 2
    REMOVE = 3
    SET_THRESHOLD = 4


@dataclass(frozen=True)
class Practitioner:
    """A practitioner's institution and standing."""

    address: str
    institution: str
    kind: InstitutionKind
    active: bool


@dataclass(frozen=True)
class FamilyDoctor:
    """The active family-doctor agreement of a resident."""

    doctor: str
    sections: int
    actions: int
    ends_at: int


@dataclass(frozen=True)
class Grant:
    """A consent as stored: zero ``expires_at`` means none."""

    sections: int
    actions: int
    purpose: int
    expires_at: int

    def active_at(self, timestamp: int) -> bool:
        """True when the grant exists and has not expired at ``timestamp``."""
        return self.expires_at > timestamp and self.sections != 0


@dataclass(frozen=True)
class Card:
    """Head of a patient's visit card: the running hash and the number of records."""

    head: bytes
    length: int


class Famchain:
    """The deployed contracts on one chain.

    Args:
        w3: connection.
        deployment: addresses; its chain id must match the node's.

    Raises:
        ConfigError: the node is on another chain, or a contract address holds no code.
    """

    def __init__(self, w3: Web3, deployment: Deployment, *, check_code: bool = True) -> None:
        chain_id = w3.eth.chain_id
        if chain_id != deployment.chain_id:
            raise ConfigError(
                f"the RPC endpoint is chain {chain_id} but the deployment is for chain {deployment.chain_id}"
            )
        self.w3 = w3
        self.deployment = deployment
        self.chain_id = chain_id
        self.consortium = self._bind("Consortium", check_code)
        self.residents = self._bind("ResidentRegistry", check_code)
        self.consents = self._bind("ConsentRegistry", check_code)
        self.records = self._bind("RecordRegistry", check_code)
        self._keys: dict[str, bytes] = {}

    def _bind(self, name: str, check_code: bool) -> Contract:
        address = self.deployment.address(name)
        if check_code and not self.w3.eth.get_code(address):  # type: ignore[arg-type]
            raise ConfigError(
                f"no {name} contract at {address} on chain {self.chain_id}: is the deployment stale?"
            )
        return self.w3.eth.contract(address=address, abi=artifacts.load(name).abi)  # type: ignore[call-overload, no-any-return]

    # --- consortium -------------------------------------------------------------------------------------

    def member(self, institution: str) -> tuple[InstitutionKind, MemberStatus]:
        """Kind and status of an institution (by its admin address)."""
        kind, status = self.consortium.functions.member(institution).call()
        return InstitutionKind(kind), MemberStatus(status)

    def practitioner(self, account: str) -> Practitioner:
        """Institution, kind and standing of a practitioner (inactive and zero institution when unknown)."""
        institution, kind, active = self.consortium.functions.practitioner(account).call()
        return Practitioner(account, institution, InstitutionKind(kind), bool(active))

    # --- residents and agreements -------------------------------------------------------------------------

    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return bool(self.residents.functions.isRegistered(resident).call())

    def encryption_key(self, account: str) -> bytes | None:
        """Registered encryption public key of a resident or practitioner (64 bytes), or None.

        Found keys are cached: the contracts accept only the key whose keccak is the account's address, so
        an account's key can never change.
        """
        if account in self._keys:
            return self._keys[account]
        key = bytes(self.residents.functions.encryptionKeyOf(account).call())
        if not key:
            key = bytes(self.consortium.functions.encryptionKeyOf(account).call())
        if key:
            self._keys[account] = key
        return key or None

    def profile_digest(self, resident: str) -> bytes:
        """Digest of the resident's sealed profile (zero when unregistered)."""
        return bytes(self.residents.functions.profileOf(resident).call())

    def family_doctor(self, resident: str) -> FamilyDoctor | None:
        """The active family-doctor agreement, or None."""
        doctor, sections, actions, ends_at = self.residents.functions.activeFamilyDoctor(resident).call()
        if doctor == ZERO_ADDRESS:
            return None
        return FamilyDoctor(doctor, sections, actions, ends_at)

    # --- consent ------------------------------------------------------------------------------------------

    def grant(self, patient: str, grantee: str) -> Grant:
        """The stored consent from ``patient`` to ``grantee`` (all zero when none)."""
        sections, actions, purpose, expires_at = self.consents.functions.grantOf(patient, grantee).call()
        return Grant(sections, actions, purpose, expires_at)

    def is_authorized(self, patient: str, accessor: str, sections: int, action: int) -> bool:
        """The contract's own answer: may ``accessor`` do ``action`` on ``sections`` of ``patient``?"""
        return bool(
            self.consents.functions.isAuthorized(patient, accessor, int(sections), int(action)).call()
        )

    # --- records ------------------------------------------------------------------------------------------

    def card(self, patient: str, block: Any = "latest") -> Card:
        """Head hash and length of the patient's visit card."""
        head, length = self.records.functions.card(patient).call(block_identifier=block)
        return Card(bytes(head), int(length))

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block (the contracts' notion of now)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])
