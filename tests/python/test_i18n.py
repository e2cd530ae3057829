"""The language famchain speaks: chosen from the environment at the edge, English by default."""

from __future__ import annotations

import pytest

from famchain import i18n
from famchain.portal.views import PURPOSES_ZH
from famchain.records.sections import LABELS_ZH, SECTION_NAMES, Purpose, parse_purpose, section_names


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "de_DE.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL wins, and German has no catalog
        ({"FAMCHAIN_LANG": "zh-CN", "LC_ALL": "C"}, "zh_CN"),
        ({"FAMCHAIN_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": ""}, "en"),
    ],
)
def test_the_language_comes_from_famchain_lang_then_the_locale(env: dict[str, str], expected: str) -> None:
    assert i18n.language_from(env) == expected


def test_an_unknown_language_is_refused_and_the_current_one_kept() -> None:
    before = i18n.language()
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.use_language("fr")
    assert i18n.language() == before


def test_english_is_the_source_text() -> None:
    before = i18n.language()
    try:
        i18n.use_language("en")
        assert i18n._("no consent covers this record") == "no consent covers this record"
        assert i18n.ngettext("{n} record", "{n} records", 2) == "{n} records"
    finally:
        i18n.use_language(before)


def test_every_section_and_purpose_has_a_label() -> None:
    assert set(i18n.SECTION_LABELS) == set(SECTION_NAMES)
    assert set(i18n.PURPOSE_LABELS) == {p.value for p in Purpose}


@pytest.mark.usefixtures("chinese")
@pytest.mark.parametrize("name", list(SECTION_NAMES))
def test_section_names_are_shown_in_chinese_as_the_portal_shows_them(name: str) -> None:
    assert i18n.section_label(name) == LABELS_ZH[name]


@pytest.mark.usefixtures("chinese")
@pytest.mark.parametrize(
    ("purpose", "label"),
    [
        ("treatment", "诊疗"),
        ("referral", "转诊"),
        ("insurance-claim", "保险理赔"),
        ("research", "科研"),
        ("follow-up of a fracture", "follow-up of a fracture"),  # free text stays as written
    ],
)
def test_purposes_are_shown_in_chinese(purpose: str, label: str) -> None:
    assert i18n.purpose_label(purpose) == label
    if purpose in i18n.PURPOSE_LABELS:
        assert PURPOSES_ZH[Purpose(purpose)] == label


def test_labels_are_english_by_default_and_the_wire_names_do_not_change() -> None:
    before = i18n.language()
    try:
        i18n.use_language("en")
        assert i18n.section_label("present_illness") == "present illness"
        assert i18n.purpose_label("insurance-claim") == "insurance claim"
        assert i18n.section_label("unknown_section") == "unknown_section"
        i18n.use_language("zh_CN")
        assert section_names(0x09) == ["present_illness", "diagnosis"]  # records and JSON keep the wire names
        assert parse_purpose("保险理赔") == "保险理赔"  # a label is not a purpose name on the wire
        assert parse_purpose("insurance claim") == "insurance-claim"
    finally:
        i18n.use_language(before)
