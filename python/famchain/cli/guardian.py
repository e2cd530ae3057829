"""`famchain guardian`: people who act for a resident within a scope and until an expiry."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, days_to_seconds, emit
from famchain.cli._output import name_of, table
from famchain.cli._when import ask, until
from famchain.i18n import N_, _

#: What a guardian may do, for people (the wire names stay the `--scope` words and the `--json` values).
SCOPE_LABELS = {
    "consent": N_("consents"),
    "agreement": N_("agreements"),
    "records": N_("medical records"),
    "emergency": N_("emergencies"),
    "read": N_("reading"),
    "profile": N_("basic information"),
}


def scopes_label(names: list[str]) -> str:
    """Guardian scope names for people, comma-separated in the current language (``-`` for none)."""
    return _(", ").join(_(SCOPE_LABELS.get(name, name)) for name in names) or "-"


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
    scopes = scopes_label(scope_names(mask))
    ask(
        s.yes,
        _("Send transaction: appoint {guardian} as your guardian ({scopes})").format(
            guardian=who, scopes=scopes
        ),
    )
    client.guardians.appoint(who, mask, expires, dependent=dependent)
    typer.echo(
        _("{guardian} is your guardian for {scopes} {until}").format(
            guardian=name_of(who), scopes=scopes, until=until(expires, now)
        )
    )


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
    ask(
        s.yes,
        _("Send transaction: end the guardianship of {guardian} for {resident}").format(
            guardian=target, resident=who
        ),
    )
    client.guardians.remove(target, who)
    typer.echo(
        _("{guardian} is no longer a guardian of {resident}").format(
            guardian=name_of(target), resident=name_of(who)
        )
    )


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
    if as_json:
        emit({"resident": who, "guardians": rows}, True)
        return
    if not rows:
        typer.echo(_("{resident} has no guardians").format(resident=name_of(who)))
        return
    table(
        [N_("guardian"), N_("standing"), N_("scope"), N_("until")],
        [
            [
                name_of(r["guardian"]),
                (_("active") if r["active"] else _("inactive"))
                + (_(" (dependent)") if r["dependent"] else ""),
                scopes_label(r["scope"]),
                until(r["expires_at"], now),
            ]
            for r in rows
        ],
    )
