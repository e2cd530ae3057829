"""EIP-712 messages the contracts verify, built as ``eth_signTypedData_v4`` JSON (docs/protocol.md, EIP-712).

Every builder returns the full typed-data dict (``types`` including ``EIP712Domain``, ``primaryType``,
``domain``, ``message``) with bytes as ``0x`` hex and integers as ints, ready for a wallet, for
:func:`sign_typed_data` or for :func:`hash_typed_data`.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from famchain.crypto.keywrap import PUBLIC_KEY_SIZE
from famchain.errors import InputError
from famchain.types import Address

TypedData = dict[str, Any]
"""An ``eth_signTypedData_v4`` JSON object."""

ContractName = Literal["ResidentRegistry", "ConsentRegistry", "RecordRegistry"]

DOMAIN_VERSION: Final = "1"
ALL_SECTIONS: Final = 0x7F
ALL_ACTIONS: Final = 0x03
MAX_PURPOSE: Final = 4

TYPE_STRINGS: Final[dict[str, str]] = {
    "Registration": "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,"
    "uint256 deadline)",
    "Agreement": "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,"
    "uint256 nonce,uint256 deadline)",
    "Consent": "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint8 purpose,"
    "uint64 expiresAt,uint256 nonce,uint256 deadline)",
    "RecordUpdate": "RecordUpdate(address patient,bytes32 recordId,bytes32 previous,bytes32 cidDigest,"
    "uint32 sections,uint256 nonce,uint256 deadline)",
    "KeyRelease": "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint32 sections,"
    "uint256 nonce,uint256 deadline)",
}
"""The exact type strings of docs/protocol.md; the ``types`` below are parsed from them."""

VERIFIER: Final[dict[str, ContractName]] = {
    "Registration": "ResidentRegistry",
    "Agreement": "ResidentRegistry",
    "Consent": "ConsentRegistry",
    "RecordUpdate": "RecordRegistry",
    "KeyRelease": "RecordRegistry",
}
"""Which contract verifies each message (its domain is used)."""

EIP712_DOMAIN_FIELDS: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _fields(type_string: str) -> list[dict[str, str]]:
    inner = type_string[type_string.index("(") + 1 : -1]
    return [{"name": name, "type": typ} for typ, name in (part.split(" ") for part in inner.split(","))]


MESSAGE_TYPES: Final[dict[str, list[dict[str, str]]]] = {k: _fields(v) for k, v in TYPE_STRINGS.items()}


def type_hash(primary_type: str) -> bytes:
    """keccak256 of a message's type string (the contracts' ``*_TYPEHASH`` constant)."""
    return keccak(text=TYPE_STRINGS[primary_type])


def domain(contract: ContractName, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The EIP-712 domain of a famchain contract.

    Args:
        contract: ``ResidentRegistry``, ``ConsentRegistry`` or ``RecordRegistry``.
        chain_id: The chain id.
        verifying_contract: The deployed contract address.

    Raises:
        InputError: A bad chain id or address.
    """
    return {
        "name": f"famchain {contract}",
        "version": DOMAIN_VERSION,
        "chainId": _uint(chain_id, 256, "chainId", positive=True),
        "verifyingContract": _addr(verifying_contract, "verifyingContract"),
    }


def _typed(primary: str, chain_id: int, verifying_contract: str, message: dict[str, Any]) -> TypedData:
    return {
        "types": {"EIP712Domain": list(EIP712_DOMAIN_FIELDS), primary: list(MESSAGE_TYPES[primary])},
        "primaryType": primary,
        "domain": domain(VERIFIER[primary], chain_id, verifying_contract),
        "message": message,
    }


