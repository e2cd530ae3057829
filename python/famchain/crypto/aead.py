"""Registry of the AEAD algorithms an envelope section may use.

Every algorithm takes a 256-bit section key, a 96-bit nonce and appends a 128-bit tag, so the envelope format
does not depend on the choice. An envelope names a section's algorithm by a one-byte id:

==  =====================  ==========================================================================
id  name                   cipher
==  =====================  ==========================================================================
1   ``aes-256-gcm``        AES-256-GCM (NIST SP 800-38D) under the section key itself
2   ``chacha20-poly1305``  ChaCha20-Poly1305 (RFC 8439) under the section key itself
3   ``sm4-gcm``            SM4-GCM (RFC 8998, GB/T 32907) under a 128-bit subkey of the section key:
                           ``HKDF-SHA256(ikm=key, salt=none, info="famchain sm4-gcm key", L=16)``
==  =====================  ==========================================================================

SM4 keys are 128 bits. Deriving the SM4 key from the 256-bit section key (rather than storing 16-byte keys for
SM4 sections) keeps every key slot, key wrap and key commitment the same size and shape for all algorithms;
the commitment binds the 256-bit key, which determines the subkey.

SM4-GCM runs through pyca ``cryptography`` and its OpenSSL. A build without SM4 fails with
:class:`~famchain.errors.AlgorithmUnavailableError` when a section actually uses it, never at import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.exceptions import UnsupportedAlgorithm as _OpenSSLUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers import algorithms as _ciphers
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from famchain.errors import (
    AlgorithmUnavailableError,
    AuthenticationError,
    CryptoError,
    UnsupportedAlgorithmError,
)
from famchain.i18n import _

KEY_SIZE = 32
"""Bytes in every section key (256 bits)."""
NONCE_SIZE = 12
"""Bytes in every nonce (96 bits)."""
TAG_SIZE = 16
"""Bytes of authentication tag appended to every ciphertext."""

AES_256_GCM = "aes-256-gcm"
CHACHA20_POLY1305 = "chacha20-poly1305"
SM4_GCM = "sm4-gcm"
DEFAULT_AEAD = AES_256_GCM

SM4_KEY_INFO = b"famchain sm4-gcm key"
"""HKDF info that derives the 16-byte SM4 key from a 32-byte section key."""

_Seal = Callable[[bytes, bytes, bytes, bytes], bytes]
"""``(key, nonce, plaintext, aad) -> ciphertext || tag``."""
_Open = Callable[[bytes, bytes, bytes, bytes], bytes]
"""``(key, nonce, ciphertext || tag, aad) -> plaintext``; raises ``InvalidTag``."""


@dataclass(frozen=True)
class Aead:
    """One registered AEAD algorithm.

    Attributes:
        name: The registry name (``aes-256-gcm``, ``chacha20-poly1305``, ``sm4-gcm``).
        ident: The one-byte id written into envelopes.
    """

    name: str
    ident: int
    _seal: _Seal
    _open: _Open

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypts under a caller-chosen nonce (each section key is fresh, so one nonce per key).

        Args:
            key: The 32-byte section key.
            nonce: 12 bytes.
            plaintext: The bytes to encrypt.
            aad: Associated data the tag binds.

        Returns:
            Ciphertext with the 16-byte tag appended.

        Raises:
            AlgorithmUnavailableError: The linked OpenSSL lacks this algorithm.
        """
        _check(key, nonce)
        return self._seal(key, nonce, plaintext, aad)

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
            AlgorithmUnavailableError: The linked OpenSSL lacks this algorithm.
        """
        _check(key, nonce)
        if len(ciphertext) < TAG_SIZE:
            raise AuthenticationError(what)
        try:
            return self._open(key, nonce, ciphertext, aad)
        except InvalidTag:
            raise AuthenticationError(what) from None


def _check(key: bytes, nonce: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise CryptoError(
            _("AEAD key must be {key_size} bytes, got {n_key}").format(key_size=KEY_SIZE, n_key=len(key))
        )
    if len(nonce) != NONCE_SIZE:
        raise CryptoError(
            _("AEAD nonce must be {nonce_size} bytes, got {n_nonce}").format(
                nonce_size=NONCE_SIZE, n_nonce=len(nonce)
            )
        )


def _aes_seal(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, data, aad)


def _aes_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, data, aad)


def _chacha_seal(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(nonce, data, aad)


def _chacha_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return ChaCha20Poly1305(key).decrypt(nonce, data, aad)


def sm4_key(key: bytes) -> bytes:
    """Derives the 16-byte SM4 key of a 32-byte section key (see the module docstring)."""
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=SM4_KEY_INFO).derive(key)


def _sm4_cipher(key16: bytes, mode: modes.GCM) -> Cipher[modes.GCM]:
    try:
        return Cipher(_ciphers.SM4(key16), mode)
    except (_OpenSSLUnsupported, AttributeError) as exc:
        raise AlgorithmUnavailableError(
            SM4_GCM, _("the linked OpenSSL has no SM4-GCM ({exc})").format(exc=exc)
        ) from None


def sm4_gcm_encrypt(key16: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Raw SM4-GCM (RFC 8998) under a 16-byte key: ``ciphertext || tag``.

    Raises:
        AlgorithmUnavailableError: The linked OpenSSL lacks SM4-GCM.
    """
    encryptor = _sm4_cipher(key16, modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def sm4_gcm_decrypt(key16: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """Raw SM4-GCM decryption under a 16-byte key.

    Raises:
        cryptography.exceptions.InvalidTag: The tag does not verify.
        AlgorithmUnavailableError: The linked OpenSSL lacks SM4-GCM.
    """
    if len(data) < TAG_SIZE:
        raise InvalidTag
    decryptor = _sm4_cipher(key16, modes.GCM(nonce, data[-TAG_SIZE:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(data[:-TAG_SIZE]) + decryptor.finalize()


def _sm4_seal(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return sm4_gcm_encrypt(sm4_key(key), nonce, data, aad)


def _sm4_open(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    return sm4_gcm_decrypt(sm4_key(key), nonce, data, aad)


_REGISTRY: dict[str, Aead] = {
    AES_256_GCM: Aead(AES_256_GCM, 1, _aes_seal, _aes_open),
    CHACHA20_POLY1305: Aead(CHACHA20_POLY1305, 2, _chacha_seal, _chacha_open),
    SM4_GCM: Aead(SM4_GCM, 3, _sm4_seal, _sm4_open),
}
_BY_ID: dict[int, Aead] = {a.ident: a for a in _REGISTRY.values()}


def algorithms() -> tuple[str, ...]:
    """Returns the registered algorithm names, default first."""
    return tuple(_REGISTRY)


def get_aead(name: str) -> Aead:
    """Looks up an algorithm by its registry name.

    Args:
        name: ``"aes-256-gcm"``, ``"chacha20-poly1305"`` or ``"sm4-gcm"`` (exact spelling).

    Raises:
        UnsupportedAlgorithmError: The name is not registered.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnsupportedAlgorithmError(str(name), algorithms()) from None


def aead_by_id(ident: int) -> Aead | None:
    """The algorithm with envelope id ``ident``, or None."""
    return _BY_ID.get(ident)


def is_registered(name: str) -> bool:
    """Tells whether ``name`` is a registered algorithm."""
    return name in _REGISTRY


def is_available(name: str) -> bool:
    """Tells whether a registered algorithm runs with the linked OpenSSL (SM4-GCM may not)."""
    aead = get_aead(name)
    try:
        aead.encrypt(bytes(KEY_SIZE), bytes(NONCE_SIZE), b"", b"")
    except AlgorithmUnavailableError:
        return False
    return True
