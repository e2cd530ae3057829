"""FHIR import on published synthetic patients (tests/data/fhir/README.md): every entry is mapped or reported,
each mapped item says what its source says, strict mode refuses, bad input gives one line."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from _fhir_support import HL7_BUNDLES, INVALID, SYNTHEA, USCORE, load, resources, visits_of, wrap

from famchain import fhir
from famchain.errors import FamchainError, InputError
from famchain.fhir import importing
from famchain.records.sections import SECTION_NAMES

VISITS = [(name, n) for name in USCORE + SYNTHEA for n in range(len(visits_of(name)))]


def _visit(name: str, n: int) -> dict[str, Any]:
    return visits_of(name)[n]


def _codes(concept: Any) -> set[tuple[str, str]]:
    return {(c.get("system"), c.get("code")) for c in (concept or {}).get("coding", [])}


def _items(result: fhir.ImportResult, section: str, kind: str) -> list[dict[str, Any]]:
    value = result.content.sections.get(section, [])
    if not isinstance(value, list):
        return []
    return [i for i in value if isinstance(i.get("fhir"), dict) and i["fhir"]["resourceType"] == kind]


# --- the issue's bundle shape: a whole visit with types famchain does not map -------------------------------


@pytest.mark.parametrize(("name", "n"), VISITS, ids=[f"{p.split('/')[-1][:12]}-visit{n}" for p, n in VISITS])
def test_visit_bundle_imports_and_accounts_for_every_entry(name: str, n: int) -> None:
    bundle = _visit(name, n)
    result = fhir.import_bundle(bundle)
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    mapped = {m.index for m in result.mapped}
    skipped = {s.index for s in result.skipped}
    assert mapped | skipped == set(range(len(types)))
    assert not mapped & skipped
    for s in result.skipped:
        assert s.resource_type == types[s.index]
        expected = "context" if types[s.index] in importing.CONTEXT_TYPES else "unmapped"
        if types[s.index] in importing.MAPPED_TYPES:
            expected = "unusable"
        assert s.kind == expected, s
    for m in result.mapped:
        assert m.resource_type == types[m.index]
        assert m.resource_type in importing.MAPPED_TYPES
    # The machine-readable list names index, type and reason; the text summary counts them.
    listed = result.to_json()["skipped"]
    assert [(s["index"], s["type"]) for s in listed] == [(s.index, s.resource_type) for s in result.skipped]
    assert all(s["reason"] for s in listed)
    assert result.summary().startswith(f"mapped {len(result.mapped)} of {len(types)} entries")


@pytest.mark.parametrize("name", USCORE + SYNTHEA)
def test_unmapped_types_of_the_issue_are_skipped_and_reported(name: str) -> None:
    result = fhir.import_bundle(load(name))
    reported = {s.resource_type for s in result.skipped if s.kind == "unmapped"}
    present = {e["resource"]["resourceType"] for e in load(name)["entry"]}
    expected = present & {
        "Claim",
        "ExplanationOfBenefit",
        "CareTeam",
        "CarePlan",
        "Goal",
        "Provenance",
        "Coverage",
        "ImagingStudy",
        "Device",
    }
    assert expected
    assert expected <= reported
    assert {"Procedure", "Immunization", "AllergyIntolerance", "Encounter"} & present <= {
        m.resource_type for m in result.mapped
    }


@pytest.mark.parametrize("name", USCORE)
def test_strict_refuses_at_the_first_unmapped_entry(name: str) -> None:
    bundle = load(name)
    first = next(
        n
        for n, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] not in {*importing.MAPPED_TYPES, *importing.CONTEXT_TYPES}
    )
    kind = bundle["entry"][first]["resource"]["resourceType"]
    with pytest.raises(InputError) as info:
        fhir.import_bundle(bundle, strict=True)
    assert str(info.value) == (
        f"Bundle.entry[{first}].resource({kind}): not mapped to a record section (strict import skips nothing)"
    )


def test_strict_accepts_a_bundle_of_mapped_and_context_entries_only() -> None:
    bundle = load(USCORE[0])
    bundle["entry"] = [
        e
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in {*importing.MAPPED_TYPES, *importing.CONTEXT_TYPES}
    ]
    strict = fhir.import_bundle(bundle, strict=True)
    assert strict.content == fhir.import_bundle(bundle).content
    assert {s.kind for s in strict.skipped} == {"context"}


# --- mapping keeps meaning -----------------------------------------------------------------------------------


def test_encounter_without_reason_keeps_date_class_and_type() -> None:
    one = next(v for v in visits_of(SYNTHEA[0]) if not resources(v, "Encounter")[0].get("reasonCode"))
    (encounter,) = resources(one, "Encounter")
    (item,) = fhir.import_bundle(one).content.sections["present_illness"]
    klass = encounter["class"]
    assert item["date"] == encounter["period"]["start"][:10]
    assert item["text"].startswith(
        f"{klass.get('display') or klass['code']} visit: {encounter['type'][0]['text']}"
    )
    assert item["fhir"]["class"] == klass
    assert item["fhir"]["type"] == encounter["type"]
    assert item["code"] == encounter["type"][0]["coding"][0]["code"]


def test_the_latest_encounter_is_this_visit_and_earlier_ones_are_past_history() -> None:
    bundle = load(USCORE[0])
    result = fhir.import_bundle(bundle)
    encounters = resources(bundle, "Encounter")
    latest = max(encounters, key=lambda e: e["period"]["start"])
    (visit,) = result.content.sections["present_illness"]
    assert visit["fhir"]["period"] == latest["period"]
    history = _items(result, "past_history", "Encounter")
    assert len(history) == len(encounters) - 1
    assert all(i["fhir"]["period"]["start"] < latest["period"]["start"] for i in history)
    named = fhir.import_bundle(bundle, encounter=encounters[0]["id"])
    assert named.content.sections["present_illness"][0]["fhir"]["period"] == encounters[0]["period"]
    with pytest.raises(InputError, match="Bundle has no Encounter 'nope'"):
        fhir.import_bundle(bundle, encounter="nope")


@pytest.mark.parametrize(("name", "n"), [(USCORE[0], 10), (USCORE[1], 19)])
def test_every_observation_keeps_value_unit_range_and_code(name: str, n: int) -> None:
    bundle = _visit(name, n)
    result = fhir.import_bundle(bundle)
    observations = resources(bundle, "Observation")
    items = _items(result, "examinations", "Observation")
    assert len(items) == len(observations) > 5
    for source, item in zip(observations, items, strict=True):
        assert item["fhir"]["code"] == source["code"]
        assert item["code"] == source["code"]["coding"][0]["code"]
        assert item["system"] == "LOINC"
        assert item["date"] == source["effectiveDateTime"][:10]
        if "valueQuantity" in source:
            q = source["valueQuantity"]
            assert (item["value"], item.get("unit")) == (str(q["value"]), q.get("unit") or q.get("code"))
            assert item["fhir"]["valueQuantity"] == q
        elif "component" in source:
            for c in source["component"]:
                assert str(c["valueQuantity"]["value"]) in item["value"]
            assert item["fhir"]["component"] == source["component"]


def test_reference_range_and_interpretation_are_kept() -> None:
    lipids = load("hl7-r4/Bundle-lipids.json")
    result = fhir.import_bundle(lipids)
    by_name = {i["name"]: i for i in result.content.sections["examinations"]}
    assert by_name["Cholesterol"]["reference_range"] == "-4.5"
    assert by_name["Cholesterol in HDL"]["reference_range"] == "1.5-"
    culture = load("hl7-r4/Observation-f206.json")
    (item,) = fhir.import_bundle(wrap(culture)).content.sections["examinations"]
    assert item["interpretation"] == "POS"
    assert item["value"] == "Staphylococcus aureus"
    assert item["fhir"]["interpretation"] == culture["interpretation"]


def test_medication_request_keeps_timing_route_and_text() -> None:
    bundle = load(USCORE[0])
    result = fhir.import_bundle(bundle)
    requests = resources(bundle, "MedicationRequest")
    items = result.content.sections["prescriptions"]
    assert len(items) == len(requests)
    for source, item in zip(requests, items, strict=True):
        assert item["fhir"]["dosageInstruction"] == source["dosageInstruction"]
        assert item["drug"] == source["medicationCodeableConcept"]["coding"][0]["display"]
        assert item["system"] == "RxNorm"
    amoxicillin = next(i for i in items if i["drug"].startswith("Amoxicillin"))
    # {"frequency": 3, "period": 1, "periodUnit": "d"}, a dose of 1, supply 2 weeks: not the bare "1.0" of old
    assert (amoxicillin["dose"], amoxicillin["frequency"], amoxicillin["days"]) == (
        "1",
        "3 times per day",
        14,
    )
    assert amoxicillin["note"].startswith("Take at regular intervals")

    text = load("hl7-r4/MedicationRequest-medrx0311.json")  # route, timing code and dosage text
    (item,) = fhir.import_bundle(wrap(text)).content.sections["prescriptions"]
    dosage = text["dosageInstruction"][0]
    assert item["dose"] == dosage["text"]
    assert item["route"] == dosage["route"]["coding"][0]["display"]
    assert item["fhir"]["dosageInstruction"] == text["dosageInstruction"]


def test_contained_medication_names_the_drug() -> None:
    request = load("hl7-r4/MedicationRequest-medrx0302.json")
    (item,) = fhir.import_bundle(wrap(request)).content.sections["prescriptions"]
    medication = request["contained"][0]
    assert item["drug"] == medication["code"]["coding"][0]["display"]
    assert item["fhir"]["medicationCodeableConcept"] == medication["code"]


@pytest.mark.parametrize("name", USCORE)
def test_document_reference_keeps_type_date_author_and_bytes(name: str) -> None:
    bundle = load(name)
    result = fhir.import_bundle(bundle)
    documents = resources(bundle, "DocumentReference")
    attachments = result.content.sections["attachments"]
    assert len(attachments) == len(documents)
    practitioners = {
        e["fullUrl"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Practitioner"
    }
    for source, item in zip(documents, attachments, strict=True):
        data = base64.b64decode(source["content"][0]["attachment"]["data"])
        assert base64.b64decode(item["data"]) == data
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["type"] == "History and physical note"
        assert item["date"] == source["date"][:10]
        assert item["name"] == f"History and physical note {source['date'][:10]}.txt"  # not attachment-N-0
        author = practitioners[source["author"][0]["reference"]]
        name_ = author["name"][0]
        assert item["author"] == " ".join([*name_.get("prefix", []), *name_["given"], name_["family"]])
        assert item["fhir"][0]["type"] == source["type"]


def test_document_reference_description_and_binary_in_the_bundle() -> None:
    xds = load("hl7-r4/Bundle-xds.json")
    result = fhir.import_bundle(xds)
    (item,) = result.content.sections["attachments"]
    (source,) = resources(xds, "DocumentReference")
    (binary,) = resources(xds, "Binary")
    assert base64.b64decode(item["data"]) == base64.b64decode(binary["data"])
    assert item["description"] == source["description"]
    assert item["name"] == "Physical"
    assert item["media_type"] == "text/plain"
    assert {s.resource_type: s.kind for s in result.skipped}["Binary"] == "context"


def test_presented_form_becomes_an_attachment_byte_for_byte() -> None:
    report = load("hl7-r4/DiagnosticReport-gingival-mass.json")
    result = fhir.import_bundle(wrap(report))
    (item,) = result.content.sections["attachments"]
    assert base64.b64decode(item["data"]) == base64.b64decode(report["presentedForm"][0]["data"])
    assert item["media_type"] == "application/pdf"
    assert item["name"] == report["presentedForm"][0]["title"]
    assert item["fhir"][0]["resourceType"] == "DiagnosticReport"
    assert "data" not in json.dumps(item["fhir"])


def test_presented_form_with_the_bytes_of_a_document_is_kept_once() -> None:
    """The clinical note as Synthea's US Core export writes it twice: a DocumentReference and a
    DiagnosticReport (LOINC 34117-2) whose presentedForm holds the same bytes. Built from a published visit by
    copying its DocumentReference's attachment into a report."""
    bundle = _visit(USCORE[0], 10)
    (document,) = resources(bundle, "DocumentReference")
    note = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": document["type"],
        "effectiveDateTime": document["date"],
        "presentedForm": [copy.deepcopy(document["content"][0]["attachment"])],
    }
    with_conclusion = {
        **copy.deepcopy(note),
        "conclusion": "Healthy.",
        "presentedForm": note["presentedForm"],
    }
    bundle["entry"] += [{"resource": note}, {"resource": with_conclusion}]
    result = fhir.import_bundle(bundle)
    (item,) = result.content.sections["attachments"]
    assert [f["resourceType"] for f in item["fhir"]] == ["DocumentReference", "DiagnosticReport"]
    assert json.dumps(result.content.sections).count(item["data"]) == 1
    (report,) = [i for i in _items(result, "examinations", "DiagnosticReport") if i["value"] == "Healthy."]
    assert report["fhir"]["presentedForm"][0]["sha256"] == item["sha256"]


