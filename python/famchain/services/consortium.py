"""``client.consortium``: member institutions (admitted, suspended, reinstated, removed by vote, their votes
counted only while they are active), custodians and parameters, and the practitioners each institution
registers with the practitioner's own ``Enrollment`` signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from famchain.chain.history import address_topic
from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import (
    ZERO_ADDRESS,
    InstitutionKind,
    MemberStatus,
    Parameter,
    PractitionerStatus,
    Proposal,
    ProposalAction,
)
from famchain.crypto import typed_data
from famchain.crypto.keywrap import address_from_public_key, public_key_from_private
from famchain.errors import InputError
from famchain.i18n import _
from famchain.services._base import Service
from famchain.services.results import TxInfo

ENROLLMENT_KIND = "famchain.enrollment"
DEFAULT_ENROLLMENT_TTL = 7 * 86_400


@dataclass(frozen=True)
class ProposalOutcome:
    """A proposal just created: its id and whether the proposer's own vote already carried it."""

    proposal_id: int
    executed: bool
    tx: TxInfo


@dataclass(frozen=True)
class VoteOutcome:
    """A vote just cast: the proposal's approvals from active members now and whether it was carried."""

    proposal_id: int
    approvals: int
    executed: bool
    tx: TxInfo


@dataclass(frozen=True)
class ProposalStanding:
    """A proposal with its votes now: who voted, how many approvals of active members count, how many it needs."""

    proposal_id: int
    proposal: Proposal
    approvals: int
    required: int
    voters: tuple[str, ...]

    def is_open(self, now: int) -> bool:
        """Not carried yet and still accepting votes at block time ``now``."""
        return not self.proposal.executed and now <= self.proposal.expiresAt


@dataclass(frozen=True)
class MemberInfo:
    """A consortium member institution."""

    institution: str
    kind: InstitutionKind
    status: MemberStatus
    epoch: int = 0
    custodian: bool = False


@dataclass(frozen=True)
class PractitionerInfo:
    """A practitioner an institution registered, and whether they are active now."""

    practitioner: str
    active: bool


