"""``client.consortium``: member institutions (admitted, suspended, reinstated, removed by vote) and the
practitioners each institution registers."""

from __future__ import annotations

from dataclasses import dataclass

from famchain.chain.history import address_topic
from famchain.chain.structs import InstitutionKind, MemberStatus, Practitioner, Proposal, ProposalAction
from famchain.crypto.keywrap import address_from_public_key
from famchain.errors import InputError
from famchain.services._base import Service
from famchain.services.results import TxInfo


@dataclass(frozen=True)
class ProposalOutcome:
    """A proposal just created: its id and whether the proposer's own vote already carried it."""

    proposal_id: int
    executed: bool
    tx: TxInfo


@dataclass(frozen=True)
class VoteOutcome:
    """A vote just cast: the proposal's approvals now and whether it was carried."""

    proposal_id: int
    approvals: int
    executed: bool
    tx: TxInfo


@dataclass(frozen=True)
class MemberInfo:
    """A consortium member institution."""

    institution: str
    kind: InstitutionKind
    status: MemberStatus


@dataclass(frozen=True)
class PractitionerInfo:
    """A practitioner an institution registered, and whether they are active now."""

    practitioner: str
    active: bool


class ConsortiumService(Service):
    """Membership votes (any member's admin key) and practitioners (an institution's admin key)."""

    def propose(
        self,
        action: ProposalAction,
        institution: str,
        *,
        kind: InstitutionKind = InstitutionKind.NONE,
        threshold_bps: int = 0,
    ) -> ProposalOutcome:
        """Propose a membership change; the proposal counts as the proposer's vote.

        Args:
            action: admit, suspend, reinstate, remove or set-threshold.
            institution: the institution's admin address (ignored for set-threshold).
            kind: the kind of institution to admit.
            threshold_bps: the new vote share, for set-threshold.

        Raises:
            InputError: admit without a kind.
            ContractRevertError: the caller is not an active member, or the change is not allowed.
        """
        if action is ProposalAction.ADMIT and kind is InstitutionKind.NONE:
            raise InputError("admit needs --kind")
        fc = self._client.chain
        receipt = self._client.sender.transact(
            fc.consortium.propose(action, institution, kind, threshold_bps), "propose"
        )
        return ProposalOutcome(
            fc.consortium.created_proposal(receipt),
            fc.consortium.executed(receipt),
            TxInfo.from_receipt(receipt),
        )

    def vote(self, proposal_id: int) -> VoteOutcome:
        """Vote for a proposal; it is carried as soon as enough active members agree."""
        fc = self._client.chain
        receipt = self._client.sender.transact(fc.consortium.vote(proposal_id), "vote")
        approvals = fc.consortium.proposal(proposal_id).approvals
        return VoteOutcome(
            proposal_id, approvals, fc.consortium.executed(receipt), TxInfo.from_receipt(receipt)
        )

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal and its tally."""
        return self._client.chain.consortium.proposal(proposal_id)

    def member(self, institution: str) -> MemberInfo:
        """An institution's kind and status (``NONE`` when it never was a member)."""
        m = self._client.chain.member(institution)
        return MemberInfo(institution, m.kind, m.status)

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

    def register_practitioner(self, practitioner: str, encryption_key: bytes) -> TxInfo:
        """Register a practitioner of the caller's institution with their encryption key.

        Raises:
            InputError: the key is not the practitioner's (64 bytes whose keccak gives the address).
            ContractRevertError: the caller is not an active member.
        """
        if (
            len(encryption_key) != 64
            or address_from_public_key(encryption_key).lower() != practitioner.lower()
        ):
            raise InputError(
                f"--encryption-key is not the key of {practitioner} (64 bytes whose keccak gives the address)"
            )
        return self._send(
            self._client.chain.consortium.register_practitioner(practitioner, encryption_key),
            "register practitioner",
        )

    def deactivate_practitioner(self, practitioner: str) -> TxInfo:
        """Deactivate one of the caller's institution's practitioners."""
        return self._send(
            self._client.chain.consortium.deactivate_practitioner(practitioner), "deactivate practitioner"
        )

    def practitioner(self, account: str) -> Practitioner:
        """A practitioner's institution, its kind, and whether the practitioner is active."""
        return self._client.chain.practitioner(account)

    def practitioners(self, institution: str) -> list[PractitionerInfo]:
        """The practitioners an institution ever registered, with whether each is active now."""
        fc = self._client.chain
        seen: dict[str, None] = {}
        for event in self._client.history.events([None, address_topic(institution)], [fc.consortium.address]):
            if event.name == "PractitionerRegistered":
                seen[str(event.args["practitioner"])] = None
        return [PractitionerInfo(p, fc.practitioner(p).active) for p in seen]
