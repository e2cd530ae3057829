"""`famchain bench`: gas against a naive baseline, throughput against the devnet's own limit, read and scale."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from famchain.cli._context import Json, settings
from famchain.i18n import N_, _

if TYPE_CHECKING:
    from rich.console import Console

    from famchain.bench.runner import BenchResult

BATCHED_TARGET = 500.0
SINGLE_TARGET_RATIO = 0.5
READ_TARGET_SECONDS = 3.0

app = typer.Typer()

MET, MISSED = N_("met"), N_("missed")


def famchain_command() -> list[str]:
    """How this installation runs the CLI: the console script beside the interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "famchain"
    if script.exists():
        return [str(script)]
    found = shutil.which("famchain")
    return [found] if found else [sys.executable, "-m", "famchain"]


@app.command("bench")
def bench(
    as_json: Json = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small counts (CI): finishes in well under a minute.")
    ] = False,
    startup: Annotated[
        bool, typer.Option("--startup", help="Only the startup figures (no devnet): a few seconds.")
    ] = False,
    gas_on: Annotated[
        str | None,
        typer.Option(
            "--gas-on",
            help="Only famchain's gas per operation, on this node's RPC URL (any EVM node whose account 0 is "
            "the devnet funder, e.g. Hardhat's); needs --ipfs-url.",
        ),
    ] = None,
    ipfs_url: Annotated[str | None, typer.Option(help="With --gas-on: the store's RPC URL.")] = None,
) -> None:
    """Measure startup, signing, gas per operation (vs a naive baseline), throughput, a card read and scale."""
    from rich.console import Console

    from famchain.bench.runner import STARTUP_RUNS, STARTUP_RUNS_QUICK, measure_startup, run

    if gas_on is not None:
        gas_on_node(gas_on, ipfs_url, as_json)
        return

    if startup:
        runs = STARTUP_RUNS_QUICK if quick else STARTUP_RUNS
        figures = measure_startup(famchain_command(), os.environ, runs=runs)
        from eth_account import Account

        from famchain.bench.runner import signing_times

        signing = signing_times(Account.create(), chain_id=31337)
        if as_json:
            typer.echo(json.dumps({"startup": figures, "signing": signing}, indent=2))
        else:
            print_startup(Console(), figures)
            print_signing(Console(), signing)
        return
    anvil = settings().anvil_binary()
    if as_json:
        result = run(anvil=anvil, famchain=famchain_command(), environment=os.environ, quick=quick)
        typer.echo(json.dumps(result.figures, indent=2))
        return
    console = Console(stderr=True)
    with console.status(_("starting")) as status:
        result = run(
            anvil=anvil,
            famchain=famchain_command(),
            environment=os.environ,
            quick=quick,
            progress=status.update,
        )
    print_tables(Console(), result)


def gas_on_node(rpc_url: str, ipfs_url: str | None, as_json: bool) -> None:
    """``--gas-on``: deploy on the given node and print famchain's gas per operation there."""
    import tempfile

    from famchain.bench.runner import OPS, node_gas
    from famchain.errors import ConfigError

    if not ipfs_url:
        raise ConfigError("--gas-on needs --ipfs-url (the store the deployment's records go to)")
    with tempfile.TemporaryDirectory(prefix="famchain-bench-gas-") as home:
        measured = node_gas(rpc_url, ipfs_url, Path(home))
    if as_json:
        typer.echo(json.dumps(measured, indent=2))
        return
    typer.echo(f"gas per operation on {measured['node']}")
    for op in OPS:
        typer.echo(f"  {op:<24} {measured['gas'][op]:>9,}")


