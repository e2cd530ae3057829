"""A patient's audit trail as FHIR AuditEvent resources, one per chain event; and the accounting of disclosures,
one AuditEvent per (record, section, recipient).

Emergency access events carry ``purposeOfEvent`` (and the physician's ``agent.purposeOfUse``) break-the-glass
``BTG`` and emergency treatment ``ETREAT`` from HL7 v3 ``ActReason``, so a receiving system can flag them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from famchain.fhir._common import EVENT_SYSTEM, RECORD_SYSTEM, SECTION_SYSTEM, account_reference, instant, now
from famchain.fhir.exporting import finish
from famchain.records.sections import section_names

ACT_REASON: Final = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
DISCLOSURE_SYSTEM: Final = "urn:famchain:disclosure"
BREAK_THE_GLASS: Final[list[dict[str, Any]]] = [
    {"coding": [{"system": ACT_REASON, "code": "BTG", "display": "break the glass"}]},
    {"coding": [{"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"}]},
]
"""``purposeOfEvent`` of an emergency access."""
PURPOSE_CODES: Final[dict[str, tuple[str, str]]] = {
    "treatment": ("TREAT", "treatment"),
    "referral": ("TREAT", "treatment"),
    "insurance-claim": ("HPAYMT", "healthcare payment"),
    "research": ("HRESCH", "healthcare research"),
}
"""Consent purposes (their usual names) -> HL7 v3 ActReason; any other purpose travels as text."""
_SOURCE: Final = {
    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
    "code": "4",
    "display": "Application Server",
}

_AUDIT_ACTIONS: Final[dict[str, str]] = {
    "ResidentRegistered": "C",
    "ProfileUpdated": "U",
    "AgreementProposed": "C",
    "AgreementAccepted": "C",
    "AgreementRenewed": "U",
    "AgreementTerminated": "D",
    "ConsentGranted": "C",
    "ConsentRevoked": "D",
    "AccessRequested": "C",
    "AccessRequestWithdrawn": "D",
    "RecordAnchored": "C",
    "UpdateApproved": "U",
    "KeysReleased": "E",
    "EmergencySectionsSet": "U",
    "EmergencyDeclared": "E",
    "EmergencySharesReleased": "E",
    "EmergencyOpened": "R",
    "EmergencyReviewed": "U",
}
_AGENT_ARGS: Final = ("author", "releaser", "by", "proposer", "reviewer")
BREAK_THE_GLASS_EVENTS: Final = frozenset({"EmergencyDeclared", "EmergencySharesReleased", "EmergencyOpened"})


def _agents(name: str, args: Mapping[str, Any], patient: str) -> list[dict[str, Any]]:
    if name in BREAK_THE_GLASS_EVENTS and "physician" in args:
        agents = [
            {
                "who": account_reference(str(args["physician"])),
                "requestor": name != "EmergencySharesReleased",
                "purposeOfUse": BREAK_THE_GLASS,
            }
        ]
        if "institution" in args:
            agents[0]["location"] = {"display": f"institution {args['institution']}"}
        if "custodian" in args:
            agents.insert(0, {"who": account_reference(str(args["custodian"])), "requestor": True})
        return agents
    address = next((str(args[k]) for k in _AGENT_ARGS if k in args), str(args.get("patient", patient)))
    if name.startswith("Access") and "grantee" in args:
        address = str(args["grantee"])
    return [{"who": account_reference(address), "requestor": True}]


def audit_to_bundle(
    patient: str, events: list[dict[str, Any]], timestamps: Mapping[int, int]
) -> dict[str, Any]:
    """FHIR AuditEvent resources from chain events (``ChainEvent.to_json()``), one per event, in order.

    Args:
        patient: the audited patient.
        events: the events as JSON.
        timestamps: block number -> block time (the AuditEvent ``recorded`` instant).
    """
    entries = []
    for e in events:
        args = e["args"]
        name = e["event"]
        entities: list[dict[str, Any]] = [
            {
                "what": account_reference(patient),
                "type": {"code": "1", "display": "Person"},
                "role": {"code": "1"},
            }
        ]
        if "recordId" in args:
            record_id = (
                args["recordId"]
                if isinstance(args["recordId"], str)
                else "0x" + bytes(args["recordId"]).hex()
            )
            entities.append({"what": {"identifier": {"system": RECORD_SYSTEM, "value": record_id}}})
        if "grantee" in args:
            entities.append({"what": account_reference(str(args["grantee"])), "description": "grantee"})
        if "sections" in args:
            entities[0]["detail"] = [
                {"type": "sections", "valueString": ",".join(section_names(int(args["sections"])))},
            ]
        if "id" in args and name.startswith("Emergency"):
            entities[0].setdefault("detail", []).append({"type": "emergency", "valueString": str(args["id"])})
        entities.append(
            {
                "what": {"identifier": {"system": "urn:famchain:transaction", "value": str(e["tx"])}},
                "detail": [
                    {"type": "block", "valueString": str(e["block"])},
                    {"type": "logIndex", "valueString": str(e["log_index"])},
                ],
            }
        )
        resource: dict[str, Any] = {
            "resourceType": "AuditEvent",
            "type": {"system": EVENT_SYSTEM, "code": name, "display": name},
            "action": _AUDIT_ACTIONS.get(name, "E"),
            "recorded": instant(int(timestamps[int(e["block"])])),
            "outcome": "0",
            "agent": _agents(name, args, patient),
            "source": {"observer": {"display": f"famchain {e['contract']}"}, "type": [_SOURCE]},
            "entity": entities,
        }
        if name in BREAK_THE_GLASS_EVENTS:
            resource["purposeOfEvent"] = BREAK_THE_GLASS
        entries.append({"resource": resource})
    return finish({"resourceType": "Bundle", "type": "collection", "timestamp": now(), "entry": entries})


def _purpose(kind: str, purpose: str | None) -> list[dict[str, Any]]:
    if kind == "emergency":
        return BREAK_THE_GLASS
    if purpose is None:
        return []
    if kind in ("author", "family-doctor"):
        return [
            {"coding": [{"system": ACT_REASON, "code": "TREAT", "display": "treatment"}], "text": purpose}
        ]
    code = PURPOSE_CODES.get(purpose)
    if code is None:
        return [{"text": purpose}]
    return [{"coding": [{"system": ACT_REASON, "code": code[0], "display": code[1]}], "text": purpose}]


def disclosures_to_bundle(patient: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The accounting of disclosures (``Disclosure.to_json()`` rows) as FHIR AuditEvent resources: one per
    (record, section, recipient, kind), type DICOM ``110106`` Export (data leaving the subject's control) with
    the kind as subtype, the recipient as requesting agent (the releaser besides), the purpose as
    ``purposeOfEvent`` (HL7 v3 ActReason where one fits: ``BTG`` + ``ETREAT`` for an emergency), the record and
    section, and the proving transaction as entities.
    """
    entries = []
    for row in rows:
        agents: list[dict[str, Any]] = [{"who": account_reference(str(row["recipient"])), "requestor": True}]
        purpose = _purpose(str(row["as"]), row.get("purpose"))
        if purpose:
            agents[0]["purposeOfUse"] = purpose
        if row.get("releaser"):
            agents.append({"who": account_reference(str(row["releaser"])), "requestor": False})
        proof = row["proof"]
        entities: list[dict[str, Any]] = [
            {
                "what": account_reference(patient),
                "type": {"code": "1", "display": "Person"},
                "role": {"code": "1"},
            },
            {
                "what": {"identifier": {"system": RECORD_SYSTEM, "value": str(row["record"])}},
                "detail": [{"type": "section", "valueString": str(row["section"])}],
            },
            {
                "what": {"identifier": {"system": "urn:famchain:transaction", "value": str(proof["tx"])}},
                "description": f"{proof['event']} in block {proof['block']}",
                "detail": [{"type": "basis", "valueString": str(row["basis"])}],
            },
        ]
        grounds = row.get("grounds")
        if grounds:
            entities.append(
                {
                    "what": {
                        "identifier": {"system": "urn:famchain:transaction", "value": str(grounds["tx"])}
                    },
                    "description": f"grounds: {grounds['event']} in block {grounds['block']}",
                }
            )
        resource: dict[str, Any] = {
            "resourceType": "AuditEvent",
            "type": {
                "system": "http://dicom.nema.org/resources/ontology/DCM",
                "code": "110106",
                "display": "Export",
            },
            "subtype": [
                {
                    "system": DISCLOSURE_SYSTEM,
                    "code": str(row["as"]),
                    "display": f"key received as {row['as']}",
                },
                {"system": SECTION_SYSTEM, "code": str(row["section"])},
            ],
            "action": "R",
            "recorded": instant(int(row["at"])),
            "outcome": "0",
            "agent": agents,
            "source": {"observer": {"display": "famchain accounting of disclosures"}, "type": [_SOURCE]},
            "entity": entities,
        }
        if purpose:
            resource["purposeOfEvent"] = purpose
        entries.append({"resource": resource})
    return finish({"resourceType": "Bundle", "type": "collection", "timestamp": now(), "entry": entries})
