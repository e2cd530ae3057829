"""Who is entitled to a patient's new records at one block, as the chain says.

Section keys are wrapped, at sealing time, for the patient, the author, the active family doctor (for the
sections of the agreement, with READ), every grantee whose consent is in force with READ on the section (its
enrollment still the one it was granted under), and every guardian with the READ scope. Nobody else is wrapped
in, so a revoked grantee, a re-registered practitioner or a former family doctor never receives a key to a new
record.

The keys of the patient's emergency sections present in the record are also split ``t`` of ``n`` among the
consortium's emergency custodians of that block (:class:`EmergencyPlan`): the patient's choice
(``EmergencyAccess.emergencySections``), ``Consortium.custodians()`` with their published member keys, and the
``CustodianThreshold`` parameter. No emergency block is written while the patient has opted out or while there
are fewer custodians (with a published key) than the threshold: no emergency could be declared then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from famchain.chain.structs import FamilyDoctor, GuardianScope, Parameter
from famchain.crypto.envelope import EmergencyShares, Recipient
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import AccessDeniedError, InputError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.sections import ALL_SECTIONS, Action, section_names


@dataclass(frozen=True)
class EmergencyPlan:
    """How a patient's new records share the keys of their emergency sections, as of one block.

    Attributes:
        sections: the patient's emergency choice (a section mask; never 0 here).
        custodians: the custodians of that block, in the contract's order (custodian ``j`` gets share ``j + 1``).
        keys: their published member keys, in the same order.
        threshold: shares needed (the ``CustodianThreshold`` parameter of that block).
    """

    sections: int
    custodians: tuple[str, ...]
    keys: tuple[bytes, ...]
    threshold: int

    def shares(self, names: Iterable[str]) -> EmergencyShares | None:
        """What :func:`~famchain.crypto.envelope.seal` takes for a record with sections ``names`` (None when no
        emergency section is present)."""
        present = frozenset(names) & frozenset(section_names(self.sections))
        if not present:
            return None
        return EmergencyShares(list(self.keys), self.threshold, present)


@dataclass(frozen=True)
class Entitlements:
    """Who may read a patient's new records, and what the author may append, as of one block."""

    block: int
    doctor: FamilyDoctor | None
    grantees: dict[str, tuple[int, int]]
    """Grantee -> (sections, actions) of every consent in force."""
    guardians: tuple[str, ...] = ()
    """Guardians with the READ scope now (they read every section)."""
    emergency: EmergencyPlan | None = None
    """The emergency sharing of new records (None: no emergency block)."""
    appendable: dict[int, bool] = field(default_factory=dict)
    """Section mask -> whether the author may append it (filled on demand)."""
    keys: dict[str, bytes | None] = field(default_factory=dict)
    """Account -> its registered encryption key as of this block (filled on demand)."""

    def key(self, actor: Actor, account: str) -> bytes | None:
        """``account``'s registered encryption key, read once per block."""
        if account not in self.keys:
            self.keys[account] = actor.fc.encryption_key(account)
        return self.keys[account]

    def readers(self) -> dict[str, int]:
        """Every party (besides patient and author) entitled to read, with the sections it may read."""
        out: dict[str, int] = {}
        if self.doctor is not None and self.doctor.actions & Action.READ:
            out[self.doctor.doctor] = self.doctor.sections
        for grantee, (sections, actions) in self.grantees.items():
            if actions & Action.READ:
                out[grantee] = out.get(grantee, 0) | sections
        for guardian in self.guardians:
            out[guardian] = ALL_SECTIONS
        return out


def _parties(actor: Actor, patient: str, event: str, argument: str, to_block: int) -> list[str]:
    found = {
        str(e.args[argument]) for e in actor.history.patient_events(patient, to_block) if e.name == event
    }
    return sorted(found)


def current_grantees(actor: Actor, patient: str, block: Any = "latest") -> dict[str, tuple[int, int]]:
    """Grantee -> (sections, actions) of every consent of ``patient`` in force at ``block`` (checked on chain:
    unexpired, and the grantee still enrolled as it was when granted)."""
    number = actor.fc.block_number() if block == "latest" else int(block)
    now = actor.fc.block_timestamp(number)
    out = {}
    for grantee in _parties(actor, patient, "ConsentGranted", "grantee", number):
        grant = actor.fc.consents.grant_of(patient, grantee, number)
        if not grant.active_at(now) or grant.enrollment == 0:
            continue
        if actor.fc.consortium.practitioner(grantee).enrollment == grant.enrollment:
            out[grantee] = (grant.sections, grant.actions)
    return out


def current_guardians(actor: Actor, patient: str, block: Any = "latest") -> tuple[str, ...]:
    """Guardians of ``patient`` whose scope includes READ at ``block``."""
    number = actor.fc.block_number() if block == "latest" else int(block)
    return tuple(
        g
        for g in _parties(actor, patient, "GuardianAppointed", "guardian", number)
        if actor.fc.residents.guardian_scope(patient, g, number) & GuardianScope.READ
    )


