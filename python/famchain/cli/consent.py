"""`famchain consent`: requests, grants (by transaction or offline signature), revocations, cancelled
signatures, key syncs, listing."""

from __future__ import annotations

import calendar
import json
import re
import time
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
    days_to_seconds,
    emit,
    info,
    read_json,
    settings,
    write_private,
)
from famchain.cli._when import ask, span, until
from famchain.errors import InputError
from famchain.records.sections import (
    ALL_SECTIONS,
    action_mask,
    action_names,
    parse_purpose,
    section_mask,
    section_names,
)
from famchain.settings import DEFAULT_RPC

if TYPE_CHECKING:
    from famchain.client import Client
    from famchain.crypto.typed_data import ConsentTerms
    from famchain.records.sharing import Release
    from famchain.services.consents import TermsOptions

app = typer.Typer(
    help="Consent: who may read or append which sections of your records, why, until when.",
    no_args_is_help=True,
)

Sections = Annotated[
    list[str] | None,
    typer.Option(
        "--sections", help="Section names, comma separated, or `all` [default: the request's, else all]."
    ),
]
Actions = Annotated[
    list[str] | None,
    typer.Option("--actions", help="read, append (comma separated) [default: the request's, else read]."),
]
PurposeOpt = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="Why: treatment, referral, insurance-claim, research, or a sentence (committed on chain as a salted "
        "hash) [default: the request's, else treatment].",
    ),
]
Days = Annotated[
    float | None,
    typer.Option("--days", help="Days until the consent expires [default: the request's, else 30]."),
]
Recipient = Annotated[
    str | None,
    typer.Option("--recipient", help="Who receives the data [default: the grantee and its institution]."),
]
Contact = Annotated[str, typer.Option("--contact", help="How to reach the recipient.")]
Data = Annotated[str | None, typer.Option("--data", help="What data [default: the section names].")]
Method = Annotated[
    str | None, typer.Option("--method", help="How it is processed [default: the actions, through famchain].")
]
RecordsFrom = Annotated[
    str | None,
    typer.Option(
        "--records-from", help="Only records anchored from this date (YYYY-MM-DD, UTC) or unix time."
    ),
]
RecordsUntil = Annotated[
    str | None,
    typer.Option(
        "--records-until", help="Only records anchored until this date (YYYY-MM-DD, UTC) or unix time."
    ),
]

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_time(text: str | None, option: str, *, end_of_day: bool = False) -> int:
    """A date ``YYYY-MM-DD`` (UTC; the end of that day with ``end_of_day``) or unix seconds; 0 when not given.

    Raises:
        InputError: neither form, or out of range.
    """
    if text is None:
        return 0
    raw = text.strip()
    match = _DATE.fullmatch(raw)
    try:
        if match:
            year, month, day = (int(g) for g in match.groups())
            start = calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0))
            if (year, month, day) != tuple(time.gmtime(start)[:3]):
                raise ValueError(raw)
            value = start + 86_399 if end_of_day else start
        else:
            value = int(raw)
    except (ValueError, OverflowError):
        raise InputError(f"{option} {text!r} is not a date (YYYY-MM-DD) or unix time") from None
    if not 0 <= value < 2**64:
        raise InputError(f"{option} {text!r} is out of range")
    return value


def _options(
    purpose: str | None,
    recipient: str | None,
    contact: str,
    data: str | None,
    method: str | None,
    records_from: str | None,
    records_until: str | None,
) -> TermsOptions:
    from famchain.services.consents import TermsOptions

    return TermsOptions(
        parse_purpose(purpose) if purpose is not None else None,
        recipient,
        contact,
        data,
        method,
        parse_time(records_from, "--records-from"),
        parse_time(records_until, "--records-until", end_of_day=True),
    )


def _scope(
    client: Client,
    grantee: str,
    sections: list[str] | None,
    actions: list[str] | None,
    days: float | None,
    *,
    patient: str | None = None,
) -> tuple[int, int, int]:
    """Sections, actions and seconds: as given, else the grantee's open request's, else all/read/30 days."""
    request = client.consents.request_of(patient or client.address, grantee)
    asked = request if request.is_open else None
    mask = section_mask(sections) if sections else (asked.sections if asked else ALL_SECTIONS)
    acts = action_mask(actions) if actions else (asked.actions if asked else action_mask(["read"]))
    seconds = (
        days_to_seconds(days, "--days") if days is not None else (asked.duration if asked else 30 * 86400)
    )
    return mask, acts, seconds


