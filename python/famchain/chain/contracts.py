"""Typed views over the five deployed contracts: the one place that touches contract functions.

:class:`Famchain` binds a web3 connection to one :class:`~famchain.chain.deployment.Deployment`. Each
contract has a wrapper (``fc.consortium``, ``fc.residents``, ``fc.consents``, ``fc.records``, ``fc.emergency``)
whose read methods return the dataclasses of :mod:`famchain.chain.structs`, decoded by the ABI's own names
(never by position), and whose write methods return a :data:`~famchain.chain.tx.Call` that a
:class:`~famchain.chain.tx.TransactionSender` signs and sends. Every external function of the five contracts
has its method here. Arguments are passed positionally: the implementations' ABI keeps trailing underscores in
some parameter names (``anchor_``, ``practitioner_``). Adapting famchain to a new contract ABI means changing
this module (and the structs), nothing above it.
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
from famchain.chain.codec import event_args
from famchain.chain.deployment import Deployment
from famchain.chain.nonces import NonceDomain, nonce_key
from famchain.chain.structs import (
    ZERO_ADDRESS,
    Access,
    Agreement,
    Anchor,
    Approval,
    Card,
    CardAccess,
    Emergency,
    ErasureProof,
    FamilyDoctor,
    Grant,
    Guardianship,
    InstitutionKind,
    Member,
    Parameter,
    PendingAgreement,
    PractitionerStatus,
    Proposal,
    ProposalAction,
    RecordKind,
    Request,
    ResidentStatus,
)
from famchain.errors import ConfigError
from famchain.i18n import _
from famchain.types import RecordId

T = TypeVar("T")

__all__ = [
    "ConsentContract",
    "ConsortiumContract",
    "EmergencyContract",
    "Famchain",
    "RecordContract",
    "ResidentContract",
    "Signing",
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
    if hint is str:
        return str(value)
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
        raise ConfigError(
            _("{fn_name} answered {n_values} values for {n_names} named outputs").format(
                fn_name=fn.fn_name, n_values=len(values), n_names=len(names)
            )
        )
    hints = _hints(cls)
    by_name = dict(zip(names, values, strict=True))
    missing = [name for name in hints if name not in by_name]
    if missing:
        raise ConfigError(
            _("{fn_name} has no output named {missing!r} (is the ABI newer than famchain?)").format(
                fn_name=fn.fn_name, missing=missing[0]
            )
        )
    return cls(**{name: _convert(by_name[name], hints[name]) for name in hints})


def _view(fn: ContractFunction, cls: type[T], block: Any = "latest") -> T:
    return _decode(cls, fn, fn.call(block_identifier=block))


def _b32(value: bytes) -> bytes:
    return bytes(value)


class _Bound:
    """One deployed contract: its address and the web3 contract object (private to this module)."""

    def __init__(self, w3: Web3, name: str, address: str) -> None:
        self.name = name
        self.address = address
        self._c: Contract = w3.eth.contract(address=address, abi=artifacts.load(name).abi)  # type: ignore[call-overload]

    def calldata(self, call: ContractFunction) -> bytes:
        """The ABI-encoded input of a call to this contract (bulk setup, gas arithmetic)."""
        return bytes.fromhex(self._c.encode_abi(call.fn_name, args=list(call.args))[2:])

    def _events(self, receipt: TxReceipt, event: str) -> list[dict[str, Any]]:
        logs = self._c.events[event]().process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs]

    def _address_view(self, fn: ContractFunction) -> str:
        return str(fn.call())


class Signing(_Bound):
    """A contract that verifies EIP-712 signatures with keyed nonces (every famchain contract)."""

    def nonce(self, owner: str, domain: NonceDomain, subject: str | bytes | int = 0) -> int:
        """The owner's current keyed nonce of ``domain``/``subject``: what a new signature must carry.

        Args:
            owner: the signer (the resident, patient or practitioner the message is from).
            domain: what the signature is for.
            subject: the key's subject (doctor, grantee, guardian, institution, record id, or 0).
        """
        return self.nonce_of_key(owner, nonce_key(domain, subject))

    def nonce_of_key(self, owner: str, key: int) -> int:
        """``nonces(owner, key)``: the full keyed nonce (key in the upper 192 bits)."""
        fn = self._c.get_function_by_signature("nonces(address,uint192)")
        return int(fn(owner, key).call())

    def legacy_nonce(self, owner: str) -> int:
        """``nonces(owner)``: OpenZeppelin's unkeyed nonce (key 0); famchain never uses it."""
        fn = self._c.get_function_by_signature("nonces(address)")
        return int(fn(owner).call())

    def eip712_domain(self) -> dict[str, Any]:
        """ERC-5267 ``eip712Domain()``: name, version, chain id and verifying contract."""
        fields = self._c.functions.eip712Domain().call()
        return {
            "name": fields[1],
            "version": fields[2],
            "chainId": int(fields[3]),
            "verifyingContract": fields[4],
        }

    def cancel_nonce(self, key_nonce: int) -> ContractFunction:
        """``cancelNonce``: the owner kills the outstanding signature that carries ``key_nonce``."""
        return self._c.functions.cancelNonce(key_nonce)

    def cancel_nonce_with_sig(
        self, owner: str, key_nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``cancelNonceWithSig``: anyone relays the owner's (or a guardian's) ``Cancel`` signature."""
        return self._c.functions.cancelNonceWithSig(owner, key_nonce, deadline, signature)


class ConsortiumContract(Signing):
    """``Consortium``: member institutions by vote, custodians, parameters, and the practitioners each registers."""

    # --- reads ---
    def member(self, institution: str) -> Member:
        """Kind, status, epoch and custodian flag of an institution (by its admin address)."""
        return _view(self._c.functions.member(institution), Member)

    def member_epoch(self, institution: str) -> int:
        """The admission epoch of an institution (0 when never admitted)."""
        return int(self._c.functions.memberEpoch(institution).call())

    def member_key_of(self, institution: str, block: Any = "latest") -> bytes:
        """A member's published encryption key (empty when none): custodian shares are wrapped to it."""
        return bytes(self._c.functions.memberKeyOf(institution).call(block_identifier=block))

    def practitioner(self, account: str, block: Any = "latest") -> PractitionerStatus:
        """Institution, kind, standing and enrollment of a practitioner at ``block`` (zeros when unknown)."""
        return _view(self._c.functions.practitioner(account), PractitionerStatus, block)

    def enrollment_of(self, account: str) -> int:
        """The practitioner's current enrollment while it counts, else 0."""
        return int(self._c.functions.enrollmentOf(account).call())

    def is_active_practitioner(self, account: str) -> bool:
        """True while the practitioner counts (active, institution active, same member epoch)."""
        return bool(self._c.functions.isActivePractitioner(account).call())

    def is_active_member(self, account: str) -> bool:
        """True for an active member institution."""
        return bool(self._c.functions.isActiveMember(account).call())

    def is_custodian(self, institution: str, block: Any = "latest") -> bool:
        """True for an active member with the custodian flag (at ``block``)."""
        return bool(self._c.functions.isCustodian(institution).call(block_identifier=block))

    def custodians(self, block: Any = "latest") -> list[str]:
        """The custodians at ``block`` (active members with the flag), in the contract's order."""
        return [str(a) for a in self._c.functions.custodians().call(block_identifier=block)]

    def active_member_count(self) -> int:
        """Number of active members."""
        return int(self._c.functions.activeMemberCount().call())

    def threshold_bps(self) -> int:
        """Share of active members whose votes carry a proposal, in basis points."""
        return int(self._c.functions.thresholdBps().call())

    def voting_period(self) -> int:
        """Seconds a proposal stays open."""
        return int(self._c.functions.votingPeriod().call())

    def parameter(self, which: Parameter, block: Any = "latest") -> int:
        """A consortium parameter's value (at ``block``)."""
        return int(self._c.functions.parameter(int(which)).call(block_identifier=block))

    def proposal_count(self) -> int:
        """Number of proposals ever made (ids are 1..count)."""
        return int(self._c.functions.proposalCount().call())

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal as stored."""
        return _view(self._c.functions.proposal(proposal_id), Proposal)

    def active_approvals(self, proposal_id: int) -> int:
        """Recorded voters that are active members now (the target excluded)."""
        return int(self._c.functions.activeApprovals(proposal_id).call())

    def required_approvals(self, proposal_id: int) -> int:
        """Approvals the proposal needs now."""
        return int(self._c.functions.requiredApprovals(proposal_id).call())

    def has_voted(self, proposal_id: int, voter: str) -> bool:
        """True when ``voter`` voted for the proposal."""
        return bool(self._c.functions.hasVoted(proposal_id, voter).call())

    def voters(self, proposal_id: int) -> list[str]:
        """Everyone who voted for the proposal (active or not now)."""
        return [str(a) for a in self._c.functions.voters(proposal_id).call()]

    def encryption_key_of(self, practitioner: str) -> bytes:
        """A practitioner's registered encryption key (empty when none)."""
        return bytes(self._c.functions.encryptionKeyOf(practitioner).call())

    # --- writes ---
    def propose(
        self,
        action: ProposalAction,
        institution: str = ZERO_ADDRESS,
        subject: str = ZERO_ADDRESS,
        kind: InstitutionKind = InstitutionKind.NONE,
        parameter: Parameter = Parameter.NONE,
        value: int = 0,
    ) -> ContractFunction:
        """``propose``: a consortium change; the proposer's vote counts."""
        return self._c.functions.propose(
            int(action), institution, subject, int(kind), int(parameter), int(value)
        )

    def vote(self, proposal_id: int) -> ContractFunction:
        """``vote`` for a proposal (executes it when the tally passes)."""
        return self._c.functions.vote(proposal_id)

    def execute(self, proposal_id: int) -> ContractFunction:
        """``execute``: anyone carries a proposal whose tally passes now."""
        return self._c.functions.execute(proposal_id)

    def publish_member_key(self, key: bytes) -> ContractFunction:
        """``publishMemberKey`` (caller: an active member's admin; the key hashes to it)."""
        return self._c.functions.publishMemberKey(key)

    def register_practitioner(
        self, practitioner: str, encryption_key: bytes, key_nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``registerPractitioner`` (caller: the institution's admin) with the practitioner's ``Enrollment``."""
        return self._c.functions.registerPractitioner(
            practitioner, encryption_key, key_nonce, deadline, signature
        )

    def deactivate_practitioner(self, practitioner: str) -> ContractFunction:
        """``deactivatePractitioner`` (caller: the practitioner's institution)."""
        return self._c.functions.deactivatePractitioner(practitioner)

    def resign(self) -> ContractFunction:
        """``resign`` (caller: the practitioner)."""
        return self._c.functions.resign()

    # --- receipts ---
    def created_proposal(self, receipt: TxReceipt) -> int:
        """The id of the proposal a ``propose`` transaction created.

        Raises:
            ConfigError: the receipt carries no ``ProposalCreated`` event.
        """
        created = self._events(receipt, "ProposalCreated")
        if not created:
            raise ConfigError(_("the propose transaction emitted no ProposalCreated event"))
        return int(created[0]["proposalId"])

    def executed(self, receipt: TxReceipt) -> bool:
        """True when the transaction carried a proposal (``ProposalExecuted``)."""
        return bool(self._events(receipt, "ProposalExecuted"))


class ResidentContract(Signing):
    """``ResidentRegistry``: residents, family-doctor agreements, guardians and deletion requests."""

    # --- reads ---
    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return bool(self._c.functions.isRegistered(resident).call())

    def resident_status(self, resident: str) -> ResidentStatus:
        """Registered, and whether the card is locked by a whole-card deletion request."""
        return _view(self._c.functions.residentStatus(resident), ResidentStatus)

    def card_access_of(self, resident: str, accessor: str) -> CardAccess:
        """The resident's status and what ``accessor`` may do as the family doctor in force (one slot: what
        RecordRegistry checks an author with before it asks ConsentRegistry)."""
        return _view(self._c.functions.cardAccessOf(resident, accessor), CardAccess)

    def encryption_key_of(self, resident: str) -> bytes:
        """A resident's registered encryption key (empty when none)."""
        return bytes(self._c.functions.encryptionKeyOf(resident).call())

    def profile_of(self, resident: str) -> bytes:
        """Digest of the resident's sealed profile (zero when unregistered)."""
        return bytes(self._c.functions.profileOf(resident).call())

    def active_family_doctor(self, resident: str, block: Any = "latest") -> FamilyDoctor | None:
        """The agreement in force, or None."""
        doctor = _view(self._c.functions.activeFamilyDoctor(resident), FamilyDoctor, block)
        return None if doctor.doctor == ZERO_ADDRESS else doctor

    def family_doctor_of(self, resident: str) -> str | None:
        """The doctor of the agreement in force, or None."""
        doctor = str(self._c.functions.familyDoctorOf(resident).call())
        return None if doctor == ZERO_ADDRESS else doctor

    def access_of(self, patient: str, accessor: str) -> Access:
        """What the agreement in force (or a READ guardianship) lets ``accessor`` do."""
        return _view(self._c.functions.accessOf(patient, accessor), Access)

    def agreement(self, resident: str) -> Agreement:
        """The stored agreement, in force or not."""
        return _view(self._c.functions.agreement(resident), Agreement)

    def pending_agreement(self, resident: str, doctor: str) -> PendingAgreement | None:
        """The pair's proposal waiting for acceptance, or None."""
        pending = _view(self._c.functions.pendingAgreement(resident, doctor), PendingAgreement)
        return None if pending.sections == 0 else pending

    def proposal_ttl(self) -> int:
        """Seconds an agreement proposal can be accepted (``PROPOSAL_TTL``)."""
        return int(self._c.functions.PROPOSAL_TTL().call())

    def guardian_scope(self, resident: str, guardian: str, block: Any = "latest") -> int:
        """The guardian's scope now (0 when none or expired)."""
        return int(self._c.functions.guardianScope(resident, guardian).call(block_identifier=block))

    def guardianship(self, resident: str, guardian: str) -> Guardianship:
        """The stored guardianship (all zero when none)."""
        return _view(self._c.functions.guardianship(resident, guardian), Guardianship)

    def deletion_requested_at(self, resident: str, record_id: bytes) -> int:
        """When a deletion of ``record_id`` (zero id: the whole card) was requested, or 0."""
        return int(self._c.functions.deletionRequestedAt(resident, _b32(record_id)).call())

    def is_end_guardianship_consumed(self, proposal_id: int) -> bool:
        """True when an ``EndGuardianship`` proposal was applied."""
        return bool(self._c.functions.isEndGuardianshipConsumed(proposal_id).call())

    def consortium_address(self) -> str:
        """The Consortium this registry reads."""
        return self._address_view(self._c.functions.consortium())

    # --- writes: registration and profile ---
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

    def update_profile_with_sig(
        self, resident: str, profile: bytes, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``updateProfileWithSig``: the resident's (or a PROFILE guardian's) ``Profile`` signature."""
        return self._c.functions.updateProfileWithSig(resident, profile, nonce, deadline, signature)

    def set_encryption_key(self, encryption_key: bytes) -> ContractFunction:
        """``setEncryptionKey`` (caller: the resident)."""
        return self._c.functions.setEncryptionKey(encryption_key)

    def set_encryption_key_with_sig(
        self, resident: str, encryption_key: bytes, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``setEncryptionKeyWithSig``: the resident's ``EncryptionKey`` signature."""
        return self._c.functions.setEncryptionKeyWithSig(resident, encryption_key, nonce, deadline, signature)

    # --- writes: agreements ---
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
        doctor: str,
        sections: int,
        actions: int,
        term: int,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``acceptAgreementWithSig``: the resident's ``Agreement`` signature (sent by the doctor or anyone)."""
        return self._c.functions.acceptAgreementWithSig(
            resident, doctor, int(sections), int(actions), term, nonce, deadline, signature
        )

    def withdraw_proposal(self, counterparty: str) -> ContractFunction:
        """``withdrawProposal`` (either side of the pair)."""
        return self._c.functions.withdrawProposal(counterparty)

    def withdraw_proposal_with_sig(
        self, resident: str, doctor: str, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``withdrawProposalWithSig``: the resident's ``AgreementWithdrawal`` signature."""
        return self._c.functions.withdrawProposalWithSig(resident, doctor, nonce, deadline, signature)

    def renew_agreement(self, term: int) -> ContractFunction:
        """``renewAgreement`` (caller: the resident)."""
        return self._c.functions.renewAgreement(term)

    def terminate_agreement(self, resident: str) -> ContractFunction:
        """``terminateAgreement`` (either side)."""
        return self._c.functions.terminateAgreement(resident)

    def terminate_agreement_with_sig(
        self, resident: str, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``terminateAgreementWithSig``: the resident's ``Termination`` signature."""
        return self._c.functions.terminateAgreementWithSig(resident, nonce, deadline, signature)

    # --- writes: guardians ---
    def appoint_guardian(
        self, guardian: str, scope: int, expires_at: int, dependent: bool
    ) -> ContractFunction:
        """``appointGuardian`` (caller: the resident)."""
        return self._c.functions.appointGuardian(guardian, int(scope), expires_at, dependent)

    def appoint_guardian_with_sig(
        self,
        resident: str,
        guardian: str,
        scope: int,
        expires_at: int,
        dependent: bool,
        nonce: int,
        deadline: int,
        signature: bytes,
    ) -> ContractFunction:
        """``appointGuardianWithSig``: the resident's own ``Guardian`` signature."""
        return self._c.functions.appointGuardianWithSig(
            resident, guardian, int(scope), expires_at, dependent, nonce, deadline, signature
        )

    def remove_guardian(self, resident: str, guardian: str) -> ContractFunction:
        """``removeGuardian`` (caller: the guardian, or the resident)."""
        return self._c.functions.removeGuardian(resident, guardian)

    def remove_guardian_with_sig(
        self, resident: str, guardian: str, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``removeGuardianWithSig``: the resident's own ``GuardianRemoval`` signature."""
        return self._c.functions.removeGuardianWithSig(resident, guardian, nonce, deadline, signature)

    def end_guardianship(self, proposal_id: int) -> ContractFunction:
        """``endGuardianship``: anyone applies an executed ``EndGuardianship`` proposal once."""
        return self._c.functions.endGuardianship(proposal_id)

    # --- writes: deletion ---
    def request_deletion(self, record_id: bytes) -> ContractFunction:
        """``requestDeletion`` (caller: the resident; the zero id locks the whole card)."""
        return self._c.functions.requestDeletion(_b32(record_id))

    def request_deletion_with_sig(
        self, resident: str, record_id: bytes, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``requestDeletionWithSig``: the resident's (or a RECORDS guardian's) ``DeletionRequest``."""
        return self._c.functions.requestDeletionWithSig(resident, _b32(record_id), nonce, deadline, signature)


class ConsentContract(Signing):
    """``ConsentRegistry``: grants (with committed terms and a key bundle), revocations and access requests."""

    # --- reads ---
    def grant_of(self, patient: str, grantee: str, block: Any = "latest") -> Grant:
        """The stored consent (all zero when none)."""
        return _view(self._c.functions.grantOf(patient, grantee), Grant, block)

    def request_of(self, patient: str, grantee: str) -> Request:
        """The grantee's open request (all zero when none)."""
        return _view(self._c.functions.requestOf(patient, grantee), Request)

    def is_authorized(
        self, patient: str, accessor: str, sections: int, action: int, block: Any = "latest"
    ) -> bool:
        """The contract's own answer: may ``accessor`` do ``action`` on ``sections`` of ``patient``?"""
        return bool(self.is_authorized_call(patient, accessor, sections, action).call(block_identifier=block))

    def is_authorized_call(self, patient: str, accessor: str, sections: int, action: int) -> ContractFunction:
        """The ``isAuthorized`` view as a call (to measure its gas)."""
        return self._c.functions.isAuthorized(patient, accessor, int(sections), int(action))

    def consortium_address(self) -> str:
        """The Consortium this registry reads."""
        return self._address_view(self._c.functions.consortium())

    def resident_registry_address(self) -> str:
        """The ResidentRegistry this registry reads."""
        return self._address_view(self._c.functions.residentRegistry())

    # --- writes ---
    def grant(
        self,
        grantee: str,
        sections: int,
        actions: int,
        expires_at: int,
        terms: bytes,
        bundle_digest: bytes,
        bundle_codec: int,
    ) -> ContractFunction:
        """``grant`` (caller: the patient): the committed terms and the key bundle announced with it."""
        return self._c.functions.grant(
            grantee, int(sections), int(actions), expires_at, _b32(terms), _b32(bundle_digest), bundle_codec
        )

    def grant_with_sig(
        self,
        patient: str,
        grantee: str,
        sections: int,
        actions: int,
        expires_at: int,
        terms: bytes,
        bundle_digest: bytes,
        bundle_codec: int,
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
            expires_at,
            _b32(terms),
            _b32(bundle_digest),
            bundle_codec,
            nonce,
            deadline,
            signature,
        )

    def revoke(self, grantee: str) -> ContractFunction:
        """``revoke`` (caller: the patient; a stored grant is required)."""
        return self._c.functions.revoke(grantee)

    def revoke_many(self, grantees: Sequence[str]) -> ContractFunction:
        """``revokeMany`` (caller: the patient; grantees without a grant are skipped)."""
        return self._c.functions.revokeMany(list(grantees))

    def revoke_with_sig(
        self, patient: str, grantee: str, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``revokeWithSig``: the patient's ``Revocation`` signature."""
        return self._c.functions.revokeWithSig(patient, grantee, nonce, deadline, signature)

    def request_access(
        self, patient: str, sections: int, actions: int, duration: int, terms: bytes
    ) -> ContractFunction:
        """``requestAccess`` (caller: a practitioner; ``terms`` is the digest of the sealed request terms)."""
        return self._c.functions.requestAccess(patient, int(sections), int(actions), duration, _b32(terms))

    def withdraw_request(self, patient: str) -> ContractFunction:
        """``withdrawRequest`` (caller: the requester)."""
        return self._c.functions.withdrawRequest(patient)

    def refuse_request(self, grantee: str) -> ContractFunction:
        """``refuseRequest`` (caller: the patient)."""
        return self._c.functions.refuseRequest(grantee)

    def refuse_request_with_sig(
        self, patient: str, grantee: str, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``refuseRequestWithSig``: the patient's ``Refusal`` signature."""
        return self._c.functions.refuseRequestWithSig(patient, grantee, nonce, deadline, signature)


class RecordContract(Signing):
    """``RecordRegistry``: visit cards, updates, key releases and erasure."""

    # --- reads ---
    def card(self, patient: str, block: Any = "latest") -> Card:
        """Head hash and length of the patient's visit card."""
        return _view(self._c.functions.card(patient), Card, block)

    def record_id_of(
        self, patient: str, author: str, salt: bytes, cid_digest: bytes, cid_codec: int
    ) -> RecordId:
        """``recordIdOf``: the contract's own derivation of a record id."""
        value = self._c.functions.recordIdOf(patient, author, _b32(salt), _b32(cid_digest), cid_codec).call()
        return RecordId(bytes(value))

    def leaf_of(
        self, record_id: bytes, previous: bytes, sections: int, kind: RecordKind, anchored_at: int
    ) -> bytes:
        """``leafOf``: the contract's own card leaf."""
        value = self._c.functions.leafOf(
            _b32(record_id), _b32(previous), int(sections), int(kind), anchored_at
        ).call()
        return bytes(value)

    def approval_of(self, patient: str, record_id: bytes, previous: bytes) -> Approval:
        """A stored update approval (all zero when none)."""
        return _view(self._c.functions.approvalOf(patient, _b32(record_id), _b32(previous)), Approval)

    def retention(self, kind: RecordKind) -> int:
        """Seconds a record of ``kind`` is kept before it may be erased."""
        return int(self._c.functions.retention(int(kind)).call())

    def is_erased(self, record_id: bytes) -> bool:
        """True once a record was erased."""
        return bool(self._c.functions.isErased(_b32(record_id)).call())

    def consent_registry_address(self) -> str:
        """The ConsentRegistry this registry reads."""
        return self._address_view(self._c.functions.consentRegistry())

    def resident_registry_address(self) -> str:
        """The ResidentRegistry this registry reads."""
        return self._address_view(self._c.functions.residentRegistry())

    # --- writes ---
    def anchor(self, patient: str, expected_head: bytes, anchor: Anchor) -> ContractFunction:
        """``anchor`` one new record on the card whose head is ``expected_head``."""
        return self._c.functions.anchor(patient, expected_head, anchor.to_abi())

    def anchor_batch(self, patient: str, expected_head: bytes, anchors: Sequence[Anchor]) -> ContractFunction:
        """``anchorBatch``: several new records of one patient in one transaction."""
        return self._c.functions.anchorBatch(patient, expected_head, [a.to_abi() for a in anchors])

    def anchor_update(
        self, patient: str, expected_head: bytes, anchor: Anchor, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``anchorUpdate`` with the patient's ``RecordUpdate`` signature (or an empty one and a stored approval)."""
        return self._c.functions.anchorUpdate(
            patient, expected_head, anchor.to_abi(), nonce, deadline, signature
        )

    def approve_update(self, author: str, anchor: Anchor, deadline: int) -> ContractFunction:
        """``approveUpdate`` (caller: the patient): store an approval of exactly this update."""
        return self._c.functions.approveUpdate(author, anchor.to_abi(), deadline)

    def approve_update_with_sig(
        self, patient: str, author: str, anchor: Anchor, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``approveUpdateWithSig``: store the approval the patient's ``RecordUpdate`` signature gives."""
        return self._c.functions.approveUpdateWithSig(
            patient, author, anchor.to_abi(), nonce, deadline, signature
        )

    def withdraw_approval(self, previous: bytes, record_id: bytes) -> ContractFunction:
        """``withdrawApproval`` (caller: the patient): kills the stored approval and the Update nonce."""
        return self._c.functions.withdrawApproval(_b32(previous), _b32(record_id))

    def refuse_update_with_sig(
        self, patient: str, previous: bytes, record_id: bytes, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``refuseUpdateWithSig``: the patient's ``UpdateRefusal`` signature."""
        return self._c.functions.refuseUpdateWithSig(
            patient, _b32(previous), _b32(record_id), nonce, deadline, signature
        )

    def release_keys(
        self, patient: str, grantee: str, bundle_digest: bytes, bundle_codec: int, sections: int
    ) -> ContractFunction:
        """``releaseKeys`` (caller: the patient, or a party authorized to READ those sections)."""
        return self._c.functions.releaseKeys(
            patient, grantee, _b32(bundle_digest), bundle_codec, int(sections)
        )

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
            patient, grantee, _b32(bundle_digest), bundle_codec, int(sections), nonce, deadline, signature
        )

    def anchored_head(self, receipt: TxReceipt) -> bytes:
        """The card head after the last record an anchor transaction put on a card (its ``RecordAnchored`` event).

        Raises:
            ConfigError: the receipt carries no ``RecordAnchored`` event.
        """
        # Only the last of this registry's RecordAnchored logs is decoded: a batch's receipt carries one per
        # record.
        event = self._c.events.RecordAnchored()
        topic = bytes.fromhex(str(event.topic).removeprefix("0x"))
        mine = self.address.lower()
        for log in reversed(receipt["logs"]):
            if str(log["address"]).lower() == mine and log["topics"] and bytes(log["topics"][0]) == topic:
                return bytes(event_args(event, log)["head"])
        raise ConfigError(_("the anchor transaction emitted no RecordAnchored event"))

    def erase(self, patient: str, proof: ErasureProof) -> ContractFunction:
        """``erase`` (anyone): a record with a deletion request whose retention is over."""
        return self._c.functions.erase(patient, proof.to_abi())


class EmergencyContract(Signing):
    """``EmergencyAccess``: residents' emergency choices, declarations, custodians' share releases, reviews."""

    # --- reads ---
    def emergency_sections(self, resident: str, block: Any = "latest") -> int:
        """The sections an emergency may open for ``resident`` at ``block`` (0: opted out)."""
        return int(self._c.functions.emergencySections(resident).call(block_identifier=block))

    def emergency(self, emergency_id: int, block: Any = "latest") -> Emergency:
        """A declared emergency (all zero when unknown)."""
        return _view(self._c.functions.emergency(emergency_id), Emergency, block)

    def emergency_count(self) -> int:
        """Number of emergencies ever declared (ids are 1..count)."""
        return int(self._c.functions.emergencyCount().call())

    def is_open(self, emergency_id: int) -> bool:
        """True while the emergency has its approvals and has not expired."""
        return bool(self._c.functions.isOpen(emergency_id).call())

    def has_approved(self, emergency_id: int, custodian: str) -> bool:
        """True when ``custodian`` released its shares for the emergency."""
        return bool(self._c.functions.hasApproved(emergency_id, custodian).call())

    def declarations_today(self, physician: str) -> int:
        """The physician's declarations in the current UTC day."""
        return int(self._c.functions.declarationsToday(physician).call())

    def institution_declarations_today(self, institution: str) -> int:
        """The institution's declarations in the current UTC day."""
        return int(self._c.functions.institutionDeclarationsToday(institution).call())

    def consortium_address(self) -> str:
        """The Consortium this contract reads."""
        return self._address_view(self._c.functions.consortium())

    def resident_registry_address(self) -> str:
        """The ResidentRegistry this contract reads."""
        return self._address_view(self._c.functions.residentRegistry())

    def record_registry_address(self) -> str:
        """The RecordRegistry this contract reads."""
        return self._address_view(self._c.functions.recordRegistry())

    # --- writes ---
    def set_emergency_sections(self, sections: int) -> ContractFunction:
        """``setEmergencySections`` (caller: the resident; 0 opts out)."""
        return self._c.functions.setEmergencySections(int(sections))

    def set_emergency_sections_with_sig(
        self, resident: str, sections: int, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``setEmergencySectionsWithSig``: the resident's (or an EMERGENCY guardian's) ``EmergencyChoice``."""
        return self._c.functions.setEmergencySectionsWithSig(
            resident, int(sections), nonce, deadline, signature
        )

    def declare(self, patient: str, reason: int) -> ContractFunction:
        """``declare`` (caller: an active hospital physician)."""
        return self._c.functions.declare(patient, int(reason))

    def approve(self, emergency_id: int, bundle_digest: bytes, bundle_codec: int) -> ContractFunction:
        """``approve`` (caller: a custodian): announce its share bundle for the physician."""
        return self._c.functions.approve(emergency_id, _b32(bundle_digest), bundle_codec)

    def review(self, emergency_id: int, contested: bool) -> ContractFunction:
        """``review`` (caller: the patient, an EMERGENCY guardian, or the family doctor in force)."""
        return self._c.functions.review(emergency_id, contested)

    def review_with_sig(
        self, patient: str, emergency_id: int, contested: bool, nonce: int, deadline: int, signature: bytes
    ) -> ContractFunction:
        """``reviewWithSig``: the patient's (or an EMERGENCY guardian's) ``EmergencyReview`` signature."""
        return self._c.functions.reviewWithSig(patient, emergency_id, contested, nonce, deadline, signature)

    # --- receipts ---
    def declared(self, receipt: TxReceipt) -> int:
        """The id of the emergency a ``declare`` transaction created.

        Raises:
            ConfigError: the receipt carries no ``EmergencyDeclared`` event.
        """
        declared = self._events(receipt, "EmergencyDeclared")
        if not declared:
            raise ConfigError(_("the declare transaction emitted no EmergencyDeclared event"))
        return int(declared[0]["id"])


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
                _(
                    "the RPC endpoint is chain {chain_id} but the deployment is for chain {deployment_chain}"
                ).format(chain_id=chain_id, deployment_chain=deployment.chain_id)
            )
        self.w3 = w3
        self.deployment = deployment
        self.chain_id = chain_id
        if check_code:
            for name in artifacts.DEPLOYABLE:
                address = deployment.address(name)
                if not w3.eth.get_code(address):  # type: ignore[arg-type]
                    raise ConfigError(
                        _(
                            "no {name} contract at {address} on chain {chain_id}: is the deployment stale?"
                        ).format(name=name, address=address, chain_id=chain_id)
                    )
        self.consortium = ConsortiumContract(w3, "Consortium", deployment.address("Consortium"))
        self.residents = ResidentContract(w3, "ResidentRegistry", deployment.address("ResidentRegistry"))
        self.consents = ConsentContract(w3, "ConsentRegistry", deployment.address("ConsentRegistry"))
        self.records = RecordContract(w3, "RecordRegistry", deployment.address("RecordRegistry"))
        self.emergency = EmergencyContract(w3, "EmergencyAccess", deployment.address("EmergencyAccess"))
        self._keys: dict[str, bytes] = {}

    def signing(self, name: str) -> Signing:
        """A contract by its deployment name (``ConsentRegistry``...), for what every contract has (nonces,
        cancel).

        Raises:
            ConfigError: no such contract.
        """
        for contract in (self.consortium, self.residents, self.consents, self.records, self.emergency):
            if contract.name == name or contract.address.lower() == name.lower():
                return contract
        raise ConfigError(_("no famchain contract named {name!r} in this deployment").format(name=name))

    def wiring(self) -> dict[str, tuple[str, str]]:
        """Each contract's pointer to another, as (found, expected): ``famchain doctor`` checks them."""
        c = self
        return {
            "ResidentRegistry.consortium": (c.residents.consortium_address(), c.consortium.address),
            "ConsentRegistry.consortium": (c.consents.consortium_address(), c.consortium.address),
            "ConsentRegistry.residentRegistry": (c.consents.resident_registry_address(), c.residents.address),
            "RecordRegistry.consentRegistry": (c.records.consent_registry_address(), c.consents.address),
            "RecordRegistry.residentRegistry": (c.records.resident_registry_address(), c.residents.address),
            "EmergencyAccess.consortium": (c.emergency.consortium_address(), c.consortium.address),
            "EmergencyAccess.residentRegistry": (
                c.emergency.resident_registry_address(),
                c.residents.address,
            ),
            "EmergencyAccess.recordRegistry": (c.emergency.record_registry_address(), c.records.address),
        }

    # --- conveniences over the contracts ---

    def encryption_key(self, account: str) -> bytes | None:
        """Registered encryption public key of a resident or practitioner (64 bytes), or None.

        A practitioner's key hashes to its account and never changes, so it is cached; a resident's key can
        be replaced (``setEncryptionKey``), so it is read each time.
        """
        if account in self._keys:
            return self._keys[account]
        key = self.residents.encryption_key_of(account)
        if key:
            return key
        key = self.consortium.encryption_key_of(account)
        if key:
            self._keys[account] = key
        return key or None

    def member_key(self, institution: str, block: Any = "latest") -> bytes | None:
        """A member's published encryption key (custodian shares are wrapped to it), or None.

        A member key hashes to the member's admin account, so once published it never changes: it is cached.
        """
        cache_key = "member:" + institution
        if cache_key in self._keys:
            return self._keys[cache_key]
        key = self.consortium.member_key_of(institution, block)
        if key:
            self._keys[cache_key] = key
        return key or None

    def member(self, institution: str) -> Member:
        """Kind and status of an institution."""
        return self.consortium.member(institution)

    def practitioner(self, account: str) -> PractitionerStatus:
        """A practitioner's institution and standing."""
        return self.consortium.practitioner(account)

    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return self.residents.is_registered(resident)

    def profile_digest(self, resident: str) -> bytes:
        """Digest of the resident's sealed profile (zero when unregistered)."""
        return self.residents.profile_of(resident)

    def family_doctor(self, resident: str, block: Any = "latest") -> FamilyDoctor | None:
        """The active family-doctor agreement, or None."""
        return self.residents.active_family_doctor(resident, block)

    def grant(self, patient: str, grantee: str) -> Grant:
        """The stored consent from ``patient`` to ``grantee``."""
        return self.consents.grant_of(patient, grantee)

    def is_authorized(
        self, patient: str, accessor: str, sections: int, action: int, block: Any = "latest"
    ) -> bool:
        """May ``accessor`` do ``action`` on ``sections`` of ``patient``?"""
        return self.consents.is_authorized(patient, accessor, sections, action, block)

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
