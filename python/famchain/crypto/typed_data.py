"""EIP-712 messages the contracts verify, built as ``eth_signTypedData_v4`` JSON (docs/protocol.md, EIP-712).

Every builder returns the full typed-data dict (``types`` including ``EIP712Domain``, ``primaryType``,
``domain``, ``message``) with bytes as ``0x`` hex, ready for a wallet, for :func:`sign_typed_data` or for
:func:`hash_typed_data`. Integers are JSON numbers up to 2**53 - 1 and decimal strings above (a keyed nonce is
a 256-bit number): JavaScript wallets would otherwise round them and sign another value.

Every message carries a keyed nonce (:mod:`famchain.chain.nonces`); each builder refuses a nonce whose key is
not the one the contract requires for that message, so a signature can never be made with the wrong key. The
consent's terms are the nested :class:`ConsentTerms` struct; the chain only ever sees its ``hashStruct``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Final, Literal

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from famchain.chain.nonces import NonceDomain, key_of, nonce_key
from famchain.crypto.keywrap import PUBLIC_KEY_SIZE
from famchain.errors import InputError, shown
from famchain.i18n import _
from famchain.types import Address

TypedData = dict[str, Any]
"""An ``eth_signTypedData_v4`` JSON object."""

ContractName = Literal[
    "Consortium", "ResidentRegistry", "ConsentRegistry", "RecordRegistry", "EmergencyAccess"
]

DOMAIN_VERSION: Final = "1"
ALL_SECTIONS: Final = 0xFF
ALL_ACTIONS: Final = 0x03
ALL_GUARDIAN_SCOPES: Final = 0x3F
RECORD_KINDS: Final = (0, 1)
CODECS: Final = (0x55, 0x70)
MAX_TERM_TEXT: Final = 2000
"""Longest text of one consent-terms field (a wallet must show it)."""
JSON_SAFE_INTEGER: Final = 2**53 - 1

CONSENT_TERMS_TYPE: Final = (
    "ConsentTerms(string recipient,string contact,string purpose,string data,string method,uint64 recordsFrom,"
    "uint64 recordsUntil,bytes32 salt)"
)

_PRIMARY: Final[dict[str, str]] = {
    "Cancel": "Cancel(address owner,uint256 keyNonce,uint256 deadline)",
    "Enrollment": "Enrollment(address practitioner,address institution,uint256 nonce,uint256 deadline)",
    "Registration": "Registration(address resident,bytes encryptionKey,bytes32 profile,uint256 nonce,"
    "uint256 deadline)",
    "Profile": "Profile(address resident,bytes32 profile,uint256 nonce,uint256 deadline)",
    "EncryptionKey": "EncryptionKey(address resident,bytes encryptionKey,uint256 nonce,uint256 deadline)",
    "Agreement": "Agreement(address resident,address doctor,uint32 sections,uint8 actions,uint64 term,"
    "uint256 nonce,uint256 deadline)",
    "AgreementWithdrawal": "AgreementWithdrawal(address resident,address doctor,uint256 nonce,uint256 deadline)",
    "Termination": "Termination(address resident,address doctor,uint256 nonce,uint256 deadline)",
    "Guardian": "Guardian(address resident,address guardian,uint8 scope,uint64 expiresAt,bool dependent,"
    "uint256 nonce,uint256 deadline)",
    "GuardianRemoval": "GuardianRemoval(address resident,address guardian,uint256 nonce,uint256 deadline)",
    "DeletionRequest": "DeletionRequest(address resident,bytes32 recordId,uint256 nonce,uint256 deadline)",
    "Consent": "Consent(address patient,address grantee,uint32 sections,uint8 actions,uint64 expiresAt,"
    "ConsentTerms terms,bytes32 bundleDigest,uint8 bundleCodec,uint256 nonce,uint256 deadline)",
    "Revocation": "Revocation(address patient,address grantee,uint256 nonce,uint256 deadline)",
    "Refusal": "Refusal(address patient,address grantee,uint256 nonce,uint256 deadline)",
    "RecordUpdate": "RecordUpdate(address patient,address author,bytes32 previous,bytes32 salt,"
    "bytes32 cidDigest,uint8 cidCodec,uint32 sections,uint8 kind,uint256 nonce,uint256 deadline)",
    "UpdateRefusal": "UpdateRefusal(address patient,bytes32 previous,bytes32 recordId,uint256 nonce,"
    "uint256 deadline)",
    "KeyRelease": "KeyRelease(address patient,address grantee,bytes32 bundleDigest,uint8 bundleCodec,"
    "uint32 sections,uint256 nonce,uint256 deadline)",
    "EmergencyChoice": "EmergencyChoice(address resident,uint32 sections,uint256 nonce,uint256 deadline)",
    "EmergencyReview": "EmergencyReview(address patient,uint256 id,bool contested,uint256 nonce,uint256 deadline)",
}

TYPE_STRINGS: Final[dict[str, str]] = {
    name: text + (CONSENT_TERMS_TYPE if "ConsentTerms terms" in text else "")
    for name, text in _PRIMARY.items()
}
"""The exact type strings of docs/protocol.md (a nested struct's type appended, per EIP-712); the ``types``
below are parsed from them."""

VERIFIER: Final[dict[str, ContractName]] = {
    "Enrollment": "Consortium",
    "Registration": "ResidentRegistry",
    "Profile": "ResidentRegistry",
    "EncryptionKey": "ResidentRegistry",
    "Agreement": "ResidentRegistry",
    "AgreementWithdrawal": "ResidentRegistry",
    "Termination": "ResidentRegistry",
    "Guardian": "ResidentRegistry",
    "GuardianRemoval": "ResidentRegistry",
    "DeletionRequest": "ResidentRegistry",
    "Consent": "ConsentRegistry",
    "Revocation": "ConsentRegistry",
    "Refusal": "ConsentRegistry",
    "RecordUpdate": "RecordRegistry",
    "UpdateRefusal": "RecordRegistry",
    "KeyRelease": "RecordRegistry",
    "EmergencyChoice": "EmergencyAccess",
    "EmergencyReview": "EmergencyAccess",
}
"""Which contract verifies each message (its domain is used); ``Cancel`` is verified by every contract."""

EIP712_DOMAIN_FIELDS: Final = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _fields(type_string: str) -> list[dict[str, str]]:
    inner = type_string[type_string.index("(") + 1 : type_string.index(")")]
    return [{"name": name, "type": typ} for typ, name in (part.split(" ") for part in inner.split(","))]


MESSAGE_TYPES: Final[dict[str, list[dict[str, str]]]] = {
    **{k: _fields(v) for k, v in _PRIMARY.items()},
    "ConsentTerms": _fields(CONSENT_TERMS_TYPE),
}


def type_hash(primary_type: str) -> bytes:
    """keccak256 of a message's type string (the contracts' ``*_TYPEHASH`` constant)."""
    if primary_type == "ConsentTerms":
        return keccak(text=CONSENT_TERMS_TYPE)
    return keccak(text=TYPE_STRINGS[primary_type])


def domain(contract: ContractName, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The EIP-712 domain of a famchain contract.

    Args:
        contract: ``Consortium``, ``ResidentRegistry``, ``ConsentRegistry``, ``RecordRegistry`` or
            ``EmergencyAccess``.
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


def _typed(
    primary: str,
    chain_id: int,
    verifying_contract: str,
    message: dict[str, Any],
    contract: ContractName | None = None,
) -> TypedData:
    types = {"EIP712Domain": list(EIP712_DOMAIN_FIELDS), primary: list(MESSAGE_TYPES[primary])}
    if "ConsentTerms terms" in _PRIMARY[primary]:
        types["ConsentTerms"] = list(MESSAGE_TYPES["ConsentTerms"])
    return {
        "types": types,
        "primaryType": primary,
        "domain": domain(contract or VERIFIER[primary], chain_id, verifying_contract),
        "message": message,
    }


def _json_int(value: int) -> int | str:
    return value if value <= JSON_SAFE_INTEGER else str(value)


def _uint(value: int, bits: int, field: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (1 if positive else 0) <= value < 2**bits:
        raise InputError(
            _("{field} must be a uint{bits}{above}, got {shown}").format(
                field=field, bits=bits, above=_(" above zero") if positive else "", shown=shown(value)
            )
        )
    return value


def _addr(value: str, field: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(_("{field} is not an Ethereum address: {value!r}").format(field=field, value=value))
    return to_checksum_address(value)


def _bytes(value: bytes, size: int | None, field: str) -> str:
    if not isinstance(value, bytes | bytearray) or (size is not None and len(value) != size):
        raise InputError(_("{field} must be {size} bytes").format(field=field, size=size))
    return "0x" + bytes(value).hex()


def _sections(value: int, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= ALL_SECTIONS:
        raise InputError(
            _("sections mask must be in 0x{low:02x}..0x{all_sections:02x}, got {shown}").format(
                low=low, all_sections=ALL_SECTIONS, shown=shown(value)
            )
        )
    return value


def _actions(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= ALL_ACTIONS:
        raise InputError(
            _("actions mask must be in 0x01..0x{all_actions:02x}, got {shown}").format(
                all_actions=ALL_ACTIONS, shown=shown(value)
            )
        )
    return value


def _codec(value: int, field: str, *, allow_zero: bool = False) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (value not in CODECS and not (allow_zero and value == 0))
    ):
        raise InputError(
            _("{field} must be 0x55 (raw) or 0x70 (dag-pb), got {shown}").format(
                field=field, shown=shown(value)
            )
        )
    return value


def _nonce(nonce: int, domain_: NonceDomain, subject: str | bytes | int) -> int | str:
    """A keyed nonce checked against the key the message requires."""
    value = _uint(nonce, 256, "nonce")
    expected = nonce_key(domain_, subject)
    if key_of(value) != expected:
        raise InputError(
            _(
                "nonce {value:#x} carries key {key_of:#x}, but a {title} signature needs key {expected:#x} (read it with nonces(owner, key))"
            ).format(value=value, key_of=key_of(value), title=domain_.name.title(), expected=expected)
        )
    return _json_int(value)


def _common(nonce: int, deadline: int, domain_: NonceDomain, subject: str | bytes | int) -> dict[str, Any]:
    return {"nonce": _nonce(nonce, domain_, subject), "deadline": _json_int(_uint(deadline, 256, "deadline"))}


def _text(value: str, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(_("consent terms: {field} must be text").format(field=field))
    if len(value) > MAX_TERM_TEXT:
        raise InputError(
            _("consent terms: {field} is longer than {max_term_text} characters").format(
                field=field, max_term_text=MAX_TERM_TEXT
            )
        )
    return value


@dataclass(frozen=True)
class ConsentTerms:
    """The consent's content as PIPL requires it (recipient, contact, purpose, data, method, records' dates),
    committed on chain only as :meth:`hash_struct`: the random ``salt`` stops anyone guessing a purpose from the
    hash. The terms and the salt (the "opening") stay with the patient and the grantee.

    Attributes:
        recipient: who receives the data (the grantee and its institution).
        contact: how to reach the recipient.
        purpose: why (e.g. ``referral``, ``insurance-claim``).
        data: what data (the sections).
        method: how it is processed (read, append).
        recordsFrom: earliest record time covered (unix seconds; 0: no bound).
        recordsUntil: latest record time covered (unix seconds; 0: no bound).
        salt: 32 random bytes.
    """

    recipient: str
    contact: str
    purpose: str
    data: str
    method: str
    recordsFrom: int = 0
    recordsUntil: int = 0
    salt: bytes = b"\x00" * 32

    def __post_init__(self) -> None:
        for name in ("recipient", "contact", "purpose", "data", "method"):
            _text(getattr(self, name), name)
        _uint(self.recordsFrom, 64, "recordsFrom")
        _uint(self.recordsUntil, 64, "recordsUntil")
        if self.recordsUntil and self.recordsFrom > self.recordsUntil:
            raise InputError(_("consent terms: recordsFrom is after recordsUntil"))
        if not isinstance(self.salt, bytes | bytearray) or len(self.salt) != 32:
            raise InputError(_("consent terms: salt must be 32 bytes"))
        object.__setattr__(self, "salt", bytes(self.salt))

    @classmethod
    def new(cls, **fields: Any) -> ConsentTerms:
        """Terms with a fresh random salt."""
        return cls(**{**fields, "salt": os.urandom(32)})

    def covers(self, timestamp: int) -> bool:
        """True when a record anchored at ``timestamp`` falls in ``[recordsFrom, recordsUntil]`` (0: open)."""
        return timestamp >= self.recordsFrom and (self.recordsUntil == 0 or timestamp <= self.recordsUntil)

    def to_message(self) -> dict[str, Any]:
        """The nested struct as typed-data JSON."""
        return {
            "recipient": self.recipient,
            "contact": self.contact,
            "purpose": self.purpose,
            "data": self.data,
            "method": self.method,
            "recordsFrom": _json_int(self.recordsFrom),
            "recordsUntil": _json_int(self.recordsUntil),
            "salt": "0x" + self.salt.hex(),
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ConsentTerms:
        """Inverse of :meth:`to_message` (the opening as a signed consent file carries it).

        Raises:
            InputError: a missing or malformed field.
        """
        try:
            return cls(
                str(message["recipient"]),
                str(message["contact"]),
                str(message["purpose"]),
                str(message["data"]),
                str(message["method"]),
                int(message["recordsFrom"]),
                int(message["recordsUntil"]),
                bytes.fromhex(str(message["salt"]).removeprefix("0x")),
            )
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                _("consent terms are malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
            ) from None

    def hash_struct(self) -> bytes:
        """``hashStruct(ConsentTerms)``: the ``bytes32 terms`` the contract receives and announces."""
        return keccak(
            abi_encode(
                ["bytes32"] * 6 + ["uint64", "uint64", "bytes32"],
                [
                    type_hash("ConsentTerms"),
                    keccak(text=self.recipient),
                    keccak(text=self.contact),
                    keccak(text=self.purpose),
                    keccak(text=self.data),
                    keccak(text=self.method),
                    self.recordsFrom,
                    self.recordsUntil,
                    self.salt,
                ],
            )
        )


# --- builders --------------------------------------------------------------------------------------------


def cancel(
    *,
    owner: str,
    key_nonce: int,
    deadline: int,
    contract: ContractName,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Cancel``: the owner (or one of its guardians) kills the outstanding signature carrying ``key_nonce``.

    Args:
        owner: Whose nonce (the signer of the signature to kill).
        key_nonce: The full keyed nonce to consume (the current one of its key).
        deadline: Signature deadline.
        contract: The contract whose nonce it is (each contract keeps its own nonces).
        chain_id: The chain id.
        verifying_contract: That contract's address.

    Raises:
        InputError: A value out of range.
    """
    message = {
        "owner": _addr(owner, "owner"),
        "keyNonce": _json_int(_uint(key_nonce, 256, "keyNonce")),
        "deadline": _json_int(_uint(deadline, 256, "deadline")),
    }
    return _typed("Cancel", chain_id, verifying_contract, message, contract)


