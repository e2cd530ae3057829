"""FHIR in and out: a record from a FHIR Bundle, and Bundles of what a reader may see, its consents and its audit trail.

The models are ``fhir.resources.R4B`` (FHIR 4.3.0, the R4-compatible release; fhir.resources has no pydantic-2
module for 4.0.1). The resources used here are the same in R4 and R4B.

Record sections from Bundle entries:

=====================  ====================================================================================
``Condition``          ``diagnosis`` (``{text, code, system}`` from ``code``); with category
                       ``problem-list-item``, ``past_history`` (its ``code.text``)
``Observation``        ``examinations`` (``{name, value, unit, reference_range, note}``)
``DiagnosticReport``   ``examinations`` (its ``conclusion``; a report with only ``result`` references adds
                       nothing: the referenced Observations are entries of their own)
``MedicationRequest``  ``prescriptions`` (``{drug, dose, route, frequency, days, note}``)
``FamilyMemberHistory`` ``family_history`` (one line per resource)
``Encounter``          ``present_illness`` (``reasonCode`` texts)
``DocumentReference``  ``attachments`` (``content[].attachment`` with inline ``data``)
=====================  ====================================================================================

``Patient``, ``Practitioner``, ``PractitionerRole``, ``Organization`` and ``Medication`` entries are context and
add no section (a ``Medication`` names the drug of a ``MedicationRequest`` that references it). Any other
resource type is refused. No identifier from the bundle is kept: the patient is the one named on the command
line, and exported resources name people only by their famchain account address.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import pydantic
from fhir.resources.R4B.bundle import Bundle

from famchain.errors import InputError
from famchain.records.model import MAX_ATTACHMENT, Attachment, RecordContent, parse_record
from famchain.records.sections import SECTION_NAMES, section_names

ACCOUNT_SYSTEM: Final = "urn:famchain:account"
RECORD_SYSTEM: Final = "urn:famchain:record"
SECTION_SYSTEM: Final = "urn:famchain:section"
PURPOSE_SYSTEM: Final = "urn:famchain:purpose"
EVENT_SYSTEM: Final = "urn:famchain:event"
UCUM: Final = "http://unitsofmeasure.org"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"

CODE_SYSTEMS: Final[dict[str, str]] = {
    "ICD-10": "http://hl7.org/fhir/sid/icd-10",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-11": "http://id.who.int/icd/release/11/mms",
    "SNOMED CT": "http://snomed.info/sct",
    "LOINC": "http://loinc.org",
}
"""Record ``system`` names and their FHIR code system URIs (any other system is kept as written)."""

CONTEXT_TYPES: Final = frozenset(
    {"Patient", "Practitioner", "PractitionerRole", "Organization", "Medication"}
)
SECTION_TYPES: Final = (
    "Condition",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "FamilyMemberHistory",
    "Encounter",
    "DocumentReference",
)

# Which FHIR resource types carry each section (the data scope of a Consent, as provision.class).
SECTION_RESOURCES: Final[dict[str, tuple[str, ...]]] = {
    "present_illness": ("Encounter",),
    "past_history": ("Condition",),
    "family_history": ("FamilyMemberHistory",),
    "diagnosis": ("Condition",),
    "prescriptions": ("MedicationRequest",),
    "examinations": ("Observation", "DiagnosticReport"),
    "attachments": ("DocumentReference",),
}

_PURPOSES: Final[dict[int, tuple[str, str, str]]] = {
    # famchain purpose -> (famchain code, v3 ActReason code, display)
    1: ("treatment", "TREAT", "treatment"),
    2: ("referral", "TREAT", "treatment (referral)"),
    3: ("insurance-claim", "CLMATTCH", "claim attachment"),
    4: ("research", "HRESCH", "healthcare research"),
}


# --- validation ---------------------------------------------------------------------------------------------


def _where(document: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    """``Bundle.entry[2].resource(Observation).valueQuantity.value`` from a pydantic error location."""
    out = "Bundle"
    node: Any = document
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
        if isinstance(node, Mapping):
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        if part == "resource" and isinstance(node, Mapping) and isinstance(node.get("resourceType"), str):
            out += f"({node['resourceType']})"
    return out


def validate_bundle(document: Any) -> Bundle:
    """A FHIR R4(B) Bundle from decoded JSON, validated by fhir.resources.

    Raises:
        InputError: not a Bundle, or a resource violates FHIR; the message names the resource and field.
    """
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        found = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        raise InputError(f"expected a FHIR Bundle, got {found!r}")
    try:
        return Bundle.model_validate(document)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        # fhir.resources quotes FHIR's regexes, which hold a newline and a tab: keep the error on one line.
        message = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", message)
        raise InputError(f"{_where(document, tuple(first['loc']))}: {message}{more}") from None


# --- FHIR -> record ---------------------------------------------------------------------------------------


def _get(obj: Any, *path: str | int) -> Any:
    for key in path:
        if obj is None:
            return None
        if isinstance(key, int):
            obj = obj[key] if isinstance(obj, list) and len(obj) > key else None
        else:
            obj = getattr(obj, key, None)
    return obj


def _concept_text(concept: Any) -> str | None:
    """A CodeableConcept's words: its ``text``, else the first coding's display, else its code."""
    if concept is None:
        return None
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or []:
        if coding.display:
            return str(coding.display)
    for coding in concept.coding or []:
        if coding.code:
            return str(coding.code)
    return None


def _system_name(uri: str | None) -> str | None:
    if uri is None:
        return None
    for name, known in CODE_SYSTEMS.items():
        if known == uri:
            return name
    return str(uri)


def _notes(resource: Any) -> str | None:
    texts = [str(n.text) for n in resource.note or [] if n.text]
    return "\n".join(texts) or None


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None and v != ""}


def _quantity(q: Any) -> tuple[str, str | None]:
    value = q.value
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text, (str(q.unit) if q.unit else (str(q.code) if q.code else None))


class _Reader:
    def __init__(self, bundle: Bundle, document: Mapping[str, Any]) -> None:
        self.bundle = bundle
        self.document = document
        self.sections: dict[str, list[Any]] = {name: [] for name in SECTION_NAMES}
        self.attachments: list[Attachment] = []
        self.medications: dict[str, str] = {}

    def fail(self, n: int, resource: Any, field: str, problem: str) -> InputError:
        return InputError(f"Bundle.entry[{n}].resource({resource.get_resource_type()}).{field}: {problem}")

    def read(self) -> None:
        entries = list(enumerate(self.bundle.entry or []))
        for n, entry in entries:
            resource = entry.resource
            if resource is None:
                raise InputError(
                    f"Bundle.entry[{n}].resource: missing (famchain reads resources, not requests)"
                )
            if resource.get_resource_type() == "Medication":
                name = _concept_text(getattr(resource, "code", None))
                for key in (entry.fullUrl, f"Medication/{resource.id}" if resource.id else None):
                    if key and name:
                        self.medications[str(key)] = name
        for n, entry in entries:
            resource = entry.resource
            assert resource is not None  # checked in the first pass
            kind = resource.get_resource_type()
            if kind in CONTEXT_TYPES:
                continue
            handler = getattr(self, f"_{kind}", None)
            if handler is None:
                raise InputError(
                    f"Bundle.entry[{n}].resource({kind}): not mapped to a record section "
                    f"(famchain maps {', '.join(SECTION_TYPES)})"
                )
            handler(n, resource)

    def _Condition(self, n: int, r: Any) -> None:
        categories = [c.code for cat in r.category or [] for c in cat.coding or []]
        text = _concept_text(r.code)
        if text is None:
            raise self.fail(n, r, "code", "a diagnosis needs code.text or a coding")
        if "problem-list-item" in categories:
            self.sections["past_history"].append(text)
            return
        coding = _get(r, "code", "coding", 0)
        self.sections["diagnosis"].append(
            _clean(
                {
                    "text": text,
                    "code": str(coding.code) if coding is not None and coding.code else None,
                    "system": _system_name(coding.system) if coding is not None and coding.system else None,
                }
            )
        )

    def _Observation(self, n: int, r: Any) -> None:
        name = _concept_text(r.code)
        if name is None:
            raise self.fail(n, r, "code", "an examination needs code.text or a coding")
        unit = None
        if r.valueQuantity is not None and r.valueQuantity.value is not None:
            value, unit = _quantity(r.valueQuantity)
        elif r.valueString is not None:
            value = str(r.valueString)
        elif r.valueCodeableConcept is not None:
            value = _concept_text(r.valueCodeableConcept) or ""
        elif r.valueBoolean is not None:
            value = "true" if r.valueBoolean else "false"
        elif r.valueInteger is not None:
            value = str(r.valueInteger)
        else:
            raise self.fail(
                n, r, "value[x]", "an examination needs a value (Quantity, string, code, boolean, integer)"
            )
        ref = _get(r, "referenceRange", 0)
        reference_range = None
        if ref is not None:
            if ref.text:
                reference_range = str(ref.text)
            elif ref.low is not None or ref.high is not None:
                low = _quantity(ref.low)[0] if ref.low is not None and ref.low.value is not None else ""
                high = _quantity(ref.high)[0] if ref.high is not None and ref.high.value is not None else ""
                reference_range = f"{low}-{high}"
        self.sections["examinations"].append(
            _clean(
                {
                    "name": name,
                    "value": value,
                    "unit": unit,
                    "reference_range": reference_range,
                    "note": _notes(r),
                }
            )
        )

    def _DiagnosticReport(self, n: int, r: Any) -> None:
        name = _concept_text(r.code)
        if r.conclusion:
            self.sections["examinations"].append(
                _clean(
                    {
                        "name": name or "Diagnostic report",
                        "value": str(r.conclusion),
                        "note": "DiagnosticReport",
                    }
                )
            )
        elif not r.result:
            raise self.fail(n, r, "conclusion", "a report needs a conclusion or result references")

    def _MedicationRequest(self, n: int, r: Any) -> None:
        drug = _concept_text(r.medicationCodeableConcept)
        if drug is None and r.medicationReference is not None:
            ref = r.medicationReference
            drug = self.medications.get(str(ref.reference)) if ref.reference else None
            drug = drug or (str(ref.display) if ref.display else None)
        if drug is None:
            raise self.fail(
                n,
                r,
                "medication[x]",
                "name the drug (medicationCodeableConcept, or a Medication in the bundle)",
            )
        dosage = _get(r, "dosageInstruction", 0)
        dose = str(dosage.text) if dosage is not None and dosage.text else None
        quantity = _get(dosage, "doseAndRate", 0, "doseQuantity")
        if dose is None and quantity is not None and quantity.value is not None:
            value, unit = _quantity(quantity)
            dose = f"{value} {unit}" if unit else value
        days = None
        supply = _get(r, "dispenseRequest", "expectedSupplyDuration")
        if supply is not None and supply.value is not None:
            unit = supply.code or supply.unit
            if unit not in ("d", "day", "days"):
                raise self.fail(
                    n, r, "dispenseRequest.expectedSupplyDuration.unit", f"expected days (d), got {unit!r}"
                )
            if supply.value != int(supply.value) or supply.value < 0:
                raise self.fail(n, r, "dispenseRequest.expectedSupplyDuration.value", "expected whole days")
            days = int(supply.value)
        self.sections["prescriptions"].append(
            _clean(
                {
                    "drug": drug,
                    "dose": dose,
                    "route": _concept_text(_get(dosage, "route")),
                    "frequency": _concept_text(_get(dosage, "timing", "code")),
                    "days": days,
                    "note": _notes(r),
                }
            )
        )

    def _FamilyMemberHistory(self, n: int, r: Any) -> None:
        relation = _concept_text(r.relationship) or "family member"
        conditions = [t for c in r.condition or [] if (t := _concept_text(c.code))]
        notes = _notes(r)
        codes = [c.code for c in r.relationship.coding or []] if r.relationship is not None else []
        if "FAMMEMB" in codes and notes and not conditions:
            line = notes  # famchain's own export: the section's text as the note
        elif conditions:
            line = f"{relation}: {', '.join(conditions)}" + (f" ({notes})" if notes else "")
        elif notes:
            line = f"{relation}: {notes}"
        else:
            raise self.fail(n, r, "condition", "a family history needs a condition or a note")
        self.sections["family_history"].append(line)

    def _Encounter(self, n: int, r: Any) -> None:
        reasons = [t for c in r.reasonCode or [] if (t := _concept_text(c))]
        if not reasons:
            raise self.fail(
                n, r, "reasonCode", "the present illness is taken from reasonCode (text or coding)"
            )
        self.sections["present_illness"].append("; ".join(reasons))

    def _DocumentReference(self, n: int, r: Any) -> None:
        for m, content in enumerate(r.content or []):
            a = content.attachment
            field = f"content[{m}].attachment"
            if a.data is None:
                raise self.fail(
                    n, r, f"{field}.data", "famchain needs the bytes inline (a url is not fetched)"
                )
            data = a.data if isinstance(a.data, bytes) else base64.b64decode(a.data)
            if len(data) > MAX_ATTACHMENT:
                raise self.fail(n, r, f"{field}.data", f"larger than {MAX_ATTACHMENT // 2**20} MiB")
            if a.hash is not None:
                declared = a.hash if isinstance(a.hash, bytes) else base64.b64decode(a.hash)
                if declared != hashlib.sha1(data, usedforsecurity=False).digest():
                    raise self.fail(n, r, f"{field}.hash", "does not match the SHA-1 of data")
            name = str(a.title) if a.title else f"attachment-{n}-{m}"
            self.attachments.append(Attachment(name, str(a.contentType or "application/octet-stream"), data))

    def document_json(self) -> dict[str, Any]:
        narrative = ("present_illness", "past_history", "family_history")
        sections: dict[str, Any] = {}
        for name, items in self.sections.items():
            if not items:
                continue
            sections[name] = "\n".join(items) if name in narrative else items
        return {"version": 1, "sections": sections}


def record_from_bundle(document: Any) -> RecordContent:
    """Map a FHIR Bundle (decoded JSON) to a record's sections.

    Raises:
        InputError: invalid FHIR, an unmapped resource type, or a resource without what its section needs;
            the message names the entry, the resource type and the field.
    """
    bundle = validate_bundle(document)
    reader = _Reader(bundle, document)
    reader.read()
    try:
        return parse_record(reader.document_json(), reader.attachments)
    except InputError as exc:
        raise InputError(f"Bundle mapped to record: {exc}") from None


def load_bundle(path: Path) -> RecordContent:
    """Read a FHIR Bundle JSON file and map it to a record (see :func:`record_from_bundle`).

    Raises:
        InputError: unreadable file, invalid JSON or an invalid or unmappable bundle (prefixed with the path).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise InputError(f"{path}: cannot read FHIR bundle ({reason})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        return record_from_bundle(document)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


# --- record -> FHIR ---------------------------------------------------------------------------------------


def account_reference(address: str) -> dict[str, Any]:
    """A logical reference to a famchain account (no name or other identifier)."""
    return {"identifier": {"system": ACCOUNT_SYSTEM, "value": address}, "display": address}


def _coding_system(name: str | None) -> str | None:
    if name is None:
        return None
    return CODE_SYSTEMS.get(name, name)


def _decimal(text: str) -> Decimal | None:
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def _section_resources(name: str, value: Any, subject: dict[str, Any]) -> list[dict[str, Any]]:
    if name == "present_illness":
        return [
            {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                    "display": "ambulatory",
                },
                "subject": subject,
                "reasonCode": [{"text": value}],
            }
        ]
    if name == "past_history":
        return [
            {
                "resourceType": "Condition",
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
                "code": {"text": value},
                "subject": subject,
            }
        ]
    if name == "family_history":
        return [
            {
                "resourceType": "FamilyMemberHistory",
                "status": "completed",
                "patient": subject,
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                            "code": "FAMMEMB",
                            "display": "family member",
                        }
                    ]
                },
                "note": [{"text": value}],
            }
        ]
    if name == "diagnosis":
        out = []
        for d in value:
            concept: dict[str, Any] = {"text": d["text"]}
            if d.get("code"):
                coding = {"code": d["code"], "display": d["text"]}
                if d.get("system"):
                    coding["system"] = _coding_system(d["system"])
                concept["coding"] = [coding]
            out.append(
                {
                    "resourceType": "Condition",
                    "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
                    "code": concept,
                    "subject": subject,
                }
            )
        return out
    if name == "prescriptions":
        out = []
        for p in value:
            dosage: dict[str, Any] = {}
            if p.get("dose"):
                dosage["text"] = p["dose"]
            if p.get("route"):
                dosage["route"] = {"text": p["route"]}
            if p.get("frequency"):
                dosage["timing"] = {"code": {"text": p["frequency"]}}
            request: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {"text": p["drug"]},
                "subject": subject,
            }
            if dosage:
                request["dosageInstruction"] = [dosage]
            if "days" in p:
                request["dispenseRequest"] = {
                    "expectedSupplyDuration": {
                        "value": p["days"],
                        "unit": "days",
                        "system": UCUM,
                        "code": "d",
                    }
                }
            if p.get("note"):
                request["note"] = [{"text": p["note"]}]
            out.append(request)
        return out
    if name == "examinations":
        out = []
        for e in value:
            observation: dict[str, Any] = {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": e["name"]},
                "subject": subject,
            }
            number = _decimal(e["value"])
            if number is not None and e.get("unit"):
                observation["valueQuantity"] = {"value": number, "unit": e["unit"]}
            else:
                observation["valueString"] = e["value"] + (f" {e['unit']}" if e.get("unit") else "")
            if e.get("reference_range"):
                observation["referenceRange"] = [{"text": e["reference_range"]}]
            if e.get("note"):
                observation["note"] = [{"text": e["note"]}]
            out.append(observation)
        return out
    if name == "attachments":
        return [
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": subject,
                "content": [
                    {
                        "attachment": {
                            "contentType": a["media_type"],
                            "data": a["data"],
                            "title": a["name"],
                            "hash": base64.b64encode(
                                hashlib.sha1(base64.b64decode(a["data"]), usedforsecurity=False).digest()
                            ).decode(),
                        }
                    }
                ],
            }
            for a in value
        ]
    raise InputError(f"unknown section {name!r}")


