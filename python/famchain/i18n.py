"""The language of what famchain tells people: gettext catalogs, English by default, Simplified Chinese with
``FAMCHAIN_LANG=zh_CN`` (or a ``zh`` locale in ``LC_ALL``, ``LC_MESSAGES`` or ``LANG``), chosen at the edge:
the command line calls :func:`use_language` with :func:`language_from` its environment; the library reads none.

Messages are written in English in the source and wrapped in :func:`_` (or :func:`ngettext` for counts); the
catalogs live in ``famchain/locale/<lang>/LC_MESSAGES/famchain.po`` (compiled ``.mo`` beside them), found
as package data. Only what
people read is translated: the wire formats (section and purpose names in records, JSON output keys) never are.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

DOMAIN = "famchain"
LANGUAGES = ("en", "zh_CN")
_current = "en"


def language_from(env: Mapping[str, str]) -> str:
    """The language an environment asks for: ``FAMCHAIN_LANG`` first, then the POSIX locale variables.

    ``en`` by default and for every language famchain has no catalog for; any ``zh`` locale is ``zh_CN``.
    """
    for var in ("FAMCHAIN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "").strip()
        if not value:
            continue
        code = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
        return "zh_CN" if code.lower().startswith("zh") else "en"
    return "en"


def use_language(lang: str) -> None:
    """Speak ``lang`` (one of :data:`LANGUAGES`) from now on."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    _current = lang


def language() -> str:
    """The language famchain speaks now."""
    return _current


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, str(files("famchain") / "locale"), languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language (itself when the catalog has no translation)."""
    return _catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return _catalog(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (it is passed to :func:`_` later)."""
    return message


SECTION_LABELS = {
    "present_illness": N_("present illness"),
    "past_history": N_("past history"),
    "family_history": N_("family history"),
    "diagnosis": N_("diagnosis"),
    "prescriptions": N_("prescriptions"),
    "examinations": N_("examinations"),
    "attachments": N_("attachments"),
    "allergies": N_("allergies"),
}
"""A record section's wire name -> its name for people (a msgid)."""

PURPOSE_LABELS = {
    "treatment": N_("treatment"),
    "referral": N_("referral"),
    "insurance-claim": N_("insurance claim"),
    "research": N_("research"),
}
"""A consent purpose's wire name -> its name for people (a msgid)."""


def section_label(name: str) -> str:
    """A section's name for people in the current language (``diagnosis`` -> 诊断); the wire name stays
    ``diagnosis`` in records, consents and JSON. An unknown name is shown as it is."""
    label = SECTION_LABELS.get(name)
    return _(label) if label else name


def purpose_label(purpose: str) -> str:
    """A consent purpose for people (``insurance-claim`` -> 保险理赔); a purpose written as free text is shown
    as it was written."""
    label = PURPOSE_LABELS.get(purpose)
    return _(label) if label else purpose
