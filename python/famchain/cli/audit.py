"""`famchain audit`: a patient's whole history from chain events alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit
from famchain.cli._output import (
    block_label,
    purpose_label,
    section_label,
    sections_label,
    until,
    when,
)
from famchain.i18n import _, ngettext
from famchain.records.sections import section_names

if TYPE_CHECKING:
    from famchain.records.emergency import EmergencyAccess

app = typer.Typer()


def _hex(value: object) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def _nonzero(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and any(value)


def _reason(code: object) -> str:
    from famchain.records.emergency import reason_text

    return reason_text(int(code)) if isinstance(code, int) else str(code)


def _same(one: object, other: object) -> bool:
    return isinstance(one, str) and isinstance(other, str) and one.lower() == other.lower()


def _party(who: object, args: dict[str, object]) -> str:
    """Who acted, named by their role in the event itself (never the transaction's sender, a relayer perhaps)."""
    if _same(who, args.get("resident")) or _same(who, args.get("patient")):
        return _("the resident")
    if _same(who, args.get("doctor")):
        return _("doctor {who}").format(who=_name(who))
    if _same(who, args.get("grantee")):
        return _("the grantee {who}").format(who=_name(who))
    if _same(who, args.get("guardian")):
        return _("the guardian {who}").format(who=_name(who))
    return _name(who)


def party_name(who: object) -> str:
    """An address as the audit shows it: in full, as the chain has it (the evidence people compare), followed by
    the name the user gave it (``famchain contacts add``) when there is one: ``0x3C44…93BC (Dr Li)``."""
    if not isinstance(who, str):
        return str(who)
    from famchain.cli.contacts import AddressBook

    wanted = who.lower()
    name = next((n for a, n in AddressBook.of_user().contacts.items() if a.lower() == wanted), None)
    return _("{address} ({name})").format(address=who, name=name) if name else who


_name = party_name


def _releaser(args: dict[str, object]) -> str:
    """Who published a key bundle: the patient (also by a signature someone relayed), or a reader of those
    sections re-wrapping its own keys (the record's author, a family doctor, a grantee)."""
    releaser = args.get("releaser")
    if _same(releaser, args.get("patient")):
        return _("the patient")
    if _same(releaser, args.get("grantee")):
        return _("the grantee itself (it holds those keys already), {who}").format(who=_name(releaser))
    return _("{who}, a reader of those sections").format(who=_name(releaser))


def _until(value: object, now: int) -> str:
    return until(value, now) if isinstance(value, int) else str(value)


def _describe(name: str, args: dict[str, object], now: int) -> str:
    """An event in a sentence for people (names, section labels and dates in the current language)."""
    a = args
    proposer = a.get("proposer")
    sections = sections_label(section_names(int(a["sections"]))) if "sections" in a else ""  # type: ignore[call-overload]
    doctor, grantee, guardian = _name(a.get("doctor")), _name(a.get("grantee")), _name(a.get("guardian"))
    record, emergency = _hex(a.get("recordId")), a.get("id")
    if name == "ResidentRegistered":
        return _("registered with an encryption key and sealed basic information")
    if name == "ProfileUpdated":
        return _("basic information replaced")
    if name == "EncryptionKeyChanged":
        return _("encryption key replaced")
    if name == "AgreementProposed":
        if _same(proposer, a.get("doctor")):
            return _("doctor {doctor} proposed a family-doctor agreement to the resident").format(
                doctor=doctor
            )
        if _same(proposer, a.get("resident")):
            return _("the resident proposed a family-doctor agreement to doctor {doctor}").format(
                doctor=doctor
            )
        return _("agreement with doctor {doctor} proposed by {who}").format(
            doctor=doctor, who=_name(proposer)
        )
    if name == "AgreementProposalWithdrawn":
        return _("agreement proposal with doctor {doctor} withdrawn by {who}").format(
            doctor=doctor, who=_party(a.get("by"), a)
        )
    if name == "AgreementAccepted":
        return _("agreement in force with doctor {doctor} {until}").format(
            doctor=doctor, until=_until(a.get("endsAt"), now)
        )
    if name == "AgreementRenewed":
        return _("agreement with {doctor} renewed {until}").format(
            doctor=doctor, until=_until(a.get("endsAt"), now)
        )
    if name == "AgreementTerminated":
        return _("agreement with doctor {doctor} terminated by {who}").format(
            doctor=doctor, who=_party(a.get("by"), a)
        )
    if name == "ConsentGranted":
        text = _("consent to {grantee}: {sections} {until}").format(
            grantee=grantee, sections=sections, until=_until(a.get("expiresAt"), now)
        )
        if _nonzero(a.get("bundleDigest")):
            text = _("{text} with the keys of the existing records").format(text=text)
        return text
    simple = {
        "ConsentRevoked": lambda: _("consent of {grantee} revoked").format(grantee=grantee),
        "AccessRequested": lambda: _("{grantee} asked for {sections}").format(
            grantee=grantee, sections=sections
        ),
        "AccessRequestWithdrawn": lambda: _("{grantee} withdrew a request").format(grantee=grantee),
        "AccessRequestRefused": lambda: _("request of {grantee} refused").format(grantee=grantee),
        "UpdateApproved": lambda: _("update {record} of {previous} approved").format(
            record=record, previous=_hex(a.get("previous"))
        ),
        "UpdateRefused": lambda: _("update {record} of {previous} refused").format(
            record=record, previous=_hex(a.get("previous"))
        ),
        "KeysReleased": lambda: _("keys of {sections} released to {grantee} by {releaser}").format(
            sections=sections, grantee=grantee, releaser=_releaser(a)
        ),
        "GuardianAppointed": lambda: _("guardian {guardian} appointed {until}").format(
            guardian=guardian, until=_until(a.get("expiresAt"), now)
        ),
        "GuardianRemoved": lambda: _("guardian {guardian} removed by {who}").format(
            guardian=guardian, who=_party(a.get("by"), a)
        ),
        "GuardianActed": lambda: _("guardian {guardian} acted for the resident").format(guardian=guardian),
        "NonceCancelled": lambda: _("an outstanding signature was cancelled"),
        "DeletionRequested": lambda: (
            _(
                "deletion of the whole card requested; card locked: no grant, request, agreement, record, key "
                "release or emergency is accepted any more, only the patient reads it; each record is erased once "
                "its retention period is over"
            )
            if not _nonzero(a.get("recordId"))
            else _(
                "deletion of record {record} requested; record locked: no new grant, key release or emergency "
                "opening covers it, only the patient reads it, until it is erased after its retention period"
            ).format(record=record)
        ),
        "RecordErased": lambda: _(
            "record {record} erased at the resident's request (sent by {who}): every member store deletes its "
            "sealed bytes"
        ).format(record=record, who=_name(a.get("by"))),
        "EmergencySectionsSet": lambda: _("emergency sections set to {sections}").format(
            sections=sections if sections != _("none") else _("none (opted out)")
        ),
        "EmergencyDeclared": lambda: ngettext(
            "EMERGENCY {id} declared by {physician} of {institution} for {sections} of the first {n} record; "
            "reason {reason}",
            "EMERGENCY {id} declared by {physician} of {institution} for {sections} of the first {n} records; "
            "reason {reason}",
            int(a.get("cardLength") or 0),  # type: ignore[call-overload]
        ).format(
            id=emergency,
            physician=_name(a.get("physician")),
            institution=_name(a.get("institution")),
            sections=sections,
            n=a.get("cardLength"),
            reason=_reason(a.get("reason")),
        ),
        "EmergencySharesReleased": lambda: _(
            "custodian {custodian} released shares for emergency {id}"
        ).format(custodian=_name(a.get("custodian")), id=emergency),
        "EmergencyOpened": lambda: _("emergency {id} opened").format(id=emergency),
        "EmergencyReviewed": lambda: (
            _("emergency {id} contested") if a.get("contested") else _("emergency {id} accepted")
        ).format(id=emergency),
    }
    if name in simple:
        return simple[name]()
    if name == "RecordAnchored":
        prev = bytes(a["previous"])  # type: ignore[call-overload]
        kind = _("update of {previous}").format(previous="0x" + prev.hex()) if any(prev) else _("new record")
        return _("record {record} ({kind}; {sections}) by {author}").format(
            record=record, kind=kind, sections=sections, author=_name(a.get("author"))
        )
    return name


def _emergency_lines(
    accesses: list[EmergencyAccess], now: int, block_time: Callable[[int], int]
) -> list[str]:
    from famchain.cli.emergency import describe

    lines = [_("EMERGENCY ACCESS ({n}), most recent first:").format(n=len(accesses))]
    for access in accesses:
        lines += ["  " + line for line in describe(access.emergency, now, block_time=block_time)]
        if access.opened:
            lines.append("    " + _("opened:"))
            lines += [
                "      "
                + (
                    _("record {record}: {sections}")
                    if o.from_envelope
                    else _("record {record}: {sections} (at most: the record's bytes were not read)")
                ).format(record=o.record.record_id, sections=sections_label(o.sections))
                for o in access.opened
            ]
        else:
            lines.append("    " + _("opened: nothing (fewer custodians than the threshold approved)"))
        if access.emergency.review.name == "NONE":
            lines.append(
                "    "
                + _("review it: `famchain emergency review {id} --accept|--contest`").format(
                    id=access.emergency.emergency_id
                )
            )
    return lines


def _disclosures(s: Session, who: str, as_json: bool, as_fhir: bool) -> None:
    client = s.client if s.config.keystore else s.reader
    rows = client.audit.disclosures(who)
    data = [r.to_json() for r in rows]
    if as_fhir:
        from famchain import fhir

        typer.echo(json.dumps(fhir.disclosures_to_bundle(who, data), indent=2, ensure_ascii=False))
        return
    lines = [
        _(
            "accounting of disclosures for {who}: who received the key of each section, as what, when, why"
        ).format(who=party_name(who))
    ]
    record = None
    for r in rows:
        if r.record_id != record:
            record = r.record_id
            lines.append(_("record {record}").format(record=record))
        purpose = purpose_label(r.purpose) if r.purpose else "-"
        lines.append(
            f"  {section_label(r.section):16} {r.kind.value:13} {party_name(r.recipient)}  {when(r.at)}  {purpose}  "
            + _("[{event} block {block}]").format(event=r.proof.event, block=r.proof.block)
        )
    lines.append(
        _(
            "wrapped at sealing (family-doctor, grantee, guardian): derived from the entitlements at each record's "
            "anchoring block as the chain reconstructs them; key-release: every record a bundle may cover"
        )
    )
    emit(
        {"patient": who, "disclosures": data},
        as_json,
        "\n".join(lines) if rows else _("{who} has no records").format(who=who),
    )


@chain_command(app, "audit")
def audit(
    s: Session,
    patient: Annotated[str, typer.Option("--patient", help="The patient to audit.")],
    disclosures: Annotated[
        bool,
        typer.Option(
            "--disclosures",
            help="The accounting of disclosures: per record and section, everyone who received its key.",
        ),
    ] = False,
    as_json: Json = False,
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print FHIR R4 AuditEvent resources (a Bundle).")
    ] = False,
) -> None:
    """The ordered history of a patient's card (emergency accesses first): registration, agreements, grants,
    records, key releases; with --disclosures, who received which key."""
    who = address_arg(patient, "patient")
    if disclosures:
        _disclosures(s, who, as_json, as_fhir)
        return
    client = s.reader
    events = client.audit.events(who)  # refuses a card whose events do not reproduce the on-chain head
    if as_fhir:
        from famchain import fhir

        bundle = fhir.audit_to_bundle(who, [e.to_json() for e in events], client.audit.timestamps(events))
        typer.echo(json.dumps(bundle, indent=2))
        return
    accesses = client.audit.emergencies(who, store=s.store)  # the store narrows what each emergency opened
    now = client.now()
    dates = client.audit.timestamps(events) if not as_json else {}
    lines = _emergency_lines(accesses, now, client.chain.block_timestamp) if accesses and not as_json else []
    if accesses:
        lines.append(_("history:"))
    labels = [block_label(e.block, dates.get(e.block)) for e in events]
    width = max((len(label) for label in labels), default=0)
    lines += [
        f"{label:{width}}  {e.name:22} {_describe(e.name, e.args, now)}"
        for label, e in zip(labels, events, strict=True)
    ]
    human = "\n".join(lines) or _("{who} has no history on this deployment").format(who=who)
    emit(
        {
            "patient": who,
            "emergencies": [a.to_json(now) for a in accesses],
            "events": [e.to_json() for e in events],
        },
        as_json,
        human,
    )
