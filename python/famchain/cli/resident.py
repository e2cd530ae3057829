"""`famchain resident` (registration, basic information) and `famchain agreement` (family doctor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from famchain.cli._context import (
    Json,
    Session,
    address_arg,
    chain_command,
    days_to_seconds,
    emit,
    info,
    read_json,
)
from famchain.cli._output import fields, name_of, sections_label
from famchain.cli._when import ask, span, until
from famchain.errors import AccessDeniedError, InputError
from famchain.i18n import N_, _, ngettext
from famchain.records.profile import load_profile
from famchain.records.sections import action_mask, action_names, section_mask, section_names

resident_app = typer.Typer(
    help="Residents: registration and basic information (基本信息).", no_args_is_help=True
)
agreement_app = typer.Typer(help="Family-doctor agreements (家庭医生签约).", no_args_is_help=True)

ProfileFile = Annotated[
    Path | None, typer.Option("--profile", help="Basic information as JSON (see docs/record-format.md).")
]
FhirPatient = Annotated[
    Path | None,
    typer.Option("--fhir-patient", help="A FHIR R4 Patient (or a Bundle holding one) instead of --profile."),
]
KeepIdentifier = Annotated[
    list[str] | None,
    typer.Option(
        "--keep-identifier",
        help="With --fhir-patient: keep this identifier (type code, type text or system; repeatable); the "
        "others are left out.",
    ),
]
ListIdentifiers = Annotated[
    bool,
    typer.Option("--list-identifiers", help="With --fhir-patient: print the Patient's identifiers and stop."),
]


def _profile_input(
    profile: Path | None, fhir_patient: Path | None, keep: list[str] | None, list_identifiers: bool
) -> dict[str, str] | None:
    """The basic information from --profile or --fhir-patient (None after --list-identifiers printed them)."""
    if (profile is None) == (fhir_patient is None):
        raise InputError(
            _("give the basic information as --profile PROFILE.json or --fhir-patient FILE (one of them)")
        )
    if profile is not None:
        if keep or list_identifiers:
            raise InputError(_("--keep-identifier and --list-identifiers go with --fhir-patient"))
        return load_profile(profile)
    assert fhir_patient is not None
    from famchain import fhir

    if list_identifiers:
        choices = fhir.identifier_choices(fhir.patient_of(read_json(fhir_patient)))
        typer.echo(json.dumps([c.to_json() for c in choices], indent=2, ensure_ascii=False))
        return None
    return fhir.load_patient_profile(fhir_patient, keep or [])


Sections = Annotated[list[str], typer.Option("--sections", help="Section names, comma separated, or `all`.")]
Actions = Annotated[list[str], typer.Option("--actions", help="read, append (comma separated).")]
TermDays = Annotated[float, typer.Option("--term-days", help="Length of the agreement in days.")]


@chain_command(resident_app, "register")
def register(
    s: Session,
    profile: ProfileFile = None,
    fhir_patient: FhirPatient = None,
    keep_identifier: KeepIdentifier = None,
    list_identifiers: ListIdentifiers = False,
) -> None:
    """Register yourself: your encryption key and a commitment to your sealed basic information."""
    data = _profile_input(profile, fhir_patient, keep_identifier, list_identifiers)
    if data is None:
        return
    client = s.client
    if client.residents.is_registered(client.address):
        raise InputError(
            _("{resident} is already registered; use `resident update-profile`").format(
                resident=client.address
            )
        )
    ask(s.yes, _("Send transaction: register resident {resident}").format(resident=client.address))
    done = client.residents.register(data)
    typer.echo(
        _("registered {resident}; sealed basic information {cid}").format(
            resident=name_of(done.resident), cid=done.profile_cid
        )
    )


@chain_command(resident_app, "update-profile")
def update_profile(
    s: Session,
    profile: ProfileFile = None,
    fhir_patient: FhirPatient = None,
    keep_identifier: KeepIdentifier = None,
    list_identifiers: ListIdentifiers = False,
) -> None:
    """Replace your basic information (only you can)."""
    data = _profile_input(profile, fhir_patient, keep_identifier, list_identifiers)
    if data is None:
        return
    client = s.client
    ask(s.yes, _("Send transaction: update basic information"))
    done = client.residents.update_profile(data)
    typer.echo(_("basic information updated: {cid}").format(cid=done.profile_cid))


NO_KEYSTORE = N_("basic information: pass --keystore (the resident's or their family doctor's) to read it")


@chain_command(resident_app, "show")
def show(
    s: Session,
    address: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """Show a registration; the basic information too when you may read it (you, or your family doctor)."""
    who = address_arg(address, "resident") if address is not None else s.account.address
    client = s.client if s.config.keystore else s.reader  # a public lookup needs no keystore
    shown = client.residents.show(who)
    if not shown.registered:
        raise InputError(_("{resident} is not a registered resident").format(resident=who))
    out: dict[str, Any] = {
        "resident": who,
        "encryption_key": "0x" + shown.encryption_key.hex(),
        "profile_cid": str(shown.profile_cid) if shown.profile_cid is not None else None,
        "family_doctor": shown.family_doctor,
        "locked": shown.locked,
    }
    if not s.config.keystore:
        out["basic_information"] = None
        out["withheld"] = NO_KEYSTORE  # --json keeps the English sentence
    else:
        try:
            out["basic_information"] = client.residents.read_profile(who)
        except AccessDeniedError as exc:
            out["basic_information"] = None
            out["withheld"] = str(exc)
    if as_json:
        emit(out, True)
        return
    doctor = shown.family_doctor
    rows = [
        (N_("resident"), name_of(who)),
        (N_("encryption key"), out["encryption_key"]),
        (N_("basic information"), out["profile_cid"] or _("none")),
        (N_("family doctor"), name_of(doctor) if doctor else _("none")),
        (N_("card"), _("locked (deletion requested)") if shown.locked else _("not locked")),
    ]
    if "withheld" in out:
        rows.append((N_("withheld"), _(NO_KEYSTORE) if not s.config.keystore else out["withheld"]))
    fields(rows)
    for key, value in (out.get("basic_information") or {}).items():
        typer.echo(f"  {key}: {value}")


@chain_command(resident_app, "delete-request")
def delete_request(
    s: Session,
    record: Annotated[
        str | None, typer.Argument(help="The record to erase after its retention period.")
    ] = None,
    card: Annotated[
        bool, typer.Option("--card", help="Every record of your card; locks the card at once (irrevocable).")
    ] = False,
) -> None:
    """As the resident: ask that a record (or your whole card) be erased once its retention period is over
    (PIPL art. 47). Irrevocable; a whole-card request also ends your agreement and locks the card."""
    if (record is None) == (not card):
        raise InputError(_("give a RECORD id or --card (one of them)"))
    client = s.client
    target = client.records.resolve(record, client.address) if record is not None else None
    ask(
        s.yes,
        _("Send transaction: request deletion of record {record} and its other versions").format(
            record=target
        )
        if target is not None
        else _("Send transaction: request deletion of your whole card (locks it)"),
    )
    if target is None:
        done = client.residents.request_deletion(None)
        typer.echo(
            _(
                "deletion of every record of your card requested on {date} (the card is locked now); each "
                "record is erased once its retention period is over"
            ).format(date=_day(done.requested_at))
        )
    else:
        sent = client.residents.request_record_deletion(target)
        if not sent:
            typer.echo(_("deletion of record {record} was requested already").format(record=target))
        for request in sent:
            typer.echo(
                _(
                    "deletion of record {record} requested on {date}: locked now (only you can read it); "
                    "erased once its retention period is over"
                ).format(record=request.record_id, date=_day(request.requested_at))
            )
    for end in client.records.retention_ends(client.address, target):
        info(
            _("  record {record}: {kind}, kept until {date}").format(
                record=end.record_id,
                kind=_(KIND_LABELS.get(end.kind.label, end.kind.label)),
                date=_day(end.ends_at),
            )
        )


#: Record kinds (they choose the retention), for people; ``--kind`` and ``--json`` keep the wire names.
KIND_LABELS = {"outpatient": N_("outpatient"), "inpatient": N_("inpatient")}


def _day(timestamp: int) -> str:
    import time

    return time.strftime("%Y-%m-%d", time.localtime(timestamp))


def _released(release: Any, doctor: str) -> None:
    if release is not None and release.bundle_cid is not None:
        info(
            ngettext(
                "released keys of {n} sealed object to {doctor} (bundle {cid})",
                "released keys of {n} sealed objects to {doctor} (bundle {cid})",
                release.covered,
            ).format(n=release.covered, doctor=name_of(doctor) if doctor else "-", cid=release.bundle_cid)
        )
    for skipped in getattr(release, "skipped", ()):
        info(_("skipped record {record}: {reason}").format(record=skipped.record_id, reason=skipped.reason))


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
    ask(s.yes, _("Send transaction: propose an agreement with {other}").format(other=other))
    client.agreements.propose(other, mask, acts, term)
    typer.echo(
        _("proposed to {other}: {sections}; {actions}; for {term}; they accept it with `{command}`").format(
            other=other,
            sections=sections_label(section_names(mask)),
            actions=actions_label(action_names(acts)),
            term=span(term),
            command=f"famchain agreement accept {client.address}",
        )
    )


@chain_command(agreement_app, "withdraw")
def withdraw(
    s: Session,
    counterparty: Annotated[str, typer.Argument(help="The other side of the proposal.")],
) -> None:
    """Withdraw your proposal to COUNTERPARTY, or refuse the one COUNTERPARTY made to you."""
    other = address_arg(counterparty, "counterparty")
    client = s.client
    me = client.address
    found = [w for w in client.agreements.involving(me) if other in (w.resident, w.doctor)]
    if not found:
        raise InputError(
            _("no agreement proposal between you ({me}) and {other} is waiting").format(me=me, other=other)
        )
    typer.echo(_proposal_text(found[0], client.now()))
    mine = found[0].proposer == me
    ask(
        s.yes,
        _("Send transaction: withdraw this proposal")
        if mine
        else _("Send transaction: refuse this proposal"),
    )
    client.agreements.withdraw(other)
    typer.echo(
        _("proposal withdrawn: {other} can no longer accept it").format(other=other)
        if mine
        else _("proposal of {other} refused").format(other=other)
    )


@chain_command(agreement_app, "accept")
def accept(s: Session, counterparty: Annotated[str, typer.Argument(help="Who proposed it.")]) -> None:
    """Accept a proposed agreement (its terms are shown first); a resident's client then shares their records
    with the doctor."""
    other = address_arg(counterparty, "counterparty")
    client = s.client
    waiting = client.agreements.waiting(other)  # refuses a missing proposal before asking
    typer.echo(_proposal_text(waiting, client.now(), accepting=True))
    ask(s.yes, _("Send transaction: accept the agreement proposed by {other}").format(other=other))
    done = client.agreements.accept(other)
    typer.echo(
        _("agreement in force between resident {resident} and doctor {doctor}").format(
            resident=name_of(done.resident), doctor=name_of(done.doctor)
        )
    )
    _released(done.release, done.doctor)


def _proposal_json(waiting: Any) -> dict[str, Any]:
    p = waiting.proposal
    return {
        "resident": waiting.resident,
        "doctor": waiting.doctor,
        "proposer": waiting.proposer,
        "sections": section_names(p.sections),
        "actions": action_names(p.actions),
        "term": p.term,
        "expires_at": p.expiresAt,
    }


def _proposal_text(waiting: Any, now: int, *, accepting: bool = False) -> str:
    """A pending proposal as people read it: who, what, for how long, until when it can be accepted."""
    p = waiting.proposal
    by = (
        _("proposal by the resident {proposer}: resident {resident}, family doctor {doctor}")
        if waiting.proposer == waiting.resident
        else _("proposal by the doctor {proposer}: resident {resident}, family doctor {doctor}")
    )
    term = span(p.term)
    if accepting:
        term = _("{term} (in force {until})").format(term=term, until=until(now + p.term, now))
    rows = [
        (_("sections"), sections_label(section_names(p.sections))),
        (_("actions"), actions_label(action_names(p.actions))),
        (_("term"), term),
        (_("open"), _("{until} for acceptance").format(until=until(p.expiresAt, now))),
    ]
    return "\n".join(
        [
            by.format(proposer=waiting.proposer, resident=waiting.resident, doctor=waiting.doctor),
            *_aligned(rows),
        ]
    )


def _aligned(rows: list[tuple[str, str]]) -> list[str]:
    """``  label: value`` lines, values aligned (labels already translated; Chinese counts two columns)."""
    from rich.cells import cell_len

    labels = [label + _(": ") for label, _value in rows]
    width = max(cell_len(label) for label in labels)
    return [
        f"  {label}{' ' * (width - cell_len(label))}{value}"
        for label, (_l, value) in zip(labels, rows, strict=True)
    ]


def actions_label(names: list[str]) -> str:
    """Action names (read, append) for people, in the current language."""
    return _(", ").join(_(ACTION_LABELS.get(name, name)) for name in names) or _("none")


#: The actions a consent or an agreement allows, for people (``--actions`` and ``--json`` keep the wire names).
ACTION_LABELS = {"read": N_("read"), "append": N_("append")}


@chain_command(agreement_app, "list")
def list_agreements(
    s: Session,
    incoming: Annotated[
        bool, typer.Option("--incoming", help="Only the proposals others made that wait for you.")
    ] = False,
    as_json: Json = False,
) -> None:
    """The agreement proposals waiting for acceptance in which you are the resident or the doctor (with
    --incoming: those waiting for you to accept them)."""
    client = s.client
    me = client.address
    found = client.agreements.incoming(me) if incoming else client.agreements.involving(me)
    now = client.now()
    lines = []
    for waiting in found:
        lines.append(_proposal_text(waiting, now))
        if waiting.proposer != me:
            lines.append(
                _("  accept it: {accept}   (refuse it: {refuse})").format(
                    accept=f"famchain agreement accept {waiting.proposer}",
                    refuse=f"famchain agreement withdraw {waiting.proposer}",
                )
            )
    nothing = (
        _("no agreement proposal waits for you") if incoming else _("no agreement proposal involves you")
    )
    emit(
        {"account": me, "proposals": [_proposal_json(w) for w in found]},
        as_json,
        "\n".join(lines) or nothing,
    )


@chain_command(agreement_app, "share")
def share(s: Session) -> None:
    """As the resident: release your basic information and records to your active family doctor."""
    client = s.client
    ask(s.yes, _("Send transaction: release keys to the family doctor"))
    release = client.agreements.share()
    doctor = client.agreements.active(client.address)
    _released(release, doctor.doctor if doctor else "")


@chain_command(agreement_app, "renew")
def renew(s: Session, term_days: TermDays = 365) -> None:
    """As the resident: extend your active agreement to now + term."""
    term = days_to_seconds(term_days, "--term-days")
    client = s.client
    ask(s.yes, _("Send transaction: renew the agreement"))
    doctor = client.agreements.renew(term)
    typer.echo(
        _("agreement renewed {until}").format(until=until(doctor.endsAt, client.now()))
        if doctor
        else _("agreement renewed (no agreement in force)")
    )


@chain_command(agreement_app, "terminate")
def terminate(
    s: Session, resident: Annotated[str | None, typer.Argument(help="Resident [default: you].")] = None
) -> None:
    """End the agreement (either side); the doctor is wrapped into no new record."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    client = s.client
    ask(s.yes, _("Send transaction: terminate the agreement of {resident}").format(resident=who))
    client.agreements.terminate(who)
    typer.echo(_("agreement of {resident} terminated").format(resident=name_of(who)))


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
    proposals = client.agreements.proposals(who)
    out: dict[str, Any] = {"resident": who, "active": None, "pending": []}
    if doctor:
        out["active"] = {
            "doctor": doctor.doctor,
            "sections": section_names(doctor.sections),
            "actions": action_names(doctor.actions),
            "ends_at": doctor.endsAt,
        }
    out["pending"] = [_proposal_json(w) for w in proposals]
    now = client.now()
    lines = [
        _("{resident}: family doctor {doctor} ({sections}; {actions}) {until}").format(
            resident=who,
            doctor=doctor.doctor,
            sections=sections_label(section_names(doctor.sections)),
            actions=actions_label(action_names(doctor.actions)),
            until=until(doctor.endsAt, now),
        )
        if doctor
        else _("{resident}: no active agreement").format(resident=who)
    ]
    lines += [_proposal_text(w, now) for w in proposals]
    emit(out, as_json, "\n".join(lines))
