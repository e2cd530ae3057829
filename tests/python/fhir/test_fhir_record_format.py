"""The record format's side of the mapping: the allergies section in the section table, narrative sections as
text or items, items that keep a FHIR resource, and a doctor-typed record exported to valid FHIR and back."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from famchain import fhir
from famchain.errors import InputError
from famchain.records.model import Attachment, parse_record
from famchain.records.sections import (
    ALL_SECTIONS,
    LABELS_ZH,
    SECTION_NAMES,
    Section,
    section_mask,
    section_names,
)

PATIENT = "0x" + "ab" * 20
PDF = b"%PDF-1.4 chest x-ray report\n"
TYPED: dict[str, Any] = {
    "version": 1,
    "sections": {
        "present_illness": "Cough and low fever for three days.",
        "past_history": "Hypertension since 2015.",
        "family_history": "Father: type 2 diabetes.",
        "diagnosis": [
            {
                "text": "Acute upper respiratory infection",
                "code": "J06.9",
                "system": "ICD-10",
                "status": "active",
                "date": "2024-05-01",
            }
        ],
        "prescriptions": [
            {
                "drug": "Paracetamol 500 mg",
                "dose": "1 tablet",
                "route": "oral",
                "frequency": "every 6 h if fever",
                "days": 3,
                "note": "max 4 a day",
            }
        ],
        "examinations": [
            {
                "name": "Body temperature",
                "value": "37.9",
                "unit": "°C",
                "reference_range": "36.0-37.2",
                "interpretation": "High",
                "code": "8310-5",
                "system": "LOINC",
                "date": "2024-05-01",
            }
        ],
        "allergies": [
            {
                "substance": "青霉素 (penicillin)",
                "category": "medication",
                "criticality": "high",
                "reaction": "皮疹 (rash)",
                "status": "active",
            }
        ],
    },
}


def test_allergies_is_bit_7_and_all_sections_is_0xff() -> None:
    assert Section.ALLERGIES == 0x80
    assert ALL_SECTIONS == 0xFF
    assert list(SECTION_NAMES)[-1] == "allergies"
    assert LABELS_ZH["allergies"] == "过敏史"
    assert section_mask(["allergies"]) == 0x80
    assert section_mask(["all"]) == 0xFF
    assert section_names(0xFF) == list(SECTION_NAMES)
    assert len(SECTION_NAMES) == 8


def test_typed_record_with_allergies_parses() -> None:
    content = parse_record(TYPED)
    assert content.names == [*list(SECTION_NAMES)[:6], "allergies"]
    assert content.sections["allergies"][0]["substance"] == "青霉素 (penicillin)"


def test_typed_record_exports_to_valid_fhir_and_back() -> None:
    content = parse_record(TYPED, [Attachment("xray.pdf", "application/pdf", PDF)])
    out = fhir.bundle_from_sections(
        content.sections, patient=PATIENT, record_id="0x" + "11" * 32, author="0x" + "cd" * 20
    )
    Bundle.model_validate(out)
    kinds = [e["resource"]["resourceType"] for e in out["entry"]]
    assert kinds == ["Observation"] * 3 + [
        "Condition",
        "MedicationRequest",
        "Observation",
        "DocumentReference",
        "AllergyIntolerance",
    ]
    narrative = [e["resource"]["code"]["coding"][0]["code"] for e in out["entry"][:3]]
    assert narrative == ["10164-2", "11348-0", "10157-6"]  # LOINC history narratives
    assert [e["resource"]["meta"]["tag"][0]["code"] for e in out["entry"]] == [
        "present_illness",
        "past_history",
        "family_history",
        "diagnosis",
        "prescriptions",
        "examinations",
        "attachments",
        "allergies",
    ]
    allergy = out["entry"][-1]["resource"]
    assert (allergy["criticality"], allergy["category"], allergy["clinicalStatus"]["coding"][0]["code"]) == (
        "high",
        ["medication"],
        "active",
    )
    assert out["entry"][3]["resource"]["code"]["coding"][0] == {
        "code": "J06.9",
        "display": "Acute upper respiratory infection",
        "system": "http://hl7.org/fhir/sid/icd-10",
    }
    again = fhir.import_bundle(out).content
    attachments = again.sections["attachments"]
    assert base64.b64decode(attachments[0]["data"]) == PDF
    assert attachments[0]["name"] == "xray.pdf"
    back = {k: v for k, v in again.sections.items() if k != "attachments"}
    # The typed items come back with the resource they became; their fields are the same, plus the status FHIR
    # requires where the doctor gave none (a prescription is "active", an examination "final").
    for name, value in TYPED["sections"].items():
        if isinstance(value, str):
            assert back[name] == value
            continue
        defaults = {"prescriptions": {"status": "active"}, "examinations": {"status": "final"}}.get(name, {})
        assert [{k: v for k, v in item.items() if k != "fhir"} for item in back[name]] == [
            defaults | i for i in value
        ]


def test_narrative_section_takes_text_or_items() -> None:
    items = [
        {"text": "Appendectomy 2010", "date": "2010-03-02"},
        {"text": "Measles vaccine", "code": "05", "system": "CVX"},
    ]
    content = parse_record({"sections": {"past_history": items}})
    assert content.sections["past_history"] == items
    out = fhir.bundle_from_sections(content.sections, patient=PATIENT)
    assert [e["resource"]["valueString"] for e in out["entry"]] == ["Appendectomy 2010", "Measles vaccine"]
    assert fhir.import_bundle(out).content.sections["past_history"] == "Appendectomy 2010\nMeasles vaccine"


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"diagnosis": [{"text": "x", "fhir": {"resourceType": "Observation"}}]},
            "sections.diagnosis[0].fhir.resourceType: expected one of Condition",
        ),
        (
            {"allergies": [{"substance": "x", "fhir": []}]},
            "sections.allergies[0].fhir: expected a FHIR resource object, got list",
        ),
        ({"present_illness": [{"date": "2024-01-01"}]}, "sections.present_illness[0].text: is required"),
        ({"present_illness": 7}, "sections.present_illness: expected text, got int"),
        (
            {"allergies": [{"substance": "x", "severity": "bad"}]},
            "sections.allergies[0].severity: unknown field",
        ),
        (
            {
                "examinations": [
                    {
                        "name": "x",
                        "value": "1",
                        "fhir": {"resourceType": "Observation", "note": [{"text": "a" * 1_100_000}]},
                    }
                ]
            },
            "sections.examinations[0].fhir: larger than 1024 KiB",
        ),
    ],
)
def test_record_format_errors_name_the_field(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_record({"sections": sections})
    assert str(info.value).startswith(message), str(info.value)


def test_import_result_json_and_summary() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "gender": "female"}},
            {
                "resource": {
                    "resourceType": "Claim",
                    "status": "active",
                    "type": {"text": "x"},
                    "use": "claim",
                    "patient": {"display": "p"},
                    "created": "2024-01-01",
                    "provider": {"display": "o"},
                    "priority": {"text": "normal"},
                    "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "c"}}],
                }
            },
            {
                "resource": {
                    "resourceType": "AllergyIntolerance",
                    "patient": {"display": "p"},
                    "code": {"text": "peanut"},
                }
            },
        ],
    }
    result = fhir.import_bundle(bundle)
    assert result.to_json() == {
        "entries": 3,
        "sections": {"allergies": 1},
        "mapped": [{"index": 2, "type": "AllergyIntolerance", "section": "allergies"}],
        "skipped": [
            {
                "index": 0,
                "type": "Patient",
                "kind": "context",
                "reason": "never part of a record (its fields go to the resident's sealed profile)",
            },
            {"index": 1, "type": "Claim", "kind": "unmapped", "reason": "not mapped to a record section"},
        ],
    }
    assert result.summary() == (
        "mapped 1 of 3 entries: allergies 1\n"
        "skipped 2 entries:\n"
        "  no section for: Claim x1\n"
        "  context only: Patient x1\n"
        "  the Patient is never part of a record (resident register --fhir-patient reads it)"
    )
    assert json.dumps(result.content.sections).count("peanut") == 2  # the summary field and the kept resource
