"""No personal or medical data reaches the chain: not in calldata, events or storage, not as an unsalted hash.

The demo scenario runs on a fresh deployment; then every transaction's input, every log (topics and data)
and every storage slot of the whole chain state (``anvil_dumpState``) is searched for the scenario's names,
birth date, national ID, phone number and record text, and (v2: consent terms are committed) for the consent
purposes and the other terms' text, raw, as UTF-8 hex, and as unsalted keccak256 / sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3

from famchain.demo import AMENDMENT, PROFILE, VISIT_1, VISIT_2, VISIT_3, VISIT_4, run_demo
from famchain.devnet import DevnetInfo
from famchain.records.sections import Purpose


def _texts() -> list[str]:
    texts = [str(v) for v in PROFILE.values()]

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    for record in (VISIT_1, VISIT_2, VISIT_3, VISIT_4, AMENDMENT):
        texts += [t for t in walk(record) if len(t) >= 6]
    # The consents' terms: purposes and the plain defaults the demo's grants carry (committed, never in clear).
    texts += [p.value for p in Purpose]
    texts += ["diagnosis, prescriptions", "read through famchain", "referral", "insurance claim"]
    return texts


def _needles() -> dict[bytes, str]:
    needles: dict[bytes, str] = {}
    for text in _texts():
        raw = text.encode()
        needles[raw] = f"{text!r} raw"
        needles[keccak(raw)] = f"keccak256({text!r})"
        needles[hashlib.sha256(raw).digest()] = f"sha256({text!r})"
    return needles


def _blobs(w3: Web3) -> Iterator[tuple[str, bytes]]:
    for number in range(w3.eth.block_number + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            yield f"calldata of {tx['hash'].hex()}", bytes(tx["input"])  # type: ignore[index]
    for log in w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"}):
        yield (
            f"log {log['transactionHash'].hex()}#{log['logIndex']}",
            b"".join([bytes(t) for t in log["topics"]] + [bytes(log["data"])]),
        )
    dump = w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    state = json.loads(gzip.decompress(bytes.fromhex(dump["result"][2:])))
    for address, account in state["accounts"].items():
        for slot, value in account.get("storage", {}).items():
            yield (
                f"storage {address}[{slot}]",
                bytes.fromhex(slot[2:].rjust(64, "0")) + bytes.fromhex(value[2:].rjust(64, "0")),
            )


def _find(blobs: Iterator[tuple[str, bytes]]) -> tuple[int, list[str]]:
    needles = _needles()
    hex_needles = {text.encode().hex().encode(): f"{text!r} as hex text" for text in _texts()}
    scanned, found = 0, []
    for where, blob in blobs:
        scanned += 1
        as_hex = blob.hex().encode()
        found += [f"{what} in {where}" for needle, what in needles.items() if needle in blob]
        found += [
            f"{what} in {where}" for needle, what in hex_needles.items() if needle in blob or needle in as_hex
        ]
    return scanned, found


def test_no_personal_or_medical_data_on_chain_after_the_demo(devnet: DevnetInfo, w3: Web3) -> None:
    steps = run_demo(lambda _step: None, devnet.rpc_url, devnet.ipfs_url)
    assert all(step.ok for step in steps)

    scanned, found = _find(_blobs(w3))

    assert scanned > 100
    assert found == []


def test_the_scan_catches_each_form_of_a_leak() -> None:
    """Guards the scan itself: raw, hex-encoded and unsalted-hash leaks are each reported."""
    secret = PROFILE["national_id"]
    leaks = [
        ("raw", b"\x00" * 4 + secret.encode()),
        ("hex", b"\x01" + secret.encode().hex().encode()),
        ("keccak", b"\x02" * 32 + keccak(secret.encode())),
        ("sha256", hashlib.sha256(PROFILE["name"].encode()).digest()),
        ("purpose", b"\x04" * 3 + keccak(Purpose.INSURANCE_CLAIM.value.encode())),
        ("clean", b"\x03" * 64),
    ]

    _, found = _find(iter(leaks))

    assert {f.rsplit(" in ", 1)[1] for f in found} == {"raw", "hex", "keccak", "sha256", "purpose"}
