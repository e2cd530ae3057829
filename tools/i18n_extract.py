"""Development tooling: write the message template (.pot) of everything famchain tells people.

Run from the repository (``make i18n`` runs it, then ``pybabel update`` and ``pybabel compile``)::

    .venv/bin/python tools/i18n_extract.py build/i18n/famchain.pot

Three sources: the ``_()``, ``N_()`` and ``ngettext()`` calls in ``python/famchain`` (Babel's Python
extractor) and in the click modules whose messages famchain translates (usage errors), and every help string
of the command line, found by walking the click tree of ``famchain.cli`` with the lazy
commands loaded (their msgids are the English help itself, translated when the help is drawn).
Not part of the installed package: it needs Babel (a dev dependency) and the source tree.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import typer.main
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import write_po

from famchain import __version__
from famchain.cli import app
from famchain.cli._help import CLICK_MODULES, help_strings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python" / "famchain"


def template() -> Catalog:
    """The catalog template: source messages with their file and line, help strings with their command."""
    catalog = Catalog(project="famchain", version=__version__, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, _context in extract_from_dir(
        PACKAGE, keywords=DEFAULT_KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, locations=[(f"python/famchain/{filename}", lineno)], auto_comments=comments)
    for module in CLICK_MODULES:
        for lineno, message, comments, _context in extract_from_file("python", str(module.__file__)):
            if catalog.get(message) is None:
                catalog.add(message, auto_comments=[f"click: {module.__name__}:{lineno}", *comments])
    for msgid, shown in help_strings(typer.main.get_command(app)).items():
        existing = catalog.get(msgid)
        where = [f"help: {place}" for place in sorted(set(shown))[:3]]
        if existing is None:
            catalog.add(msgid, auto_comments=where)
        else:
            existing.auto_comments.extend(where)
    return catalog


def main() -> None:
    """Write the template to the path given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    output = parser.parse_args().output
    output.parent.mkdir(parents=True, exist_ok=True)
    catalog = template()
    with output.open("wb") as fh:
        write_po(fh, catalog, width=110, sort_output=True)
    print(f"{len(catalog)} messages -> {output}")


if __name__ == "__main__":
    main()
