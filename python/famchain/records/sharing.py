"""Sharing: consents (by transaction, or by an offline EIP-712 signature anyone relays), revocations, access
requests, cancelled signatures, and key releases that re-wrap the keys of existing records for a reader, each
announced on chain.

A consent names its key bundle: the patient's client builds the bundle for the records already on the card,
stores and pins it *before* the consent is signed or sent, and the ``Consent`` message (or the ``grant`` call)
carries its digest and codec, so the grant and the key release are one transaction (``ConsentGranted`` names
the bundle, the patient its releaser). A signed consent file carries the signature and the terms' opening,
never a key. Records anchored after a consent was signed are released later by the patient
(:func:`sync_consent`) or by their author (:func:`share_record`), and an author whose record was sealed before a
consent came into force releases it to the new grantee as soon as it is anchored
(:func:`release_to_late_readers`).

A key release skips a record it cannot release (bytes missing or malformed, not sealed for the releaser) and
names it in the result: one bad record on a card never stops the patient from sharing the others.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.exceptions import EncodingError
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError
from web3.exceptions import ContractLogicError, Web3Exception

from famchain.chain.contracts import Famchain
from famchain.chain.history import AnchoredRecord, ChainEvent, History, address_topic
from famchain.chain.nonces import NonceDomain
from famchain.chain.revert import revert_from_exception
from famchain.chain.structs import Grant, Request
from famchain.chain.tx import TxInfo
from famchain.crypto import envelope as env
from famchain.crypto import typed_data
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope
from famchain.crypto.typed_data import ConsentTerms
from famchain.errors import (
    AccessDeniedError,
    CryptoError,
    FamchainError,
    InputError,
    IntegrityError,
    RecordErasedError,
    RecordLockedError,
    StorageError,
    StoreUnavailableError,
)
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.anchoring import LateRelease
from famchain.records.deletion import Deletions, deletions
from famchain.records.entitlements import entitlements_at, public_key
from famchain.records.outbox import OutboxEntry
from famchain.records.profile import PROFILE_SECTION, profile_context, profile_envelope
from famchain.records.reading import context_of, fetch_envelope, find_on_card, first_occurrences
from famchain.records.sections import Action, action_names, section_mask, section_names
from famchain.records.terms import COMMITTED, TermsBook, open_request_terms, terms_fields
from famchain.storage.cid import digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Cid, RecordId

CONSENT_KIND = "famchain.consent"
DEFAULT_SIGNATURE_TTL = 7 * 24 * 3600
NO_BUNDLE = (b"\x00" * 32, 0)


@dataclass(frozen=True)
class Skipped:
    """A record a key release left out, and why (the others were released)."""

    record_id: RecordId
    reason: str

    def to_json(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"record": str(self.record_id), "reason": self.reason}


@dataclass(frozen=True)
class Release:
    """A key release: the stored bundle (None when there was nothing to release), how many sealed objects it
    opens, the sections it covers, and the records it skipped."""

    bundle_cid: Cid | None
    covered: int
    sections: int
    skipped: tuple[Skipped, ...] = ()
    tx: TxInfo | None = None

    @property
    def released(self) -> bool:
        """True when a bundle was stored (and announced, unless it waits in a consent)."""
        return self.bundle_cid is not None

    @property
    def digest_and_codec(self) -> tuple[bytes, int]:
        """What a consent or ``releaseKeys`` names: the bundle's digest and codec (zeros for none)."""
        return digest_and_codec(self.bundle_cid) if self.bundle_cid is not None else NO_BUNDLE


@dataclass(frozen=True)
class Relayed:
    """What relaying a signed consent did: the grant's transaction (it announces the bundle it names)."""

    patient: str
    grantee: str
    bundle_cid: Cid | None
    grant_tx: TxInfo


@dataclass(frozen=True)
class SignedConsent:
    """A consent the patient signed: the document to hand over (no key in it) and its key release (stored,
    pinned, announced when the consent is relayed)."""

    document: dict[str, Any]
    release: Release
    terms: ConsentTerms


