"""`famchain emergency`: break-glass access. Residents (or their guardians) opt in or out and choose the sections;
a hospital physician declares; custodians approve (release their shares); the physician reads; the patient, a
guardian or the family doctor reviews."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit, read_json, write_private
from famchain.errors import InputError

if TYPE_CHECKING:
    from famchain.records.emergency import EmergencyInfo

app = typer.Typer(
    help="Emergency access (break-glass): choices, declarations, custodians' approvals, reading, reviews.",
    no_args_is_help=True,
)

DEFAULT_SECTIONS = "past_history,diagnosis,prescriptions,allergies"
Resident = Annotated[
    str | None,
    typer.Option(
        "--for", help="Act for this resident as its guardian with the emergency scope (signs for it)."
    ),
]


def when(timestamp: int) -> str:
    """A block time for people."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _sections(text: str) -> int:
    from famchain.records.sections import section_mask

    return section_mask([text])


def _names(mask: int) -> str:
    from famchain.records.sections import section_names

    return ", ".join(section_names(mask)) or "none (opted out)"


def describe(info: EmergencyInfo, now: int) -> list[str]:
    """An emergency in a few lines: who, where, why, when, custodians, review."""
    lines = [
        f"emergency {info.emergency_id} for {info.patient}: {info.state(now)}",
        f"  declared {when(info.declared_at)} by {info.physician} of {info.institution}",
        f"  reason: {info.reason_text}",
        f"  covers: {_names(info.sections)} of the {info.card_length} record(s) anchored before it; "
        f"ends {when(info.expires_at)}",
        f"  custodians: {len(info.approvals)} of {info.threshold} approved",
    ]
    lines += [f"    {a.custodian} released its shares in block {a.block}" for a in info.approvals]
    review = info.review.name.lower() if info.reviews else "not reviewed"
    lines.append(
        f"  review: {review}"
        + "".join(f"; {r.reviewer} {'contested' if r.contested else 'accepted'}" for r in info.reviews)
    )
    return lines


