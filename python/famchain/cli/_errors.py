"""Turns exceptions into one-line messages and exit codes; the only place famchain prints an error."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import typer.core

from famchain.errors import FamchainError


class CliError(click.ClickException):
    """A failure reported as ``error: <one line>`` on stderr with a non-zero exit."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class FamchainGroup(typer.core.TyperGroup):
    """Root command group: catches every error below it so users never see a traceback.

    Errors, usage errors included, are printed as one line on stderr (typer would draw a multi-line box).
    Set ``FAMCHAIN_DEBUG=1`` to let unexpected exceptions through with their traceback.
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} -h')"
            click.echo(f"error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FamchainError as exc:
            raise CliError(str(exc), exc.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise CliError("interrupted", 130) from None
        except Exception as exc:
            if os.environ.get("FAMCHAIN_DEBUG"):
                raise
            name = type(exc).__name__
            raise CliError(f"unexpected {name}: {exc} (set FAMCHAIN_DEBUG=1 for a traceback)", 70) from None