@dataclass(frozen=True)
class Granted:
    """A consent just granted by transaction, with its terms and the key release it announced."""

    grantee: str
    sections: int
    actions: int
    expires_at: int
    terms: ConsentTerms
    release: Release
    tx: TxInfo

    @property
    def purpose(self) -> str:
        """The purpose of the terms."""
        return self.terms.purpose


@dataclass(frozen=True)
class ConsentEvent:
    """One consent-related event of a patient's history."""

    event: str
    block: int


@dataclass(frozen=True)
class ConsentSummary:
    """A grantee or requester of a patient: the grant in force now (if any), its terms when this client holds
    their opening, the open request (if any) with its terms when they open, and the history."""

    grantee: str
    grant: Grant
    active: bool
    events: tuple[ConsentEvent, ...] = ()
    terms: ConsentTerms | None = None
    terms_hash: bytes | None = None
    request: Request | None = None
    request_terms: dict[str, Any] | None = None

    @property
    def sections(self) -> list[str]:
        """Section names of the stored grant."""
        return section_names(self.grant.sections)

    @property
    def actions(self) -> list[str]:
        """Action names of the stored grant."""
        return action_names(self.grant.actions)

    @property
    def purpose(self) -> str | None:
        """The purpose of the latest grant: its text when the opening is known, else ``committed``; None when
        there was never a grant."""
        if self.terms_hash is None:
            return None
        return self.terms.purpose if self.terms is not None else COMMITTED

    def to_json(self) -> dict[str, Any]:
        """The row ``famchain consent list --json`` prints."""
        request = None
        if self.request is not None:
            request = {
                "sections": section_names(self.request.sections),
                "actions": action_names(self.request.actions),
                "duration": self.request.duration,
                "terms": self.request_terms if self.request_terms is not None else COMMITTED,
            }
        return {
            "grantee": self.grantee,
            "events": [{"event": e.event, "block": e.block} for e in self.events],
            "active": self.active,
            "sections": self.sections,
            "actions": self.actions,
            "purpose": self.purpose,
            "terms": terms_fields(self.terms) if self.terms is not None else None,
            "terms_hash": "0x" + self.terms_hash.hex() if self.terms_hash is not None else None,
            "expires_at": self.grant.expiresAt,
            "request": request,
        }


# --- key bundles -----------------------------------------------------------------------------------------

Grants = list[tuple[SealedEnvelope, EnvelopeContext, list[str]]]


def _collect(
    actor: Actor,
    records: Iterable[AnchoredRecord],
    wanted: int,
    terms: ConsentTerms | None,
    locks: Deletions | None = None,
) -> tuple[Grants, int, list[Skipped]]:
    """What the releaser can release of ``wanted`` sections from ``records``, and what it must skip: records
    outside the terms' dates are left out, records a deletion request covers are skipped and named."""
    grants: Grants = []
    mask = 0
    skipped: list[Skipped] = []
    for record in first_occurrences(records):
        names = set(section_names(wanted)) & set(section_names(record.sections))
        if not names or (terms is not None and not terms.covers(record.anchored_at)):
            continue
        locked = locks.skip_reason(record.record_id) if locks is not None else None
        if locked is not None:
            skipped.append(Skipped(record.record_id, locked))
            continue
        context = context_of(actor, record)
        try:
            sealed = fetch_envelope(actor, record)
            held = env.granted_sections(sealed, actor.private_key, context)
        except StoreUnavailableError:
            raise
        except (IntegrityError, InputError, CryptoError, StorageError) as exc:
            skipped.append(Skipped(record.record_id, f"unusable: {exc}"))
            continue
        if held is None:
            skipped.append(Skipped(record.record_id, f"not sealed for the releaser {actor.address}"))
            continue
        present = names & set(sealed.section_names)
        ok = sorted(present & held)
        if present - held:
            missing = ", ".join(sorted(present - held))
            skipped.append(
                Skipped(record.record_id, f"{missing} not sealed for the releaser {actor.address}")
            )
        if ok:
            grants.append((sealed, context, ok))
            mask |= section_mask(ok)
    return grants, mask, skipped


