"""FHIR Bundle -> record: each entry mapped to a section, skipped with a reason, or refused.

See :mod:`famchain.fhir` for the mapping table. The importer validates the bundle, resolves references inside
it, decides which Encounter is *this visit*, maps every entry it can and reports every entry it leaves out
(``ImportResult.skipped``). With ``strict=True`` a skipped entry other than context (Patient, Practitioner, ...)
refuses the bundle instead, naming the entry.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from famchain.errors import InputError
from famchain.fhir import _inbound as inbound
from famchain.fhir._common import (
    CONTEXT_TYPES,
    LOINC,
    NARRATIVE_CODES,
    SECTION_SYSTEM,
    concept_text,
    day,
    first_code,
    has_code,
    one_line,
)
from famchain.fhir._prune import LINK_FIELDS, Pruner, has_modifier_extension
from famchain.fhir.validation import read_json, validate_bundle, validate_resource
from famchain.i18n import _
from famchain.records.model import MAX_ATTACHMENT, Attachment, RecordContent, parse_record
from famchain.records.sections import SECTION_NAMES

CONTEXT: Final = "context"
UNMAPPED: Final = "unmapped"
UNUSABLE: Final = "unusable"

MAPPED_TYPES: Final = (
    "Encounter",
    "Condition",
    "Procedure",
    "Immunization",
    "FamilyMemberHistory",
    "MedicationRequest",
    "Observation",
    "DiagnosticReport",
    "DocumentReference",
    "AllergyIntolerance",
)
"""Resource types that become section items."""

SECTION_RESOURCES: Final[dict[str, tuple[str, ...]]] = {
    "present_illness": ("Encounter", "Observation"),
    "past_history": ("Condition", "Procedure", "Immunization", "Encounter", "Observation"),
    "family_history": ("FamilyMemberHistory", "Observation"),
    "diagnosis": ("Condition",),
    "prescriptions": ("MedicationRequest",),
    "examinations": ("Observation", "DiagnosticReport", "Procedure"),
    "attachments": ("DocumentReference", "DiagnosticReport"),
    "allergies": ("AllergyIntolerance",),
}
"""Which resource types each section may hold (also a Consent's ``provision.class`` for the section)."""

_NARRATIVE: Final = ("present_illness", "past_history", "family_history")
_HISTORY_CATEGORIES: Final = frozenset({"problem-list-item", "health-concern"})
_ERROR_STATUS: Final = "entered-in-error"


@dataclass(frozen=True)
class SkippedEntry:
    """A bundle entry that is not part of the record, and why.

    ``kind`` is ``context`` (a Patient, Practitioner, Organization, Location or Medication: read for names and
    drugs, never a section item), ``unmapped`` (a resource type famchain has no section for) or ``unusable``
    (a mapped type lacking what its section needs, entered in error, or not a resource at all).
    """

    index: int
    resource_type: str | None
    kind: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {"index": self.index, "type": self.resource_type, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class MappedEntry:
    """A bundle entry that became (part of) a section item."""

    index: int
    resource_type: str
    section: str

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {"index": self.index, "type": self.resource_type, "section": self.section}


@dataclass(frozen=True)
class ImportResult:
    """A record mapped from a bundle, what each entry became, and the bundle's Patient (never in the record)."""

    content: RecordContent
    entries: int
    mapped: tuple[MappedEntry, ...]
    skipped: tuple[SkippedEntry, ...]
    patient: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """``{"entries", "sections", "mapped", "skipped"}``: for ``--json``."""
        return {
            "entries": self.entries,
            "sections": {name: _count(value) for name, value in self.content.sections.items()},
            "mapped": [m.to_json() for m in self.mapped],
            "skipped": [s.to_json() for s in self.skipped],
        }

    def summary(self) -> str:
        """A few lines for people: what was mapped where, and what was left out (grouped by reason)."""
        sections = ", ".join(f"{name} {_count(v)}" for name, v in self.content.sections.items())
        lines = [f"mapped {len(self.mapped)} of {self.entries} entries: {sections}"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} entries:")
        for kind, label in ((UNMAPPED, "no section for"), (CONTEXT, "context only"), (UNUSABLE, "unusable")):
            group = [s for s in self.skipped if s.kind == kind]
            if not group:
                continue
            if kind == UNUSABLE:
                for s in group:
                    lines.append(
                        f"  {label}: entry {s.index} {s.resource_type or '(no resource)'}: {s.reason}"
                    )
                continue
            counts = Counter(s.resource_type or "?" for s in group)
            lines.append(f"  {label}: " + ", ".join(f"{t} x{c}" for t, c in counts.most_common()))
        if self.patient is not None:
            lines.append(
                "  the Patient is never part of a record (resident register --fhir-patient reads it)"
            )
        return "\n".join(lines)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 1


class _Skip(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class _Blob:
    order: int
    data: bytes
    fields: dict[str, Any]
    fhir: list[dict[str, Any]] = field(default_factory=list)
    carried_by: str | None = None


def _walk_references(node: Any, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                out.append((where, value))
            else:
                out.extend(_walk_references(value, f"{where}.{key}"))
    elif isinstance(node, list):
        for n, item in enumerate(node):
            out.extend(_walk_references(item, f"{where}[{n}]"))
    return out


def _strings(value: Any) -> list[Any]:
    """A FHIR list of strings, or nothing when the element is absent or malformed."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping | list) and not value)


def _without_nulls(node: Any) -> Any:
    """A resource as its pruned fragment will be: nulls, empty objects and empty lists removed (FHIR has none of
    them; such an element is absent, so a required one makes the resource invalid)."""
    if isinstance(node, Mapping):
        cleaned = {k: _without_nulls(v) for k, v in node.items()}
        return {k: v for k, v in cleaned.items() if not _empty(v)}
    if isinstance(node, list):
        cleaned_items = [_without_nulls(v) for v in node]
        return [v for v in cleaned_items if not _empty(v)]
    return node


def _attachment(content: Any) -> Mapping[str, Any]:
    value = content.get("attachment") if isinstance(content, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _name(resource: Mapping[str, Any]) -> str | None:
    """A provider's display name (Practitioner, Organization, Location, PractitionerRole's code)."""
    name = resource.get("name")
    if isinstance(name, str):
        return name
    if isinstance(name, list) and name and isinstance(name[0], Mapping):
        n = name[0]
        if n.get("text"):
            return str(n["text"])
        parts = [
            *_strings(n.get("prefix")),
            *_strings(n.get("given")),
            n.get("family") or "",
            *_strings(n.get("suffix")),
        ]
        return " ".join(str(p) for p in parts if p) or None
    if resource.get("resourceType") == "PractitionerRole":
        return concept_text((resource.get("code") or [None])[0])
    return None


class _Importer:
    def __init__(self, document: Mapping[str, Any], strict: bool, encounter: str | None) -> None:
        self.model = validate_bundle(document)
        self.raw_entries: list[Any] = list(document.get("entry") or [])
        self.strict = strict
        self.items: dict[str, list[tuple[int, dict[str, Any]]]] = {name: [] for name in SECTION_NAMES}
        self.mapped: list[MappedEntry] = []
        self.skipped: list[SkippedEntry] = []
        self.blobs: dict[str, _Blob] = {}
        self._pending: list[tuple[bytes, str]] = []
        self._n = 0
        self._kind = ""
        self.by_url: dict[str, int] = {}
        for n, entry in enumerate(self.raw_entries):
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if isinstance(entry, Mapping) and entry.get("fullUrl"):
                self.by_url[str(entry["fullUrl"])] = n
            if isinstance(resource, Mapping) and resource.get("id"):
                self.by_url.setdefault(f"{resource['resourceType']}/{resource['id']}", n)
        self.pruner = Pruner(self._resolve_reference, self._attachment, self._link)
        self._check_references()
        self.patient = self._patient()
        self.visit = self._visit(encounter)
        self.visit_start = self._visit_start()

    # --- bundle-wide checks -------------------------------------------------------------------------------

    def _resource(self, n: int | None) -> Mapping[str, Any] | None:
        if n is None or not 0 <= n < len(self.raw_entries):
            return None
        resource = self.raw_entries[n].get("resource")
        return resource if isinstance(resource, Mapping) else None

    def _target(self, ref: Mapping[str, Any] | Any) -> int | None:
        if not isinstance(ref, Mapping) or not isinstance(ref.get("reference"), str):
            return None
        reference = ref["reference"]
        if reference in self.by_url:
            return self.by_url[reference]
        # an absolute URL naming Type/id of an entry held under another fullUrl form
        parts = reference.rstrip("/").split("/")
        if len(parts) >= 2:
            return self.by_url.get(f"{parts[-2]}/{parts[-1]}")
        return None

    def _resolve_reference(self, ref: Mapping[str, Any]) -> tuple[str | None, str | None]:
        target = self._resource(self._target(ref))
        if target is None:
            reference = ref.get("reference")
            if isinstance(reference, str) and "/" in reference and not reference.startswith("urn:"):
                return reference.rstrip("/").split("/")[-2], None
            return None, None
        kind = target.get("resourceType")
        return (str(kind) if isinstance(kind, str) else None), _name(target)

    def _link(self, ref: Mapping[str, Any]) -> str | None:
        target = self._target(ref)
        return f"item:{target}" if target is not None else None

    def _check_references(self) -> None:
        for n, entry in enumerate(self.raw_entries):
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if not isinstance(resource, Mapping):
                continue
            for where, reference in _walk_references(resource, ""):
                if reference.startswith(("urn:uuid:", "urn:oid:")) and reference not in self.by_url:
                    raise InputError(
                        _(
                            "Bundle.entry[{n}].resource({resource}){where}: reference {reference} resolves to no entry of the bundle"
                        ).format(n=n, resource=resource["resourceType"], where=where, reference=reference)
                    )

    def _patient(self) -> Mapping[str, Any] | None:
        patients = [
            n
            for n in range(len(self.raw_entries))
            if (self._resource(n) or {}).get("resourceType") == "Patient"
        ]
        if len(patients) > 1:
            listed = ", ".join(str(n) for n in patients)
            raise InputError(
                _(
                    "Bundle holds {n_patients} Patient resources (entries {listed}): a record is one patient's"
                ).format(n_patients=len(patients), listed=listed)
            )
        return self._resource(patients[0]) if patients else None

    def _visit(self, wanted: str | None) -> int | None:
        encounters = [
            n
            for n in range(len(self.raw_entries))
            if (self._resource(n) or {}).get("resourceType") == "Encounter"
        ]
        if wanted is not None:
            for n in encounters:
                resource = self._resource(n) or {}
                if wanted in (
                    resource.get("id"),
                    self.raw_entries[n].get("fullUrl"),
                    f"Encounter/{resource.get('id')}",
                ):
                    return n
            raise InputError(_("Bundle has no Encounter {wanted!r}").format(wanted=wanted))

        def start(n: int) -> str:
            period = (self._resource(n) or {}).get("period") or {}
            return str(period.get("start") or period.get("end") or "")

        return max(encounters, key=lambda n: (start(n), n)) if encounters else None

    def _visit_start(self) -> str | None:
        period = (self._resource(self.visit) or {}).get("period") or {}
        return day(period.get("start")) if isinstance(period, Mapping) else None

    # --- per entry ----------------------------------------------------------------------------------------

    def _attachment(self, data: bytes, declared: bytes | None, where: str) -> None:
        field_ = f"Bundle.entry[{self._n}].resource({self._kind}).{where}"
        if len(data) > MAX_ATTACHMENT:
            raise InputError(
                _("{field}.data: larger than {mib} MiB").format(field=field_, mib=MAX_ATTACHMENT // 2**20)
            )
        if declared is not None and declared != hashlib.sha1(data, usedforsecurity=False).digest():
            raise InputError(_("{field}.hash: does not match the SHA-1 of data").format(field=field_))
        self._pending.append((data, where))

    def _linked_encounter(self, r: Mapping[str, Any]) -> int | bool | None:
        """The entry index of the Encounter ``r`` belongs to; False when it names none."""
        link = r.get("encounter")
        if link is None and isinstance(r.get("context"), Mapping):
            context = r["context"]
            link = context if "reference" in context else (context.get("encounter") or [None])[0]
        if not isinstance(link, Mapping):
            return False
        return self._target(link)

    def _earlier(self, r: Mapping[str, Any]) -> bool:
        """Whether ``r`` belongs to a visit other than this one (a past visit in the same bundle)."""
        if self.visit is None:
            return False
        linked = self._linked_encounter(r)
        if linked is False:
            return False
        return linked != self.visit

    def _tagged(self, r: Mapping[str, Any], kind: str) -> str | None:
        meta = r.get("meta")
        for tag in (meta.get("tag") or []) if isinstance(meta, Mapping) else []:
            if isinstance(tag, Mapping) and tag.get("system") == SECTION_SYSTEM:
                section = tag.get("code")
                if section in SECTION_RESOURCES and kind in SECTION_RESOURCES[section]:
                    return str(section)
        return None

    def _entered_in_error(self, r: Mapping[str, Any]) -> bool:
        if r.get("status") == _ERROR_STATUS or r.get("docStatus") == _ERROR_STATUS:
            return True
        return first_code(r.get("verificationStatus"))[0] == _ERROR_STATUS

    def _skip(self, n: int, kind: str | None, how: str, reason: str) -> None:
        if self.strict and how != CONTEXT:
            where = f"Bundle.entry[{n}]" + (f".resource({kind})" if kind else "")
            raise InputError(one_line(f"{where}: {reason} (strict import skips nothing)"))
        self.skipped.append(SkippedEntry(n, kind, how, reason))

    def run(self) -> None:
        reports = []
        for n, entry in enumerate(self.raw_entries):
            model_entry = self.model.entry[n] if self.model.entry else None
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            model = getattr(model_entry, "resource", None)
            if (
                not isinstance(resource, Mapping)
                or not isinstance(model, BaseModel)
                or not isinstance(resource.get("resourceType"), str)
            ):
                self._skip(n, None, UNUSABLE, "no resource (famchain reads resources, not requests)")
                continue
            kind = str(resource["resourceType"])
            if kind == "DiagnosticReport":
                reports.append(
                    (n, resource, model)
                )  # after every DocumentReference: shared bytes are kept once
                continue
            self._entry(n, kind, resource, model, entry.get("request"))
        for n, resource, model in reports:
            self._entry(n, "DiagnosticReport", resource, model, self.raw_entries[n].get("request"))

    def _entry(self, n: int, kind: str, r: Mapping[str, Any], model: BaseModel, request: Any) -> None:
        try:
            if isinstance(request, Mapping) and request.get("method") == "DELETE":
                raise _Skip(UNUSABLE, "a DELETE request, not a resource to record")
            if kind in CONTEXT_TYPES:
                reason = (
                    "never part of a record (its fields go to the resident's sealed profile)"
                    if kind == "Patient"
                    else "context: read for names and drugs, not a section item"
                )
                raise _Skip(CONTEXT, reason)
            if kind == "Binary" and self._is_document_content(n):
                raise _Skip(CONTEXT, "the bytes of a DocumentReference, recorded through it")
            if kind not in MAPPED_TYPES:
                raise _Skip(UNMAPPED, "not mapped to a record section")
            if self._entered_in_error(r):
                raise _Skip(UNUSABLE, "entered in error")
            if has_modifier_extension(r):
                raise _Skip(
                    UNUSABLE,
                    "carries a modifierExtension, which changes its meaning in a way famchain cannot read",
                )
            try:
                # The bundle's model accepts an element set to null; its pruned fragment (no nulls) must be
                # valid FHIR on its own, since the export validates it.
                validate_resource(_without_nulls(r))
            except InputError as exc:
                raise _Skip(UNUSABLE, f"not valid FHIR: {exc}") from None
            self._n, self._kind = n, kind
            self._map(n, kind, r, model)
        except inbound.Unusable as exc:
            self._skip(n, kind, UNUSABLE, str(exc))
        except _Skip as exc:
            self._skip(n, kind, exc.kind, exc.reason)

    def _is_document_content(self, n: int) -> bool:
        for m in range(len(self.raw_entries)):
            resource = self._resource(m) or {}
            if resource.get("resourceType") == "DocumentReference":
                for content in resource.get("content") or []:
                    if self._target({"reference": _attachment(content).get("url")}) == n:
                        return True
        return False

    def _section(self, kind: str, r: Mapping[str, Any]) -> str:
        tagged = self._tagged(r, kind)
        if tagged is not None:
            return tagged
        if kind == "Encounter":
            return "present_illness" if self.visit is None or self._is_visit(r) else "past_history"
        if kind == "Condition":
            # condition-category or US Core's category system: the codes are what matters
            categories = {c.get("code") for cat in r.get("category") or [] for c in cat.get("coding") or []}
            if categories & _HISTORY_CATEGORIES or self._earlier(r):
                return "past_history"
            return "diagnosis"
        if kind == "Procedure":
            if self._earlier(r):
                return "past_history"
            date = inbound.procedure(r).get("date")
            if (
                self._linked_encounter(r) is False
                and self.visit_start
                and date
                and date[:10] < self.visit_start
            ):
                return "past_history"
            return "examinations"
        if kind == "Observation":
            for section, (code, _) in NARRATIVE_CODES.items():
                if has_code(r.get("code"), LOINC, {code}) and isinstance(r.get("valueString"), str):
                    return section
            return "examinations"
        return {
            "Immunization": "past_history",
            "FamilyMemberHistory": "family_history",
            "MedicationRequest": "prescriptions",
            "AllergyIntolerance": "allergies",
            "DocumentReference": "attachments",
            "DiagnosticReport": "examinations",
        }[kind]

    def _is_visit(self, r: Mapping[str, Any]) -> bool:
        return self.visit is not None and self._resource(self.visit) is r

    def _summary(self, kind: str, section: str, r: Mapping[str, Any]) -> dict[str, Any]:
        if kind == "Observation" and section in _NARRATIVE:
            return {"text": str(r["valueString"])}
        if kind == "Condition":
            return (
                inbound.condition_history(r) if section == "past_history" else inbound.condition_diagnosis(r)
            )
        if kind == "Procedure":
            return inbound.procedure_history(r) if section == "past_history" else inbound.procedure(r)
        if kind == "MedicationRequest":
            return inbound.medication_request(r, self._drug(r))
        return {
            "Encounter": inbound.encounter,
            "Immunization": inbound.immunization,
            "FamilyMemberHistory": inbound.family_member,
            "Observation": inbound.observation,
            "AllergyIntolerance": inbound.allergy,
            "DiagnosticReport": inbound.diagnostic_report,
        }[kind](r)

    def _drug(self, r: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if isinstance(r.get("medicationCodeableConcept"), Mapping):
            return r["medicationCodeableConcept"]  # type: ignore[no-any-return]
        ref = r.get("medicationReference")
        medication = self._resource(self._target(ref))
        if medication is None and isinstance(ref, Mapping) and str(ref.get("reference", "")).startswith("#"):
            wanted = str(ref["reference"])[1:]
            medication = next(
                (c for c in r.get("contained") or [] if isinstance(c, Mapping) and c.get("id") == wanted),
                None,
            )
        if medication is not None and isinstance(medication.get("code"), Mapping):
            return medication["code"]  # type: ignore[no-any-return]
        return None

    def _map(self, n: int, kind: str, r: Mapping[str, Any], model: BaseModel) -> None:
        section = self._section(kind, r)
        if kind == "DocumentReference":
            self._document(n, r, model)
            return
        if kind == "DiagnosticReport" and (
            section == "attachments"
            or (
                r.get("presentedForm")
                and not (r.get("conclusion") or r.get("conclusionCode") or r.get("result"))
            )
        ):
            self._report_attachment(n, r, model)
            return
        item = self._summary(kind, section, r)
        self._pending = []
        if not (kind == "Observation" and section in _NARRATIVE):
            fragment = self.pruner.fragment(r, model)
            if kind == "MedicationRequest" and "medicationReference" in r:
                drug = self._drug(r)
                fragment.pop("medicationReference", None)
                fragment["medicationCodeableConcept"] = dict(drug) if drug else {"text": item["drug"]}
            item["fhir"] = fragment
        if kind == "DiagnosticReport":
            for data, where in self._pending:
                self._blob(n, data, self._presented(r, where), carried_by="examinations")
        self.items[section].append((n, item))
        self.mapped.append(MappedEntry(n, kind, section))

    def _presented(self, r: Mapping[str, Any], where: str) -> dict[str, Any]:
        index = int(where.split("[")[1].split("]", maxsplit=1)[0]) if "[" in where else 0
        attachment = (r.get("presentedForm") or [{}])[index]
        return inbound.attachment_fields(
            attachment,
            kind=concept_text(r.get("code")),
            date=day(
                r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start") or r.get("issued")
            ),
            author=None,
            description=None,
        )

    def _blob(self, n: int, data: bytes, fields: dict[str, Any], carried_by: str | None = None) -> _Blob:
        sha = hashlib.sha256(data).hexdigest()
        if sha not in self.blobs:
            self.blobs[sha] = _Blob(n, data, fields, carried_by=carried_by)
        return self.blobs[sha]

    def _binary(self, url: Any) -> Mapping[str, Any] | None:
        """The Binary entry an attachment ``url`` points at, when the bundle carries it."""
        if not isinstance(url, str):
            return None
        binary = self._resource(self._target({"reference": url}))
        if binary is not None and binary.get("resourceType") == "Binary" and binary.get("data"):
            return binary
        return None

    def _inline(self, r: Mapping[str, Any], model: BaseModel) -> tuple[Mapping[str, Any], BaseModel]:
        """A DocumentReference whose attachments point at Binary entries of the bundle, with their bytes
        inline (the url was the bundle's own link to them)."""
        if not any(
            self._binary(_attachment(c).get("url")) and not _attachment(c).get("data")
            for c in r.get("content") or []
        ):
            return r, model
        copied = copy.deepcopy(dict(r))
        for content in copied["content"]:
            attachment = content.get("attachment", {})
            binary = self._binary(attachment.get("url"))
            if binary is not None and not attachment.get("data"):
                attachment["data"] = binary["data"]
                attachment.setdefault("contentType", binary.get("contentType"))
                del attachment["url"]
        return copied, type(model).model_validate(copied)

    def _document(self, n: int, r: Mapping[str, Any], model: BaseModel) -> None:
        r, model = self._inline(r, model)
        self._pending = []
        fragment = self.pruner.fragment(r, model)
        if not self._pending:
            raise _Skip(
                UNUSABLE, "famchain needs the bytes inline (content[].attachment.data; a url is not fetched)"
            )
        authors = "; ".join(str(a["display"]) for a in fragment.get("author") or [] if a.get("display"))
        context = r.get("context") if isinstance(r.get("context"), Mapping) else {}
        assert isinstance(context, Mapping)
        date = day(r.get("date")) or day((context.get("period") or {}).get("start"))
        for m, (data, where) in enumerate(self._pending):
            index = int(where.split("[")[1].split("]")[0])
            fields = inbound.attachment_fields(
                r["content"][index]["attachment"],
                kind=concept_text(r.get("type")),
                date=date,
                author=authors or None,
                description=r.get("description"),
            )
            # the document is kept once, with its first attachment; the others travel inside it
            blob = self._blob(n, data, fields, carried_by=None if m == 0 else "attachments")
            if m == 0:
                blob.fhir.append(fragment)
        self.mapped.append(MappedEntry(n, "DocumentReference", "attachments"))

    def _report_attachment(self, n: int, r: Mapping[str, Any], model: BaseModel) -> None:
        """A report whose only content is its presentedForm: an attachment (shared with a document if the
        same bytes are there already)."""
        self._pending = []
        fragment = self.pruner.fragment(r, model)
        if not self._pending:
            raise _Skip(UNUSABLE, "a report needs a conclusion, results or an inline presentedForm")
        for m, (data, where) in enumerate(self._pending):
            blob = self._blob(
                n, data, self._presented(r, where), carried_by=None if m == 0 else "attachments"
            )
            if m == 0:
                blob.fhir.append(fragment)
        self.mapped.append(MappedEntry(n, "DiagnosticReport", "attachments"))

    # --- result -------------------------------------------------------------------------------------------

    def _relink(self) -> None:
        """``item:<entry>`` links -> ``item:<section>/<position>``; links to entries that became no item go."""
        where: dict[str, str] = {}
        for name, items in self.items.items():
            for position, (n, _item) in enumerate(sorted(items, key=lambda x: x[0])):
                where[f"item:{n}"] = f"item:{name}/{position}"

        def patch(node: Any) -> None:
            if isinstance(node, dict):
                for key in LINK_FIELDS & set(node):
                    links = [
                        {"reference": where[r["reference"]]} for r in node[key] if r.get("reference") in where
                    ]
                    if links:
                        node[key] = links
                    else:
                        del node[key]
                for value in node.values():
                    patch(value)
            elif isinstance(node, list):
                for value in node:
                    patch(value)

        for items in self.items.values():
            for _n, item in items:
                patch(item.get("fhir"))

    def document_json(self) -> tuple[dict[str, Any], list[Attachment]]:
        self._relink()
        sections: dict[str, Any] = {}
        for name, items in self.items.items():
            if not items:
                continue
            values = [item for _, item in sorted(items, key=lambda x: x[0])]
            if name in _NARRATIVE and all(set(v) == {"text"} for v in values):
                sections[name] = "\n".join(v["text"] for v in values)
            else:
                sections[name] = values
        attachments = [
            Attachment(
                name=b.fields["name"],
                media_type=b.fields["media_type"],
                data=b.data,
                details={k: v for k, v in b.fields.items() if k not in ("name", "media_type")}
                | ({"fhir": b.fhir} if b.fhir else {})
                | ({"carried_by": b.carried_by} if b.carried_by and not b.fhir else {}),
            )
            for b in sorted(self.blobs.values(), key=lambda b: b.order)
        ]
        return {"version": 1, "sections": sections}, attachments


def import_bundle(document: Any, *, strict: bool = False, encounter: str | None = None) -> ImportResult:
    """Map a FHIR Bundle (decoded JSON) to a record, reporting the entries left out.

    Args:
        document: the Bundle as decoded JSON.
        strict: refuse the bundle at the first entry that would be skipped (other than context entries such as
            Patient or Practitioner), instead of skipping and reporting it.
        encounter: the id or fullUrl of the Encounter that is *this visit*; by default the bundle's latest
            Encounter (by period start). Items of other Encounters in the bundle are past history.

    Raises:
        InputError: not a valid FHIR Bundle, a reference to an entry that is not there, more than one Patient,
            an attachment over 64 MiB or whose hash does not match, nothing to record, or (strict) an entry
            that would be skipped; the message names the entry, the resource type and the field.
    """
    importer = _Importer(document, strict, encounter)
    importer.run()
    doc, attachments = importer.document_json()
    if not doc["sections"] and not attachments:
        kinds = Counter(s.resource_type or "?" for s in importer.skipped)
        found = ", ".join(f"{t} x{c}" for t, c in kinds.most_common()) or "no entries"
        raise InputError(
            _("Bundle holds nothing famchain records ({found}); famchain maps {mapped}").format(
                found=found, mapped=", ".join(MAPPED_TYPES)
            )
        )
    try:
        content = parse_record(doc, attachments)
    except InputError as exc:
        raise InputError(_("Bundle mapped to record: {exc}").format(exc=exc)) from None
    return ImportResult(
        content=content,
        entries=len(importer.raw_entries),
        mapped=tuple(sorted(importer.mapped, key=lambda m: m.index)),
        skipped=tuple(sorted(importer.skipped, key=lambda s: s.index)),
        patient=importer.patient,
    )


def load_bundle(path: Path, *, strict: bool = False, encounter: str | None = None) -> ImportResult:
    """Read a FHIR Bundle JSON file and map it to a record (see :func:`import_bundle`).

    Raises:
        InputError: unreadable file, invalid JSON, or an invalid or unmappable bundle (prefixed with the path).
    """
    document = read_json(path)
    try:
        return import_bundle(document, strict=strict, encounter=encounter)
    except InputError as exc:
        raise InputError(_("{path}: {exc}").format(path=path, exc=exc)) from None


def record_from_bundle(document: Any, *, strict: bool = False) -> RecordContent:
    """The record content of :func:`import_bundle` alone."""
    return import_bundle(document, strict=strict).content
