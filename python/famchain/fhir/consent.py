"""A patient's consents as FHIR Consent resources: grantee, purpose, period and data scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from famchain.fhir._common import PURPOSE_SYSTEM, SECTION_SYSTEM, account_reference, instant, now
from famchain.fhir.exporting import finish
from famchain.fhir.importing import SECTION_RESOURCES

_PURPOSES: Final[dict[str, tuple[str, str]]] = {
    # famchain purpose -> (v3 ActReason code, display); other purposes are text (the consent terms')
    "treatment": ("TREAT", "treatment"),
    "referral": ("TREAT", "treatment (referral)"),
    "insurance-claim": ("CLMATTCH", "claim attachment"),
    "research": ("HRESCH", "healthcare research"),
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
            text = row.get("purpose")
            known = _PURPOSES.get(str(text)) if text else None
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
            if known is not None:
                v3, display = known
                provision["purpose"] = [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": v3,
                        "display": display,
                    },
                    {"system": PURPOSE_SYSTEM, "code": str(text)},
                ]
            elif text and text != "committed":
                # A purpose in the patient's own words: kept as text (FHIR Coding.display alone).
                provision["purpose"] = [{"system": PURPOSE_SYSTEM, "display": str(text)}]
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