def store_bundle(actor: Actor, grantee: str, grants: Grants) -> Cid:
    """Re-wrap the keys of ``grants`` for ``grantee`` in one bundle; store and pin it; return its CID.

    Raises:
        InputError: the grantee has registered no encryption key.
        StorageError: the store is unreachable or named the bundle otherwise.
    """
    bundle = env.release_keys(actor.private_key, public_key(actor, grantee), grants).to_bytes()
    local = Cid(str(build_dag(io.BytesIO(bundle)).cid))
    cid = actor.store.put(bundle, pin=True)
    if str(cid) != str(local):
        raise StorageError(
            _("the store named the key bundle {cid}, expected {local}").format(cid=cid, local=local)
        )
    return local


def build_release(
    actor: Actor,
    patient: str,
    grantee: str,
    sections: int,
    *,
    records: Sequence[AnchoredRecord] | None = None,
    terms: ConsentTerms | None = None,
    include_profile: bool = False,
) -> Release:
    """Store and pin a bundle of the keys of ``sections`` of ``patient``'s records for ``grantee`` (not yet
    announced): the records of the verified card (or ``records``), within the terms' dates, and the basic
    information when ``include_profile``. Records the releaser cannot release, or whose deletion the resident
    asked for (PIPL art. 47: locked), are skipped and named.

    Raises:
        IntegrityError: the card's history does not reproduce its head.
        StorageError: the store is unreachable.
    """
    full = actor.history.card(patient)
    card = records if records is not None else full
    locks = deletions(actor, patient, full)
    grants, mask, skipped = _collect(actor, card, sections, terms, locks)
    if include_profile:
        profile = profile_envelope(actor, patient)
        if profile is not None:
            grants.append((profile, profile_context(actor, patient), [PROFILE_SECTION]))
    if not grants:
        return Release(None, 0, 0, tuple(skipped))
    cid = store_bundle(actor, grantee, grants)
    return Release(cid, len(grants), mask or sections, tuple(skipped))


def announce(actor: Actor, patient: str, grantee: str, release: Release) -> Release:
    """``releaseKeys`` for a stored bundle (the caller is the patient or a party authorized to read those
    sections), which puts the release on the audit trail with the caller as releaser."""
    if release.bundle_cid is None:
        return release
    digest, codec = release.digest_and_codec
    call = actor.fc.records.release_keys(patient, grantee, digest, codec, release.sections)
    receipt = actor.sender.transact(call, "release keys")
    return Release(
        release.bundle_cid, release.covered, release.sections, release.skipped, TxInfo.from_receipt(receipt)
    )


def release_existing(actor: Actor, grantee: str, sections: int, *, include_profile: bool = False) -> Release:
    """As the patient: re-wrap the keys of ``sections`` of every record on your card for ``grantee``, store the
    bundle and announce it with ``releaseKeys``."""
    release = build_release(actor, actor.address, grantee, sections, include_profile=include_profile)
    return announce(actor, actor.address, grantee, release)


def sync_consent(actor: Actor, grantee: str, book: TermsBook | None = None) -> Release:
    """As the patient: release to ``grantee`` the keys of every record its consent in force covers (those
    anchored after the consent was signed included), within the consent terms' dates when their opening is
    known; announced with ``releaseKeys``.

    Raises:
        AccessDeniedError: no consent with READ is in force for ``grantee``.
    """
    patient = actor.address
    grant = actor.fc.grant(patient, grantee)
    now = actor.fc.latest_timestamp()
    if not grant.active_at(now) or not grant.actions & Action.READ:
        raise AccessDeniedError(
            _(
                "no consent to read is in force from {patient} to {grantee}: grant one first "
                "(`famchain consent grant {grantee}`), or {grantee} asks for one (`famchain consent request {patient}`)"
            ).format(patient=patient, grantee=grantee)
        )
    terms = None
    if book is not None:
        latest = latest_grant_event(actor, patient, grantee)
        terms = book.get(bytes(latest.args["terms"])) if latest is not None else None
    release = build_release(actor, patient, grantee, grant.sections, terms=terms)
    return announce(actor, patient, grantee, release)


