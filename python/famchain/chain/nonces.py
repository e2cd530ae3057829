"""Keyed nonces (OpenZeppelin ``NoncesKeyed``): every signed message names the nonce key of what it signs.

A signed message's ``nonce`` is the full 256-bit keyed nonce ``key << 64 | sequence``; the contracts require the
key that belongs to the message (docs/protocol.md, "EIP-712 and keyed nonces")::

    key = uint192(domain) << 160 | uint160(subject)

Everything that signs asks the chain for the current keyed nonce of the right key
(:meth:`famchain.chain.contracts.Signing.nonce`), built here, so two outstanding signatures for unrelated things
never kill each other and a revocation or termination kills exactly the signatures it should. Nothing here
imports web3.
"""

from __future__ import annotations

from enum import IntEnum

from famchain.errors import InputError
from famchain.i18n import _


class NonceDomain(IntEnum):
    """The purpose a signature's nonce key belongs to (``SignedMessages._DOMAIN_*``)."""

    REGISTRATION = 1
    """``Registration`` (ResidentRegistry); subject 0."""
    AGREEMENT = 2
    """``Agreement``, ``AgreementWithdrawal``, ``Termination`` (ResidentRegistry); subject the doctor."""
    CONSENT = 3
    """``Consent``, ``Revocation``, ``Refusal`` (ConsentRegistry); subject the grantee."""
    UPDATE = 4
    """``RecordUpdate``, ``UpdateRefusal`` (RecordRegistry); subject the record amended (``previous``)."""
    KEY_RELEASE = 5
    """``KeyRelease`` (RecordRegistry); subject the grantee."""
    GUARDIAN = 6
    """``Guardian``, ``GuardianRemoval`` (ResidentRegistry); subject the guardian."""
    PROFILE = 7
    """``Profile``, ``EncryptionKey`` (ResidentRegistry); subject 0."""
    DELETION = 8
    """``DeletionRequest`` (ResidentRegistry); subject the record id (0: the whole card)."""
    EMERGENCY = 9
    """``EmergencyChoice``, ``EmergencyReview`` (EmergencyAccess); subject 0."""
    ENROLLMENT = 10
    """``Enrollment`` (Consortium, signed by the practitioner); subject the institution."""


SEQUENCE_BITS = 64
KEY_BITS = 192


def _subject(subject: str | bytes | int) -> int:
    """``uint160`` of an address (``0x…``), of a ``bytes32`` (its low 20 bytes) or of an integer."""
    if isinstance(subject, bool):
        raise InputError(
            _("a nonce subject is an address, a bytes32 or 0, not {subject!r}").format(subject=subject)
        )
    if isinstance(subject, int):
        value = subject
    elif isinstance(subject, bytes | bytearray):
        if len(subject) not in (20, 32):
            raise InputError(
                _("a nonce subject is 20 or 32 bytes, not {n_subject}").format(n_subject=len(subject))
            )
        value = int.from_bytes(bytes(subject), "big")
    elif isinstance(subject, str):
        digits = subject.strip().removeprefix("0x").removeprefix("0X")
        try:
            value = int(digits, 16)
        except ValueError:
            raise InputError(
                _("nonce subject {subject!r} is not an address").format(subject=subject)
            ) from None
        if len(digits) != 40:
            raise InputError(_("nonce subject {subject!r} is not an address").format(subject=subject))
    else:
        raise InputError(
            _("a nonce subject is an address, a bytes32 or 0, not {type}").format(type=type(subject).__name__)
        )
    if value < 0:
        raise InputError(_("a nonce subject cannot be negative"))
    return value & ((1 << 160) - 1)


def nonce_key(domain: NonceDomain, subject: str | bytes | int = 0) -> int:
    """The ``uint192`` nonce key of a domain and subject (what ``nonces(owner, key)`` takes).

    Args:
        domain: what the signature is for.
        subject: the address the key is per (doctor, grantee, guardian, institution), a ``bytes32`` (a record
            id: its low 160 bits), or 0.

    Raises:
        InputError: a subject that is none of these.
    """
    return (int(NonceDomain(domain)) << 160) | _subject(subject)


def key_of(key_nonce: int) -> int:
    """The key of a full keyed nonce (its upper 192 bits)."""
    return key_nonce >> SEQUENCE_BITS


def sequence_of(key_nonce: int) -> int:
    """The sequence number of a full keyed nonce (its lower 64 bits)."""
    return key_nonce & ((1 << SEQUENCE_BITS) - 1)


def domain_of(key_nonce: int) -> NonceDomain | None:
    """The domain of a full keyed nonce, or None when its key names no famchain domain."""
    try:
        return NonceDomain(key_of(key_nonce) >> 160)
    except ValueError:
        return None


def keyed_nonce(key: int, sequence: int) -> int:
    """``key << 64 | sequence``: the nonce a signature of that key carries."""
    return (key << SEQUENCE_BITS) | sequence


__all__ = ["NonceDomain", "domain_of", "key_of", "keyed_nonce", "nonce_key", "sequence_of"]
