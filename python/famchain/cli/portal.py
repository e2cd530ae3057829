"""`famchain portal`: the patients' portal (a web page and its JSON API), run by an institution."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from famchain.cli._context import Session, chain_command, info
from famchain.i18n import _

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
    public_url: Annotated[
        list[str] | None,
        typer.Option(
            "--public-url",
            help="A URL browsers reach the portal at, behind a proxy (repeatable): the page's gateway tokens name it.",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Start a throwaway devnet with a demo resident (her key printed, for a test wallet) and serve it.",
        ),
    ] = False,
) -> None:
    """Serve the portal; --keystore is the institution's relayer account, which pays the patients' gas."""
    from famchain.errors import InputError
    from famchain.portal.directory import Directory
    from famchain.portal.ratelimit import RateLimiter
    from famchain.portal.server import create_app
    from famchain.portal.server import serve as run

    if not 0 <= port <= 65535:
        raise InputError(_("--port must be 0..65535, not {port}").format(port=port))
    if rate < 0:
        raise InputError(_("--rate must be 0 or more, not {rate}").format(rate=rate))
    if demo:
        _serve_demo(host, port, rate)
        return
    client = s.client
    directory = Directory.load(names)
    application = create_app(client, names=directory, limiter=RateLimiter(rate), public_urls=public_url or [])

    def ready(url: str) -> None:
        info(
            _("portal for chain {chain}, relayer {relayer}").format(
                chain=client.chain_id, relayer=client.address
            )
        )
        typer.echo(url, err=False)

    run(application, host, port, ready=ready)


def _serve_demo(host: str, port: int, rate: int) -> None:
    """A fresh devnet, the demo world, and the portal on it until Ctrl-C; the devnet is removed afterwards."""
    from famchain.chain.rpc import connect
    from famchain.cli._context import settings
    from famchain.demo import fresh_devnet
    from famchain.devnet import dev_account
    from famchain.portal.demo import build_portal_world
    from famchain.portal.ratelimit import RateLimiter
    from famchain.portal.server import create_app
    from famchain.portal.server import serve as run
    from famchain.storage.kubo import KuboStore

    with fresh_devnet(settings().anvil_binary()) as (rpc_url, ipfs_url, home):
        info(_("devnet: {rpc} (chain 31337), store: {store}").format(rpc=rpc_url, store=ipfs_url))
        world = build_portal_world(connect(rpc_url), dev_account(), KuboStore(ipfs_url), home)
        info(
            _(
                "demo resident Zhang Min: import this devnet-only key into a browser wallet on chain 31337 "
                "({rpc}): {key}"
            ).format(rpc=rpc_url, key="0x" + world.patient_key.hex())
        )
        info(
            _("her son (not yet a guardian; appoint him on the Guardians page): {key}").format(
                key="0x" + world.helper.account_key().hex()
            )
        )
        application = create_app(world.relayer, names=world.names, limiter=RateLimiter(rate))
        previous = signal.signal(signal.SIGTERM, _interrupt)  # so the devnet is stopped on SIGTERM too
        try:
            run(application, host, port, ready=typer.echo)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