def share_record(actor: Actor, record_id: RecordId, grantee: str) -> Release:
    """As the record's author (or any party the chain lets read it, the patient included): release the keys of
    one record to ``grantee``, for the sections the chain lets ``grantee`` read now; announced with
    ``releaseKeys`` (the caller is the releaser).

    Raises:
        UnknownRecordError: no such record.
        RecordLockedError: the resident asked for its deletion.
        RecordErasedError: it was erased.
        AccessDeniedError: ``grantee`` may read none of its sections, or the caller may not release them.
    """
    record, card = find_on_card(actor.history, record_id)
    patient = record.patient
    state = deletions(actor, patient, card)
    erased = state.erasure(record_id)
    if erased is not None:
        raise RecordErasedError(record_id, erased.erased_at)
    if state.is_locked(record_id):
        raise RecordLockedError(record_id, state.locked_at(record_id), _("no key to it can be released"))
    allowed = [
        n
        for n in section_names(record.sections)
        if actor.fc.is_authorized(patient, grantee, section_mask([n]), Action.READ)
    ]
    if not allowed:
        raise AccessDeniedError(
            _("{grantee} may read no section of record {record}: nothing to release").format(
                grantee=grantee, record=record_id
            )
        )
    mask = section_mask(allowed)
    if actor.address != patient and not actor.fc.is_authorized(patient, actor.address, mask, Action.READ):
        raise AccessDeniedError(
            _(
                "{releaser} may not release {sections} of record {record}: only the patient or a party that may "
                "read them can"
            ).format(releaser=actor.address, sections=", ".join(allowed), record=record_id)
        )
    release = build_release(actor, patient, grantee, mask, records=[record])
    if release.bundle_cid is None:
        reason = release.skipped[0].reason if release.skipped else "nothing to release"
        raise AccessDeniedError(
            _("record {record} cannot be released by {releaser}: {reason}").format(
                record=record_id, releaser=actor.address, reason=reason
            )
        )
    return announce(actor, patient, grantee, release)


def release_to_late_readers(actor: Actor, anchored: Sequence[OutboxEntry]) -> list[LateRelease]:
    """As the author, right after a flush: release each anchored record to every party entitled to read it at
    its anchoring block that it was not sealed for (a consent or agreement that came into force, or a READ
    guardian appointed, between sealing and anchoring): one bundle and one ``releaseKeys`` per (patient,
    party). Failures are reported, not raised: the patient can always release the keys
    (``famchain consent sync``)."""
    out: list[LateRelease] = []
    by_patient: dict[str, list[OutboxEntry]] = {}
    for entry in anchored:
        by_patient.setdefault(entry.patient, []).append(entry)
    changes = ("ConsentGranted", "AgreementAccepted", "GuardianAppointed")
    for patient, entries in by_patient.items():
        since = min(e.sealed_block for e in entries) + 1
        until = max(e.block for e in entries)
        # Only the events that make a new reader, asked for by topic: the flush's own anchors are not read back.
        signatures = ["0x" + actor.history.topic(name).hex() for name in changes]
        if not actor.history.events([signatures, address_topic(patient)], to_block=until, from_block=since):
            continue
        locks = deletions(actor, patient)  # a record whose deletion was asked for is released to nobody
        views: dict[int, dict[str, int]] = {}
        owed: dict[str, list[tuple[OutboxEntry, list[str]]]] = {}
        for entry in (e for e in entries if not locks.is_locked(e.record_id)):
            if entry.block not in views:
                views[entry.block] = entitlements_at(actor, patient, entry.block).readers()
            for party, readable in views[entry.block].items():
                if party in entry.recipients or party in (entry.patient, entry.author):
                    continue
                names = [n for n in section_names(entry.sections) if n in section_names(readable)]
                if names:
                    owed.setdefault(party, []).append((entry, names))
        for party, items in owed.items():
            out.append(_late(actor, patient, party, items))
    return out


def _late(actor: Actor, patient: str, party: str, items: list[tuple[OutboxEntry, list[str]]]) -> LateRelease:
    ids = tuple(entry.record_id for entry, _ in items)
    mask = section_mask([n for _, names in items for n in names])
    try:
        if not actor.fc.is_authorized(patient, actor.address, mask, Action.READ):
            raise AccessDeniedError(
                _(
                    "the author may not read {sections}; the patient can release them with "
                    "`famchain consent sync {party}`"
                ).format(sections=", ".join(section_names(mask)), party=party)
            )
        grants: Grants = [
            (check_bytes_of(actor, entry), actor.context(entry.salt, patient), names)
            for entry, names in items
        ]
        cid = store_bundle(actor, party, grants)
        release = announce(actor, patient, party, Release(cid, len(grants), mask))
        return LateRelease(ids, party, mask, release.bundle_cid)
    except FamchainError as exc:
        return LateRelease(ids, party, mask, None, str(exc))


