"""Web3 Secret Storage (V3) keystores in a directory, geth style.

Files are named ``UTC--<iso time>--<address, lowercase, no 0x>`` and hold eth-account's V3 JSON. The keystore
directory is the explicit argument, else ``$FAMCHAIN_KEYSTORE_DIR``, else ``~/.famchain/keystores``.

New keystores use eth-account's default scrypt parameters. ``FAMCHAIN_KDF_LIGHT=1`` switches to PBKDF2 with
1024 iterations: **for tests only** (such a keystore falls to a password guesser quickly).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import is_address, to_checksum_address

from famchain.crypto.keywrap import PRIVATE_KEY_SIZE, address_from_private_key
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    ConfigError,
    InputError,
    InvalidKeyError,
    KeystoreNotFoundError,
    WalletError,
    WrongPasswordError,
)
from famchain.types import Address

ENV_KEYSTORE_DIR = "FAMCHAIN_KEYSTORE_DIR"
ENV_PASSWORD = "FAMCHAIN_PASSWORD"  # noqa: S105 - the variable's name, not a password
ENV_KDF_LIGHT = "FAMCHAIN_KDF_LIGHT"
LIGHT_PBKDF2_ITERATIONS = 1024
MAX_KEYSTORE_BYTES = 64 * 1024

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class KeystoreInfo:
    """A keystore file and the address it declares."""

    address: Address
    path: Path

    def to_json(self) -> dict[str, str]:
        """``{"address": ..., "path": ...}`` for machine output."""
        return {"address": self.address, "path": str(self.path)}


def keystore_dir(explicit: Path | str | None = None) -> Path:
    """Resolves the keystore directory: the argument, else ``$FAMCHAIN_KEYSTORE_DIR``, else the default."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_KEYSTORE_DIR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".famchain" / "keystores"


def read_password_file(path: Path | str, what: str = "password file") -> str:
    """Reads a password (or other secret) file; one trailing newline (``\\n`` or ``\\r\\n``) is dropped.

    Args:
        path: The file.
        what: Names the file in the error message.

    Raises:
        ConfigError: The file cannot be read or is not UTF-8.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.__class__.__name__}") from None
    return text.removesuffix("\n").removesuffix("\r")


def password_from_env() -> str | None:
    """The password in ``$FAMCHAIN_PASSWORD``, if set."""
    return os.environ.get(ENV_PASSWORD)


def kdf_is_light() -> bool:
    """Whether ``FAMCHAIN_KDF_LIGHT`` asks for the fast, test-only key derivation."""
    return os.environ.get(ENV_KDF_LIGHT, "").strip().lower() in {"1", "true", "yes", "on"}


def keystore_filename(address: str, now: datetime | None = None) -> str:
    """The geth file name ``UTC--2026-01-02T03-04-05.123456000Z--<address lowercase without 0x>``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"UTC--{moment.strftime('%Y-%m-%dT%H-%M-%S.%f')}000Z--{address.lower().removeprefix('0x')}"


def parse_private_key(text: str) -> bytes:
    """Parses a 64-hex-digit private key (``0x`` optional, surrounding whitespace ignored).

    Raises:
        InvalidKeyError: Not 64 hex digits or not a valid secp256k1 key (the key is never echoed).
    """
    text = text.strip()
    if not _HEX_KEY.fullmatch(text):
        raise InvalidKeyError("private key", f"expected {PRIVATE_KEY_SIZE * 2} hex digits")
    key = bytes.fromhex(text.removeprefix("0x"))
    address_from_private_key(key)
    return key


def _check_new_password(password: str) -> None:
    if password == "":
        raise InputError("refusing an empty keystore password")


def _encrypt(private_key: bytes, password: str) -> dict[str, Any]:
    if kdf_is_light():
        return Account.encrypt(private_key, password, kdf="pbkdf2", iterations=LIGHT_PBKDF2_ITERATIONS)
    return Account.encrypt(private_key, password)


def _write(directory: Path, address: Address, document: dict[str, Any]) -> KeystoreInfo:
    for existing in list_keystores(directory):
        if existing.address == address:
            raise WalletError(f"a keystore for {address} already exists: {existing.path}")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / keystore_filename(address)
        temp = directory / f".{path.name}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        # A crash leaves at most a hidden temp file, never a half-written keystore under a real name.
        os.rename(temp, path)
    except OSError as exc:
        raise WalletError(f"cannot write keystore in {directory}: {exc}") from None
    return KeystoreInfo(address, path)


def create_keystore(
    password: str, directory: Path | str | None = None, *, private_key: bytes | None = None
) -> KeystoreInfo:
    """Creates a keystore for a new random key (or the given one) in the keystore directory.

    Args:
        password: Encrypts the keystore; must not be empty.
        directory: The keystore directory (see :func:`keystore_dir`).
        private_key: An existing 32-byte key to store instead of a fresh one.

    Raises:
        InputError: Empty password.
        InvalidKeyError: ``private_key`` is not a valid key.
        WalletError: A keystore for the address exists already, or the file cannot be written.
    """
    _check_new_password(password)
    key = private_key if private_key is not None else os.urandom(PRIVATE_KEY_SIZE)
    address = address_from_private_key(key)
    return _write(keystore_dir(directory), address, _encrypt(key, password))