def _day(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


def records_range(records_from: int, records_until: int) -> str:
    """The records a consent covers, by anchoring date (UTC), as people read it."""
    if records_from and records_until:
        return f"records anchored from {_day(records_from)} until {_day(records_until)}"
    if records_from:
        return f"records anchored from {_day(records_from)}"
    if records_until:
        return f"records anchored until {_day(records_until)}"
    return "all records, those anchored later included"


def terms_text(
    grantee: str, terms: ConsentTerms, sections: int, actions: int, seconds: int, *, now: int
) -> str:
    """What the patient consents to (PIPL art. 23/29: recipient and its contact, purpose, data, method,
    duration), as the consent commits it; shown before a grant is sent and with a signed consent."""
    until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now + seconds))
    rows = [
        ("grantee", grantee),
        ("recipient", terms.recipient),
        ("contact", terms.contact or "(none given)"),
        ("purpose", terms.purpose),
        (
            "data",
            f"{terms.data} ({', '.join(section_names(sections))}); "
            + records_range(terms.recordsFrom, terms.recordsUntil),
        ),
        ("method", f"{terms.method} ({', '.join(action_names(actions))})"),
        ("duration", f"until {until} ({seconds / 86400:g} day(s))"),
    ]
    return "consent terms:\n" + "\n".join(f"  {label + ':':<10} {value}" for label, value in rows)


def _print_release(release: Release) -> None:
    for skipped in release.skipped:
        typer.echo(f"skipped record {skipped.record_id}: {skipped.reason}")


@chain_command(app, "request")
def request(
    s: Session,
    patient: Annotated[str, typer.Argument(help="The patient whose records you ask for.")],
    sections: Sections = None,
    actions: Actions = None,
    purpose: PurposeOpt = None,
    days: Annotated[float, typer.Option("--days", help="Days of access you ask for.")] = 30,
    recipient: Recipient = None,
    contact: Contact = "",
    data: Data = None,
    method: Method = None,
    records_from: RecordsFrom = None,
    records_until: RecordsUntil = None,
) -> None:
    """As a practitioner: ask a patient for access; the terms are sealed to the patient and you (the patient
    reads them in `consent list` and answers with `consent answer YOU --grant` or `--refuse`)."""
    who = address_arg(patient, "patient")
    mask = section_mask(sections or ["all"])
    acts = action_mask(actions or ["read"])
    options = _options(purpose or "treatment", recipient, contact, data, method, records_from, records_until)
    duration = days_to_seconds(days, "--days")
    client = s.client
    proposed = client.consents.proposed_terms(mask, acts, options)
    typer.echo(terms_text(client.address, proposed, mask, acts, duration, now=client.now()))
    ask(s.yes, f"Send transaction: request access to {who}")
    client.consents.request(who, mask, actions=acts, duration=duration, terms=proposed)
    typer.echo(
        f"asked {who} for {', '.join(section_names(mask))} ({options.purpose}) for {span(duration)}; the patient "
        f"answers with `famchain consent answer {client.address} --grant` (or --refuse)"
    )


@chain_command(app, "grant")
def grant(
    s: Session,
    grantee: Annotated[str, typer.Argument(help="The practitioner to grant.")],
    sections: Sections = None,
    actions: Actions = None,
    purpose: PurposeOpt = None,
    days: Days = None,
    recipient: Recipient = None,
    contact: Contact = "",
    data: Data = None,
    method: Method = None,
    records_from: RecordsFrom = None,
    records_until: RecordsUntil = None,
) -> None:
    """As the patient: grant consent; the keys of your existing covered records go in the same transaction
    (what is not given is taken from the grantee's open request)."""
    who = address_arg(grantee, "grantee")
    options = _options(purpose, recipient, contact, data, method, records_from, records_until)
    _grant(s, who, sections, actions, days, options)


def _grant(
    s: Session,
    who: str,
    sections: list[str] | None,
    actions: list[str] | None,
    days: float | None,
    options: TermsOptions,
) -> None:
    client = s.client
    mask, acts, seconds = _scope(client, who, sections, actions, days)
    now = client.now()
    expires = now + seconds
    terms = client.consents.terms_for(who, mask, acts, options)
    typer.echo(terms_text(who, terms, mask, acts, seconds, now=now))
    ask(s.yes, f"Send transaction: grant {who} {', '.join(section_names(mask))} for {terms.purpose}")
    done = client.consents.grant(who, mask, actions=acts, expires_at=expires, terms=terms)
    bundle = done.release.bundle_cid
    typer.echo(
        f"granted {who}: {', '.join(section_names(mask))}; {', '.join(action_names(acts))}; {done.terms.purpose}; "
        f"{until(expires, now)}" + (f"; existing records released in {bundle}" if bundle else "")
    )
    _print_release(done.release)


