"""Web3 Secret Storage (V3) keystores in a directory, geth style.

Files are named ``UTC--<iso time>--<address, lowercase, no 0x>`` and hold eth-account's V3 JSON. Every
function takes the keystore directory explicitly (the CLI's settings choose it).

The key derivation is a parameter: :meth:`KdfParams.default` (eth-account's scrypt, n=2^18) unless the caller
passes another. :meth:`KdfParams.light` (PBKDF2, 1024 iterations) is **for tests only**: such a keystore falls
to a password guesser quickly, so it is marked in its JSON (``"famchain": {"test_only_kdf": true}``) and
:func:`unlock` refuses it unless the caller says ``allow_test_kdf=True``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from famchain.errors import (
    ConfigError,
    InputError,
    InsecureKeystoreError,
    InvalidKeyError,
    KeystoreNotFoundError,
    WalletError,
    WrongPasswordError,
)
from famchain.i18n import _
from famchain.types import Address, checksum_address

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from famchain.crypto.wallet import Wallet

PRIVATE_KEY_SIZE = 32
LIGHT_PBKDF2_ITERATIONS = 1024
DEFAULT_SCRYPT_N = 1 << 18
DEFAULT_SCRYPT_R = 8
DEFAULT_SCRYPT_P = 1
DEFAULT_PBKDF2_ITERATIONS = 1_000_000
MAX_KEYSTORE_BYTES = 64 * 1024
MARKER = "famchain"
"""Top-level keystore field famchain adds (other wallets ignore unknown fields)."""

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_HEX_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class KdfParams:
    """How a new keystore's key is derived from its password.

    Attributes:
        kdf: ``scrypt`` or ``pbkdf2``.
        iterations: scrypt's ``n`` (a power of two) or PBKDF2's round count.
        test_only: a deliberately weak setting for tests; keystores written with it are marked and refused
            by :func:`unlock` unless allowed.
    """

    kdf: str
    iterations: int
    test_only: bool = False

    @classmethod
    def default(cls) -> KdfParams:
        """eth-account's default: scrypt with n = 2^18, r = 8, p = 1."""
        return cls("scrypt", DEFAULT_SCRYPT_N)

    @classmethod
    def light(cls) -> KdfParams:
        """PBKDF2 with 1024 rounds: **tests only** (marked in the keystore, refused elsewhere)."""
        return cls("pbkdf2", LIGHT_PBKDF2_ITERATIONS, test_only=True)


def weakness(document: dict[str, Any]) -> str | None:
    """Why a keystore's KDF is weaker than :meth:`KdfParams.default`, or None when it is not.

    scrypt below n = 2^18 or r = 8, and PBKDF2 below 1,000,000 rounds (eth-keyfile's default), are weak.
    """
    crypto = document.get("crypto") or document.get("Crypto") or {}
    kdf = str(crypto.get("kdf", "")).lower()
    params = crypto.get("kdfparams") or {}
    try:
        if kdf == "scrypt":
            n, r = int(params.get("n", 0)), int(params.get("r", 0))
            if n < DEFAULT_SCRYPT_N or r < DEFAULT_SCRYPT_R:
                return f"scrypt n={n} r={r} is below the default n={DEFAULT_SCRYPT_N} r={DEFAULT_SCRYPT_R}"
            return None
        if kdf == "pbkdf2":
            c = int(params.get("c", 0))
            if c < DEFAULT_PBKDF2_ITERATIONS:
                return f"pbkdf2 with {c} rounds is below the default {DEFAULT_PBKDF2_ITERATIONS}"
            return None
    except (TypeError, ValueError):
        return f"unreadable {kdf} parameters"
    return f"unknown KDF {kdf!r}"


def is_test_only(document: dict[str, Any]) -> bool:
    """True for a keystore written with :meth:`KdfParams.light` (it carries famchain's test marker)."""
    marker = document.get(MARKER)
    return isinstance(marker, dict) and bool(marker.get("test_only_kdf"))


@dataclass(frozen=True)
class KeystoreInfo:
    """A keystore file and the address it declares."""

    address: Address
    path: Path

    def to_json(self) -> dict[str, str]:
        """``{"address": ..., "path": ...}`` for machine output."""
        return {"address": self.address, "path": str(self.path)}


