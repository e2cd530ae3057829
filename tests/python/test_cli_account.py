"""`famchain account new|import|list|show` through typer's CliRunner."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from famchain.cli import app
from famchain.crypto.keywrap import public_key_from_private

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")
    monkeypatch.delenv("FAMCHAIN_PASSWORD", raising=False)
    monkeypatch.delenv("FAMCHAIN_KEYSTORE_DIR", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(mix_stderr=False)


@pytest.fixture
def keystores(tmp_path: Path) -> Path:
    return tmp_path / "keystores"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text("correct horse\n")
    path.chmod(0o600)
    return path


def _new(runner: CliRunner, keystores: Path, password_file: Path) -> str:
    result = runner.invoke(
        app, ["account", "new", "--keystore-dir", str(keystores), "--password-file", str(password_file)]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout.strip()


def test_new_prints_only_the_address_and_writes_one_file(
    runner: CliRunner, keystores: Path, password_file: Path
) -> None:
    address = _new(runner, keystores, password_file)
    assert ADDRESS.fullmatch(address)
    files = list(keystores.iterdir())
    assert len(files) == 1
    assert files[0].name.endswith("--" + address[2:].lower())
    key = Account.decrypt(json.loads(files[0].read_text()), "correct horse")
    assert Account.from_key(key).address == address


def test_list_json(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    first = _new(runner, keystores, password_file)
    second = _new(runner, keystores, password_file)
    result = runner.invoke(app, ["account", "list", "--keystore-dir", str(keystores), "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [item["address"] for item in listed] == [first, second]
    assert all(Path(item["path"]).parent == keystores for item in listed)


def test_list_plain_and_empty(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    result = runner.invoke(app, ["account", "list", "--keystore-dir", str(keystores)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no keystores" in result.stderr
    address = _new(runner, keystores, password_file)
    result = runner.invoke(app, ["account", "list", "--keystore-dir", str(keystores)])
    header, row = result.stdout.splitlines()
    assert header.split() == ["address", "name", "keystore"]
    assert row.split() == [address, str(next(keystores.iterdir()))]


def test_list_shows_the_names_of_contacts(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMCHAIN_HOME", str(tmp_path / "home"))
    address = _new(runner, keystores, password_file)
    other = _new(runner, keystores, password_file)
    added = runner.invoke(app, ["contacts", "add", address, "Clinic front desk"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(app, ["account", "list", "--keystore-dir", str(keystores)])
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "Clinic front desk" in rows[address]
    assert rows[other].split()[1].startswith("/")  # no name: the path comes next


def test_list_and_show_speak_chinese(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    from famchain import i18n

    address = _new(runner, keystores, password_file)
    before = i18n.language()
    i18n.use_language("zh_CN")
    try:
        listed = runner.invoke(app, ["account", "list", "--keystore-dir", str(keystores)])
        shown = runner.invoke(
            app,
            [
                "account",
                "show",
                address,
                "--keystore-dir",
                str(keystores),
                "--password-file",
                str(password_file),
            ],
        )
    finally:
        i18n.use_language(before)
    assert listed.stdout.splitlines()[0].split() == ["地址", "名称", "密钥库"]
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0].split() == ["地址：", address]  # noqa: RUF001
    assert shown.stdout.splitlines()[1].startswith("加密公钥：")  # noqa: RUF001


def test_list_uses_env_keystore_dir(
    runner: CliRunner, keystores: Path, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = _new(runner, keystores, password_file)
    monkeypatch.setenv("FAMCHAIN_KEYSTORE_DIR", str(keystores))
    result = runner.invoke(app, ["account", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["address"] == address


def test_show_with_password_file(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    address = _new(runner, keystores, password_file)
    args = [
        "account",
        "show",
        address,
        "--keystore-dir",
        str(keystores),
        "--password-file",
        str(password_file),
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["address"] == address
    assert re.fullmatch(r"0x[0-9a-f]{128}", shown["encryption_public_key"])
    key = Account.decrypt(json.loads(Path(shown["path"]).read_text()), "correct horse")
    assert shown["encryption_public_key"] == "0x" + public_key_from_private(bytes(key)).hex()
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert address in plain.stdout
    assert shown["encryption_public_key"] in plain.stdout


def test_show_by_file_with_env_password(
    runner: CliRunner, keystores: Path, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = _new(runner, keystores, password_file)
    path = next(keystores.iterdir())
    monkeypatch.setenv("FAMCHAIN_PASSWORD", "correct horse")
    result = runner.invoke(app, ["account", "show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["address"] == address


def test_show_prompts_for_password(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    address = _new(runner, keystores, password_file)
    result = runner.invoke(
        app, ["account", "show", address, "--keystore-dir", str(keystores), "--json"], input="correct horse\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["address"] == address
    assert "correct horse" not in result.stdout + result.stderr


def test_new_prompts_with_confirmation(runner: CliRunner, keystores: Path) -> None:
    result = runner.invoke(app, ["account", "new", "--keystore-dir", str(keystores)], input="pw1\npw1\n")
    assert result.exit_code == 0, result.output
    assert ADDRESS.fullmatch(result.stdout.strip())


def _error_line(stderr: str) -> str:
    """The one ``error: ...`` line the root group prints for a FamchainError (asserts there is only one)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0].removeprefix("error: ")


