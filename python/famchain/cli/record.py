"""`famchain record` (submit, list, read, update, approve) and `famchain outbox` (resume queued records)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from famchain.cli._context import (
    DeploymentFile,
    Json,
    KeystoreDir,
    KeystoreOpt,
    PasswordFile,
    RpcUrl,
    Session,
    address_arg,
    chain_command,
    emit,
    info,
    read_json,
    settings,
    write_private,
)
from famchain.cli._errors import CliError
from famchain.cli._output import block_label, section_label, sections_label
from famchain.cli._when import ask, until
from famchain.errors import FamchainError, InputError
from famchain.i18n import N_, _, ngettext
from famchain.records.sections import SECTION_NAMES, section_names
from famchain.settings import DEFAULT_RPC

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
        raise InputError(_("give the record as --file RECORD.json or --fhir BUNDLE.json (one of them)"))
    if fhir_bundle is None and (strict or encounter is not None):
        raise InputError(_("--strict and --encounter go with --fhir"))
    mapped: dict[str, Any] | None = None
    if fhir_bundle is not None:
        if attach:
            raise InputError(
                _("--attach does not combine with --fhir: put files in DocumentReference entries")
            )
        from famchain import fhir

        imported = fhir.load_bundle(fhir_bundle, strict=strict, encounter=encounter)
        info(imported.summary())
        content = imported.content
        mapped = imported.to_json()
    else:
        assert file is not None
        content = load_record(file, attach)
    chosen = parse_kind(kind, "--kind") if kind is not None else None
    s.confirm(_("anchor a record on the card of {patient}").format(patient=who))
    client = s.client
    before = {e.record_id for e in client.records.pending()}
    try:
        done = client.records.submit(who, content, kind=chosen)
    except FamchainError as exc:
        queued = [e for e in client.records.pending() if e.record_id not in before and e.patient == who]
        if as_json and queued:  # the record is sealed and queued: say which, in what state, and why
            emit({**_entry_json(queued[-1]), "error": str(exc)}, True)
        raise
    extra = len(done.report.anchored) + len(done.report.already) - 1
    if extra > 0:
        info(
            ngettext(
                "also anchored {n} earlier queued record", "also anchored {n} earlier queued records", extra
            ).format(n=extra)
        )
    _late(done.report)
    entry = done.entry
    out = _entry_json(entry)
    if mapped is not None:
        out["fhir"] = mapped
    emit(
        out,
        as_json,
        _("record {record} anchored in block {block} ({cid})").format(
            record=entry.record_id, block=entry.block, cid=entry.cid
        ),
    )


def _record(s: Session, value: str, *, own: bool = False) -> Any:
    """A record id given whole or by a unique prefix (``own``: your queued records count too)."""
    client = s.client if own or s.config.keystore else s.reader
    return client.records.resolve(value)


def _late(report: Any) -> None:
    for late in report.late_releases:
        records = ", ".join(str(r) for r in late.record_ids)
        if late.error is None:
            info(
                _("released record(s) {records} to {grantee} (entitled since they were sealed)").format(
                    records=records, grantee=late.grantee
                )
            )
        else:
            info(
                _("could not release record(s) {records} to {grantee}: {error}").format(
                    records=records, grantee=late.grantee, error=late.error
                )
            )


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
        _("{index}  {record}  by {author}  {sections}").format(
            index=f"{r.index:>4}",
            record=r.record_id,
            author=r.author,
            sections=sections_label(section_names(r.sections)),
        )
        + (_("  (update of {previous})").format(previous=r.previous) if r.is_update else "")
        + _("  ({kind}, {block})").format(kind=_(r.kind.label), block=block_label(r.block, r.anchored_at))
        + _deletion_note(state, r.record_id)
        for r in card
    ]
    emit(
        {"patient": who, "records": rows},
        as_json,
        "\n".join(lines) or _("{patient} has no records").format(patient=who),
    )


def _deletion_note(state: Any, record_id: Any) -> str:
    erased = state.erasure(record_id)
    if erased is not None:
        return f"  [{erased.phrase}]"
    reason = state.skip_reason(record_id)
    return _("  [{reason}: only the patient reads it]").format(reason=reason) if reason else ""


@chain_command(record_app, "read")
def read(
    s: Session,
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex, or a unique prefix of 4+ digits).")],
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

    result = s.client.records.read(_record(s, record))
    if as_fhir:
        from famchain import fhir

        typer.echo(json.dumps(fhir.record_to_bundle(result.to_json()), indent=2, ensure_ascii=False))
        return
    files = _attachment_files(result.sections.get("attachments"))
    if output is not None:
        private_dir(output)
        from famchain._files import write_private as write_bytes

        for name, value in result.sections.items():
            if name == "attachments":  # each attachment once, as its own file; the index holds no bytes
                index = [
                    {"name": item.get("name"), "media_type": media, "file": file_name, "size": len(data)}
                    for item, (file_name, media, data) in zip(value, files, strict=True)
                ]
                write_private(output / "attachments.json", canonical_json(index).decode())
                continue
            write_private(output / f"{name}.json", canonical_json(value).decode())
        for file_name, _media, data in files:
            write_bytes(output / file_name, data)
        info(
            _("wrote {sections} section(s) and {files} attachment(s) to {output}").format(
                sections=len(result.sections), files=len(files), output=output
            )
        )
    lines = [
        _("record {record} by {author} for {patient}").format(
            record=record, author=result.anchor.author, patient=result.anchor.patient
        )
    ]
    for name, value in result.sections.items():
        shown = (
            _without_fhir(value) if name != "attachments" else [f"{f} ({media})" for f, media, _b in files]
        )
        lines.append(f"  {section_label(name)}{_(': ')}{json.dumps(shown, ensure_ascii=False)}")
    lines += [
        _("  {section}: withheld ({why})").format(section=section_label(name), why=why)
        for name, why in result.withheld.items()
    ]
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
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex, or a unique prefix of 4+ digits).")],
    to: Annotated[str, typer.Option("--to", help="The reader to release it to (a grantee of the patient).")],
) -> None:
    """As the record's author (or the patient): release one record's keys to a reader the chain lets read it
    (a consent signed before the record was anchored, say)."""
    who = address_arg(to, "--to")
    record_id = _record(s, record)
    client = s.client
    s.confirm(_("release record {record} to {reader}").format(record=record_id, reader=who))
    release = client.records.share(record_id, who)
    typer.echo(
        _("released {sections} of record {record} to {reader} in {cid}").format(
            sections=sections_label(section_names(release.sections)),
            record=record_id,
            reader=who,
            cid=release.bundle_cid,
        )
    )


@chain_command(record_app, "erase")
def erase(
    s: Session,
    record: Annotated[
        str | None, typer.Argument(help="Record id (0x + 64 hex, or a unique prefix of 4+ digits).")
    ] = None,
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
        raise InputError(_("give a RECORD id, or --due with --patient"))
    client = s.client
    if due:
        assert patient is not None
        chosen = [r.record_id for r in client.records.erasable(address_arg(patient, "patient"))]
        if not chosen:
            typer.echo(_("no record of that patient is due for erasure"))
            return
    else:
        chosen = [_record(s, str(record))]
    s.confirm(
        ngettext("erase {n} record", "erase {n} records", len(chosen)).format(n=len(chosen))
        if due
        else _("erase record {record}").format(record=chosen[0])
    )
    for record_id in chosen:
        tx = client.records.erase(record_id)
        typer.echo(
            _(
                "record {record} erased in block {block}: member stores delete its sealed bytes on the "
                "RecordErased event"
            ).format(record=record_id, block=tx.block)
        )


@chain_command(record_app, "copies")
def copies(
    s: Session,
    record: Annotated[str, typer.Argument(help="Record id (0x + 64 hex, or a unique prefix of 4+ digits).")],
    store: Annotated[list[str], typer.Option("--store", help="A member store's gateway URL (repeatable).")],
    as_json: Json = False,
) -> None:
    """How many member stores still hold a copy of a record's sealed bytes (after an erasure: none should).
    Exits 1 when the record is erased and a store still holds a copy."""
    from urllib.parse import urlsplit

    for url in store:
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(
                _("--store {url} is not an http:// or https:// gateway URL").format(url=repr(url))
            )
    # Signed when a keystore is given: a gated gateway answers only the accounts it serves (members, patient).
    asker = s.client if s.config.keystore else s.reader
    found = asker.records.copies(_record(s, record), store)
    lines = [f"{a.store}: {a.detail}" for a in found.answers]
    state = _("erased") if found.erased else _("not erased")
    summary = _("record {record} ({state}): {holding} of {stores} store(s) hold a copy").format(
        record=found.record_id, state=state, holding=found.holding, stores=len(found.answers)
    )
    if found.unknown:
        summary += _(", {unknown} could not be asked").format(unknown=found.unknown)
    emit(found.to_json(), as_json, "\n".join([*lines, summary]))
    if found.erased and found.holding:
        raise CliError(
            _("erasure incomplete: {holding} store(s) still hold record {record}").format(
                holding=found.holding, record=found.record_id
            )
        )


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
            _("the record's attachments section is malformed ({error})").format(
                error=f"{type(exc).__name__}: {exc}"
            )
        ) from None
    return out


@chain_command(record_app, "update")
def update(
    s: Session,
    record: Annotated[str | None, typer.Argument(help="Record id to amend (or a unique prefix).")] = None,
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
        s.confirm(
            _("anchor the approved update {record}").format(record=signed.get("record"))
        )  # before the outbox changes
        entry = s.client.records.anchor_approved(signed)
        typer.echo(
            _("update {record} anchored (new version of {previous})").format(
                record=entry.record_id, previous=entry.previous
            )
        )
        return
    if record is None or file is None:
        raise InputError(_("give RECORD_ID and --file to prepare an update, or --approval FILE to relay one"))
    from dataclasses import replace

    from famchain.records.model import parse_kind

    content = load_record(file)
    if kind is not None:
        content = replace(content, kind=parse_kind(kind, "--kind"))
    prepared = s.client.records.prepare_update(_record(s, record), content)
    entry = prepared.entry
    path = output or Path(f"approval-{str(entry.record_id)[:10]}.json")
    write_private(path, json.dumps(prepared.request, indent=2) + "\n")
    typer.echo(
        _("new version {record} sealed and stored; approval request written to {file}").format(
            record=entry.record_id, file=path
        )
    )
    info(
        _("the patient signs it with `{approve}`; then run `{relay}`").format(
            approve=f"famchain record approve {path}", relay=f"famchain record update --approval {path}"
        )
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Sign without asking.")] = False,
    print_typed_data: Annotated[
        bool,
        typer.Option(
            "--print-typed-data", help="Print the EIP-712 JSON a wallet signs, and stop (no keystore)."
        ),
    ] = False,
    signature: Annotated[
        str | None,
        typer.Option("--signature", help="Attach the patient wallet's signature (0x…) of that typed data."),
    ] = None,
    rpc_url: RpcUrl = DEFAULT_RPC,
    deployment: DeploymentFile = None,
) -> None:
    """As the patient: see what an amendment changes (sections added, removed, altered, read from both
    versions when the chain and store answer), then sign its approval offline (EIP-712); nothing is sent."""
    from famchain.records.sharing import parse_signature, with_signature
    from famchain.records.updates import approve_request, check_request

    request = read_json(file)
    typed = check_request(request)
    target = output or file
    if print_typed_data:
        typer.echo(json.dumps(typed, indent=2))
        return
    if signature is not None:
        signed = with_signature(request, parse_signature(signature), "patient")
        write_private(target, json.dumps(signed, indent=2) + "\n")
        typer.echo(
            _("approval of update {record} signed in a wallet; signed file {file}").format(
                record=signed.get("record"), file=target
            )
        )
        return
    config = settings(
        rpc_url=rpc_url,
        deployment_file=deployment,
        keystore=keystore_ref,
        keystore_dir=keystore_dir,
        password_file=password_file,
    )
    if not config.keystore:
        raise InputError(
            _(
                "no account: pass --keystore FILE_OR_ADDRESS or set FAMCHAIN_KEYSTORE (or --print-typed-data "
                "to sign in a wallet)"
            )
        )
    s = Session(config)
    signed = approve_request(bytes(s.account.key), request)  # refuses a malformed request or another signer
    try:
        change = s.client.records.describe_update(request)
    except FamchainError as exc:
        typer.echo(_unchecked_change(typed, exc))
    else:
        typer.echo(_change_text(change))
    ask(
        yes,
        _("Sign the approval of this amendment of record {record}").format(
            record=typed["message"].get("previous")
        ),
    )
    write_private(target, json.dumps(signed, indent=2) + "\n")
    message = signed["typed_data"]["message"]
    typer.echo(
        _("approved update {record} of record {previous}; signed file {file}").format(
            record=signed["record"], previous=message["previous"], file=target
        )
    )


def _change_text(change: Any) -> str:
    """An amendment as the patient reads it before signing."""

    def shown(value: Any) -> str:
        return json.dumps(_without_fhir(value), ensure_ascii=False)

    lines = [
        _("update {record} of record {previous} changes:").format(
            record=change.record_id, previous=change.previous
        )
    ]
    for name in change.added:
        lines.append(
            _("  + {section} (added): {content}").format(
                section=section_label(name), content=shown(change.after[name])
            )
        )
    for name in change.removed:
        lines.append(
            _("  - {section} (removed): {content}").format(
                section=section_label(name), content=shown(change.before[name])
            )
        )
    for name in change.altered:
        lines.append(_("  ~ {section} (altered)").format(section=section_label(name)))
        lines.append(_("      before: {content}").format(content=shown(change.before[name])))
        lines.append(_("      after:  {content}").format(content=shown(change.after[name])))
    if change.kept:
        lines.append(_("  = unchanged: {sections}").format(sections=sections_label(change.kept)))
    if not (change.added or change.removed or change.altered):
        lines.append(_("  nothing: the new version holds the same sections with the same content"))
    return "\n".join(lines)


def _unchecked_change(typed: dict[str, Any], error: Exception) -> str:
    """What can be said of an amendment without reading it (chain or store unreachable)."""
    try:
        sections = section_names(int(typed["message"]["sections"]))
    except (KeyError, TypeError, ValueError):
        sections = []
    return _("the two versions could not be compared ({error}); the new version holds: {sections}").format(
        error=error, sections=sections_label(sections) if sections else "?"
    )


@chain_command(record_app, "pending")
def pending(
    s: Session,
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Approval requests you were sent (as the patient): which still wait for you."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Amendments awaiting approval: as the patient, those of the request files given that still wait for
    your signature; as an author, the updates in your outbox that wait for their patient's."""
    from famchain.records.outbox import OutboxState
    from famchain.records.updates import check_request

    client = s.client
    me = client.address
    now = client.now()
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for file in files or []:
        request = read_json(file)
        message = check_request(request)["message"]
        if str(message.get("patient", "")).lower() != me.lower():
            raise InputError(
                _("{file}: this approval request is for {patient}, not you ({me})").format(
                    file=file, patient=message.get("patient"), me=me
                )
            )
        new = client.records.resolve(str(request.get("record")))
        deadline = int(message.get("deadline", 0))
        if new in set(client.history.record_ids(me)):
            state = N_("anchored")
        elif "signature" in request:
            state = N_("signed")
        elif deadline < now:
            state = N_("expired")
        else:
            state = N_("awaiting your approval")
        rows.append(
            {
                "file": str(file),
                "record": str(new),
                "previous": str(message.get("previous")),
                "author": message.get("author"),
                "sections": section_names(int(message.get("sections", 0))),
                "deadline": deadline,
                "state": state,
            }
        )
        line = _("{file}: update {record} of record {previous} by {author} ({sections}): {state}").format(
            file=file,
            record=new,
            previous=message.get("previous"),
            author=message.get("author"),
            sections=sections_label(rows[-1]["sections"]),
            state=_(state),
        )
        if state == "awaiting your approval":
            line += _(", sign {until}: {command}").format(
                until=until(deadline, now), command=f"famchain record approve {file}"
            )
        lines.append(line)
    for entry in client.records.pending():
        if entry.state is OutboxState.AWAITING_APPROVAL:
            rows.append({**_entry_json(entry), "file": None, "state": "awaiting the patient's approval"})
            lines.append(
                _(
                    "update {record} of record {previous} for {patient} ({sections}): awaiting the patient's approval"
                ).format(
                    record=entry.record_id,
                    previous=entry.previous,
                    patient=entry.patient,
                    sections=sections_label(section_names(entry.sections)),
                )
            )
    emit(
        {"account": me, "pending": rows},
        as_json,
        "\n".join(lines) or _("no amendment awaits an approval"),
    )


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
        s.confirm(
            ngettext(
                "store and anchor {n} queued record", "store and anchor {n} queued records", len(ready)
            ).format(n=len(ready))
        )
    report = client.records.flush(strategy=Strategy.BATCHED if batch else Strategy.PIPELINED)
    _late(report)
    out = {
        "anchored": [_entry_json(e) for e in report.anchored],
        "already_anchored": [_entry_json(e) for e in report.already],
        "waiting_approval": [_entry_json(e) for e in report.waiting_approval],
        "failed": [{**_entry_json(f.entry), "error": str(f.error)} for f in report.failed],
        "transactions": report.transactions,
    }
    human = _(
        "anchored {anchored} in {transactions} transaction(s); {already} were already on chain; {waiting} await "
        "approval; {failed} failed"
    ).format(
        anchored=len(report.anchored),
        transactions=report.transactions,
        already=len(report.already),
        waiting=len(report.waiting_approval),
        failed=len(report.failed),
    )
    emit(out, as_json, human)
    if report.failed:
        first = report.failed[0]
        raise CliError(
            _("{n} record(s) not anchored; {record}: {error}").format(
                n=len(report.failed), record=first.entry.record_id, error=first.error
            )
        )


@chain_command(outbox_app, "list")
def list_outbox(s: Session, as_json: Json = False) -> None:
    """Records not yet anchored."""
    entries = s.client.records.pending()
    lines = [f"{e.record_id}  {e.state.value:18} {e.patient}  {e.last_error}" for e in entries]
    emit([_entry_json(e) for e in entries], as_json, "\n".join(lines) or _("outbox is empty"))


@chain_command(outbox_app, "drop")
def drop(s: Session, record: Annotated[str, typer.Argument(help="Record id of a queued record.")]) -> None:
    """Give up a queued record that can never be anchored (its sealed bytes are deleted)."""
    from famchain.records.outbox import OutboxState

    record_id = _record(s, record, own=True)
    client = s.client
    s.confirm(_("drop queued record {record}").format(record=record_id))
    entry = client.records.drop(record_id)
    if entry.state is OutboxState.ANCHORED:
        typer.echo(
            _("record {record} is already on the card (block {block}); marked done, not dropped").format(
                record=record_id, block=entry.block
            )
        )
    else:
        typer.echo(_("dropped queued record {record}").format(record=record_id))
