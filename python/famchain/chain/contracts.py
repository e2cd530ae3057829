"""Typed views over the four deployed contracts: the one place that touches contract functions.

:class:`Famchain` binds a web3 connection to one :class:`~famchain.chain.deployment.Deployment`. Each
contract has a wrapper (``fc.consortium``, ``fc.residents``, ``fc.consents``, ``fc.records``) whose read
methods return the dataclasses of :mod:`famchain.chain.structs`, decoded by the ABI's own names (never by
position), and whose write methods return a :data:`~famchain.chain.tx.Call` that a
:class:`~famchain.chain.tx.TransactionSender` signs and sends. Adapting famchain to a new contract ABI means
changing this module (and the structs), nothing above it.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from enum import IntEnum
from typing import Any, TypeVar

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from famchain.chain import artifacts
from famchain.chain.deployment import Deployment
from famchain.chain.structs import (
    ZERO_ADDRESS,
    Agreement,
    Anchor,
    Card,
    FamilyDoctor,
    Grant,
    InstitutionKind,
    Member,
    PendingAgreement,
    Practitioner,
    Proposal,
    ProposalAction,
    Request,
)
from famchain.errors import ConfigError
from famchain.types import RecordId

T = TypeVar("T")

__all__ = [
    "ConsentContract",
    "ConsortiumContract",
    "Famchain",
    "RecordContract",
    "ResidentContract",
]


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(value: Any, hint: Any) -> Any:
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return hint(int(value))
    if hint is RecordId:
        return RecordId(bytes(value))
    if hint is bytes:
        return bytes(value)
    if hint is bool:
        return bool(value)
    if hint is int:
        return int(value)
    return value


def _outputs(fn: ContractFunction) -> list[str]:
    """Names of a view's outputs: the struct's components for one struct output, else the named returns."""
    outs = fn.abi["outputs"]
    if len(outs) == 1 and outs[0]["type"] == "tuple":
        return [c["name"] for c in outs[0]["components"]]
    return [o["name"] for o in outs]


def _decode(cls: type[T], fn: ContractFunction, value: Any) -> T:
    """Build ``cls`` from a view's answer, matching the ABI's names to the dataclass's fields."""
    names = _outputs(fn)
    values = value if isinstance(value, list | tuple) else (value,)
    if len(values) != len(names):
        raise ConfigError(f"{fn.fn_name} answered {len(values)} values for {len(names)} named outputs")
    hints = _hints(cls)
    by_name = dict(zip(names, values, strict=True))
    return cls(**{name: _convert(by_name[name], hints[name]) for name in hints})


def _view(fn: ContractFunction, cls: type[T], block: Any = "latest") -> T:
    return _decode(cls, fn, fn.call(block_identifier=block))


class _Bound:
    """One deployed contract: its address and the web3 contract object (private to this module)."""

    def __init__(self, w3: Web3, name: str, address: str) -> None:
        self.name = name
        self.address = address
        self._c: Contract = w3.eth.contract(address=address, abi=artifacts.load(name).abi)  # type: ignore[call-overload]

    def calldata(self, call: ContractFunction) -> bytes:
        """The ABI-encoded input of a call to this contract (bulk setup, gas arithmetic)."""
        return bytes.fromhex(self._c.encode_abi(call.fn_name, args=list(call.args))[2:])

    def nonces(self, owner: str) -> int:
        """The owner's next EIP-712 nonce (``Nonces.nonces``), for contracts that take signatures."""
        return int(self._c.functions.nonces(owner).call())

    def _events(self, receipt: TxReceipt, event: str) -> list[dict[str, Any]]:
        logs = self._c.events[event]().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]


