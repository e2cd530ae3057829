"""EIP-712 builders: type strings equal docs/protocol.md, digests equal an independent encoding."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import encode_type
from eth_utils.crypto import keccak

from famchain.crypto import typed_data as td
from famchain.crypto.wallet import Wallet
from famchain.errors import InputError

PROTOCOL = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PATIENT = Wallet(bytes.fromhex("ab" * 32))
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def protocol_type_strings() -> dict[str, str]:
    text = PROTOCOL.read_text(encoding="utf-8")
    block = text.split("Type strings (exact):", 1)[1].split("```", 2)[1]
    lines = [line.strip() for line in block.splitlines() if re.fullmatch(r"\w+\(.*\)", line.strip())]
    return {line.split("(", 1)[0]: line for line in lines}


def test_type_strings_equal_protocol_md() -> None:
    assert protocol_type_strings() == td.TYPE_STRINGS


@pytest.mark.parametrize("primary", sorted(td.TYPE_STRINGS))
def test_types_encode_back_to_the_type_string(primary: str) -> None:
    assert encode_type(primary, td.MESSAGE_TYPES) == td.TYPE_STRINGS[primary]
    assert td.type_hash(primary) == keccak(text=td.TYPE_STRINGS[primary])


BUILDERS: dict[str, Callable[..., td.TypedData]] = {
    "Registration": lambda **c: td.registration(
        resident=PATIENT.address,
        encryption_key=PATIENT.encryption_public_key,
        profile=b"\x01" * 32,
        nonce=0,
        deadline=2**40,
        **c,
    ),
    "Agreement": lambda **c: td.agreement(
        resident=PATIENT.address,
        doctor=OTHER,
        sections=0x7F,
        actions=3,
        term=365 * 86400,
        nonce=1,
        deadline=9,
        **c,
    ),
    "Consent": lambda **c: td.consent(
        patient=PATIENT.address,
        grantee=OTHER,
        sections=0x09,
        actions=1,
        purpose=3,
        expires_at=2**63,
        nonce=2,
        deadline=10,
        **c,
    ),
    "RecordUpdate": lambda **c: td.record_update(
        patient=PATIENT.address,
        record_id=b"\x02" * 32,
        previous=b"\x03" * 32,
        cid_digest=b"\x04" * 32,
        sections=0x10,
        nonce=3,
        deadline=11,
        **c,
    ),
    "KeyRelease": lambda **c: td.key_release(
        patient=PATIENT.address,
        grantee=OTHER,
        bundle_digest=b"\x05" * 32,
        sections=0x40,
        nonce=4,
        deadline=12,
        **c,
    ),
}


def _encode_value(typ: str, value: Any) -> bytes:
    if typ == "bytes":
        return keccak(bytes.fromhex(value[2:]))
    if typ == "bytes32":
        return abi_encode(["bytes32"], [bytes.fromhex(value[2:])])
    return abi_encode([typ], [value])


def independent_digest(data: td.TypedData) -> bytes:
    """EIP-712 digest computed by hand from the type strings, not through eth-account."""
    dom = data["domain"]
    domain_type = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    separator = keccak(
        keccak(text=domain_type)
        + keccak(text=dom["name"])
        + keccak(text=dom["version"])
        + abi_encode(["uint256", "address"], [dom["chainId"], dom["verifyingContract"]])
    )
    primary = data["primaryType"]
    fields = td.MESSAGE_TYPES[primary]
    struct = keccak(
        keccak(text=td.TYPE_STRINGS[primary])
        + b"".join(_encode_value(f["type"], data["message"][f["name"]]) for f in fields)
    )
    return keccak(b"\x19\x01" + separator + struct)


@pytest.mark.parametrize("primary", sorted(BUILDERS))
def test_builder_digest_signature_and_json(primary: str) -> None:
    data = BUILDERS[primary](chain_id=31337, verifying_contract=CONTRACT.lower())
    assert data["primaryType"] == primary
    assert data["domain"] == {
        "name": f"famchain {td.VERIFIER[primary]}",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": CONTRACT,
    }
    assert [f["name"] for f in data["types"]["EIP712Domain"]] == [
        "name",
        "version",
        "chainId",
        "verifyingContract",
    ]
    assert json.loads(json.dumps(data)) == data
    digest = td.hash_typed_data(data)
    assert digest == independent_digest(data)
    signature = td.sign_typed_data(PATIENT.private_key, data)
    assert len(signature) == 65
    assert signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2
    assert td.recover_typed_data_signer(data, signature) == PATIENT.address
    assert Account._recover_hash(digest, signature=signature) == PATIENT.address
    assert PATIENT.sign_typed_data(data) == signature


def test_digest_changes_with_chain_and_contract() -> None:
    base = td.hash_typed_data(BUILDERS["Consent"](chain_id=1, verifying_contract=CONTRACT))
    assert base != td.hash_typed_data(BUILDERS["Consent"](chain_id=2, verifying_contract=CONTRACT))
    assert base != td.hash_typed_data(BUILDERS["Consent"](chain_id=1, verifying_contract=OTHER))


@pytest.mark.parametrize(
    "bad",
    [
        {"sections": 0},
        {"sections": 0x80},
        {"actions": 0},
        {"actions": 4},
        {"purpose": 0},
        {"purpose": 5},
        {"expires_at": 2**64},
        {"nonce": -1},
        {"grantee": "0x1234"},
        {"chain_id": 0},
    ],
)
def test_consent_rejects_out_of_range_values(bad: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "patient": PATIENT.address,
        "grantee": OTHER,
        "sections": 1,
        "actions": 1,
        "purpose": 1,
        "expires_at": 1,
        "nonce": 0,
        "deadline": 0,
        "chain_id": 1,
        "verifying_contract": CONTRACT,
    }
    args.update(bad)
    with pytest.raises(InputError):
        td.consent(**args)


def test_registration_rejects_wrong_key_length() -> None:
    with pytest.raises(InputError):
        td.registration(
            resident=PATIENT.address,
            encryption_key=os.urandom(65),
            profile=b"\x00" * 32,
            nonce=0,
            deadline=0,
            chain_id=1,
            verifying_contract=CONTRACT,
        )


CONTRACTS = PROTOCOL.parents[1] / "contracts"


def test_type_strings_equal_the_contracts_typehash_constants() -> None:
    """Source-level cross-check; the on-chain digest check belongs to the devnet tests."""
    found: dict[str, str] = {}
    verifier: dict[str, str] = {}
    for source in sorted(CONTRACTS.glob("*.sol")):
        text = source.read_text(encoding="utf-8")
        for type_string in re.findall(r'_TYPEHASH\s*=\s*keccak256\(\s*"([^"]+)"\s*\)', text):
            found[type_string.split("(", 1)[0]] = type_string
            verifier[type_string.split("(", 1)[0]] = source.stem
        for name in re.findall(r'SignedMessages\("famchain (\w+)"\)', text):
            assert name == source.stem
    if not found:
        pytest.skip("no contracts with *_TYPEHASH constants in this checkout")
    assert found == td.TYPE_STRINGS
    assert verifier == td.VERIFIER
