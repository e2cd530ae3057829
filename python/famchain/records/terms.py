"""Consent terms: what a patient agrees to (PIPL: recipient, contact, purpose, data, method, records' dates),
committed on chain as a salted hash only; the opening (the terms and their salt) stays with the patient and the
grantee. And access-request terms: sealed (envelope v2) to the patient and the requester, stored as one raw
block whose digest is the request's ``terms`` on chain.

- :class:`TermsBook`: the openings a client knows (0600 files under the famchain home), by terms hash.
- :func:`default_terms`: sensible terms from a grant's scope when the caller gives none.
- :func:`seal_request_terms` / :func:`open_request_terms`: a request's sealed terms.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from famchain._files import private_dir, write_private
from famchain.chain.structs import CODEC_RAW
from famchain.crypto import envelope as env
from famchain.crypto.envelope import EnvelopeContext, Recipient, SealedEnvelope
from famchain.crypto.typed_data import ConsentTerms
from famchain.errors import FamchainError, InputError, NotARecipientError, StorageError
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.entitlements import public_key
from famchain.records.model import canonical_json
from famchain.records.sections import Purpose, action_names, section_names
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.types import Address

REQUEST_TERMS_SALT = keccak(b"famchain request terms")
"""The envelope salt of every request's sealed terms (the context's patient and author tell requests apart)."""
REQUEST_TERMS_SECTION = "terms"
REQUEST_TERMS_KIND = "famchain.request-terms"
COMMITTED = "committed"
"""What a listing shows for terms whose opening this client does not hold."""


def default_terms(
    *,
    grantee: str,
    institution: str | None,
    sections: int,
    actions: int,
    purpose: str = Purpose.TREATMENT.value,
    recipient: str | None = None,
    contact: str = "",
    data: str | None = None,
    method: str | None = None,
    records_from: int = 0,
    records_until: int = 0,
) -> ConsentTerms:
    """Terms with a fresh salt; what is not given is said plainly from the grant's own scope.

    Args:
        grantee: the practitioner granted.
        institution: its institution's admin address (None when unknown).
        sections: the sections granted (``data`` defaults to their names).
        actions: the actions granted (``method`` defaults to their names).
        purpose: why.
        recipient: who receives the data [default: the grantee and its institution].
        contact: how to reach the recipient [default: none given].
        data: what data [default: the section names].
        method: how it is processed [default: the actions, electronically through famchain].
        records_from: earliest record time covered (0: no bound).
        records_until: latest record time covered (0: no bound).

    Raises:
        InputError: a field too long, or a date range that ends before it starts.
    """
    where = f" of institution {institution}" if institution else ""
    return ConsentTerms.new(
        recipient=recipient if recipient is not None else f"practitioner {grantee}{where}",
        contact=contact,
        purpose=purpose,
        data=data if data is not None else ", ".join(section_names(sections)),
        method=method if method is not None else f"{' and '.join(action_names(actions))} through famchain",
        recordsFrom=records_from,
        recordsUntil=records_until,
    )


def terms_fields(terms: ConsentTerms) -> dict[str, Any]:
    """The terms without their salt (what an access request proposes, and what a listing shows)."""
    message = terms.to_message()
    message.pop("salt")
    return message


@dataclass
class TermsBook:
    """The consent-terms openings one account knows on one deployment: ``<home>/terms/<chain>-<registry>/
    <account>/<hash>.json`` (0600 files in 0700 folders: a purpose is personal data)."""

    root: Path

    @classmethod
    def of(cls, home: Path, chain_id: int, registry: str, owner: str) -> TermsBook:
        """The book of ``owner`` for the ConsentRegistry at ``registry`` on ``chain_id``."""
        return cls(home / "terms" / f"{chain_id}-{registry.lower()}" / owner.lower())

    def save(self, terms: ConsentTerms) -> bytes:
        """Keep an opening; returns its hash (the on-chain ``terms``).

        Raises:
            StorageError: the folder cannot be written.
        """
        digest = terms.hash_struct()
        try:
            private_dir(self.root)
            write_private(
                self.root / f"0x{digest.hex()}.json", json.dumps(terms.to_message(), indent=1).encode()
            )
        except OSError as exc:
            raise StorageError(
                _("cannot keep the consent terms in {root}: {strerror}").format(
                    root=self.root, strerror=exc.strerror
                )
            ) from None
        return digest

    def get(self, digest: bytes) -> ConsentTerms | None:
        """The opening of a terms hash, or None when this client never saw it (or it does not match)."""
        path = self.root / f"0x{bytes(digest).hex()}.json"
        try:
            terms = ConsentTerms.from_message(json.loads(path.read_text()))
        except (OSError, ValueError, InputError):
            return None
        return terms if terms.hash_struct() == bytes(digest) else None


def request_context(actor: Actor, patient: str, requester: str) -> EnvelopeContext:
    """The context request terms are sealed under (salt fixed, author = the requester, the ConsentRegistry)."""
    return EnvelopeContext(
        REQUEST_TERMS_SALT,
        Address(patient),
        Address(requester),
        actor.fc.chain_id,
        Address(actor.fc.consents.address),
    )


def seal_request_terms(actor: Actor, patient: str, fields: dict[str, Any]) -> bytes:
    """As the requester: seal the terms to the patient and yourself, store and pin them as one raw block.

    Returns:
        The block's sha2-256 digest: the request's ``terms`` on chain.

    Raises:
        InputError: the patient has no encryption key, or the terms do not fit one block.
        StorageError: the store is unreachable.
    """
    document = {"kind": REQUEST_TERMS_KIND, "terms": fields}
    sealed = env.seal(
        {REQUEST_TERMS_SECTION: canonical_json(document)},
        [Recipient(public_key(actor, patient)), Recipient(public_key(actor, actor.address))],
        request_context(actor, patient, actor.address),
    )
    cid = actor.store.put(sealed.to_bytes(), pin=True)
    digest, codec = digest_and_codec(cid)
    if codec != CODEC_RAW:
        raise InputError(_("the request terms are too long: they must fit one 256 KiB block"))
    return digest


def open_request_terms(actor: Actor, patient: str, requester: str, digest: bytes) -> dict[str, Any] | None:
    """The terms of a request, opened by the patient or the requester; None when they cannot be opened (not
    stored, not sealed for this reader, malformed): a listing then shows them as committed."""
    try:
        sealed = SealedEnvelope.from_bytes(actor.store.get(cid_from_digest(bytes(digest), CODEC_RAW)))
        plain = env.open_section(
            sealed, REQUEST_TERMS_SECTION, actor.private_key, request_context(actor, patient, requester)
        )
        document = json.loads(plain)
    except (FamchainError, ValueError, NotARecipientError):
        return None
    if not isinstance(document, dict) or document.get("kind") != REQUEST_TERMS_KIND:
        return None
    fields = document.get("terms")
    return fields if isinstance(fields, dict) else None


def terms_from_request(fields: dict[str, Any]) -> ConsentTerms:
    """Consent terms (with a fresh salt) from a request's terms: granting a request reuses what it asked for.

    Raises:
        InputError: the request's terms are malformed.
    """
    base = ConsentTerms.from_message({**fields, "salt": "0x" + "00" * 32})
    return replace(base, salt=os.urandom(32))