def check_bytes_of(actor: Actor, entry: OutboxEntry) -> SealedEnvelope:
    """The stored envelope of an anchored outbox entry (the outbox drops its copy once anchored)."""
    return SealedEnvelope.from_bytes(actor.store.get(entry.cid))


# --- consents --------------------------------------------------------------------------------------------


def _consent_release(actor: Actor, grantee: str, sections: int, actions: int, terms: ConsentTerms) -> Release:
    """The bundle a consent names: the covered records on the card now (for a READ consent), stored first."""
    if not actions & Action.READ:
        return Release(None, 0, 0)
    return build_release(actor, actor.address, grantee, sections, terms=terms)


def grant(
    actor: Actor,
    grantee: str,
    sections: int,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    book: TermsBook | None = None,
) -> Granted:
    """As the patient: grant by transaction; the key bundle of the covered records is built and stored first
    and named in the grant, so one transaction both grants and releases (``ConsentGranted`` with the bundle).

    Raises:
        ContractRevertError: the chain refuses the grant (checked before anything is stored).
        StorageError: the store is unreachable (nothing is sent).
    """
    digest = terms.hash_struct()
    probe = actor.fc.consents.grant(grantee, sections, actions, expires_at, digest, *NO_BUNDLE)
    try:
        probe.call({"from": actor.address})  # the chain's refusal (bad grantee, expiry) comes first
    except ContractLogicError as exc:
        raise revert_from_exception(exc) from None
    release = _consent_release(actor, grantee, sections, actions, terms)
    if book is not None:
        book.save(terms)
    bundle_digest, codec = release.digest_and_codec
    call = actor.fc.consents.grant(grantee, sections, actions, expires_at, digest, bundle_digest, codec)
    tx = TxInfo.from_receipt(actor.sender.transact(call, "grant consent"))
    return Granted(grantee, sections, actions, expires_at, terms, release, tx)


def sign_consent(
    actor: Actor,
    grantee: str,
    sections: int,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    *,
    ttl: int = DEFAULT_SIGNATURE_TTL,
    book: TermsBook | None = None,
) -> SignedConsent:
    """As the patient: store the key bundle, then sign a consent naming it (and the terms) for anyone to relay;
    sends nothing. The signature uses the Consent/grantee nonce key.

    Returns:
        The document to hand to the grantee or a relayer (signature and terms' opening; no key) and the
        release it names.
    """
    fc = actor.fc
    patient = actor.address
    release = _consent_release(actor, grantee, sections, actions, terms)
    if book is not None:
        book.save(terms)
    consent = consent_on_chain(
        fc, patient, grantee, sections, actions, expires_at, terms, release=release, ttl=ttl
    )
    signature = typed_data.sign_typed_data(actor.private_key, consent)
    return SignedConsent(consent_document(consent, signature), release, terms)


def consent_on_chain(
    fc: Famchain,
    patient: str,
    grantee: str,
    sections: int,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    *,
    release: Release | None,
    ttl: int = DEFAULT_SIGNATURE_TTL,
) -> dict[str, Any]:
    """:func:`consent_typed_data` as the chain stands: the patient's current Consent/grantee nonce, a deadline
    ``ttl`` seconds from the chain's now, the deployment's chain id and ConsentRegistry."""
    return consent_typed_data(
        patient=patient,
        grantee=grantee,
        sections=sections,
        actions=actions,
        expires_at=expires_at,
        terms=terms,
        release=release,
        nonce=fc.consents.nonce(patient, NonceDomain.CONSENT, grantee),
        deadline=fc.latest_timestamp() + ttl,
        chain_id=fc.chain_id,
        registry=fc.consents.address,
    )


