"""`famchain consortium` (membership votes) and `famchain institution` (practitioners)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.chain.structs import (
    ZERO_ADDRESS,
    InstitutionKind,
    MemberStatus,
    Parameter,
    Proposal,
    ProposalAction,
)
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
from famchain.cli._output import until, when
from famchain.cli.audit import party_name
from famchain.errors import InputError
from famchain.i18n import _, ngettext

if TYPE_CHECKING:
    from famchain.services.consortium import ProposalStanding

consortium_app = typer.Typer(
    help="Consortium membership: proposals and votes of member institutions.", no_args_is_help=True
)
institution_app = typer.Typer(
    help="An institution's practitioners (run with the institution's admin key).", no_args_is_help=True
)

_ACTIONS = {a.label: a for a in ProposalAction}
_KINDS = {k.label: k for k in InstitutionKind if k}
_PARAMETERS = {p.label: p for p in Parameter if p}


def _parameter(text: str | None) -> Parameter:
    if text is None:
        return Parameter.NONE
    try:
        return _PARAMETERS[text.strip().lower()]
    except KeyError:
        raise InputError(
            _("unknown parameter {name}; use one of {known}").format(
                name=repr(text), known=", ".join(_PARAMETERS)
            )
        ) from None


def _action(text: str) -> ProposalAction:
    try:
        return _ACTIONS[text.strip().lower()]
    except KeyError:
        raise InputError(
            _("unknown proposal action {name}; use one of {known}").format(
                name=repr(text), known=", ".join(_ACTIONS)
            )
        ) from None


def _kind(text: str | None) -> InstitutionKind:
    if text is None:
        return InstitutionKind.NONE
    try:
        return _KINDS[text.strip().lower()]
    except KeyError:
        raise InputError(
            _("unknown institution kind {name}; use one of {known}").format(
                name=repr(text), known=", ".join(_KINDS)
            )
        ) from None


@chain_command(consortium_app, "propose")
def propose(
    s: Session,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(_ACTIONS)}.")],
    institution: Annotated[
        str,
        typer.Argument(
            help="The institution's admin address (the guardian for end-guardianship; any for set-threshold "
            "and set-parameter)."
        ),
    ] = ZERO_ADDRESS,
    kind: Annotated[str | None, typer.Option(help=f"For admit: {', '.join(_KINDS)}.")] = None,
    threshold_bps: Annotated[
        int, typer.Option(help="For set-threshold: new vote share in basis points.", min=0, max=10_000)
    ] = 0,
    parameter: Annotated[
        str | None, typer.Option(help=f"For set-parameter: {', '.join(_PARAMETERS)}.")
    ] = None,
    value: Annotated[int, typer.Option(help="For set-parameter: the new value.", min=0, max=2**64 - 1)] = 0,
    subject: Annotated[
        str | None, typer.Option(help="For end-guardianship: the resident whose guardian it ends.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Propose a consortium change; your proposal counts as your vote."""
    act = _action(action)
    target = address_arg(institution, "institution")
    if act == ProposalAction.ADMIT and kind is None:
        raise InputError(_("admit needs --kind"))
    if act == ProposalAction.END_GUARDIANSHIP and subject is None:
        raise InputError(_("end-guardianship needs --subject RESIDENT"))
    resident = address_arg(subject, "subject") if subject is not None else ZERO_ADDRESS
    client = s.client
    s.confirm(_("propose {action} {target}").format(action=act.label, target=party_name(target)))
    done = client.consortium.propose(
        act,
        target,
        kind=_kind(kind),
        threshold_bps=threshold_bps,
        subject=resident,
        parameter=_parameter(parameter),
        value=value,
    )
    emit(
        {"proposal": done.proposal_id, "executed": done.executed, "tx": done.tx.tx_hash},
        as_json,
        (
            _("proposal {id} created and carried at once")
            if done.executed
            else _("proposal {id} created; members vote with `consortium vote`")
        ).format(id=done.proposal_id),
    )


