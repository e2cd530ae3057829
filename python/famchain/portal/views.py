"""What the portal's JSON API answers: a resident's standing, card, inbox and audit trail, from the chain.

Everything here reads through :class:`famchain.Client` (no contract call) and returns JSON-ready dicts with
addresses described by the :class:`~famchain.portal.directory.Directory` and times as unix seconds (the page
shows them as local dates). Nothing here is secret: the chain is public to every member, and sealed bytes stay
sealed (the browser opens them with the resident's own key).
"""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from famchain.chain.history import ChainEvent
from famchain.client import Client
from famchain.portal.amendments import AmendmentBox
from famchain.portal.directory import Directory
from famchain.records.sections import LABELS_ZH, SECTION_NAMES, Purpose, action_names, section_names
from famchain.records.terms import REQUEST_TERMS_SALT
from famchain.services.guardians import scope_names
from famchain.storage.cid import cid_from_digest

PURPOSES_ZH = {
    Purpose.TREATMENT: "诊疗",
    Purpose.REFERRAL: "转诊",
    Purpose.INSURANCE_CLAIM: "保险理赔",
    Purpose.RESEARCH: "科研",
}


def config(client: Client) -> dict[str, Any]:
    """``GET /api/config``: chain, contracts, relayer and the names of sections, purposes and scopes."""
    return {
        "chainId": client.chain_id,
        "contracts": dict(client.deployment.addresses),
        "relayer": client.address,
        "sections": [
            {"name": name, "bit": int(bit), "en": name.replace("_", " "), "zh": LABELS_ZH[name]}
            for name, bit in SECTION_NAMES.items()
        ],
        "purposes": [{"name": p.value, "zh": PURPOSES_ZH[p]} for p in Purpose],
        "scopes": scope_names(0x3F),
        "now": client.now(),
    }


def _key_kind(address: str, key: bytes) -> str:
    if not key:
        return "none"
    return (
        "account" if to_checksum_address(keccak(key)[12:]) == to_checksum_address(address) else "registered"
    )


def resident(client: Client, names: Directory, address: str) -> dict[str, Any]:
    """``GET /api/residents/{address}``: registration, key kind, family doctor, guardians and wards."""
    info = client.residents.show(address)
    doctor = client.agreements.active(address)
    return {
        "who": names.describe(client, address),
        "registered": info.registered,
        "locked": info.locked,
        "encryptionKey": "0x" + info.encryption_key.hex() if info.encryption_key else None,
        "keyKind": _key_kind(address, info.encryption_key),
        "familyDoctor": None
        if doctor is None
        else {
            "who": names.describe(client, doctor.doctor),
            "sections": section_names(doctor.sections),
            "actions": action_names(doctor.actions),
            "endsAt": doctor.endsAt,
        },
        "guardians": [
            {
                "who": names.describe(client, g.guardian),
                "scope": g.scopes,
                "expiresAt": g.expires_at,
                "dependent": g.dependent,
                "active": g.active,
            }
            for g in client.guardians.list(address)
        ],
        "wards": [
            {
                "who": names.describe(client, g.resident),
                "scope": g.scopes,
                "expiresAt": g.expires_at,
                "dependent": g.dependent,
                "active": g.active,
            }
            for g in client.guardians.wards(address)
        ],
        "now": client.now(),
    }


def card(client: Client, names: Directory, patient: str) -> dict[str, Any]:
    """``GET /api/residents/{address}/card``: the verified card, with what the browser needs to open each record
    (CID and the envelope context: salt, patient, author, chain, registry)."""
    records = client.records.card(patient)
    newer: dict[str, list[str]] = {}
    for r in records:
        if r.is_update:
            newer.setdefault(r.previous.to_0x_hex(), []).append(r.record_id.to_0x_hex())
    people: dict[str, dict[str, Any]] = {}
    out = []
    for r in records:
        if r.author not in people:
            people[r.author] = names.describe(client, r.author)
        rid = r.record_id.to_0x_hex()
        out.append(
            {
                "record": rid,
                "index": r.index,
                "author": people[r.author],
                "anchoredAt": r.anchored_at,
                "sections": section_names(r.sections),
                "kind": r.kind.name.lower(),
                "cid": str(r.cid),
                "salt": "0x" + r.salt.hex(),
                "previous": r.previous.to_0x_hex() if r.is_update else None,
                "newer": newer.get(rid, []),
                "erased": client.records.is_erased(r.record_id),
            }
        )
    return {
        "patient": to_checksum_address(patient),
        "chainId": client.chain_id,
        "registry": client.chain.records.address,
        "records": out,
    }


