"""`famchain devnet` and `famchain deploy`: a local network and the contracts on it."""

from __future__ import annotations

import contextlib
import math
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from famchain.cli._context import (
    Json,
    Session,
    address_arg,
    chain_command,
    days_to_seconds,
    emit,
    info,
    read_json,
    settings,
)
from famchain.errors import ConfigError, InputError
from famchain.i18n import _

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from famchain.chain.structs import InstitutionKind
    from famchain.crypto.policy import CipherPolicy
    from famchain.devnet import Devnet

app = typer.Typer(help="A throwaway local chain (anvil) and IPFS store on loopback.", no_args_is_help=True)
deploy_app = typer.Typer()

DEFAULT_VOTING_PERIOD_DAYS = 7.0

DevnetDir = Annotated[
    Path | None,
    typer.Option("--dir", envvar="FAMCHAIN_DEVNET_DIR", help="State folder [default: ~/.famchain/devnet]."),
]


def _default_dir() -> Path:
    return settings().home / "devnet"


def _last_path() -> Path:
    """Where `devnet up` notes the folder of the devnet it started last (for `down` and `status` elsewhere)."""
    return settings().home / "devnet-last"


def _devnet(directory: Path | None) -> Devnet:
    from famchain.devnet import Devnet

    config = settings()
    anvil = None
    with contextlib.suppress(ConfigError):  # only `up` needs it, and says so
        anvil = config.anvil_binary()
    return Devnet((directory or _default_dir()).expanduser(), anvil=anvil)


def _elsewhere(looked: Path) -> str:
    """Where the last `devnet up` started a devnet, when that is not ``looked`` and it still runs there."""
    from famchain.devnet import Devnet

    try:
        last = Path(_last_path().read_text().strip())
    except OSError:
        return ""
    if not str(last) or last.resolve() == looked.resolve():
        return ""
    info = Devnet(last).info()
    if info is None or not info.running:
        return ""
    return _(
        "; the last `famchain devnet up` started one in {last}: `famchain devnet down --dir {quoted}`"
    ).format(last=last, quoted=shlex.quote(str(last)))


@app.command()
def up(
    directory: DevnetDir = None,
    persist: Annotated[bool, typer.Option(help="Keep chain state across restarts.")] = False,
    as_json: Json = False,
) -> None:
    """Start anvil and the embedded IPFS store + gateway on free loopback ports."""
    devnet = _devnet(directory)
    if devnet.anvil is None:
        settings().anvil_binary()  # raises the one-line "anvil not found"
    current = devnet.up(persist=persist)
    with contextlib.suppress(OSError):  # only a convenience for `down` in another shell
        _last_path().parent.mkdir(parents=True, exist_ok=True)
        _last_path().write_text(str(devnet.state_dir.resolve()) + "\n")
    human = (
        _("devnet running (chain {id}); stop it with `famchain devnet down`").format(id=current.chain_id)
        + "\n"
        f"export FAMCHAIN_RPC_URL={current.rpc_url}\n"
        f"export FAMCHAIN_IPFS_BACKEND=kubo FAMCHAIN_IPFS_API={current.ipfs_url}\n"
        f"export FAMCHAIN_DEVNET_DIR={shlex.quote(str(devnet.state_dir.resolve()))}"
    )
    emit({**current.__dict__, "running": current.running}, as_json, human)


@app.command()
def down(directory: DevnetDir = None) -> None:
    """Stop exactly the processes `devnet up` started."""
    devnet = _devnet(directory)
    stopped = devnet.down()
    if stopped:
        typer.echo(_("devnet stopped ({dir})").format(dir=devnet.state_dir))
    else:
        typer.echo(
            _("no devnet was running in {dir}{elsewhere}").format(
                dir=devnet.state_dir, elsewhere=_elsewhere(devnet.state_dir)
            )
        )


@app.command()
def status(directory: DevnetDir = None, as_json: Json = False) -> None:
    """Show whether the devnet runs and where."""
    devnet = _devnet(directory)
    current = devnet.info()
    if current is None:
        emit(
            {"running": False},
            as_json,
            _("no devnet in {dir}{elsewhere}").format(
                dir=devnet.state_dir, elsewhere=_elsewhere(devnet.state_dir)
            ),
        )
        raise typer.Exit(1)
    running = current.running
    emit(
        {**current.__dict__, "running": running},
        as_json,
        (_("running: rpc {rpc}, ipfs {ipfs}") if running else _("stopped: rpc {rpc}, ipfs {ipfs}")).format(
            rpc=current.rpc_url, ipfs=current.ipfs_url
        ),
    )
    if not running:
        raise typer.Exit(1)


def parse_founder(text: str) -> tuple[str, InstitutionKind]:
    """``primary-care:0xabc...`` -> (address, kind)."""
    from famchain.chain.structs import InstitutionKind

    kind_text, sep, address = text.partition(":")
    if not sep:
        raise InputError(
            _("--founder {value}: expected KIND:ADDRESS, e.g. primary-care:0xabc...").format(value=repr(text))
        )
    key = kind_text.strip().upper().replace("-", "_")
    if key not in InstitutionKind.__members__ or key == "NONE":
        kinds = ", ".join(k.label for k in InstitutionKind if k)
        raise InputError(
            _("--founder {value}: unknown kind {kind}; use one of {kinds}").format(
                value=repr(text), kind=repr(kind_text), kinds=kinds
            )
        )
    return address_arg(address, "founder"), InstitutionKind[key]


