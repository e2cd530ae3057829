"""AEAD registry and secp256k1 ECIES key wrap."""

from __future__ import annotations

import dataclasses
import os

import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305, DEFAULT_AEAD, algorithms, get_aead
from famchain.crypto.keywrap import (
    WRAP_OVERHEAD,
    WrappedKey,
    address_from_private_key,
    address_from_public_key,
    parse_public_key,
    public_key_from_private,
    unwrap_key,
    wrap_key,
)
from famchain.crypto.wallet import Wallet
from famchain.errors import AuthenticationError, CryptoError, InvalidKeyError, UnsupportedAlgorithmError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# --- aead ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [AES_256_GCM, CHACHA20_POLY1305])
def test_aead_roundtrip_and_tamper(name: str) -> None:
    aead = get_aead(name)
    key = os.urandom(32)
    nonce, ciphertext = aead.encrypt(key, b"secret", b"aad")
    assert len(nonce) == 12
    assert len(ciphertext) == len(b"secret") + 16
    assert aead.decrypt(key, nonce, ciphertext, b"aad") == b"secret"
    with pytest.raises(AuthenticationError):
        aead.decrypt(key, nonce, ciphertext, b"other aad")
    with pytest.raises(AuthenticationError):
        aead.decrypt(key, nonce, ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), b"aad")
    with pytest.raises(AuthenticationError):
        aead.decrypt(os.urandom(32), nonce, ciphertext, b"aad")
    with pytest.raises(AuthenticationError):
        aead.decrypt(key, nonce, ciphertext[:15], b"aad")


def test_aead_registry() -> None:
    assert DEFAULT_AEAD == AES_256_GCM
    assert algorithms()[0] == AES_256_GCM
    assert set(algorithms()) == {AES_256_GCM, CHACHA20_POLY1305}
    with pytest.raises(UnsupportedAlgorithmError, match="AES-128-GCM"):
        get_aead("AES-128-GCM")
    with pytest.raises(CryptoError):
        get_aead(AES_256_GCM).encrypt(b"short", b"x", b"")


def test_aead_nonces_are_fresh() -> None:
    aead = get_aead(AES_256_GCM)
    key = os.urandom(32)
    assert len({aead.encrypt(key, b"x", b"")[0] for _ in range(100)}) == 100


# --- keys ------------------------------------------------------------------------------------------------


def test_public_key_and_address_match_eth_keys_and_eth_account() -> None:
    for _ in range(5):
        private = os.urandom(32)
        pub = public_key_from_private(private)
        assert pub == PrivateKey(private).public_key.to_bytes()
        assert address_from_public_key(pub) == Account.from_key(private).address
        assert address_from_private_key(private) == Account.from_key(private).address


def test_wallet_exposes_address_and_encryption_key() -> None:
    private = os.urandom(32)
    wallet = Wallet(private)
    assert wallet.address == Account.from_key(private).address
    assert wallet.encryption_public_key == public_key_from_private(private)
    assert private.hex() not in repr(wallet)


@pytest.mark.parametrize(
    "private",
    [b"", b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), b"\xff" * 32, b"\x01" * 31],
)
def test_invalid_private_key(private: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        public_key_from_private(private)


def test_invalid_public_key() -> None:
    with pytest.raises(InvalidKeyError):
        address_from_public_key(b"\x01" * 64)
    with pytest.raises(InvalidKeyError):
        address_from_public_key(b"\x01" * 63)
    with pytest.raises(InvalidKeyError):
        parse_public_key("0xzz")


def test_parse_public_key_forms() -> None:
    pub = public_key_from_private(os.urandom(32))
    assert parse_public_key(pub) == pub
    assert parse_public_key(b"\x04" + pub) == pub
    assert parse_public_key("0x" + pub.hex()) == pub
    assert parse_public_key(pub.hex().upper()) == pub


# --- wrap ------------------------------------------------------------------------------------------------


@pytest.fixture
def recipient() -> bytes:
    return os.urandom(32)


def test_wrap_roundtrip(recipient: bytes) -> None:
    secret = os.urandom(96)
    wrapped = wrap_key(secret, public_key_from_private(recipient), info=b"ctx", aad=b"aad")
    assert len(wrapped.to_bytes()) == WRAP_OVERHEAD + len(secret)
    assert WrappedKey.from_bytes(wrapped.to_bytes()) == wrapped
    assert unwrap_key(wrapped, recipient, info=b"ctx", aad=b"aad") == secret


def test_wrap_uses_a_fresh_ephemeral_key(recipient: bytes) -> None:
    pub = public_key_from_private(recipient)
    one = wrap_key(b"k" * 32, pub, info=b"", aad=b"")
    two = wrap_key(b"k" * 32, pub, info=b"", aad=b"")
    assert one.ephemeral_public_key != two.ephemeral_public_key
    assert one.ciphertext != two.ciphertext


def test_non_recipient_cannot_unwrap(recipient: bytes) -> None:
    wrapped = wrap_key(b"k" * 32, public_key_from_private(recipient), info=b"ctx", aad=b"aad")
    with pytest.raises(AuthenticationError):
        unwrap_key(wrapped, os.urandom(32), info=b"ctx", aad=b"aad")


@pytest.mark.parametrize(("info", "aad"), [(b"other", b"aad"), (b"ctx", b"other"), (b"", b"")])
def test_unwrap_with_other_context_fails(recipient: bytes, info: bytes, aad: bytes) -> None:
    wrapped = wrap_key(b"k" * 32, public_key_from_private(recipient), info=b"ctx", aad=b"aad")
    with pytest.raises(AuthenticationError):
        unwrap_key(wrapped, recipient, info=info, aad=aad)


@pytest.mark.parametrize("field", ["ephemeral_public_key", "nonce", "ciphertext"])
def test_tampered_wrap_fails(recipient: bytes, field: str) -> None:
    wrapped = wrap_key(b"k" * 32, public_key_from_private(recipient), info=b"ctx", aad=b"aad")
    value = getattr(wrapped, field)
    for index in (0, len(value) - 1):
        changed = value[:index] + bytes([value[index] ^ 1]) + value[index + 1 :]
        with pytest.raises(AuthenticationError):
            unwrap_key(dataclasses.replace(wrapped, **{field: changed}), recipient, info=b"ctx", aad=b"aad")
