"""`famchain record` (submit, list, read, update, approve) and `famchain outbox` (resume queued records)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from famchain.cli._context import (
    Json,
    KeystoreDir,
    KeystoreOpt,
    PasswordFile,
    Session,
    address_arg,
    chain_command,
    emit,
    info,
    read_json,
    record_arg,
    settings,
    unlock,
    write_private,
)
from famchain.cli._errors import CliError
from famchain.errors import InputError
from famchain.records.sections import SECTION_NAMES, section_names

if TYPE_CHECKING:
    from famchain.records.outbox import OutboxEntry

record_app = typer.Typer(help="Medical records on a patient's visit card (就诊卡).", no_args_is_help=True)
outbox_app = typer.Typer(
    help="Records sealed locally and waiting to be stored or anchored.", no_args_is_help=True
)


def _entry_json(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "record": str(entry.record_id),
        "patient": entry.patient,
        "cid": str(entry.cid),
        "kind": entry.kind.label,
        "sections": section_names(entry.sections),
        "state": entry.state.value,
        "tx": entry.tx_hash or None,
        "block": entry.block or None,
        "previous": str(entry.previous) if entry.is_update else None,
        "last_error": entry.last_error or None,
    }


KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="outpatient or inpatient (chooses the retention) [default: the record's, else outpatient].",
    ),
]


@chain_command(record_app, "submit")
def submit(
    s: Session,
    patient: Annotated[str, typer.Option("--patient", help="The patient's address.")],
    file: Annotated[Path | None, typer.Option("--file", help="Record JSON (docs/record-format.md).")] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file to attach (repeatable).")
    ] = None,
    fhir_bundle: Annotated[
        Path | None,
        typer.Option("--fhir", help="A FHIR R4 Bundle instead of --file."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="With --fhir: refuse a bundle with an entry no section takes.")
    ] = False,
    encounter: Annotated[
        str | None,
        typer.Option(
            "--encounter", help="With --fhir: the Encounter id of this visit [default: the latest]."
        ),
    ] = None,
    kind: KindOpt = None,
    as_json: Json = False,
) -> None:
    """Seal a visit record for everyone entitled to it, store and pin it, then anchor it on the card."""
    from famchain.records.model import load_record, parse_kind

    who = address_arg(patient, "patient")
    if (file is None) == (fhir_bundle is None):
        raise InputError("give the record as --file RECORD.json or --fhir BUNDLE.json (one of them)")
    if fhir_bundle is None and (strict or encounter is not None):
        raise InputError("--strict and --encounter go with --fhir")
    mapped: dict[str, Any] | None = None
    if fhir_bundle is not None:
        if attach:
            raise InputError("--attach does not combine with --fhir: put files in DocumentReference entries")
        from famchain import fhir

        imported = fhir.load_bundle(fhir_bundle, strict=strict, encounter=encounter)
        info(imported.summary())
        content = imported.content
        mapped = imported.to_json()
    else:
        assert file is not None
        content = load_record(file, attach)
    chosen = parse_kind(kind, "--kind") if kind is not None else None
    s.confirm(f"anchor a record on the card of {who}")
    done = s.client.records.submit(who, content, kind=chosen)
    extra = len(done.report.anchored) + len(done.report.already) - 1
    if extra > 0:
        info(f"also anchored {extra} earlier queued record(s)")
    _late(done.report)
    entry = done.entry
    out = _entry_json(entry)
    if mapped is not None:
        out["fhir"] = mapped
    emit(out, as_json, f"record {entry.record_id} anchored in block {entry.block} ({entry.cid})")


def _late(report: Any) -> None:
    for late in report.late_releases:
        records = ", ".join(str(r) for r in late.record_ids)
        if late.error is None:
            info(f"released record(s) {records} to {late.grantee} (entitled since they were sealed)")
        else:
            info(f"could not release record(s) {records} to {late.grantee}: {late.error}")


@chain_command(record_app, "list")
def list_records(
    s: Session,
    patient: Annotated[str, typer.Option("--patient", help="The patient's address.")],
    as_json: Json = False,
) -> None:
    """The patient's visit card, verified against the head stored on chain."""
    who = address_arg(patient, "patient")
    card = s.reader.records.card(who)
    state = s.reader.records.deletions(who)
    rows = [
        {
            "index": r.index,
            "record": str(r.record_id),
            "author": r.author,
            "kind": r.kind.label,
            "anchored_at": r.anchored_at,
            "sections": section_names(r.sections),
            "updates": str(r.previous) if r.is_update else None,
            "cid": str(r.cid),
            "block": r.block,
            "deletion_requested_at": state.locked_at(r.record_id) or None,
            "erased_at": erased.erased_at if (erased := state.erasure(r.record_id)) else None,
        }
        for r in card
    ]
    lines = [
        f"{r.index:>4}  {r.record_id}  by {r.author}  {','.join(section_names(r.sections))}"
        + (f"  (update of {r.previous})" if r.is_update else "")
        + _deletion_note(state, r.record_id)
        for r in card
    ]
    emit({"patient": who, "records": rows}, as_json, "\n".join(lines) or f"{who} has no records")


