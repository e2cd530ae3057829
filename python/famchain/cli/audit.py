"""`famchain audit`: a patient's whole history from chain events alone."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit
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
        return "the resident"
    if _same(who, args.get("doctor")):
        return f"doctor {who}"
    if _same(who, args.get("grantee")):
        return f"the grantee {who}"
    if _same(who, args.get("guardian")):
        return f"the guardian {who}"
    return str(who)


def _releaser(args: dict[str, object]) -> str:
    """Who published a key bundle: the patient (also by a signature someone relayed), or a reader of those
    sections re-wrapping its own keys (the record's author, a family doctor, a grantee)."""
    releaser = args.get("releaser")
    if _same(releaser, args.get("patient")):
        return "the patient"
    if _same(releaser, args.get("grantee")):
        return f"the grantee itself (it holds those keys already), {releaser}"
    return f"{releaser}, a reader of those sections"


def _describe(name: str, args: dict[str, object]) -> str:
    a = args
    proposer = a.get("proposer")
    sections = ",".join(section_names(int(a["sections"]))) if "sections" in a else ""  # type: ignore[call-overload]
    bundle = " with the keys of the existing records" if _nonzero(a.get("bundleDigest")) else ""
    text = {
        "ResidentRegistered": "registered with an encryption key and sealed basic information",
        "ProfileUpdated": "basic information replaced",
        "EncryptionKeyChanged": "encryption key replaced",
        "AgreementProposed": (
            f"doctor {a.get('doctor')} proposed a family-doctor agreement to the resident"
            if _same(proposer, a.get("doctor"))
            else f"the resident proposed a family-doctor agreement to doctor {a.get('doctor')}"
            if _same(proposer, a.get("resident"))
            else f"agreement with doctor {a.get('doctor')} proposed by {proposer}"
        ),
        "AgreementProposalWithdrawn": (
            f"agreement proposal with doctor {a.get('doctor')} withdrawn by {_party(a.get('by'), a)}"
        ),
        "AgreementAccepted": f"agreement in force with doctor {a.get('doctor')} until {a.get('endsAt')}",
        "AgreementRenewed": f"agreement with {a.get('doctor')} renewed until {a.get('endsAt')}",
        "AgreementTerminated": f"agreement with doctor {a.get('doctor')} terminated by {_party(a.get('by'), a)}",
        "ConsentGranted": f"consent to {a.get('grantee')}: {sections} until {a.get('expiresAt')}{bundle}",
        "ConsentRevoked": f"consent of {a.get('grantee')} revoked",
        "AccessRequested": f"{a.get('grantee')} asked for {sections}",
        "AccessRequestWithdrawn": f"{a.get('grantee')} withdrew a request",
        "AccessRequestRefused": f"request of {a.get('grantee')} refused",
        "UpdateApproved": f"update {_hex(a.get('recordId'))} of {_hex(a.get('previous'))} approved",
        "UpdateRefused": f"update {_hex(a.get('recordId'))} of {_hex(a.get('previous'))} refused",
        "KeysReleased": f"keys of {sections} released to {a.get('grantee')} by {_releaser(a)}",
        "GuardianAppointed": f"guardian {a.get('guardian')} appointed until {a.get('expiresAt')}",
        "GuardianRemoved": f"guardian {a.get('guardian')} removed by {_party(a.get('by'), a)}",
        "GuardianActed": f"guardian {a.get('guardian')} acted for the resident",
        "NonceCancelled": "an outstanding signature was cancelled",
        "DeletionRequested": (
            "deletion of the whole card requested; card locked: no grant, request, agreement, record, key "
            "release or emergency is accepted any more, only the patient reads it; each record is erased once "
            "its retention period is over"
            if not _nonzero(a.get("recordId"))
            else f"deletion of record {_hex(a.get('recordId'))} requested; record locked: no new grant, key "
            "release or emergency opening covers it, only the patient reads it, until it is erased after its "
            "retention period"
        ),
        "RecordErased": f"record {_hex(a.get('recordId'))} erased at the resident's request (sent by "
        f"{a.get('by')}): every member store deletes its sealed bytes",
        "EmergencySectionsSet": f"emergency sections set to {sections or 'none (opted out)'}",
        "EmergencyDeclared": (
            f"EMERGENCY {a.get('id')} declared by {a.get('physician')} of {a.get('institution')} for {sections} "
            f"of the first {a.get('cardLength')} record(s); reason {_reason(a.get('reason'))}"
        ),
        "EmergencySharesReleased": f"custodian {a.get('custodian')} released shares for emergency {a.get('id')}",
        "EmergencyOpened": f"emergency {a.get('id')} opened",
        "EmergencyReviewed": f"emergency {a.get('id')} {'contested' if a.get('contested') else 'accepted'}",
    }.get(name)
    if name == "RecordAnchored":
        rid = _hex(a["recordId"])
        prev = bytes(a["previous"])  # type: ignore[call-overload]
        kind = f"update of 0x{prev.hex()}" if any(prev) else "new record"
        text = f"record {rid} ({kind}; {sections}) by {a.get('author')}"
    return text or name


def _emergency_lines(accesses: list[EmergencyAccess], now: int) -> list[str]:
    from famchain.cli.emergency import describe

    lines = [f"EMERGENCY ACCESS ({len(accesses)}), most recent first:"]
    for access in accesses:
        lines += ["  " + line for line in describe(access.emergency, now)]
        if access.opened:
            lines.append("    opened:")
            lines += [
                f"      record {o.record.record_id}: {', '.join(o.sections)}"
                + ("" if o.from_envelope else " (at most: the record's bytes were not read)")
                for o in access.opened
            ]
        else:
            lines.append("    opened: nothing (fewer custodians than the threshold approved)")
        if access.emergency.review.name == "NONE":
            lines.append(
                f"    review it: `famchain emergency review {access.emergency.emergency_id} --accept|--contest`"
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
    from famchain.cli.emergency import when

    lines = [f"accounting of disclosures for {who}: who received the key of each section, as what, when, why"]
    record = None
    for r in rows:
        if r.record_id != record:
            record = r.record_id
            lines.append(f"record {record}")
        purpose = r.purpose or "-"
        lines.append(
            f"  {r.section:16} {r.kind.value:13} {r.recipient}  {when(r.at)}  {purpose}  "
            f"[{r.proof.event} block {r.proof.block}]"
        )
    lines.append(
        "wrapped at sealing (family-doctor, grantee, guardian): derived from the entitlements at each record's "
        "anchoring block as the chain reconstructs them; key-release: every record a bundle may cover"
    )
    emit(
        {"patient": who, "disclosures": data}, as_json, "\n".join(lines) if rows else f"{who} has no records"
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
    lines = _emergency_lines(accesses, now) if accesses else []
    if accesses:
        lines.append("history:")
    lines += [f"block {e.block:>6}  {e.name:22} {_describe(e.name, e.args)}" for e in events]
    human = "\n".join(lines) or f"{who} has no history on this deployment"
    emit(
        {
            "patient": who,
            "emergencies": [a.to_json(now) for a in accesses],
            "events": [e.to_json() for e in events],
        },
        as_json,
        human,
    )
