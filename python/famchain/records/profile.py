"""The resident's basic information (基本信息): a small documented JSON object, validated, then sealed for the
resident and the active family doctor only; on chain only the digest of the sealed bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from famchain.chain.structs import CODEC_RAW
from famchain.crypto import envelope as env
from famchain.crypto.envelope import EnvelopeContext, Recipient, SealedEnvelope
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import AccessDeniedError, InputError, NotARecipientError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.entitlements import is_family_doctor, public_key
from famchain.records.model import canonical_json, decode_section
from famchain.records.reading import announced_bundles
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.types import Cid, RecordId

FIELDS = ("name", "sex", "birth_date", "occupation", "contact", "address", "national_id")
"""Accepted fields; every one is optional but at least one must be present. All are text."""


def parse_profile(document: Any) -> dict[str, str]:
    """Validate a profile document.

    Raises:
        InputError: naming the offending field.
    """
    if not isinstance(document, dict):
        raise InputError(
            _("profile: expected a JSON object, got {type}").format(type=type(document).__name__)
        )
    out = {}
    for key, value in document.items():
        if key not in FIELDS:
            raise InputError(
                _("profile.{key}: unknown field; expected one of {fields}").format(
                    key=key, fields=", ".join(FIELDS)
                )
            )
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            raise InputError(
                _("profile.{key}: expected non-empty text of at most 1000 characters").format(key=key)
            )
        out[key] = value
    if not out:
        raise InputError(_("profile: at least one field is required"))
    return out


def load_profile(path: Path) -> dict[str, str]:
    """Read and validate a profile JSON file.

    Raises:
        InputError: unreadable, invalid JSON, or a schema violation.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            _("{path}: cannot read profile ({strerror})").format(path=path, strerror=exc.strerror)
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(_("{path}: not a JSON profile ({exc})").format(path=path, exc=exc)) from None
    try:
        return parse_profile(document)
    except InputError as exc:
        raise InputError(_("{path}: {exc}").format(path=path, exc=exc)) from None


# --- sealing and reading the basic information --------------------------------------------------------

PROFILE_SECTION = "basic_info"


def profile_record_id(resident: str) -> RecordId:
    """The fixed id a resident's profile envelope is bound to: its context's salt (the author is the resident)."""
    return RecordId(keccak(b"famchain.profile" + bytes.fromhex(to_checksum_address(resident)[2:])))


def profile_context(actor: Actor, resident: str) -> EnvelopeContext:
    """The context of a resident's sealed profile: salt = :func:`profile_record_id`, author = the resident."""
    return actor.context(profile_record_id(resident), resident, resident)


def seal_profile(actor: Actor, profile: dict[str, Any], resident: str | None = None) -> tuple[bytes, Cid]:
    """Seal the resident's basic information for the resident and the active family doctor; store and pin.

    Returns:
        The 32-byte digest to commit on chain and the CID.

    Raises:
        InputError: the sealed profile does not fit one block.
        StorageError: the store is unreachable.
    """
    resident = resident or actor.address
    recipients = [Recipient(public_key_from_private(actor.private_key))]
    doctor = actor.fc.family_doctor(resident) if actor.fc.is_registered(resident) else None
    if doctor is not None:
        recipients.append(Recipient(public_key(actor, doctor.doctor)))
    sealed = env.seal(
        {PROFILE_SECTION: canonical_json(profile)},
        recipients,
        profile_context(actor, resident),
        policy=actor.policy,
    )
    cid = actor.store.put(sealed.to_bytes(), pin=True)
    digest, codec = digest_and_codec(cid)
    if codec != CODEC_RAW:
        raise InputError(_("the basic information is too large: it must fit one 256 KiB block"))
    return digest, cid


def profile_envelope(actor: Actor, resident: str) -> SealedEnvelope | None:
    """The resident's sealed profile as committed on chain, or None when not registered."""
    digest = actor.fc.profile_digest(resident)
    if not any(digest):
        return None
    return SealedEnvelope.from_bytes(actor.store.get(cid_from_digest(digest, CODEC_RAW)))


def read_profile(actor: Actor, resident: str) -> dict[str, Any]:
    """Decrypt a resident's basic information (the resident, or their family doctor with a released key).

    Raises:
        InputError: not registered.
        AccessDeniedError: the reader holds no key to it, or is not the active family doctor.
    """
    sealed = profile_envelope(actor, resident)
    if sealed is None:
        raise InputError(_("{resident} is not a registered resident").format(resident=resident))
    bundles = announced_bundles(actor, resident, actor.address) if actor.address != resident else []
    try:
        plain = env.open_section(
            sealed, PROFILE_SECTION, actor.private_key, profile_context(actor, resident), bundles=bundles
        )
    except NotARecipientError:
        raise AccessDeniedError(
            _("{address} holds no key to the basic information of {resident}").format(
                address=actor.address, resident=resident
            )
        ) from None
    if actor.address != resident and not is_family_doctor(actor, resident, actor.address):
        raise AccessDeniedError(
            _("{address} is not the active family doctor of {resident}").format(
                address=actor.address, resident=resident
            )
        )
    result: dict[str, Any] = decode_section(PROFILE_SECTION, plain)
    return result