def cipher_policy_arg(value: str) -> CipherPolicy:
    """``--cipher-policy``: a JSON file when one exists at that path, else a preset name.

    Raises:
        InputError: the file is unreadable or not JSON.
        ConfigError: neither a file nor a preset, or the policy is malformed.
    """
    from famchain.crypto.policy import PRESETS, CipherPolicy, preset

    path = Path(value)
    if path.is_file():
        return CipherPolicy.from_dict(read_json(path))
    if value in PRESETS:
        return preset(value)
    raise ConfigError(
        _("--cipher-policy {value} is neither a file nor a preset ({presets})").format(
            value=repr(value), presets=", ".join(PRESETS)
        )
    )


def deployer_account(s: Session, dev: bool) -> LocalAccount:
    """The paying account: the keystore, or anvil's public dev account with ``--dev`` on a devnet."""
    from famchain.devnet import DEV_CHAIN_ID, dev_account

    if not dev:
        return s.account
    if s.w3.eth.chain_id != DEV_CHAIN_ID:
        raise ConfigError(
            _("--dev pays with anvil's public test key and only works on a devnet (chain 31337)")
        )
    return dev_account()


@chain_command(deploy_app, "deploy")
def deploy_command(
    s: Session,
    founder: Annotated[
        list[str], typer.Option("--founder", help="KIND:ADDRESS of a founding institution's admin key.")
    ],
    threshold_bps: Annotated[
        int, typer.Option(help="Vote share that carries a proposal; 0 = majority.", min=0, max=10_000)
    ] = 0,
    voting_period_days: Annotated[
        float, typer.Option(help="Days a proposal stays open.")
    ] = DEFAULT_VOTING_PERIOD_DAYS,
    outpatient_retention_years: Annotated[
        int,
        typer.Option(
            help="Years an outpatient record is kept before a deletion request may erase it.", min=0, max=200
        ),
    ] = 15,
    inpatient_retention_years: Annotated[
        int,
        typer.Option(
            help="Years an inpatient record is kept before a deletion request may erase it.", min=0, max=200
        ),
    ] = 30,
    cipher_policy: Annotated[
        str | None,
        typer.Option(
            "--cipher-policy",
            metavar="FILE|PRESET",
            help="The section ciphers every client seals with, written to the deployment file: a JSON file "
            '{"default": AEAD, "sections": {SECTION: AEAD}} (aes-256-gcm, chacha20-poly1305, sm4-gcm) or a '
            "preset: aes, gm (SM4-GCM for every text section, AES-256-GCM for attachments), gm-strict (SM4-GCM "
            "everywhere) [default: aes].",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write the file.")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="Pay with anvil's public dev account (devnet).")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite a deployment file whose contracts are still on this chain (orphans cards).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Deploy the contracts from the packaged artifacts and bootstrap the founding members."""
    from famchain.chain.deploy import YEAR, check_founders, is_live
    from famchain.chain.deployment import Deployment
    from famchain.client import Client

    founders = [parse_founder(f) for f in founder]
    check_founders(founders)
    voting_period = days_to_seconds(voting_period_days, "--voting-period-days")
    policy = cipher_policy_arg(cipher_policy).to_dict() if cipher_policy is not None else None
    payer = deployer_account(s, dev)
    path = output or s.config.deployment_path(s.w3.eth.chain_id)
    s.confirm(
        _("deploy 5 contracts with {n} founders from {payer}").format(n=len(founders), payer=payer.address)
    )
    if path.exists() and not force:
        try:
            existing: Deployment | None = Deployment.load(path)
        except ConfigError:
            existing = None  # unreadable: it names no contracts to lose
        if existing is not None and is_live(s.w3, existing):
            raise ConfigError(
                _(
                    "{path} names contracts that are still deployed on chain {id}; overwriting it "
                    "would orphan every visit card they hold: write elsewhere with -o, or pass --force"
                ).format(path=path, id=existing.chain_id)
            )
    client = Client.deploy(
        s.w3,
        payer,
        founders,
        threshold_bps=threshold_bps,
        voting_period=voting_period,
        outpatient_retention=outpatient_retention_years * YEAR,
        inpatient_retention=inpatient_retention_years * YEAR,
        cipher_policy=policy,
    )
    deployment = client.deployment
    deployment.save(path)
    info(_("deployment written to {path}").format(path=path))
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
    from famchain.chain.tx import TransactionSender

    to = address_arg(address)
    if not math.isfinite(eth) or eth < 0:
        raise InputError(_("--eth must be a non-negative amount, not {eth}").format(eth=eth))
    TransactionSender(s.w3, deployer_account(s, True)).send_value(to, int(eth * 10**18))
    typer.echo(_("sent {eth} ETH to {to}").format(eth=eth, to=to))