def public_key(actor: Actor, account: str) -> bytes:
    """The encryption key ``account`` registered on chain.

    Raises:
        InputError: none registered.
    """
    key = actor.fc.encryption_key(account)
    if key is None:
        raise InputError(_("{account} has registered no encryption key").format(account=account))
    return key


def emergency_plan(actor: Actor, patient: str, block: Any = "latest") -> EmergencyPlan | None:
    """How ``patient``'s records sealed at ``block`` share their emergency section keys (None: they do not)."""
    fc = actor.fc
    chosen = fc.emergency.emergency_sections(patient, block)
    if not chosen:
        return None
    members = fc.consortium.custodians(block)
    if not members:
        return None
    threshold = fc.consortium.parameter(Parameter.CUSTODIAN_THRESHOLD, block)
    custodians = []
    keys = []
    for custodian in members:
        key = fc.member_key(custodian, block)
        if key is not None:
            custodians.append(custodian)
            keys.append(key)
    if not custodians or len(custodians) < threshold:
        return None
    return EmergencyPlan(chosen, tuple(custodians), tuple(keys), threshold)


def entitlements_at(actor: Actor, patient: str, block: int) -> Entitlements:
    """The patient's entitlements as of ``block``."""
    return Entitlements(
        block,
        actor.fc.family_doctor(patient, block),
        current_grantees(actor, patient, block),
        current_guardians(actor, patient, block),
        emergency_plan(actor, patient, block),
    )


def entitlements(actor: Actor, patient: str) -> Entitlements:
    """The patient's entitlements at the latest block; reused while no new block arrives.

    Sealing many records for one patient between two blocks (a batch) then costs one set of chain reads,
    and a record is never sealed on a view older than the block it is sealed in.
    """
    block = actor.fc.block_number()
    cached = actor.entitlements_cache.get(patient)
    if cached is not None and cached.block == block:
        return cached
    view = entitlements_at(actor, patient, block)
    actor.entitlements_cache[patient] = view
    return view


@dataclass(frozen=True)
class Sealed:
    """Whom a record is sealed for: the recipients and their addresses (the author's outbox keeps these), and
    the custodians its emergency section keys are split among."""

    recipients: list[Recipient]
    addresses: tuple[str, ...]
    block: int
    emergency: EmergencyShares | None = None
    custodians: tuple[str, ...] = ()


def entitled_recipients(
    actor: Actor, patient: str, names: Iterable[str], view: Entitlements | None = None
) -> Sealed:
    """Recipients of a new record of ``patient`` with sections ``names``, as of the latest block (or ``view``).

    The author is wrapped in with the key it decrypts with; parties without a registered encryption key (a
    guardian that is no resident or practitioner) cannot be wrapped in and are left out.

    Raises:
        InputError: the patient has registered no encryption key.
    """
    names = list(names)
    view = view or entitlements(actor, patient)
    patient_key = view.key(actor, patient)
    if patient_key is None:
        raise InputError(_("{account} has registered no encryption key").format(account=patient))
    recipients = [Recipient(patient_key), Recipient(public_key_from_private(actor.private_key))]
    addresses = [patient, actor.address]
    for party, sections in view.readers().items():
        if party in addresses:
            continue
        visible = frozenset(n for n in names if n in section_names(sections))
        key = view.key(actor, party)
        if visible and key is not None:
            recipients.append(Recipient(key, visible))
            addresses.append(party)
    plan = view.emergency
    shares = plan.shares(names) if plan is not None else None
    custodians = plan.custodians if plan is not None and shares is not None else ()
    return Sealed(recipients, tuple(dict.fromkeys(addresses)), view.block, shares, custodians)


def check_author(actor: Actor, patient: str, mask: int, view: Entitlements | None = None) -> None:
    """Refuse, before anything is sealed, an author the chain would not let append ``mask``.

    Raises:
        InputError: the patient is not registered, or the card is locked by a deletion request.
        AccessDeniedError: no agreement or consent lets the author append these sections.
    """
    view = view or entitlements(actor, patient)
    if mask not in view.appendable:
        status = actor.fc.residents.resident_status(patient)
        if not status.registered:
            raise InputError(_("{patient} is not a registered resident").format(patient=patient))
        if status.locked:
            raise AccessDeniedError(
                _(
                    "the card of {patient} is locked by the resident's deletion request: no record can be added"
                ).format(patient=patient)
            )
        view.appendable[mask] = actor.fc.is_authorized(patient, actor.address, mask, Action.APPEND)
    if not view.appendable[mask]:
        raise AccessDeniedError(
            _("no active agreement or consent from {patient} lets {author} add {sections}").format(
                patient=patient, author=actor.address, sections=", ".join(section_names(mask))
            )
        )


def is_family_doctor(actor: Actor, patient: str, account: str) -> bool:
    """True when ``account`` is the patient's active family doctor."""
    doctor = actor.fc.family_doctor(patient)
    return doctor is not None and doctor.doctor == account
