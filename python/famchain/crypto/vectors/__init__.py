"""Cross-language test vectors for the v2 envelope, key bundle and share formats (``envelope-v2.json``).

Regenerate with ``python -m famchain.crypto.vectors`` (writes the JSON next to this file); the tests check that
the file equals :func:`generate` and that replaying each vector's recorded random draws reproduces its bytes.

Each envelope vector gives the context, plaintexts, policy, recipients (by name in ``keys``) and emergency
parameters; ``draws`` lists every random value in the order the sealer draws it (see the envelope module
docstring), so another implementation can seal byte for byte; ``envelope`` is the expected hex; and the
intermediate values (header digest, per-section key / commitment / padded size, per-reader ECDH secret, tag,
KEK and wrap nonce, per-custodian shares) help locate a mismatch. ``opens`` gives, per reader, each section's
plaintext hex or null when withheld. Bundle vectors do the same for :func:`~famchain.crypto.envelope.release_keys`
and :func:`~famchain.crypto.emergency.release_shares`; ``combined`` gives what a physician opens from the listed
share bundles.

Nothing here is used by the library at run time; :class:`ScriptedEntropy` and :class:`ReplayEntropy` exist only
for the vectors and tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from famchain.crypto import _codec
from famchain.crypto import envelope as env
from famchain.crypto.bundle import KeyBundle, open_bundle
from famchain.crypto.emergency import _release_shares, open_emergency_shares, open_with_shares
from famchain.crypto.envelope import (
    EmergencyShares,
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    Withheld,
    _release_keys,
    _seal,
    open_all,
)
from famchain.crypto.keywrap import address_from_private_key, ecdh, public_key_from_private
from famchain.crypto.padding import padded_size
from famchain.crypto.policy import CipherPolicy
from famchain.types import Address

VECTORS_FILE = Path(str(resources.files("famchain.crypto.vectors").joinpath("envelope-v2.json")))
"""The packaged vectors (package data, not a source checkout)."""


class ScriptedEntropy:
    """Deterministic "randomness" for vectors: draw ``i`` is SHA-256 in counter mode over ``seed | u32 i``.

    Attributes:
        draws: Every draw so far as ``(what, bytes)``.
    """

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.draws: list[tuple[str, bytes]] = []

    def __call__(self, size: int, what: str) -> bytes:
        index = _codec.u32(len(self.draws))
        blocks = (size + 31) // 32
        out = b"".join(hashlib.sha256(self.seed + index + _codec.u32(b)).digest() for b in range(blocks))
        self.draws.append((what, out[:size]))
        return out[:size]


class ReplayEntropy:
    """Replays recorded draws in order, checking each draw's label and size."""

    def __init__(self, draws: Sequence[tuple[str, bytes]]) -> None:
        self._draws = list(draws)
        self._next = 0

    def __call__(self, size: int, what: str) -> bytes:
        expected_what, value = self._draws[self._next]
        if (expected_what, len(value)) != (what, size):
            raise AssertionError(
                f"draw {self._next}: sealer asks {what!r} ({size}), vector has {expected_what!r}"
            )
        self._next += 1
        return value

    @property
    def exhausted(self) -> bool:
        """Whether every recorded draw was used."""
        return self._next == len(self._draws)


KEYS = {
    name: bytes.fromhex(byte * 32)
    for name, byte in (
        ("patient", "11"),
        ("family_doctor", "22"),
        ("insurer", "33"),
        ("custodian_1", "44"),
        ("custodian_2", "55"),
        ("custodian_3", "66"),
        ("physician", "77"),
    )
}
REGISTRY = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
CHAIN_ID = 31337

SAMPLE = {
    "present_illness": "三天前开始发热、咳嗽".encode(),
    "past_history": b"hypertension since 2019",
    "family_history": b"",
    "diagnosis": b"J06.9 acute upper respiratory infection",
    "prescriptions": b"paracetamol 500 mg prn",
}


def _pub(name: str) -> bytes:
    return public_key_from_private(KEYS[name])


def _context(label: str) -> EnvelopeContext:
    return EnvelopeContext(
        salt=hashlib.sha256(b"famchain vector salt " + label.encode()).digest(),
        patient=address_from_private_key(KEYS["patient"]),
        author=address_from_private_key(KEYS["family_doctor"]),
        chain_id=CHAIN_ID,
        registry=REGISTRY,
    )


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"famchain vector seed " + label.encode()).digest()


