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
    """Root command group: loads sub-commands lazily and catches every error below them.

    ``famchain --help`` lists the commands from :data:`famchain.cli._lazy.COMMANDS` without importing their
    modules; a command's module is imported only when it runs (or its own help is asked for). Errors, usage
    errors included, are printed as one line on stderr (typer would draw a multi-line box). Set
    ``FAMCHAIN_DEBUG=1`` to let unexpected exceptions through with their traceback.
    """

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        from famchain.cli._lazy import COMMANDS

        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from famchain.cli import _lazy

        own = super().get_command(ctx, cmd_name)
        if own is not None or cmd_name not in _lazy.COMMANDS:
            return own
        if self._listing:
            return _lazy.placeholder(cmd_name)
        command = _lazy.load(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

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
