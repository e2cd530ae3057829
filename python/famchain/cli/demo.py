"""`famchain demo`: the whole flow on a throwaway devnet, failing loudly if anything misbehaves."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from famchain.cli._context import Json, settings
from famchain.i18n import _

app = typer.Typer()


@app.command("demo")
def demo(
    as_json: Json = False,
    rpc_url: Annotated[str | None, typer.Option(help="Use this chain instead of a fresh devnet.")] = None,
    ipfs_url: Annotated[str | None, typer.Option(help="With --rpc-url: the store's RPC URL.")] = None,
) -> None:
    """Consortium, resident, agreement, records, consents, reads, amendment, revocation, audit."""
    from famchain.demo import DemoFailed, Step, run_demo

    steps: list[Step] = []

    def show(step: Step) -> None:
        steps.append(step)
        if not as_json:
            mark = _("ok  ") if step.ok else _("FAIL")
            typer.echo(f"[{mark}] {step.number:>2}. {step.title}\n        ({step.actor}) {step.outcome}")

    failed: DemoFailed | None = None
    try:
        anvil = None if rpc_url and ipfs_url else settings().anvil_binary()
        run_demo(show, rpc_url, ipfs_url, anvil=anvil)
    except DemoFailed as exc:
        failed = exc
    if as_json:
        typer.echo(json.dumps({"ok": failed is None, "steps": [s.to_json() for s in steps]}, indent=2))
    if failed is not None:
        raise failed
    if not as_json:
        typer.echo(_("demo passed: {n} steps behaved as stated").format(n=len(steps)))
