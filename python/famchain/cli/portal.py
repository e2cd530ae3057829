"""`famchain portal`: the patients' portal (a web page and its JSON API), run by an institution."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from famchain.cli._context import Session, chain_command, info

app = typer.Typer(help="The patients' portal: residents act from their browser wallet, gasless.")


@chain_command(app, "serve")
def serve(
    s: Session,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8080,
    names: Annotated[
        Path | None,
        typer.Option("--names", help="JSON file of address -> name (practitioners, institutions) to show."),
    ] = None,
    rate: Annotated[
        int, typer.Option("--rate", help="Relayed actions accepted per resident per minute (0: no limit).")
    ] = 10,
) -> None:
    """Serve the portal; --keystore is the institution's relayer account, which pays the patients' gas."""
    from famchain.errors import InputError
    from famchain.portal.directory import Directory
    from famchain.portal.ratelimit import RateLimiter
    from famchain.portal.server import create_app
    from famchain.portal.server import serve as run

    if not 0 <= port <= 65535:
        raise InputError(f"--port must be 0..65535, not {port}")
    if rate < 0:
        raise InputError(f"--rate must be 0 or more, not {rate}")
    client = s.client
    directory = Directory.load(names)
    application = create_app(client, names=directory, limiter=RateLimiter(rate))

    def ready(url: str) -> None:
        info(f"portal for chain {client.chain_id}, relayer {client.address}")
        typer.echo(url, err=False)

    run(application, host, port, ready=ready)
