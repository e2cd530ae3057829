"""The command line in Simplified Chinese: every help string and message has a translation, the compiled
catalog is the one in the .po, and help pages are drawn in the language asked for (English by default)."""

from __future__ import annotations

import gettext
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import click
import pytest
import typer.main
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from famchain import i18n
from famchain.cli import app
from famchain.cli._help import CLICK_MODULES, help_strings

LOCALE = Path(str(files("famchain") / "locale")) / "zh_CN" / "LC_MESSAGES"
PACKAGE = Path(str(files("famchain")))
FAMCHAIN = [sys.executable, "-m", "famchain"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with (LOCALE / "famchain.po").open("rb") as fh:
        return read_po(fh)


def _translated(catalog: Catalog, msgid: str | tuple[str, ...]) -> bool:
    message = catalog.get(msgid)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s.strip() for s in strings)


def test_every_help_string_of_the_command_line_has_a_chinese_translation(catalog: Catalog) -> None:
    shown = help_strings(typer.main.get_command(app))
    assert len(shown) > 200  # the lazy commands were loaded, not just the root's one-liners
    missing = {msgid: where[0] for msgid, where in shown.items() if not _translated(catalog, msgid)}
    assert missing == {}, "run `make i18n` and translate these in famchain.po"


def test_every_message_in_the_source_has_a_chinese_translation(catalog: Catalog) -> None:
    found = {
        message if isinstance(message, str) else tuple(message): f"{filename}:{lineno}"
        for filename, lineno, message, _comments, _context in extract_from_dir(
            PACKAGE, keywords=DEFAULT_KEYWORDS
        )
    }
    for module in CLICK_MODULES:  # click's usage errors, translated while a command runs
        found.update(
            {
                message if isinstance(message, str) else tuple(message): f"{module.__name__}:{lineno}"
                for lineno, message, _comments, _context in extract_from_file("python", str(module.__file__))
            }
        )
    assert "until {date} ({left})" in found  # the extractor sees famchain's own calls
    assert "No such option: {name}" in found  # and click's
    missing = {msgid: where for msgid, where in found.items() if not _translated(catalog, msgid)}
    assert missing == {}, "run `make i18n` and translate these in famchain.po"


