"""secp256k1 keys for encryption: ECDH and HKDF, so one Ethereum wallet key both signs and decrypts.

The envelope and key-bundle formats (:mod:`famchain.crypto.envelope`, :mod:`famchain.crypto.bundle`) build
their key wraps from these pieces: :func:`ecdh` (the 32-byte x-coordinate of the shared point, as
``noble-curves`` ``getSharedSecret(priv, pub).slice(1, 33)`` and OpenSSL's ECDH give it) and :func:`hkdf`
(HKDF-SHA256, RFC 5869, with no salt, i.e. 32 zero bytes). The curve arithmetic is libsecp256k1's (through
``coincurve``, which also signs the transactions): about ten times OpenSSL's generic secp256k1 code per ECDH.

Public keys are the 64-byte uncompressed point without the ``0x04`` prefix, the form registered on chain: the
account's address is the last 20 bytes of its keccak-256 (see docs/protocol.md, "Encryption public keys").
"""

from __future__ import annotations

import functools

import coincurve
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from famchain.crypto._random import Entropy
from famchain.errors import InvalidKeyError
from famchain.i18n import _
from famchain.types import Address

PRIVATE_KEY_SIZE = 32
PUBLIC_KEY_SIZE = 64
SHARED_SECRET_SIZE = 32

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _private_key(private_key: bytes) -> coincurve.PrivateKey:
    if not isinstance(private_key, bytes | bytearray) or len(private_key) != PRIVATE_KEY_SIZE:
        raise InvalidKeyError(
            _("private key"), _("expected {private_key_size} bytes").format(private_key_size=PRIVATE_KEY_SIZE)
        )
    return _derive_private(bytes(private_key))


@functools.lru_cache(maxsize=8)
def _derive_private(private_key: bytes) -> coincurve.PrivateKey:
    # Deriving the public key costs a scalar multiplication; a reader opening many envelopes reuses it.
    scalar = int.from_bytes(private_key, "big")
    if not 0 < scalar < _SECP256K1_N:
        raise InvalidKeyError(_("private key"), _("not in the secp256k1 scalar range"))
    return coincurve.PrivateKey(private_key)


def _public_key(public_key: bytes) -> coincurve.PublicKey:
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != PUBLIC_KEY_SIZE:
        raise InvalidKeyError(
            _("public key"),
            _("expected {public_key_size} bytes (uncompressed, no 0x04 prefix)").format(
                public_key_size=PUBLIC_KEY_SIZE
            ),
        )
    try:
        return coincurve.PublicKey(b"\x04" + bytes(public_key))
    except ValueError:
        raise InvalidKeyError(_("public key"), _("not a point on secp256k1")) from None


def _encode_public(key: coincurve.PublicKey) -> bytes:
    return key.format(compressed=False)[1:]


def _shared_x(scalar: bytes, point: coincurve.PublicKey) -> bytes:
    # libsecp256k1's constant-time multiplication; its own ecdh() would hash the point, the format wants x.
    return point.multiply(scalar).format(compressed=False)[1 : 1 + SHARED_SECRET_SIZE]


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
    return _encode_public(_derive_private(private_key).public_key)


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
            raise InvalidKeyError(_("public key"), _("not hexadecimal")) from None
    else:
        raw = bytes(value)
    if len(raw) == PUBLIC_KEY_SIZE + 1 and raw[0] == 4:
        raw = raw[1:]
    _public_key(raw)
    return raw


def is_public_key(value: bytes) -> bool:
    """Tells whether ``value`` is a 64-byte uncompressed secp256k1 point (the parsers' check)."""
    try:
        _public_key(value)
    except InvalidKeyError:
        return False
    return True


def ecdh(private_key: bytes, public_key: bytes) -> bytes:
    """The x-coordinate (32 bytes, big-endian) of ``private_key * public_key`` on secp256k1.

    Raises:
        InvalidKeyError: Either key is malformed.
    """
    return _shared_x(_private_key(private_key).secret, _public_key(public_key))


def hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) with no salt."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


class EphemeralKey:
    """A one-time secp256k1 key held only by the object (never in the module's key caches).

    Attributes:
        private_key: The 32-byte scalar (kept for the test-vector generator, which records it).
        public_key: The 64-byte public key written into the sealed bytes.
    """

    def __init__(self, entropy: Entropy) -> None:
        """Draws 32 bytes, again while they are not a scalar in ``1 .. n-1``."""
        while True:
            candidate = entropy(PRIVATE_KEY_SIZE, "ephemeral private key")
            scalar = int.from_bytes(candidate, "big")
            if 0 < scalar < _SECP256K1_N:
                break
        self.private_key = candidate
        self.public_key = _encode_public(coincurve.PrivateKey(candidate).public_key)

    def exchange(self, public_key: bytes) -> bytes:
        """ECDH x-coordinate with a recipient's 64-byte public key.

        Raises:
            InvalidKeyError: The public key is malformed.
        """
        return _shared_x(self.private_key, _public_key(public_key))
