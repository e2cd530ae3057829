"""`famchain resident` (registration, basic information) and `famchain agreement` (family doctor)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, days_to_seconds, emit, info
from famchain.errors import AccessDeniedError, InputError
from famchain.records.profile import load_profile
from famchain.records.sections import action_mask, action_names, section_mask, section_names

resident_app = typer.Typer(
    help="Residents: registration and basic information (基本信息).", no_args_is_help=True
)
agreement_app = typer.Typer(help="Family-doctor agreements (家庭医生签约).", no_args_is_help=True)

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
    client = s.client
    if client.residents.is_registered(client.address):
        raise InputError(f"{client.address} is already registered; use `resident update-profile`")
    s.confirm(f"register resident {client.address}")
    done = client.residents.register(data)
    typer.echo(f"registered {done.resident}; sealed basic information {done.profile_cid}")


@chain_command(resident_app, "update-profile")
def update_profile(s: Session, profile: ProfileFile) -> None:
    """Replace your basic information (only you can)."""
    data = load_profile(profile)
    client = s.client
    s.confirm("update basic information")
    done = client.residents.update_profile(data)
    typer.echo(f"basic information updated: {done.profile_cid}")


@chain_command(resident_app, "show")
def show(
    s: Session,
    address: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """Show a registration; the basic information too when you may read it (you, or your family doctor)."""
    who = address_arg(address, "resident") if address is not None else s.account.address
    shown = s.client.residents.show(who)
    if not shown.registered:
        raise InputError(f"{who} is not a registered resident")
    out: dict[str, Any] = {
        "resident": who,
        "encryption_key": "0x" + shown.encryption_key.hex(),
        "profile_cid": str(shown.profile_cid),
        "family_doctor": shown.family_doctor,
    }
    try:
        out["basic_information"] = s.client.residents.read_profile(who)
    except AccessDeniedError as exc:
        out["basic_information"] = None
        out["withheld"] = str(exc)
    lines = [f"{k}: {v}" for k, v in out.items() if k not in ("basic_information",)]
    for key, value in (out.get("basic_information") or {}).items():
        lines.append(f"  {key}: {value}")
    emit(out, as_json, "\n".join(lines))


def _released(release: Any, doctor: str) -> None:
    if release is not None:
        info(f"released keys of {release.covered} sealed object(s) to {doctor} (bundle {release.bundle_cid})")


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
    client = s.client
    s.confirm(f"propose an agreement with {other}")
    client.agreements.propose(other, mask, acts, term)
    typer.echo(f"proposed to {other}: {', '.join(section_names(mask))}; {', '.join(action_names(acts))}")


@chain_command(agreement_app, "accept")
def accept(s: Session, counterparty: Annotated[str, typer.Argument(help="Who proposed it.")]) -> None:
    """Accept a proposed agreement; a resident's client then shares their records with the doctor."""
    other = address_arg(counterparty, "counterparty")
    client = s.client
    client.agreements.waiting(other)  # refuses a missing proposal before asking
    s.confirm(f"accept the agreement proposed by {other}")
    done = client.agreements.accept(other)
    typer.echo(f"agreement in force between resident {done.resident} and doctor {done.doctor}")
    _released(done.release, done.doctor)


@chain_command(agreement_app, "share")
def share(s: Session) -> None:
    """As the resident: release your basic information and records to your active family doctor."""
    client = s.client
    s.confirm("release keys to the family doctor")
    release = client.agreements.share()
    doctor = client.agreements.active(client.address)
    _released(release, doctor.doctor if doctor else "")


@chain_command(agreement_app, "renew")
def renew(s: Session, term_days: TermDays = 365) -> None:
    """As the resident: extend your active agreement to now + term."""
    term = days_to_seconds(term_days, "--term-days")
    client = s.client
    s.confirm("renew the agreement")
    doctor = client.agreements.renew(term)
    typer.echo(f"agreement renewed until {doctor.endsAt if doctor else '?'}")


@chain_command(agreement_app, "terminate")
def terminate(
    s: Session, resident: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None
) -> None:
    """End the agreement (either side); the doctor is wrapped into no new record."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    client = s.client
    s.confirm(f"terminate the agreement of {who}")
    client.agreements.terminate(who)
    typer.echo(f"agreement of {who} terminated")


@chain_command(agreement_app, "show")
def show_agreement(
    s: Session,
    resident: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """Show the active agreement of a resident (and any pending proposal)."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    client = s.reader
    doctor = client.agreements.active(who)
    pending = client.agreements.pending(who)
    out: dict[str, Any] = {"resident": who, "active": None, "pending": None}
    if doctor:
        out["active"] = {
            "doctor": doctor.doctor,
            "sections": section_names(doctor.sections),
            "actions": action_names(doctor.actions),
            "ends_at": doctor.endsAt,
        }
    if pending is not None:
        out["pending"] = {
            "doctor": pending.doctor,
            "proposer": pending.proposer,
            "sections": section_names(pending.sections),
        }
    human = f"{who}: " + (
        f"family doctor {doctor.doctor} until {doctor.endsAt}" if doctor else "no active agreement"
    )
    emit(out, as_json, human)