def _uint(value: int, bits: int, field: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (1 if positive else 0) <= value < 2**bits:
        raise InputError(f"{field} must be a uint{bits}{' above zero' if positive else ''}, got {value!r}")
    return value


def _addr(value: str, field: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{field} is not an Ethereum address: {value!r}")
    return to_checksum_address(value)


def _bytes(value: bytes, size: int | None, field: str) -> str:
    if not isinstance(value, bytes | bytearray) or (size is not None and len(value) != size):
        raise InputError(f"{field} must be {size} bytes")
    return "0x" + bytes(value).hex()


def _sections(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= ALL_SECTIONS:
        raise InputError(f"sections mask must be in 0x01..0x{ALL_SECTIONS:02x}, got {value!r}")
    return value


def _actions(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= ALL_ACTIONS:
        raise InputError(f"actions mask must be in 0x01..0x{ALL_ACTIONS:02x}, got {value!r}")
    return value


def _common(nonce: int, deadline: int) -> dict[str, int]:
    return {"nonce": _uint(nonce, 256, "nonce"), "deadline": _uint(deadline, 256, "deadline")}


def registration(
    *,
    resident: str,
    encryption_key: bytes,
    profile: bytes,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Registration``: a resident registers their encryption key and profile commitment (ResidentRegistry).

    Args:
        resident: The resident's address (the signer).
        encryption_key: The 64-byte secp256k1 public key of ``resident``.
        profile: The 32-byte commitment (digest) of the sealed profile.
        nonce: The resident's current ``nonces(resident)``.
        deadline: Unix time after which the signature is refused.
        chain_id: The chain id.
        verifying_contract: The ResidentRegistry address.

    Raises:
        InputError: A value out of its type's range.
    """
    message = {
        "resident": _addr(resident, "resident"),
        "encryptionKey": _bytes(encryption_key, PUBLIC_KEY_SIZE, "encryptionKey"),
        "profile": _bytes(profile, 32, "profile"),
        **_common(nonce, deadline),
    }
    return _typed("Registration", chain_id, verifying_contract, message)


def agreement(
    *,
    resident: str,
    doctor: str,
    sections: int,
    actions: int,
    term: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Agreement``: the resident's acceptance of a family-doctor agreement (ResidentRegistry).

    Args:
        resident: The resident (signer).
        doctor: The family doctor.
        sections: Section bitmask (0x01..0x7f).
        actions: Action bitmask (READ 0x01, APPEND 0x02).
        term: Agreement length in seconds (uint64).
        nonce: The resident's current nonce.
        deadline: Signature deadline (unix time).
        chain_id: The chain id.
        verifying_contract: The ResidentRegistry address.

    Raises:
        InputError: A value out of range.
    """
    message = {
        "resident": _addr(resident, "resident"),
        "doctor": _addr(doctor, "doctor"),
        "sections": _sections(sections),
        "actions": _actions(actions),
        "term": _uint(term, 64, "term", positive=True),
        **_common(nonce, deadline),
    }
    return _typed("Agreement", chain_id, verifying_contract, message)


def consent(
    *,
    patient: str,
    grantee: str,
    sections: int,
    actions: int,
    purpose: int,
    expires_at: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Consent``: the patient grants a grantee access (ConsentRegistry).

    Args:
        patient: The patient (signer).
        grantee: The practitioner granted access.
        sections: Section bitmask (0x01..0x7f).
        actions: Action bitmask (0x01..0x03).
        purpose: 1 Treatment, 2 Referral, 3 InsuranceClaim, 4 Research.
        expires_at: Unix time the grant ends (uint64).
        nonce: The patient's current nonce.
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The ConsentRegistry address.

    Raises:
        InputError: A value out of range.
    """
    if isinstance(purpose, bool) or not isinstance(purpose, int) or not 0 < purpose <= MAX_PURPOSE:
        raise InputError(f"purpose must be 1..{MAX_PURPOSE}, got {purpose!r}")
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        "sections": _sections(sections),
        "actions": _actions(actions),
        "purpose": purpose,
        "expiresAt": _uint(expires_at, 64, "expiresAt", positive=True),
        **_common(nonce, deadline),
    }
    return _typed("Consent", chain_id, verifying_contract, message)


def record_update(
    *,
    patient: str,
    record_id: bytes,
    previous: bytes,
    cid_digest: bytes,
    sections: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``RecordUpdate``: the patient approves a new version of a record (RecordRegistry).

    Args:
        patient: The patient (signer).
        record_id: The new version's 32-byte record id.
        previous: The 32-byte record id it updates (non-zero).
        cid_digest: The sha2-256 digest of the new sealed envelope's CID.
        sections: Section bitmask of the new version.
        nonce: The patient's current nonce.
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The RecordRegistry address.

    Raises:
        InputError: A value out of range.
    """
    message = {
        "patient": _addr(patient, "patient"),
        "recordId": _bytes(record_id, 32, "recordId"),
        "previous": _bytes(previous, 32, "previous"),
        "cidDigest": _bytes(cid_digest, 32, "cidDigest"),
        "sections": _sections(sections),
        **_common(nonce, deadline),
    }
    return _typed("RecordUpdate", chain_id, verifying_contract, message)


def key_release(
    *,
    patient: str,
    grantee: str,
    bundle_digest: bytes,
    sections: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``KeyRelease``: the patient announces a key-release bundle for a grantee (RecordRegistry).

    Args:
        patient: The patient (signer).
        grantee: The bundle's grantee.
        bundle_digest: The sha2-256 digest of the stored bundle (``KeyBundle.digest``).
        sections: Union bitmask of the released sections.
        nonce: The patient's current nonce.
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The RecordRegistry address.

    Raises:
        InputError: A value out of range.
    """
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        "bundleDigest": _bytes(bundle_digest, 32, "bundleDigest"),
        "sections": _sections(sections),
        **_common(nonce, deadline),
    }
    return _typed("KeyRelease", chain_id, verifying_contract, message)


def hash_typed_data(data: TypedData) -> bytes:
    """The 32-byte EIP-712 digest ``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))``."""
    signable = encode_typed_data(full_message=data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_data(private_key: bytes, data: TypedData) -> bytes:
    """Signs typed data; returns the 65-byte ``r ‖ s ‖ v`` signature (low-s, ``v`` in {27, 28})."""
    signed = Account.sign_typed_data(private_key, full_message=data)
    return bytes(signed.signature)


def recover_typed_data_signer(data: TypedData, signature: bytes) -> Address:
    """Recovers the address that signed ``data`` (the check the contracts make with ``ECDSA.tryRecover``)."""
    signable = encode_typed_data(full_message=data)
    return Address(to_checksum_address(Account.recover_message(signable, signature=signature)))
