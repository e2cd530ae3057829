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
    InsecureKeystoreError,
    InvalidKeyError,
    KeystoreNotFoundError,
    WalletError,
    WrongPasswordError,
)

LIGHT = keystore.KdfParams.light()

NAME = re.compile(r"UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{9}Z--[0-9a-f]{40}")


def test_create_list_find_unlock_roundtrip(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    assert NAME.fullmatch(info.path.name)
    assert info.path.name.endswith(info.address[2:].lower())
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert keystore.list_keystores(tmp_path) == [info]
    assert keystore.find_keystore(info.address, tmp_path) == info
    assert keystore.find_keystore(info.address.lower(), tmp_path) == info
    assert keystore.find_keystore(str(info.path), tmp_path) == info
    wallet = keystore.unlock(info.address, "pw", tmp_path, allow_test_kdf=True)
    assert wallet.address == info.address
    assert wallet.encryption_public_key == public_key_from_private(wallet.private_key)
    document = json.loads(info.path.read_text())
    assert document["version"] == 3
    assert Account.decrypt(document, "pw") == wallet.private_key


def test_light_kdf_is_pbkdf2_and_marked_test_only(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    document = json.loads(info.path.read_text())
    assert document["crypto"]["kdf"] == "pbkdf2"
    assert document["crypto"]["kdfparams"]["c"] == keystore.LIGHT_PBKDF2_ITERATIONS
    assert document["famchain"] == {"test_only_kdf": True}
    assert keystore.is_test_only(document)
    assert keystore.weakness(document) is not None


def test_default_kdf_is_scrypt_unmarked(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, private_key=b"\x01" * 32)
    document = json.loads(info.path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["crypto"]["kdfparams"]["n"] == keystore.DEFAULT_SCRYPT_N
    assert "famchain" not in document
    assert keystore.weakness(document) is None
    assert keystore.unlock(info.address, "pw", tmp_path).private_key == b"\x01" * 32


def test_test_only_keystore_is_refused_unless_allowed(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    with pytest.raises(InsecureKeystoreError, match="insecure test-only KDF") as refused:
        keystore.unlock(info.address, "pw", tmp_path)
    assert isinstance(refused.value, WalletError)
    with pytest.raises(InsecureKeystoreError):
        keystore.unlock(str(info.path), "pw", tmp_path)
    assert keystore.unlock(info.address, "pw", tmp_path, allow_test_kdf=True).address == info.address


@pytest.mark.parametrize(
    ("kdf", "params", "weak"),
    [
        ("scrypt", {"n": 1 << 18, "r": 8}, False),
        ("scrypt", {"n": 1 << 17, "r": 8}, True),
        ("scrypt", {"n": 1 << 18, "r": 1}, True),
        ("pbkdf2", {"c": 1_000_000}, False),
        ("pbkdf2", {"c": 262_144}, True),
        ("argon9", {}, True),
    ],
)
def test_weakness_compares_with_the_default(kdf: str, params: dict[str, int], weak: bool) -> None:
    assert (keystore.weakness({"crypto": {"kdf": kdf, "kdfparams": params}}) is not None) is weak


def test_wrong_password(tmp_path: Path) -> None:
    info = keystore.create_keystore("right", tmp_path, kdf=LIGHT)
    with pytest.raises(WrongPasswordError) as excinfo:
        keystore.unlock(info.address, "wrong", tmp_path, allow_test_kdf=True)
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
    info = keystore.import_private_key("0x" + private.hex() + "\n", "pw", tmp_path, kdf=LIGHT)
    assert info.address == Account.from_key(private).address
    assert keystore.unlock(info.address, "pw", tmp_path, allow_test_kdf=True).private_key == private
    with pytest.raises(WalletError, match="already exists"):
        keystore.import_private_key(private.hex(), "pw", tmp_path, kdf=LIGHT)


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
    # 16 PBKDF2 rounds is weak: the imported copy is re-encrypted with the default KDF, same password.
    assert info.reencrypted is not None
    assert "pbkdf2 with 16 rounds" in info.reencrypted
    document = json.loads(info.path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    assert keystore.weakness(document) is None
    assert keystore.unlock(info.address, "old", target).private_key == private


def test_import_keeps_a_strong_keystore_as_it_is(tmp_path: Path) -> None:
    private = os.urandom(32)
    source = tmp_path / "exported.json"
    original = Account.encrypt(private, "pw", kdf="pbkdf2", iterations=1_000_000)
    source.write_text(json.dumps(original))
    info = keystore.import_keystore_file(source, "pw", tmp_path / "ks")
    assert info.reencrypted is None
    assert json.loads(info.path.read_text())["crypto"] == original["crypto"]


def test_import_under_the_test_kdf_keeps_light_keystores(tmp_path: Path) -> None:
    source = keystore.create_keystore("pw", tmp_path / "a", kdf=LIGHT)
    info = keystore.import_keystore_file(source.path, "pw", tmp_path / "b", kdf=LIGHT)
    assert info.reencrypted is None
    assert keystore.is_test_only(json.loads(info.path.read_text()))


def test_empty_password_refused_for_new_keystore(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        keystore.create_keystore("", tmp_path, kdf=LIGHT)


def test_list_skips_foreign_files_and_missing_dir(tmp_path: Path) -> None:
    assert keystore.list_keystores(tmp_path / "missing") == []
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / ".UTC--tmp").write_text("{}")
    (tmp_path / "subdir").mkdir()
    one = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    two = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    assert keystore.list_keystores(tmp_path) == [one, two]


def test_corrupt_keystore_is_a_wallet_error(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    document = json.loads(info.path.read_text())
    document["crypto"]["kdf"] = "argon9"
    info.path.write_text(json.dumps(document))
    with pytest.raises(WalletError):
        keystore.unlock(str(info.path), "pw", tmp_path, allow_test_kdf=True)
    info.path.write_text("[]")
    with pytest.raises(WalletError, match="not a V3 keystore"):
        keystore.unlock(str(info.path), "pw", tmp_path, allow_test_kdf=True)


def test_declared_address_must_match_key(tmp_path: Path) -> None:
    info = keystore.create_keystore("pw", tmp_path, kdf=LIGHT)
    document = json.loads(info.path.read_text())
    document["address"] = "12" * 20
    info.path.write_text(json.dumps(document))
    with pytest.raises(WalletError, match="declares"):
        keystore.decrypt_keystore(info.path, "pw")


def test_keystore_dir_is_explicit(tmp_path: Path) -> None:
    assert keystore.keystore_dir(tmp_path) == tmp_path
    assert keystore.keystore_dir("~/keys") == Path.home() / "keys"


def test_password_file(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("s3cret pass\n")
    assert keystore.read_password_file(path) == "s3cret pass"
    path.write_text("crlf\r\n")
    assert keystore.read_password_file(path) == "crlf"
    with pytest.raises(ConfigError):
        keystore.read_password_file(tmp_path / "missing")