@app.command("sign")
def sign(
    grantee: Annotated[str, typer.Argument(help="The practitioner to grant.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed consent.")],
    sections: Sections = None,
    actions: Actions = None,
    purpose: PurposeOpt = None,
    days: Days = None,
    recipient: Recipient = None,
    contact: Contact = "",
    data: Data = None,
    method: Method = None,
    records_from: RecordsFrom = None,
    records_until: RecordsUntil = None,
    print_typed_data: Annotated[
        bool,
        typer.Option(
            help="Print the EIP-712 JSON a wallet signs (with --patient and no keystore: print it unsigned, "
            "for the patient's wallet)."
        ),
    ] = False,
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", help="The patient [default: your keystore's]; a wallet's address needs no key."
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Ask no chain: chain id and addresses from --deployment, times from this computer's clock, "
            "no key bundle (release the keys later with `consent sync`).",
        ),
    ] = False,
    nonce: Annotated[
        int,
        typer.Option(
            "--nonce",
            help="With --offline: the sequence of your next consent signature for this grantee (0 the first "
            "time; each relayed consent, revocation, refusal or cancellation for it adds one).",
        ),
    ] = 0,
    rpc_url: RpcUrl = DEFAULT_RPC,
    deployment: DeploymentFile = None,
    keystore_ref: KeystoreOpt = None,
    keystore_dir: KeystoreDir = None,
    password_file: PasswordFile = None,
) -> None:
    """As the patient: store the key bundle of your covered records, then sign a consent naming it for anyone to
    relay; sends nothing. The file holds the signature and the terms, no key. With --patient and no keystore,
    write the unsigned consent and print what the patient's wallet signs (`consent submit FILE --signature`)."""
    from famchain.records.sharing import consent_document

    config = settings(
        rpc_url=rpc_url,
        deployment_file=deployment,
        keystore=keystore_ref,
        keystore_dir=keystore_dir,
        password_file=password_file,
    )
    s = Session(config)
    who = address_arg(grantee, "grantee")
    named = address_arg(patient, "patient") if patient is not None else None
    wallet = not config.keystore
    if wallet and (named is None or not print_typed_data):
        raise InputError(
            "no account: pass --keystore FILE_OR_ADDRESS, or --patient ADDRESS --print-typed-data to sign in "
            "a wallet"
        )
    if not offline and nonce:
        raise InputError("--nonce goes with --offline (online, the chain says the nonce)")
    owner = named if wallet else s.account.address
    if named is not None and named != owner:
        raise InputError(f"--patient {named} is not your keystore's account {owner}")
    assert owner is not None
    options = _options(purpose, recipient, contact, data, method, records_from, records_until)
    say = info if print_typed_data else typer.echo
    release = None
    if offline:
        typed, terms, mask, acts, seconds = _offline(s, owner, who, sections, actions, days, options, nonce)
        now = int(time.time())
    else:
        client = s.reader if wallet else s.client
        mask, acts, seconds = _scope(client, who, sections, actions, days, patient=owner)
        now = client.now()
        terms = client.consents.terms_for(who, mask, acts, options)
        if wallet:
            typed = client.consents.prepare(
                owner, who, mask, actions=acts, expires_at=now + seconds, terms=terms
            )
        else:
            signed = client.consents.sign(who, mask, actions=acts, expires_at=now + seconds, terms=terms)
            typed, release = signed.document["typed_data"], signed.release
    if wallet:
        document = consent_document(typed)
    else:  # an offline or online signature by the keystore: the same EIP-712 signature either way
        from famchain.crypto.typed_data import sign_typed_data

        document = consent_document(typed, sign_typed_data(bytes(s.account.key), typed))
    write_private(output, json.dumps(document, indent=2) + "\n")
    if print_typed_data:
        typer.echo(json.dumps(typed, indent=2))
    if release is not None:
        for skipped in release.skipped:
            say(f"skipped record {skipped.record_id}: {skipped.reason}")
    if wallet:
        say(
            f"unsigned consent for {who} written to {output}: sign the printed typed data in {owner}'s wallet "
            f"(eth_signTypedData_v4), then `famchain consent submit {output} --signature 0x…`"
        )
    else:
        say(f"signed consent for {who} written to {output}; relay it with `famchain consent submit {output}`")
    if release is None and acts & action_mask(["read"]):
        say(
            "it names no key bundle: once it is in force, the patient releases the keys of existing records "
            f"with `famchain consent sync {who}`"
        )
    say(terms_text(who, terms, mask, acts, seconds, now=now))


