"""AEAD registry (with SM4-GCM against RFC 8998), secp256k1 keys, ECDH and HKDF."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from famchain.crypto.aead import (
    AES_256_GCM,
    CHACHA20_POLY1305,
    DEFAULT_AEAD,
    SM4_GCM,
    aead_by_id,
    algorithms,
    get_aead,
    is_available,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
    sm4_key,
)
from famchain.crypto.keywrap import (
    EphemeralKey,
    address_from_private_key,
    address_from_public_key,
    ecdh,
    hkdf,
    parse_public_key,
    public_key_from_private,
)
from famchain.crypto.wallet import Wallet
from famchain.errors import AuthenticationError, CryptoError, InvalidKeyError, UnsupportedAlgorithmError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# RFC 8998, appendix A.1 (SM4-GCM)
RFC8998_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
RFC8998_IV = bytes.fromhex("00001234567800000000ABCD")
RFC8998_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
RFC8998_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
RFC8998_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


# --- aead ------------------------------------------------------------------------------------------------


def test_sm4_gcm_matches_rfc8998_vector() -> None:
    sealed = sm4_gcm_encrypt(RFC8998_KEY, RFC8998_IV, RFC8998_PLAINTEXT, RFC8998_AAD)
    assert sealed == RFC8998_CIPHERTEXT + RFC8998_TAG
    assert sm4_gcm_decrypt(RFC8998_KEY, RFC8998_IV, sealed, RFC8998_AAD) == RFC8998_PLAINTEXT
    with pytest.raises(InvalidTag):
        sm4_gcm_decrypt(RFC8998_KEY, RFC8998_IV, sealed[:-1] + bytes([sealed[-1] ^ 1]), RFC8998_AAD)


def test_sm4_section_key_is_derived_by_hkdf() -> None:
    key = os.urandom(32)
    assert sm4_key(key) == hkdf(key, b"famchain sm4-gcm key", 16)
    nonce = os.urandom(12)
    sealed = get_aead(SM4_GCM).encrypt(key, nonce, b"diagnosis", b"aad")
    assert sm4_gcm_decrypt(sm4_key(key), nonce, sealed, b"aad") == b"diagnosis"


@pytest.mark.parametrize("name", [AES_256_GCM, CHACHA20_POLY1305, SM4_GCM])
def test_aead_roundtrip_and_tamper(name: str) -> None:
    aead = get_aead(name)
    key, nonce = os.urandom(32), os.urandom(12)
    ciphertext = aead.encrypt(key, nonce, b"secret", b"aad")
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
    assert algorithms() == (AES_256_GCM, CHACHA20_POLY1305, SM4_GCM)
    assert [aead_by_id(i).name for i in (1, 2, 3)] == list(algorithms())  # type: ignore[union-attr]
    assert aead_by_id(0) is None
    assert all(is_available(name) for name in algorithms())
    with pytest.raises(UnsupportedAlgorithmError, match="aes-128-gcm"):
        get_aead("aes-128-gcm")
    with pytest.raises(CryptoError):
        get_aead(AES_256_GCM).encrypt(b"short", bytes(12), b"x", b"")
    with pytest.raises(CryptoError):
        get_aead(AES_256_GCM).encrypt(bytes(32), bytes(11), b"x", b"")


# --- ECDH, HKDF ------------------------------------------------------------------------------------------


def test_ecdh_is_symmetric_and_matches_openssl() -> None:
    a, b = os.urandom(32), os.urandom(32)
    shared = ecdh(a, public_key_from_private(b))
    assert shared == ecdh(b, public_key_from_private(a))
    theirs = ec.derive_private_key(int.from_bytes(a, "big"), ec.SECP256K1()).exchange(
        ec.ECDH(),
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), b"\x04" + public_key_from_private(b)),
    )
    assert shared == theirs
    assert len(shared) == 32


def test_hkdf_matches_rfc5869_case_3() -> None:
    # RFC 5869 test case 3: SHA-256, no salt, no info
    ikm = bytes.fromhex("0b" * 22)
    assert hkdf(ikm, b"", 42).hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_ephemeral_key_redraws_out_of_range_scalars() -> None:
    draws = iter([b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), b"\x01" * 32])
    key = EphemeralKey(lambda size, what: next(draws))
    assert key.private_key == b"\x01" * 32
    assert key.public_key == public_key_from_private(b"\x01" * 32)
    other = os.urandom(32)
    assert key.exchange(public_key_from_private(other)) == ecdh(other, key.public_key)


def test_ecdh_rejects_bad_public_key() -> None:
    with pytest.raises(InvalidKeyError):
        ecdh(os.urandom(32), b"\x01" * 64)


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
