"""The summary fields a reader sees, per resource type, computed from a resource's JSON.

Each function takes the resource as validated JSON and returns the section item without its ``fhir`` fragment
(the importer adds that). A resource that cannot give what its section needs raises :class:`Unusable`.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping
from typing import Any, Final

from famchain.fhir._common import (
    concept_text,
    concepts_text,
    day,
    first_code,
    number,
    quantity_text,
    strip_markup,
)


class Unusable(Exception):
    """A mapped resource type that lacks what its section needs; the reason says what."""


_CLASS_WORDS: Final[dict[str, str]] = {
    "AMB": "ambulatory",
    "EMER": "emergency",
    "FLD": "field",
    "HH": "home health",
    "IMP": "inpatient",
    "ACUTE": "inpatient acute",
    "NONAC": "inpatient non-acute",
    "OBSENC": "observation",
    "PRENC": "pre-admission",
    "SS": "short stay",
    "VR": "virtual",
}

_UNITS: Final[dict[str, tuple[str, str]]] = {
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "a": ("year", "years"),
}

_DAYS_PER: Final[dict[str, int]] = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None and v != ""}


def _notes(resource: Mapping[str, Any]) -> str | None:
    texts = [str(n["text"]) for n in resource.get("note") or [] if isinstance(n, Mapping) and n.get("text")]
    return "\n".join(texts) or None


def _start(resource: Mapping[str, Any], stem: str) -> str | None:
    """The date of a ``<stem>[x]`` choice (dateTime, Period start, string, ...)."""
    for suffix in ("DateTime", "Date", "Instant"):
        if resource.get(stem + suffix):
            return day(resource[stem + suffix])
    period = resource.get(stem + "Period")
    if isinstance(period, Mapping):
        return day(period.get("start") or period.get("end"))
    if resource.get(stem + "String"):
        return str(resource[stem + "String"])
    age = resource.get(stem + "Age")
    if isinstance(age, Mapping):
        value, unit = quantity_text(age)
        return f"age {value} {unit or ''}".strip()
    return None


def _coded(concept: Any) -> dict[str, Any]:
    code, system = first_code(concept)
    return {"code": code, "system": system}


def _period_words(period: Any, unit: Any) -> str:
    one, many = _UNITS.get(str(unit), (str(unit), str(unit)))
    if isinstance(period, int | float) and period == 1:
        return one
    return f"{number(period)} {many}"


def timing_text(timing: Any) -> str | None:
    """``3 times per day``, ``1 time per 8 hours, 10 doses``: a Timing in words (its code's words if coded)."""
    if not isinstance(timing, Mapping):
        return None
    if timing.get("code"):
        return concept_text(timing["code"])
    repeat = timing.get("repeat")
    if not isinstance(repeat, Mapping):
        return None
    parts = []
    if repeat.get("frequency") is not None and repeat.get("period") is not None:
        n = repeat["frequency"]
        times = number(n) + (f"-{number(repeat['frequencyMax'])}" if repeat.get("frequencyMax") else "")
        word = "time" if n == 1 and not repeat.get("frequencyMax") else "times"
        parts.append(f"{times} {word} per {_period_words(repeat['period'], repeat.get('periodUnit'))}")
    elif repeat.get("period") is not None:
        parts.append(f"every {_period_words(repeat['period'], repeat.get('periodUnit'))}")
    if repeat.get("when"):
        parts.append("when " + " ".join(str(w) for w in repeat["when"]))
    if repeat.get("timeOfDay"):
        parts.append("at " + ", ".join(str(t) for t in repeat["timeOfDay"]))
    if repeat.get("dayOfWeek"):
        parts.append("on " + ", ".join(str(d) for d in repeat["dayOfWeek"]))
    if repeat.get("count") is not None:
        parts.append(f"{number(repeat['count'])} doses")
    bounds = repeat.get("boundsDuration")
    if isinstance(bounds, Mapping) and bounds.get("value") is not None:
        parts.append(
            f"for {number(bounds['value'])} {bounds.get('unit') or bounds.get('code') or ''}".strip()
        )
    return ", ".join(parts) or None


def _value_text(r: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(value, unit)`` of an Observation's (or component's) value[x]."""
    if isinstance(r.get("valueQuantity"), Mapping):
        value, unit = quantity_text(r["valueQuantity"])
        return value or None, unit
    if r.get("valueCodeableConcept"):
        return concept_text(r["valueCodeableConcept"]), None
    if isinstance(r.get("valueString"), str):
        return r["valueString"], None
    if isinstance(r.get("valueBoolean"), bool):
        return ("true" if r["valueBoolean"] else "false"), None
    if r.get("valueInteger") is not None:
        return str(r["valueInteger"]), None
    if isinstance(r.get("valueRange"), Mapping):
        low, unit = quantity_text(r["valueRange"].get("low"))
        high, unit2 = quantity_text(r["valueRange"].get("high"))
        return f"{low}-{high}", unit or unit2
    if isinstance(r.get("valueRatio"), Mapping):
        num, unit = quantity_text(r["valueRatio"].get("numerator"))
        den, unit2 = quantity_text(r["valueRatio"].get("denominator"))
        return f"{num}{' ' + unit if unit else ''}/{den}{' ' + unit2 if unit2 else ''}", None
    for key in ("valueTime", "valueDateTime"):
        if r.get(key):
            return str(r[key]), None
    if isinstance(r.get("valuePeriod"), Mapping):
        p = r["valuePeriod"]
        return f"{p.get('start', '')}..{p.get('end', '')}", None
    if r.get("valueSampledData"):
        return "sampled data", None
    if r.get("dataAbsentReason"):
        return f"not recorded ({concept_text(r['dataAbsentReason']) or 'no reason given'})", None
    return None, None


def _reference_range(ranges: Any) -> str | None:
    out = []
    for ref in ranges or []:
        if not isinstance(ref, Mapping):
            continue
        if ref.get("text"):
            out.append(str(ref["text"]))
        elif ref.get("low") is not None or ref.get("high") is not None:
            low = quantity_text(ref.get("low"))[0]
            high = quantity_text(ref.get("high"))[0]
            out.append(f"{low}-{high}")
    return "; ".join(out) or None


# --- one function per resource type ---------------------------------------------------------------------


def encounter(r: Mapping[str, Any]) -> dict[str, Any]:
    """A visit: ``ambulatory visit: General examination of patient (procedure); reason: ...``."""
    klass = r.get("class") if isinstance(r.get("class"), Mapping) else {}
    assert isinstance(klass, Mapping)
    code = str(klass.get("code") or "")
    words = klass.get("display") or _CLASS_WORDS.get(code) or code or "visit"
    text = f"{words} visit" if "visit" not in str(words).lower() else str(words)
    kinds = concepts_text(r.get("type"))
    if kinds:
        text += f": {kinds}"
    reasons = concepts_text(r.get("reasonCode"), "; ")
    if reasons:
        text += f"; reason: {reasons}"
    period = r.get("period") if isinstance(r.get("period"), Mapping) else {}
    assert isinstance(period, Mapping)
    return _clean(
        {"text": text, "date": day(period.get("start") or period.get("end")), **_coded(_first(r.get("type")))}
    )


def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


def condition_diagnosis(r: Mapping[str, Any]) -> dict[str, Any]:
    """A diagnosis: its words, first code, clinical status and onset."""
    text = concept_text(r.get("code"))
    if text is None:
        raise Unusable("a diagnosis needs code (text or a coding)")
    return _clean(
        {
            "text": text,
            **_coded(r.get("code")),
            "status": first_code(r.get("clinicalStatus"))[0],
            "date": _start(r, "onset") or day(r.get("recordedDate")),
            "note": _notes(r),
        }
    )


def condition_history(r: Mapping[str, Any]) -> dict[str, Any]:
    """A past-history line for a Condition."""
    entry = condition_diagnosis(r)
    status = entry.pop("status", None)
    note = entry.pop("note", None)
    if status and status != "active":
        entry["text"] += f" ({status})"
    if note:
        entry["text"] += f"; {note}"
    return entry


def procedure(r: Mapping[str, Any]) -> dict[str, Any]:
    """A procedure: words, first code, date and outcome."""
    text = concept_text(r.get("code"))
    if text is None:
        raise Unusable("a procedure needs code (text or a coding)")
    return _clean(
        {
            "name": text,
            "value": concept_text(r.get("outcome")) or str(r.get("status") or "recorded"),
            **_coded(r.get("code")),
            "date": _start(r, "performed"),
            "status": r.get("status"),
            "note": _notes(r),
        }
    )


def procedure_history(r: Mapping[str, Any]) -> dict[str, Any]:
    """A past-history line for a Procedure (手术史 / 操作史)."""
    p = procedure(r)
    text = f"Procedure: {p['name']}"
    if p.get("status") not in (None, "completed"):
        text += f" ({p['status']})"
    if p.get("note"):
        text += f"; {p['note']}"
    return _clean({"text": text, "code": p.get("code"), "system": p.get("system"), "date": p.get("date")})


def immunization(r: Mapping[str, Any]) -> dict[str, Any]:
    """A past-history line for an Immunization (预防接种史)."""
    vaccine = concept_text(r.get("vaccineCode"))
    if vaccine is None:
        raise Unusable("an immunization needs vaccineCode (text or a coding)")
    text = f"Immunization: {vaccine}"
    if r.get("status") not in (None, "completed"):
        reason = concept_text(r.get("statusReason"))
        text += f" ({r['status']}{': ' + reason if reason else ''})"
    if isinstance(r.get("doseQuantity"), Mapping):
        value, unit = quantity_text(r["doseQuantity"])
        text += f", {value} {unit or ''}".rstrip()
    notes = _notes(r)
    if notes:
        text += f"; {notes}"
    return _clean(
        {
            "text": text,
            **_coded(r.get("vaccineCode")),
            "date": _start(r, "occurrence") or day(r.get("recorded")),
        }
    )


def family_member(r: Mapping[str, Any]) -> dict[str, Any]:
    """``father: Type 2 diabetes`` (with notes in brackets)."""
    relation = concept_text(r.get("relationship")) or "family member"
    conditions = [
        t for c in r.get("condition") or [] if isinstance(c, Mapping) and (t := concept_text(c.get("code")))
    ]
    notes = _notes(r)
    if conditions:
        text = f"{relation}: {', '.join(conditions)}" + (f" ({notes})" if notes else "")
    elif notes:
        text = f"{relation}: {notes}"
    elif r.get("reasonCode"):
        text = f"{relation}: {concepts_text(r['reasonCode'])}"
    else:
        raise Unusable("a family history needs a condition or a note")
    return _clean({"text": text, "date": day(r.get("date"))})


def observation(r: Mapping[str, Any]) -> dict[str, Any]:
    """An examination: name, value and unit, reference range, interpretation, date."""
    name = concept_text(r.get("code"))
    if name is None:
        raise Unusable("an examination needs code (text or a coding)")
    value, unit = _value_text(r)
    components = []
    for c in r.get("component") or []:
        if not isinstance(c, Mapping):
            continue
        c_value, c_unit = _value_text(c)
        components.append(
            f"{concept_text(c.get('code')) or 'component'} {c_value or '-'}{' ' + c_unit if c_unit else ''}"
        )
    if components:
        value = "; ".join([value, *components] if value is not None else components)
    if value is None:
        text = r.get("text")
        if isinstance(text, Mapping) and text.get("status") == "additional" and text.get("div"):
            value = strip_markup(str(text["div"])) or None
    if value is None and r.get("hasMember"):
        value = f"panel of {len(r['hasMember'])} results"
    return _clean(
        {
            "name": name,
            "value": value or "no value recorded",
            "unit": unit,
            "reference_range": _reference_range(r.get("referenceRange")),
            "interpretation": concepts_text(r.get("interpretation")),
            **_coded(r.get("code")),
            "date": _start(r, "effective") or day(r.get("issued")),
            "status": r.get("status"),
            "note": _notes(r),
        }
    )


def diagnostic_report(r: Mapping[str, Any]) -> dict[str, Any]:
    """A report as an examination: its conclusion, else its coded conclusion."""
    name = concept_text(r.get("code")) or "Diagnostic report"
    # Without a conclusion the value must not depend on the results: an export drops the links to results the
    # reader may not see, and the next import has to read the same item.
    value = (
        r.get("conclusion")
        or concepts_text(r.get("conclusionCode"))
        or "no conclusion; results are items of their own"
    )
    return _clean(
        {
            "name": name,
            "value": str(value),
            **_coded(r.get("code")),
            "date": _start(r, "effective") or day(r.get("issued")),
            "status": r.get("status"),
            "note": "DiagnosticReport",
        }
    )


def medication_request(r: Mapping[str, Any], drug: Mapping[str, Any] | None) -> dict[str, Any]:
    """A prescription: drug, dose, route, frequency, days, from the first dosage instruction.

    Args:
        r: the MedicationRequest.
        drug: the CodeableConcept naming the drug (``medicationCodeableConcept`` or the referenced
            Medication's ``code``), or None when neither names it.
    """
    name = concept_text(drug) if drug is not None else None
    ref = r.get("medicationReference")
    if name is None and isinstance(ref, Mapping) and ref.get("display"):
        name = str(ref["display"])
    if name is None:
        raise Unusable("name the drug (medicationCodeableConcept, or a Medication in the bundle)")
    dosage = _first(r.get("dosageInstruction")) or {}
    dose = dosage.get("text") if isinstance(dosage, Mapping) else None
    dose_and_rate = _first(dosage.get("doseAndRate")) if isinstance(dosage, Mapping) else None
    if not dose and isinstance(dose_and_rate, Mapping):
        if isinstance(dose_and_rate.get("doseQuantity"), Mapping):
            value, unit = quantity_text(dose_and_rate["doseQuantity"])
            dose = (
                f"{number(dose_and_rate['doseQuantity']['value'])}{' ' + unit if unit else ''}"
                if value
                else None
            )
        elif isinstance(dose_and_rate.get("doseRange"), Mapping):
            low, unit = quantity_text(dose_and_rate["doseRange"].get("low"))
            high, _ = quantity_text(dose_and_rate["doseRange"].get("high"))
            dose = f"{low}-{high}{' ' + unit if unit else ''}"
    frequency = timing_text(dosage.get("timing")) if isinstance(dosage, Mapping) else None
    if isinstance(dosage, Mapping):
        needed = dosage.get("asNeededBoolean") or concept_text(dosage.get("asNeededCodeableConcept"))
        if needed:
            frequency = ((frequency + ", ") if frequency else "") + (
                "as needed" if needed is True else f"as needed for {needed}"
            )
    days = None
    supply = (r.get("dispenseRequest") or {}).get("expectedSupplyDuration")
    if isinstance(supply, Mapping) and supply.get("value") is not None:
        per = _DAYS_PER.get(str(supply.get("code") or supply.get("unit")))
        total = supply["value"] * per if per else None
        if total is not None and float(total).is_integer() and total >= 0:
            days = int(total)
    notes = [
        t
        for t in (
            concepts_text(dosage.get("additionalInstruction"), "; ") if isinstance(dosage, Mapping) else None,
            dosage.get("patientInstruction") if isinstance(dosage, Mapping) else None,
            _notes(r),
        )
        if t
    ]
    return _clean(
        {
            "drug": name,
            **_coded(drug),
            "dose": dose,
            "route": concept_text(dosage.get("route")) if isinstance(dosage, Mapping) else None,
            "frequency": frequency,
            "days": days,
            "date": day(r.get("authoredOn")),
            "status": r.get("status"),
            "note": "\n".join(notes) or None,
        }
    )


def allergy(r: Mapping[str, Any]) -> dict[str, Any]:
    """An allergy or intolerance: substance, category, criticality, reactions, clinical status."""
    substance = concept_text(r.get("code"))
    reactions = [x for x in r.get("reaction") or [] if isinstance(x, Mapping)]
    if substance is None:
        substance = next((t for x in reactions if (t := concept_text(x.get("substance")))), None)
    if substance is None:
        raise Unusable("an allergy needs code or reaction.substance")
    reaction_texts = []
    for x in reactions:
        words = concepts_text(x.get("manifestation"))
        if words:
            reaction_texts.append(words + (f" ({x['severity']})" if x.get("severity") else ""))
    verification = first_code(r.get("verificationStatus"))[0]
    status = first_code(r.get("clinicalStatus"))[0]
    if verification in ("unconfirmed", "refuted"):
        status = f"{status}, {verification}" if status else verification
    return _clean(
        {
            "substance": substance,
            **_coded(r.get("code")),
            "category": ", ".join(str(c) for c in r.get("category") or []) or None,
            "criticality": r.get("criticality"),
            "reaction": "; ".join(reaction_texts) or None,
            "status": status,
            "date": _start(r, "onset") or day(r.get("recordedDate")),
            "note": _notes(r),
        }
    )


def attachment_fields(
    attachment: Mapping[str, Any],
    *,
    kind: str | None,
    date: str | None,
    author: str | None,
    description: str | None,
) -> dict[str, Any]:
    """Name and descriptive fields of one attachment (the bytes are added by the importer).

    The file name is the attachment's ``title``, else ``<document type> <date>.<extension>``.
    """
    media = str(attachment.get("contentType") or "application/octet-stream")
    name = attachment.get("title")
    if not name:
        base = " ".join(p for p in (kind or "attachment", date) if p)
        ext = mimetypes.guess_extension(media.split(";", maxsplit=1)[0].strip()) or ""
        name = base + ext
    return _clean(
        {
            "name": str(name),
            "media_type": media,
            "type": kind,
            "date": date or day(attachment.get("creation")),
            "author": author,
            "description": description,
        }
    )


Summary = Callable[[Mapping[str, Any]], dict[str, Any]]