@chain_command(app, "show")
def show(
    s: Session,
    patient: Annotated[str | None, typer.Option("--patient", help="The resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """A resident's emergency choice (the sections an emergency may open), with the consortium's settings."""
    who = address_arg(patient, "patient") if patient is not None else s.account.address
    client = s.reader
    sections = client.emergency.sections(who)
    settings = client.emergency.settings()
    human = (
        f"{who}: an emergency may open {_names(sections)}\n"
        f"custodians: {len(settings.custodians)}, threshold {settings.threshold}; an emergency lasts at most "
        f"{settings.duration / 3600:g} h; {settings.physician_daily_limit} declarations a day per physician, "
        f"{settings.institution_daily_limit} per institution"
    )
    from famchain.records.sections import section_names

    emit(
        {"resident": who, "sections": section_names(sections), "settings": settings.to_json()}, as_json, human
    )


@chain_command(app, "optin")
def optin(
    s: Session,
    sections: Annotated[
        str, typer.Option("--sections", help="The sections an emergency may open (comma-separated, or all).")
    ] = DEFAULT_SECTIONS,
    resident: Resident = None,
) -> None:
    """Let an emergency open these sections (widen or narrow by running it again); records sealed from now on
    share their keys among the custodians."""
    mask = _sections(sections)
    who = address_arg(resident, "--for") if resident is not None else None
    client = s.client
    s.confirm(f"let an emergency open {_names(mask)}" + (f" for {who}" if who else ""))
    client.emergency.opt_in(mask, resident=who)
    typer.echo(f"an emergency may open {_names(mask)} of {who or client.address}")


@chain_command(app, "optout")
def optout(s: Session, resident: Resident = None) -> None:
    """No emergency may be declared; records sealed from now on carry no emergency shares."""
    who = address_arg(resident, "--for") if resident is not None else None
    client = s.client
    s.confirm("opt out of emergency access" + (f" for {who}" if who else ""))
    client.emergency.opt_out(resident=who)
    typer.echo(f"{who or client.address} opted out of emergency access")


@chain_command(app, "sign-choice")
def sign_choice(
    s: Session,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed choice.")],
    sections: Annotated[
        str, typer.Option("--sections", help="The sections an emergency may open, or `none` to opt out.")
    ] = DEFAULT_SECTIONS,
    resident: Resident = None,
) -> None:
    """Sign an emergency choice for anyone to relay (`famchain emergency relay FILE`): no gas for the resident."""
    mask = 0 if sections.strip().lower() == "none" else _sections(sections)
    who = address_arg(resident, "--for") if resident is not None else None
    document = s.client.emergency.sign_choice(mask, resident=who)
    write_private(output, json.dumps(document, indent=2) + "\n")
    typer.echo(f"emergency choice ({_names(mask)}) signed and written to {output}")


@chain_command(app, "relay")
def relay(
    s: Session, document: Annotated[Path, typer.Argument(help="A signed emergency choice or review.")]
) -> None:
    """Send a signed emergency choice or review (you pay the gas)."""
    from famchain.services.emergency import CHOICE_KIND, REVIEW_KIND

    doc = read_json(document)
    client = s.client
    if doc.get("kind") == CHOICE_KIND:
        s.confirm(f"relay the emergency choice in {document}")
        client.emergency.relay_choice(doc)
    elif doc.get("kind") == REVIEW_KIND:
        s.confirm(f"relay the emergency review in {document}")
        client.emergency.relay_review(doc)
    else:
        raise InputError(f"{document} is not a signed emergency choice or review")
    typer.echo(f"relayed {document}")


@chain_command(app, "custodians")
def custodians(s: Session, as_json: Json = False) -> None:
    """The emergency custodians now and the emergency parameters (each changed by vote)."""
    settings = s.reader.emergency.settings()
    rows = [
        f"{c.institution}  {c.kind.label:13} {'key published' if c.key_published else 'NO KEY'}"
        for c in settings.custodians
    ]
    rows.append(
        f"threshold {settings.threshold} of {len(settings.custodians)}; duration {settings.duration} s; "
        f"{settings.physician_daily_limit}/day per physician, {settings.institution_daily_limit}/day per institution"
    )
    emit(settings.to_json(), as_json, "\n".join(rows))


@chain_command(app, "declare")
def declare(
    s: Session,
    patient: Annotated[str, typer.Argument(help="The patient.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="unconscious, life-threatening, major-trauma, poisoning, cannot-communicate, other (or a number).",
        ),
    ],
    as_json: Json = False,
) -> None:
    """As a hospital physician: declare an emergency for a patient (it covers the records anchored before it)."""
    from famchain.records.emergency import parse_reason

    who = address_arg(patient, "patient")
    code = parse_reason(reason)
    client = s.client
    s.confirm(f"declare an emergency for {who} ({code.label})")
    declared = client.emergency.declare(who, code)
    info = declared.emergency
    emit(
        {**info.to_json(client.now()), "tx": declared.tx.tx_hash},
        as_json,
        f"emergency {info.emergency_id} declared for {who}: covers {_names(info.sections)} of "
        f"{info.card_length} record(s) until {when(info.expires_at)}; {info.threshold} custodians must approve "
        f"(`famchain emergency approve {info.emergency_id}`)",
    )


@chain_command(app, "approve")
def approve(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """As a custodian: release your shares of the covered records to the physician and approve on chain."""
    client = s.client
    s.confirm(f"release your shares for emergency {emergency}")
    done = client.emergency.approve(emergency)
    lines = [
        f"released shares of {done.records} record(s) for emergency {emergency} in {done.bundle_cid}"
        + ("; the emergency is open" if done.opened else "")
    ]
    lines += [f"  left out {sk.record_id}: {sk.reason}" for sk in done.skipped]
    emit(done.to_json(), as_json, "\n".join(lines))


@chain_command(app, "pending")
def pending(s: Session, as_json: Json = False) -> None:
    """As a custodian: the emergencies still running that you have not approved."""
    client = s.client
    now = client.now()
    found = client.emergency.pending()
    human = "\n".join(line for e in found for line in describe(e, now)) or "no emergency waits for you"
    emit({"emergencies": [e.to_json(now) for e in found]}, as_json, human)


@chain_command(app, "read")
def read(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """As the declaring physician: the emergency sections of the records anchored before the declaration."""
    result = s.client.emergency.read(emergency)
    lines = [f"emergency {emergency} for {result.emergency.patient}; reason: {result.emergency.reason_text}"]
    for r in result.results:
        lines.append(f"record {r.record_id} by {r.anchor.author}")
        lines += [f"  {name}: {json.dumps(value, ensure_ascii=False)}" for name, value in r.sections.items()]
        lines += [f"  {name}: withheld ({why})" for name, why in r.withheld.items()]
    if not result.results:
        lines.append("no record anchored before the declaration holds an emergency section")
    emit(result.to_json(), as_json, "\n".join(lines))


@chain_command(app, "review")
def review(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    accept: Annotated[bool, typer.Option("--accept", help="It was justified.")] = False,
    contest: Annotated[bool, typer.Option("--contest", help="It was not (final).")] = False,
    sign: Annotated[
        Path | None, typer.Option("--sign", help="Sign it for someone else to relay; write it here.")
    ] = None,
) -> None:
    """As the patient, a guardian with the emergency scope or the family doctor: accept or contest an emergency."""
    if accept == contest:
        raise InputError("say --accept or --contest")
    client = s.client
    verdict = "contested" if contest else "accepted"
    if sign is not None:
        document = client.emergency.sign_review(emergency, contested=contest)
        write_private(sign, json.dumps(document, indent=2) + "\n")
        typer.echo(f"review of emergency {emergency} ({verdict}) signed and written to {sign}")
        return
    s.confirm(f"mark emergency {emergency} as {verdict}")
    client.emergency.review(emergency, contested=contest)
    typer.echo(f"emergency {emergency} {verdict}")


@chain_command(app, "list")
def list_emergencies(
    s: Session,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this patient's.")] = None,
    physician: Annotated[
        str | None, typer.Option("--physician", help="Only those this physician declared.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Emergencies (all, one patient's, or one physician's) with their state, approvals and review."""
    client = s.reader
    found = client.emergency.list(
        patient=address_arg(patient, "patient") if patient is not None else None,
        physician=address_arg(physician, "physician") if physician is not None else None,
    )
    now = client.now()
    human = "\n".join(line for e in found for line in describe(e, now)) or "no emergency declared"
    emit({"emergencies": [e.to_json(now) for e in found]}, as_json, human)


@chain_command(app, "info")
def info_command(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """One emergency: who declared it, where, why, when, the custodians' approvals and the review."""
    client = s.reader
    found = client.emergency.info(emergency)
    now = client.now()
    emit(found.to_json(now), as_json, "\n".join(describe(found, now)))
