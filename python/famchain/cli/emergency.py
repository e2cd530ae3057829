"""`famchain emergency`: break-glass access. Residents (or their guardians) opt in or out and choose the sections;
a hospital physician declares; custodians approve (release their shares); the physician reads; the patient, a
guardian or the family doctor reviews."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit, read_json, write_private
from famchain.cli._output import block_label, duration, name_of, section_label, sections_label, until, when
from famchain.errors import InputError
from famchain.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from famchain.cli.contacts import AddressBook
    from famchain.records.emergency import EmergencyInfo
    from famchain.services.emergency import EmergencySettings

__all__ = ["app", "describe", "reason", "state", "when"]  # `when` too: cli/audit.py takes it from here

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


REASONS = {
    1: N_("patient unconscious or unable to consent"),
    2: N_("immediate threat to life or health"),
    3: N_("major trauma on arrival"),
    4: N_("poisoning or overdose"),
    5: N_("patient cannot communicate and no guardian is present"),
    255: N_("other emergency"),
}
"""An emergency reason code -> its description for people (the library's words, as msgids)."""


def _sections(text: str) -> int:
    from famchain.records.sections import section_mask

    return section_mask([text])


def _names(mask: int) -> str:
    from famchain.records.sections import section_names

    return sections_label(section_names(mask)) if mask else _("none (opted out)")


def reason(code: int) -> str:
    """An emergency's reason for people: ``unconscious (patient unconscious or unable to consent)``."""
    from famchain.records.emergency import EmergencyReason

    try:
        known = EmergencyReason(code)
    except ValueError:
        return _("reason {code}").format(code=code)
    return f"{known.label} ({_(REASONS[code])})"


def state(info: EmergencyInfo, now: int) -> str:
    """Where an emergency stands: open, waiting for custodians (k of t), expired or over."""
    if now >= info.expires_at:
        return _("over (was opened)") if info.opened else _("expired (never opened)")
    if len(info.approvals) >= info.threshold:
        return _("open")
    return _("waiting for custodians ({k} of {t})").format(k=len(info.approvals), t=info.threshold)


def describe(
    info: EmergencyInfo,
    now: int,
    book: AddressBook | None = None,
    block_time: Callable[[int], int] | None = None,
) -> list[str]:
    """An emergency in a few lines: who, where, why, when, custodians, review.

    Args:
        info: The emergency.
        now: The chain's time (for its state and what is left of it).
        book: The address book names come from [default: the user's].
        block_time: A block's timestamp, to date the approvals [default: blocks shown without a date].
    """
    from famchain.cli.contacts import AddressBook

    book = book or AddressBook.of_user()

    def who(address: str) -> str:
        return name_of(address, book)

    records = ngettext(
        "{n} record anchored before it", "{n} records anchored before it", info.card_length
    ).format(n=info.card_length)
    lines = [
        _("emergency {id} for {patient}: {state}").format(
            id=info.emergency_id, patient=who(info.patient), state=state(info, now)
        ),
        "  "
        + _("declared {when} by {physician} of {institution}").format(
            when=when(info.declared_at), physician=who(info.physician), institution=who(info.institution)
        ),
        "  " + _("reason: {reason}").format(reason=reason(info.reason)),
        "  "
        + _("covers: {sections} of the {records}; {until}").format(
            sections=_names(info.sections), records=records, until=until(info.expires_at, now)
        ),
        "  " + _("custodians: {k} of {t} approved").format(k=len(info.approvals), t=info.threshold),
    ]
    for a in info.approvals:
        block = block_label(a.block, block_time(a.block) if block_time else None)
        lines.append(
            "    "
            + _("{custodian} released its shares in {block}").format(custodian=who(a.custodian), block=block)
        )
    verdicts = {"accepted": _("accepted"), "contested": _("contested")}
    review = (
        verdicts.get(info.review.name.lower(), info.review.name.lower())
        if info.reviews
        else _("not reviewed")
    )
    lines.append(
        "  "
        + _("review: {review}").format(review=review)
        + "".join(
            _("; {reviewer} {verdict}").format(
                reviewer=who(r.reviewer), verdict=_("contested") if r.contested else _("accepted")
            )
            for r in info.reviews
        )
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
        _("{resident}: an emergency may open {sections}").format(
            resident=name_of(who), sections=_names(sections)
        )
        + "\n"
        + _settings_line(settings)
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
    if who:
        s.confirm(
            _("let an emergency open {sections} for {resident}").format(sections=_names(mask), resident=who)
        )
    else:
        s.confirm(_("let an emergency open {sections}").format(sections=_names(mask)))
    client.emergency.opt_in(mask, resident=who)
    typer.echo(
        _("an emergency may open {sections} of {resident}").format(
            sections=_names(mask), resident=name_of(who or client.address)
        )
    )


@chain_command(app, "optout")
def optout(s: Session, resident: Resident = None) -> None:
    """No emergency may be declared; records sealed from now on carry no emergency shares."""
    who = address_arg(resident, "--for") if resident is not None else None
    client = s.client
    s.confirm(
        _("opt out of emergency access for {resident}").format(resident=who)
        if who
        else _("opt out of emergency access")
    )
    client.emergency.opt_out(resident=who)
    typer.echo(_("{resident} opted out of emergency access").format(resident=name_of(who or client.address)))


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
    typer.echo(
        _("emergency choice ({sections}) signed and written to {file}").format(
            sections=_names(mask), file=output
        )
    )


@chain_command(app, "relay")
def relay(
    s: Session, document: Annotated[Path, typer.Argument(help="A signed emergency choice or review.")]
) -> None:
    """Send a signed emergency choice or review (you pay the gas)."""
    from famchain.services.emergency import CHOICE_KIND, REVIEW_KIND

    doc = read_json(document)
    client = s.client
    if doc.get("kind") == CHOICE_KIND:
        s.confirm(_("relay the emergency choice in {file}").format(file=document))
        client.emergency.relay_choice(doc)
    elif doc.get("kind") == REVIEW_KIND:
        s.confirm(_("relay the emergency review in {file}").format(file=document))
        client.emergency.relay_review(doc)
    else:
        raise InputError(_("{file} is not a signed emergency choice or review").format(file=document))
    typer.echo(_("relayed {file}").format(file=document))


@chain_command(app, "custodians")
def custodians(s: Session, as_json: Json = False) -> None:
    """The emergency custodians now and the emergency parameters (each changed by vote)."""
    from famchain.cli._output import table

    settings = s.reader.emergency.settings()
    if as_json:
        emit(settings.to_json(), as_json)
        return
    rows = [
        (
            name_of(c.institution),
            _(KINDS.get(c.kind.label, c.kind.label)),
            _("published") if c.key_published else _("NO KEY"),
        )
        for c in settings.custodians
    ]
    table([N_("custodian"), N_("kind"), N_("member key")], rows)
    typer.echo(_settings_line(settings))


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
    s.confirm(
        _("declare an emergency for {patient} ({reason})").format(patient=name_of(who), reason=code.label)
    )
    declared = client.emergency.declare(who, code)
    info = declared.emergency
    now = client.now()
    records = ngettext("{n} record", "{n} records", info.card_length).format(n=info.card_length)
    emit(
        {**info.to_json(now), "tx": declared.tx.tx_hash},
        as_json,
        _(
            "emergency {id} declared for {patient}: covers {sections} of {records} {until}; {t} custodians "
            "must approve (`famchain emergency approve {id}`)"
        ).format(
            id=info.emergency_id,
            patient=name_of(who),
            sections=_names(info.sections),
            records=records,
            until=until(info.expires_at, now),
            t=info.threshold,
        ),
    )


@chain_command(app, "approve")
def approve(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """As a custodian: release your shares of the covered records to the physician and approve on chain."""
    client = s.client
    s.confirm(_("release your shares for emergency {id}").format(id=emergency))
    done = client.emergency.approve(emergency)
    lines = [
        ngettext(
            "released shares of {n} record for emergency {id} in {cid}",
            "released shares of {n} records for emergency {id} in {cid}",
            done.records,
        ).format(n=done.records, id=emergency, cid=done.bundle_cid)
        + (_("; the emergency is open") if done.opened else "")
    ]
    lines += [
        "  " + _("left out {record}: {why}").format(record=sk.record_id, why=sk.reason) for sk in done.skipped
    ]
    emit(done.to_json(), as_json, "\n".join(lines))


@chain_command(app, "pending")
def pending(s: Session, as_json: Json = False) -> None:
    """As a custodian: the emergencies still running that you have not approved."""
    client = s.client
    now = client.now()
    found = client.emergency.pending()
    human = "\n".join(
        line for e in found for line in describe(e, now, block_time=client.chain.block_timestamp)
    )
    human = human or _("no emergency waits for you")
    emit({"emergencies": [e.to_json(now) for e in found]}, as_json, human)


@chain_command(app, "read")
def read(
    s: Session,
    emergency: Annotated[int, typer.Argument(help="The emergency's id.", min=1, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """As the declaring physician: the emergency sections of the records anchored before the declaration."""
    result = s.client.emergency.read(emergency)
    lines = [
        _("emergency {id} for {patient}; reason: {reason}").format(
            id=emergency, patient=name_of(result.emergency.patient), reason=reason(result.emergency.reason)
        )
    ]
    for r in result.results:
        lines.append(
            _("record {record} by {author}").format(record=r.record_id, author=name_of(r.anchor.author))
        )
        lines += [
            f"  {section_label(name)}: {json.dumps(value, ensure_ascii=False)}"
            for name, value in r.sections.items()
        ]
        lines += [
            "  " + _("{section}: withheld ({why})").format(section=section_label(name), why=why)
            for name, why in r.withheld.items()
        ]
    if not result.results:
        lines.append(_("no record anchored before the declaration holds an emergency section"))
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
        raise InputError(_("say --accept or --contest"))
    client = s.client
    verdict = _("contested") if contest else _("accepted")
    if sign is not None:
        document = client.emergency.sign_review(emergency, contested=contest)
        write_private(sign, json.dumps(document, indent=2) + "\n")
        typer.echo(
            _("review of emergency {id} ({verdict}) signed and written to {file}").format(
                id=emergency, verdict=verdict, file=sign
            )
        )
        return
    s.confirm(_("mark emergency {id} as {verdict}").format(id=emergency, verdict=verdict))
    client.emergency.review(emergency, contested=contest)
    typer.echo(_("emergency {id} {verdict}").format(id=emergency, verdict=verdict))


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
    human = "\n".join(
        line for e in found for line in describe(e, now, block_time=client.chain.block_timestamp)
    )
    human = human or _("no emergency declared")
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
    if as_json:
        emit(found.to_json(now), as_json)
        return
    typer.echo("\n".join(describe(found, now, block_time=client.chain.block_timestamp)))


KINDS = {
    "primary-care": N_("primary care"),
    "hospital": N_("hospital"),
    "insurer": N_("insurer"),
    "research": N_("research institute"),
    "regulator": N_("regulator"),
}
"""An institution kind's label -> its name for people."""


def _settings_line(settings: EmergencySettings) -> str:
    return _(
        "threshold {t} of {n} custodians; an emergency lasts at most {duration}; {per_physician} declarations "
        "a day per physician, {per_institution} per institution"
    ).format(
        t=settings.threshold,
        n=len(settings.custodians),
        duration=duration(settings.duration),
        per_physician=settings.physician_daily_limit,
        per_institution=settings.institution_daily_limit,
    )