def _offline(
    s: Session,
    patient: str,
    grantee: str,
    sections: list[str] | None,
    actions: list[str] | None,
    days: float | None,
    options: TermsOptions,
    sequence: int,
) -> tuple[dict[str, Any], ConsentTerms, int, int, int]:
    """The Consent typed data from the deployment file and the local clock (no chain asked)."""
    from famchain.chain.deployment import Deployment
    from famchain.records.sections import Purpose
    from famchain.records.sharing import DEFAULT_SIGNATURE_TTL
    from famchain.records.terms import TermsBook, default_terms
    from famchain.services.consents import offline_consent

    if s.config.deployment_file is None:
        raise InputError(
            "--offline needs the deployment file: pass --deployment FILE or set FAMCHAIN_DEPLOYMENT"
        )
    deployment = Deployment.load(s.config.deployment_file)
    mask = section_mask(sections or ["all"])
    acts = action_mask(actions or ["read"])
    seconds = days_to_seconds(days if days is not None else 30, "--days")
    terms = default_terms(
        grantee=grantee,
        institution=None,
        sections=mask,
        actions=acts,
        purpose=options.purpose or Purpose.TREATMENT.value,
        recipient=options.recipient,
        contact=options.contact,
        data=options.data,
        method=options.method,
        records_from=options.records_from,
        records_until=options.records_until,
    )
    now = int(time.time())
    typed = offline_consent(
        deployment,
        patient,
        grantee,
        mask,
        actions=acts,
        expires_at=now + seconds,
        terms=terms,
        sequence=sequence,
        deadline=now + DEFAULT_SIGNATURE_TTL,
    )
    if s.config.keystore:  # the patient's client keeps the opening of its terms, as an online grant does
        registry = deployment.address("ConsentRegistry")
        TermsBook.of(s.config.home, deployment.chain_id, registry, patient).save(terms)
    return typed, terms, mask, acts, seconds


@chain_command(app, "submit")
def submit(
    s: Session,
    file: Annotated[
        Path, typer.Argument(help="A signed consent file (or an unsigned one with --signature).")
    ],
    signature: Annotated[
        str | None,
        typer.Option(
            "--signature",
            help="The patient wallet's signature (0x…) of the typed data `consent sign --print-typed-data` "
            "printed.",
        ),
    ] = None,
) -> None:
    """Relay a signed consent (anyone may pay the gas): grants exactly what the patient signed and announces
    its key bundle in the same transaction."""
    from famchain.records.sharing import parse_signature, with_signature

    doc = read_json(file)
    if signature is not None:
        doc = with_signature(doc, parse_signature(signature), "patient")
    client = s.client
    ask(s.yes, "Send transaction: relay a signed consent")
    done = client.consents.relay(doc)
    typer.echo(
        f"consent of {done.patient} for {done.grantee} is in force"
        + (f"; key release {done.bundle_cid}" if done.bundle_cid else "")
    )


@chain_command(app, "revoke")
def revoke(s: Session, grantee: Annotated[str, typer.Argument(help="The grantee to revoke.")]) -> None:
    """As the patient: revoke a consent; the grantee is wrapped into no new record from now on, and any consent
    signature for it you handed out dies."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, f"Send transaction: revoke {who}")
    client.consents.revoke(who)
    typer.echo(f"revoked {who}")


@chain_command(app, "cancel")
def cancel(
    s: Session, grantee: Annotated[str, typer.Argument(help="The grantee of the signed consent.")]
) -> None:
    """As the patient: kill the consent signature for a grantee you handed out and do not want relayed (its
    keyed nonce is consumed on chain)."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, f"Send transaction: cancel the outstanding consent signature for {who}")
    client.consents.cancel(who)
    typer.echo(f"cancelled: no consent signature for {who} made before now can be relayed")


@chain_command(app, "sync")
def sync(s: Session, grantee: Annotated[str, typer.Argument(help="A grantee of yours.")]) -> None:
    """As the patient: release to a grantee the keys of every record its consent covers (records anchored after
    you signed the consent included)."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, f"Send transaction: release keys to {who}")
    release = client.consents.sync(who)
    if release.bundle_cid is None:
        typer.echo(f"nothing to release to {who}")
    else:
        typer.echo(f"released keys of {release.covered} record(s) to {who} in {release.bundle_cid}")
    _print_release(release)


@chain_command(app, "refuse")
def refuse(s: Session, grantee: Annotated[str, typer.Argument(help="Who asked for access.")]) -> None:
    """As the patient: refuse an access request."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, f"Send transaction: refuse the request of {who}")
    client.consents.refuse(who)
    typer.echo(f"refused the request of {who}")


