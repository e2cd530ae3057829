"""EIP-712 builders: type strings equal docs/protocol.md, digests equal an independent encoding."""

from __future__ import annotations

import dataclasses
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

from famchain.chain.nonces import NonceDomain, keyed_nonce, nonce_key
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
    block = text.split("**Type strings** (exact;", 1)[1].split("```", 2)[1]
    # Each line is the type string, then its `[nonce key; guardian scope]` annotation.
    lines = [line.split("[", 1)[0].strip() for line in block.splitlines() if line.strip()]
    lines = [line for line in lines if re.fullmatch(r"\w+\(.*\)", line)]
    return {line.split("(", 1)[0]: line for line in lines}


def test_type_strings_equal_protocol_md() -> None:
    assert protocol_type_strings() == td.TYPE_STRINGS


@pytest.mark.parametrize("primary", sorted(td.TYPE_STRINGS))
def test_types_encode_back_to_the_type_string(primary: str) -> None:
    assert encode_type(primary, td.MESSAGE_TYPES) == td.TYPE_STRINGS[primary]
    assert td.type_hash(primary) == keccak(text=td.TYPE_STRINGS[primary])


def _nonce(domain: NonceDomain, subject: str | bytes | int = 0, sequence: int = 0) -> int:
    return keyed_nonce(nonce_key(domain, subject), sequence)


TERMS = td.ConsentTerms.new(
    recipient="Dr Wang, Ruijin hospital",
    contact="+86 21 0000 0000",
    purpose="referral",
    data="diagnosis, allergies",
    method="read",
    recordsFrom=0,
    recordsUntil=2**40,
)

BUILDERS: dict[str, Callable[..., td.TypedData]] = {
    "Cancel": lambda **c: td.cancel(
        owner=PATIENT.address,
        key_nonce=_nonce(NonceDomain.CONSENT, OTHER, 5),
        deadline=8,
        contract="ConsentRegistry",
        **c,
    ),
    "Enrollment": lambda **c: td.enrollment(
        practitioner=PATIENT.address,
        institution=OTHER,
        nonce=_nonce(NonceDomain.ENROLLMENT, OTHER),
        deadline=7,
        **c,
    ),
    "Registration": lambda **c: td.registration(
        resident=PATIENT.address,
        encryption_key=PATIENT.encryption_public_key,
        profile=b"\x01" * 32,
        nonce=_nonce(NonceDomain.REGISTRATION),
        deadline=2**40,
        **c,
    ),
    "Profile": lambda **c: td.profile(
        resident=PATIENT.address,
        profile=b"\x06" * 32,
        nonce=_nonce(NonceDomain.PROFILE, 0, 2),
        deadline=3,
        **c,
    ),
    "EncryptionKey": lambda **c: td.encryption_key(
        resident=PATIENT.address,
        encryption_key=PATIENT.encryption_public_key,
        nonce=_nonce(NonceDomain.PROFILE, 0, 3),
        deadline=3,
        **c,
    ),
    "Agreement": lambda **c: td.agreement(
        resident=PATIENT.address,
        doctor=OTHER,
        sections=0xFF,
        actions=3,
        term=365 * 86400,
        nonce=_nonce(NonceDomain.AGREEMENT, OTHER, 1),
        deadline=9,
        **c,
    ),
    "AgreementWithdrawal": lambda **c: td.agreement_withdrawal(
        resident=PATIENT.address, doctor=OTHER, nonce=_nonce(NonceDomain.AGREEMENT, OTHER, 2), deadline=9, **c
    ),
    "Termination": lambda **c: td.termination(
        resident=PATIENT.address, doctor=OTHER, nonce=_nonce(NonceDomain.AGREEMENT, OTHER, 3), deadline=9, **c
    ),
    "Guardian": lambda **c: td.guardian(
        resident=PATIENT.address,
        guardian=OTHER,
        scope=0x3F,
        expires_at=2**40,
        dependent=False,
        nonce=_nonce(NonceDomain.GUARDIAN, OTHER),
        deadline=9,
        **c,
    ),
    "GuardianRemoval": lambda **c: td.guardian_removal(
        resident=PATIENT.address,
        guardian=OTHER,
        nonce=_nonce(NonceDomain.GUARDIAN, OTHER, 1),
        deadline=9,
        **c,
    ),
    "DeletionRequest": lambda **c: td.deletion_request(
        resident=PATIENT.address,
        record_id=b"\x00" * 32,
        nonce=_nonce(NonceDomain.DELETION, 0),
        deadline=9,
        **c,
    ),
    "Consent": lambda **c: td.consent(
        patient=PATIENT.address,
        grantee=OTHER,
        sections=0x89,
        actions=1,
        expires_at=2**63,
        terms=TERMS,
        bundle_digest=b"\x07" * 32,
        bundle_codec=0x55,
        nonce=_nonce(NonceDomain.CONSENT, OTHER, 2),
        deadline=10,
        **c,
    ),
    "Revocation": lambda **c: td.revocation(
        patient=PATIENT.address, grantee=OTHER, nonce=_nonce(NonceDomain.CONSENT, OTHER, 3), deadline=10, **c
    ),
    "Refusal": lambda **c: td.refusal(
        patient=PATIENT.address, grantee=OTHER, nonce=_nonce(NonceDomain.CONSENT, OTHER, 4), deadline=10, **c
    ),
    "RecordUpdate": lambda **c: td.record_update(
        patient=PATIENT.address,
        author=OTHER,
        previous=b"\x03" * 32,
        salt=b"\x02" * 32,
        cid_digest=b"\x04" * 32,
        cid_codec=0x55,
        sections=0x10,
        kind=0,
        nonce=_nonce(NonceDomain.UPDATE, b"\x03" * 32, 3),
        deadline=11,
        **c,
    ),
    "UpdateRefusal": lambda **c: td.update_refusal(
        patient=PATIENT.address,
        previous=b"\x03" * 32,
        record_id=b"\x08" * 32,
        nonce=_nonce(NonceDomain.UPDATE, b"\x03" * 32, 4),
        deadline=11,
        **c,
    ),
    "KeyRelease": lambda **c: td.key_release(
        patient=PATIENT.address,
        grantee=OTHER,
        bundle_digest=b"\x05" * 32,
        bundle_codec=0x70,
        sections=0x40,
        nonce=_nonce(NonceDomain.KEY_RELEASE, OTHER, 4),
        deadline=12,
        **c,
    ),
    "EmergencyChoice": lambda **c: td.emergency_choice(
        resident=PATIENT.address, sections=0x9A, nonce=_nonce(NonceDomain.EMERGENCY), deadline=12, **c
    ),
    "EmergencyReview": lambda **c: td.emergency_review(
        patient=PATIENT.address,
        emergency_id=2,
        contested=False,
        nonce=_nonce(NonceDomain.EMERGENCY, 0, 1),
        deadline=12,
        **c,
    ),
}