def enrollment(
    *, practitioner: str, institution: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``Enrollment``: a practitioner agrees to be registered by ``institution`` (Consortium).

    Args:
        practitioner: The practitioner (signer).
        institution: The admin address of the institution that will register it.
        nonce: The practitioner's keyed nonce (Enrollment/institution).
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The Consortium address.

    Raises:
        InputError: A value out of range, or a nonce of another key.
    """
    message = {
        "practitioner": _addr(practitioner, "practitioner"),
        "institution": _addr(institution, "institution"),
        **_common(nonce, deadline, NonceDomain.ENROLLMENT, institution),
    }
    return _typed("Enrollment", chain_id, verifying_contract, message)


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
        encryption_key: The 64-byte secp256k1 public key to register.
        profile: The 32-byte commitment (digest) of the sealed profile.
        nonce: The resident's keyed nonce (Registration/0).
        deadline: Unix time after which the signature is refused.
        chain_id: The chain id.
        verifying_contract: The ResidentRegistry address.

    Raises:
        InputError: A value out of its type's range, or a nonce of another key.
    """
    message = {
        "resident": _addr(resident, "resident"),
        "encryptionKey": _bytes(encryption_key, PUBLIC_KEY_SIZE, "encryptionKey"),
        "profile": _bytes(profile, 32, "profile"),
        **_common(nonce, deadline, NonceDomain.REGISTRATION, 0),
    }
    return _typed("Registration", chain_id, verifying_contract, message)


def profile(
    *, resident: str, profile: bytes, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``Profile``: the resident (or a PROFILE guardian) replaces the profile commitment (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Profile/0).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "profile": _bytes(profile, 32, "profile"),
        **_common(nonce, deadline, NonceDomain.PROFILE, 0),
    }
    return _typed("Profile", chain_id, verifying_contract, message)


def encryption_key(
    *, resident: str, encryption_key: bytes, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``EncryptionKey``: the resident sets a new encryption key (a derived browser key, say) (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Profile/0).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "encryptionKey": _bytes(encryption_key, PUBLIC_KEY_SIZE, "encryptionKey"),
        **_common(nonce, deadline, NonceDomain.PROFILE, 0),
    }
    return _typed("EncryptionKey", chain_id, verifying_contract, message)


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
        sections: Section bitmask (0x01..0xff).
        actions: Action bitmask (READ 0x01, APPEND 0x02).
        term: Agreement length in seconds (uint64).
        nonce: The resident's keyed nonce (Agreement/doctor).
        deadline: Signature deadline (unix time).
        chain_id: The chain id.
        verifying_contract: The ResidentRegistry address.

    Raises:
        InputError: A value out of range, or a nonce of another key.
    """
    message = {
        "resident": _addr(resident, "resident"),
        "doctor": _addr(doctor, "doctor"),
        "sections": _sections(sections),
        "actions": _actions(actions),
        "term": _json_int(_uint(term, 64, "term", positive=True)),
        **_common(nonce, deadline, NonceDomain.AGREEMENT, doctor),
    }
    return _typed("Agreement", chain_id, verifying_contract, message)


def agreement_withdrawal(
    *, resident: str, doctor: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``AgreementWithdrawal``: the resident refuses or withdraws the pair's proposal (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Agreement/doctor).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "doctor": _addr(doctor, "doctor"),
        **_common(nonce, deadline, NonceDomain.AGREEMENT, doctor),
    }
    return _typed("AgreementWithdrawal", chain_id, verifying_contract, message)


def termination(
    *, resident: str, doctor: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``Termination``: the resident ends the agreement with ``doctor`` (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Agreement/doctor).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "doctor": _addr(doctor, "doctor"),
        **_common(nonce, deadline, NonceDomain.AGREEMENT, doctor),
    }
    return _typed("Termination", chain_id, verifying_contract, message)


def guardian(
    *,
    resident: str,
    guardian: str,
    scope: int,
    expires_at: int,
    dependent: bool,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Guardian``: the resident appoints a guardian (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Guardian/guardian).
    """
    if isinstance(scope, bool) or not isinstance(scope, int) or not 0 < scope <= ALL_GUARDIAN_SCOPES:
        raise InputError(
            _("guardian scope must be in 0x01..0x{all_guardian_scopes:02x}, got {shown}").format(
                all_guardian_scopes=ALL_GUARDIAN_SCOPES, shown=shown(scope)
            )
        )
    if not isinstance(dependent, bool):
        raise InputError(_("dependent must be true or false"))
    message = {
        "resident": _addr(resident, "resident"),
        "guardian": _addr(guardian, "guardian"),
        "scope": scope,
        "expiresAt": _json_int(_uint(expires_at, 64, "expiresAt", positive=True)),
        "dependent": dependent,
        **_common(nonce, deadline, NonceDomain.GUARDIAN, guardian),
    }
    return _typed("Guardian", chain_id, verifying_contract, message)


def guardian_removal(
    *, resident: str, guardian: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``GuardianRemoval``: the resident dismisses a guardian (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Guardian/guardian).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "guardian": _addr(guardian, "guardian"),
        **_common(nonce, deadline, NonceDomain.GUARDIAN, guardian),
    }
    return _typed("GuardianRemoval", chain_id, verifying_contract, message)


def deletion_request(
    *, resident: str, record_id: bytes, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``DeletionRequest``: the resident asks for a record (zero id: the whole card) to be erased after its
    retention (ResidentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Deletion/recordId).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "recordId": _bytes(record_id, 32, "recordId"),
        **_common(nonce, deadline, NonceDomain.DELETION, bytes(record_id)),
    }
    return _typed("DeletionRequest", chain_id, verifying_contract, message)


def consent(
    *,
    patient: str,
    grantee: str,
    sections: int,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    bundle_digest: bytes,
    bundle_codec: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``Consent``: the patient grants a grantee access, with committed terms and the key bundle of the records
    already on the card (ConsentRegistry).

    Args:
        patient: The patient (signer).
        grantee: The practitioner granted access.
        sections: Section bitmask (0x01..0xff).
        actions: Action bitmask (0x01..0x03).
        expires_at: Unix time the grant ends (uint64).
        terms: The consent terms (the wallet shows them; the chain sees their hash).
        bundle_digest: The sha2-256 digest of the stored key bundle (zero: none).
        bundle_codec: 0x55 raw or 0x70 dag-pb (0 with no bundle).
        nonce: The patient's keyed nonce (Consent/grantee).
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The ConsentRegistry address.

    Raises:
        InputError: A value out of range, or a nonce of another key.
    """
    if not isinstance(terms, ConsentTerms):
        raise InputError(_("consent terms must be a ConsentTerms"))
    no_bundle = isinstance(bundle_digest, bytes | bytearray) and not any(bundle_digest)
    if no_bundle and bundle_codec != 0:
        raise InputError(_("a consent without a key bundle has bundle codec 0"))
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        "sections": _sections(sections),
        "actions": _actions(actions),
        "expiresAt": _json_int(_uint(expires_at, 64, "expiresAt", positive=True)),
        "terms": terms.to_message(),
        "bundleDigest": _bytes(bundle_digest, 32, "bundleDigest"),
        "bundleCodec": _codec(bundle_codec, "bundleCodec", allow_zero=no_bundle),
        **_common(nonce, deadline, NonceDomain.CONSENT, grantee),
    }
    return _typed("Consent", chain_id, verifying_contract, message)


def revocation(
    *, patient: str, grantee: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``Revocation``: the patient revokes a grant (ConsentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Consent/grantee).
    """
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        **_common(nonce, deadline, NonceDomain.CONSENT, grantee),
    }
    return _typed("Revocation", chain_id, verifying_contract, message)


def refusal(
    *, patient: str, grantee: str, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``Refusal``: the patient refuses an access request (ConsentRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Consent/grantee).
    """
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        **_common(nonce, deadline, NonceDomain.CONSENT, grantee),
    }
    return _typed("Refusal", chain_id, verifying_contract, message)


def record_update(
    *,
    patient: str,
    author: str,
    previous: bytes,
    salt: bytes,
    cid_digest: bytes,
    cid_codec: int,
    sections: int,
    kind: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``RecordUpdate``: the patient approves exactly one new version of a record (RecordRegistry).

    Args:
        patient: The patient (signer).
        author: Who will anchor the new version (part of its record id).
        previous: The 32-byte record id it updates (non-zero).
        salt: The new version's salt.
        cid_digest: The sha2-256 digest of the new sealed envelope's CID.
        cid_codec: 0x55 raw or 0x70 dag-pb.
        sections: Section bitmask of the new version.
        kind: 0 outpatient, 1 inpatient.
        nonce: The patient's keyed nonce (Update/previous).
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The RecordRegistry address.

    Raises:
        InputError: A value out of range, or a nonce of another key.
    """
    if kind not in RECORD_KINDS or isinstance(kind, bool):
        raise InputError(
            _("record kind must be 0 (outpatient) or 1 (inpatient), got {shown}").format(shown=shown(kind))
        )
    message = {
        "patient": _addr(patient, "patient"),
        "author": _addr(author, "author"),
        "previous": _bytes(previous, 32, "previous"),
        "salt": _bytes(salt, 32, "salt"),
        "cidDigest": _bytes(cid_digest, 32, "cidDigest"),
        "cidCodec": _codec(cid_codec, "cidCodec"),
        "sections": _sections(sections),
        "kind": int(kind),
        **_common(nonce, deadline, NonceDomain.UPDATE, bytes(previous)),
    }
    return _typed("RecordUpdate", chain_id, verifying_contract, message)


def update_refusal(
    *,
    patient: str,
    previous: bytes,
    record_id: bytes,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``UpdateRefusal``: the patient refuses an amendment (RecordRegistry).

    Raises:
        InputError: A value out of range, or a nonce of another key (Update/previous).
    """
    message = {
        "patient": _addr(patient, "patient"),
        "previous": _bytes(previous, 32, "previous"),
        "recordId": _bytes(record_id, 32, "recordId"),
        **_common(nonce, deadline, NonceDomain.UPDATE, bytes(previous)),
    }
    return _typed("UpdateRefusal", chain_id, verifying_contract, message)


def key_release(
    *,
    patient: str,
    grantee: str,
    bundle_digest: bytes,
    bundle_codec: int,
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
        bundle_digest: The sha2-256 digest of the stored bundle's CID.
        bundle_codec: 0x55 raw or 0x70 dag-pb.
        sections: Union bitmask of the released sections.
        nonce: The patient's keyed nonce (KeyRelease/grantee).
        deadline: Signature deadline.
        chain_id: The chain id.
        verifying_contract: The RecordRegistry address.

    Raises:
        InputError: A value out of range, or a nonce of another key.
    """
    message = {
        "patient": _addr(patient, "patient"),
        "grantee": _addr(grantee, "grantee"),
        "bundleDigest": _bytes(bundle_digest, 32, "bundleDigest"),
        "bundleCodec": _codec(bundle_codec, "bundleCodec"),
        "sections": _sections(sections),
        **_common(nonce, deadline, NonceDomain.KEY_RELEASE, grantee),
    }
    return _typed("KeyRelease", chain_id, verifying_contract, message)


def emergency_choice(
    *, resident: str, sections: int, nonce: int, deadline: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """``EmergencyChoice``: the sections an emergency may open (0 opts out) (EmergencyAccess).

    Raises:
        InputError: A value out of range, or a nonce of another key (Emergency/0).
    """
    message = {
        "resident": _addr(resident, "resident"),
        "sections": _sections(sections, allow_zero=True),
        **_common(nonce, deadline, NonceDomain.EMERGENCY, 0),
    }
    return _typed("EmergencyChoice", chain_id, verifying_contract, message)


def emergency_review(
    *,
    patient: str,
    emergency_id: int,
    contested: bool,
    nonce: int,
    deadline: int,
    chain_id: int,
    verifying_contract: str,
) -> TypedData:
    """``EmergencyReview``: the patient accepts or contests an emergency access (EmergencyAccess).

    Raises:
        InputError: A value out of range, or a nonce of another key (Emergency/0).
    """
    if not isinstance(contested, bool):
        raise InputError(_("contested must be true or false"))
    message = {
        "patient": _addr(patient, "patient"),
        "id": _json_int(_uint(emergency_id, 256, "id")),
        "contested": contested,
        **_common(nonce, deadline, NonceDomain.EMERGENCY, 0),
    }
    return _typed("EmergencyReview", chain_id, verifying_contract, message)


# --- hashing, signing ------------------------------------------------------------------------------------


def message_int(data: TypedData, field: str) -> int:
    """An integer field of a message (a JSON number or a decimal string).

    Raises:
        InputError: missing or not an integer.
    """
    try:
        value = data["message"][field]
        if isinstance(value, bool):
            raise TypeError(field)
        return int(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            _("typed data has no integer {field!r} ({type})").format(field=field, type=type(exc).__name__)
        ) from None


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
