"""ECIES key wrap to a secp256k1 public key, so one Ethereum wallet key both signs and decrypts.

A wrap is: a fresh ephemeral secp256k1 key; ECDH with the recipient's public key; HKDF-SHA256 over the shared
x-coordinate, with ``info`` binding both public keys and the caller's context; AES-256-GCM of the secret under
the derived key with a random nonce and the caller's associated data.

Public keys are the 64-byte uncompressed point without the ``0x04`` prefix, the form registered on chain: the
account's address is the last 20 bytes of its keccak-256 (see docs/protocol.md, "Encryption public keys").
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from famchain.crypto.aead import AES_256_GCM, NONCE_SIZE, TAG_SIZE, get_aead
from famchain.errors import AuthenticationError, InvalidKeyError
from famchain.types import Address

PRIVATE_KEY_SIZE = 32
PUBLIC_KEY_SIZE = 64
WRAP_OVERHEAD = PUBLIC_KEY_SIZE + NONCE_SIZE + TAG_SIZE
"""Bytes a wrap adds to the wrapped secret: ephemeral public key, nonce and tag."""

_HKDF_SALT = b"famchain/keywrap/v1"
_CURVE = ec.SECP256K1()
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class WrappedKey:
    """A secret wrapped to one recipient.

    Attributes:
        ephemeral_public_key: The sender's one-time public key (64 bytes).
        nonce: The AES-256-GCM nonce (12 bytes).
        ciphertext: The wrapped secret with its 16-byte tag appended.
    """

    ephemeral_public_key: bytes
    nonce: bytes
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        """Serializes as ``ephemeral_public_key ‖ nonce ‖ ciphertext`` (fixed-size fields first)."""
        return self.ephemeral_public_key + self.nonce + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        """Splits the serialized form; the caller has already checked the total length.

        Raises:
            InvalidKeyError: ``data`` is shorter than the fixed overhead.
        """
        if len(data) < WRAP_OVERHEAD:
            raise InvalidKeyError("wrapped key", f"{len(data)} bytes is shorter than {WRAP_OVERHEAD}")
        eph = data[:PUBLIC_KEY_SIZE]
        nonce = data[PUBLIC_KEY_SIZE : PUBLIC_KEY_SIZE + NONCE_SIZE]
        return cls(eph, nonce, data[PUBLIC_KEY_SIZE + NONCE_SIZE :])


def _private_key(private_key: bytes) -> ec.EllipticCurvePrivateKey:
    if not isinstance(private_key, bytes | bytearray) or len(private_key) != PRIVATE_KEY_SIZE:
        raise InvalidKeyError("private key", f"expected {PRIVATE_KEY_SIZE} bytes")
    return _derive_private(bytes(private_key))


@functools.lru_cache(maxsize=8)
def _derive_private(private_key: bytes) -> ec.EllipticCurvePrivateKey:
    # Deriving the key object costs a scalar multiplication; a reader opening many envelopes reuses it.
    scalar = int.from_bytes(private_key, "big")
    if not 0 < scalar < _SECP256K1_N:
        raise InvalidKeyError("private key", "not in the secp256k1 scalar range")
    return ec.derive_private_key(scalar, _CURVE)


def _public_key(public_key: bytes) -> ec.EllipticCurvePublicKey:
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != PUBLIC_KEY_SIZE:
        raise InvalidKeyError(
            "public key", f"expected {PUBLIC_KEY_SIZE} bytes (uncompressed, no 0x04 prefix)"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, b"\x04" + bytes(public_key))
    except ValueError:
        raise InvalidKeyError("public key", "not a point on secp256k1") from None


def _encode_public(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]


def public_key_from_private(private_key: bytes) -> bytes:
    """Derives the 64-byte encryption public key (uncompressed, no ``0x04``) of a secp256k1 private key.

    Args:
        private_key: 32 bytes.

    Raises:
        InvalidKeyError: Not a valid secp256k1 private key.
    """
    _private_key(private_key)
    return _public_of(bytes(private_key))


@functools.lru_cache(maxsize=8)
def _public_of(private_key: bytes) -> bytes:
    return _encode_public(_derive_private(private_key).public_key())


def address_from_public_key(public_key: bytes) -> Address:
    """Computes the checksummed Ethereum address of a 64-byte public key (the contracts' key-binding rule).

    Raises:
        InvalidKeyError: Not 64 bytes or not on the curve.
    """
    _public_key(public_key)
    return Address(to_checksum_address(keccak(bytes(public_key))[12:]))


def address_from_private_key(private_key: bytes) -> Address:
    """Computes the checksummed address of a private key."""
    public_key = public_key_from_private(private_key)
    return Address(to_checksum_address(keccak(public_key)[12:]))


def parse_public_key(value: str | bytes) -> bytes:
    """Normalizes a public key given as 64 or 65 (``0x04``-prefixed) bytes or as hex with or without ``0x``.

    Returns:
        The 64-byte form, checked to be on the curve.

    Raises:
        InvalidKeyError: Not hex, wrong length, or not on the curve.
    """
    raw: bytes
    if isinstance(value, str):
        text = value.removeprefix("0x").removeprefix("0X")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InvalidKeyError("public key", "not hexadecimal") from None
    else:
        raw = bytes(value)
    if len(raw) == PUBLIC_KEY_SIZE + 1 and raw[0] == 4:
        raw = raw[1:]
    _public_key(raw)
    return raw


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes, info: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=ephemeral + recipient + info)
    return hkdf.derive(shared)


def wrap_key(secret: bytes, recipient_public_key: bytes, *, info: bytes, aad: bytes) -> WrappedKey:
    """Wraps ``secret`` so that only the holder of the recipient's private key can unwrap it.

    Args:
        secret: The bytes to protect (one or several 32-byte keys).
        recipient_public_key: The recipient's 64-byte public key.
        info: Context the derived key is bound to (HKDF info, after both public keys).
        aad: Associated data the AEAD tag binds.

    Raises:
        InvalidKeyError: The public key is malformed or not on the curve.
    """
    recipient = _public_key(recipient_public_key)
    ephemeral = ec.generate_private_key(_CURVE)
    eph_pub = _encode_public(ephemeral.public_key())
    shared = ephemeral.exchange(ec.ECDH(), recipient)
    kek = _derive(shared, eph_pub, bytes(recipient_public_key), info)
    nonce = os.urandom(NONCE_SIZE)
    ciphertext = get_aead(AES_256_GCM).factory(kek).encrypt(nonce, secret, aad)
    return WrappedKey(eph_pub, nonce, ciphertext)


def unwrap_key(
    wrapped: WrappedKey, private_key: bytes, *, info: bytes, aad: bytes, what: str = "wrapped key"
) -> bytes:
    """Unwraps a secret with the recipient's private key.

    Args:
        wrapped: The wrap.
        private_key: The recipient's 32-byte private key.
        info: The ``info`` given at wrap time.
        aad: The ``aad`` given at wrap time.
        what: Names the object in the error message.

    Raises:
        InvalidKeyError: The private key is not a valid secp256k1 key.
        AuthenticationError: The wrap was altered, made for another key, or bound to another context
            (an ephemeral key that is not a curve point counts as altered).
    """
    priv = _private_key(private_key)
    try:
        eph = _public_key(wrapped.ephemeral_public_key)
    except InvalidKeyError:
        raise AuthenticationError(what) from None
    shared = priv.exchange(ec.ECDH(), eph)
    kek = _derive(shared, wrapped.ephemeral_public_key, _public_of(bytes(private_key)), info)
    return get_aead(AES_256_GCM).decrypt(kek, wrapped.nonce, wrapped.ciphertext, aad, what)
