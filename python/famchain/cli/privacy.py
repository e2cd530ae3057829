"""`famchain privacy report`: what a curious consortium member learns about a resident from the chain and the
stores."""

from __future__ import annotations

from typing import Annotated

import typer

from famchain.cli._context import Json, Session, address_arg, chain_command, emit
from famchain.i18n import _

app = typer.Typer(
    help="What the consortium itself can learn about a resident.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _group() -> None:
    """What the consortium itself can learn about a resident."""


@chain_command(app, "report")
def report(
    s: Session,
    resident: Annotated[str, typer.Argument(help="The resident's address.")],
    gateway: Annotated[
        list[str] | None,
        typer.Option("--gateway", help="A store gateway to ask for every object the resident's events name."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Play the curious member: list everything the RPC endpoint and the gateways tell about RESIDENT, asking
    the gateways unsigned and, with --keystore, signed as that account. Exits 1 when a closed leak (a purpose
    in clear, ciphertext served unsigned or to a stranger, a party named in a stored envelope, an exact section
    length) is found."""
    from famchain.records.privacy import privacy_report
    from famchain.storage.access import AccessSigner, origin

    for url in gateway or []:
        origin(url)
    signer = AccessSigner(bytes(s.account.key)) if s.config.keystore else None
    found = privacy_report(s.fc, address_arg(resident), gateway or [], signer=signer)
    leaks = found.leaks
    summary = _("{findings} finding(s), {kinds} kind(s), {leaks} leak(s)").format(
        findings=len(found.findings), kinds=len(found.items), leaks=len(leaks)
    )
    emit(found.to_json(), as_json, "\n".join([*found.lines(), summary]))
    if leaks:
        raise typer.Exit(1)
