"""`famchain guardian`: people who act for a resident within a scope and until an expiry."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, days_to_seconds, emit
from famchain.cli._when import ask, until

app = typer.Typer(help="Guardians: who may act for a resident, in what, until when.", no_args_is_help=True)


@chain_command(app, "appoint")
def appoint(
    s: Session,
    guardian: Annotated[str, typer.Argument(help="Who acts for you.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope", help="consent, agreement, records, emergency, read, profile (comma separated), or all."
        ),
    ],
    days: Annotated[float, typer.Option("--days", help="Days the guardianship lasts.")] = 365,
    dependent: Annotated[
        bool,
        typer.Option("--dependent", help="You are a dependent (a minor): you cannot dismiss this guardian."),
    ] = False,
) -> None:
    """As the resident: appoint a guardian (named in every action it takes for you)."""
    from famchain.services.guardians import parse_scope, scope_names

    who = address_arg(guardian, "guardian")
    mask = parse_scope(scope)
    client = s.client
    now = client.now()
    expires = now + days_to_seconds(days, "--days")
    ask(s.yes, f"Send transaction: appoint {who} as your guardian ({', '.join(scope_names(mask))})")
    client.guardians.appoint(who, mask, expires, dependent=dependent)
    typer.echo(f"{who} is your guardian for {', '.join(scope_names(mask))} {until(expires, now)}")


@chain_command(app, "remove")
def remove(
    s: Session,
    guardian: Annotated[str, typer.Argument(help="The guardian [default: you, resigning].")] = "",
    resident: Annotated[
        str | None, typer.Option("--resident", help="As a guardian: the resident you stop acting for.")
    ] = None,
) -> None:
    """As the resident: dismiss a guardian; as a guardian (with --resident): resign."""
    client = s.client
    who = address_arg(resident, "resident") if resident is not None else client.address
    target = address_arg(guardian, "guardian") if guardian else client.address
    ask(s.yes, f"Send transaction: end the guardianship of {target} for {who}")
    client.guardians.remove(target, who)
    typer.echo(f"{target} is no longer a guardian of {who}")


@chain_command(app, "list")
def list_guardians(
    s: Session,
    resident: Annotated[str | None, typer.Option("--resident", help="Resident [default: you].")] = None,
    as_json: Json = False,
) -> None:
    """A resident's guardians and their standing now."""
    who = address_arg(resident, "resident") if resident is not None else s.account.address
    guardians = s.reader.guardians.list(who)
    now = s.reader.now()
    rows: list[dict[str, Any]] = [
        {
            "guardian": g.guardian,
            "scope": g.scopes,
            "expires_at": g.expires_at,
            "dependent": g.dependent,
            "active": g.active,
        }
        for g in guardians
    ]
    human = "\n".join(
        f"{r['guardian']}  {'active' if r['active'] else 'inactive':8} {','.join(r['scope']) or '-'}  "
        f"{until(r['expires_at'], now)}" + ("  (dependent)" if r["dependent"] else "")
        for r in rows
    )
    emit({"resident": who, "guardians": rows}, as_json, human or f"{who} has no guardians")