def import_private_key(
    private_key_hex: str, password: str, directory: Path | str | None = None
) -> KeystoreInfo:
    """Stores a hex private key as a new keystore (see :func:`create_keystore`)."""
    return create_keystore(password, directory, private_key=parse_private_key(private_key_hex))


def load_keystore(path: Path | str) -> dict[str, Any]:
    """Reads a V3 keystore JSON document.

    Raises:
        WalletError: Unreadable, too large, not JSON or not a version-3 keystore.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_KEYSTORE_BYTES:
            raise WalletError(f"not a V3 keystore (too large): {path}")
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WalletError(f"cannot read keystore {path}: {exc}") from None
    if isinstance(document, dict) and "crypto" not in document and "Crypto" in document:
        # ethers v6 and MyEtherWallet write "Crypto"; geth reads either (Go's JSON keys are case-insensitive).
        document["crypto"] = document.pop("Crypto")
    if (
        not isinstance(document, dict)
        or document.get("version") != 3
        or not isinstance(document.get("crypto"), dict)
    ):
        raise WalletError(f"not a V3 keystore: {path}")
    return document


def _declared_address(document: dict[str, Any]) -> Address | None:
    raw = document.get("address")
    if not isinstance(raw, str):
        return None
    text = raw if raw.startswith("0x") else "0x" + raw
    return Address(to_checksum_address(text)) if is_address(text.lower()) else None


def decrypt_keystore(path: Path | str, password: str) -> bytes:
    """Decrypts a keystore file and returns its 32-byte private key.

    Raises:
        WrongPasswordError: The password does not open it.
        WalletError: The file is not a keystore, uses an unsupported scheme, or holds another address than
            it declares.
    """
    document = load_keystore(path)
    declared = _declared_address(document)
    try:
        key = bytes(Account.decrypt(document, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPasswordError(declared) from None
        raise WalletError(f"cannot decrypt keystore {path}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise WalletError(f"not a V3 keystore: {path} ({exc})") from None
    actual = address_from_private_key(key)
    if declared is not None and declared != actual:
        raise WalletError(f"keystore {path} declares {declared} but holds the key of {actual}")
    return key


def import_keystore_file(
    source: Path | str, password: str, directory: Path | str | None = None
) -> KeystoreInfo:
    """Copies an existing V3 keystore into the directory after checking that ``password`` opens it.

    The encrypted document is kept as is (same KDF and password); only the file name is canonical.

    Raises:
        WrongPasswordError: The password does not open it.
        WalletError: Not a keystore, or the address is already in the directory.
    """
    document = load_keystore(source)
    address = address_from_private_key(decrypt_keystore(source, password))
    document["address"] = address.lower().removeprefix("0x")
    return _write(keystore_dir(directory), address, document)


def list_keystores(directory: Path | str | None = None) -> list[KeystoreInfo]:
    """Lists the keystores in the directory, oldest first (by geth file name); other files are skipped.

    A missing directory lists as empty. No password is needed: the address is stored in clear.
    """
    root = keystore_dir(directory)
    if not root.is_dir():
        return []
    found: list[KeystoreInfo] = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            address = _declared_address(load_keystore(path))
        except WalletError:
            continue
        if address is not None:
            found.append(KeystoreInfo(address, path))
    return found


def find_keystore(address_or_path: str, directory: Path | str | None = None) -> KeystoreInfo:
    """Resolves an account given as an address (searched in the directory) or as a keystore file path.

    Raises:
        KeystoreNotFoundError: No keystore for that address.
        InputError: Neither an existing file nor an address.
        WalletError: The file is not a keystore.
    """
    candidate = Path(address_or_path).expanduser()
    if candidate.is_file():
        document = load_keystore(candidate)
        address = _declared_address(document)
        if address is None:
            raise WalletError(f"keystore {candidate} declares no address")
        return KeystoreInfo(address, candidate)
    if not is_address(address_or_path):
        raise InputError(f"not an address or a keystore file: {address_or_path}")
    address = Address(to_checksum_address(address_or_path))
    root = keystore_dir(directory)
    for info in list_keystores(root):
        if info.address == address:
            return info
    raise KeystoreNotFoundError(address, str(root))


def unlock(address_or_path: str, password: str, directory: Path | str | None = None) -> Wallet:
    """Finds a keystore and decrypts it into a :class:`~famchain.crypto.wallet.Wallet`.

    Raises:
        KeystoreNotFoundError: No keystore for that address.
        WrongPasswordError: The password does not open it.
        WalletError: The file is not a usable keystore.
    """
    info = find_keystore(address_or_path, directory)
    return Wallet(decrypt_keystore(info.path, password))
