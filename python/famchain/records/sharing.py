"""Sharing: consents (by transaction, or by an offline EIP-712 signature anyone relays), revocations, access
requests, and key releases that re-wrap the keys of existing records for a grantee, each announced on chain.

A signed consent document carries, besides the ``Consent`` signature, the key-release bundle for the records
already on the card and the patient's ``KeyRelease`` signature over it, so a relayer can complete both steps
without ever holding a key that opens anything.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from web3.exceptions import ContractLogicError, Web3Exception

from famchain.chain.contracts import Famchain
from famchain.chain.history import History
from famchain.chain.revert import revert_from_exception
from famchain.chain.structs import Grant
from famchain.chain.tx import TxInfo
from famchain.crypto import envelope as env
from famchain.crypto import typed_data
from famchain.crypto.envelope import SealedEnvelope
from famchain.errors import InputError, StorageError
from famchain.records.actor import Actor
from famchain.records.entitlements import is_family_doctor, public_key
from famchain.records.profile import PROFILE_SECTION, profile_envelope
from famchain.records.sections import Action, Purpose, action_names, section_names
from famchain.storage.cid import digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Cid

CONSENT_KIND = "famchain.consent"
DEFAULT_SIGNATURE_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class Release:
    """A key-release bundle: where it is stored and how many sealed objects it opens."""

    bundle_cid: Cid
    covered: int


@dataclass(frozen=True)
class Relayed:
    """What relaying a signed consent did: the grant's transaction and the key release (if any)."""

    patient: str
    grantee: str
    bundle_cid: Cid | None
    grant_tx: TxInfo


@dataclass(frozen=True)
class ConsentEvent:
    """One consent-related event of a patient's history."""

    event: str
    block: int


@dataclass(frozen=True)
class ConsentSummary:
    """A grantee or requester of a patient: the grant in force now (if any) and its history."""

    grantee: str
    grant: Grant
    active: bool
    events: tuple[ConsentEvent, ...] = ()

    @property
    def sections(self) -> list[str]:
        """Section names of the stored grant."""
        return section_names(self.grant.sections)

    @property
    def actions(self) -> list[str]:
        """Action names of the stored grant."""
        return action_names(self.grant.actions)

    @property
    def purpose(self) -> Purpose | None:
        """Purpose of the stored grant (None when there is none)."""
        return Purpose(self.grant.purpose) if self.grant.purpose else None

    def to_json(self) -> dict[str, Any]:
        """The row ``famchain consent list --json`` prints."""
        return {
            "grantee": self.grantee,
            "events": [{"event": e.event, "block": e.block} for e in self.events],
            "active": self.active,
            "sections": self.sections,
            "actions": self.actions,
            "purpose": self.grant.purpose,
            "expires_at": self.grant.expiresAt,
        }


# --- key release -----------------------------------------------------------------------------------------


def covered_envelopes(actor: Actor, sections: int) -> list[tuple[SealedEnvelope, list[str]]]:
    """As the patient: the sealed records on your card holding any of ``sections``, with those names."""
    names = section_names(sections)
    out = []
    for record in actor.history.card(actor.address):
        sealed = SealedEnvelope.from_bytes(actor.store.get(record.cid))
        if set(names) & set(sealed.section_names):
            out.append((sealed, names))
    return out


def store_release(actor: Actor, grantee: str, sections: int) -> Release | None:
    """As the patient: store and pin a key bundle for ``grantee``, not yet announced on chain.

    The bundle re-wraps the keys of ``sections`` of every record on the card (and the basic information for
    the active family doctor); :func:`announce_release` then puts it on the audit trail.

    Returns:
        The bundle, or None when there is nothing to share.
    """
    patient = actor.address
    grants = covered_envelopes(actor, sections)
    profile = profile_envelope(actor, patient)
    if profile is not None and is_family_doctor(actor, patient, grantee):
        grants.append((profile, [PROFILE_SECTION]))
    if not grants:
        return None
    bundle = env.release_keys(actor.private_key, public_key(actor, grantee), grants)
    cid = actor.store.put(bundle.to_bytes(), pin=True)
    return Release(cid, len(grants))


def announce_release(actor: Actor, grantee: str, sections: int, bundle_cid: Cid) -> None:
    """As the patient: ``releaseKeys`` for a stored bundle, which puts the release on the audit trail."""
    digest, codec = digest_and_codec(bundle_cid)
    actor.sender.transact(actor.fc.records.release_keys(grantee, digest, codec, sections), "release keys")


def release_existing(actor: Actor, grantee: str, sections: int) -> Release | None:
    """As the patient: re-wrap the keys of ``sections`` of every record on the card for ``grantee``.

    The bundle is stored, pinned and announced by ``releaseKeys`` so the release is on the audit trail.
    Returns None when the card has nothing to share.
    """
    stored = store_release(actor, grantee, sections)
    if stored is not None:
        announce_release(actor, grantee, sections, stored.bundle_cid)
    return stored


# --- consents --------------------------------------------------------------------------------------------


def grant(
    actor: Actor, grantee: str, sections: int, actions: int, purpose: int, expires_at: int
) -> Release | None:
    """As the patient: grant by transaction, then release existing covered records (for READ grants).

    The key bundle is built and stored before the grant is sent, so an unreachable store fails the whole
    command before anything reaches the chain (``releaseKeys`` itself needs the grant in force).

    Returns:
        The key release, or None when nothing had to be released.
    """
    call = actor.fc.consents.grant(grantee, sections, actions, purpose, expires_at)
    try:
        call.call({"from": actor.address})  # the chain's refusal (bad grantee, expiry) comes first
    except ContractLogicError as exc:
        raise revert_from_exception(exc) from None
    stored = store_release(actor, grantee, sections) if actions & Action.READ else None
    actor.sender.transact(call, "grant consent")
    if stored is None:
        return None
    announce_release(actor, grantee, sections, stored.bundle_cid)
    return stored


