"""`famchain consent`: requests, grants (by transaction or offline signature), revocations, listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from famchain.cli._context import (
    Json,
    Session,
    address_arg,
    chain_command,
    days_to_seconds,
    emit,
    read_json,
    write_private,
)
from famchain.records.sections import action_mask, action_names, parse_purpose, section_mask, section_names

app = typer.Typer(
    help="Consent: who may read or append which sections of your records, why, until when.",
    no_args_is_help=True,
)

Sections = Annotated[list[str], typer.Option("--sections", help="Section names, comma separated, or `all`.")]
Actions = Annotated[list[str], typer.Option("--actions", help="read, append (comma separated).")]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="treatment, referral, insurance-claim, research.")]
Days = Annotated[float, typer.Option("--days", help="Days until the consent expires.")]


@chain_command(app, "request")
def request(
    s: Session,
    patient: Annotated[str, typer.Argument(help="The patient whose records you ask for.")],
    sections: Sections = ["all"],  # noqa: B006 - typer reads the default, never mutates it
    actions: Actions = ["read"],  # noqa: B006
    purpose: PurposeOpt = "treatment",
) -> None:
    """As a practitioner: ask a patient for access (the patient sees it in `consent list`)."""
    who = address_arg(patient, "patient")
    mask, acts, why = section_mask(sections), action_mask(actions), parse_purpose(purpose)
    client = s.client
    s.confirm(f"request access to {who}")
    client.consents.request(who, mask, actions=acts, purpose=why)
    typer.echo(f"asked {who} for {', '.join(section_names(mask))} ({why.name.lower()})")


@chain_command(app, "grant")
def grant(
    s: Session,
    grantee: Annotated[str, typer.Argument(help="The practitioner to grant.")],
    sections: Sections = ["all"],  # noqa: B006
    actions: Actions = ["read"],  # noqa: B006
    purpose: PurposeOpt = "treatment",
    days: Days = 30,
) -> None:
    """As the patient: grant consent, then re-wrap the keys of your existing covered records for the grantee."""
    who = address_arg(grantee, "grantee")
    mask, acts, why = section_mask(sections), action_mask(actions), parse_purpose(purpose)
    client = s.client
    expires = client.now() + days_to_seconds(days, "--days")
    s.confirm(f"grant {who} {', '.join(section_names(mask))}")
    done = client.consents.grant(who, mask, actions=acts, purpose=why, expires_at=expires)
    bundle = done.release.bundle_cid if done.release else None
    typer.echo(
        f"granted {who}: {', '.join(section_names(mask))}; {', '.join(action_names(acts))}; {why.name.lower()}; "
        f"until {expires}" + (f"; existing records released in {bundle}" if bundle else "")
    )


@chain_command(app, "sign")
def sign(
    s: Session,
    grantee: Annotated[str, typer.Argument(help="The practitioner to grant.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed consent.")],
    sections: Sections = ["all"],  # noqa: B006
    actions: Actions = ["read"],  # noqa: B006
    purpose: PurposeOpt = "treatment",
    days: Days = 30,
    print_typed_data: Annotated[
        bool, typer.Option(help="Also print the EIP-712 JSON a wallet signs.")
    ] = False,
) -> None:
    """As the patient: sign a consent (and its key release) for anyone to relay; sends nothing."""
    who = address_arg(grantee, "grantee")
    mask, acts, why = section_mask(sections), action_mask(actions), parse_purpose(purpose)
    client = s.client
    expires = client.now() + days_to_seconds(days, "--days")
    doc = client.consents.sign(who, mask, actions=acts, purpose=why, expires_at=expires)
    write_private(output, json.dumps(doc, indent=2) + "\n")
    if print_typed_data:
        typer.echo(json.dumps(doc["typed_data"], indent=2))
    typer.echo(
        f"signed consent for {who} written to {output}; relay it with `famchain consent submit {output}`"
    )


@chain_command(app, "submit")
def submit(s: Session, file: Annotated[Path, typer.Argument(help="A signed consent file.")]) -> None:
    """Relay a signed consent (anyone may pay the gas): grants exactly what the patient signed."""
    doc = read_json(file)
    client = s.client
    s.confirm("relay a signed consent")
    done = client.consents.relay(doc)
    typer.echo(
        f"consent of {done.patient} for {done.grantee} is in force"
        + (f"; key release {done.bundle_cid}" if done.bundle_cid else "")
    )


@chain_command(app, "revoke")
def revoke(s: Session, grantee: Annotated[str, typer.Argument(help="The grantee to revoke.")]) -> None:
    """As the patient: revoke a consent; the grantee is wrapped into no new record from now on."""
    who = address_arg(grantee, "grantee")
    client = s.client
    s.confirm(f"revoke {who}")
    client.consents.revoke(who)
    typer.echo(f"revoked {who}")


@chain_command(app, "list")
def list_consents(
    s: Session,
    patient: Annotated[str | None, typer.Option("--patient", help="Patient [default: you].")] = None,
    as_json: Json = False,
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print FHIR R4 Consent resources (a Bundle).")
    ] = False,
) -> None:
    """Every grantee and requester of a patient, with what is in force now."""
    who = address_arg(patient, "patient") if patient is not None else s.account.address
    rows = [c.to_json() for c in s.reader.consents.list(who)]
    if as_fhir:
        from famchain.records import fhir

        typer.echo(json.dumps(fhir.consents_to_bundle(who, rows), indent=2))
        return
    lines = [
        f"{r['grantee']}  {'ACTIVE' if r['active'] else 'inactive':8} {','.join(r['sections']) or '-'}"
        f"  {','.join(r['actions']) or '-'}  until {r['expires_at'] or '-'}"
        for r in rows
    ]
    emit({"patient": who, "consents": rows}, as_json, "\n".join(lines) or f"{who} has granted nothing")