@dataclass(frozen=True)
class SignedEnrollment:
    """A practitioner's ``Enrollment`` signature naming the institution that may register it, with its
    encryption key: the file the practitioner hands to the institution's admin.

    Attributes:
        nonce: the keyed nonce (Enrollment/institution) the signature carries.
    """

    practitioner: str
    institution: str
    encryption_key: bytes
    nonce: int
    deadline: int
    signature: bytes
    chain_id: int
    consortium: str

    def to_json(self) -> dict[str, Any]:
        """The enrollment file's content."""
        return {
            "kind": ENROLLMENT_KIND,
            "practitioner": self.practitioner,
            "institution": self.institution,
            "encryption_key": "0x" + self.encryption_key.hex(),
            "nonce": str(self.nonce),
            "deadline": self.deadline,
            "signature": "0x" + self.signature.hex(),
            "chain_id": self.chain_id,
            "consortium": self.consortium,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedEnrollment:
        """Inverse of :meth:`to_json`.

        Raises:
            InputError: not an enrollment file, or a malformed field.
        """
        if not isinstance(data, dict) or data.get("kind") != ENROLLMENT_KIND:
            raise InputError(
                _("not a famchain enrollment (expected the output of `famchain institution enroll-sign`)")
            )
        try:
            return cls(
                str(data["practitioner"]),
                str(data["institution"]),
                bytes.fromhex(str(data["encryption_key"]).removeprefix("0x")),
                int(data["nonce"]),
                int(data["deadline"]),
                bytes.fromhex(str(data["signature"]).removeprefix("0x")),
                int(data["chain_id"]),
                str(data["consortium"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                _("the enrollment file is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
            ) from None


class ConsortiumService(Service):
    """Membership votes (any member's admin key) and practitioners (an institution's admin key)."""

    def propose(
        self,
        action: ProposalAction,
        institution: str = ZERO_ADDRESS,
        *,
        kind: InstitutionKind = InstitutionKind.NONE,
        threshold_bps: int = 0,
        subject: str = ZERO_ADDRESS,
        parameter: Parameter = Parameter.NONE,
        value: int = 0,
    ) -> ProposalOutcome:
        """Propose a consortium change; the proposal counts as the proposer's vote.

        Args:
            action: admit, suspend, reinstate, remove, set-threshold, add-custodian, remove-custodian,
                set-parameter, end-guardianship.
            institution: the institution's admin address (for end-guardianship: the guardian).
            kind: the kind of institution to admit.
            threshold_bps: the new vote share, for set-threshold.
            subject: the resident, for end-guardianship.
            parameter: which parameter, for set-parameter.
            value: its new value, for set-parameter.

        Raises:
            InputError: admit without a kind, set-parameter without a parameter.
            ContractRevertError: the caller is not an active member, or the change is not allowed.
        """
        if action is ProposalAction.ADMIT and kind is InstitutionKind.NONE:
            raise InputError(_("admit needs --kind"))
        if action is ProposalAction.SET_PARAMETER and parameter is Parameter.NONE:
            raise InputError(_("set-parameter needs --parameter"))
        if action is ProposalAction.SET_THRESHOLD:
            value = threshold_bps
        fc = self._client.chain
        call = fc.consortium.propose(action, institution, subject, kind, parameter, value)
        receipt = self._client.sender.transact(call, "propose")
        return ProposalOutcome(
            fc.consortium.created_proposal(receipt),
            fc.consortium.executed(receipt),
            TxInfo.from_receipt(receipt),
        )

    def vote(self, proposal_id: int) -> VoteOutcome:
        """Vote for a proposal; it is carried as soon as enough active members agree."""
        fc = self._client.chain
        receipt = self._client.sender.transact(fc.consortium.vote(proposal_id), "vote")
        approvals = fc.consortium.active_approvals(proposal_id)
        return VoteOutcome(
            proposal_id, approvals, fc.consortium.executed(receipt), TxInfo.from_receipt(receipt)
        )

    def execute(self, proposal_id: int) -> TxInfo:
        """Carry a proposal whose tally passes now (anyone may; useful after a voter left the consortium).

        Raises:
            ContractRevertError: not enough approvals from active members, expired, or executed.
        """
        return self._send(self._client.chain.consortium.execute(proposal_id), "execute proposal")

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal as stored."""
        return self._client.chain.consortium.proposal(proposal_id)

    def proposals(self, *, include_closed: bool = False) -> list[ProposalStanding]:
        """Every proposal still open for votes (with ``include_closed``, every proposal ever made), oldest
        first, each with its voters and its tally of active members now."""
        fc = self._client.chain
        now = self._client.now()
        found = []
        for proposal_id in range(1, fc.consortium.proposal_count() + 1):
            proposal = fc.consortium.proposal(proposal_id)
            if not include_closed and (proposal.executed or now > proposal.expiresAt):
                continue
            approvals, required = self.tally(proposal_id)
            voters = tuple(fc.consortium.voters(proposal_id))
            found.append(ProposalStanding(proposal_id, proposal, approvals, required, voters))
        return found

    def tally(self, proposal_id: int) -> tuple[int, int]:
        """(approvals from active members now, approvals required now)."""
        fc = self._client.chain
        return fc.consortium.active_approvals(proposal_id), fc.consortium.required_approvals(proposal_id)

    def member(self, institution: str) -> MemberInfo:
        """An institution's kind, status, epoch and custodian flag (``NONE`` when it never was a member)."""
        m = self._client.chain.member(institution)
        return MemberInfo(institution, m.kind, m.status, m.epoch, m.custodian)

    def members(self) -> list[MemberInfo]:
        """Every institution that ever was a member, in order of first appearance, with its status now."""
        fc = self._client.chain
        seen: dict[str, None] = {}
        for event in self._client.history.events([], [fc.consortium.address]):
            if event.name.startswith("Member"):
                seen[str(event.args["institution"])] = None
        return [self.member(address) for address in seen]

    def threshold_bps(self) -> int:
        """The share of active members whose votes carry a proposal, in basis points."""
        return self._client.chain.consortium.threshold_bps()

    def active_member_count(self) -> int:
        """Number of active members."""
        return self._client.chain.consortium.active_member_count()

    def parameter(self, which: Parameter) -> int:
        """A consortium parameter's value."""
        return self._client.chain.consortium.parameter(which)

    def custodians(self) -> list[str]:
        """The emergency custodians now (active members with the flag)."""
        return self._client.chain.consortium.custodians()

    def publish_member_key(self) -> TxInfo:
        """As a member's admin: publish your encryption key (custodian shares are wrapped to it)."""
        key = public_key_from_private(self._client.account_key())
        return self._send(self._client.chain.consortium.publish_member_key(key), "publish member key")

    # --- practitioners ---

    def sign_enrollment(self, institution: str, *, ttl: int = DEFAULT_ENROLLMENT_TTL) -> SignedEnrollment:
        """As a practitioner: sign your ``Enrollment`` naming the institution that may register you (with your
        encryption key); sends nothing. The institution's admin submits it with :meth:`register_practitioner`.
        """
        fc, me = self._client.chain, self._client.address
        nonce = fc.consortium.nonce(me, NonceDomain.ENROLLMENT, institution)
        deadline = fc.latest_timestamp() + ttl
        message = typed_data.enrollment(
            practitioner=me,
            institution=institution,
            nonce=nonce,
            deadline=deadline,
            chain_id=fc.chain_id,
            verifying_contract=fc.consortium.address,
        )
        signature = typed_data.sign_typed_data(self._client.account_key(), message)
        key = public_key_from_private(self._client.account_key())
        return SignedEnrollment(
            me,
            str(message["message"]["institution"]),
            key,
            nonce,
            deadline,
            signature,
            fc.chain_id,
            fc.consortium.address,
        )

    def register_practitioner(self, enrollment: SignedEnrollment) -> TxInfo:
        """As an institution's admin: register a practitioner who signed an enrollment naming you.

        Raises:
            InputError: the enrollment names another institution, chain or consortium, or its key is not the
                practitioner's (64 bytes whose keccak gives the address).
            ContractRevertError: the caller is not an active member, or the chain refuses the signature.
        """
        fc, me = self._client.chain, self._client.address
        if enrollment.institution.lower() != me.lower():
            raise InputError(
                _("this enrollment lets {institution} register {practitioner}, not {me}").format(
                    institution=enrollment.institution, practitioner=enrollment.practitioner, me=me
                )
            )
        if (
            enrollment.chain_id != fc.chain_id
            or enrollment.consortium.lower() != fc.consortium.address.lower()
        ):
            raise InputError(_("this enrollment was signed for another chain or consortium"))
        key = enrollment.encryption_key
        if len(key) != 64 or address_from_public_key(key).lower() != enrollment.practitioner.lower():
            raise InputError(
                _(
                    "the enrollment's encryption key is not the key of {practitioner} (64 bytes whose keccak gives the address)"
                ).format(practitioner=enrollment.practitioner)
            )
        call = fc.consortium.register_practitioner(
            enrollment.practitioner, key, enrollment.nonce, enrollment.deadline, enrollment.signature
        )
        return self._send(call, "register practitioner")

    def deactivate_practitioner(self, practitioner: str) -> TxInfo:
        """Deactivate one of the caller's institution's practitioners."""
        return self._send(
            self._client.chain.consortium.deactivate_practitioner(practitioner), "deactivate practitioner"
        )

    def resign(self) -> TxInfo:
        """As a practitioner: stop being one (your grants and agreements stop counting)."""
        return self._send(self._client.chain.consortium.resign(), "resign")

    def practitioner(self, account: str) -> PractitionerStatus:
        """A practitioner's institution, its kind, whether the practitioner counts now, and its enrollment."""
        return self._client.chain.practitioner(account)

    def practitioners(self, institution: str) -> list[PractitionerInfo]:
        """The practitioners an institution ever registered, with whether each is active now."""
        fc = self._client.chain
        seen: dict[str, None] = {}
        for event in self._client.history.events([None, address_topic(institution)], [fc.consortium.address]):
            if event.name == "PractitionerRegistered":
                seen[str(event.args["practitioner"])] = None
        return [PractitionerInfo(p, fc.practitioner(p).active) for p in seen]
