"""Constants shared by the crypto tests (importable: the test directory is on sys.path)."""

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