@pytest.mark.parametrize("name", USCORE)
def test_allergies_map_to_the_allergies_section(name: str) -> None:
    bundle = load(name)
    sources = resources(bundle, "AllergyIntolerance")
    items = fhir.import_bundle(bundle).content.sections["allergies"]
    assert len(items) == len(sources) > 0
    for source, item in zip(sources, items, strict=True):
        assert item["substance"] == source["code"]["coding"][0]["display"]
        assert item["category"] == ", ".join(source["category"])
        assert item["status"] == source["clinicalStatus"]["coding"][0]["code"]
        assert item["fhir"]["code"] == source["code"]


def test_allergy_reactions_and_criticality() -> None:
    source = load("hl7-r4/AllergyIntolerance-example.json")
    (item,) = fhir.import_bundle(wrap(source)).content.sections["allergies"]
    assert item["criticality"] == "high"
    assert item["reaction"].startswith("Anaphylactic reaction (severe)")
    assert item["fhir"]["reaction"][0]["manifestation"] == source["reaction"][0]["manifestation"]


def test_immunizations_and_earlier_procedures_are_past_history_this_visits_procedures_examinations() -> None:
    bundle = load(USCORE[0])
    result = fhir.import_bundle(bundle)
    visit = max(resources(bundle, "Encounter"), key=lambda e: e["period"]["start"])
    visit_url = f"urn:uuid:{visit['id']}"
    immunizations = resources(bundle, "Immunization")
    assert len(_items(result, "past_history", "Immunization")) == len(immunizations)
    assert all(i["text"].startswith("Immunization: ") for i in _items(result, "past_history", "Immunization"))
    procedures = resources(bundle, "Procedure")
    now = [p for p in procedures if p["encounter"]["reference"] == visit_url]
    assert len(_items(result, "examinations", "Procedure")) == len(now) > 0
    assert len(_items(result, "past_history", "Procedure")) == len(procedures) - len(now) > 0