def _opens(result: dict[str, bytes | Withheld]) -> dict[str, str | None]:
    return {n: None if isinstance(v, Withheld) else v.hex() for n, v in result.items()}


def _draws(draws: Sequence[tuple[str, bytes]]) -> list[dict[str, str]]:
    return [{"what": what, "hex": value.hex()} for what, value in draws]


ENVELOPES: list[dict[str, Any]] = [
    {
        "name": "minimal",
        "plaintexts": {"diagnosis": b"J06.9"},
        "policy": None,
        "recipients": [("patient", None)],
        "emergency": None,
    },
    {
        "name": "policy",
        "plaintexts": SAMPLE,
        "policy": {
            "default": "aes-256-gcm",
            "sections": {
                "diagnosis": "sm4-gcm",
                "prescriptions": "sm4-gcm",
                "past_history": "chacha20-poly1305",
            },
        },
        "recipients": [
            ("patient", None),
            ("family_doctor", ["diagnosis", "prescriptions", "present_illness"]),
            ("insurer", ["diagnosis"]),
        ],
        "emergency": None,
    },
    {
        "name": "emergency",
        "plaintexts": {
            "diagnosis": b"I21.0 acute transmural myocardial infarction",
            "prescriptions": b"aspirin 300 mg stat",
            "allergies": b"penicillin",
            "attachments": bytes(range(256)) * 4,
        },
        "policy": {"default": "aes-256-gcm", "sections": {"allergies": "sm4-gcm"}},
        "recipients": [("patient", None), ("family_doctor", None)],
        "emergency": {
            "custodians": ["custodian_1", "custodian_2", "custodian_3"],
            "threshold": 2,
            "sections": ["allergies", "diagnosis", "prescriptions"],
        },
    },
]

BUNDLES: list[dict[str, Any]] = [
    {
        "name": "release-to-insurer",
        "kind": "keys",
        "releaser": "patient",
        "grantee": "insurer",
        "grants": [("minimal", None), ("policy", ["past_history", "prescriptions"])],
    },
    {"name": "custodian-1-to-physician", "kind": "shares", "releaser": "custodian_1", "grantee": "physician"},
    {"name": "custodian-3-to-physician", "kind": "shares", "releaser": "custodian_3", "grantee": "physician"},
]


def _seal_vector(spec: dict[str, Any], entropy: Any) -> SealedEnvelope:
    emergency = spec["emergency"]
    return _seal(
        spec["plaintexts"],
        [Recipient(_pub(who), None if s is None else frozenset(s)) for who, s in spec["recipients"]],
        _context(spec["name"]),
        policy=None if spec["policy"] is None else CipherPolicy.from_dict(spec["policy"]),
        emergency=None
        if emergency is None
        else EmergencyShares(
            [_pub(c) for c in emergency["custodians"]],
            emergency["threshold"],
            frozenset(emergency["sections"]),
        ),
        entropy=entropy,
    )


def _envelope_vector(spec: dict[str, Any]) -> tuple[dict[str, Any], SealedEnvelope]:
    entropy = ScriptedEntropy(_seed(spec["name"]))
    sealed = _seal_vector(spec, entropy)
    context = _context(spec["name"])
    ctx = context.to_bytes()
    header = sealed.header_digest(context)
    draws = dict(entropy.draws)
    readers: dict[str, Any] = {}
    for who, _ in spec["recipients"]:
        shared = ecdh(KEYS[who], sealed.ephemeral_public_key)
        tag, kek, nonce = env._entry_secrets(
            shared, sealed.ephemeral_public_key, header, _pub(who), custodian=False
        )
        readers[who] = {
            "shared": shared.hex(),
            "tag": tag.hex(),
            "kek": kek.hex(),
            "wrap_nonce": nonce.hex(),
            "opens": _opens(open_all(sealed, KEYS[who], context)),
        }
    custodians: dict[str, Any] = {}
    for who in (spec["emergency"] or {}).get("custodians", []):
        shared = ecdh(KEYS[who], sealed.ephemeral_public_key)
        tag, kek, nonce = env._entry_secrets(
            shared, sealed.ephemeral_public_key, header, _pub(who), custodian=True
        )
        shares = open_emergency_shares(sealed, KEYS[who], context)
        custodians[who] = {
            "shared": shared.hex(),
            "tag": tag.hex(),
            "kek": kek.hex(),
            "wrap_nonce": nonce.hex(),
            "shares": {n: s.to_bytes().hex() for n, s in shares.items()},
        }
    out = {
        "name": spec["name"],
        "context": {
            "salt": context.salt.hex(),
            "patient": context.patient,
            "author": context.author,
            "chain_id": context.chain_id,
            "registry": context.registry,
        },
        "context_bytes": ctx.hex(),
        "context_digest": context.digest.hex(),
        "plaintexts": {n: v.hex() for n, v in spec["plaintexts"].items()},
        "policy": spec["policy"],
        "recipients": [{"key": who, "sections": s} for who, s in spec["recipients"]],
        "emergency": spec["emergency"],
        "draws": _draws(entropy.draws),
        "ephemeral_private_key": draws["ephemeral private key"].hex(),
        "mac_key": draws["mac key"].hex(),
        "header_digest": header.hex(),
        "sections": [
            {
                "name": s.name,
                "aead": s.algorithm,
                "key": draws[f"section key {s.name}"].hex(),
                "commitment": s.commitment.hex(),
                "nonce": s.nonce.hex(),
                "plaintext_length": len(spec["plaintexts"][s.name]),
                "padded_length": padded_size(len(spec["plaintexts"][s.name])),
                "ciphertext_length": len(s.ciphertext),
            }
            for s in sealed.sections
        ],
        "recipient_entries": sealed.recipient_count,
        "readers": readers,
        "custodians": custodians,
        "envelope": sealed.to_bytes().hex(),
        "envelope_sha256": sealed.digest.hex(),
    }
    return out, sealed