def print_startup(console: Console, figures: dict[str, Any]) -> None:
    """The startup table: both commands against a bare ``import typer``, measured side by side."""
    from rich.table import Table

    from famchain.bench.runner import ACCOUNT_LIST_TARGET_RATIO, HELP_TARGET_RATIO

    table = Table(title=_("Startup (median wall time, measured side by side)"))
    for column in (N_("command"), N_("seconds"), N_("/ import typer"), N_("target")):
        table.add_column(_(column), justify="left" if column == "command" else "right")
    table.add_row('python -c "import typer"', f"{figures['import_typer_s']:.3f}", "1.00", "")
    for label, key, target in (
        ("famchain --help", "help", HELP_TARGET_RATIO),
        ("famchain account list", "account_list", ACCOUNT_LIST_TARGET_RATIO),
    ):
        ratio = figures[f"{key}_ratio"]
        table.add_row(
            label,
            f"{figures[f'{key}_s']:.3f}",
            f"{ratio:.2f}",
            f"<= {target:.1f}x {_verdict(ratio <= target)}",
        )
    console.print(table)


def _verdict(ok: bool) -> str:
    return f"[green]{_(MET)}[/green]" if ok else f"[red]{_(MISSED)}[/red]"


def print_signing(console: Console, signing: dict[str, Any]) -> None:
    """Signing one transaction with each eth-keys backend."""
    fast = signing["coincurve_ms"]
    console.print(
        "  "
        + _("signing one transaction: {native:.3f} ms pure Python (eth-keys native), ").format(
            native=signing["native_ms"]
        )
        + (
            _("{fast:.3f} ms with coincurve (libsecp256k1)").format(fast=fast)
            if fast is not None
            else _("coincurve not installed")
        )
    )