def sign_consent(
    actor: Actor,
    grantee: str,
    sections: int,
    actions: int,
    purpose: int,
    expires_at: int,
    *,
    ttl: int = DEFAULT_SIGNATURE_TTL,
) -> dict[str, Any]:
    """As the patient: produce a signed consent (and key release) that anyone may relay; sends nothing.

    Returns:
        The document to hand to the grantee or a relayer.
    """
    fc = actor.fc
    patient = actor.address
    deadline = fc.latest_timestamp() + ttl
    consent = typed_data.consent(
        patient=patient,
        grantee=grantee,
        sections=sections,
        actions=actions,
        purpose=purpose,
        expires_at=expires_at,
        nonce=fc.consents.nonces(patient),
        deadline=deadline,
        chain_id=fc.chain_id,
        verifying_contract=fc.consents.address,
    )
    doc: dict[str, Any] = {
        "kind": CONSENT_KIND,
        "typed_data": consent,
        "signature": "0x" + typed_data.sign_typed_data(actor.private_key, consent).hex(),
        "key_release": None,
    }
    grantee_key = fc.encryption_key(grantee)
    covered = covered_envelopes(actor, sections) if actions & Action.READ else []
    if covered and grantee_key:
        bundle = env.release_keys(actor.private_key, grantee_key, covered).to_bytes()
        digest, codec = digest_and_codec(build_dag(io.BytesIO(bundle)).cid)
        release = typed_data.key_release(
            patient=patient,
            grantee=grantee,
            bundle_digest=digest,
            sections=sections,
            nonce=fc.records.nonces(patient),
            deadline=deadline,
            chain_id=fc.chain_id,
            verifying_contract=fc.records.address,
        )
        doc["key_release"] = {
            "bundle": base64.b64encode(bundle).decode(),
            "codec": codec,
            "typed_data": release,
            "signature": "0x" + typed_data.sign_typed_data(actor.private_key, release).hex(),
        }
    return doc


def consent_document(typed: dict[str, Any], signature: bytes) -> dict[str, Any]:
    """A signed consent document from a ``Consent`` typed-data message and its signature (a wallet's, say)."""
    return {
        "kind": CONSENT_KIND,
        "typed_data": typed,
        "signature": "0x" + signature.hex(),
        "key_release": None,
    }


def relay_consent(actor: Actor, doc: dict[str, Any]) -> Relayed:
    """Submit a signed consent (``grantWithSig``) and its key release (``releaseKeysWithSig``).

    Everything that can be checked locally (the document's shape, the bundle against the digest the patient
    signed) is checked, and the bundle stored and pinned, before the first transaction: a bad file or an
    unreachable store sends nothing, rather than a grant without its key release.

    Raises:
        InputError: not a signed consent document, or its bundle does not match what was signed.
        ContractRevertError: the chain refused a signature (expired, reused nonce, wrong signer, ...).
    """
    if doc.get("kind") != CONSENT_KIND or "typed_data" not in doc or "signature" not in doc:
        raise InputError("not a signed famchain consent (expected the output of `famchain consent sign`)")
    release = doc.get("key_release")
    try:
        m = doc["typed_data"]["message"]
        grant_call = actor.fc.consents.grant_with_sig(
            m["patient"],
            m["grantee"],
            int(m["sections"]),
            int(m["actions"]),
            int(m["purpose"]),
            int(m["expiresAt"]),
            int(m["nonce"]),
            int(m["deadline"]),
            bytes.fromhex(str(doc["signature"]).removeprefix("0x")),
        )
        if release:
            bundle = base64.b64decode(release["bundle"], validate=True)
            r = release["typed_data"]["message"]
            local_cid = build_dag(io.BytesIO(bundle)).cid
            digest, codec = digest_and_codec(local_cid)
            if "0x" + digest.hex() != str(r["bundleDigest"]).lower():
                raise InputError("the key bundle in the consent file is not the one the patient signed")
            release_call = actor.fc.records.release_keys_with_sig(
                r["patient"],
                r["grantee"],
                digest,
                codec,
                int(r["sections"]),
                int(r["nonce"]),
                int(r["deadline"]),
                bytes.fromhex(str(release["signature"]).removeprefix("0x")),
            )
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, Web3Exception) as exc:
        raise InputError(f"signed consent is malformed: {type(exc).__name__}: {exc}") from None
    cid = actor.store.put(bundle, pin=True) if release else None
    if release and str(cid) != str(local_cid):
        raise StorageError(f"the store named the key bundle {cid}, expected {local_cid}")
    granted = TxInfo.from_receipt(actor.sender.transact(grant_call, "relay consent"))
    if not release:
        return Relayed(m["patient"], m["grantee"], None, granted)
    actor.sender.transact(release_call, "relay key release")
    return Relayed(m["patient"], m["grantee"], cid, granted)


def consents_of(fc: Famchain, history: History, patient: str) -> list[ConsentSummary]:
    """Every grantee or requester of the patient, with the grant in force now (if any) and its history."""
    now = fc.latest_timestamp()
    events: dict[str, list[ConsentEvent]] = {}
    for event in history.patient_events(patient):
        if event.name in ("ConsentGranted", "ConsentRevoked", "AccessRequested"):
            events.setdefault(str(event.args["grantee"]), []).append(ConsentEvent(event.name, event.block))
    out = []
    for grantee, trail in events.items():
        current = fc.grant(patient, grantee)
        out.append(ConsentSummary(grantee, current, current.active_at(now), tuple(trail)))
    return out