def consent_typed_data(
    *,
    patient: str,
    grantee: str,
    sections: int,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    release: Release | None,
    nonce: int,
    deadline: int,
    chain_id: int,
    registry: str,
) -> dict[str, Any]:
    """The ``Consent`` typed data a patient signs (with a key file or in a wallet): the release's bundle, or
    none (the keys of existing records then go later, with ``consent sync``).

    Args:
        nonce: the full keyed nonce (Consent/grantee) the signature consumes.
        chain_id: the deployment's chain.
        registry: the ConsentRegistry address (the EIP-712 verifying contract).

    Raises:
        InputError: a value out of range.
    """
    bundle_digest, codec = release.digest_and_codec if release is not None else NO_BUNDLE
    return typed_data.consent(
        patient=patient,
        grantee=grantee,
        sections=sections,
        actions=actions,
        expires_at=expires_at,
        terms=terms,
        bundle_digest=bundle_digest,
        bundle_codec=codec,
        nonce=nonce,
        deadline=deadline,
        chain_id=chain_id,
        verifying_contract=registry,
    )


def consent_document(typed: dict[str, Any], signature: bytes | None = None) -> dict[str, Any]:
    """A consent document from a ``Consent`` typed-data message and its signature (a wallet's, say); without a
    signature, the document a wallet signs and :func:`with_signature` completes."""
    doc: dict[str, Any] = {"kind": CONSENT_KIND, "typed_data": typed}
    if signature is not None:
        doc["signature"] = "0x" + signature.hex()
    return doc


def parse_signature(text: str) -> bytes:
    """A 65-byte signature given as ``0x`` + 130 hex digits (what a wallet's ``eth_signTypedData_v4`` returns).

    Raises:
        InputError: not that.
    """
    digits = text.strip().removeprefix("0x").removeprefix("0X")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raw = b""
    if len(raw) != 65:
        raise InputError(
            _("--signature {text!r} is not a 65-byte signature (0x + 130 hex digits)").format(text=text)
        )
    return raw


def with_signature(doc: dict[str, Any], signature: bytes, signer_field: str) -> dict[str, Any]:
    """``doc`` (a consent or approval document, or the bare typed data a wallet signed) with ``signature``
    attached, once it is checked to recover to the account the message names in ``signer_field``.

    Raises:
        InputError: not typed data, or the signature is not that account's over exactly this typed data.
    """
    typed = doc.get("typed_data", doc) if "primaryType" not in doc else doc
    if not isinstance(typed, dict) or "message" not in typed or "primaryType" not in typed:
        raise InputError(_("the file holds no EIP-712 typed data to attach a signature to"))
    try:
        expected = str(to_checksum_address(typed["message"][signer_field]))
        signer: str | None = typed_data.recover_typed_data_signer(typed, signature)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            _("the typed data is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
        ) from None
    except (ValueError, ValidationError, BadSignature, EncodingError):
        signer = None
    if signer != expected:
        raise InputError(
            f"the signature is not {expected}'s over this typed data"
            + (f" (it recovers to {signer})" if signer else "")
            + ": sign exactly the printed typed data with that account's wallet"
        )
    base = doc if "typed_data" in doc else {"typed_data": typed}
    if "kind" not in base and typed.get("primaryType") == "Consent":
        base = {"kind": CONSENT_KIND, **base}
    return {**base, "signature": "0x" + signature.hex()}


