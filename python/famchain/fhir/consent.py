"""A patient's consents as FHIR Consent resources: grantee, purpose, period and data scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from famchain.fhir._common import PURPOSE_SYSTEM, SECTION_SYSTEM, account_reference, instant, now
from famchain.fhir.exporting import finish
from famchain.fhir.importing import SECTION_RESOURCES

_PURPOSES: Final[dict[int, tuple[str, str, str]]] = {
    # famchain purpose -> (famchain code, v3 ActReason code, display)
    1: ("treatment", "TREAT", "treatment"),
    2: ("referral", "TREAT", "treatment (referral)"),
    3: ("insurance-claim", "CLMATTCH", "claim attachment"),
    4: ("research", "HRESCH", "healthcare research"),
}


def _section_bits(names: Iterable[str]) -> list[dict[str, Any]]:
    return [{"system": SECTION_SYSTEM, "code": n} for n in names]


def consents_to_bundle(patient: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """FHIR Consent resources from ``consents_of`` rows: grantee, purpose, period and data scope.

    A grant in force is ``active``, an expired or revoked one ``inactive``; a grantee that only asked for
    access (no grant yet) is ``proposed`` and has no provision.
    """
    entries = []
    for row in rows:
        granted = bool(row.get("sections"))  # a grant is stored now (in force or expired)
        ever = any(e.get("event") == "ConsentGranted" for e in row.get("events", []))
        status = "active" if row.get("active") else ("inactive" if granted or ever else "proposed")
        consent: dict[str, Any] = {
            "resourceType": "Consent",
            "status": status,
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            "category": [
                {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}
            ],
            "patient": account_reference(patient),
            "performer": [account_reference(patient)],
            "policyRule": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
            },
        }
        if granted:
            purpose = _PURPOSES.get(int(row.get("purpose") or 0))
            actions = [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "access" if a == "read" else "correct",
                        }
                    ],
                    "text": a,
                }
                for a in row.get("actions", [])
            ]
            classes = sorted({t for s in row["sections"] for t in SECTION_RESOURCES.get(s, ())})
            provision: dict[str, Any] = {
                "type": "permit",
                "period": {"end": instant(int(row["expires_at"]))},
                "actor": [
                    {
                        "role": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                    "code": "IRCP",
                                    "display": "information recipient",
                                }
                            ]
                        },
                        "reference": account_reference(str(row["grantee"])),
                    }
                ],
                "action": actions,
                "class": [{"system": "http://hl7.org/fhir/resource-types", "code": t} for t in classes],
                "code": [{"coding": _section_bits(row["sections"])}],
            }
            if purpose is not None:
                code, v3, display = purpose
                provision["purpose"] = [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": v3,
                        "display": display,
                    },
                    {"system": PURPOSE_SYSTEM, "code": code},
                ]
            consent["provision"] = provision
        else:
            # Revoked (the grant is gone from the chain) or only requested: who, without a scope.
            consent["provision"] = {
                "actor": [
                    {
                        "role": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                    "code": "IRCP",
                                }
                            ]
                        },
                        "reference": account_reference(str(row["grantee"])),
                    }
                ],
            }
        entries.append({"resource": consent})
    return finish({"resourceType": "Bundle", "type": "collection", "timestamp": now(), "entry": entries})