def test_problem_list_conditions_are_past_history() -> None:
    example = load("hl7-r4/Condition-example.json")  # encounter-diagnosis: this visit's
    f201 = load("hl7-r4/Condition-f201.json")  # problem-list-item
    sections = fhir.import_bundle(wrap(example, f201)).content.sections
    assert [(d["text"], d["code"], d["system"]) for d in sections["diagnosis"]] == [
        ("Burnt Ear", "39065001", "SNOMED CT")
    ]
    (history,) = sections["past_history"]
    assert history["text"].startswith("Fever")
    assert history["fhir"]["code"] == f201["code"]


def test_narrative_observation_and_father_document() -> None:
    father = load("hl7-r4/Bundle-father.json")
    result = fhir.import_bundle(father)
    kinds = {s.resource_type: s.kind for s in result.skipped}
    assert kinds["Composition"] == "unmapped"
    assert kinds["MedicationStatement"] == "unmapped"
    assert kinds["Patient"] == "context"
    assert kinds["Practitioner"] == "context"
    reason = next(i for i in result.content.sections["examinations"] if i["name"] == "Reason for admission")
    assert reason["value"] == "Acute Asthmatic attack. Was wheezing for days prior to admission."
    assert result.content.sections["allergies"][0]["substance"] == "Doxycycline"


