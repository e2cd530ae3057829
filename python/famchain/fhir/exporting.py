"""Record -> FHIR: a ``collection`` Bundle of the sections a reader may see.

An item imported from FHIR is exported from the resource kept with it (its ``fhir`` fragment) with the bytes of
its attachments put back, so codes, texts, values and files come out as they came in; an item a doctor typed is
built from its fields. Every resource names the patient by famchain account only and carries a ``meta.tag``
``urn:famchain:section|<section>``, so that importing the export puts every item back in its section.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import pydantic
from fhir.resources.R4B.bundle import Bundle

from famchain.errors import InputError
from famchain.fhir._common import (
    CONDITION_CATEGORY,
    LOINC,
    NARRATIVE_CODES,
    RECORD_SYSTEM,
    SECTION_SYSTEM,
    UCUM,
    account_reference,
    now,
    one_line,
    system_uri,
)
from famchain.fhir._prune import LINK_FIELDS
from famchain.i18n import _
from famchain.records.sections import SECTION_NAMES

_SUBJECT: Final[dict[str, str]] = {
    "AllergyIntolerance": "patient",
    "Condition": "subject",
    "DiagnosticReport": "subject",
    "DocumentReference": "subject",
    "Encounter": "subject",
    "FamilyMemberHistory": "patient",
    "Immunization": "patient",
    "MedicationRequest": "subject",
    "Observation": "subject",
    "Procedure": "subject",
}

# Where a resource names the record's author (field, is-a-list), when the source named nobody there.
_AUTHOR_FIELDS: Final[dict[str, tuple[str, bool]]] = {
    "MedicationRequest": ("requester", False),
    "Condition": ("recorder", False),
    "Observation": ("performer", True),
    "AllergyIntolerance": ("recorder", False),
    "Procedure": ("recorder", False),
}

_DATE_TIME: Final = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?")
_CLINICAL_STATUS: Final = frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"})
_ALLERGY_STATUS: Final = frozenset({"active", "inactive", "resolved"})
_REQUEST_STATUS: Final = frozenset(
    {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
)
_OBSERVATION_STATUS: Final = frozenset(
    {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
)
_ALLERGY_CATEGORY: Final = frozenset({"food", "medication", "environment", "biologic"})
_CRITICALITY: Final = frozenset({"low", "high", "unable-to-assess"})


def _date_time(text: Any) -> str | None:
    return text if isinstance(text, str) and _DATE_TIME.fullmatch(text) else None


def _decimal(text: str) -> Decimal | None:
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def _concept(item: Mapping[str, Any], text_key: str) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": item[text_key]}
    if item.get("code"):
        coding: dict[str, Any] = {"code": item["code"], "display": item[text_key]}
        if item.get("system"):
            coding["system"] = system_uri(item["system"])
        concept["coding"] = [coding]
    return concept


def _notes(item: Mapping[str, Any]) -> list[dict[str, str]] | None:
    return [{"text": item["note"]}] if item.get("note") else None


class _Exporter:
    def __init__(self, sections: Mapping[str, Any], subject: dict[str, Any], author: str | None) -> None:
        self.sections = sections
        self.subject = subject
        self.author = author
        self.blobs: dict[str, str] = {}
        for a in sections.get("attachments") or []:
            if isinstance(a, Mapping) and isinstance(a.get("data"), str):
                digest = a.get("sha256") or hashlib.sha256(base64.b64decode(a["data"])).hexdigest()
                self.blobs[str(digest)] = a["data"]

    # --- from a kept fragment -----------------------------------------------------------------------------

    def _restore(self, node: Any) -> Any:
        """The fragment with every attachment's bytes back; an attachment whose bytes the reader may not see
        (or that are missing) is left out, with the element that needs it."""
        if isinstance(node, list):
            items = [self._restore(v) for v in node]
            return [v for v in items if v is not None]
        if not isinstance(node, Mapping):
            return node
        if "sha256" in node:
            data = self.blobs.get(str(node["sha256"]))
            if data is None:
                return None
            return {**{k: v for k, v in node.items() if k != "sha256"}, "data": data}
        out: dict[str, Any] = {}
        for key, value in node.items():
            restored = self._restore(value)
            if restored is None and key == "attachment":
                return None  # DocumentReference.content needs its attachment
            if restored is None or restored == []:
                continue
            out[key] = restored
        return out

    def from_fragment(self, fragment: Mapping[str, Any]) -> dict[str, Any] | None:
        resource: dict[str, Any] = self._restore(copy.deepcopy(dict(fragment)))
        if resource.get("resourceType") == "DocumentReference" and not resource.get("content"):
            return None
        return resource

    # --- from the fields a doctor typed -------------------------------------------------------------------

    def narrative(self, name: str, text: str) -> dict[str, Any]:
        code, display = NARRATIVE_CODES[name]
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "valueString": text,
        }

    def diagnosis(self, d: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Condition",
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": _concept(d, "text"),
        }
        if d.get("status") in _CLINICAL_STATUS:
            out["clinicalStatus"] = {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": d["status"],
                    }
                ]
            }
        if d.get("date"):
            key = "onsetDateTime" if _date_time(d["date"]) else "onsetString"
            out[key] = d["date"]
        if _notes(d):
            out["note"] = _notes(d)
        return out

    def prescription(self, p: Mapping[str, Any]) -> dict[str, Any]:
        dosage: dict[str, Any] = {}
        if p.get("dose"):
            dosage["text"] = p["dose"]
        if p.get("route"):
            dosage["route"] = {"text": p["route"]}
        if p.get("frequency"):
            dosage["timing"] = {"code": {"text": p["frequency"]}}
        out: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": p["status"] if p.get("status") in _REQUEST_STATUS else "active",
            "intent": "order",
            "medicationCodeableConcept": _concept(p, "drug"),
        }
        if _date_time(p.get("date")):
            out["authoredOn"] = p["date"]
        if dosage:
            out["dosageInstruction"] = [dosage]
        if "days" in p:
            out["dispenseRequest"] = {
                "expectedSupplyDuration": {"value": p["days"], "unit": "days", "system": UCUM, "code": "d"}
            }
        if _notes(p):
            out["note"] = _notes(p)
        return out

    def examination(self, e: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Observation",
            "status": e["status"] if e.get("status") in _OBSERVATION_STATUS else "final",
            "code": _concept(e, "name"),
        }
        if _date_time(e.get("date")):
            out["effectiveDateTime"] = e["date"]
        number = _decimal(e["value"])
        if number is not None and e.get("unit"):
            out["valueQuantity"] = {"value": number, "unit": e["unit"]}
        else:
            out["valueString"] = e["value"] + (f" {e['unit']}" if e.get("unit") else "")
        if e.get("interpretation"):
            out["interpretation"] = [{"text": e["interpretation"]}]
        if e.get("reference_range"):
            out["referenceRange"] = [{"text": e["reference_range"]}]
        if _notes(e):
            out["note"] = _notes(e)
        return out

    def allergy(self, a: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "AllergyIntolerance", "code": _concept(a, "substance")}
        if a.get("status") in _ALLERGY_STATUS:
            out["clinicalStatus"] = {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "code": a["status"],
                    }
                ]
            }
        categories = [
            c.strip() for c in str(a.get("category", "")).split(",") if c.strip() in _ALLERGY_CATEGORY
        ]
        if categories:
            out["category"] = categories
        if a.get("criticality") in _CRITICALITY:
            out["criticality"] = a["criticality"]
        if a.get("reaction"):
            out["reaction"] = [{"manifestation": [{"text": a["reaction"]}]}]
        if a.get("date"):
            key = "onsetDateTime" if _date_time(a["date"]) else "onsetString"
            out[key] = a["date"]
        if _notes(a):
            out["note"] = _notes(a)
        return out

    def document(self, a: Mapping[str, Any]) -> dict[str, Any]:
        data = base64.b64decode(a["data"])
        out: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "status": "current",
            "content": [
                {
                    "attachment": {
                        "contentType": a["media_type"],
                        "data": a["data"],
                        "title": a["name"],
                        "hash": base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode(),
                    }
                }
            ],
        }
        if a.get("type"):
            out["type"] = {"text": a["type"]}
        if a.get("author"):
            out["author"] = [{"display": a["author"]}]
        if a.get("description"):
            out["description"] = a["description"]
        if _date_time(a.get("date")):
            out["context"] = {"period": {"start": a["date"]}}
        return out

    # --- per section --------------------------------------------------------------------------------------

    def section(self, name: str, value: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any] | None] = []
        if name in NARRATIVE_CODES:
            items: list[Mapping[str, Any]] = [{"text": value}] if isinstance(value, str) else list(value)
            for item in items:
                fragment = item.get("fhir")
                out.append(self.from_fragment(fragment) if fragment else self.narrative(name, item["text"]))
        elif name == "attachments":
            for a in value:
                fragments = a.get("fhir")
                if fragments:
                    out.extend(self.from_fragment(f) for f in fragments)
                elif a.get("carried_by") not in self.sections:
                    out.append(self.document(a))
        else:
            build = {
                "diagnosis": self.diagnosis,
                "prescriptions": self.prescription,
                "examinations": self.examination,
                "allergies": self.allergy,
            }.get(name)
            if build is None:
                raise InputError(_("unknown section {name!r}").format(name=name))
            for item in value:
                out.append(self.from_fragment(item["fhir"]) if item.get("fhir") else build(item))
        return [r for r in out if r is not None]

    def stamp(self, name: str, resource: dict[str, Any]) -> None:
        """Name the patient (and the author where the source named nobody) and tag the section."""
        kind = resource["resourceType"]
        if kind in _SUBJECT:
            resource[_SUBJECT[kind]] = self.subject
        if self.author is not None and kind in _AUTHOR_FIELDS:
            field, many = _AUTHOR_FIELDS[kind]
            if field not in resource:
                reference = account_reference(self.author)
                resource[field] = [reference] if many else reference
        resource["meta"] = {"tag": [{"system": SECTION_SYSTEM, "code": name}]}


_NAMESPACE: Final = uuid.UUID("6b1d7f4e-3c2a-5e8f-9a41-0c7d2b9e5f13")


def _relink(node: Any, urls: Mapping[str, str]) -> None:
    """Links between items -> references between the exported resources (dropped when not exported)."""
    if isinstance(node, dict):
        for key in LINK_FIELDS & set(node):
            refs = [{"reference": urls[r["reference"]]} for r in node[key] if r.get("reference") in urls]
            if refs:
                node[key] = refs
            else:
                del node[key]
        for value in node.values():
            _relink(value, urls)
    elif isinstance(node, list):
        for value in node:
            _relink(value, urls)


def finish(bundle: dict[str, Any]) -> dict[str, Any]:
    """Validate a Bundle famchain built with fhir.resources and return it as plain JSON.

    The JSON returned is the one built, not the model's serialisation: fhir.resources rewrites date-times
    (``12:11:44.627`` becomes ``12:11:44.627000``), and an export gives values back as they came in.

    Raises:
        InputError: it does not validate (a stored item that is not valid FHIR); the message names the entry.
    """
    data: dict[str, Any] = json.loads(json.dumps(bundle, default=_json_number))
    try:
        Bundle.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(one_line(f"the exported Bundle is not valid FHIR at {where}: {message}")) from None
    return data


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    raise TypeError(_("{type} is not JSON").format(type=type(value).__name__))


def bundle_from_sections(
    sections: Mapping[str, Any], *, patient: str, record_id: str | None = None, author: str | None = None
) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of the given (readable) sections; withheld sections are simply absent.

    Args:
        sections: section name -> decoded section JSON (as :class:`~famchain.records.pipeline.ReadResult`).
        patient: the patient's address (the ``subject`` of every resource).
        record_id: the record id, kept as the Bundle identifier.
        author: the record's author, named where a resource has an author field the source left empty.

    Raises:
        InputError: an unknown section, or an item whose stored FHIR does not validate.
    """
    exporter = _Exporter(sections, account_reference(patient), author)
    entries: list[dict[str, Any]] = []
    urls: dict[str, str] = {}  # item:<section>/<position> -> fullUrl of its resource
    for name in SECTION_NAMES:
        if name not in sections:
            continue
        value = sections[name]
        for position, item in enumerate(value if isinstance(value, list) else [value]):
            single = [item] if isinstance(value, list) else value
            for resource in exporter.section(name, single):
                exporter.stamp(name, resource)
                url = "urn:uuid:" + str(
                    uuid.uuid5(_NAMESPACE, f"{record_id}/{name}/{position}/{len(entries)}")
                )
                urls.setdefault(f"item:{name}/{position}", url)
                entries.append({"fullUrl": url, "resource": resource})
    for entry in entries:
        _relink(entry["resource"], urls)
    unknown = sorted(set(sections) - set(SECTION_NAMES))
    if unknown:
        raise InputError(_("unknown section {unknown!r}").format(unknown=unknown[0]))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now(),
        "entry": entries,
    }
    if record_id is not None:
        bundle["identifier"] = {"system": RECORD_SYSTEM, "value": record_id}
    return finish(bundle)


def record_to_bundle(read: Mapping[str, Any]) -> dict[str, Any]:
    """The Bundle of a ``ReadResult.to_json()``: the readable sections only."""
    return bundle_from_sections(
        read["sections"],
        patient=str(read["patient"]),
        record_id=str(read["record"]),
        author=str(read["author"]),
    )


def section_codings(names: Iterable[str]) -> list[dict[str, Any]]:
    """``urn:famchain:section`` codings of section names."""
    return [{"system": SECTION_SYSTEM, "code": n} for n in names]
