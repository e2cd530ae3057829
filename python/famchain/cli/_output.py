"""Output for people: local dates and durations, blocks with their date, names instead of addresses, tables.

Everything here is for the human text of a command; ``--json`` output never goes through it (times stay Unix
seconds, addresses stay addresses, section and purpose names stay their wire names). Words are in the current
language (:mod:`famchain.i18n`). Tables are drawn by rich with colour on a terminal and written as plain aligned
columns when the output is piped or redirected.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from famchain.i18n import _, ngettext, purpose_label, section_label

if TYPE_CHECKING:
    from rich.console import Console

    from famchain.cli.contacts import AddressBook

__all__ = [
    "block_label",
    "day",
    "duration",
    "fields",
    "name_of",
    "purpose_label",
    "section_label",
    "sections_label",
    "short_address",
    "table",
    "until",
    "when",
]


def _local(timestamp: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(timestamp).astimezone()
    except (OverflowError, OSError, ValueError):
        return None  # beyond what a calendar shows: a uint64 "no end"


def when(timestamp: int) -> str:
    """A moment as a local date and time with its zone: ``2026-12-01 08:30 CST``."""
    moment = _local(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M %Z") if moment is not None else _("no end")


def day(timestamp: int) -> str:
    """A moment as a local date: ``2026-12-31``."""
    moment = _local(timestamp)
    return moment.strftime("%Y-%m-%d") if moment is not None else _("no end")


def duration(seconds: int) -> str:
    """A length of time in the largest whole unit that fits, rounded: ``30 days``, ``5 hours``, ``12 minutes``."""
    seconds = abs(int(seconds))
    if seconds >= 86400:
        n = round(seconds / 86400)
        return ngettext("{n} day", "{n} days", n).format(n=n)
    if seconds >= 3600:
        n = round(seconds / 3600)
        return ngettext("{n} hour", "{n} hours", n).format(n=n)
    if seconds >= 60:
        n = round(seconds / 60)
        return ngettext("{n} minute", "{n} minutes", n).format(n=n)
    return _("less than a minute")


def until(timestamp: int, now: int | None = None) -> str:
    """An end time and what is left of it: ``until 2026-12-31 (30 days)``, or ``ended 2026-11-01 (30 days ago)``.

    Args:
        timestamp: The end (Unix seconds, as the chain keeps it).
        now: The time to count from (the chain's, when the caller has it) [default: this machine's clock].
    """
    now = int(time.time()) if now is None else now
    if _local(timestamp) is None:
        return _("with no end")
    if timestamp > now:
        return _("until {date} ({left})").format(date=day(timestamp), left=duration(timestamp - now))
    return _("ended {date} ({ago} ago)").format(date=day(timestamp), ago=duration(now - timestamp))


def block_label(number: int, timestamp: int | None = None) -> str:
    """A block number with its date when known: ``block 1234 (2026-12-01 08:30 CST)``."""
    if timestamp is None:
        return _("block {number}").format(number=number)
    return _("block {number} ({date})").format(number=number, date=when(timestamp))


def sections_label(names: Iterable[str]) -> str:
    """Section names for people, comma-separated in the current language (``none`` when there is none)."""
    labels = [section_label(name) for name in names]
    return _(", ").join(labels) if labels else _("none")


def short_address(address: str) -> str:
    """``0xabcd…1234``: enough to tell addresses apart beside a name."""
    return f"{address[:6]}…{address[-4:]}" if len(address) == 42 else address


def name_of(address: str, book: AddressBook | None = None) -> str:
    """``Dr Li (0xabcd…1234)`` for an address the user named (``famchain contacts add``) or one of their
    keystores; the address in full otherwise (it is what they would copy).

    Args:
        address: The address to show.
        book: The address book to look in [default: the user's, from their settings].
    """
    if book is None:
        from famchain.cli.contacts import AddressBook

        book = AddressBook.of_user()
    name = book.name(address)
    return f"{name} ({short_address(address)})" if name else address


def fields(pairs: Sequence[tuple[str, str]]) -> None:
    """Print ``label: value`` lines with the values aligned (labels are msgids, translated here)."""
    from rich.cells import cell_len

    labels = [_(label) + _(": ") for label, _value in pairs]
    width = max((cell_len(label) for label in labels), default=0)
    typer.echo(
        "\n".join(
            label + " " * (width - cell_len(label)) + value
            for label, (_label, value) in zip(labels, pairs, strict=True)
        )
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """Print rows under their headers with aligned columns (headers are translated here).

    On a terminal it is a rich table (bold headers, colour unless ``NO_COLOR``); piped, plain text: the
    headers, then one line per row, columns two spaces apart, aligned by display width (Chinese takes two
    columns), no trailing spaces, nothing when there are no rows.
    """
    from rich.console import Console

    shown = [_(h) for h in headers]
    body = [[str(cell) for cell in row] for row in rows]
    if not body:
        return
    given = console is not None
    console = console or Console(soft_wrap=False)
    if console.is_terminal:
        from rich import box
        from rich.table import Table

        drawn = Table(*shown, title=_(title) if title else None, box=box.SIMPLE_HEAD, header_style="bold")
        for row in body:
            drawn.add_row(*row)
        console.print(drawn)
        return
    from rich.cells import cell_len

    widths = [max(cell_len(line[i]) for line in [shown, *body]) for i in range(len(shown))]
    lines = [] if title is None else [_(title)]
    for line in [shown, *body]:
        cells = [cell + " " * (widths[i] - cell_len(cell)) for i, cell in enumerate(line)]
        lines.append("  ".join(cells).rstrip())
    if given:
        console.file.write("\n".join(lines) + "\n")
    else:
        typer.echo("\n".join(lines))