def _bundle_vector(
    spec: dict[str, Any], sealed: dict[str, SealedEnvelope]
) -> tuple[dict[str, Any], KeyBundle]:
    entropy = ScriptedEntropy(_seed(spec["name"]))
    releaser, grantee = KEYS[spec["releaser"]], _pub(spec["grantee"])
    if spec["kind"] == "keys":
        grants = [(sealed[n], _context(n), s) for n, s in spec["grants"]]
        bundle = _release_keys(releaser, grantee, grants, entropy)
        listed = [{"envelope": n, "sections": s} for n, s in spec["grants"]]
        opens = {
            n: _opens(open_all(sealed[n], KEYS[spec["grantee"]], _context(n), bundles=[bundle]))
            for n, _ in spec["grants"]
        }
    else:
        bundle = _release_shares(releaser, grantee, [(sealed["emergency"], _context("emergency"))], entropy)
        listed = [{"envelope": "emergency", "sections": None}]
        opens = {}
    opened = open_bundle(bundle, KEYS[spec["grantee"]])
    shared = ecdh(KEYS[spec["grantee"]], bundle.ephemeral_public_key)
    return {
        "name": spec["name"],
        "kind": spec["kind"],
        "releaser": spec["releaser"],
        "grantee": spec["grantee"],
        "grants": listed,
        "draws": _draws(entropy.draws),
        "shared": shared.hex(),
        "body": opened.body().hex(),
        "bundle": bundle.to_bytes().hex(),
        "opens": opens,
    }, bundle


def generate() -> dict[str, Any]:
    """Builds the whole vector document (deterministic)."""
    envelopes = []
    sealed: dict[str, SealedEnvelope] = {}
    for spec in ENVELOPES:
        vector, envelope = _envelope_vector(spec)
        envelopes.append(vector)
        sealed[spec["name"]] = envelope
    bundles = []
    share_bundles = []
    for spec in BUNDLES:
        vector, bundle = _bundle_vector(spec, sealed)
        bundles.append(vector)
        if spec["kind"] == "shares":
            share_bundles.append(bundle)
    combined = open_with_shares(sealed["emergency"], KEYS["physician"], _context("emergency"), share_bundles)
    return {
        "description": (
            "famchain crypto v2 test vectors: envelopes (FCEV v2), key bundles (FCKB v2), Shamir shares. "
            "Byte layouts and derivations: famchain/crypto/envelope.py, bundle.py, shamir.py, padding.py, aead.py."
        ),
        "keys": {
            name: {
                "private_key": key.hex(),
                "public_key": public_key_from_private(key).hex(),
                "address": address_from_private_key(key),
            }
            for name, key in KEYS.items()
        },
        "envelopes": envelopes,
        "bundles": bundles,
        "combined": {
            "envelope": "emergency",
            "physician": "physician",
            "bundles": [s["name"] for s in BUNDLES if s["kind"] == "shares"],
            "opens": _opens(combined),
        },
    }


def render(document: dict[str, Any]) -> str:
    """The JSON text written to the vectors file."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


__all__ = ["VECTORS_FILE", "ReplayEntropy", "ScriptedEntropy", "generate", "render"]
