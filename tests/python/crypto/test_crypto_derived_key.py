"""The wallet-derived encryption key: deterministic, bound to account, registry and chain, and as specified."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from famchain.crypto.derived_key import (
    PURPOSE,
    SALT,
    TYPE_STRING,
    derivation_typed_data,
    derive_encryption_key,
    key_from_signature,
)
from famchain.crypto.envelope import EnvelopeContext, open_all, seal
from famchain.crypto.keywrap import address_from_private_key, public_key_from_private
from famchain.crypto.typed_data import hash_typed_data, sign_typed_data
from famchain.errors import InputError
from famchain.types import Address

REPO = Path(__file__).resolve().parents[3]
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
ACCOUNT_KEY = bytes.fromhex("11" * 32)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KNOWN_PRIVATE_KEY = "bec8da222109b03445a3e278589775084a7925f84ff28bc9ab0ee3e2ae8a19b6"
"""The derived key of account key 0x11…11 for REGISTRY on chain 31337 (pins the specification)."""


def _signature(account_key: bytes = ACCOUNT_KEY, **overrides: object) -> bytes:
    params: dict[str, object] = {
        "account": address_from_private_key(account_key),
        "registry": REGISTRY,
        "chain_id": CHAIN_ID,
    }
    params.update(overrides)
    return sign_typed_data(account_key, derivation_typed_data(**params))  # type: ignore[arg-type]


def _hkdf_by_hand(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with HMAC-SHA256, written out (extract, then expand)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def test_the_key_follows_the_documented_steps() -> None:
    account = address_from_private_key(ACCOUNT_KEY)
    signature = _signature()
    s = int.from_bytes(signature[32:64], "big")
    assert s <= N // 2  # eth-account signs low-s, like every wallet
    okm = _hkdf_by_hand(signature[:64], b"famchain encryption key v1", bytes.fromhex(account[2:]), 48)
    expected = (int.from_bytes(okm, "big") % (N - 1) + 1).to_bytes(32, "big")
    derived = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    assert derived.private_key == expected
    assert derived.private_key.hex() == KNOWN_PRIVATE_KEY
    assert derived.public_key == public_key_from_private(expected)
    assert derived.account == account


def test_the_signed_message_is_the_documented_one() -> None:
    data = derivation_typed_data(
        account=address_from_private_key(ACCOUNT_KEY), registry=REGISTRY, chain_id=CHAIN_ID
    )
    assert data["domain"] == {"name": "famchain", "version": "1", "chainId": CHAIN_ID}
    assert data["primaryType"] == "EncryptionKeyDerivation"
    assert [f["name"] + " " + f["type"] for f in data["types"]["EncryptionKeyDerivation"]] == [
        "purpose string",
        "account address",
        "registry address",
    ]
    assert data["message"]["purpose"] == PURPOSE
    assert SALT == b"famchain encryption key v1"


def test_the_same_account_gets_the_same_key_every_time() -> None:
    first = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    again = key_from_signature(
        _signature(), account=address_from_private_key(ACCOUNT_KEY), registry=REGISTRY, chain_id=CHAIN_ID
    )
    assert first == again
    assert first.private_key == again.private_key


@pytest.mark.parametrize(
    "change",
    [{"chain_id": CHAIN_ID + 1}, {"registry": "0x" + "ab" * 20}, {"account_key": bytes.fromhex("22" * 32)}],
    ids=["chain", "registry", "account"],
)
def test_another_chain_registry_or_account_gets_another_key(change: dict[str, object]) -> None:
    base = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    params: dict[str, object] = {"registry": REGISTRY, "chain_id": CHAIN_ID}
    params.update({k: v for k, v in change.items() if k != "account_key"})
    account_key = change.get("account_key", ACCOUNT_KEY)
    other = derive_encryption_key(account_key, **params)  # type: ignore[arg-type]
    assert other.private_key != base.private_key


def test_the_high_s_twin_of_the_signature_gives_the_same_key() -> None:
    signature = _signature()
    s = int.from_bytes(signature[32:64], "big")
    twin = signature[:32] + (N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    account = address_from_private_key(ACCOUNT_KEY)
    low = key_from_signature(signature, account=account, registry=REGISTRY, chain_id=CHAIN_ID)
    high = key_from_signature(twin, account=account, registry=REGISTRY, chain_id=CHAIN_ID)
    assert high.private_key == low.private_key


def test_a_signature_by_another_account_is_refused() -> None:
    victim = address_from_private_key(ACCOUNT_KEY)
    forged = sign_typed_data(
        bytes.fromhex("22" * 32), derivation_typed_data(account=victim, registry=REGISTRY, chain_id=CHAIN_ID)
    )
    with pytest.raises(InputError, match=f"made by {address_from_private_key(bytes.fromhex('22' * 32))}"):
        key_from_signature(forged, account=victim, registry=REGISTRY, chain_id=CHAIN_ID)


def test_a_signature_of_another_message_is_refused() -> None:
    account = address_from_private_key(ACCOUNT_KEY)
    other_chain = _signature(chain_id=CHAIN_ID + 1)
    with pytest.raises(InputError, match="not by account"):
        key_from_signature(other_chain, account=account, registry=REGISTRY, chain_id=CHAIN_ID)


@pytest.mark.parametrize(
    "signature",
    [b"", bytes(64), bytes(66), bytes(65), b"\xff" * 65, _signature()[:64] + b"\x05", "0x" + "00" * 65],
    ids=["empty", "64", "66", "zeros", "ones", "bad-v", "text"],
)
def test_malformed_signatures_are_refused(signature: object) -> None:
    with pytest.raises(InputError):
        key_from_signature(
            signature,  # type: ignore[arg-type]
            account=address_from_private_key(ACCOUNT_KEY),
            registry=REGISTRY,
            chain_id=CHAIN_ID,
        )


@pytest.mark.parametrize("chain_id", [0, -1, 2**256, True, "31337"])
def test_bad_chain_ids_are_refused(chain_id: object) -> None:
    with pytest.raises(InputError):
        derivation_typed_data(account=REGISTRY, registry=REGISTRY, chain_id=chain_id)  # type: ignore[arg-type]


def test_records_sealed_to_the_derived_key_open_with_it() -> None:
    key = derive_encryption_key(ACCOUNT_KEY, registry=REGISTRY, chain_id=CHAIN_ID)
    context = EnvelopeContext(os.urandom(32), key.account, Address(REGISTRY), CHAIN_ID, Address(REGISTRY))
    sealed = seal({"diagnosis": b"J06.9"}, [key.public_key], context)
    assert open_all(sealed, key.private_key, context) == {"diagnosis": b"J06.9"}


def test_an_ethers_wallet_signature_derives_the_same_key() -> None:
    """ethers v6 (what browser wallets are built like) signs deterministically: same signature, same key."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required: run 'make install'")
    account = address_from_private_key(ACCOUNT_KEY)
    data = derivation_typed_data(account=account, registry=REGISTRY, chain_id=CHAIN_ID)
    result = subprocess.run(
        [node, str(REPO / "tests" / "wallet" / "sign.mjs")],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PRIVATE_KEY": "0x" + ACCOUNT_KEY.hex()},
        timeout=120,
        check=True,
    )
    signed = json.loads(result.stdout)
    assert signed["digest"] == "0x" + hash_typed_data(data).hex()
    ethers_signature = bytes.fromhex(signed["signature"][2:])
    assert ethers_signature == _signature()
    derived = key_from_signature(ethers_signature, account=account, registry=REGISTRY, chain_id=CHAIN_ID)
    assert derived.private_key.hex() == KNOWN_PRIVATE_KEY


def test_docs_protocol_states_the_same_derivation() -> None:
    text = " ".join((REPO / "docs" / "protocol.md").read_text(encoding="utf-8").split())
    assert TYPE_STRING in text
    assert PURPOSE in text
    assert f'salt = "{SALT.decode()}"' in text
