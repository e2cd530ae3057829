"""A FHIR Patient -> the resident's sealed profile: name, sex, birth date, contact, address, and only the
identifiers the resident keeps. Data: the HL7 Chinese Patient example and the US Core Synthea patients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _fhir_support import USCORE, load, resources, visits_of

from famchain import fhir
from famchain.errors import InputError
from famchain.records.profile import FIELDS, parse_profile


def test_chinese_patient_profile() -> None:
    profile = fhir.profile_from_patient(load("hl7-r4/Patient-ch-example.json"))
    assert profile == {
        "name": "张无忌",
        "sex": "male",
        "birth_date": "1974-12-25",
        "contact": "work phone: 18337177888",
        "address": "上海市黄埔区马当路190号 200000",
    }
    assert parse_profile(profile) == profile  # the documented profile format, ready to seal


def test_identifiers_are_kept_only_when_the_resident_names_them() -> None:
    patient = load("hl7-r4/Patient-ch-example.json")
    assert "national_id" not in fhir.profile_from_patient(patient)
    kept = fhir.profile_from_patient(patient, ["MR"])
    assert kept["national_id"] == "MR: 3112219680806371X"
    by_system = fhir.profile_from_patient(patient, ["urn:oid:1.2.36.146.595.217.0.1"])
    assert by_system["national_id"] == kept["national_id"]
    with pytest.raises(InputError, match=r"^the Patient has no identifier 'SS' \(it has: MR\)$"):
        fhir.profile_from_patient(patient, ["SS"])


@pytest.mark.parametrize("name", USCORE)
def test_us_core_patient_profile(name: str) -> None:
    (patient,) = resources(load(name), "Patient")
    profile = fhir.profile_from_patient(patient)
    official = patient["name"][0]
    assert profile["name"] == " ".join([*official["given"], official["family"]])
    assert (profile["sex"], profile["birth_date"]) == (patient["gender"], patient["birthDate"])
    assert patient["address"][0]["line"][0] in profile["address"]
    assert patient["telecom"][0]["value"] in profile["contact"]
    assert set(profile) <= set(FIELDS)
    assert "national_id" not in profile
    text = json.dumps(profile)
    for ident in patient["identifier"]:
        assert ident["value"] not in text
    ssn = next(
        i["value"] for i in patient["identifier"] if i.get("system") == "http://hl7.org/fhir/sid/us-ssn"
    )
    choices = fhir.identifier_choices(patient)
    assert {c.type_code for c in choices} >= {"MR", "SS"}
    kept = fhir.profile_from_patient(patient, ["ss"])
    assert kept["national_id"] == f"Social Security Number: {ssn}"


def test_patient_from_a_visit_bundle_and_file(tmp_path: Path) -> None:
    visit = visits_of(USCORE[0])[3]
    (patient,) = resources(visit, "Patient")
    assert fhir.patient_of(visit) == patient
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(visit))
    assert fhir.load_patient_profile(path) == fhir.profile_from_patient(patient)
    # the same Patient that import_bundle hands back, never part of the record
    assert fhir.import_bundle(visit).patient == patient


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"resourceType": "Bundle", "type": "collection", "entry": []},
            "expected one Patient in the Bundle, found 0",
        ),
        (
            load("hl7-r4/Condition-example.json"),
            "expected a FHIR Patient or a Bundle holding one, got 'Condition'",
        ),
        ({"resourceType": "Patient", "birthDate": "25/12/1974"}, "Patient.birthDate: "),
        ({"resourceType": "Patient", "active": True}, "profile: at least one field is required"),
    ],
)
def test_bad_patient_is_one_line(document: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        fhir.profile_from_patient(fhir.patient_of(document))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
