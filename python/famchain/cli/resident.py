"""`famchain resident` (registration, basic information) and `famchain agreement` (family doctor)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, days_to_seconds, emit, info
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import AccessDeniedError, InputError, StorageError
from famchain.records import pipeline
from famchain.records.profile import load_profile
from famchain.records.sections import action_mask, action_names, section_mask, section_names
from famchain.storage.cid import cid_from_digest

resident_app = typer.Typer(help="Residents: registration and basic information (基本信息).")
agreement_app = typer.Typer(help="Family-doctor agreements (家庭医生签约).")

ProfileFile = Annotated[
    Path, typer.Option("--profile", help="Basic information as JSON (see docs/record-format.md).")
]
Sections = Annotated[list[str], typer.Option("--sections", help="Section names, comma separated, or `all`.")]
Actions = Annotated[list[str], typer.Option("--actions", help="read, append (comma separated).")]
TermDays = Annotated[float, typer.Option("--term-days", help="Length of the agreement in days.")]


@chain_command(resident_app, "register")
def register(s: Session, profile: ProfileFile) -> None:
    """Register yourself: your encryption key and a commitment to your sealed basic information."""
    data = load_profile(profile)
    actor = s.actor
    if s.fc.is_registered(actor.address):
        raise InputError(f"{actor.address} is already registered; use `resident update-profile`")
    digest, cid = pipeline.seal_profile(actor, data)
    s.confirm(f"register resident {actor.address}")
    s.sender.transact(
        s.fc.residents.functions.register(public_key_from_private(actor.private_key), digest), "register"
    )
    typer.echo(f"registered {actor.address}; sealed basic information {cid}")


@chain_command(resident_app, "update-profile")
def update_profile(s: Session, profile: ProfileFile) -> None:
    """Replace your basic information (only you can)."""
    data = load_profile(profile)
    actor = s.actor
    digest, cid = pipeline.seal_profile(actor, data)
    s.confirm("update basic information")
    s.sender.transact(s.fc.residents.functions.updateProfile(digest), "update profile")
    typer.echo(f"basic information updated: {cid}")


@chain_command(resident_app, "show")
def show(
    s: Session,
    address: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """Show a registration; the basic information too when you may read it (you, or your family doctor)."""
    who = address_arg(address, "resident") if address is not None else s.account.address
    if not s.fc.is_registered(who):
        raise InputError(f"{who} is not a registered resident")
    digest = s.fc.profile_digest(who)
    doctor = s.fc.family_doctor(who)
    out: dict[str, Any] = {
        "resident": who,
        "encryption_key": "0x" + (s.fc.encryption_key(who) or b"").hex(),
        "profile_cid": str(cid_from_digest(digest, 0x55)),
        "family_doctor": doctor.doctor if doctor else None,
    }
    try:
        out["basic_information"] = pipeline.read_profile(s.actor, who)
    except AccessDeniedError as exc:
        out["basic_information"] = None
        out["withheld"] = str(exc)
    lines = [f"{k}: {v}" for k, v in out.items() if k not in ("basic_information",)]
    for key, value in (out.get("basic_information") or {}).items():
        lines.append(f"  {key}: {value}")
    emit(out, as_json, "\n".join(lines))


def _share_with_doctor(s: Session) -> None:
    actor = s.actor
    doctor = s.fc.family_doctor(actor.address)
    if doctor is None:
        raise InputError(f"{actor.address} has no active family doctor")
    released = pipeline.release_existing(actor, doctor.doctor, doctor.sections)
    if released:
        info(f"released keys of {released[1]} sealed object(s) to {doctor.doctor} (bundle {released[0]})")


@chain_command(agreement_app, "propose")
def propose(
    s: Session,
    counterparty: Annotated[
        str, typer.Argument(help="The doctor (if you are the resident) or the resident.")
    ],
    sections: Sections = ["all"],  # noqa: B006 - typer reads the default, never mutates it
    actions: Actions = ["read,append"],  # noqa: B006
    term_days: TermDays = 365,
) -> None:
    """Propose a family-doctor agreement; the other side accepts it with the same terms."""
    other = address_arg(counterparty, "counterparty")
    mask, acts = section_mask(sections), action_mask(actions)
    term = days_to_seconds(term_days, "--term-days")
    s.confirm(f"propose an agreement with {other}")
    s.sender.transact(
        s.fc.residents.functions.proposeAgreement(other, mask, acts, term),
        "propose agreement",
    )
    typer.echo(f"proposed to {other}: {', '.join(section_names(mask))}; {', '.join(action_names(acts))}")


@chain_command(agreement_app, "accept")
def accept(s: Session, counterparty: Annotated[str, typer.Argument(help="Who proposed it.")]) -> None:
    """Accept a proposed agreement; a resident's client then shares their records with the doctor."""
    other = address_arg(counterparty, "counterparty")
    me = s.account.address
    mine = s.fc.residents.functions.pendingAgreement(me).call()
    resident, pending = (
        (me, mine) if mine[1] == other else (other, s.fc.residents.functions.pendingAgreement(other).call())
    )
    _, proposer, sections, actions, term = pending
    if proposer != other or me not in (resident, pending[0]):
        raise InputError(f"no agreement proposed by {other} is waiting for {me}")
    s.confirm(f"accept the agreement proposed by {other}")
    s.sender.transact(
        s.fc.residents.functions.acceptAgreement(other, sections, actions, term), "accept agreement"
    )
    typer.echo(f"agreement in force between resident {resident} and doctor {pending[0]}")
    if resident == me:
        try:
            _share_with_doctor(s)
        except StorageError as exc:
            raise StorageError(
                f"the agreement is in force, but your records are not shared with the doctor yet ({exc}); "
                "run `famchain agreement share` when the store is reachable"
            ) from None


