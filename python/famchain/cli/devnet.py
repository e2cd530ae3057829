"""`famchain devnet` and `famchain deploy`: a local network and the contracts on it."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount

from famchain.chain.contracts import InstitutionKind
from famchain.chain.deploy import DEFAULT_VOTING_PERIOD, deploy
from famchain.chain.deployment import default_path
from famchain.chain.tx import TransactionSender
from famchain.cli._context import Json, Session, address_arg, chain_command, days_to_seconds, emit, info
from famchain.devnet import DEV_FUNDER_KEY, Devnet
from famchain.errors import ConfigError, InputError

app = typer.Typer(help="A throwaway local chain (anvil) and IPFS store on loopback.", no_args_is_help=True)

DevnetDir = Annotated[
    Path | None,
    typer.Option("--dir", envvar="FAMCHAIN_DEVNET_DIR", help="State folder [default: ~/.famchain/devnet]."),
]


def _devnet(directory: Path | None) -> Devnet:
    home = Path(os.environ.get("FAMCHAIN_HOME", Path.home() / ".famchain")).expanduser()
    return Devnet((directory or home / "devnet").expanduser())


@app.command()
def up(
    directory: DevnetDir = None,
    persist: Annotated[bool, typer.Option(help="Keep chain state across restarts.")] = False,
    as_json: Json = False,
) -> None:
    """Start anvil and the embedded IPFS store + gateway on free loopback ports."""
    current = _devnet(directory).up(persist=persist)
    human = (
        f"devnet running (chain {current.chain_id})\n"
        f"export FAMCHAIN_RPC_URL={current.rpc_url}\n"
        f"export FAMCHAIN_IPFS_BACKEND=kubo FAMCHAIN_IPFS_API={current.ipfs_url}"
    )
    emit({**current.__dict__, "running": current.running}, as_json, human)


@app.command()
def down(directory: DevnetDir = None) -> None:
    """Stop exactly the processes `devnet up` started."""
    stopped = _devnet(directory).down()
    typer.echo("devnet stopped" if stopped else "no devnet was running here")


@app.command()
def status(directory: DevnetDir = None, as_json: Json = False) -> None:
    """Show whether the devnet runs and where."""
    current = _devnet(directory).info()
    if current is None:
        emit({"running": False}, as_json, "no devnet here")
        raise typer.Exit(1)
    running = current.running
    emit(
        {**current.__dict__, "running": running},
        as_json,
        f"{'running' if running else 'stopped'}: rpc {current.rpc_url}, ipfs {current.ipfs_url}",
    )
    if not running:
        raise typer.Exit(1)


def parse_founder(text: str) -> tuple[str, InstitutionKind]:
    """``primary-care:0xabc...`` -> (address, kind)."""
    kind_text, sep, address = text.partition(":")
    if not sep:
        raise InputError(f"--founder {text!r}: expected KIND:ADDRESS, e.g. primary-care:0xabc...")
    key = kind_text.strip().upper().replace("-", "_")
    if key not in InstitutionKind.__members__ or key == "NONE":
        kinds = ", ".join(k.name.lower().replace("_", "-") for k in InstitutionKind if k)
        raise InputError(f"--founder {text!r}: unknown kind {kind_text!r}; use one of {kinds}")
    return address_arg(address, "founder"), InstitutionKind[key]


def deployer_account(s: Session, dev: bool) -> LocalAccount:
    """The paying account: the keystore, or anvil's public dev account with ``--dev`` on a devnet."""
    if not dev:
        return s.account
    if s.w3.eth.chain_id != 31337:
        raise ConfigError("--dev pays with anvil's public test key and only works on a devnet (chain 31337)")
    account: LocalAccount = Account.from_key(DEV_FUNDER_KEY)
    return account


def register_deploy(root: typer.Typer) -> None:
    """Add ``famchain deploy`` and ``famchain devnet fund`` (they need the chain options)."""

    @chain_command(root, "deploy")
    def deploy_command(
        s: Session,
        founder: Annotated[
            list[str], typer.Option("--founder", help="KIND:ADDRESS of a founding institution's admin key.")
        ],
        threshold_bps: Annotated[
            int, typer.Option(help="Vote share that carries a proposal; 0 = majority.", min=0, max=10_000)
        ] = 0,
        voting_period_days: Annotated[float, typer.Option(help="Days a proposal stays open.")] = (
            DEFAULT_VOTING_PERIOD / 86400
        ),
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="Where to write the file.")
        ] = None,
        dev: Annotated[
            bool, typer.Option("--dev", help="Pay with anvil's public dev account (devnet).")
        ] = False,
        as_json: Json = False,
    ) -> None:
        """Deploy the contracts from the packaged artifacts and bootstrap the founding members."""
        founders = [parse_founder(f) for f in founder]
        voting_period = days_to_seconds(voting_period_days, "--voting-period-days")
        sender = TransactionSender(s.w3, deployer_account(s, dev))
        s.confirm(f"deploy 4 contracts with {len(founders)} founders from {sender.address}")
        deployment = deploy(s.w3, sender, founders, threshold_bps=threshold_bps, voting_period=voting_period)
        path = output or s.deployment_file or default_path(deployment.chain_id)
        deployment.save(path)
        info(f"deployment written to {path}")
        emit(
            {"file": str(path), **deployment.__dict__},
            as_json,
            "\n".join(f"{name:17} {addr}" for name, addr in deployment.addresses.items()),
        )

    @chain_command(app, "fund")
    def fund(
        s: Session,
        address: Annotated[str, typer.Argument(help="Account to fund.")],
        eth: Annotated[float, typer.Option(help="Amount of devnet ether.")] = 10.0,
    ) -> None:
        """Give an account devnet ether (from anvil's public dev account) so it can pay for gas."""
        to = address_arg(address)
        if not math.isfinite(eth) or eth < 0:
            raise InputError(f"--eth must be a non-negative amount, not {eth}")
        sender = TransactionSender(s.w3, deployer_account(s, True))
        sender.send_value(to, int(eth * 10**18))
        typer.echo(f"sent {eth} ETH to {to}")
