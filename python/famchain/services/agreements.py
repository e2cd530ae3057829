"""``client.agreements``: family-doctor agreements (家庭医生签约): proposed by one side, accepted by the other,
renewed by the resident, terminated by either; while one is in force the doctor reads the basic information
and the card and may append records. A termination (or a withdrawn proposal) consumes the resident's
Agreement/doctor nonce, so no signature made before it can bring the agreement back."""

from __future__ import annotations

from dataclasses import dataclass

from famchain.chain.history import address_topic
from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import FamilyDoctor, PendingAgreement
from famchain.crypto import typed_data
from famchain.errors import InputError, StorageError
from famchain.i18n import _
from famchain.records import sharing
from famchain.records.sharing import Release
from famchain.services._base import Service
from famchain.services.results import TxInfo

DEFAULT_SIGNATURE_TTL = 86_400


@dataclass(frozen=True)
class Accepted:
    """An agreement just put in force, and the key release to the doctor when the resident accepted it."""

    resident: str
    doctor: str
    release: Release | None
    tx: TxInfo


@dataclass(frozen=True)
class SignedAcceptance:
    """A resident's ``Agreement`` signature accepting a doctor, for the doctor (or anyone) to send.

    Attributes:
        nonce: the keyed nonce (Agreement/doctor) the signature carries.
    """

    resident: str
    doctor: str
    sections: int
    actions: int
    term: int
    nonce: int
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class Waiting:
    """A proposal that waits for the caller: the pair, who proposed it, and its terms."""

    resident: str
    doctor: str
    proposer: str
    proposal: PendingAgreement


