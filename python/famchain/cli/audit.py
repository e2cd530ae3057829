"""`famchain audit`: a patient's whole history from chain events alone."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit
from famchain.records.sections import section_names

app = typer.Typer()


def _describe(name: str, args: dict[str, object]) -> str:
    a = args
    sections = ",".join(section_names(int(a["sections"]))) if "sections" in a else ""  # type: ignore[call-overload]
    text = {
        "ResidentRegistered": "registered with an encryption key and sealed basic information",
        "ProfileUpdated": "basic information replaced",
        "AgreementProposed": f"agreement proposed by {a.get('proposer')} with doctor {a.get('doctor')}",
        "AgreementAccepted": f"agreement in force with doctor {a.get('doctor')} until {a.get('endsAt')}",
        "AgreementRenewed": f"agreement with {a.get('doctor')} renewed until {a.get('endsAt')}",
        "AgreementTerminated": f"agreement with {a.get('doctor')} terminated by {a.get('by')}",
        "ConsentGranted": f"consent to {a.get('grantee')}: {sections} until {a.get('expiresAt')}",
        "ConsentRevoked": f"consent of {a.get('grantee')} revoked",
        "AccessRequested": f"{a.get('grantee')} asked for {sections}",
        "AccessRequestWithdrawn": f"{a.get('grantee')} withdrew a request",
        "UpdateApproved": f"update {a.get('recordId')!r} approved",
        "KeysReleased": f"keys of {sections} released to {a.get('grantee')} by {a.get('releaser')}",
    }.get(name)
    if name == "RecordAnchored":
        rid = "0x" + bytes(a["recordId"]).hex()  # type: ignore[call-overload]
        prev = bytes(a["previous"])  # type: ignore[call-overload]
        kind = f"update of 0x{prev.hex()}" if any(prev) else "new record"
        text = f"record {rid} ({kind}; {sections}) by {a.get('author')}"
    return text or name


@chain_command(app, "audit")
def audit(
    s: Session,
    patient: Annotated[str, typer.Option("--patient", help="The patient to audit.")],
    as_json: Json = False,
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print FHIR R4 AuditEvent resources (a Bundle).")
    ] = False,
) -> None:
    """The ordered history of a patient's card: registration, agreements, grants, records, key releases."""
    who = address_arg(patient, "patient")
    client = s.reader
    events = client.audit.events(who)  # refuses a card whose events do not reproduce the on-chain head
    if as_fhir:
        from famchain.records import fhir

        bundle = fhir.audit_to_bundle(who, [e.to_json() for e in events], client.audit.timestamps(events))
        typer.echo(json.dumps(bundle, indent=2))
        return
    lines = [f"block {e.block:>6}  {e.name:22} {_describe(e.name, e.args)}" for e in events]
    human = "\n".join(lines) or f"{who} has no history on this deployment"
    emit({"patient": who, "events": [e.to_json() for e in events]}, as_json, human)
