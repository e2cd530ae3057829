"""Times as people read them: local dates with the time left ("until 2026-12-31 (30 days)"), and the question
asked before a consent or agreement transaction, whose answer defaults to No, in the current language
(:mod:`famchain.i18n`). No web3 here."""

from __future__ import annotations

import sys
import time

import typer

from famchain.errors import ConfigError
from famchain.i18n import _, ngettext


def local_date(timestamp: int) -> str:
    """``YYYY-MM-DD HH:MM`` in this computer's time zone."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def span(seconds: int) -> str:
    """A duration in the largest unit that says it, in the current language: ``30 days``, ``5 hours``,
    ``1.5 days``, ``1 minute``."""
    seconds = abs(int(seconds))
    for size in (86400, 3600, 60):
        if seconds >= size:
            count = round(seconds / size, 1) if seconds < 10 * size else round(seconds / size)
            shown = f"{count:g}"
            return _units(size, shown, 1 if shown == "1" else 2)
    return ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)


def _units(size: int, shown: str, n: int) -> str:
    """``shown`` days, hours or minutes (``size`` seconds each), in the plural form ``n`` asks for."""
    if size == 86400:
        return ngettext("{n} day", "{n} days", n).format(n=shown)
    if size == 3600:
        return ngettext("{n} hour", "{n} hours", n).format(n=shown)
    return ngettext("{n} minute", "{n} minutes", n).format(n=shown)


def until(timestamp: int, now: int) -> str:
    """``until 2026-12-31 10:00 (30 days)``, ``ended 2026-01-01 10:00 (2 days ago)``, or ``no end`` (in the
    current language)."""
    if not timestamp:
        return _("no end")
    if timestamp <= now:
        return _("ended {date} ({ago} ago)").format(date=local_date(timestamp), ago=span(now - timestamp))
    return _("until {date} ({left})").format(date=local_date(timestamp), left=span(timestamp - now))


def _terminal() -> bool:
    return sys.stdin.isatty()


def ask(yes: bool, question: str) -> None:
    """Ask before a consent or agreement transaction (or a signature), unless ``--yes``; Enter answers No.

    ``question`` is already in the current language (the caller translates the whole sentence).

    Raises:
        ConfigError: no terminal to ask on and no ``--yes``.
        typer.Abort: the user did not say yes.
    """
    if yes:
        return
    if not _terminal():
        raise ConfigError(
            _("not going ahead ({question}) without confirmation: pass --yes").format(question=question)
        )
    if not typer.confirm(_("{question}?").format(question=question), default=False):
        raise typer.Abort()