def _encode_value(typ: str, value: Any) -> bytes:
    if typ == "bytes":
        return keccak(bytes.fromhex(value[2:]))
    if typ == "string":
        return keccak(value.encode())
    if typ == "bytes32":
        return abi_encode(["bytes32"], [bytes.fromhex(value[2:])])
    if typ == "ConsentTerms":
        fields = td.MESSAGE_TYPES["ConsentTerms"]
        return keccak(
            keccak(text=td.CONSENT_TERMS_TYPE)
            + b"".join(_encode_value(f["type"], value[f["name"]]) for f in fields)
        )
    if typ.startswith("uint"):
        return abi_encode([typ], [int(value)])  # 256-bit numbers travel as decimal strings
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
        "name": f"famchain {td.VERIFIER.get(primary, 'ConsentRegistry')}",
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
        {"sections": 0x100},
        {"actions": 0},
        {"actions": 4},
        {"expires_at": 2**64},
        {"nonce": -1},
        {"nonce": 0},  # key 0: not the Consent/grantee key
        {"nonce": keyed_nonce(nonce_key(NonceDomain.CONSENT, CONTRACT), 0)},  # another grantee's key
        {"nonce": keyed_nonce(nonce_key(NonceDomain.KEY_RELEASE, OTHER), 0)},  # another domain's key
        {"bundle_codec": 0x12},
        {"bundle_digest": b"\x00" * 32, "bundle_codec": 0x55},
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
        "expires_at": 1,
        "terms": TERMS,
        "bundle_digest": b"\x01" * 32,
        "bundle_codec": 0x55,
        "nonce": keyed_nonce(nonce_key(NonceDomain.CONSENT, OTHER), 0),
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
            nonce=keyed_nonce(nonce_key(NonceDomain.REGISTRATION), 0),
            deadline=0,
            chain_id=1,
            verifying_contract=CONTRACT,
        )


CONTRACTS = PROTOCOL.parents[1] / "contracts"


def test_type_strings_equal_the_contracts_typehash_constants() -> None:
    """Source-level cross-check; the on-chain digest check belongs to the devnet tests."""
    found: dict[str, str] = {}
    verifier: dict[str, str] = {}
    for source in sorted(CONTRACTS.rglob("*.sol")):
        text = source.read_text(encoding="utf-8")
        for type_string in re.findall(r'_TYPEHASH\s*=\s*keccak256\(\s*"([^"]+)"\s*\)', text):
            found[type_string.split("(", 1)[0]] = type_string
            verifier[type_string.split("(", 1)[0]] = source.stem
        for name in re.findall(r'SignedMessages\("famchain (\w+)"\)', text):
            assert name == source.stem
    assert found == td.TYPE_STRINGS
    # Cancel is SignedMessages' own: every signing contract verifies it under its own domain.
    assert verifier.pop("Cancel") == "SignedMessages"
    assert verifier == td.VERIFIER


def test_consent_terms_hash_is_the_nested_struct_hash_eip712_signs() -> None:
    data = BUILDERS["Consent"](chain_id=1, verifying_contract=CONTRACT)
    assert _encode_value("ConsentTerms", data["message"]["terms"]) == TERMS.hash_struct()
    # The terms hash changes with any field, the salt included (a purpose cannot be guessed from it).
    assert TERMS.hash_struct() != dataclasses.replace(TERMS, salt=b"\x00" * 32).hash_struct()
    assert TERMS.hash_struct() != dataclasses.replace(TERMS, purpose="research").hash_struct()
    assert td.ConsentTerms.from_message(TERMS.to_message()) == TERMS


def test_large_integers_travel_as_decimal_strings_that_wallets_do_not_round() -> None:
    data = BUILDERS["Consent"](chain_id=1, verifying_contract=CONTRACT)
    assert isinstance(data["message"]["nonce"], str)
    assert int(data["message"]["nonce"]) == _nonce(NonceDomain.CONSENT, OTHER, 2)
    assert isinstance(data["message"]["deadline"], int)