def test_show_wrong_password_is_a_one_line_error(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path
) -> None:
    address = _new(runner, keystores, password_file)
    wrong = tmp_path / "wrong"
    wrong.write_text("battery staple\n")
    wrong.chmod(0o600)
    result = runner.invoke(
        app, ["account", "show", address, "--keystore-dir", str(keystores), "--password-file", str(wrong)]
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"wrong password for {address}" in _error_line(result.stderr)


def test_errors_are_exactly_one_stderr_line(runner: CliRunner, keystores: Path) -> None:
    result = runner.invoke(app, ["account", "show", "0x" + "12" * 20, "--keystore-dir", str(keystores)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: no keystore for 0x{'12' * 20} in {keystores}: `famchain account list` shows the keystores there, "
        "`famchain account import` adds one (or pass --keystore-dir)"
    ]


def test_show_unknown_address(runner: CliRunner, keystores: Path) -> None:
    address = "0x" + "12" * 20
    result = runner.invoke(app, ["account", "show", address, "--keystore-dir", str(keystores)])
    assert result.exit_code == 1, result.output
    assert f"no keystore for {address} in {keystores}" in _error_line(result.stderr)


def test_import_private_key_file(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path
) -> None:
    private = os.urandom(32)
    key_file = tmp_path / "key.hex"
    key_file.write_text("0x" + private.hex() + "\n")
    key_file.chmod(0o600)
    args = ["--keystore-dir", str(keystores), "--password-file", str(password_file)]
    result = runner.invoke(app, ["account", "import", "--private-key-file", str(key_file), *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == Account.from_key(private).address
    again = runner.invoke(app, ["account", "import", "--private-key-file", str(key_file), *args])
    assert again.exit_code == 1
    assert "already exists" in _error_line(again.stderr)


def test_import_private_key_prompt(runner: CliRunner, keystores: Path, password_file: Path) -> None:
    private = os.urandom(32)
    args = ["account", "import", "--keystore-dir", str(keystores), "--password-file", str(password_file)]
    result = runner.invoke(app, args, input=private.hex() + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == Account.from_key(private).address
    assert private.hex() not in result.stdout + result.stderr


def test_import_keystore_file(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path
) -> None:
    private = os.urandom(32)
    source = tmp_path / "exported.json"
    source.write_text(json.dumps(Account.encrypt(private, "correct horse", kdf="pbkdf2", iterations=16)))
    args = [
        "account",
        "import",
        str(source),
        "--keystore-dir",
        str(keystores),
        "--password-file",
        str(password_file),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == Account.from_key(private).address
    assert len(list(keystores.iterdir())) == 1


def test_import_bad_private_key(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "key.hex"
    key_file.write_text("nothex\n")
    key_file.chmod(0o600)
    args = ["--keystore-dir", str(keystores), "--password-file", str(password_file)]
    result = runner.invoke(app, ["account", "import", "--private-key-file", str(key_file), *args])
    assert result.exit_code == 1
    assert "invalid private key" in _error_line(result.stderr)


@pytest.mark.parametrize("command", ["new", "import", "list", "show"])
def test_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, ["account", command, "-h"])
    assert result.exit_code == 0, result.output
    assert "--keystore-dir" in result.stdout


# --- keystore hygiene: password files, test-only KDF, weak imports -------------------------------------------


def test_world_readable_password_file_gets_a_warning(
    runner: CliRunner, keystores: Path, password_file: Path
) -> None:
    address = _new(runner, keystores, password_file)
    password_file.chmod(0o644)
    result = runner.invoke(
        app,
        ["account", "show", address, "--keystore-dir", str(keystores), "--password-file", str(password_file)],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: password file {password_file} is readable by other users (mode 644); "
        f"run `chmod 600 {password_file}`"
    ]
    assert address in result.stdout


def test_light_keystores_are_marked_and_refused_outside_tests(
    runner: CliRunner, keystores: Path, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = _new(runner, keystores, password_file)  # under the test setting: the light KDF, marked
    (path,) = keystores.iterdir()
    document = json.loads(path.read_text())
    assert document["crypto"]["kdf"] == "pbkdf2"
    assert document["famchain"] == {"test_only_kdf": True}
    args = [
        "account",
        "show",
        address,
        "--keystore-dir",
        str(keystores),
        "--password-file",
        str(password_file),
    ]
    assert runner.invoke(app, args).exit_code == 0

    monkeypatch.delenv("FAMCHAIN_INSECURE_TEST_KEYSTORES")
    refused = runner.invoke(app, args)

    assert refused.exit_code == 1
    message = _error_line(refused.stderr)
    assert message.startswith(f"keystore {path} uses the insecure test-only KDF")
    assert "FAMCHAIN_INSECURE_TEST_KEYSTORES" in message


def test_new_keystores_use_the_default_kdf_outside_tests(
    runner: CliRunner, keystores: Path, password_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMCHAIN_INSECURE_TEST_KEYSTORES")
    _new(runner, keystores, password_file)
    (path,) = keystores.iterdir()
    document = json.loads(path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["crypto"]["kdfparams"]["n"] == 1 << 18
    assert "famchain" not in document


def test_import_of_a_weak_keystore_reencrypts_it_outside_tests(
    runner: CliRunner, keystores: Path, password_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMCHAIN_INSECURE_TEST_KEYSTORES")
    private = os.urandom(32)
    source = tmp_path / "exported.json"
    source.write_text(json.dumps(Account.encrypt(private, "correct horse", kdf="pbkdf2", iterations=16)))
    args = [
        "account",
        "import",
        str(source),
        "--keystore-dir",
        str(keystores),
        "--password-file",
        str(password_file),
    ]

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == Account.from_key(private).address
    assert result.stderr.splitlines() == [
        "re-encrypted with the default KDF: pbkdf2 with 16 rounds is below the default 1000000"
    ]
    (path,) = keystores.iterdir()
    document = json.loads(path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    assert Account.decrypt(document, "correct horse") == private
    assert json.loads(source.read_text())["crypto"]["kdf"] == "pbkdf2"  # the source is left as it was
