"""Output for people (famchain.cli._output) and the address book (`famchain contacts`)."""

from __future__ import annotations

import io
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from famchain import i18n
from famchain.cli import _output, app
from famchain.cli.contacts import AddressBook

DR_LI = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
NURSE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
NOW = 1_780_000_000  # 2026-05-28 20:26:40 UTC


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAMCHAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FAMCHAIN_KEYSTORE_DIR", str(tmp_path / "keys"))
    return tmp_path / "home"


@pytest.mark.usefixtures("shanghai")
def test_times_are_local_dates_with_their_zone() -> None:
    assert _output.when(NOW) == "2026-05-29 04:26 CST"
    assert _output.day(NOW) == "2026-05-29"
    assert _output.when(2**64 - 1) == "no end"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (30 * 86400 - 5, "30 days"),
        (86400, "1 day"),
        (5 * 3600 + 60, "5 hours"),
        (3600, "1 hour"),
        (12 * 60, "12 minutes"),
        (59, "less than a minute"),
    ],
)
def test_durations_use_the_largest_unit_that_fits(seconds: int, shown: str) -> None:
    assert _output.duration(seconds) == shown


@pytest.mark.usefixtures("shanghai")
def test_until_says_the_end_date_and_what_is_left() -> None:
    assert _output.until(NOW + 30 * 86400, now=NOW) == "until 2026-06-28 (30 days)"
    assert _output.until(NOW - 2 * 3600, now=NOW) == "ended 2026-05-29 (2 hours ago)"
    assert _output.until(2**64 - 1, now=NOW) == "with no end"


@pytest.mark.usefixtures("shanghai", "chinese")
def test_until_and_blocks_in_chinese() -> None:
    assert _output.until(NOW + 30 * 86400, now=NOW) == "至 2026-06-28（还剩 30 天）"  # noqa: RUF001
    assert _output.block_label(1234, NOW) == "区块 1234（2026-05-29 04:26 CST）"  # noqa: RUF001
    assert _output.sections_label(["present_illness", "diagnosis"]) == "现病史、诊断"


@pytest.mark.usefixtures("shanghai")
def test_a_block_is_shown_with_its_date_when_known() -> None:
    assert _output.block_label(1234, NOW) == "block 1234 (2026-05-29 04:26 CST)"
    assert _output.block_label(1234) == "block 1234"
    assert _output.sections_label([]) == "none"


def test_a_piped_table_is_plain_aligned_text(capsys: pytest.CaptureFixture[str]) -> None:
    _output.table(["name", "address"], [("Dr Li", DR_LI), ("李医生", NURSE)])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"name    {'address'}",
        f"Dr Li   {DR_LI}",
        f"李医生  {NURSE}",  # two columns per Chinese character
    ]


def test_a_table_without_rows_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    _output.table(["name"], [])
    assert capsys.readouterr().out == ""


def test_on_a_terminal_the_table_is_drawn_in_colour() -> None:
    out = io.StringIO()
    _output.table(["name", "address"], [("Dr Li", DR_LI)], console=Console(file=out, force_terminal=True))
    drawn = out.getvalue()
    assert "\x1b[" in drawn  # colour/bold escapes
    assert "─" in drawn  # a rule under the headers
    assert "Dr Li" in drawn


@pytest.mark.usefixtures("chinese")
def test_table_headers_are_translated(capsys: pytest.CaptureFixture[str]) -> None:
    _output.table([i18n.N_("name"), i18n.N_("address")], [("Dr Li", DR_LI)])
    assert capsys.readouterr().out.splitlines()[0] == "名称   地址"


