"""Help in the user's language: every help string is translated when the help is drawn, not when it is written.

The commands keep their English help (the msgids of the catalog); :class:`HelpGroup`, the root group, hands
out commands whose class is made :func:`translating`, and a translating command draws its help from a copy of
itself whose help strings (its own, its options', its sub-commands' one-liners) went through
:func:`famchain.i18n._`, with typer's panel titles and click's usage prefix in the same language.
:func:`help_strings` walks the tree for the catalog's extraction and for the test that every one is translated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import click.core
import click.exceptions
import click.parser
import click.types
import typer.core
import typer.rich_utils

from famchain import i18n
from famchain.cli._errors import FamchainGroup
from famchain.i18n import N_, _

C = TypeVar("C", bound=click.Command)

HELP_OPTION = N_("Show this message and exit.")
USAGE = N_("Usage: ")
# typer's fixed strings of a help page, as typer spells them (module attribute -> msgid).
TYPER_STRINGS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}


def _text(value: str | None) -> str | None:
    return _(value) if value else value


def _param(param: click.Parameter) -> click.Parameter:
    twin = copy.copy(param)
    if getattr(param, "help", None):
        twin.help = _(param.help)  # type: ignore[attr-defined]
    return twin


def _listed(command: click.Command) -> click.Command:
    twin = copy.copy(command)
    twin.help, twin.short_help = _text(command.help), _text(command.short_help)
    return twin


@contextmanager
def _typer_strings() -> Iterator[None]:
    """typer's panel titles and markers in the current language while a help page is drawn."""
    saved = {name: getattr(typer.rich_utils, name) for name in TYPER_STRINGS}
    try:
        for name, msgid in TYPER_STRINGS.items():
            setattr(typer.rich_utils, name, _(msgid))
        yield
    finally:
        for name, value in saved.items():
            setattr(typer.rich_utils, name, value)


CLICK_MODULES = (click.core, click.exceptions, click.parser, click.types, typer.core)
"""The click (and typer) modules whose messages people meet (usage errors, bad values, the section titles and
markers of plain help written to a pipe); their ``_()`` and ``ngettext()`` calls are famchain's while a command
runs, so their msgids are in famchain's catalog (``make i18n``)."""


@contextmanager
def click_messages() -> Iterator[None]:
    """Click's own messages (``No such option``, ``Missing argument`` …) in the current language."""
    if i18n.language() == "en":
        yield
        return
    saved = [(module, module.__dict__.get("_"), module.__dict__.get("ngettext")) for module in CLICK_MODULES]
    try:
        for module, gettext, ngettext in saved:
            if gettext is not None:
                module._ = i18n._  # type: ignore[attr-defined]
            if ngettext is not None:
                module.ngettext = i18n.ngettext  # type: ignore[attr-defined]
        yield
    finally:
        for module, gettext, ngettext in saved:
            if gettext is not None:
                module._ = gettext  # type: ignore[attr-defined]
            if ngettext is not None:
                module.ngettext = ngettext  # type: ignore[attr-defined]


class Translating(click.Command):
    """Draws its help translated (mixed in before a click command class by :func:`translating`)."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        twin = copy.copy(self)
        twin.help, twin.short_help, twin.epilog = _text(self.help), _text(self.short_help), _text(self.epilog)
        twin.params = [_param(p) for p in self.params]
        if isinstance(self, click.Group) and isinstance(twin, click.Group):
            twin.commands = {name: _listed(sub) for name, sub in self.commands.items()}
        with _typer_strings():
            super(Translating, twin).format_help(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=_(USAGE))

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is None:
            return None
        twin = copy.copy(option)
        twin.help = _(HELP_OPTION)
        return twin


_MADE: dict[type[click.Command], type[click.Command]] = {}


def translating(base: type[C]) -> type[C]:
    """``base`` with its help drawn in the current language (one class per base)."""
    if issubclass(base, Translating):
        return base
    if base not in _MADE:
        _MADE[base] = type(f"Translating{base.__name__}", (Translating, base), {})
    made: type[C] = _MADE[base]  # type: ignore[assignment]
    return made


def translate_tree(command: click.Command) -> click.Command:
    """Make ``command`` and every command below it draw translated help (in place; returns it)."""
    command.__class__ = translating(type(command))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            translate_tree(sub)
    return command


class HelpGroup(Translating, FamchainGroup):
    """The root group: lazy commands, one-line errors, and help (and click's messages) in the user's language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with click_messages():
            return super().main(*args, **kwargs)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        return translate_tree(found) if found is not None else None


def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    """Every command below ``command`` (itself first) with its command path, lazy commands loaded."""
    from famchain.cli import _lazy

    yield path, command
    if not isinstance(command, click.Group):
        return
    names: dict[str, Any] = dict(command.commands)
    if isinstance(command, FamchainGroup):
        names.update({name: None for name in _lazy.COMMANDS if name not in names})
    for name in sorted(names):
        sub = names[name] or _lazy.load(name)
        yield from walk(sub, f"{path} {name}")


def help_strings(root: click.Command, path: str = "famchain") -> dict[str, list[str]]:
    """Every help string people may read in ``famchain … --help``, with where it is shown.

    The help and one-liner of each command (lazy ones loaded, and the lines ``famchain --help`` shows for them
    before loading), each option's and argument's help, and typer's and click's fixed strings.
    """
    from famchain.cli import _lazy

    found: dict[str, list[str]] = {}

    def add(text: str | None, where: str) -> None:
        if text:
            found.setdefault(text, []).append(where)

    for where, command in walk(root, path):
        add(command.help, where)
        add(command.short_help, where)
        add(command.epilog, where)
        for param in command.params:
            add(getattr(param, "help", None), f"{where} {param.name}")
    for name, spec in _lazy.COMMANDS.items():
        add(spec.help, f"{path} {name}")
    for msgid in (HELP_OPTION, USAGE, *TYPER_STRINGS.values()):
        add(msgid, path)
    return found
