"""The ``famchain`` command line: one sub-app per actor or object."""

from __future__ import annotations

import typer

from famchain import __version__
from famchain.cli import account, ipfs
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


@app.command()
def version() -> None:
    """Print the famchain version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    app()
