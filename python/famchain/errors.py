"""The famchain exception hierarchy.

Every error famchain raises on purpose derives from :class:`FamchainError`. The CLI turns these into a
one-line message and a non-zero exit; anything else is a bug. Each subclass builds its own message from its
arguments, so callers raise ``UnknownCidError(cid)`` rather than formatting strings.
"""

from __future__ import annotations


class FamchainError(Exception):
    """Root of every error famchain raises on purpose."""

    exit_code: int = 1


class ConfigError(FamchainError, ValueError):
    """A setting, path or command-line value is missing or malformed."""


class InputError(FamchainError, ValueError):
    """User-supplied data (a record file, an address, a CID) is malformed."""


class IntegrityError(FamchainError, ValueError):
    """Bytes do not match what they claim to be: a bad tag, a bad hash, a truncated or altered envelope."""


class CryptoError(FamchainError):
    """A cryptographic operation cannot be done (no key for this reader, unsupported algorithm)."""


class NotARecipientError(CryptoError, PermissionError):
    """The reader holds no wrapped key in this envelope."""

    def __init__(self, reader: str, what: str = "this envelope") -> None:
        self.reader = reader
        super().__init__(f"{reader} is not a recipient of {what}")


class WalletError(FamchainError):
    """A keystore cannot be created, found or opened."""


class WrongPasswordError(WalletError, PermissionError):
    """The password does not open the keystore."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        who = f" for {address}" if address else ""
        super().__init__(f"wrong password{who}: the keystore MAC does not match")


class StorageError(FamchainError):
    """The content store failed or is unreachable."""


class StoreUnavailableError(StorageError, ConnectionError):
    """The content store (embedded gateway or Kubo RPC) cannot be reached."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        super().__init__(f"content store at {endpoint} is unreachable: {reason}")


class UnknownCidError(StorageError, LookupError):
    """The content store does not hold this CID."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(f"content {cid} is not in the store")


class ChainError(FamchainError):
    """The chain rejected a call or cannot be reached."""


class RpcUnavailableError(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"RPC endpoint {url} is unreachable: {reason}")


class ContractRevertError(ChainError):
    """A contract call reverted; ``message`` is the decoded custom error in plain words."""

    def __init__(self, message: str, error_name: str | None = None) -> None:
        self.error_name = error_name
        super().__init__(message)


class AccessDeniedError(FamchainError, PermissionError):
    """The caller has no consent or role for what it asked."""
