"""FHIR R4 through the CLI on the devnet: a Bundle becomes a sealed record; a reader gets a Bundle of only what
they may read; consents and the audit trail export as FHIR Consent and AuditEvent resources. (The mapping itself
is tested without a chain in tests/python/fhir/.)"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from _cli_support import Cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fhir"))  # the FHIR suites' published data
from _fhir_support import USCORE, visits_of
from fhir.resources.R4B.bundle import Bundle

from _world import World
from famchain import fhir

PATIENT_REF = {"reference": "urn:uuid:0f1c3b7e-1d8e-4a43-9a61-3c1f7b1e2a01"}
PDF = b"%PDF-1.4 chest x-ray report\n"
BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "fullUrl": PATIENT_REF["reference"],
            "resource": {"resourceType": "Patient", "name": [{"family": "Li", "given": ["Lei"]}]},
        },
        {
            "fullUrl": "urn:uuid:7d2b9f1a-3c4e-4b5a-8e6f-9a0b1c2d3e4f",
            "resource": {
                "resourceType": "Medication",
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "322236009"}],
                    "text": "Paracetamol 500 mg",
                },
            },
        },
        {
            "resource": {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": PATIENT_REF,
                "reasonCode": [{"text": "Cough and low fever for three days."}],
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                "code": "problem-list-item",
                            }
                        ]
                    }
                ],
                "code": {"text": "Hypertension since 2015, on amlodipine."},
                "subject": PATIENT_REF,
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/sid/icd-10",
                            "code": "J06.9",
                            "display": "Acute upper respiratory infection",
                        }
                    ]
                },
                "subject": PATIENT_REF,
            }
        },
        {
            "resource": {
                "resourceType": "FamilyMemberHistory",
                "status": "completed",
                "patient": PATIENT_REF,
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                            "code": "FTH",
                            "display": "father",
                        }
                    ]
                },
                "condition": [{"code": {"text": "Type 2 diabetes"}}],
            }
        },
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationReference": {"reference": "urn:uuid:7d2b9f1a-3c4e-4b5a-8e6f-9a0b1c2d3e4f"},
                "subject": PATIENT_REF,
                "dosageInstruction": [
                    {
                        "text": "1 tablet",
                        "route": {"text": "oral"},
                        "timing": {"code": {"text": "every 6 h if fever"}},
                    }
                ],
                "dispenseRequest": {
                    "expectedSupplyDuration": {
                        "value": 3,
                        "unit": "days",
                        "system": "http://unitsofmeasure.org",
                        "code": "d",
                    }
                },
                "note": [{"text": "max 4 a day"}],
            }
        },
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [
                        {"system": "http://loinc.org", "code": "8310-5", "display": "Body temperature"}
                    ]
                },
                "subject": PATIENT_REF,
                "valueQuantity": {
                    "value": 37.9,
                    "unit": "°C",
                    "system": "http://unitsofmeasure.org",
                    "code": "Cel",
                },
                "referenceRange": [
                    {"low": {"value": 36.0, "unit": "°C"}, "high": {"value": 37.2, "unit": "°C"}}
                ],
            }
        },
        {
            "resource": {
                "resourceType": "DiagnosticReport",
                "status": "final",
                "code": {"text": "Chest X-ray"},
                "conclusion": "No consolidation.",
            }
        },
        {
            "resource": {
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "title": "xray.pdf",
                            "data": base64.b64encode(PDF).decode(),
                        }
                    }
                ],
            }
        },
    ],
}


def _types(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle.get("entry", [])]


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(BUNDLE))
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


# --- through the CLI on the devnet --------------------------------------------------------------------------


def _fhir_out(cli: Cli, who: Any, *args: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(cli.ok(who, *args, "--fhir").stdout)
    Bundle.model_validate(out)
    return out


def test_fhir_submit_read_consent_and_audit(cli: Cli, world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "visit-bundle.json"
    bundle.write_text(json.dumps(BUNDLE, ensure_ascii=False))
    patient = world.patient.address
    cli.tx(world.family_doctor, "record", "submit", "--patient", patient, "--fhir", str(bundle))
    record = cli.json(world.patient, "record", "list", "--patient", patient)["records"][0]["record"]

    # The patient reads everything back, as FHIR, and it maps to the same sections.
    mine = _fhir_out(cli, world.patient, "record", "read", record)
    assert mine["identifier"]["value"] == record
    sections = dict(fhir.record_from_bundle(mine).sections)
    assert sections == fhir.record_from_bundle(BUNDLE).sections
    assert base64.b64decode(sections.pop("attachments")[0]["data"]) == PDF

    # The insurer, consented to diagnosis and prescriptions only, gets only those resources.
    cli.tx(
        world.patient,
        "consent",
        "grant",
        world.insurer.address,
        "--sections",
        "diagnosis,prescriptions",
        "--purpose",
        "insurance-claim",
        "--days",
        "30",
    )
    theirs = _fhir_out(cli, world.insurer, "record", "read", record)
    assert _types(theirs) == ["Condition", "MedicationRequest"]
    assert theirs["entry"][0]["resource"]["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10"
    assert "Cough" not in json.dumps(theirs)
    assert fhir.record_from_bundle(theirs).names == ["diagnosis", "prescriptions"]

    # Consents as FHIR Consent resources: grantee, purpose, period and data scope.
    consents = _fhir_out(cli, world.patient, "consent", "list")
    (insurer,) = [
        e["resource"]
        for e in consents["entry"]
        if e["resource"]["provision"]["actor"][0]["reference"]["identifier"]["value"] == world.insurer.address
    ]
    assert insurer["status"] == "active"
    assert insurer["patient"]["identifier"]["value"] == patient
    provision = insurer["provision"]
    assert provision["type"] == "permit"
    assert {c["code"] for c in provision["purpose"]} == {"CLMATTCH", "insurance-claim"}
    assert [c["code"] for c in provision["code"][0]["coding"]] == ["diagnosis", "prescriptions"]
    assert [c["code"] for c in provision["class"]] == ["Condition", "MedicationRequest"]
    assert provision["action"][0]["coding"][0]["code"] == "access"
    grant = world.chain.consents.grant_of(patient, world.insurer.address)
    assert provision["period"]["end"] == fhir.instant(grant.expiresAt)

    cli.tx(world.patient, "consent", "revoke", world.insurer.address)
    revoked = _fhir_out(cli, world.patient, "consent", "list")
    statuses = {
        e["resource"]["provision"]["actor"][0]["reference"]["identifier"]["value"]: e["resource"]["status"]
        for e in revoked["entry"]
    }
    assert statuses[world.insurer.address] == "inactive"

    # The audit trail as AuditEvents, one per chain event, in order.
    audit = _fhir_out(cli, world.patient, "audit", "--patient", patient)
    events = cli.json(world.patient, "audit", "--patient", patient)["events"]
    assert [e["resource"]["type"]["code"] for e in audit["entry"]] == [e["event"] for e in events]
    anchored = next(
        e["resource"] for e in audit["entry"] if e["resource"]["type"]["code"] == "RecordAnchored"
    )
    assert anchored["action"] == "C"
    assert anchored["agent"][0]["who"]["identifier"]["value"] == world.family_doctor.address
    assert {"system": "urn:famchain:record", "value": record} in [
        x["what"].get("identifier") for x in anchored["entity"]
    ]
    assert {e["resource"]["type"]["code"] for e in audit["entry"]} >= {
        "ResidentRegistered",
        "AgreementAccepted",
        "RecordAnchored",
        "ConsentGranted",
        "KeysReleased",
        "ConsentRevoked",
    }


def test_fhir_submit_refuses_invalid_bundle_with_one_line(cli: Cli, world: World, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(("entry", 7, "resource", "status"), KeyError)))
    message = cli.fail(
        world.family_doctor,
        "record",
        "submit",
        "--patient",
        world.patient.address,
        "--fhir",
        str(bad),
        "--yes",
    )
    assert (
        message
        == f"{bad}: Bundle.entry[7].resource(Observation).status: Value for the field 'status' is required."
    )

    both = cli.fail(world.family_doctor, "record", "submit", "--patient", world.patient.address, "--yes")
    assert both == "give the record as --file RECORD.json or --fhir BUNDLE.json (one of them)"


def test_fhir_submit_of_a_published_us_core_visit_reads_back_the_same(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    """A whole EHR visit export (PySynthea US Core, tests/data/fhir): Claim, CareTeam and the rest are skipped,
    the rest is sealed, and the patient reads back a Bundle that maps to the same record."""
    visit = visits_of(USCORE[0])[10]
    bundle = tmp_path / "visit.json"
    bundle.write_text(json.dumps(visit))
    patient = world.patient.address
    cli.tx(world.family_doctor, "record", "submit", "--patient", patient, "--fhir", str(bundle))
    record = cli.json(world.patient, "record", "list", "--patient", patient)["records"][-1]["record"]
    mine = _fhir_out(cli, world.patient, "record", "read", record)
    assert fhir.record_from_bundle(mine).sections == fhir.import_bundle(visit).content.sections
