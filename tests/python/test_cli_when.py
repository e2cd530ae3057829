# ruff: noqa: RUF001 - the expected Chinese text has full-width punctuation
"""The times and questions of the consent, agreement, record and guardian commands (cli/_when.py), in English
and in Simplified Chinese."""

from __future__ import annotations

import pytest

from famchain import i18n
from famchain.cli import _when
from famchain.errors import ConfigError

NOW = 1_780_000_000


def test_spans_in_english() -> None:
    assert _when.span(30 * 86400) == "30 days"
    assert _when.span(86400) == "1 day"
    assert _when.span(36 * 3600) == "1.5 days"
    assert _when.span(5 * 3600) == "5 hours"
    assert _when.span(60) == "1 minute"
    assert _when.span(1) == "1 second"
    assert _when.span(7) == "7 seconds"


def test_spans_in_chinese(chinese: None) -> None:
    assert _when.span(30 * 86400) == "30 天"
    assert _when.span(36 * 3600) == "1.5 天"
    assert _when.span(5 * 3600) == "5 小时"
    assert _when.span(120) == "2 分钟"
    assert _when.span(7) == "7 秒"


def test_until_in_both_languages(chinese: None) -> None:
    end = NOW + 10 * 86400
    assert _when.until(end, NOW) == f"至 {_when.local_date(end)}（还剩 10 天）"
    assert _when.until(NOW - 7200, NOW) == f"已于 {_when.local_date(NOW - 7200)} 结束（2 小时前）"
    assert _when.until(0, NOW) == "无截止"
    i18n.use_language("en")
    assert _when.until(end, NOW) == f"until {_when.local_date(end)} (10 days)"
    assert _when.until(NOW - 7200, NOW) == f"ended {_when.local_date(NOW - 7200)} (2 hours ago)"
    assert _when.until(0, NOW) == "no end"


def test_the_question_without_a_terminal_is_one_translated_error(
    chinese: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_when, "_terminal", lambda: False)
    with pytest.raises(ConfigError, match=r"^未经确认不予执行（撤销授权）：请加 --yes$"):
        _when.ask(False, "撤销授权")
    _when.ask(True, "撤销授权")  # --yes asks nothing


def test_the_question_is_asked_in_chinese_and_defaults_to_no(
    chinese: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    asked: list[tuple[str, bool]] = []

    def confirm(text: str, default: bool) -> bool:
        asked.append((text, default))
        return False

    monkeypatch.setattr(_when, "_terminal", lambda: True)
    monkeypatch.setattr(typer, "confirm", confirm)
    with pytest.raises(typer.Abort):
        _when.ask(False, "发送交易：撤销 0xabc")
    assert asked == [("发送交易：撤销 0xabc？", False)]