def print_tables(console: Console, result: BenchResult) -> None:
    """Render the figures as rich tables."""
    from rich.table import Table

    from famchain.bench.runner import OPS, TARGETS

    f: dict[str, Any] = result.figures
    d: dict[str, Any] = result.details
    sizes = d["sizes"]
    print_startup(console, f["startup"])
    print_signing(console, f["signing"])

    gas = Table(title=_("Gas per operation (famchain vs naive baseline)"))
    for column in (N_("operation"), "famchain", N_("baseline"), N_("famchain / baseline"), N_("target")):
        gas.add_column(_(column), justify="left" if column == "operation" else "right")
    for op in OPS:
        ours, theirs = f["gas"][op], f["baseline_gas"][op]
        target = TARGETS.get(op)
        verdict = f"<= {target:,} {_verdict(ours <= target)}" if target else ""
        gas.add_row(op, f"{ours:,}", f"{theirs:,}", f"{ours / theirs:.2f}", verdict)
    console.print(gas)
    console.print(
        _(
            "  is_authorized: estimateGas of the view minus 21,000 intrinsic and the calldata cost (execution gas).\n"
            "  anchor: a single record on a card that already holds records; the baseline has no batch, so its\n"
            "  per-record batch figure is 50 single transactions averaged."
        )
    )

    tp = f["throughput"]
    rate, raw = tp["devnet_transfers_per_s"], tp["devnet_raw_batch_per_s"]
    speed = Table(title=_("Throughput (fresh devnet; the limit: pre-signed transfers in JSON-RPC batches)"))
    for column in (
        N_("measure"),
        N_("per second"),
        N_("of the limit"),
        N_("of the sender's rate"),
        N_("target"),
    ):
        speed.add_column(_(column), justify="left" if column == "measure" else "right")
    speed.add_row(
        _("limit: pre-signed transfers, JSON-RPC batches ({n})").format(n=sizes.transfers),
        f"{raw:,.1f}",
        "1.00",
        "",
        "",
    )
    speed.add_row(
        _(
            "plain transfers through TransactionSender (twice {n}, pipelined, before and after the submit)"
        ).format(n=max(1, sizes.transfers // 2)),
        f"{rate:,.1f}",
        f"{d['sender_raw_ratio']:.3f}",
        "1.00",
        "",
    )
    speed.add_row(
        _("the same in rounds of {k}, one JSON-RPC batch each").format(k=d["round_size"]),
        f"{tp['devnet_transfer_rounds_per_s']:,.1f}",
        f"{tp['devnet_transfer_rounds_per_s'] / raw:.3f}",
        f"{tp['devnet_transfer_rounds_per_s'] / rate:.3f}",
        _("(submit: {ratio} of it)").format(ratio=f"{d['submit_rounds_ratio']:.3f}"),
    )
    speed.add_row(
        _("submit, one record per tx ({n})").format(n=sizes.submit_single),
        f"{tp['submit_per_s']:,.1f}",
        f"{d['submit_raw_ratio']:.3f}",
        f"{d['submit_ratio']:.3f}",
        _(">= {ratio} of the sender").format(ratio=f"{SINGLE_TARGET_RATIO:.0%}")
        + f" {_verdict(d['submit_ratio'] >= SINGLE_TARGET_RATIO)}",
    )
    speed.add_row(
        _("submit, batched ({n})").format(n=sizes.submit_batched),
        f"{tp['submit_batched_per_s']:,.1f}",
        f"{d['submit_batched_raw_ratio']:.3f}",
        f"{d['submit_batched_ratio']:.3f}",
        f">= {BATCHED_TARGET:,.0f}/s {_verdict(tp['submit_batched_per_s'] >= BATCHED_TARGET)}",
    )
    console.print(speed)

    reads = Table(title=_("Reading a whole card (history + fetch + verify + decrypt)"))
    for column in (N_("records"), N_("seconds"), N_("JSON-RPC calls"), N_("target")):
        reads.add_column(_(column), justify="right")
    for read in d["reads"]:
        goal = ""
        if read["records"] >= 1_000:
            goal = f"< {READ_TARGET_SECONDS:.0f} s {_verdict(read['seconds'] < READ_TARGET_SECONDS)}"
        reads.add_row(f"{read['records']:,}", f"{read['seconds']:.3f}", str(read["rpc_calls"]), goal)
    g = f["read_gated"]
    goal = (
        f"< {READ_TARGET_SECONDS:.0f} s {_verdict(g['seconds'] < READ_TARGET_SECONDS)}"
        if g["records"] >= 1_000
        else ""
    )
    reads.add_row(
        f"{g['records']:,} via a gated gateway",
        f"{g['seconds']:.3f}",
        f"{g['rpc_calls']} (gateway: {g['gateway_rpc_calls']}, tokens signed: {g['tokens_signed']})",
        goal,
    )
    reads.add_row(
        f"{g['records']:,} via a gated gateway process",
        f"{g['seconds_gateway_process']:.3f}",
        str(g["rpc_calls"]),
        f"< {READ_TARGET_SECONDS:.0f} s {_verdict(g['seconds_gateway_process'] < READ_TARGET_SECONDS)}"
        if g["records"] >= 1_000
        else "",
    )
    console.print(reads)

    s = f["scale"]
    scale = Table(title=_("Scale"))
    scale.add_column(_("measure"))
    scale.add_column(_("gas / MB"), justify="right")
    scale.add_column(_("target"), justify="right")
    scale.add_row(_("anchor, 1st record of a card"), f"{s['anchor_gas_first']:,}", "")
    flat = s["anchor_gas_10000th"] <= s["anchor_gas_first"]
    scale.add_row(
        _("anchor, record #{n:,} of the same card").format(n=sizes.history),
        f"{s['anchor_gas_10000th']:,}",
        _("flat") + f" {_verdict(flat)}",
    )
    scale.add_row(_("isAuthorized, 1 grant"), f"{f['gas']['is_authorized']:,}", "")
    scale.add_row(
        _("isAuthorized, {n:,} grants").format(n=sizes.grants), f"{s['is_authorized_gas_10000_grants']:,}", ""
    )
    scale.add_row(_("peak RSS of the benchmark (MB)"), f"{f['peak_rss_mb']:,.1f}", "")
    console.print(scale)
    run = _("quick run") if sizes.history < 10_000 else _("full run")
    console.print("  " + _("{run}, {seconds:.0f} s").format(run=run, seconds=d["seconds"]))
