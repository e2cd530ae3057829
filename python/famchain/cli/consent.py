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
from famchain.cli._output import purpose_label, sections_label
from famchain.cli._when import ask, span, until
from famchain.cli.resident import actions_label
from famchain.errors import InputError
from famchain.i18n import N_, _, ngettext
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
        raise InputError(
            _("{option} {text} is not a date (YYYY-MM-DD) or unix time").format(
                option=option, text=repr(text)
            )
        ) from None
    if not 0 <= value < 2**64:
        raise InputError(_("{option} {text} is out of range").format(option=option, text=repr(text)))
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
    """The records a consent covers, by anchoring date (UTC), as people read it (in the current language)."""
    if records_from and records_until:
        return _("records anchored from {start} until {end}").format(
            start=_day(records_from), end=_day(records_until)
        )
    if records_from:
        return _("records anchored from {start}").format(start=_day(records_from))
    if records_until:
        return _("records anchored until {end}").format(end=_day(records_until))
    return _("all records, those anchored later included")


def labelled(rows: list[tuple[str, str]], indent: str) -> list[str]:
    """``label:   value`` lines (labels are msgids, translated here), values aligned one column after the
    widest label (Chinese counts two columns)."""
    from rich.cells import cell_len

    labels = [_("{label}:").format(label=_(label)) for label, _value in rows]
    width = max((cell_len(label) for label in labels), default=0) + 1
    return [
        f"{indent}{label}{' ' * (width - cell_len(label))}{value}"
        for label, (_label, value) in zip(labels, rows, strict=True)
    ]


def terms_text(
    grantee: str, terms: ConsentTerms, sections: int, actions: int, seconds: int, *, now: int
) -> str:
    """What the patient consents to (PIPL art. 23/29: recipient and its contact, purpose, data, method,
    duration), as the consent commits it; shown before a grant is sent and with a signed consent."""
    until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now + seconds))
    rows = [
        (N_("grantee"), grantee),
        (N_("recipient"), terms.recipient),
        (N_("contact"), terms.contact or _("(none given)")),
        (N_("purpose"), purpose_label(terms.purpose)),
        (
            N_("data"),
            _("{data} ({sections}); {records}").format(
                data=terms.data,
                sections=sections_label(section_names(sections)),
                records=records_range(terms.recordsFrom, terms.recordsUntil),
            ),
        ),
        (
            N_("method"),
            _("{method} ({actions})").format(
                method=terms.method, actions=actions_label(action_names(actions))
            ),
        ),
        (N_("duration"), _("until {date} ({left})").format(date=until, left=span(seconds))),
    ]
    return "\n".join([_("consent terms:"), *labelled(rows, "  ")])


