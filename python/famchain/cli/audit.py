"""`famchain audit`: a patient's whole history from chain events alone."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit
from famchain.records.sections import section_names

app = typer.Typer()


def _hex(value: object) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def _nonzero(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and any(value)


def _describe(name: str, args: dict[str, object]) -> str:
    a = args
    sections = ",".join(section_names(int(a["sections"]))) if "sections" in a else ""  # type: ignore[call-overload]
    bundle = " with the keys of the existing records" if _nonzero(a.get("bundleDigest")) else ""
    text = {
        "ResidentRegistered": "registered with an encryption key and sealed basic information",
        "ProfileUpdated": "basic information replaced",
        "EncryptionKeyChanged": "encryption key replaced",
        "AgreementProposed": f"agreement proposed by {a.get('proposer')} with doctor {a.get('doctor')}",
        "AgreementProposalWithdrawn": f"agreement proposal with {a.get('doctor')} withdrawn by {a.get('by')}",
        "AgreementAccepted": f"agreement in force with doctor {a.get('doctor')} until {a.get('endsAt')}",
        "AgreementRenewed": f"agreement with {a.get('doctor')} renewed until {a.get('endsAt')}",
        "AgreementTerminated": f"agreement with {a.get('doctor')} terminated by {a.get('by')}",
        "ConsentGranted": f"consent to {a.get('grantee')}: {sections} until {a.get('expiresAt')}{bundle}",
        "ConsentRevoked": f"consent of {a.get('grantee')} revoked",
        "AccessRequested": f"{a.get('grantee')} asked for {sections}",
        "AccessRequestWithdrawn": f"{a.get('grantee')} withdrew a request",
        "AccessRequestRefused": f"request of {a.get('grantee')} refused",
        "UpdateApproved": f"update {_hex(a.get('recordId'))} of {_hex(a.get('previous'))} approved",
        "UpdateRefused": f"update {_hex(a.get('recordId'))} of {_hex(a.get('previous'))} refused",
        "KeysReleased": f"keys of {sections} released to {a.get('grantee')} by {a.get('releaser')}",
        "GuardianAppointed": f"guardian {a.get('guardian')} appointed until {a.get('expiresAt')}",
        "GuardianRemoved": f"guardian {a.get('guardian')} removed by {a.get('by')}",
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
        "EmergencyDeclared": f"EMERGENCY {a.get('id')} declared by {a.get('physician')} for {sections}",
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
        from famchain import fhir

        bundle = fhir.audit_to_bundle(who, [e.to_json() for e in events], client.audit.timestamps(events))
        typer.echo(json.dumps(bundle, indent=2))
        return
    lines = [f"block {e.block:>6}  {e.name:22} {_describe(e.name, e.args)}" for e in events]
    human = "\n".join(lines) or f"{who} has no history on this deployment"
    emit({"patient": who, "events": [e.to_json() for e in events]}, as_json, human)
