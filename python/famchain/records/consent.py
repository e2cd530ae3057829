"""Consent: granting (by transaction, or by an offline EIP-712 signature that anyone relays), revoking, and
re-wrapping the keys of the patient's existing records for the grantee.

A signed consent file carries, besides the ``Consent`` signature, the key-release bundle for the records
already on the card and the patient's ``KeyRelease`` signature over it, so a relayer can complete both steps
without ever holding a key that opens anything.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from web3.exceptions import ContractLogicError, Web3Exception

from famchain.chain._revert import revert_from_exception
from famchain.crypto import envelope as env
from famchain.crypto import typed_data
from famchain.errors import InputError, StorageError
from famchain.records.pipeline import Actor, announce_release, covered_envelopes, store_release
from famchain.records.sections import Action, section_names
from famchain.storage.cid import digest_and_codec
from famchain.storage.unixfs import build_dag

CONSENT_KIND = "famchain.consent"


def grant(
    actor: Actor, grantee: str, sections: int, actions: int, purpose: int, expires_at: int
) -> str | None:
    """As the patient: grant by transaction, then release existing covered records (for READ grants).

    The key bundle is built and stored before the grant is sent, so an unreachable store fails the whole
    command before anything reaches the chain (``releaseKeys`` itself needs the grant in force).

    Returns the key-bundle CID, or None when nothing had to be released.
    """
    call = actor.fc.consents.functions.grant(grantee, sections, actions, purpose, expires_at)
    try:
        call.call({"from": actor.address})  # the chain's refusal (bad grantee, expiry) comes first
    except ContractLogicError as exc:
        raise revert_from_exception(exc) from None
    stored = store_release(actor, grantee, sections) if actions & Action.READ else None
    actor.sender.transact(call, "grant consent")
    if stored is None:
        return None
    announce_release(actor, grantee, sections, stored[0])
    return stored[0]


def sign_consent(
    actor: Actor,
    grantee: str,
    sections: int,
    actions: int,
    purpose: int,
    expires_at: int,
    *,
    ttl: int = 7 * 24 * 3600,
) -> dict[str, Any]:
    """As the patient: produce a signed consent (and key release) that anyone may relay.

    Returns the document to hand to the grantee or a relayer.
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
        nonce=int(fc.consents.functions.nonces(patient).call()),
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
            nonce=int(fc.records.functions.nonces(patient).call()),
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


@dataclass(frozen=True)
class Relayed:
    """What relaying a signed consent did."""

    patient: str
    grantee: str
    bundle_cid: str | None


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
        grant_call = actor.fc.consents.functions.grantWithSig(
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
            release_call = actor.fc.records.functions.releaseKeysWithSig(
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
    actor.sender.transact(grant_call, "relay consent")
    if not release:
        return Relayed(m["patient"], m["grantee"], None)
    actor.sender.transact(release_call, "relay key release")
    return Relayed(m["patient"], m["grantee"], str(cid))


def consents_of(actor: Actor, patient: str) -> list[dict[str, Any]]:
    """Every grantee the patient ever granted, with the grant in force now (if any) and its history."""
    now = actor.fc.latest_timestamp()
    rows: dict[str, dict[str, Any]] = {}
    for event in actor.history.patient_events(patient):
        if event.name not in ("ConsentGranted", "ConsentRevoked", "AccessRequested"):
            continue
        grantee = str(event.args["grantee"])
        row = rows.setdefault(grantee, {"grantee": grantee, "events": []})
        row["events"].append({"event": event.name, "block": event.block})
    for grantee, row in rows.items():
        current = actor.fc.grant(patient, grantee)
        row["active"] = current.active_at(now)
        row["sections"] = section_names(current.sections)
        row["actions"] = [a for a, bit in (("read", 1), ("append", 2)) if current.actions & bit]
        row["purpose"] = current.purpose
        row["expires_at"] = current.expires_at
    return list(rows.values())
