"""The ``famchain`` command line: one sub-app per actor or object."""

from __future__ import annotations

import typer

from famchain import __version__
from famchain.cli import (
    account,
    audit,
    bench,
    consent,
    consortium,
    demo,
    devnet,
    doctor,
    ipfs,
    record,
    resident,
)
from famchain.cli._errors import FamchainGroup

app = typer.Typer(
    name="famchain",
    cls=FamchainGroup,
    help="Consent-gated family-doctor medical records on an EVM consortium chain.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(account.app, name="account")
app.add_typer(ipfs.app, name="ipfs")
app.add_typer(devnet.app, name="devnet")
app.add_typer(consortium.consortium_app, name="consortium", no_args_is_help=True)
app.add_typer(consortium.institution_app, name="institution", no_args_is_help=True)
app.add_typer(resident.resident_app, name="resident", no_args_is_help=True)
app.add_typer(resident.agreement_app, name="agreement", no_args_is_help=True)
app.add_typer(record.record_app, name="record", no_args_is_help=True)
app.add_typer(record.outbox_app, name="outbox", no_args_is_help=True)
app.add_typer(consent.app, name="consent", no_args_is_help=True)
devnet.register_deploy(app)
audit.register(app)
demo.register(app)
doctor.register(app)
bench.register(app)


@app.command()
def version() -> None:
    """Print the famchain version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    app()