def test_the_compiled_catalog_holds_exactly_the_translations_of_the_po(catalog: Catalog) -> None:
    with (LOCALE / "famchain.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            assert compiled.ngettext(*message.id[:2], 1) == message.string[0], message.id
        else:
            assert compiled.gettext(message.id) == message.string, message.id


def test_famchain_lang_zh_cn_shows_the_consent_help_in_chinese() -> None:
    env = {**os.environ, "FAMCHAIN_LANG": "zh_CN", "COLUMNS": "120"}
    result = subprocess.run(
        [*FAMCHAIN, "consent", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "用法：" in result.stdout  # noqa: RUF001
    assert "consent [OPTIONS] COMMAND" in result.stdout
    assert "授权：谁可以读取或追加您病历的哪些部分、出于何种目的、到何时为止。" in result.stdout  # noqa: RUF001
    assert "作为患者：撤销授权" in result.stdout  # a sub-command's one-liner  # noqa: RUF001
    assert "选项" in result.stdout
    assert "显示此帮助信息并退出。" in result.stdout
    assert "Show this message and exit" not in result.stdout


def test_without_a_language_the_help_stays_english() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FAMCHAIN_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    result = subprocess.run(
        [*FAMCHAIN, "consent", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Consent: who may read or append which sections of your records" in result.stdout
    assert "授权" not in result.stdout


@pytest.mark.usefixtures("chinese")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["密钥库：一把密钥既为您的消息签名", "家庭医生签约。", "命令"]),  # lazy one-liners  # noqa: RUF001
        (
            ["emergency", "declare", "--help"],
            ["作为医院医师：为患者宣告紧急情况", "参数", "[环境变量：FAMCHAIN_RPC_URL"],  # noqa: RUF001
        ),
        (
            ["account", "import", "--help"],
            ["KDF 强度低于默认值的密钥库会用默认 KDF 重新加密"],
        ),  # second paragraph
        (["version", "--help"], ["输出 famchain 版本。"]),
    ],
)
def test_help_pages_are_drawn_in_chinese(args: list[str], expected: list[str]) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_drawing_chinese_help_leaves_the_commands_english(chinese: None) -> None:
    runner = CliRunner()
    assert (
        "作为医院医师：为患者宣告紧急情况"  # noqa: RUF001
        in runner.invoke(app, ["emergency", "declare", "--help"], env={"COLUMNS": "200"}).output
    )
    i18n.use_language("en")
    english = runner.invoke(app, ["emergency", "declare", "--help"], env={"COLUMNS": "200"}).output
    assert "As a hospital physician: declare an emergency" in english
    assert "Show this message and exit." in english
    assert "Options" in english
    assert not any("\u4e00" <= c <= "\u9fff" for c in english.replace("就诊卡", ""))


def test_help_strings_lists_where_each_string_is_shown() -> None:
    shown = help_strings(typer.main.get_command(app))
    assert "famchain consent revoke grantee" in shown["The grantee to revoke."]
    assert any(w.startswith("famchain emergency declare") for w in shown["The patient."])
    assert isinstance(typer.main.get_command(app), click.Group)


def test_the_bench_tables_speak_chinese(chinese: None) -> None:
    import io

    from rich.console import Console

    from famchain.cli import bench

    out = io.StringIO()
    console = Console(file=out, width=200)
    figures = {
        "import_typer_s": 0.1,
        "help_s": 0.12,
        "help_ratio": 1.2,
        "account_list_s": 0.5,
        "account_list_ratio": 5.0,
    }
    bench.print_startup(console, figures)
    bench.print_signing(console, {"native_ms": 3.0, "coincurve_ms": None})
    text = out.getvalue()
    assert "启动时间（实际耗时中位数，并列测量）" in text  # noqa: RUF001
    assert "命令" in text
    assert "达标" in text
    assert "未达标" in text
    assert "签名一笔交易：纯 Python（eth-keys native）3.000 毫秒，未安装 coincurve" in text  # noqa: RUF001


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "error: --port must be 0..65535, not 70000"),
        ("zh_CN", "error: --port 必须在 0..65535 之间，而不是 70000"),  # noqa: RUF001
    ],
)
def test_portal_errors_are_one_line_in_the_language(lang: str, expected: str) -> None:
    before = i18n.language()
    i18n.use_language(lang)
    try:
        result = CliRunner(mix_stderr=False).invoke(app, ["portal", "--port", "70000"])
    finally:
        i18n.use_language(before)
    assert result.exit_code == 1
    assert result.stderr.strip() == expected


@pytest.mark.parametrize("args", [["--help"], ["contacts", "list"], ["account", "list"]])
def test_chinese_help_names_and_tables_load_no_web3(args: list[str], tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from famchain.cli import main\n"
        f"sys.argv = ['famchain', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({'web3', 'eth_account'} & set(sys.modules)), file=sys.stderr)\n"
    )
    env = {
        **os.environ,
        "FAMCHAIN_LANG": "zh_CN",
        "FAMCHAIN_HOME": str(tmp_path / "home"),
        "FAMCHAIN_KEYSTORE_DIR": str(tmp_path / "keys"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.stderr.splitlines()[-1] == "[]", result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["consent", "grant", "--bogus"], "error: 没有此选项：--bogus"),  # noqa: RUF001
        (["emergency", "approve"], "error: 缺少参数 'EMERGENCY'."),
    ],
)
def test_click_usage_errors_are_in_chinese(chinese: None, args: list[str], expected: str) -> None:
    result = CliRunner(mix_stderr=False).invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1


def test_click_messages_are_english_again_after_a_chinese_command(chinese: None) -> None:
    import click.parser

    CliRunner(mix_stderr=False).invoke(app, ["consent", "grant", "--bogus"])
    i18n.use_language("en")
    result = CliRunner(mix_stderr=False).invoke(app, ["consent", "grant", "--bogus"])
    assert result.stderr.startswith("error: No such option: --bogus")
    assert click.parser._("No such option: {name}") == "No such option: {name}"