def inbox(client: Client, names: Directory, box: AmendmentBox, patient: str) -> dict[str, Any]:
    """``GET /api/residents/{address}/inbox``: proposals, requests, consents in force, amendments."""
    proposals = [
        {
            "doctor": names.describe(client, w.doctor),
            "sections": section_names(w.proposal.sections),
            "actions": action_names(w.proposal.actions),
            "term": w.proposal.term,
            "expiresAt": w.proposal.expiresAt,
        }
        for w in client.agreements.proposals(patient)
        if w.proposer != w.resident
    ]
    requests, consents = [], []
    for summary in client.consents.list(patient):
        who = names.describe(client, summary.grantee)
        if summary.request is not None:
            requests.append(
                {
                    "grantee": who,
                    "sections": section_names(summary.request.sections),
                    "actions": action_names(summary.request.actions),
                    "duration": summary.request.duration,
                    "terms": {
                        "cid": str(cid_from_digest(summary.request.terms, 0x55)),
                        "context": {
                            "salt": "0x" + REQUEST_TERMS_SALT.hex(),
                            "patient": to_checksum_address(patient),
                            "author": summary.grantee,
                            "chainId": client.chain_id,
                            "registry": client.chain.consents.address,
                        },
                    },
                    "encryptionKey": _key_hex(client, summary.grantee),
                }
            )
        if summary.active:
            consents.append(
                {
                    "grantee": who,
                    "sections": summary.sections,
                    "actions": summary.actions,
                    "expiresAt": summary.grant.expiresAt,
                    "purpose": summary.purpose,
                    "terms": None if summary.terms is None else summary.to_json()["terms"],
                }
            )
    amendments = box.waiting(patient)
    for a in amendments:
        a["author"] = names.describe(client, a["author"])
    return {
        "patient": to_checksum_address(patient),
        "proposals": proposals,
        "requests": requests,
        "consents": consents,
        "amendments": amendments,
        "now": client.now(),
    }


def _key_hex(client: Client, account: str) -> str | None:
    key = client.chain.encryption_key(account)
    return "0x" + key.hex() if key else None


def audit(client: Client, names: Directory, patient: str) -> dict[str, Any]:
    """``GET /api/residents/{address}/audit``: every event of the patient's history with its time, the
    guardian who signed it when one did ("by guardian X for resident Y"), and names for the addresses."""
    events = client.audit.events(patient)
    times = client.audit.timestamps(events)
    by_guardian = {e.tx_hash: str(e.args["guardian"]) for e in events if e.name == "GuardianActed"}
    people: dict[str, dict[str, Any]] = {}

    def who(address: str) -> dict[str, Any]:
        if address not in people:
            people[address] = names.describe(client, address)
        return people[address]

    entries = []
    for e in events:
        if e.name == "GuardianActed":
            continue
        entries.append(_entry(e, times[e.block], by_guardian.get(e.tx_hash), who))
    return {"patient": to_checksum_address(patient), "entries": entries}


_PARTIES = ("doctor", "grantee", "guardian", "author", "releaser", "physician", "custodian", "by", "proposer")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _entry(e: ChainEvent, time: int, guardian: str | None, who: Any) -> dict[str, Any]:
    args = {k: _jsonable(v) for k, v in e.args.items()}
    if "sections" in e.args and isinstance(e.args["sections"], int):
        args["sectionNames"] = section_names(int(e.args["sections"]))
    parties = {k: who(str(e.args[k])) for k in _PARTIES if k in e.args and int(str(e.args[k]), 16)}
    return {
        "event": e.name,
        "contract": e.contract,
        "block": e.block,
        "tx": e.tx_hash,
        "time": time,
        "args": args,
        "parties": parties,
        "guardian": who(guardian) if guardian else None,
    }