@chain_command(app, "answer")
def answer(
    s: Session,
    requester: Annotated[str, typer.Argument(help="Who asked for access (as `consent list` shows it).")],
    grant_it: Annotated[
        bool, typer.Option("--grant", help="Grant what was asked, with the request's terms.")
    ] = False,
    refuse_it: Annotated[bool, typer.Option("--refuse", help="Refuse the request.")] = False,
) -> None:
    """As the patient: answer an access request, granting exactly what it asks (sections, actions, purpose,
    duration) or refusing it."""
    if grant_it == refuse_it:
        raise InputError("answer with --grant or --refuse (one of them)")
    who = address_arg(requester, "requester")
    client = s.client
    asked = client.consents.request_of(client.address, who)
    if not asked.is_open:
        raise InputError(f"{who} has no open access request to you: see `famchain consent list`")
    opened = client.consents.request_terms(client.address, who)
    typer.echo(_request_text(_request_row(asked, opened)))
    if refuse_it:
        ask(s.yes, f"Send transaction: refuse the request of {who}")
        client.consents.refuse(who)
        typer.echo(f"refused the request of {who}")
        return
    from famchain.services.consents import TermsOptions

    _grant(s, who, None, None, None, TermsOptions())


@chain_command(app, "list")
def list_consents(
    s: Session,
    patient: Annotated[str | None, typer.Option("--patient", help="Patient [default: you].")] = None,
    as_json: Json = False,
    as_fhir: Annotated[
        bool, typer.Option("--fhir", help="Print FHIR R4 Consent resources (a Bundle).")
    ] = False,
) -> None:
    """Every grantee and requester of a patient, with what is in force now, the purpose (when your client
    holds the terms; else `committed`) and open requests with their terms and how to answer them."""
    who = address_arg(patient, "patient") if patient is not None else s.account.address
    client = s.client if s.config.keystore else s.reader
    rows = [c.to_json() for c in client.consents.list(who)]
    if as_fhir:
        from famchain import fhir

        typer.echo(json.dumps(fhir.consents_to_bundle(who, rows), indent=2))
        return
    if as_json:
        emit({"patient": who, "consents": rows}, True)
        return
    now = client.now()
    own = s.config.keystore and client.address == who
    lines = []
    for r in rows:
        grantee = r["grantee"]
        status = client.consortium.practitioner(grantee)
        where = f" (practitioner of {status.institution})" if int(status.institution, 16) else ""
        lines.append(f"{grantee}{where}")
        if r["active"]:
            lines.append(
                f"  consent in force: {', '.join(r['sections'])}; {', '.join(r['actions'])}; purpose "
                f"{r['purpose'] or '-'}; {until(r['expires_at'], now)}"
            )
        elif r["expires_at"]:
            lines.append(f"  no consent in force (the last one: {until(r['expires_at'], now)})")
        else:
            lines.append("  no consent in force")
        if r["request"] is not None:
            lines.append(_request_text(r["request"]))
            if own:
                lines.append(f"    answer it: famchain consent answer {grantee} --grant   (or --refuse)")
    typer.echo("\n".join(lines) or f"{who} has granted nothing and has no open request")


def _request_row(asked: Any, opened: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "sections": section_names(asked.sections),
        "actions": action_names(asked.actions),
        "duration": asked.duration,
        "terms": opened if opened is not None else "committed",
    }


def _request_text(request: dict[str, Any]) -> str:
    """An open access request as the patient reads it: what, how, for how long, why, for whom."""
    terms = request["terms"]
    lines = [
        f"  asks for: {', '.join(request['sections'])} ({', '.join(request['actions'])}) for "
        f"{span(request['duration'])}"
    ]
    if isinstance(terms, dict):
        lines.append(f"    purpose:   {terms.get('purpose') or '-'}")
        lines.append(f"    recipient: {terms.get('recipient') or '-'}")
        if terms.get("contact"):
            lines.append(f"    contact:   {terms['contact']}")
        lines.append(
            f"    records:   {records_range(int(terms.get('recordsFrom', 0)), int(terms.get('recordsUntil', 0)))}"
        )
    else:
        lines.append("    purpose:   sealed to the patient (list with the patient's keystore to read it)")
    return "\n".join(lines)
