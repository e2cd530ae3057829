"""`ape run deploy`: what `famchain deploy` does, from ape.

Deploys, in this order, Consortium(founders, kinds, threshold, voting period) -> ResidentRegistry(consortium) ->
ConsentRegistry(consortium, residents) -> RecordRegistry(consents, residents, outpatient retention, inpatient
retention) -> EmergencyAccess(consortium, residents, records) (compiled by ape-solidity from ``contracts/``) with
the founding institutions, and writes the deployment file in famchain's format (``deployments/<chainId>.json``, see
``famchain.chain.deployment``; the EmergencyAccess address is written too), so every ``famchain`` command can use
it::

    ape run deploy --network ethereum:local:foundry \
        --founder primary-care:0x7099… --founder hospital:0x3C44…

Founders come from ``--founder KIND:ADDRESS`` (repeatable) or ``FAMCHAIN_FOUNDERS`` (comma-separated). The
deployer is ``--account ALIAS`` (an ape account) or, on a local network or an anvil devnet (chain 31337), ape's
first test account. ``--network http://HOST:PORT`` deploys to a node that is already running (a devnet).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from famchain.chain.deploy import DEFAULT_VOTING_PERIOD
from famchain.chain.deployment import Deployment
from famchain.chain.structs import InstitutionKind
from famchain.cli._context import days_to_seconds
from famchain.cli.devnet import parse_founder
from famchain.errors import FamchainError
from famchain.settings import Settings

DEV_CHAIN_ID = 31337
YEAR = 365 * 24 * 3600
# Retention of medical records in China: 15 years for outpatient records, 30 for inpatient ones (deploy defaults).
DEFAULT_OUTPATIENT_RETENTION_YEARS = 15
DEFAULT_INPATIENT_RETENTION_YEARS = 30


def _founders(given: tuple[str, ...]) -> list[tuple[str, InstitutionKind]]:
    texts = list(given) or [f for f in os.environ.get("FAMCHAIN_FOUNDERS", "").split(",") if f.strip()]
    founders = [parse_founder(t.strip()) for t in texts]
    if len(founders) < 2:
        raise click.UsageError(
            "a consortium needs at least two founders: --founder KIND:ADDRESS (or FAMCHAIN_FOUNDERS)"
        )
    if len({a.lower() for a, _ in founders}) != len(founders):
        raise click.UsageError("a founding institution is listed twice")
    return founders


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--founder", "founder", multiple=True, help="KIND:ADDRESS of a founding institution's admin key."
)
@click.option("--threshold-bps", type=click.IntRange(0, 10_000), default=0, help="0 = strict majority.")
@click.option(
    "--voting-period-days", type=float, default=DEFAULT_VOTING_PERIOD / 86400, help="Days a vote is open."
)
@click.option(
    "--outpatient-retention-years",
    type=click.IntRange(0, 200),
    default=DEFAULT_OUTPATIENT_RETENTION_YEARS,
    help="Years an outpatient record is kept before it may be erased.",
)
@click.option(
    "--inpatient-retention-years",
    type=click.IntRange(0, 200),
    default=DEFAULT_INPATIENT_RETENTION_YEARS,
    help="Years an inpatient record is kept before it may be erased.",
)
@click.option("--account", "alias", default=None, help="Ape account alias that pays [local: test account 0].")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Deployment file to write."
)
def cli(
    founder: tuple[str, ...],
    threshold_bps: int,
    voting_period_days: float,
    outpatient_retention_years: int,
    inpatient_retention_years: int,
    alias: str | None,
    output: Path | None,
) -> None:
    """Deploy the five famchain contracts and write deployments/<chainId>.json."""
    try:
        founders = _founders(founder)
        voting_period = days_to_seconds(voting_period_days, "--voting-period-days")
    except FamchainError as exc:
        raise click.UsageError(str(exc)) from None
    if alias is not None:
        deployer = accounts.load(alias)
    elif chain.provider.network.is_local or chain.chain_id == DEV_CHAIN_ID:
        # ape's test mnemonic is anvil's, so its first test account is funded on any anvil devnet.
        deployer = accounts.test_accounts[0]
    else:
        raise click.UsageError("pass --account ALIAS (an ape account) to pay on a non-local network")
    start = chain.blocks.head.number or 0
    consortium = deployer.deploy(
        project.Consortium,
        [a for a, _ in founders],
        [int(k) for _, k in founders],
        threshold_bps,
        voting_period,
    )
    residents = deployer.deploy(project.ResidentRegistry, consortium.address)
    consents = deployer.deploy(project.ConsentRegistry, consortium.address, residents.address)
    records = deployer.deploy(
        project.RecordRegistry,
        consents.address,
        residents.address,
        outpatient_retention_years * YEAR,
        inpatient_retention_years * YEAR,
    )
    emergency = deployer.deploy(
        project.EmergencyAccess, consortium.address, residents.address, records.address
    )
    deployment = Deployment(
        chain_id=chain.chain_id,
        addresses={
            "Consortium": str(consortium.address),
            "ResidentRegistry": str(residents.address),
            "ConsentRegistry": str(consents.address),
            "RecordRegistry": str(records.address),
            "EmergencyAccess": str(emergency.address),
        },
        start_block=start,
        founders=[{"admin": a, "kind": k.name.lower()} for a, k in founders],
    )
    path = output or Settings.from_env().deployment_path(deployment.chain_id)
    deployment.save(path)
    click.echo(f"deployment written to {path}")
    for name, address in deployment.addresses.items():
        click.echo(f"{name:17} {address}")
