"""Record sections, actions and purposes: the bit values shared with the contracts (docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from famchain.errors import InputError
from famchain.i18n import _


class Section(IntEnum):
    """One encrypted part of a medical record; a consent or agreement covers a set of them."""

    PRESENT_ILLNESS = 0x01
    PAST_HISTORY = 0x02
    FAMILY_HISTORY = 0x04
    DIAGNOSIS = 0x08
    PRESCRIPTIONS = 0x10
    EXAMINATIONS = 0x20
    ATTACHMENTS = 0x40
    ALLERGIES = 0x80


ALL_SECTIONS = 0xFF
"""Every section bit."""

SECTION_NAMES: dict[str, Section] = {s.name.lower(): s for s in Section if s.name}
"""``present_illness`` -> Section.PRESENT_ILLNESS, in bit order."""

LABELS_ZH = {
    "present_illness": "现病史",
    "past_history": "既往史",
    "family_history": "家族史",
    "diagnosis": "诊断",
    "prescriptions": "处方",
    "examinations": "检查检验结果",
    "attachments": "附件",
    "allergies": "过敏史",
}


class Action(IntEnum):
    """What a consent or agreement lets the grantee do."""

    READ = 0x01
    APPEND = 0x02


class Purpose(StrEnum):
    """The usual purposes of a consent. A purpose is text in the committed consent terms (never on chain in
    clear); these are the names the command line knows, any other text is kept as written."""

    TREATMENT = "treatment"
    REFERRAL = "referral"
    INSURANCE_CLAIM = "insurance-claim"
    RESEARCH = "research"


def section_mask(names: Iterable[str]) -> int:
    """Bitmask for section names; ``all`` means every section.

    Raises:
        InputError: an unknown name or an empty selection.
    """
    mask = 0
    for raw in names:
        for name in (n.strip().lower().replace("-", "_") for n in raw.split(",")):
            if not name:
                continue
            if name == "all":
                mask |= ALL_SECTIONS
            elif name in SECTION_NAMES:
                mask |= SECTION_NAMES[name]
            else:
                known = ", ".join(SECTION_NAMES)
                raise InputError(
                    _("unknown section {name!r}; known sections: {known}, all").format(name=name, known=known)
                )
    if not mask:
        raise InputError(_("no section selected"))
    return int(mask)


def section_names(mask: int) -> list[str]:
    """Section names in a bitmask, in bit order."""
    return [name for name, bit in SECTION_NAMES.items() if mask & bit]


def action_mask(names: Iterable[str]) -> int:
    """Bitmask for ``read`` / ``append``."""
    mask = 0
    for raw in names:
        for name in (n.strip().lower() for n in raw.split(",")):
            if not name:
                continue
            try:
                mask |= Action[name.upper()]
            except KeyError:
                raise InputError(_("unknown action {name!r}; use read, append").format(name=name)) from None
    if not mask:
        raise InputError(_("no action selected"))
    return int(mask)


def action_names(mask: int) -> list[str]:
    """Action names in a bitmask."""
    return [a.name.lower() for a in Action if a.name and mask & a]


MAX_PURPOSE_TEXT = 500


def parse_purpose(name: str) -> str:
    """A consent's purpose: ``treatment``, ``referral``, ``insurance-claim``, ``research`` (any spelling of these
    names is normalized), or other text as written (it goes, committed, into the consent terms).

    Raises:
        InputError: empty, longer than 500 characters, or holding control characters.
    """
    text = name.strip() if isinstance(name, str) else ""
    key = text.upper().replace("-", "_").replace(" ", "_")
    if key in Purpose.__members__:
        return Purpose[key].value
    if not text:
        raise InputError(
            _("a purpose is required (treatment, referral, insurance-claim, research, or a sentence)")
        )
    if len(text) > MAX_PURPOSE_TEXT or any(ord(c) < 32 for c in text):
        raise InputError(
            _("a purpose is one line of at most {max_purpose_text} characters").format(
                max_purpose_text=MAX_PURPOSE_TEXT
            )
        )
    return text
