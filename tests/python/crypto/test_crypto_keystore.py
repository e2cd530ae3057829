"""V3 keystores in a directory."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from eth_account import Account

from famchain.crypto import keystore
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import (
    ConfigError,
    InputError,
    InvalidKeyError,
    KeystoreNotFoundError,
    WalletError,
    WrongPasswordError,
)

NAME = re.compile(r"UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}")


def test_create_list_find_unlock_roundtrip(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path)
    assert NAME.fullmatch(info.path.name)
    assert info.path.name.endswith(info.address[2:].lower())
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert keystore.list_keystores(tmp_path) == [info]
    assert keystore.find_keystore(info.address, tmp_path) == info
    assert keystore.find_keystore(info.address.lower(), tmp_path) == info
    assert keystore.find_keystore(str(info.path)) == info
    wallet = keystore.unlock(info.address, "pw", tmp_path)
    assert wallet.address == info.address
    assert wallet.encryption_public_key == public_key_from_private(wallet.private_key)
    document = json.loads(info.path.read_text())
    assert document["version"] == 3
    assert Account.decrypt(document, "pw") == wallet.private_key


def test_light_kdf_is_pbkdf2(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path)
    crypto = json.loads(info.path.read_text())["crypto"]
    assert crypto["kdf"] == "pbkdf2"
    assert crypto["kdfparams"]["c"] == keystore.LIGHT_PBKDF2_ITERATIONS


def test_default_kdf_is_scrypt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keystore.ENV_KDF_LIGHT)
    info = keystore.create_keystore("pw", tmp_path, private_key=b"\x01" * 32)
    assert json.loads(info.path.read_text())["crypto"]["kdf"] == "scrypt"


def test_wrong_password(tmp_path: Path) -> None:
    info = keystore.create_keystore("right", tmp_path)
    with pytest.raises(WrongPasswordError) as excinfo:
        keystore.unlock(info.address, "wrong", tmp_path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert info.address in message


def test_unknown_address(tmp_path: Path) -> None:
    address = "0x" + "12" * 20
    with pytest.raises(KeystoreNotFoundError, match=f"no keystore for 0x1212.* in {tmp_path}"):
        keystore.find_keystore(address, tmp_path)
    with pytest.raises(InputError):
        keystore.find_keystore("not-an-address", tmp_path)


def test_import_private_key(tmp_path: Path) -> None:
    private = os.urandom(32)
    info = keystore.import_private_key("0x" + private.hex() + "\n", "pw", tmp_path)
    assert info.address == Account.from_key(private).address
    assert keystore.unlock(info.address, "pw", tmp_path).private_key == private
    with pytest.raises(WalletError, match="already exists"):
        keystore.import_private_key(private.hex(), "pw", tmp_path)


@pytest.mark.parametrize("text", ["", "12", "zz" * 32, "00" * 32, "0x" + "ff" * 32])
def test_import_bad_private_key_never_echoes_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(InvalidKeyError) as excinfo:
        keystore.import_private_key(text, "pw", tmp_path)
    if text:
        assert text not in str(excinfo.value)


def test_import_keystore_file(tmp_path: Path) -> None:
    private = os.urandom(32)
    source = tmp_path / "exported.json"
    source.write_text(json.dumps(Account.encrypt(private, "old", kdf="pbkdf2", iterations=16)))
    target = tmp_path / "ks"
    with pytest.raises(WrongPasswordError):
        keystore.import_keystore_file(source, "bad", target)
    info = keystore.import_keystore_file(source, "old", target)
    assert info.path.parent == target
    assert keystore.unlock(info.address, "old", target).private_key == private


def test_empty_password_refused_for_new_keystore(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        keystore.create_keystore("", tmp_path)


def test_list_skips_foreign_files_and_missing_dir(tmp_path: Path) -> None:
    assert keystore.list_keystores(tmp_path / "missing") == []
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / ".UTC--tmp").write_text("{}")
    (tmp_path / "subdir").mkdir()
    one = keystore.create_keystore("pw", tmp_path)
    two = keystore.create_keystore("pw", tmp_path)
    assert keystore.list_keystores(tmp_path) == [one, two]


def test_corrupt_keystore_is_a_wallet_error(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path)
    document = json.loads(info.path.read_text())
    document["crypto"]["kdf"] = "argon9"
    info.path.write_text(json.dumps(document))
    with pytest.raises(WalletError):
        keystore.unlock(str(info.path), "pw")
    info.path.write_text("[]")
    with pytest.raises(WalletError, match="not a V3 keystore"):
        keystore.unlock(str(info.path), "pw")


def test_declared_address_must_match_key(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path)
    document = json.loads(info.path.read_text())
    document["address"] = "12" * 20
    info.path.write_text(json.dumps(document))
    with pytest.raises(WalletError, match="declares"):
        keystore.decrypt_keystore(info.path, "pw")


def test_keystore_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert keystore.keystore_dir(tmp_path) == tmp_path
    monkeypatch.setenv(keystore.ENV_KEYSTORE_DIR, str(tmp_path / "env"))
    assert keystore.keystore_dir(None) == tmp_path / "env"
    assert keystore.keystore_dir(tmp_path) == tmp_path
    monkeypatch.delenv(keystore.ENV_KEYSTORE_DIR)
    assert keystore.keystore_dir(None) == Path.home() / ".famchain" / "keystores"


def test_password_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pw"
    path.write_text("s3cret pass\n")
    assert keystore.read_password_file(path) == "s3cret pass"
    path.write_text("crlf\r\n")
    assert keystore.read_password_file(path) == "crlf"
    with pytest.raises(ConfigError):
        keystore.read_password_file(tmp_path / "missing")
    assert keystore.password_from_env() is None
    monkeypatch.setenv(keystore.ENV_PASSWORD, "from-env")
    assert keystore.password_from_env() == "from-env"
