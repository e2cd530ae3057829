"""Round trip on published bundles: import, export, and the export is valid FHIR carrying every mapped resource's
clinical content (codes, texts, values, attachments byte for byte), with nothing of the patient's identity."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from _fhir_support import HL7_BUNDLES, SYNTHEA, USCORE, load, resources, visits_of, wrap
from fhir.resources.R4B.bundle import Bundle

from famchain import fhir
from famchain.errors import InputError

PATIENT = "0x" + "ab" * 20
AUTHOR = "0x" + "cd" * 20
RECORD = "0x" + "11" * 32
SINGLES = (
    "AllergyIntolerance-example",
    "AllergyIntolerance-medication",
    "AllergyIntolerance-nka",
    "Condition-example",
    "Condition-f201",
    "DiagnosticReport-gingival-mass",
    "Encounter-example",
    "FamilyMemberHistory-father",
    "Immunization-example",
    "Immunization-historical",
    "MedicationRequest-medrx0302",
    "MedicationRequest-medrx0311",
    "Observation-blood-pressure",
    "Observation-example",
    "Observation-f206",
    "Procedure-biopsy",
    "Procedure-example",
    "Procedure-f201",
)
_IDENTITY = frozenset({"id", "meta", "identifier", "extension", "modifierExtension", "contained", "fullUrl"})


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = [(name, load(name)) for name in USCORE + SYNTHEA + HL7_BUNDLES]
    out += [(f"hl7-r4/{n}", wrap(load(f"hl7-r4/{n}.json"))) for n in SINGLES]
    out += [
        (f"{name}#visit{k}", v) for name in USCORE[:1] + SYNTHEA[:1] for k, v in enumerate(visits_of(name))
    ]
    return out


CASES = _cases()


def _is_reference(node: Mapping[str, Any]) -> bool:
    return "reference" in node or (bool(node) and set(node) <= {"type", "display", "identifier"})


def clinical(node: Any, *, root: bool = True) -> Any:
    """What a resource says about the patient's health: everything but identity, links and narrative (the
    test's own reading, independent of the importer's)."""
    if isinstance(node, list):
        items = [clinical(v, root=False) for v in node]
        return [v for v in items if v not in (None, {}, [])]
    if not isinstance(node, Mapping):
        return node
    if _is_reference(node):
        return None
    out = {}
    for key, value in node.items():
        if key in _IDENTITY or key.startswith("_") or (root and key == "text"):
            continue
        if key == "data" and isinstance(value, str):
            out[key] = base64.b64decode(value).hex()  # bytes, whatever the base64 line breaks
            continue
        kept = clinical(value, root=False)
        if kept not in (None, {}, []):
            out[key] = kept
    return out


def _source_resources(bundle: Mapping[str, Any], result: fhir.ImportResult) -> list[dict[str, Any]]:
    out = []
    for m in result.mapped:
        resource = dict(bundle["entry"][m.index]["resource"])
        if "medicationReference" in resource:  # the export names the drug by the Medication's code
            ref = resource.pop("medicationReference")["reference"]
            if ref.startswith("#"):
                medication = next(c for c in resource["contained"] if c["id"] == ref[1:])
            else:
                medication = next(e["resource"] for e in bundle["entry"] if e.get("fullUrl") == ref)
            resource["medicationCodeableConcept"] = medication["code"]
        for content in resource.get("content", []):  # a DocumentReference's Binary in the bundle
            url = content["attachment"].get("url")
            binary = next((e["resource"] for e in bundle["entry"] if url and e.get("fullUrl") == url), None)
            if binary is not None:
                content["attachment"] = {k: v for k, v in content["attachment"].items() if k != "url"} | {
                    "data": binary["data"]
                }
        out.append(resource)
    return out


def _signature(resource: Mapping[str, Any]) -> str:
    return json.dumps([resource["resourceType"], clinical(resource)], sort_keys=True)


@pytest.mark.parametrize(("name", "bundle"), CASES, ids=[c[0].split("/")[-1][:40] for c in CASES])
def test_export_is_valid_fhir_with_the_same_clinical_content(name: str, bundle: dict[str, Any]) -> None:
    result = fhir.import_bundle(bundle)
    out = fhir.bundle_from_sections(result.content.sections, patient=PATIENT, record_id=RECORD, author=AUTHOR)
    Bundle.model_validate(out)  # the validator's word, independent of the export's own check
    exported = [e["resource"] for e in out["entry"]]
    # Same clinical content, resource for resource (each source resource once, none invented).
    assert Counter(_signature(r) for r in exported) == Counter(
        _signature(r) for r in _source_resources(bundle, result)
    )
    # Attachments byte for byte.
    assert sorted(_bytes(exported)) == sorted(_bytes(_source_resources(bundle, result)))
    # Every resource names the patient by account only; nothing of the source Patient is in the export.
    text = json.dumps(out, ensure_ascii=False)
    for patient in resources(bundle, "Patient"):
        for name_ in patient.get("name", []):
            for word in [name_.get("family"), *name_.get("given", [])]:
                if word:
                    assert f'"{word}"' not in text
        for ident in patient.get("identifier", []):
            assert ident["value"] not in text
    for resource in exported:
        subject = resource.get("subject") or resource.get("patient")
        assert subject == {
            "identifier": {"system": "urn:famchain:account", "value": PATIENT},
            "display": PATIENT,
        }
    # Importing the export gives the same record (the section tags put every item back where it was).
    assert fhir.import_bundle(out).content.sections == result.content.sections


def _bytes(resources_: list[Mapping[str, Any]]) -> list[bytes]:
    out = []
    for r in resources_:
        for attachment in [c["attachment"] for c in r.get("content", [])] + list(r.get("presentedForm", [])):
            if "data" in attachment:
                out.append(base64.b64decode(attachment["data"]))
    return out


def test_export_of_withheld_sections_leaves_out_their_resources_and_links() -> None:
    bundle = visits_of(USCORE[0])[10]
    sections = dict(fhir.import_bundle(bundle).content.sections)
    del sections["attachments"]
    only = {k: sections[k] for k in ("diagnosis", "examinations")}
    out = fhir.bundle_from_sections(only, patient=PATIENT)
    assert {e["resource"]["resourceType"] for e in out["entry"]} == {
        "Condition",
        "Observation",
        "DiagnosticReport",
        "Procedure",
    }
    urls = {e["fullUrl"] for e in out["entry"]}
    for entry in out["entry"]:
        for ref in entry["resource"].get("result", []) + entry["resource"].get("hasMember", []):
            assert ref["reference"] in urls  # a panel's links point only at resources that were exported
    assert "Clinical Note" not in json.dumps(out)


def test_panel_links_survive_the_round_trip() -> None:
    lipids = load("hl7-r4/Bundle-lipids.json")
    out = fhir.bundle_from_sections(fhir.import_bundle(lipids).content.sections, patient=PATIENT)
    (report,) = [e for e in out["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    by_url = {e["fullUrl"]: e["resource"] for e in out["entry"]}
    names = [by_url[r["reference"]]["code"]["text"] for r in report["resource"]["result"]]
    (source,) = resources(lipids, "DiagnosticReport")
    source_by_id = {f"Observation/{r['id']}": r for r in resources(lipids, "Observation")}
    assert names == [source_by_id[r["reference"]]["code"]["text"] for r in source["result"]]
    assert len(names) == 4


def test_an_item_whose_stored_fhir_is_not_valid_gives_one_line() -> None:
    sections = {"diagnosis": [{"text": "x", "fhir": {"resourceType": "Condition", "code": {"text": 7}}}]}
    with pytest.raises(
        InputError, match=r"^the exported Bundle is not valid FHIR at entry\.0\.resource\."
    ) as info:
        fhir.bundle_from_sections(sections, patient=PATIENT)
    assert "\n" not in str(info.value)
