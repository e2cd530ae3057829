"""Who is entitled to a patient's new records at this moment, as the chain says.

Section keys are wrapped, at sealing time, for the patient, the author, the active family doctor (for the
sections of the agreement) and every current grantee with READ on the section. Nobody else is wrapped in, so
a revoked grantee or a former family doctor never receives a key to a new record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from famchain.chain.structs import FamilyDoctor
from famchain.crypto.envelope import Recipient
from famchain.errors import AccessDeniedError, InputError
from famchain.records.actor import Actor
from famchain.records.sections import Action, section_names


@dataclass(frozen=True)
class Entitlements:
    """Who may read a patient's new records, and what the author may append, as of one block."""

    block: int
    doctor: FamilyDoctor | None
    grantees: dict[str, tuple[int, int]]
    """Grantee -> (sections, actions) of every consent in force."""
    appendable: dict[int, bool] = field(default_factory=dict)
    """Section mask -> whether the author may append it (filled on demand)."""


def current_grantees(actor: Actor, patient: str) -> dict[str, tuple[int, int]]:
    """Grantee -> (sections, actions) of every consent of ``patient`` in force now (checked on chain)."""
    candidates = {
        str(e.args["grantee"]) for e in actor.history.patient_events(patient) if e.name == "ConsentGranted"
    }
    now = actor.fc.latest_timestamp()
    out = {}
    for grantee in sorted(candidates):
        grant = actor.fc.grant(patient, grantee)
        if grant.active_at(now) and actor.fc.practitioner(grantee).active:
            out[grantee] = (grant.sections, grant.actions)
    return out


def public_key(actor: Actor, account: str) -> bytes:
    """The encryption key ``account`` registered on chain.

    Raises:
        InputError: none registered.
    """
    key = actor.fc.encryption_key(account)
    if key is None:
        raise InputError(f"{account} has registered no encryption key")
    return key


def entitlements(actor: Actor, patient: str) -> Entitlements:
    """The patient's entitlements at the latest block; reused while no new block arrives.

    Sealing many records for one patient between two blocks (a batch) then costs one set of chain reads,
    and a record is never sealed on a view older than the block it is sealed in.
    """
    block = actor.fc.block_number()
    cached = actor.entitlements_cache.get(patient)
    if cached is not None and cached.block == block:
        return cached
    view = Entitlements(block, actor.fc.family_doctor(patient), current_grantees(actor, patient))
    actor.entitlements_cache[patient] = view
    return view


def entitled_recipients(actor: Actor, patient: str, names: Iterable[str]) -> list[Recipient]:
    """Recipients of a new record of ``patient`` with sections ``names``, as of the latest block."""
    names = list(names)
    view = entitlements(actor, patient)
    recipients = [Recipient(public_key(actor, patient)), Recipient(public_key(actor, actor.address))]
    doctor = view.doctor
    if doctor is not None and doctor.actions & Action.READ:
        visible = frozenset(n for n in names if n in section_names(doctor.sections))
        if visible:
            recipients.append(Recipient(public_key(actor, doctor.doctor), visible))
    for grantee, (sections, actions) in view.grantees.items():
        if actions & Action.READ:
            visible = frozenset(n for n in names if n in section_names(sections))
            if visible:
                recipients.append(Recipient(public_key(actor, grantee), visible))
    return recipients


def check_author(actor: Actor, patient: str, mask: int) -> None:
    """Refuse, before anything is sealed, an author the chain would not let append ``mask``.

    Raises:
        InputError: the patient is not registered.
        AccessDeniedError: no agreement or consent lets the author append these sections.
    """
    view = entitlements(actor, patient)
    if mask not in view.appendable:
        if not actor.fc.is_registered(patient):
            raise InputError(f"{patient} is not a registered resident")
        view.appendable[mask] = actor.fc.is_authorized(patient, actor.address, mask, Action.APPEND)
    if not view.appendable[mask]:
        raise AccessDeniedError(
            f"no active agreement or consent from {patient} lets {actor.address} add "
            f"{', '.join(section_names(mask))}"
        )


def is_family_doctor(actor: Actor, patient: str, account: str) -> bool:
    """True when ``account`` is the patient's active family doctor."""
    doctor = actor.fc.family_doctor(patient)
    return doctor is not None and doctor.doctor == account
