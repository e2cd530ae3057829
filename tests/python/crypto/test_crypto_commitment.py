"""Key commitment: a dishonest sealer cannot show two readers two different plaintexts of one section.

AES-GCM is not key-committing: given two keys, one can compute a ciphertext and tag that authenticate under
both ("invisible salamanders", Dodis et al. 2018; Len, Grubbs, Ristenpart 2021). The attack is built here
for real: the GHASH equations are linear in one free ciphertext block, so solving one GF(2^128) equation
makes the tags under K1 and K2 equal. The sealer then wraps K1 for one reader and K2 for another. Without
the commitment both would decrypt; with it, the reader holding K2 is refused before anything is decrypted.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from famchain.crypto import envelope as env
from famchain.crypto._random import system_entropy
from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305, SM4_GCM, get_aead
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope, SealedSection, open_all, open_section
from famchain.crypto.keywrap import EphemeralKey
from famchain.crypto.padding import pad, unpad
from famchain.crypto.wallet import Wallet
from famchain.errors import KeyCommitmentError

# --- GF(2^128) as GCM uses it (NIST SP 800-38D, algorithm 1; bit 0 is the most significant) ---------------

_R = 0xE1 << 120


def _gf_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _gf_pow(x: int, e: int) -> int:
    result = 1 << 127  # the multiplicative identity in GCM's bit order
    while e:
        if e & 1:
            result = _gf_mul(result, x)
        x = _gf_mul(x, x)
        e >>= 1
    return result


def _gf_inv(x: int) -> int:
    return _gf_pow(x, (1 << 128) - 2)


def _block(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _aes_block(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def _ghash(h: int, blocks: list[int]) -> int:
    y = 0
    for block in blocks:
        y = _gf_mul(y ^ block, h)
    return y


def _blocks(data: bytes) -> list[int]:
    padded = data + bytes(-len(data) % 16)
    return [_block(padded[i : i + 16]) for i in range(0, len(padded), 16)]


def _keystream(key: bytes, nonce: bytes, n_blocks: int) -> bytes:
    return b"".join(_aes_block(key, nonce + (i + 2).to_bytes(4, "big")) for i in range(n_blocks))


def gcm_two_key_ciphertext(k1: bytes, k2: bytes, nonce: bytes, aad: bytes, plaintext1: bytes) -> bytes:
    """A ciphertext||tag that AES-GCM accepts under both keys; under ``k1`` it decrypts to ``plaintext1``
    except for its last block, which is solved for."""
    assert len(plaintext1) % 16 == 0
    n = len(plaintext1) // 16
    ks1 = _keystream(k1, nonce, n)
    ciphertext = bytearray(bytes(a ^ b for a, b in zip(plaintext1, ks1, strict=True)))
    ciphertext[-16:] = bytes(16)  # the free block, solved below
    h1, h2 = (_block(_aes_block(k, bytes(16))) for k in (k1, k2))
    lengths = (len(aad) * 8).to_bytes(8, "big") + (len(ciphertext) * 8).to_bytes(8, "big")
    blocks = [*_blocks(aad), *_blocks(bytes(ciphertext)), _block(lengths)]
    j0 = nonce + b"\x00\x00\x00\x01"
    s1 = _block(_aes_block(k1, j0)) ^ _ghash(h1, blocks)
    s2 = _block(_aes_block(k2, j0)) ^ _ghash(h2, blocks)
    exponent = 2  # the last ciphertext block is followed only by the length block
    free = _gf_mul(s1 ^ s2, _gf_inv(_gf_pow(h1, exponent) ^ _gf_pow(h2, exponent)))
    ciphertext[-16:] = free.to_bytes(16, "big")
    blocks[-2] = free
    tag = _block(_aes_block(k1, j0)) ^ _ghash(h1, blocks)
    return bytes(ciphertext) + tag.to_bytes(16, "big")


def test_the_gcm_collision_is_real() -> None:
    k1, k2, nonce, aad = os.urandom(32), os.urandom(32), os.urandom(12), b"associated data"
    forged = gcm_two_key_ciphertext(k1, k2, nonce, aad, os.urandom(64))
    one = AESGCM(k1).decrypt(nonce, forged, aad)
    two = AESGCM(k2).decrypt(nonce, forged, aad)
    assert one != two


def _dishonest_envelope(
    context: EnvelopeContext,
    name: str,
    section: SealedSection,
    grants: list[tuple[Wallet, bytes]],
) -> SealedEnvelope:
    return env._assemble(
        context,
        (section,),
        os.urandom(32),
        EphemeralKey(system_entropy),
        [(w.encryption_public_key, {name: key}) for w, key in grants],
        None,
        [],
        system_entropy,
    )


def test_aes_gcm_two_key_section_is_refused_by_the_commitment(
    patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    name, nonce = "diagnosis", os.urandom(12)
    k1, k2 = os.urandom(32), os.urandom(32)
    aead = get_aead(AES_256_GCM)
    ctx = context.to_bytes()
    commitment = env._commit(k1, ctx, name, aead.ident)  # the sealer can commit to one key only
    aad = env._section_aad(ctx, name, aead.ident, commitment)
    ciphertext = gcm_two_key_ciphertext(k1, k2, nonce, aad, pad(b"J06.9 " + b"x" * 246))
    section = SealedSection(name, AES_256_GCM, commitment, nonce, ciphertext)

    # Without the commitment the attack works: both keys authenticate the same ciphertext.
    shown_to_patient = aead.decrypt(k1, nonce, ciphertext, aad)
    shown_to_doctor = aead.decrypt(k2, nonce, ciphertext, aad)
    assert shown_to_patient != shown_to_doctor
    assert unpad(shown_to_patient, "p").startswith(b"J06.9 ")

    sealed = SealedEnvelope.from_bytes(
        _dishonest_envelope(context, name, section, [(patient, k1), (family_doctor, k2)]).to_bytes()
    )
    assert open_all(sealed, patient.private_key, context)[name].startswith(b"J06.9 ")  # type: ignore[union-attr]
    with pytest.raises(KeyCommitmentError, match="diagnosis"):
        open_all(sealed, family_doctor.private_key, context)
    with pytest.raises(KeyCommitmentError):
        open_section(sealed, name, family_doctor.private_key, context)


@pytest.mark.parametrize("algorithm", [AES_256_GCM, CHACHA20_POLY1305, SM4_GCM])
def test_reader_handed_another_key_in_its_wrap_is_refused(
    algorithm: str, patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    name = "prescriptions"
    k1 = os.urandom(32)
    section = env._encrypt_section(context.to_bytes(), name, get_aead(algorithm), k1, os.urandom(12), b"rest")
    sealed = _dishonest_envelope(context, name, section, [(patient, k1), (family_doctor, os.urandom(32))])
    assert open_all(sealed, patient.private_key, context) == {name: b"rest"}
    with pytest.raises(KeyCommitmentError):
        open_all(sealed, family_doctor.private_key, context)


def test_mac_key_is_committed(envelope: SealedEnvelope, context: EnvelopeContext) -> None:
    with pytest.raises(KeyCommitmentError, match="MAC"):
        env._authenticate(envelope, context.to_bytes(), os.urandom(32))