@chain_command(agreement_app, "share")
def share(s: Session) -> None:
    """As the resident: release your basic information and records to your active family doctor."""
    s.confirm("release keys to the family doctor")
    _share_with_doctor(s)


@chain_command(agreement_app, "renew")
def renew(s: Session, term_days: TermDays = 365) -> None:
    """As the resident: extend your active agreement to now + term."""
    term = days_to_seconds(term_days, "--term-days")
    s.confirm("renew the agreement")
    s.sender.transact(s.fc.residents.functions.renewAgreement(term), "renew agreement")
    doctor = s.fc.family_doctor(s.account.address)
    typer.echo(f"agreement renewed until {doctor.ends_at if doctor else '?'}")


@chain_command(agreement_app, "terminate")
def terminate(
    s: Session, resident: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None
) -> None:
    """End the agreement (either side); the doctor is wrapped into no new record."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    s.confirm(f"terminate the agreement of {who}")
    s.sender.transact(s.fc.residents.functions.terminateAgreement(who), "terminate agreement")
    typer.echo(f"agreement of {who} terminated")


@chain_command(agreement_app, "show")
def show_agreement(
    s: Session,
    resident: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """Show the active agreement of a resident (and any pending proposal)."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    doctor = s.fc.family_doctor(who)
    pend = s.fc.residents.functions.pendingAgreement(who).call()
    out: dict[str, Any] = {"resident": who, "active": None, "pending": None}
    if doctor:
        out["active"] = {
            "doctor": doctor.doctor,
            "sections": section_names(doctor.sections),
            "actions": action_names(doctor.actions),
            "ends_at": doctor.ends_at,
        }
    if pend[1] != "0x" + "0" * 40:
        out["pending"] = {"doctor": pend[0], "proposer": pend[1], "sections": section_names(pend[2])}
    human = f"{who}: " + (
        f"family doctor {doctor.doctor} until {doctor.ends_at}" if doctor else "no active agreement"
    )
    emit(out, as_json, human)