def _print_release(release: Release) -> None:
    for skipped in release.skipped:
        typer.echo(
            _("skipped record {record}: {reason}").format(record=skipped.record_id, reason=skipped.reason)
        )


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
    ask(s.yes, _("Send transaction: request access to {patient}").format(patient=who))
    client.consents.request(who, mask, actions=acts, duration=duration, terms=proposed)
    typer.echo(
        _(
            "asked {patient} for {sections} ({purpose}) for {duration}; the patient answers with `{command}` (or --refuse)"
        ).format(
            patient=who,
            sections=sections_label(section_names(mask)),
            purpose=purpose_label(options.purpose or ""),
            duration=span(duration),
            command=f"famchain consent answer {client.address} --grant",
        )
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
    shown = sections_label(section_names(mask))
    ask(
        s.yes,
        _("Send transaction: grant {grantee} {sections} for {purpose}").format(
            grantee=who, sections=shown, purpose=purpose_label(terms.purpose)
        ),
    )
    done = client.consents.grant(who, mask, actions=acts, expires_at=expires, terms=terms)
    bundle = done.release.bundle_cid
    granted = _("granted {grantee}: {sections}; {actions}; {purpose}; {until}").format(
        grantee=who,
        sections=shown,
        actions=actions_label(action_names(acts)),
        purpose=purpose_label(done.terms.purpose),
        until=until(expires, now),
    )
    if bundle:
        granted = _("{granted}; existing records released in {cid}").format(granted=granted, cid=bundle)
    typer.echo(granted)
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
            _(
                "no account: pass --keystore FILE_OR_ADDRESS, or --patient ADDRESS --print-typed-data to sign "
                "in a wallet"
            )
        )
    if not offline and nonce:
        raise InputError(_("--nonce goes with --offline (online, the chain says the nonce)"))
    owner = named if wallet else s.account.address
    if named is not None and named != owner:
        raise InputError(
            _("--patient {patient} is not your keystore's account {account}").format(
                patient=named, account=owner
            )
        )
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
            say(
                _("skipped record {record}: {reason}").format(record=skipped.record_id, reason=skipped.reason)
            )
    if wallet:
        say(
            _(
                "unsigned consent for {grantee} written to {file}: sign the printed typed data in {patient}'s "
                "wallet (eth_signTypedData_v4), then `{command}`"
            ).format(
                grantee=who,
                file=output,
                patient=owner,
                command=f"famchain consent submit {output} --signature 0x…",
            )
        )
    else:
        say(
            _("signed consent for {grantee} written to {file}; relay it with `{command}`").format(
                grantee=who, file=output, command=f"famchain consent submit {output}"
            )
        )
    if release is None and acts & action_mask(["read"]):
        say(
            _(
                "it names no key bundle: once it is in force, the patient releases the keys of existing records "
                "with `{command}`"
            ).format(command=f"famchain consent sync {who}")
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
    from famchain.records.sharing import DEFAULT_SIGNATURE_TTL
    from famchain.records.terms import TermsBook
    from famchain.services.consents import offline_consent

    if s.config.deployment_file is None:
        raise InputError(
            _("--offline needs the deployment file: pass --deployment FILE or set FAMCHAIN_DEPLOYMENT")
        )
    deployment = Deployment.load(s.config.deployment_file)
    mask = section_mask(sections or ["all"])
    acts = action_mask(actions or ["read"])
    seconds = days_to_seconds(days if days is not None else 30, "--days")
    terms = options.terms(grantee, None, mask, acts)
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
    ask(s.yes, _("Send transaction: relay a signed consent"))
    done = client.consents.relay(doc)
    typer.echo(
        _("consent of {patient} for {grantee} is in force; key release {cid}").format(
            patient=done.patient, grantee=done.grantee, cid=done.bundle_cid
        )
        if done.bundle_cid
        else _("consent of {patient} for {grantee} is in force").format(
            patient=done.patient, grantee=done.grantee
        )
    )


@chain_command(app, "revoke")
def revoke(s: Session, grantee: Annotated[str, typer.Argument(help="The grantee to revoke.")]) -> None:
    """As the patient: revoke a consent; the grantee is wrapped into no new record from now on, and any consent
    signature for it you handed out dies."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, _("Send transaction: revoke {grantee}").format(grantee=who))
    client.consents.revoke(who)
    typer.echo(_("revoked {grantee}").format(grantee=who))


@chain_command(app, "cancel")
def cancel(
    s: Session, grantee: Annotated[str, typer.Argument(help="The grantee of the signed consent.")]
) -> None:
    """As the patient: kill the consent signature for a grantee you handed out and do not want relayed (its
    keyed nonce is consumed on chain)."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(
        s.yes,
        _("Send transaction: cancel the outstanding consent signature for {grantee}").format(grantee=who),
    )
    client.consents.cancel(who)
    typer.echo(
        _("cancelled: no consent signature for {grantee} made before now can be relayed").format(grantee=who)
    )


