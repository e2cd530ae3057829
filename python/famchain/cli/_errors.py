"""Turns exceptions into one-line messages and exit codes; the only place famchain prints an error."""

from __future__ import annotations

import difflib
import os
import re
import sys
from typing import Any

import click
import typer.core

from famchain.errors import FamchainError
from famchain.i18n import _


class CliError(click.ClickException):
    """A failure reported as ``error: <one line>`` on stderr with a non-zero exit."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


PIPED_HELP_WIDTH = 1000
"""Help written to a pipe or a file is not wrapped to a terminal: each paragraph and option stays on one line."""

BROKEN_PIPE_EXIT = 1
"""The exit status of a command whose reader went away (``famchain ... | head``): click's own choice for a
closed pipe, so every path ends alike (git dies of SIGPIPE instead; both say nothing)."""

NO_SUCH_COMMAND = "No such command {name!r}."
"""click's message for a mistyped command (its msgid: click translates it with the user's language)."""


def _no_such_command() -> re.Pattern[str]:
    """click's message for a mistyped command, as it reads in the current language."""
    template = re.escape(_(NO_SUCH_COMMAND))
    return re.compile(template.replace(re.escape("{name!r}"), "'(?P<name>.+)'", 1))


def _piped() -> bool:
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True


def _quiet_broken_pipe() -> None:
    """The reader closed the pipe: stop at once without a word, like git (nothing is left to flush to it)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner's buffer)
        pass
    sys.exit(BROKEN_PIPE_EXIT)


def did_you_mean(message: str, ctx: click.Context | None) -> str:
    """``No such command 'x'.`` with the closest commands of the group (lazy ones included) appended; click's
    message is matched as it reads in the current language (``没有命令 'x'。`` in Chinese)."""
    found = _no_such_command().match(message)
    if found is None or ctx is None or not isinstance(ctx.command, click.Group):
        return message
    names = ctx.command.list_commands(ctx)
    close = difflib.get_close_matches(found.group("name"), names, n=3, cutoff=0.6)
    if not close:
        return message
    return _("{message} Did you mean {names}?").format(
        message=message, names=_(" or ").join(repr(c) for c in close)
    )


class PlainHelpFormatter(click.HelpFormatter):
    """click's help text without the rich-markup escapes typer adds to ``[default: ...]`` and ``[required]``."""

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, text.replace("\\[", "[")) for term, text in rows], col_max, col_spacing)


class PlainHelpContext(click.Context):
    """A context whose help is plain text (help written to a pipe or a file)."""

    formatter_class = PlainHelpFormatter


def tune(command: click.Command, *, plain: bool) -> click.Command:
    """Prepare a command tree's help: no ``[default: None]`` for options without a default, and plain click
    text (no boxes, no colour) when ``plain`` (help written to a pipe or a file)."""
    for param in command.params:
        if isinstance(param, click.Option) and (param.default is None or param.default in ((), [])):
            param.show_default = False
    if plain and hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
        command.context_class = PlainHelpContext
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            tune(sub, plain=plain)
    return command


class FamchainGroup(typer.core.TyperGroup):
    """Root command group: loads sub-commands lazily and catches every error below them.

    ``famchain --help`` lists the commands from :data:`famchain.cli._lazy.COMMANDS` without importing their
    modules; a command's module is imported only when it runs (or its own help is asked for). Errors, usage
    errors included, are printed as one line on stderr (typer would draw a multi-line box), a mistyped command
    with the closest ones. Help written to a pipe is plain text at a terminal-independent width, and a reader
    that goes away (``| head``) ends the command quietly. Set ``FAMCHAIN_DEBUG=1`` to let unexpected
    exceptions through with their traceback.
    """

    _listing = False

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if _piped():
            extra.setdefault("terminal_width", PIPED_HELP_WIDTH)
            extra.setdefault("max_content_width", PIPED_HELP_WIDTH)
        tune(self, plain=_piped())
        return super().make_context(info_name, args, parent, **extra)

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
        command = tune(_lazy.load(cmd_name), plain=_piped())
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
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        except BrokenPipeError:
            _quiet_broken_pipe()
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message = did_you_mean(message, exc.ctx)
                message += _(" (see '{command} -h')").format(command=exc.ctx.command_path)
            click.echo(f"error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: " + _("aborted"), err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FamchainError as exc:
            raise CliError(str(exc), exc.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise
        except KeyboardInterrupt:
            raise CliError(_("interrupted"), 130) from None
        except Exception as exc:
            if os.environ.get("FAMCHAIN_DEBUG"):
                raise
            name = type(exc).__name__
            raise CliError(
                _("unexpected {name}: {error} (set FAMCHAIN_DEBUG=1 for a traceback)").format(
                    name=name, error=exc
                ),
                70,
            ) from None