class AgreementService(Service):
    """Family-doctor agreements."""

    def active(self, resident: str) -> FamilyDoctor | None:
        """The agreement in force for ``resident`` (its doctor still enrolled as when it began), or None."""
        return self._client.chain.family_doctor(resident)

    def pending(self, resident: str, doctor: str) -> PendingAgreement | None:
        """The (resident, doctor) pair's proposal waiting for acceptance, or None."""
        return self._client.chain.residents.pending_agreement(resident, doctor)

    def proposals(self, resident: str) -> list[Waiting]:
        """The resident's proposals waiting for acceptance (one per doctor), from the chain."""
        client = self._client
        doctors: dict[str, None] = {}
        for event in client.history.patient_events(resident):
            if event.name == "AgreementProposed":
                doctors[str(event.args["doctor"])] = None
        out = []
        for doctor in doctors:
            pending = self.pending(resident, doctor)
            if pending is not None:
                out.append(Waiting(resident, doctor, resident if pending.byResident else doctor, pending))
        return out

    def involving(self, account: str) -> list[Waiting]:
        """Every proposal waiting for acceptance in which ``account`` is the resident or the doctor, whoever
        proposed it, from the chain."""
        client = self._client
        history = client.history
        pairs: dict[tuple[str, str], None] = {}
        for event in history.patient_events(account):
            if event.name == "AgreementProposed":
                pairs[(account, str(event.args["doctor"]))] = None
        as_doctor = ["0x" + history.topic("AgreementProposed").hex(), None, address_topic(account)]
        for event in history.events(as_doctor, [client.chain.residents.address]):
            pairs[(str(event.args["resident"]), account)] = None
        out = []
        for resident, doctor in pairs:
            pending = self.pending(resident, doctor)
            if pending is not None:
                out.append(Waiting(resident, doctor, resident if pending.byResident else doctor, pending))
        return out

    def incoming(self, account: str) -> list[Waiting]:
        """The proposals others made that wait for ``account`` to accept (or refuse) them."""
        return [w for w in self.involving(account) if w.proposer != account]

    def propose(self, counterparty: str, sections: int, actions: int, term: int) -> TxInfo:
        """Propose an agreement (doctor to resident or resident to doctor) for ``term`` seconds."""
        return self._send(
            self._client.chain.residents.propose_agreement(counterparty, sections, actions, term),
            "propose agreement",
        )

    def waiting(self, counterparty: str) -> Waiting:
        """The proposal ``counterparty`` made that waits for the caller.

        Raises:
            InputError: no proposal from ``counterparty`` is waiting for the caller.
        """
        me: str = self._client.address
        # The caller is the resident of the pair when the counterparty proposed as the doctor, and the other
        # way round; try both and keep the one the counterparty proposed.
        as_resident = self.pending(me, counterparty)
        if as_resident is not None and not as_resident.byResident:
            return Waiting(me, counterparty, counterparty, as_resident)
        as_doctor = self.pending(counterparty, me)
        if as_doctor is not None and as_doctor.byResident:
            return Waiting(counterparty, me, counterparty, as_doctor)
        raise InputError(
            _("no agreement proposed by {counterparty} is waiting for {me}").format(
                counterparty=counterparty, me=me
            )
        )

    def accept(self, counterparty: str, *, share: bool = True) -> Accepted:
        """Accept the agreement ``counterparty`` proposed, with exactly the proposed terms.

        When the resident accepts, their client then releases the basic information and the records on the
        card to the doctor (``share``).

        Raises:
            InputError: no proposal from ``counterparty`` is waiting for the caller.
            StorageError: the agreement is in force but the release could not be stored (run :meth:`share`).
        """
        waiting = self.waiting(counterparty)
        p = waiting.proposal
        tx = self._send(
            self._client.chain.residents.accept_agreement(counterparty, p.sections, p.actions, p.term),
            "accept agreement",
        )
        release = None
        if waiting.resident == self._client.address and share:
            try:
                release = self.share()
            except StorageError as exc:
                raise StorageError(
                    _(
                        "the agreement is in force, but your records are not shared with the doctor yet ({exc}); run `famchain agreement share` when the store is reachable"
                    ).format(exc=exc)
                ) from exc
        return Accepted(waiting.resident, waiting.doctor, release, tx)

    def withdraw(self, counterparty: str) -> TxInfo:
        """Withdraw (or, as the other side, refuse) the proposal of your pair with ``counterparty``."""
        return self._send(self._client.chain.residents.withdraw_proposal(counterparty), "withdraw proposal")

    def share(self) -> Release:
        """As the resident: release the basic information and the card's records to the active family doctor.

        Raises:
            InputError: no active family doctor.
        """
        actor = self._client.actor
        doctor = self.active(actor.address)
        if doctor is None:
            raise InputError(_("{address} has no active family doctor").format(address=actor.address))
        return sharing.release_existing(actor, doctor.doctor, doctor.sections, include_profile=True)

    def sign_acceptance(
        self, doctor: str, sections: int, actions: int, term: int, *, ttl: int = DEFAULT_SIGNATURE_TTL
    ) -> SignedAcceptance:
        """As the resident: sign the acceptance of ``doctor`` for the doctor to send (gasless for you)."""
        fc, me = self._client.chain, self._client.address
        nonce = fc.residents.nonce(me, NonceDomain.AGREEMENT, doctor)
        deadline = fc.latest_timestamp() + ttl
        message = typed_data.agreement(
            resident=me,
            doctor=doctor,
            sections=sections,
            actions=actions,
            term=term,
            nonce=nonce,
            deadline=deadline,
            chain_id=fc.chain_id,
            verifying_contract=fc.residents.address,
        )
        signature = typed_data.sign_typed_data(self._client.account_key(), message)
        return SignedAcceptance(me, doctor, sections, actions, term, nonce, deadline, signature)

    def accept_signed(self, signed: SignedAcceptance) -> TxInfo:
        """As the doctor: put in force an agreement the resident signed (``acceptAgreementWithSig``)."""
        call = self._client.chain.residents.accept_agreement_with_sig(
            signed.resident,
            signed.doctor,
            signed.sections,
            signed.actions,
            signed.term,
            signed.nonce,
            signed.deadline,
            signed.signature,
        )
        return self._send(call, "accept signed agreement")

    def renew(self, term: int) -> FamilyDoctor | None:
        """As the resident: extend the active agreement to now + ``term`` seconds; returns it renewed."""
        self._send(self._client.chain.residents.renew_agreement(term), "renew agreement")
        return self.active(self._client.address)

    def terminate(self, resident: str | None = None) -> TxInfo:
        """End the agreement of ``resident`` (yours by default); either side may. Every outstanding
        ``Agreement`` signature of the resident for that doctor dies with it (its nonce is consumed)."""
        who = resident or self._client.address
        return self._send(self._client.chain.residents.terminate_agreement(who), "terminate agreement")
