"""Constants and an independent walker of the documented v2 envelope layout (the test dir is on sys.path)."""

from __future__ import annotations

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337

SECTIONS = {
    "present_illness": "三天前开始发热、咳嗽".encode(),
    "past_history": b"hypertension since 2019",
    "family_history": b"",
    "diagnosis": b"J06.9 acute upper respiratory infection",
    "prescriptions": b"paracetamol 500 mg prn",
}
DOCTOR_SECTIONS = frozenset({"present_illness", "diagnosis", "prescriptions"})
EMERGENCY_SECTIONS = frozenset({"diagnosis", "prescriptions"})

BYTE_CLASSES = (
    "magic",
    "version",
    "context_digest",
    "ephemeral",
    "section_header",
    "commitment",
    "nonce",
    "ciphertext",
    "tag",
    "mac_commitment",
    "emergency",
    "entry_count",
    "recipient_tag",
    "recipient_wrap",
    "custodian_tag",
    "custodian_wrap",
    "mac",
)


def layout(data: bytes) -> dict[str, list[range]]:
    """Byte ranges of each byte class, found by walking the format as documented in envelope.py."""
    out: dict[str, list[range]] = {k: [] for k in BYTE_CLASSES}
    pos = 0

    def span(kind: str, size: int) -> None:
        nonlocal pos
        out[kind].append(range(pos, pos + size))
        pos += size

    span("magic", 4)
    span("version", 1)
    span("context_digest", 32)
    span("ephemeral", 64)
    n_sections = data[pos]
    span("section_header", 1)
    for _ in range(n_sections):
        span("section_header", 1 + data[pos])  # name
        span("section_header", 1)  # aead id
        span("commitment", 32)
        span("nonce", 12)
        size = int.from_bytes(data[pos : pos + 4], "big")
        span("section_header", 4)
        span("ciphertext", size - 16)
        span("tag", 16)
    span("mac_commitment", 32)
    k = data[pos]
    span("emergency", 1)
    n_custodians = 0
    if k:
        n_custodians = data[pos + 1]
        span("emergency", 2 + k)
    n_entries = int.from_bytes(data[pos : pos + 2], "big")
    span("entry_count", 2)
    for _ in range(n_entries):
        span("recipient_tag", 16)
        span("recipient_wrap", 56 + 32 * n_sections)
    for _ in range(n_custodians):
        span("custodian_tag", 16)
        span("custodian_wrap", 49 + 32 * k)
    span("mac", 32)
    assert pos == len(data)
    return out


def flip(data: bytes, index: int, bit: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ bit]) + data[index + 1 :]