def keystore_dir(directory: Path | str) -> Path:
    """The keystore directory as a path (``~`` expanded)."""
    return Path(directory).expanduser()


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
        raise ConfigError(
            _("cannot read {what} {path}: {error}").format(
                what=_(what), path=path, error=exc.__class__.__name__
            )
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


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
        raise InvalidKeyError(
            _("private key"), _("expected {digits} hex digits").format(digits=PRIVATE_KEY_SIZE * 2)
        )
    key = bytes.fromhex(text.removeprefix("0x"))
    from famchain.crypto.keywrap import address_from_private_key

    address_from_private_key(key)
    return key


def _check_new_password(password: str) -> None:
    if password == "":
        raise InputError(_("refusing an empty keystore password"))


def _encrypt(private_key: bytes, password: str, kdf: KdfParams) -> dict[str, Any]:
    from eth_account import Account

    if kdf == KdfParams.default():
        document = dict(Account.encrypt(private_key, password))
    else:
        kind: Literal["pbkdf2", "scrypt"] = "pbkdf2" if kdf.kdf == "pbkdf2" else "scrypt"
        document = dict(Account.encrypt(private_key, password, kdf=kind, iterations=kdf.iterations))
    if kdf.test_only:
        document[MARKER] = {"test_only_kdf": True}
    return document


def _write(directory: Path, address: Address, document: dict[str, Any]) -> KeystoreInfo:
    for existing in list_keystores(directory):
        if existing.address == address:
            raise WalletError(
                _("a keystore for {address} already exists: {path}").format(
                    address=address, path=existing.path
                )
            )
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
        raise WalletError(
            _("cannot write keystore in {directory}: {error}").format(directory=directory, error=exc)
        ) from None
    return KeystoreInfo(address, path)


def create_keystore(
    password: str,
    directory: Path | str,
    *,
    private_key: bytes | None = None,
    kdf: KdfParams | None = None,
) -> KeystoreInfo:
    """Creates a keystore for a new random key (or the given one) in the keystore directory.

    Args:
        password: Encrypts the keystore; must not be empty.
        directory: The keystore directory.
        private_key: An existing 32-byte key to store instead of a fresh one.
        kdf: The key derivation (default :meth:`KdfParams.default`).

    Raises:
        InputError: Empty password.
        InvalidKeyError: ``private_key`` is not a valid key.
        WalletError: A keystore for the address exists already, or the file cannot be written.
    """
    from famchain.crypto.keywrap import address_from_private_key

    _check_new_password(password)
    key = private_key if private_key is not None else os.urandom(PRIVATE_KEY_SIZE)
    address = address_from_private_key(key)
    return _write(keystore_dir(directory), address, _encrypt(key, password, kdf or KdfParams.default()))


def import_private_key(
    private_key_hex: str, password: str, directory: Path | str, *, kdf: KdfParams | None = None
) -> KeystoreInfo:
    """Stores a hex private key as a new keystore (see :func:`create_keystore`)."""
    return create_keystore(password, directory, private_key=parse_private_key(private_key_hex), kdf=kdf)


def load_keystore(path: Path | str) -> dict[str, Any]:
    """Reads a V3 keystore JSON document.

    Raises:
        WalletError: Unreadable, too large, not JSON or not a version-3 keystore.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_KEYSTORE_BYTES:
            raise WalletError(_("not a V3 keystore (too large): {path}").format(path=path))
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WalletError(_("cannot read keystore {path}: {error}").format(path=path, error=exc)) from None
    if isinstance(document, dict) and "crypto" not in document and "Crypto" in document:
        # ethers v6 and MyEtherWallet write "Crypto"; geth reads either (Go's JSON keys are case-insensitive).
        document["crypto"] = document.pop("Crypto")
    if (
        not isinstance(document, dict)
        or document.get("version") != 3
        or not isinstance(document.get("crypto"), dict)
    ):
        raise WalletError(_("not a V3 keystore: {path}").format(path=path))
    return document


MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_SCRYPT_N = 1 << 20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16


def _check_kdf_bounds(document: dict[str, Any], path: Path | str) -> None:
    """Refuse KDF parameters no wallet writes before deriving anything: a mangled or hostile keystore must not
    make the key derivation run for hours (or overflow)."""
    crypto = document.get("crypto") or document.get("Crypto")
    if not isinstance(crypto, dict):
        return  # the decryption reports the missing section
    params = crypto.get("kdfparams")
    kdf = str(crypto.get("kdf", "")).lower()
    if not isinstance(params, dict):
        return
    try:
        if kdf == "pbkdf2":
            c = int(params.get("c", 0))
            ok = 1 <= c <= MAX_PBKDF2_ITERATIONS
        elif kdf == "scrypt":
            n, r, p = int(params.get("n", 0)), int(params.get("r", 0)), int(params.get("p", 0))
            ok = (
                2 <= n <= MAX_SCRYPT_N
                and n & (n - 1) == 0
                and 1 <= r <= MAX_SCRYPT_R
                and 1 <= p <= MAX_SCRYPT_P
            )
        else:
            return
        dklen = int(params.get("dklen", 32))
        ok = ok and 32 <= dklen <= 64
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise WalletError(
            _("keystore {path} has {kdf} parameters no wallet writes (out of bounds): refused").format(
                path=path, kdf=kdf
            )
        )


def _declared_address(document: dict[str, Any]) -> Address | None:
    raw = document.get("address")
    if not isinstance(raw, str) or not _HEX_ADDRESS.fullmatch(raw):
        return None
    return checksum_address(raw)


def decrypt_keystore(path: Path | str, password: str) -> bytes:
    """Decrypts a keystore file and returns its 32-byte private key.

    Raises:
        WrongPasswordError: The password does not open it.
        WalletError: The file is not a keystore, uses an unsupported scheme, or holds another address than
            it declares.
    """
    from eth_account import Account

    from famchain.crypto.keywrap import address_from_private_key

    document = load_keystore(path)
    declared = _declared_address(document)
    _check_kdf_bounds(document, path)
    try:
        key = bytes(Account.decrypt(document, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPasswordError(declared) from None
        raise WalletError(_("cannot decrypt keystore {path}: {error}").format(path=path, error=exc)) from None
    except (KeyError, TypeError, OverflowError) as exc:
        raise WalletError(_("not a V3 keystore: {path} ({error})").format(path=path, error=exc)) from None
    actual = address_from_private_key(key)
    if declared is not None and declared != actual:
        raise WalletError(
            _("keystore {path} declares {declared} but holds the key of {actual}").format(
                path=path, declared=declared, actual=actual
            )
        )
    return key


@dataclass(frozen=True)
class ImportedKeystore(KeystoreInfo):
    """A keystore imported into the directory; ``reencrypted`` says why its KDF was replaced (or None)."""

    reencrypted: str | None = None


def import_keystore_file(
    source: Path | str, password: str, directory: Path | str, *, kdf: KdfParams | None = None
) -> ImportedKeystore:
    """Copies an existing V3 keystore into the directory after checking that ``password`` opens it.

    A keystore whose KDF is weaker than the default (:func:`weakness`) is re-encrypted with ``kdf`` (default
    :meth:`KdfParams.default`), same password; a test-only ``kdf`` keeps any KDF (tests import light ones).
    Otherwise the encrypted document is kept as is; only the file name is canonical.

    Raises:
        WrongPasswordError: The password does not open it.
        WalletError: Not a keystore, or the address is already in the directory.
    """
    from famchain.crypto.keywrap import address_from_private_key

    kdf = kdf or KdfParams.default()
    document = load_keystore(source)
    key = decrypt_keystore(source, password)
    address = address_from_private_key(key)
    why = None if kdf.test_only else weakness(document)
    if why is not None:
        document = _encrypt(key, password, kdf)
    document["address"] = address.lower().removeprefix("0x")
    info = _write(keystore_dir(directory), address, document)
    return ImportedKeystore(info.address, info.path, why)


def list_keystores(directory: Path | str) -> list[KeystoreInfo]:
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


def find_keystore(address_or_path: str, directory: Path | str) -> KeystoreInfo:
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
            raise WalletError(_("keystore {path} declares no address").format(path=candidate))
        return KeystoreInfo(address, candidate)
    if not _HEX_ADDRESS.fullmatch(address_or_path.strip()):
        raise InputError(_("not an address or a keystore file: {value}").format(value=address_or_path))
    address = checksum_address(address_or_path)
    root = keystore_dir(directory)
    for info in list_keystores(root):
        if info.address == address:
            return info
    raise KeystoreNotFoundError(address, str(root))


def unlock(
    address_or_path: str, password: str, directory: Path | str, *, allow_test_kdf: bool = False
) -> Wallet:
    """Finds a keystore and decrypts it into a :class:`~famchain.crypto.wallet.Wallet`.

    Args:
        address_or_path: An address in ``directory``, or a keystore file.
        password: Opens it.
        directory: The keystore directory.
        allow_test_kdf: Accept a keystore written with :meth:`KdfParams.light` (tests only).

    Raises:
        KeystoreNotFoundError: No keystore for that address.
        InsecureKeystoreError: A test-only keystore and ``allow_test_kdf`` is False.
        WrongPasswordError: The password does not open it.
        WalletError: The file is not a usable keystore.
    """
    from famchain.crypto.wallet import Wallet

    info = find_keystore(address_or_path, directory)
    if not allow_test_kdf and is_test_only(load_keystore(info.path)):
        raise InsecureKeystoreError(str(info.path))
    return Wallet(decrypt_keystore(info.path, password))


def load_account(keystore_file: Path | str, password: str, *, allow_test_kdf: bool = False) -> LocalAccount:
    """The account in one keystore file, unlocked: what :class:`famchain.Client` takes.

    Raises:
        WrongPasswordError: The password does not open it.
        InsecureKeystoreError: A test-only keystore and ``allow_test_kdf`` is False.
        WalletError: The file is not a usable keystore.
    """
    from eth_account import Account

    path = Path(keystore_file).expanduser()
    wallet = unlock(str(path), password, path.parent, allow_test_kdf=allow_test_kdf)
    account: LocalAccount = Account.from_key(wallet.private_key)
    return account
