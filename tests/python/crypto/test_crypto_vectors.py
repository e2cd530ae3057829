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