def _deletion_note(state: Any, record_id: Any) -> str:
    erased = state.erasure(record_id)
    if erased is not None:
        return f"  [{erased.phrase}]"
    reason = state.skip_reason(record_id)
    return f"  [{reason}: only the patient reads it]" if reason else ""


@chain_command(record_app, "read")
def read(
    s: Session,
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write sections and attachments here (0600 files).")
    ] = None,
    as_json: Json = False,
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print a FHIR R4 Bundle of the readable sections.")
    ] = False,
) -> None:
    """Fetch, verify and decrypt the sections you may read; the rest are listed as withheld."""
    from famchain._files import private_dir
    from famchain.records.model import canonical_json

    result = s.client.records.read(record_arg(record))
    if as_fhir:
        from famchain import fhir

        typer.echo(json.dumps(fhir.record_to_bundle(result.to_json()), indent=2, ensure_ascii=False))
        return
    files = _attachment_files(result.sections.get("attachments"))
    if output is not None:
        private_dir(output)
        for name, value in result.sections.items():
            write_private(output / f"{name}.json", canonical_json(value).decode())
        for file_name, _, data in files:
            from famchain._files import write_private as write_bytes

            write_bytes(output / file_name, data)
        info(f"wrote {len(result.sections)} section(s) and {len(files)} attachment(s) to {output}")
    lines = [f"record {record} by {result.anchor.author} for {result.anchor.patient}"]
    for name, value in result.sections.items():
        shown = _without_fhir(value) if name != "attachments" else [f"{f} ({media})" for f, media, _ in files]
        lines.append(f"  {name}: {json.dumps(shown, ensure_ascii=False)}")
    lines += [f"  {name}: withheld ({why})" for name, why in result.withheld.items()]
    emit(result.to_json(), as_json, "\n".join(lines))


def _without_fhir(value: Any) -> Any:
    """A section as people read it: items keep their FHIR resource for `--json` and `--fhir`, not for the eye."""
    if isinstance(value, list):
        return [
            {k: v for k, v in item.items() if k != "fhir"} if isinstance(item, dict) else item
            for item in value
        ]
    return value


@chain_command(record_app, "share")
def share(
    s: Session,
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex).")],
    to: Annotated[str, typer.Option("--to", help="The reader to release it to (a grantee of the patient).")],
) -> None:
    """As the record's author (or the patient): release one record's keys to a reader the chain lets read it
    (a consent signed before the record was anchored, say)."""
    who = address_arg(to, "--to")
    record_id = record_arg(record)
    client = s.client
    s.confirm(f"release record {record_id} to {who}")
    release = client.records.share(record_id, who)
    typer.echo(
        f"released {', '.join(section_names(release.sections))} of record {record_id} to {who} "
        f"in {release.bundle_cid}"
    )