# --- the Patient never reaches the record --------------------------------------------------------------------


@pytest.mark.parametrize("name", USCORE + SYNTHEA)
def test_nothing_of_the_patient_reaches_the_record(name: str) -> None:
    bundle = load(name)
    result = fhir.import_bundle(bundle)
    (patient,) = resources(bundle, "Patient")
    assert result.patient == patient
    sealed = json.dumps(result.content.sections, ensure_ascii=False)
    secrets = [
        patient["id"],
        patient["name"][0]["family"],
        *patient["name"][0]["given"],
        patient["address"][0]["line"][0],
    ]
    secrets += [i["value"] for i in patient.get("identifier", [])]
    secrets += [t["value"] for t in patient.get("telecom", [])]
    for secret in secrets:
        assert secret not in sealed, secret
    for entry in bundle["entry"]:  # nor any resource id or bundle URL of the sending system
        assert entry["resource"].get("id", "\0") not in sealed


# --- bad input: one line, a FamchainError -----------------------------------------------------------------------


def test_real_world_invalid_bundle_names_entry_and_field() -> None:
    with pytest.raises(InputError) as info:
        fhir.import_bundle(load(INVALID))
    assert (
        str(info.value)
        == "Bundle.entry[16].resource(Condition).category: Input should be a valid list (and 1 more)"
    )