class ConsortiumContract(_Bound):
    """``Consortium``: member institutions by vote, and the practitioners each registers."""

    # --- reads ---
    def member(self, institution: str) -> Member:
        """Kind and status of an institution (by its admin address)."""
        return _view(self._c.functions.member(institution), Member)

    def practitioner(self, account: str) -> Practitioner:
        """Institution, kind and standing of a practitioner (inactive and zero institution when unknown)."""
        return _view(self._c.functions.practitioner(account), Practitioner)

    def is_active_member(self, account: str) -> bool:
        """True for an active member institution."""
        return bool(self._c.functions.isActiveMember(account).call())

    def active_member_count(self) -> int:
        """Number of active members."""
        return int(self._c.functions.activeMemberCount().call())

    def threshold_bps(self) -> int:
        """Share of active members whose votes carry a proposal, in basis points."""
        return int(self._c.functions.thresholdBps().call())

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal and its tally."""
        return _view(self._c.functions.proposal(proposal_id), Proposal)

    def encryption_key_of(self, practitioner: str) -> bytes:
        """A practitioner's registered encryption key (empty when none)."""
        return bytes(self._c.functions.encryptionKeyOf(practitioner).call())

    # --- writes ---
    def propose(
        self, action: ProposalAction, institution: str, kind: InstitutionKind, new_threshold_bps: int
    ) -> ContractFunction:
        """``propose``: a membership change; the proposer's vote counts."""
        return self._c.functions.propose(int(action), institution, int(kind), new_threshold_bps)

    def vote(self, proposal_id: int) -> ContractFunction:
        """``vote`` for a proposal."""
        return self._c.functions.vote(proposal_id)

    def register_practitioner(self, practitioner: str, encryption_key: bytes) -> ContractFunction:
        """``registerPractitioner`` (caller: the institution's admin key)."""
        return self._c.functions.registerPractitioner(practitioner, encryption_key)

    def deactivate_practitioner(self, practitioner: str) -> ContractFunction:
        """``deactivatePractitioner`` (caller: the practitioner's institution)."""
        return self._c.functions.deactivatePractitioner(practitioner)

    # --- receipts ---
    def created_proposal(self, receipt: TxReceipt) -> int:
        """The id of the proposal a ``propose`` transaction created.

        Raises:
            ConfigError: the receipt carries no ``ProposalCreated`` event.
        """
        created = self._events(receipt, "ProposalCreated")
        if not created:
            raise ConfigError("the propose transaction emitted no ProposalCreated event")
        return int(created[0]["proposalId"])

    def executed(self, receipt: TxReceipt) -> bool:
        """True when the transaction carried a proposal (``ProposalExecuted``)."""
        return bool(self._events(receipt, "ProposalExecuted"))