@chain_command(record_app, "erase")
def erase(
    s: Session,
    record: Annotated[str | None, typer.Argument(help="Record id (0x + 64 hex).")] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="With --due: the patient whose card to go through.")
    ] = None,
    due: Annotated[
        bool,
        typer.Option("--due", help="Erase every record of --patient whose deletion is due (retention over)."),
    ] = False,
) -> None:
    """Erase a record whose deletion the resident asked for, once its retention period is over (anyone may; the
    proof comes from the verified card). Member stores then delete its sealed bytes (`famchain ipfs
    sync-erasures`)."""
    if (record is None) == (not due) or (due and patient is None):
        raise InputError("give a RECORD id, or --due with --patient")
    client = s.client
    if due:
        assert patient is not None
        chosen = [r.record_id for r in client.records.erasable(address_arg(patient, "patient"))]
        if not chosen:
            typer.echo("no record of that patient is due for erasure")
            return
    else:
        chosen = [record_arg(str(record))]
    s.confirm(f"erase {len(chosen)} record(s)" if due else f"erase record {chosen[0]}")
    for record_id in chosen:
        tx = client.records.erase(record_id)
        typer.echo(
            f"record {record_id} erased in block {tx.block}: member stores delete its sealed bytes on the "
            "RecordErased event"
        )


@chain_command(record_app, "copies")
def copies(
    s: Session,
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex).")],
    store: Annotated[list[str], typer.Option("--store", help="A member store's gateway URL (repeatable).")],
    as_json: Json = False,
) -> None:
    """How many member stores still hold a copy of a record's sealed bytes (after an erasure: none should).
    Exits 1 when the record is erased and a store still holds a copy."""
    from urllib.parse import urlsplit

    for url in store:
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"--store {url!r} is not an http:// or https:// gateway URL")
    # Signed when a keystore is given: a gated gateway answers only the accounts it serves (members, patient).
    asker = s.client if s.config.keystore else s.reader
    found = asker.records.copies(record_arg(record), store)
    lines = [f"{a.store}: {a.detail}" for a in found.answers]
    state = "erased" if found.erased else "not erased"
    summary = (
        f"record {found.record_id} ({state}): {found.holding} of {len(found.answers)} store(s) hold a copy"
    )
    if found.unknown:
        summary += f", {found.unknown} could not be asked"
    emit(found.to_json(), as_json, "\n".join([*lines, summary]))
    if found.erased and found.holding:
        raise CliError(f"erasure incomplete: {found.holding} store(s) still hold record {found.record_id}")


def _attachment_files(value: Any) -> list[tuple[str, str, bytes]]:
    """(file name, media type, bytes) of each attachment, named so that none escapes the output folder or
    overwrites a section file or another attachment: the record's author chose those names.

    Raises:
        InputError: the attachments section is not the documented list of objects.
    """
    if value is None:
        return []
    taken = {f"{name}.json" for name in SECTION_NAMES} | {"attachments.json"}
    out = []
    try:
        for n, item in enumerate(value, start=1):
            name = Path(str(item["name"]).replace("\\", "/")).name
            if name in ("", ".", ".."):
                name = f"attachment-{n}"
            while name in taken:
                name = f"{n}-{name}"
            taken.add(name)
            out.append((name, str(item.get("media_type", "")), base64.b64decode(item["data"], validate=True)))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise InputError(
            f"the record's attachments section is malformed ({type(exc).__name__}: {exc})"
        ) from None
    return out


