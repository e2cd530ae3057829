"""The language famchain speaks: chosen from the environment at the edge, English by default."""

from __future__ import annotations

import pytest

from famchain import i18n


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
