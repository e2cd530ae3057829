"""Cross-language vectors: the JSON file is what the code produces, and replaying its draws reproduces it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from famchain.crypto.bundle import KeyBundle, open_bundle
from famchain.crypto.emergency import _release_shares, open_with_shares
from famchain.crypto.envelope import SealedEnvelope, Withheld, _release_keys, open_all
from famchain.crypto.vectors import (
    BUNDLES,
    ENVELOPES,
    KEYS,
    VECTORS_FILE,
    ReplayEntropy,
    _context,
    _pub,
    _seal_vector,
    generate,
    render,
)

DOCUMENT: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def _draws(vector: dict[str, Any]) -> ReplayEntropy:
    return ReplayEntropy([(d["what"], bytes.fromhex(d["hex"])) for d in vector["draws"]])


def _opens(result: dict[str, bytes | Withheld]) -> dict[str, str | None]:
    return {n: None if isinstance(v, Withheld) else v.hex() for n, v in result.items()}


def _envelopes() -> dict[str, SealedEnvelope]:
    return {v["name"]: SealedEnvelope.from_bytes(bytes.fromhex(v["envelope"])) for v in DOCUMENT["envelopes"]}


def test_file_is_exactly_what_the_generator_produces() -> None:
    assert VECTORS_FILE.read_text(encoding="utf-8") == render(generate())


@pytest.mark.parametrize("spec", ENVELOPES, ids=[s["name"] for s in ENVELOPES])
def test_replayed_draws_reproduce_the_envelope_byte_for_byte(spec: dict[str, Any]) -> None:
    vector = next(v for v in DOCUMENT["envelopes"] if v["name"] == spec["name"])
    entropy = _draws(vector)
    sealed = _seal_vector(spec, entropy)
    assert entropy.exhausted
    assert sealed.to_bytes().hex() == vector["envelope"]
    assert sealed.digest.hex() == vector["envelope_sha256"]


@pytest.mark.parametrize("vector", DOCUMENT["envelopes"], ids=[v["name"] for v in DOCUMENT["envelopes"]])
def test_vector_envelopes_open_as_recorded(vector: dict[str, Any]) -> None:
    sealed = SealedEnvelope.from_bytes(bytes.fromhex(vector["envelope"]))
    context = _context(vector["name"])
    assert context.to_bytes().hex() == vector["context_bytes"]
    assert sealed.header_digest(context).hex() == vector["header_digest"]
    assert vector["readers"]
    for reader, expected in vector["readers"].items():
        assert _opens(open_all(sealed, KEYS[reader], context)) == expected["opens"]
    for plaintext_hex in vector["plaintexts"].values():
        assert plaintext_hex in {v for r in vector["readers"].values() for v in r["opens"].values()}


@pytest.mark.parametrize("spec", BUNDLES, ids=[s["name"] for s in BUNDLES])
def test_replayed_draws_reproduce_the_bundle_byte_for_byte(spec: dict[str, Any]) -> None:
    vector = next(v for v in DOCUMENT["bundles"] if v["name"] == spec["name"])
    envelopes = _envelopes()
    entropy = _draws(vector)
    releaser, grantee = KEYS[spec["releaser"]], _pub(spec["grantee"])
    if spec["kind"] == "keys":
        grants = [(envelopes[n], _context(n), s) for n, s in spec["grants"]]
        bundle = _release_keys(releaser, grantee, grants, entropy)
    else:
        bundle = _release_shares(
            releaser, grantee, [(envelopes["emergency"], _context("emergency"))], entropy
        )
    assert entropy.exhausted
    assert bundle.to_bytes().hex() == vector["bundle"]
    assert open_bundle(bundle, KEYS[spec["grantee"]]).body().hex() == vector["body"]
    for name, expected in vector["opens"].items():
        opened = open_all(envelopes[name], KEYS[spec["grantee"]], _context(name), bundles=[bundle])
        assert _opens(opened) == expected


def test_combined_shares_open_the_emergency_sections() -> None:
    combined = DOCUMENT["combined"]
    bundles = [
        KeyBundle.from_bytes(bytes.fromhex(v["bundle"]))
        for v in DOCUMENT["bundles"]
        if v["name"] in combined["bundles"]
    ]
    sealed = _envelopes()[combined["envelope"]]
    opened = open_with_shares(sealed, KEYS[combined["physician"]], _context(combined["envelope"]), bundles)
    assert _opens(opened) == combined["opens"]
    assert [n for n, v in combined["opens"].items() if v is not None] == [
        "allergies",
        "diagnosis",
        "prescriptions",
    ]


def test_vectors_cover_every_codec_an_emergency_block_and_dummies() -> None:
    aeads = {s["aead"] for v in DOCUMENT["envelopes"] for s in v["sections"]}
    assert aeads == {"aes-256-gcm", "chacha20-poly1305", "sm4-gcm"}
    assert any(v["custodians"] for v in DOCUMENT["envelopes"])
    assert any(d["what"] == "dummy entry tag" for v in DOCUMENT["envelopes"] for d in v["draws"])


# --- an independent reader written from the envelope module docstring alone --------------------------------


def _hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


def _independent_open(data: bytes, context: bytes, private_key: bytes) -> dict[str, str | None]:
    """Opens an envelope with hashlib/hmac/pyca primitives only, following the documented layout."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        pos += n
        return data[pos - n : pos]

    def num(n: int) -> int:
        return int.from_bytes(take(n), "big")

    assert take(5) == b"FCEV\x02"
    assert take(32) == hashlib.sha256(b"famchain/v2/context" + context).digest()
    ephemeral = take(64)
    sections = []
    for _ in range(num(1)):
        name = take(num(1))
        sections.append((name, num(1), take(32), take(12), take(num(4))))
    mac_commitment = take(32)
    k = num(1)
    n_custodians = 0
    if k:
        _, n_custodians = num(1), num(1)
        take(k)
    n_entries = num(2)
    header = hashlib.sha256(b"famchain/v2/header" + context + data[:pos]).digest()
    entries = dict((take(16), take(56 + 32 * len(sections))) for _ in range(n_entries))
    for _ in range(n_custodians):
        take(16 + 49 + 32 * k)
    mac = take(32)
    assert pos == len(data)

    curve = ec.SECP256K1()
    me = ec.derive_private_key(int.from_bytes(private_key, "big"), curve)
    public = me.public_key().public_numbers()
    pub = public.x.to_bytes(32, "big") + public.y.to_bytes(32, "big")
    shared = me.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + ephemeral))
    tag = _hkdf(shared, b"famchain recipient tag" + ephemeral + pub, 16)
    okm = _hkdf(shared, b"famchain kek" + header + pub, 44)
    blob = AESGCM(okm[:32]).decrypt(okm[32:], entries[tag], tag)
    mac_key, mask = blob[:32], int.from_bytes(blob[32:40], "big")
    label = b"famchain key commitment v2"
    assert hmac.new(mac_key, label + context + b"\x00\x00", "sha256").digest() == mac_commitment
    assert hmac.new(mac_key, b"famchain/v2/mac" + context + data[:-32], "sha256").digest() == mac
    out: dict[str, str | None] = {}
    for i, (name, aead_id, commitment, nonce, ciphertext) in enumerate(sections):
        if not mask >> i & 1:
            out[name.decode()] = None
            continue
        key = blob[40 + 32 * i : 72 + 32 * i]
        bound = context + bytes([len(name)]) + name + bytes([aead_id])
        assert hmac.new(key, label + bound, "sha256").digest() == commitment
        aad = b"famchain/v2/section" + bound + commitment
        if aead_id == 1:
            padded = AESGCM(key).decrypt(nonce, ciphertext, aad)
        elif aead_id == 2:
            padded = ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)
        else:
            sm4 = _hkdf(key, b"famchain sm4-gcm key", 16)
            decryptor = Cipher(algorithms.SM4(sm4), modes.GCM(nonce, ciphertext[-16:])).decryptor()
            decryptor.authenticate_additional_data(aad)
            padded = decryptor.update(ciphertext[:-16]) + decryptor.finalize()
        length = int.from_bytes(padded[:4], "big")
        assert padded[4 + length :] == bytes(len(padded) - 4 - length)
        out[name.decode()] = padded[4 : 4 + length].hex()
    return out


@pytest.mark.parametrize("vector", DOCUMENT["envelopes"], ids=[v["name"] for v in DOCUMENT["envelopes"]])
def test_an_independent_reader_opens_the_vectors(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["envelope"])
    context = bytes.fromhex(vector["context_bytes"])
    for reader, expected in vector["readers"].items():
        private_key = bytes.fromhex(DOCUMENT["keys"][reader]["private_key"])
        assert _independent_open(data, context, private_key) == expected["opens"]