@chain_command(record_app, "update")
def update(
    s: Session,
    record: Annotated[str | None, typer.Argument(help="Record id to amend.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="The new version's JSON.")] = None,
    approval: Annotated[
        Path | None, typer.Option("--approval", help="The patient's signed approval to relay.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where to write the approval request.")
    ] = None,
    kind: KindOpt = None,
) -> None:
    """Amend a record: prepare the new version (patient must approve), or relay the signed approval."""
    from famchain.records.model import load_record

    if approval is not None:
        signed = read_json(approval)
        s.confirm(f"anchor the approved update {signed.get('record')}")  # before the outbox changes
        entry = s.client.records.anchor_approved(signed)
        typer.echo(f"update {entry.record_id} anchored (new version of {entry.previous})")
        return
    if record is None or file is None:
        raise InputError("give RECORD_ID and --file to prepare an update, or --approval FILE to relay one")
    from dataclasses import replace

    from famchain.records.model import parse_kind

    content = load_record(file)
    if kind is not None:
        content = replace(content, kind=parse_kind(kind, "--kind"))
    prepared = s.client.records.prepare_update(record_arg(record), content)
    entry = prepared.entry
    path = output or Path(f"approval-{str(entry.record_id)[:10]}.json")
    write_private(path, json.dumps(prepared.request, indent=2) + "\n")
    typer.echo(f"new version {entry.record_id} sealed and stored; approval request written to {path}")
    info(
        f"the patient signs it with `famchain record approve {path}`; then run `famchain record update --approval {path}`"
    )


@record_app.command("approve")
def approve(
    file: Annotated[Path, typer.Argument(help="The approval request the doctor sent.")],
    keystore_ref: KeystoreOpt = None,
    keystore_dir: KeystoreDir = None,
    password_file: PasswordFile = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Signed file [default: in place].")
    ] = None,
) -> None:
    """As the patient: sign a record-update approval offline (EIP-712); no chain access needed."""
    from famchain.records.updates import approve_request

    request = read_json(file)
    config = settings(keystore=keystore_ref, keystore_dir=keystore_dir, password_file=password_file)
    if not config.keystore:
        raise InputError("no account: pass --keystore FILE_OR_ADDRESS or set FAMCHAIN_KEYSTORE")
    account = unlock(config)
    signed = approve_request(bytes(account.key), request)
    target = output or file
    write_private(target, json.dumps(signed, indent=2) + "\n")
    message = signed["typed_data"]["message"]
    typer.echo(f"approved update {signed['record']} of record {message['previous']}; signed file {target}")


@chain_command(outbox_app, "flush")
def flush(
    s: Session,
    batch: Annotated[bool, typer.Option(help="Anchor a patient's records in one transaction.")] = True,
    as_json: Json = False,
) -> None:
    """Store and anchor every queued record exactly once."""
    from famchain.records.anchoring import Strategy
    from famchain.records.outbox import OutboxState

    client = s.client
    ready = [e for e in client.records.pending() if e.state is not OutboxState.AWAITING_APPROVAL]
    if ready:
        s.confirm(f"store and anchor {len(ready)} queued record(s)")
    report = client.records.flush(strategy=Strategy.BATCHED if batch else Strategy.PIPELINED)
    _late(report)
    out = {
        "anchored": [_entry_json(e) for e in report.anchored],
        "already_anchored": [_entry_json(e) for e in report.already],
        "waiting_approval": [_entry_json(e) for e in report.waiting_approval],
        "failed": [{**_entry_json(f.entry), "error": str(f.error)} for f in report.failed],
        "transactions": report.transactions,
    }
    human = (
        f"anchored {len(report.anchored)} in {report.transactions} transaction(s); "
        f"{len(report.already)} were already on chain; {len(report.waiting_approval)} await approval; "
        f"{len(report.failed)} failed"
    )
    emit(out, as_json, human)
    if report.failed:
        first = report.failed[0]
        raise CliError(f"{len(report.failed)} record(s) not anchored; {first.entry.record_id}: {first.error}")


@chain_command(outbox_app, "list")
def list_outbox(s: Session, as_json: Json = False) -> None:
    """Records not yet anchored."""
    entries = s.client.records.pending()
    lines = [f"{e.record_id}  {e.state.value:18} {e.patient}  {e.last_error}" for e in entries]
    emit([_entry_json(e) for e in entries], as_json, "\n".join(lines) or "outbox is empty")


@chain_command(outbox_app, "drop")
def drop(s: Session, record: Annotated[str, typer.Argument(help="Record id of a queued record.")]) -> None:
    """Give up a queued record that can never be anchored (its sealed bytes are deleted)."""
    from famchain.records.outbox import OutboxState

    record_id = record_arg(record)
    client = s.client
    s.confirm(f"drop queued record {record_id}")
    entry = client.records.drop(record_id)
    if entry.state is OutboxState.ANCHORED:
        typer.echo(
            f"record {record_id} is already on the card (block {entry.block}); marked done, not dropped"
        )
    else:
        typer.echo(f"dropped queued record {record_id}")
