"""`famchain consortium` (membership votes) and `famchain institution` (practitioners)."""

from __future__ import annotations

from typing import Annotated

import typer

from famchain.chain.structs import InstitutionKind, MemberStatus, ProposalAction
from famchain.cli._context import Json, Session, address_arg, chain_command, emit
from famchain.errors import InputError

consortium_app = typer.Typer(
    help="Consortium membership: proposals and votes of member institutions.", no_args_is_help=True
)
institution_app = typer.Typer(
    help="An institution's practitioners (run with the institution's admin key).", no_args_is_help=True
)

_ACTIONS = {a.label: a for a in ProposalAction}
_KINDS = {k.label: k for k in InstitutionKind if k}


def _action(text: str) -> ProposalAction:
    try:
        return _ACTIONS[text.strip().lower()]
    except KeyError:
        raise InputError(f"unknown proposal action {text!r}; use one of {', '.join(_ACTIONS)}") from None


def _kind(text: str | None) -> InstitutionKind:
    if text is None:
        return InstitutionKind.NONE
    try:
        return _KINDS[text.strip().lower()]
    except KeyError:
        raise InputError(f"unknown institution kind {text!r}; use one of {', '.join(_KINDS)}") from None


@chain_command(consortium_app, "propose")
def propose(
    s: Session,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(_ACTIONS)}.")],
    institution: Annotated[
        str, typer.Argument(help="The institution's admin address (any for set-threshold).")
    ],
    kind: Annotated[str | None, typer.Option(help=f"For admit: {', '.join(_KINDS)}.")] = None,
    threshold_bps: Annotated[
        int, typer.Option(help="For set-threshold: new vote share in basis points.", min=0, max=10_000)
    ] = 0,
    as_json: Json = False,
) -> None:
    """Propose a membership change; your proposal counts as your vote."""
    act = _action(action)
    target = address_arg(institution, "institution")
    if act == ProposalAction.ADMIT and kind is None:
        raise InputError("admit needs --kind")
    client = s.client
    s.confirm(f"propose {act.name.lower()} {target}")
    done = client.consortium.propose(act, target, kind=_kind(kind), threshold_bps=threshold_bps)
    emit(
        {"proposal": done.proposal_id, "executed": done.executed, "tx": done.tx.tx_hash},
        as_json,
        f"proposal {done.proposal_id} created"
        + (" and carried at once" if done.executed else "; members vote with `consortium vote`"),
    )


@chain_command(consortium_app, "vote")
def vote(
    s: Session,
    proposal: Annotated[int, typer.Argument(help="Proposal number.", min=0, max=2**256 - 1)],
    as_json: Json = False,
) -> None:
    """Vote for a proposal; it is carried as soon as enough active members agree."""
    client = s.client
    s.confirm(f"vote for proposal {proposal}")
    done = client.consortium.vote(proposal)
    emit(
        {"proposal": proposal, "approvals": done.approvals, "executed": done.executed},
        as_json,
        f"voted for proposal {proposal}: {done.approvals} approval(s)"
        + (", carried" if done.executed else ""),
    )


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
    human = "\n".join(f"{r['institution']}  {r['kind']:13} {r['status']}" for r in rows)
    human += f"\n{active} active; proposals carry at {threshold / 100:.2f}% of active members"
    emit({"members": rows, "active": active, "threshold_bps": threshold}, as_json, human)


@chain_command(institution_app, "add-doctor")
def add_doctor(
    s: Session,
    practitioner: Annotated[str, typer.Argument(help="The practitioner's address.")],
    encryption_key: Annotated[
        str, typer.Option(help="Their encryption public key (`famchain account show` prints it).")
    ],
) -> None:
    """Register a practitioner of your institution with their encryption key."""
    from famchain.crypto.keywrap import address_from_public_key

    who = address_arg(practitioner, "practitioner")
    try:
        key = bytes.fromhex(encryption_key.strip().removeprefix("0x"))
    except ValueError:
        raise InputError("--encryption-key is not hex") from None
    if len(key) != 64 or address_from_public_key(key) != who:
        raise InputError(
            f"--encryption-key is not the key of {who} (64 bytes whose keccak gives the address)"
        )
    client = s.client
    s.confirm(f"register practitioner {who}")
    client.consortium.register_practitioner(who, key)
    typer.echo(f"registered practitioner {who}")


@chain_command(institution_app, "remove-doctor")
def remove_doctor(
    s: Session, practitioner: Annotated[str, typer.Argument(help="The practitioner's address.")]
) -> None:
    """Deactivate one of your institution's practitioners."""
    who = address_arg(practitioner, "practitioner")
    client = s.client
    s.confirm(f"deactivate practitioner {who}")
    client.consortium.deactivate_practitioner(who)
    typer.echo(f"deactivated practitioner {who}")


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
    human = "\n".join(f"{r['practitioner']}  {'active' if r['active'] else 'inactive'}" for r in rows)
    emit({"institution": who, "practitioners": rows}, as_json, human or f"{who} has no practitioners")
