"""The ``famchain`` command line: a thin shell over :class:`famchain.Client`, one sub-app per actor or object.

Sub-commands are imported on first use (see :mod:`famchain.cli._lazy`), so ``famchain --help`` and
``famchain account list`` start without loading web3.
"""

from __future__ import annotations

import typer

from famchain import __version__
from famchain.cli._help import HelpGroup

app = typer.Typer(
    name="famchain",
    cls=HelpGroup,
    help="Consent-gated family-doctor medical records on an EVM consortium chain.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Consent-gated family-doctor medical records on an EVM consortium chain."""


@app.command()
def version() -> None:
    """Print the famchain version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: the language from the environment, then the command."""
    import os

    from famchain.i18n import language_from, use_language

    use_language(language_from(os.environ))
    app(prog_name="famchain")  # `python -m famchain` names itself as the command people type