@chain_command(app, "sync")
def sync(s: Session, grantee: Annotated[str, typer.Argument(help="A grantee of yours.")]) -> None:
    """As the patient: release to a grantee the keys of every record its consent covers (records anchored after
    you signed the consent included)."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, _("Send transaction: release keys to {grantee}").format(grantee=who))
    release = client.consents.sync(who)
    if release.bundle_cid is None:
        typer.echo(_("nothing to release to {grantee}").format(grantee=who))
    else:
        typer.echo(
            ngettext(
                "released keys of {n} record to {grantee} in {cid}",
                "released keys of {n} records to {grantee} in {cid}",
                release.covered,
            ).format(n=release.covered, grantee=who, cid=release.bundle_cid)
        )
    _print_release(release)


@chain_command(app, "refuse")
def refuse(s: Session, grantee: Annotated[str, typer.Argument(help="Who asked for access.")]) -> None:
    """As the patient: refuse an access request."""
    who = address_arg(grantee, "grantee")
    client = s.client
    ask(s.yes, _("Send transaction: refuse the request of {requester}").format(requester=who))
    client.consents.refuse(who)
    typer.echo(_("refused the request of {requester}").format(requester=who))


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
        raise InputError(_("answer with --grant or --refuse (one of them)"))
    who = address_arg(requester, "requester")
    client = s.client
    asked = client.consents.request_of(client.address, who)
    if not asked.is_open:
        raise InputError(
            _("{requester} has no open access request to you: see `{command}`").format(
                requester=who, command="famchain consent list"
            )
        )
    opened = client.consents.request_terms(client.address, who)
    typer.echo(_request_text(_request_row(asked, opened)))
    if refuse_it:
        ask(s.yes, _("Send transaction: refuse the request of {requester}").format(requester=who))
        client.consents.refuse(who)
        typer.echo(_("refused the request of {requester}").format(requester=who))
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
        lines.append(
            _("{grantee} (practitioner of {institution})").format(
                grantee=grantee, institution=status.institution
            )
            if int(status.institution, 16)
            else grantee
        )
        if r["active"]:
            lines.append(
                _("  consent in force: {sections}; {actions}; purpose {purpose}; {until}").format(
                    sections=sections_label(r["sections"]),
                    actions=actions_label(r["actions"]),
                    purpose=_purpose_shown(r["purpose"]),
                    until=until(r["expires_at"], now),
                )
            )
        elif r["expires_at"]:
            lines.append(
                _("  no consent in force (the last one: {until})").format(until=until(r["expires_at"], now))
            )
        else:
            lines.append(_("  no consent in force"))
        if r["request"] is not None:
            lines.append(_request_text(r["request"]))
            if own:
                lines.append(
                    _("    answer it: {command}   (or --refuse)").format(
                        command=f"famchain consent answer {grantee} --grant"
                    )
                )
    typer.echo(
        "\n".join(lines) or _("{patient} has granted nothing and has no open request").format(patient=who)
    )


def _purpose_shown(purpose: str | None) -> str:
    """A purpose for people: its label, ``committed`` (only its salted hash is known here) in the current
    language, or ``-``."""
    if not purpose:
        return "-"
    return _("committed") if purpose == "committed" else purpose_label(purpose)


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
        _("  asks for: {sections} ({actions}) for {duration}").format(
            sections=sections_label(request["sections"]),
            actions=actions_label(request["actions"]),
            duration=span(request["duration"]),
        )
    ]
    rows: list[tuple[str, str]]
    if isinstance(terms, dict):
        rows = [
            (N_("purpose"), _purpose_shown(terms.get("purpose"))),
            (N_("recipient"), terms.get("recipient") or "-"),
        ]
        if terms.get("contact"):
            rows.append((N_("contact"), str(terms["contact"])))
        rows.append(
            (
                N_("records"),
                records_range(int(terms.get("recordsFrom", 0)), int(terms.get("recordsUntil", 0))),
            )
        )
    else:
        rows = [
            (N_("purpose"), _("sealed to the patient (list with the patient's keystore to read it)")),
            (N_("recipient"), "-"),
        ]
    return "\n".join([*lines, *labelled(rows, "    ")])