@chain_command(consortium_app, "vote")
def vote(
    s: Session,
    proposal: Annotated[int, typer.Argument(help="Proposal number.", min=0, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """Vote for a proposal; it is carried as soon as enough active members agree."""
    client = s.client
    s.confirm(_("vote for proposal {id}").format(id=proposal))
    done = client.consortium.vote(proposal)
    emit(
        {"proposal": proposal, "approvals": done.approvals, "executed": done.executed},
        as_json,
        (
            ngettext(
                "voted for proposal {id}: {n} approval, carried",
                "voted for proposal {id}: {n} approvals, carried",
                done.approvals,
            )
            if done.executed
            else ngettext(
                "voted for proposal {id}: {n} approval",
                "voted for proposal {id}: {n} approvals",
                done.approvals,
            )
        ).format(id=proposal, n=done.approvals),
    )


@chain_command(consortium_app, "execute")
def execute(
    s: Session,
    proposal: Annotated[int, typer.Argument(help="Proposal number.", min=0, max=2**256 - 1)],
) -> None:
    """Carry a proposal whose tally of active members passes now (anyone may)."""
    client = s.client
    s.confirm(_("execute proposal {id}").format(id=proposal))
    client.consortium.execute(proposal)
    typer.echo(_("proposal {id} carried").format(id=proposal))


@chain_command(consortium_app, "members")
def members(s: Session, as_json: Json = False) -> None:
    """List institutions and their status (from chain events)."""
    client = s.reader
    rows = [
        {"institution": m.institution, "kind": m.kind.name.lower(), "status": m.status.name.lower()}
        for m in client.consortium.members()
    ]
    active = sum(1 for r in rows if r["status"] == MemberStatus.ACTIVE.name.lower())
    threshold = client.consortium.threshold_bps()
    human = "\n".join(f"{party_name(r['institution'])}  {r['kind']:13} {r['status']}" for r in rows)
    human += "\n" + _("{active} active; proposals carry at {threshold} of active members").format(
        active=active, threshold=f"{threshold / 100:.2f}%"
    )
    emit({"members": rows, "active": active, "threshold_bps": threshold}, as_json, human)


def _target(action: ProposalAction, p: Proposal) -> str:
    """What a proposal changes, in words."""
    if action == ProposalAction.ADMIT:
        return _("{institution} as {kind}").format(institution=party_name(p.institution), kind=p.kind.label)
    if action == ProposalAction.SET_THRESHOLD:
        return _("threshold to {value}").format(value=f"{p.value / 100:.2f}%")
    if action == ProposalAction.SET_PARAMETER:
        return _("{parameter} to {value}").format(parameter=p.parameter.label, value=p.value)
    if action == ProposalAction.END_GUARDIANSHIP:
        return _("guardian {guardian} of {resident}").format(
            guardian=party_name(p.institution), resident=party_name(p.subject)
        )
    return party_name(p.institution)


@chain_command(consortium_app, "proposals")
def proposals(
    s: Session,
    include_closed: Annotated[
        bool, typer.Option("--all", help="Also the proposals carried or closed (expired).")
    ] = False,
    as_json: Json = False,
) -> None:
    """List the proposals open for votes, with who voted and the approvals they still need."""
    client = s.reader
    now = client.now()
    found = client.consortium.proposals(include_closed=include_closed)

    def state(standing: ProposalStanding) -> str:
        if standing.proposal.executed:
            return "carried"
        return "open" if standing.is_open(now) else "expired"

    rows = [
        {
            "proposal": f.proposal_id,
            "action": f.proposal.action.label,
            "institution": f.proposal.institution,
            "subject": f.proposal.subject if f.proposal.subject != ZERO_ADDRESS else None,
            "kind": f.proposal.kind.label if f.proposal.kind else None,
            "parameter": f.proposal.parameter.label if f.proposal.parameter else None,
            "value": f.proposal.value,
            "proposer": f.proposal.proposer,
            "voters": list(f.voters),
            "approvals": f.approvals,
            "required": f.required,
            "expires_at": f.proposal.expiresAt,
            "state": state(f),
        }
        for f in found
    ]
    lines = []
    states = {"carried": _("carried"), "open": _("open"), "expired": _("expired")}
    for f, row in zip(found, rows, strict=True):
        closes = f.proposal.expiresAt
        lines += [
            _("proposal {id}: {action} {target} ({state})").format(
                id=f.proposal_id,
                action=row["action"],
                target=_target(f.proposal.action, f.proposal),
                state=states[str(row["state"])],
            ),
            "  "
            + _("proposed by {proposer}; votes close {when} ({left})").format(
                proposer=party_name(f.proposal.proposer), when=when(closes), left=until(closes, now)
            ),
            "  "
            + _("approvals of active members: {n} of {required} needed").format(
                n=f.approvals, required=f.required
            ),
            *("  " + _("voted: {voter}").format(voter=party_name(voter)) for voter in f.voters),
        ]
    if any(r["state"] == "open" for r in rows):
        lines.append(_("vote with `famchain consortium vote N`; a carried vote executes at once"))
    empty = (
        _("no proposal")
        if include_closed
        else _("no proposal open for votes (`--all` shows the closed ones)")
    )
    emit({"proposals": rows}, as_json, "\n".join(lines) or empty)


@chain_command(consortium_app, "publish-key")
def publish_key(s: Session) -> None:
    """As a member's admin: publish your encryption key (a custodian's shares are wrapped to it; a member needs
    it before it can be voted a custodian)."""
    client = s.client
    s.confirm(_("publish the member key of {account}").format(account=client.address))
    client.consortium.publish_member_key()
    typer.echo(_("member key of {account} published").format(account=client.address))


@chain_command(consortium_app, "parameters")
def parameters(s: Session, as_json: Json = False) -> None:
    """The parameters set by vote (custodian threshold, emergency duration, daily limits) and the custodians."""
    client = s.reader
    values = {p.label: client.consortium.parameter(p) for p in Parameter if p}
    found = client.consortium.custodians()
    human = "\n".join(f"{name:24} {value}" for name, value in values.items())
    human += "\n" + _("custodians: {custodians}").format(
        custodians=_(", ").join(party_name(c) for c in found) or _("none")
    )
    human += "\n" + _(
        "change with `famchain consortium propose set-parameter --parameter NAME --value N`, "
        "`propose add-custodian|remove-custodian ADDRESS`"
    )
    emit({"parameters": values, "custodians": found}, as_json, human)


@chain_command(institution_app, "enroll-sign")
def enroll_sign(
    s: Session,
    institution: Annotated[
        str, typer.Option("--institution", help="Admin address of the institution that will register you.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed enrollment.")],
    days: Annotated[float, typer.Option("--days", help="Days the signature stays valid.")] = 7,
) -> None:
    """As a practitioner: sign your enrollment (with your encryption key) for an institution to submit."""
    who = address_arg(institution, "institution")
    ttl = days_to_seconds(days, "--days")
    signed = s.client.consortium.sign_enrollment(who, ttl=ttl)
    write_private(output, json.dumps(signed.to_json(), indent=2) + "\n")
    typer.echo(
        _(
            "enrollment of {practitioner} for {institution} written to {output}; the institution runs "
            "`famchain institution add-doctor {practitioner} --enrollment {output}`"
        ).format(practitioner=signed.practitioner, institution=who, output=output)
    )


@chain_command(institution_app, "add-doctor")
def add_doctor(
    s: Session,
    practitioner: Annotated[str, typer.Argument(help="The practitioner's address.")],
    enrollment: Annotated[
        Path,
        typer.Option(
            "--enrollment", help="The practitioner's signed enrollment (`famchain institution enroll-sign`)."
        ),
    ],
) -> None:
    """Register a practitioner of your institution, with the enrollment they signed naming you."""
    from famchain.services.consortium import SignedEnrollment

    who = address_arg(practitioner, "practitioner")
    signed = SignedEnrollment.from_json(read_json(enrollment))
    if signed.practitioner.lower() != who.lower():
        raise InputError(
            _("{file} is the enrollment of {practitioner}, not of {who}").format(
                file=enrollment, practitioner=signed.practitioner, who=who
            )
        )
    client = s.client
    s.confirm(_("register practitioner {who}").format(who=party_name(who)))
    client.consortium.register_practitioner(signed)
    typer.echo(_("registered practitioner {who}").format(who=party_name(who)))


@chain_command(institution_app, "remove-doctor")
def remove_doctor(
    s: Session, practitioner: Annotated[str, typer.Argument(help="The practitioner's address.")]
) -> None:
    """Deactivate one of your institution's practitioners."""
    who = address_arg(practitioner, "practitioner")
    client = s.client
    s.confirm(_("deactivate practitioner {who}").format(who=party_name(who)))
    client.consortium.deactivate_practitioner(who)
    typer.echo(_("deactivated practitioner {who}").format(who=party_name(who)))


@chain_command(institution_app, "doctors")
def doctors(
    s: Session,
    institution: Annotated[
        str | None, typer.Argument(help="Institution admin address [default: you].")
    ] = None,
    as_json: Json = False,
) -> None:
    """List an institution's practitioners and whether they are active."""
    who = address_arg(institution, "institution") if institution is not None else s.account.address
    rows = [
        {"practitioner": p.practitioner, "active": p.active} for p in s.reader.consortium.practitioners(who)
    ]
    human = "\n".join(
        f"{party_name(str(r['practitioner']))}  {_('active') if r['active'] else _('inactive')}" for r in rows
    )
    emit(
        {"institution": who, "practitioners": rows},
        as_json,
        human or _("{who} has no practitioners").format(who=party_name(who)),
    )
