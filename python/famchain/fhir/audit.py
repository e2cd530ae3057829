"""A patient's audit trail as FHIR AuditEvent resources, one per chain event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from famchain.fhir._common import EVENT_SYSTEM, RECORD_SYSTEM, account_reference, instant, now
from famchain.fhir.exporting import finish
from famchain.records.sections import section_names

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
}
_AGENT_ARGS: Final = ("author", "releaser", "by", "proposer")


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
        agent_address = next(
            (str(args[k]) for k in _AGENT_ARGS if k in args), str(args.get("patient", patient))
        )
        if name.startswith("Access") and "grantee" in args:
            agent_address = str(args["grantee"])
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
        entities.append(
            {
                "what": {"identifier": {"system": "urn:famchain:transaction", "value": str(e["tx"])}},
                "detail": [
                    {"type": "block", "valueString": str(e["block"])},
                    {"type": "logIndex", "valueString": str(e["log_index"])},
                ],
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "AuditEvent",
                    "type": {"system": EVENT_SYSTEM, "code": name, "display": name},
                    "action": _AUDIT_ACTIONS.get(name, "E"),
                    "recorded": instant(int(timestamps[int(e["block"])])),
                    "outcome": "0",
                    "agent": [{"who": account_reference(agent_address), "requestor": True}],
                    "source": {
                        "observer": {"display": f"famchain {e['contract']}"},
                        "type": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                                "code": "4",
                                "display": "Application Server",
                            }
                        ],
                    },
                    "entity": entities,
                }
            }
        )
    return finish({"resourceType": "Bundle", "type": "collection", "timestamp": now(), "entry": entries})