def test_names_come_from_the_address_book_then_the_own_keystores(tmp_path: Path) -> None:
    book = AddressBook(tmp_path / "contacts.json", {DR_LI: "Dr Li"}, frozenset({NURSE.lower()}))
    assert _output.name_of(DR_LI, book) == "Dr Li (0x9965…A4dc)"
    assert _output.name_of(DR_LI.lower(), book) == "Dr Li (0x9965…a4dc)"  # found in any case
    assert _output.name_of(NURSE, book) == "my key (0x976E…0aa9)"
    stranger = "0x" + "ab" * 20
    assert _output.name_of(stranger, book) == stranger


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("home")
def test_contacts_add_list_remove(home: Path) -> None:
    code, out, err = _cli("contacts", "add", DR_LI.lower(), "  Dr Li, Example Hospital ")
    assert code == 0, err
    assert out.strip() == f"{DR_LI} is now shown as Dr Li, Example Hospital"
    saved = home / "contacts.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {
        "contacts": [{"address": DR_LI, "name": "Dr Li, Example Hospital"}]
    }
    assert _output.name_of(DR_LI) == "Dr Li, Example Hospital (0x9965…A4dc)"

    assert _cli("contacts", "add", NURSE, "Nurse Wang")[0] == 0
    assert _cli("contacts", "add", DR_LI, "Dr Li")[0] == 0  # renaming replaces
    code, out, _ = _cli("contacts", "list")
    assert out.splitlines() == ["name        address", f"Dr Li       {DR_LI}", f"Nurse Wang  {NURSE}"]
    code, out, _ = _cli("contacts", "list", "--json")
    assert json.loads(out) == {
        "contacts": [{"address": DR_LI, "name": "Dr Li"}, {"address": NURSE, "name": "Nurse Wang"}]
    }

    code, out, _ = _cli("contacts", "remove", "Nurse Wang")
    assert (code, out.strip()) == (0, f"forgot Nurse Wang ({NURSE})")
    code, out, _ = _cli("contacts", "remove", DR_LI.lower())
    assert code == 0
    assert json.loads(saved.read_text()) == {"contacts": []}
    code, out, err = _cli("contacts", "list")
    assert (code, out) == (0, "")
    assert "no contacts yet" in err


@pytest.mark.usefixtures("home")
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("contacts", "add", "0x1234", "Dr Li"), "is not an Ethereum address"),
        (("contacts", "add", DR_LI, "   "), "a contact needs a name"),
        (("contacts", "add", DR_LI, "Dr\nLi"), "one line of at most 100 characters"),
        (("contacts", "remove", "Dr Nobody"), "no contact 'Dr Nobody'"),
    ],
)
def test_contacts_refuse_bad_input_in_one_line(args: tuple[str, ...], error: str) -> None:
    code, out, err = _cli(*args)
    assert code == 1
    assert out == ""
    assert err.startswith("error: ")
    assert error in err
    assert len(err.strip().splitlines()) == 1


def test_a_damaged_address_book_is_one_line_error(home: Path) -> None:
    home.mkdir()
    (home / "contacts.json").write_text("[1, 2")
    code, _, err = _cli("contacts", "list")
    assert code == 1
    assert "contacts.json is not a readable address book" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("home", "chinese")
def test_contacts_speak_chinese() -> None:
    code, out, _ = _cli("contacts", "add", DR_LI, "李医生")
    assert (code, out.strip()) == (0, f"{DR_LI} 现在显示为 李医生")
    code, out, _ = _cli("contacts", "list")
    assert out.splitlines() == ["名称    地址", f"李医生  {DR_LI}"]


@pytest.mark.usefixtures("home")
def test_the_users_book_is_read_again_after_a_change() -> None:
    assert _output.name_of(DR_LI) == DR_LI
    assert _cli("contacts", "add", DR_LI, "Dr Li")[0] == 0
    assert _output.name_of(DR_LI) == "Dr Li (0x9965…A4dc)"
    assert _cli("contacts", "add", DR_LI, "Dr Li Wei")[0] == 0
    assert _output.name_of(DR_LI) == "Dr Li Wei (0x9965…A4dc)"
    assert AddressBook.of_user() is AddressBook.of_user()  # unchanged: not read again
