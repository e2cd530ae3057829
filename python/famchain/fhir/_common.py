"""Helpers shared by the FHIR import and export: code systems, words of a concept, numbers, dates."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

ACCOUNT_SYSTEM: Final = "urn:famchain:account"
RECORD_SYSTEM: Final = "urn:famchain:record"
SECTION_SYSTEM: Final = "urn:famchain:section"
PURPOSE_SYSTEM: Final = "urn:famchain:purpose"
EVENT_SYSTEM: Final = "urn:famchain:event"
UCUM: Final = "http://unitsofmeasure.org"
LOINC: Final = "http://loinc.org"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"

CODE_SYSTEMS: Final[dict[str, str]] = {
    "ICD-10": "http://hl7.org/fhir/sid/icd-10",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-11": "http://id.who.int/icd/release/11/mms",
    "SNOMED CT": "http://snomed.info/sct",
    "LOINC": LOINC,
    "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "CVX": "http://hl7.org/fhir/sid/cvx",
}
"""Record ``system`` names and their FHIR code system URIs (any other system is kept as written)."""

NARRATIVE_CODES: Final[dict[str, tuple[str, str]]] = {
    # section -> (LOINC code, display): the C-CDA section codes for free-text history
    "present_illness": ("10164-2", "History of Present illness Narrative"),
    "past_history": ("11348-0", "History of Past illness Narrative"),
    "family_history": ("10157-6", "History of family member diseases Narrative"),
}
"""A narrative section's text travels as an Observation with this LOINC code and a ``valueString``."""

CONTEXT_TYPES: Final = frozenset(
    {"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Medication"}
)
"""Resource types that give context to others (who, where, which drug) and never become a section."""

PROVIDER_TYPES: Final = frozenset({"Practitioner", "PractitionerRole", "Organization", "Location"})
"""Reference targets whose name a record keeps (as a display-only reference): providers, not the patient."""


def system_name(uri: str | None) -> str | None:
    """``ICD-10`` for ``http://hl7.org/fhir/sid/icd-10``; an unknown URI as written."""
    if uri is None:
        return None
    for name, known in CODE_SYSTEMS.items():
        if known == uri:
            return name
    return uri


def system_uri(name: str | None) -> str | None:
    """Inverse of :func:`system_name`."""
    if name is None:
        return None
    return CODE_SYSTEMS.get(name, name)


def concept_text(concept: Any) -> str | None:
    """A CodeableConcept's words: its ``text``, else the first coding's display, else its code."""
    if not isinstance(concept, Mapping):
        return None
    if concept.get("text"):
        return str(concept["text"])
    codings = [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]
    for coding in codings:
        if coding.get("display"):
            return str(coding["display"])
    for coding in codings:
        if coding.get("code"):
            return str(coding["code"])
    return None


def concepts_text(concepts: Any, sep: str = ", ") -> str | None:
    """The words of a list of CodeableConcepts, joined."""
    words = [t for c in concepts or [] if (t := concept_text(c))]
    return sep.join(words) or None


def first_code(concept: Any) -> tuple[str | None, str | None]:
    """``(code, system name)`` of a concept's first coding that has a code."""
    if isinstance(concept, Mapping):
        for coding in concept.get("coding") or []:
            if isinstance(coding, Mapping) and coding.get("code"):
                return str(coding["code"]), system_name(coding.get("system"))
    return None, None


def has_code(concept: Any, system: str, codes: set[str] | frozenset[str]) -> bool:
    """Whether a concept holds a coding ``system|code`` with one of ``codes``."""
    if not isinstance(concept, Mapping):
        return False
    return any(
        isinstance(c, Mapping) and c.get("system") == system and c.get("code") in codes
        for c in concept.get("coding") or []
    )


def number(value: Any) -> str:
    """A JSON number as people write it: ``1`` rather than ``1.0``, ``37.9`` as is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quantity_text(q: Any) -> tuple[str, str | None]:
    """``(value, unit)`` of a Quantity; the comparator (``<``) stays with the value."""
    if not isinstance(q, Mapping) or q.get("value") is None:
        return "", None
    value = str(q["value"])
    if q.get("comparator"):
        value = f"{q['comparator']}{value}"
    unit = q.get("unit") or q.get("code")
    return value, (str(unit) if unit else None)


def day(value: Any) -> str | None:
    """The date part of a FHIR date or dateTime (``2007-02-15``); partial dates as written."""
    if not isinstance(value, str) or not value:
        return None
    return value[:10]


def strip_markup(div: str) -> str:
    """Plain words of an XHTML narrative (tags dropped, whitespace collapsed)."""
    text = re.sub(r"<[^>]+>", " ", div)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


def one_line(text: str) -> str:
    """Control characters escaped so that an error message stays on one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def now() -> str:
    """The current instant as a FHIR ``instant``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(seconds: int) -> str:
    """A Unix time as a FHIR ``instant``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_reference(address: str) -> dict[str, Any]:
    """A logical reference to a famchain account (no name or other identifier)."""
    return {"identifier": {"system": ACCOUNT_SYSTEM, "value": address}, "display": address}


def plain(value: Any) -> Any:
    """A deep copy made of plain JSON types only."""
    return json.loads(json.dumps(value))
