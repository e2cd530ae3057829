"""The language of what famchain tells people: gettext catalogs, English by default, Simplified Chinese with
``FAMCHAIN_LANG=zh_CN`` (or a ``zh`` locale in ``LC_ALL``, ``LC_MESSAGES`` or ``LANG``).

Messages are written in English in the source and wrapped in :func:`_` (or :func:`ngettext` for counts); the
catalogs live in ``famchain/locale/<lang>/LC_MESSAGES/famchain.po`` (compiled ``.mo`` beside them). The
language is read at each call, so a test or a long-lived process can switch it with the environment. Only what
people read is translated: the wire formats (section and purpose names in records, JSON output keys) never are.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "famchain"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh_CN")


def language() -> str:
    """The language to speak: ``FAMCHAIN_LANG`` first, then the POSIX locale variables; ``en`` by default."""
    for var in ("FAMCHAIN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").strip()
        if not value:
            continue
        code = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
        if code.lower().startswith("zh"):
            return "zh_CN"
        return "en"
    return "en"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language (itself when the catalog has no translation)."""
    return _catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return _catalog(language()).ngettext(singular, plural, n)
