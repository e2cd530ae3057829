"""Times as people read them: local dates with the time left ("until 2026-12-31 (30 days)"), and the question
asked before a consent or agreement transaction, whose answer defaults to No. No web3 here."""

from __future__ import annotations

import sys
import time

import typer

from famchain.errors import ConfigError


def local_date(timestamp: int) -> str:
    """``YYYY-MM-DD HH:MM`` in this computer's time zone."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def span(seconds: int) -> str:
    """A duration in the largest unit that says it: ``30 days``, ``5 hours``, ``1 minute``."""
    seconds = abs(int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size, 1) if seconds < 10 * size else round(seconds / size)
            shown = f"{count:g}"
            return f"{shown} {unit}" + ("" if shown == "1" else "s")
    return f"{seconds} second" + ("" if seconds == 1 else "s")


def until(timestamp: int, now: int) -> str:
    """``until 2026-12-31 10:00 (30 days)``, ``ended 2026-01-01 10:00 (2 days ago)``, or ``no end``."""
    if not timestamp:
        return "no end"
    if timestamp <= now:
        return f"ended {local_date(timestamp)} ({span(now - timestamp)} ago)"
    return f"until {local_date(timestamp)} ({span(timestamp - now)})"


def _terminal() -> bool:
    return sys.stdin.isatty()


def ask(yes: bool, question: str) -> None:
    """Ask before a consent or agreement transaction (or a signature), unless ``--yes``; Enter answers No.

    Raises:
        ConfigError: no terminal to ask on and no ``--yes``.
        typer.Abort: the user did not say yes.
    """
    if yes:
        return
    if not _terminal():
        raise ConfigError(f"not going ahead ({question}) without confirmation: pass --yes")
    if not typer.confirm(f"{question}?", default=False):
        raise typer.Abort()
