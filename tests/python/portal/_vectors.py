"""famchain's crypto v2 vectors, shaped for the browser tests (contexts as the JS modules take them)."""

from __future__ import annotations

import json
from typing import Any

from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope, Withheld
from famchain.crypto.vectors import VECTORS_FILE

DOCUMENT: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
ENVELOPES: dict[str, dict[str, Any]] = {v["name"]: v for v in DOCUMENT["envelopes"]}
BUNDLES: dict[str, dict[str, Any]] = {v["name"]: v for v in DOCUMENT["bundles"]}
KEYS: dict[str, dict[str, str]] = DOCUMENT["keys"]


def private_key(name: str) -> bytes:
    return bytes.fromhex(KEYS[name]["private_key"])


def public_key(name: str) -> bytes:
    return bytes.fromhex(KEYS[name]["public_key"])


def context(name: str) -> EnvelopeContext:
    """The Python context of a vector envelope."""
    c = ENVELOPES[name]["context"]
    return EnvelopeContext(bytes.fromhex(c["salt"]), c["patient"], c["author"], c["chain_id"], c["registry"])


def js_context(ctx: EnvelopeContext) -> dict[str, Any]:
    """A context as envelope.js takes it (``chainId`` as decimal text: JSON numbers stop at 2**53)."""
    return {
        "salt": ctx.salt.hex(),
        "patient": ctx.patient,
        "author": ctx.author,
        "chainId": str(ctx.chain_id),
        "registry": ctx.registry,
    }


def sealed(name: str) -> SealedEnvelope:
    return SealedEnvelope.from_bytes(bytes.fromhex(ENVELOPES[name]["envelope"]))


def as_opens(result: dict[str, bytes | Withheld]) -> dict[str, str | None]:
    """Python's ``open_all`` in the vectors' ``opens`` form."""
    return {n: None if isinstance(v, Withheld) else v.hex() for n, v in result.items()}