def relay_consent(actor: Actor, doc: dict[str, Any], book: TermsBook | None = None) -> Relayed:
    """Submit a signed consent (``grantWithSig``): one transaction grants exactly what the patient signed and
    announces the key bundle it names.

    Raises:
        InputError: not a signed consent document.
        ContractRevertError: the chain refused the signature (expired, reused nonce, wrong signer, ...).
    """
    if doc.get("kind") != CONSENT_KIND or "typed_data" not in doc:
        raise InputError(_("not a signed famchain consent (expected the output of `famchain consent sign`)"))
    if "signature" not in doc:
        raise InputError(
            _(
                "not a signed famchain consent yet (no signature): sign its typed data in the patient's wallet and pass `--signature 0x…`"
            )
        )
    try:
        data = doc["typed_data"]
        if data.get("primaryType") != "Consent":
            raise InputError(
                _("a signed consent carries a Consent message, not {primary_type!r}").format(
                    primary_type=data.get("primaryType")
                )
            )
        m = data["message"]
        terms = ConsentTerms.from_message(m["terms"])
        bundle_digest = bytes.fromhex(str(m["bundleDigest"]).removeprefix("0x"))
        codec = typed_data.message_int(data, "bundleCodec")
        call = actor.fc.consents.grant_with_sig(
            m["patient"],
            m["grantee"],
            typed_data.message_int(data, "sections"),
            typed_data.message_int(data, "actions"),
            typed_data.message_int(data, "expiresAt"),
            terms.hash_struct(),
            bundle_digest,
            codec,
            typed_data.message_int(data, "nonce"),
            typed_data.message_int(data, "deadline"),
            bytes.fromhex(str(doc["signature"]).removeprefix("0x")),
        )
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, Web3Exception) as exc:
        raise InputError(
            _("signed consent is malformed: {type}: {exc}").format(type=type(exc).__name__, exc=exc)
        ) from None
    granted = TxInfo.from_receipt(actor.sender.transact(call, "relay consent"))
    if book is not None:
        book.save(terms)
    bundle = digest_and_codec_cid(bundle_digest, codec)
    return Relayed(str(m["patient"]), str(m["grantee"]), bundle, granted)


def digest_and_codec_cid(digest: bytes, codec: int) -> Cid | None:
    """The CID a consent names for its bundle (None for none)."""
    from famchain.storage.cid import cid_from_digest

    return cid_from_digest(digest, codec) if any(digest) else None


def latest_grant_event(actor: Actor, patient: str, grantee: str) -> ChainEvent | None:
    """The patient's latest ``ConsentGranted`` to ``grantee`` (None when never granted)."""
    found = None
    for event in actor.history.patient_events(patient):
        if event.name == "ConsentGranted" and event.args["grantee"] == grantee:
            found = event
    return found


def consents_of(
    fc: Famchain,
    history: History,
    patient: str,
    *,
    book: TermsBook | None = None,
    opener: Actor | None = None,
) -> list[ConsentSummary]:
    """Every grantee or requester of the patient: the grant in force now (if any), its terms when ``book``
    holds their opening, the open request with its terms when ``opener`` (the patient or the requester) can
    open them, and the history."""
    now = fc.latest_timestamp()
    events: dict[str, list[ConsentEvent]] = {}
    latest_terms: dict[str, bytes] = {}
    names = (
        "ConsentGranted",
        "ConsentRevoked",
        "AccessRequested",
        "AccessRequestWithdrawn",
        "AccessRequestRefused",
    )
    for event in history.patient_events(patient):
        if event.name in names:
            grantee = str(event.args["grantee"])
            events.setdefault(grantee, []).append(ConsentEvent(event.name, event.block))
            if event.name == "ConsentGranted":
                latest_terms[grantee] = bytes(event.args["terms"])
    out = []
    for grantee, trail in events.items():
        current = fc.grant(patient, grantee)
        active = (
            current.active_at(now)
            and current.enrollment != 0
            and fc.consortium.practitioner(grantee).enrollment == current.enrollment
        )
        digest = latest_terms.get(grantee)
        terms = book.get(digest) if book is not None and digest is not None else None
        request = fc.consents.request_of(patient, grantee)
        opened = None
        if request.is_open and opener is not None and opener.address in (patient, grantee):
            opened = open_request_terms(opener, patient, grantee, request.terms)
        out.append(
            ConsentSummary(
                grantee,
                current,
                active,
                tuple(trail),
                terms,
                digest,
                request if request.is_open else None,
                opened,
            )
        )
    return out


__all__ = [
    "CONSENT_KIND",
    "ConsentSummary",
    "Granted",
    "Relayed",
    "Release",
    "SignedConsent",
    "Skipped",
    "announce",
    "build_release",
    "consent_document",
    "consent_typed_data",
    "consents_of",
    "grant",
    "parse_signature",
    "relay_consent",
    "release_existing",
    "release_to_late_readers",
    "share_record",
    "sign_consent",
    "store_bundle",
    "sync_consent",
    "with_signature",
]