class ResidentContract(_Bound):
    """``ResidentRegistry``: residents and family-doctor agreements."""

    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return bool(self._c.functions.isRegistered(resident).call())

    def encryption_key_of(self, resident: str) -> bytes:
        """A resident's registered encryption key (empty when none)."""
        return bytes(self._c.functions.encryptionKeyOf(resident).call())

    def profile_of(self, resident: str) -> bytes:
        """Digest of the resident's sealed profile (zero when unregistered)."""
        return bytes(self._c.functions.profileOf(resident).call())

    def active_family_doctor(self, resident: str) -> FamilyDoctor | None:
        """The agreement in force, or None."""
        doctor = _view(self._c.functions.activeFamilyDoctor(resident), FamilyDoctor)
        return None if doctor.doctor == ZERO_ADDRESS else doctor

    def agreement(self, resident: str) -> Agreement:
        """The stored agreement, in force or not."""
        return _view(self._c.functions.agreement(resident), Agreement)

    def pending_agreement(self, resident: str) -> PendingAgreement | None:
        """The proposal waiting for acceptance, or None."""
        pending = _view(self._c.functions.pendingAgreement(resident), PendingAgreement)
        return None if pending.proposer == ZERO_ADDRESS else pending

    def register(self, encryption_key: bytes, profile: bytes) -> ContractFunction:
        """``register`` (caller: the resident)."""
        return self._c.functions.register(encryption_key, profile)

    def register_with_sig(
        self,
        resident: str,
        encryption_key: bytes,
        profile: bytes,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``registerWithSig``: anyone relays the resident's ``Registration`` signature."""
        return self._c.functions.registerWithSig(
            resident, encryption_key, profile, nonce, deadline, signature
        )

    def update_profile(self, profile: bytes) -> ContractFunction:
        """``updateProfile`` (caller: the resident)."""
        return self._c.functions.updateProfile(profile)

    def propose_agreement(
        self, counterparty: str, sections: int, actions: int, term: int
    ) -> ContractFunction:
        """``proposeAgreement`` (either side)."""
        return self._c.functions.proposeAgreement(counterparty, int(sections), int(actions), term)

    def accept_agreement(self, counterparty: str, sections: int, actions: int, term: int) -> ContractFunction:
        """``acceptAgreement`` with the proposed terms (the other side)."""
        return self._c.functions.acceptAgreement(counterparty, int(sections), int(actions), term)

    def accept_agreement_with_sig(
        self,
        resident: str,
        sections: int,
        actions: int,
        term: int,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``acceptAgreementWithSig`` (caller: the doctor, with the resident's ``Agreement`` signature)."""
        return self._c.functions.acceptAgreementWithSig(
            resident, int(sections), int(actions), term, nonce, deadline, signature
        )

    def renew_agreement(self, term: int) -> ContractFunction:
        """``renewAgreement`` (caller: the resident)."""
        return self._c.functions.renewAgreement(term)

    def terminate_agreement(self, resident: str) -> ContractFunction:
        """``terminateAgreement`` (either side)."""
        return self._c.functions.terminateAgreement(resident)


class ConsentContract(_Bound):
    """``ConsentRegistry``: grants, revocations and access requests."""

    def grant_of(self, patient: str, grantee: str) -> Grant:
        """The stored consent (all zero when none)."""
        return _view(self._c.functions.grantOf(patient, grantee), Grant)

    def request_of(self, patient: str, grantee: str) -> Request:
        """The grantee's open request (all zero when none)."""
        return _view(self._c.functions.requestOf(patient, grantee), Request)

    def is_authorized(self, patient: str, accessor: str, sections: int, action: int) -> bool:
        """The contract's own answer: may ``accessor`` do ``action`` on ``sections`` of ``patient``?"""
        return bool(self.is_authorized_call(patient, accessor, sections, action).call())

    def is_authorized_call(self, patient: str, accessor: str, sections: int, action: int) -> ContractFunction:
        """The ``isAuthorized`` view as a call (to measure its gas)."""
        return self._c.functions.isAuthorized(patient, accessor, int(sections), int(action))

    def grant(
        self, grantee: str, sections: int, actions: int, purpose: int, expires_at: int
    ) -> ContractFunction:
        """``grant`` (caller: the patient)."""
        return self._c.functions.grant(grantee, int(sections), int(actions), int(purpose), expires_at)

    def grant_with_sig(
        self,
        patient: str,
        grantee: str,
        sections: int,
        actions: int,
        purpose: int,
        expires_at: int,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``grantWithSig``: anyone relays the patient's ``Consent`` signature."""
        return self._c.functions.grantWithSig(
            patient,
            grantee,
            int(sections),
            int(actions),
            int(purpose),
            expires_at,
            nonce,
            deadline,
            signature,
        )

    def revoke(self, grantee: str) -> ContractFunction:
        """``revoke`` (caller: the patient)."""
        return self._c.functions.revoke(grantee)

    def request_access(self, patient: str, sections: int, actions: int, purpose: int) -> ContractFunction:
        """``requestAccess`` (caller: a practitioner)."""
        return self._c.functions.requestAccess(patient, int(sections), int(actions), int(purpose))

    def withdraw_request(self, patient: str) -> ContractFunction:
        """``withdrawRequest`` (caller: the requester)."""
        return self._c.functions.withdrawRequest(patient)


class RecordContract(_Bound):
    """``RecordRegistry``: visit cards, updates and key releases."""

    def card(self, patient: str, block: Any = "latest") -> Card:
        """Head hash and length of the patient's visit card."""
        return _view(self._c.functions.card(patient), Card, block)

    def anchor(self, patient: str, expected_head: bytes, anchor: Anchor) -> ContractFunction:
        """``anchor`` one new record on the card whose head is ``expected_head``."""
        return self._c.functions.anchor(patient, expected_head, anchor.to_abi())

    def anchor_batch(self, patient: str, expected_head: bytes, anchors: Sequence[Anchor]) -> ContractFunction:
        """``anchorBatch``: several new records of one patient in one transaction."""
        return self._c.functions.anchorBatch(patient, expected_head, [a.to_abi() for a in anchors])

    def anchor_update(
        self, patient: str, expected_head: bytes, anchor: Anchor, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``anchorUpdate`` with the patient's ``RecordUpdate`` signature."""
        return self._c.functions.anchorUpdate(
            patient, expected_head, anchor.to_abi(), nonce, deadline, signature
        )

    def release_keys(
        self, grantee: str, bundle_digest: bytes, bundle_codec: int, sections: int
    ) -> ContractFunction:
        """``releaseKeys`` (caller: the patient)."""
        return self._c.functions.releaseKeys(grantee, bundle_digest, bundle_codec, int(sections))

    def release_keys_with_sig(
        self,
        patient: str,
        grantee: str,
        bundle_digest: bytes,
        bundle_codec: int,
        sections: int,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``releaseKeysWithSig``: anyone relays the patient's ``KeyRelease`` signature."""
        return self._c.functions.releaseKeysWithSig(
            patient, grantee, bundle_digest, bundle_codec, int(sections), nonce, deadline, signature
        )


class Famchain:
    """The deployed contracts on one chain.

    Args:
        w3: connection.
        deployment: addresses; its chain id must match the node's.
        check_code: fail here when a contract address holds no code.

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
        if check_code:
            for name in artifacts.DEPLOYABLE:
                address = deployment.address(name)
                if not w3.eth.get_code(address):  # type: ignore[arg-type]
                    raise ConfigError(
                        f"no {name} contract at {address} on chain {chain_id}: is the deployment stale?"
                    )
        self.consortium = ConsortiumContract(w3, "Consortium", deployment.address("Consortium"))
        self.residents = ResidentContract(w3, "ResidentRegistry", deployment.address("ResidentRegistry"))
        self.consents = ConsentContract(w3, "ConsentRegistry", deployment.address("ConsentRegistry"))
        self.records = RecordContract(w3, "RecordRegistry", deployment.address("RecordRegistry"))
        self._keys: dict[str, bytes] = {}

    def wiring(self) -> dict[str, tuple[str, str]]:
        """Each contract's pointer to another, as (found, expected): ``famchain doctor`` checks them."""
        c = self
        return {
            "ResidentRegistry.consortium": (
                c.residents._c.functions.consortium().call(),
                c.consortium.address,
            ),
            "ConsentRegistry.consortium": (c.consents._c.functions.consortium().call(), c.consortium.address),
            "ConsentRegistry.residentRegistry": (
                c.consents._c.functions.residentRegistry().call(),
                c.residents.address,
            ),
            "RecordRegistry.consentRegistry": (
                c.records._c.functions.consentRegistry().call(),
                c.consents.address,
            ),
        }

    # --- conveniences over the four contracts ---

    def encryption_key(self, account: str) -> bytes | None:
        """Registered encryption public key of a resident or practitioner (64 bytes), or None.

        Found keys are cached: the contracts accept only the key whose keccak is the account's address, so
        an account's key can never change.
        """
        if account in self._keys:
            return self._keys[account]
        key = self.residents.encryption_key_of(account) or self.consortium.encryption_key_of(account)
        if key:
            self._keys[account] = key
        return key or None

    def member(self, institution: str) -> Member:
        """Kind and status of an institution."""
        return self.consortium.member(institution)

    def practitioner(self, account: str) -> Practitioner:
        """A practitioner's institution and standing."""
        return self.consortium.practitioner(account)

    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return self.residents.is_registered(resident)

    def profile_digest(self, resident: str) -> bytes:
        """Digest of the resident's sealed profile (zero when unregistered)."""
        return self.residents.profile_of(resident)

    def family_doctor(self, resident: str) -> FamilyDoctor | None:
        """The active family-doctor agreement, or None."""
        return self.residents.active_family_doctor(resident)

    def grant(self, patient: str, grantee: str) -> Grant:
        """The stored consent from ``patient`` to ``grantee``."""
        return self.consents.grant_of(patient, grantee)

    def is_authorized(self, patient: str, accessor: str, sections: int, action: int) -> bool:
        """May ``accessor`` do ``action`` on ``sections`` of ``patient``?"""
        return self.consents.is_authorized(patient, accessor, sections, action)

    def card(self, patient: str, block: Any = "latest") -> Card:
        """Head hash and length of the patient's visit card."""
        return self.records.card(patient, block)

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block (the contracts' notion of now)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def block_number(self) -> int:
        """The latest block number."""
        return int(self.w3.eth.block_number)

    def block_timestamp(self, block: int) -> int:
        """Timestamp of a block."""
        return int(self.w3.eth.get_block(block)["timestamp"])