def _finish(bundle: dict[str, Any]) -> dict[str, Any]:
    """Validate what we built with fhir.resources and return it as plain JSON."""
    model = Bundle.model_validate(bundle)
    data: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return data


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Where a resource names the record's author (field, is-a-list).
_AUTHOR_FIELDS: Final[dict[str, tuple[str, bool]]] = {
    "MedicationRequest": ("requester", False),
    "Condition": ("recorder", False),
    "Observation": ("performer", True),
}


def bundle_from_sections(
    sections: Mapping[str, Any], *, patient: str, record_id: str | None = None, author: str | None = None
) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of the given (readable) sections; withheld sections are simply absent.

    Args:
        sections: section name -> decoded section JSON (as :class:`~famchain.records.pipeline.ReadResult`).
        patient: the patient's address (the ``subject`` of every resource).
        record_id: the record id, kept as the Bundle identifier.
        author: the record's author, as the Encounter participant / request requester.
    """
    subject = account_reference(patient)
    entries = []
    for name in SECTION_NAMES:
        if name not in sections:
            continue
        for resource in _section_resources(name, sections[name], subject):
            kind = resource["resourceType"]
            if author is not None and kind in _AUTHOR_FIELDS:
                field, many = _AUTHOR_FIELDS[kind]
                resource[field] = [account_reference(author)] if many else account_reference(author)
            entries.append({"resource": resource})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _now(),
        "entry": entries,
    }
    if record_id is not None:
        bundle["identifier"] = {"system": RECORD_SYSTEM, "value": record_id}
    return _finish(bundle)


def record_to_bundle(read: Mapping[str, Any]) -> dict[str, Any]:
    """The Bundle of a ``ReadResult.to_json()``: the readable sections only."""
    return bundle_from_sections(
        read["sections"],
        patient=str(read["patient"]),
        record_id=str(read["record"]),
        author=str(read["author"]),
    )


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
                "period": {"end": _instant(int(row["expires_at"]))},
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
    return _finish({"resourceType": "Bundle", "type": "collection", "timestamp": _now(), "entry": entries})


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
                    "recorded": _instant(int(timestamps[int(e["block"])])),
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
    return _finish({"resourceType": "Bundle", "type": "collection", "timestamp": _now(), "entry": entries})
