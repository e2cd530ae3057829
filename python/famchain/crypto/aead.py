"""Registry of the AEAD algorithms an envelope may name.

An envelope section carries the algorithm's registry name, so a reader needs no configuration. Every algorithm
here takes a 256-bit key and a 96-bit nonce and appends a 128-bit tag; the envelope format relies on that.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from famchain.errors import AuthenticationError, CryptoError, UnsupportedAlgorithmError

KEY_SIZE = 32
"""Bytes in every section key (256 bits)."""
NONCE_SIZE = 12
"""Bytes in every nonce (96 bits); always drawn fresh from the OS random source."""
TAG_SIZE = 16
"""Bytes of authentication tag appended to every ciphertext."""

AES_256_GCM = "AES-256-GCM"
CHACHA20_POLY1305 = "ChaCha20-Poly1305"
DEFAULT_AEAD = AES_256_GCM


class _Cipher(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


@dataclass(frozen=True)
class Aead:
    """One registered AEAD algorithm.

    Attributes:
        name: The registry name written into envelopes.
        factory: Builds the cipher object from a key.
    """

    name: str
    factory: Callable[[bytes], _Cipher]

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """Encrypts under a fresh random nonce.

        Args:
            key: A 32-byte key.
            plaintext: The bytes to encrypt.
            aad: Associated data the tag binds.

        Returns:
            ``(nonce, ciphertext_with_tag)``.
        """
        _check_key(key)
        nonce = os.urandom(NONCE_SIZE)
        return nonce, self.factory(key).encrypt(nonce, plaintext, aad)

    def decrypt(
        self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes, what: str = "ciphertext"
    ) -> bytes:
        """Decrypts and authenticates.

        Args:
            key: The 32-byte key.
            nonce: The 12-byte nonce used at encryption.
            ciphertext: Ciphertext with its tag appended.
            aad: The associated data given at encryption.
            what: Names the object in the error message.

        Returns:
            The plaintext.

        Raises:
            AuthenticationError: The tag does not verify (altered bytes, wrong key or wrong AAD).
        """
        _check_key(key)
        if len(nonce) != NONCE_SIZE or len(ciphertext) < TAG_SIZE:
            raise AuthenticationError(what)
        try:
            return self.factory(key).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise AuthenticationError(what) from None


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise CryptoError(f"AEAD key must be {KEY_SIZE} bytes, got {len(key)}")


_REGISTRY: dict[str, Aead] = {
    AES_256_GCM: Aead(AES_256_GCM, AESGCM),
    CHACHA20_POLY1305: Aead(CHACHA20_POLY1305, ChaCha20Poly1305),
}


def algorithms() -> tuple[str, ...]:
    """Returns the registered algorithm names, default first."""
    return tuple(_REGISTRY)


def get_aead(name: str) -> Aead:
    """Looks up an algorithm by its registry name.

    Args:
        name: A name such as ``"AES-256-GCM"`` or ``"ChaCha20-Poly1305"`` (exact spelling).

    Raises:
        UnsupportedAlgorithmError: The name is not registered.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnsupportedAlgorithmError(name, algorithms()) from None


def is_registered(name: str) -> bool:
    """Tells whether ``name`` is a registered algorithm."""
    return name in _REGISTRY