def _broken_reference() -> dict[str, Any]:
    bundle = _visit(USCORE[0], 10)
    observation = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    observation["resource"]["encounter"]["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    return bundle


def _oversize(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(importing, "MAX_ATTACHMENT", 100)
    return _visit(USCORE[0], 10)


def _two_patients() -> dict[str, Any]:
    bundle = _visit(USCORE[0], 10)
    bundle["entry"].append(
        copy.deepcopy(bundle["entry"][0]) | {"fullUrl": "urn:uuid:5b0b7c2e-0000-4000-8000-000000000001"}
    )
    return bundle


def _bad_hash() -> dict[str, Any]:
    report = load("hl7-r4/DiagnosticReport-gingival-mass.json")
    report["presentedForm"][0]["hash"] = base64.b64encode(b"\0" * 20).decode()
    return wrap(report)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            _broken_reference,
            r"Bundle\.entry\[\d+\]\.resource\(Observation\)\.encounter: reference urn:uuid:0+-0+-4000-8000-0+ resolves to no entry of the bundle",
        ),
        (
            _oversize,
            r"Bundle\.entry\[\d+\]\.resource\(DocumentReference\)\.content\[0\]\.attachment\.data: larger than 0 MiB",
        ),
        (_two_patients, r"Bundle holds 2 Patient resources \(entries 0, \d+\): a record is one patient's"),
        (
            _bad_hash,
            r"Bundle\.entry\[0\]\.resource\(DiagnosticReport\)\.presentedForm\[0\]\.hash: does not match the SHA-1 of data",
        ),
        (lambda: load("hl7-r4/Patient-example.json"), r"expected a FHIR Bundle, got 'Patient'"),
        (
            lambda: wrap(load("hl7-r4/Patient-example.json")),
            r"Bundle holds nothing famchain records \(Patient x1\)",
        ),
        (lambda: [1, 2], r"expected a FHIR Bundle, got 'list'"),
    ],
    ids=[
        "broken-reference",
        "oversize-attachment",
        "two-patients",
        "bad-hash",
        "a-patient",
        "nothing",
        "not-json-object",
    ],
)
def test_bad_bundle_is_one_line(make: Any, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    document = make(monkeypatch) if make is _oversize else make()
    with pytest.raises(InputError, match=message) as info:
        fhir.import_bundle(document)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"resourceType": "Bundle", "entry": [', "invalid JSON at line 1 column 38"),
        (b"\xff\xfe{}", "cannot read FHIR bundle (not UTF-8)"),
        (None, "cannot read FHIR bundle (No such file or directory)"),
    ],
)
def test_unreadable_file_is_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "visit.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FamchainError) as info:
        fhir.load_bundle(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_load_bundle_prefixes_the_path(tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(load(INVALID)))
    with pytest.raises(InputError, match=rf"^{path}: Bundle\.entry\[16\]\.resource\(Condition\)\.category"):
        fhir.load_bundle(path)
    path.write_text(json.dumps(_visit(USCORE[0], 10)))
    assert fhir.load_bundle(path).content.names[0] == "present_illness"


def test_sections_follow_bit_order() -> None:
    names = fhir.import_bundle(load(USCORE[0])).content.names
    assert names == [n for n in SECTION_NAMES if n in names]
    assert names[-1] == "allergies"
    assert set(HL7_BUNDLES)  # the HL7 bundles are exercised by the round-trip suite
