"""A FHIR Patient -> the resident's sealed profile (基本信息, docs/record-format.md).

A Patient never becomes part of a medical record. The resident (or the institution registering them) may build
their profile from it: name, sex, birth date, contact and address, and only the identifiers the resident names
(none by default). The profile is then sealed for the resident and their family doctor like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from famchain.errors import InputError, shown
from famchain.fhir._common import concept_text
from famchain.fhir.validation import read_json, validate_bundle, validate_resource
from famchain.i18n import _
from famchain.records.profile import parse_profile

_CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_NAME_USES: Final = ("official", "usual", None, "nickname", "anonymous", "temp", "old", "maiden")
_ADDRESS_USES: Final = ("home", None, "temp", "work", "billing", "old")
_MAX: Final = 1000


@dataclass(frozen=True)
class IdentifierChoice:
    """One of the Patient's identifiers, as the resident sees it before choosing what to keep."""

    index: int
    type_code: str | None
    type_text: str | None
    system: str | None
    value: str

    @property
    def label(self) -> str:
        """``Social Security Number``, ``MR``, or the system URI: how the kept identifier is named."""
        return self.type_text or self.type_code or self.system or "identifier"

    def matches(self, selector: str) -> bool:
        """Whether ``selector`` (a type code such as ``SS``, a type text, or a system URI) names this one."""
        wanted = selector.strip().casefold()
        names = (self.type_code, self.type_text, self.system)
        return bool(wanted) and any(n is not None and n.casefold() == wanted for n in names)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form (the value is shown: the resident is choosing among their own data)."""
        return {
            "index": self.index,
            "type": self.type_code,
            "type_text": self.type_text,
            "system": self.system,
            "value": self.value,
        }


def identifier_choices(patient: Mapping[str, Any]) -> list[IdentifierChoice]:
    """The identifiers of a Patient that have a value, in order."""
    out = []
    for n, ident in enumerate(patient.get("identifier") or []):
        if not isinstance(ident, Mapping) or not ident.get("value"):
            continue
        kind = ident.get("type") if isinstance(ident.get("type"), Mapping) else None
        code = next(
            (
                str(c["code"])
                for c in (kind or {}).get("coding") or []
                if isinstance(c, Mapping) and c.get("code")
            ),
            None,
        )
        text = concept_text(kind) if kind is not None else None
        out.append(
            IdentifierChoice(
                n, code, text if text != code else None, ident.get("system"), str(ident["value"])
            )
        )
    return out


def _pick(items: Any, uses: tuple[str | None, ...]) -> Mapping[str, Any] | None:
    candidates = [i for i in items or [] if isinstance(i, Mapping)]
    for use in uses:
        for item in candidates:
            if item.get("use") == use and not (item.get("period") or {}).get("end"):
                return item
    return candidates[0] if candidates else None


def _name(patient: Mapping[str, Any]) -> str | None:
    name = _pick(patient.get("name"), _NAME_USES)
    if name is None:
        return None
    if name.get("text"):
        return str(name["text"])
    family = str(name.get("family") or "")
    given = [str(g) for g in name.get("given") or []]
    if _CJK.search(family + "".join(given)):
        return (family + "".join(given)) or None  # 王小明: family name first, no spaces
    return " ".join(p for p in (*given, family) if p) or None


def _address(patient: Mapping[str, Any]) -> str | None:
    address = _pick(patient.get("address"), _ADDRESS_USES)
    if address is None:
        return None
    if address.get("text"):
        return str(address["text"])
    lines = [str(x) for x in address.get("line") or []]
    parts = [address.get(k) for k in ("city", "district", "state", "postalCode", "country")]
    if _CJK.search("".join(str(p) for p in [*lines, *parts] if p)):
        # 上海市黄埔区马当路190号: largest unit first, as Chinese addresses are written
        ordered = [address.get(k) for k in ("country", "state", "city", "district")] + lines
        text = "".join(str(p) for p in ordered if p)
        return text + (f" {address['postalCode']}" if address.get("postalCode") else "")
    city_line = " ".join(
        str(p)
        for p in (
            address.get("city"),
            address.get("district"),
            address.get("state"),
            address.get("postalCode"),
        )
        if p
    )
    return ", ".join(p for p in (*lines, city_line, address.get("country")) if p) or None


def _contact(patient: Mapping[str, Any]) -> str | None:
    out = []
    for t in patient.get("telecom") or []:
        if not isinstance(t, Mapping) or not t.get("value") or (t.get("period") or {}).get("end"):
            continue
        label = " ".join(str(p) for p in (t.get("use"), t.get("system")) if p)
        out.append(f"{label}: {t['value']}" if label else str(t["value"]))
    return "; ".join(out) or None


def profile_from_patient(patient: Mapping[str, Any], keep_identifiers: Iterable[str] = ()) -> dict[str, str]:
    """The resident's profile (docs/record-format.md) from a FHIR Patient.

    Args:
        patient: the Patient resource as JSON (validated first).
        keep_identifiers: the identifiers the resident keeps, each named by its type code (``SS``, ``MR``,
            ``NI``, ``PPN``, ...), type text or system URI; none by default. The kept ones go to
            ``national_id`` as ``<label>: <value>``, joined by ``; ``.

    Raises:
        InputError: not a valid Patient, a selector that names none of its identifiers, or a profile that
            would be empty or has a field over 1,000 characters.
    """
    validate_resource(patient)
    if patient.get("resourceType") != "Patient":
        raise InputError(
            _("expected a FHIR Patient, got {resource_type!r}").format(
                resource_type=patient.get("resourceType")
            )
        )
    choices = identifier_choices(patient)
    kept: list[IdentifierChoice] = []
    for selector in keep_identifiers:
        matched = [c for c in choices if c.matches(selector)]
        if not matched:
            known = ", ".join(c.type_code or c.system or "?" for c in choices) or "none"
            raise InputError(
                _("the Patient has no identifier {selector!r} (it has: {known})").format(
                    selector=selector, known=known
                )
            )
        kept.extend(c for c in matched if c not in kept)
    profile: dict[str, Any] = {
        "name": _name(patient),
        "sex": patient.get("gender"),
        "birth_date": patient.get("birthDate"),
        "contact": _contact(patient),
        "address": _address(patient),
        "national_id": "; ".join(f"{c.label}: {c.value}" for c in kept) or None,
    }
    for key, value in profile.items():
        if isinstance(value, str) and len(value) > _MAX:
            raise InputError(
                _("Patient.{key}: longer than {max} characters, more than a profile holds").format(
                    key=key, max=_MAX
                )
            )
    return parse_profile({k: v for k, v in profile.items() if v})


def patient_of(document: Any) -> dict[str, Any]:
    """The Patient in a decoded JSON document: a Patient resource, or a Bundle holding exactly one.

    Raises:
        InputError: neither, an invalid Bundle, or a Bundle with no or several Patients.
    """
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        validate_bundle(document)
        found = [
            e["resource"]
            for e in document.get("entry") or []
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "Patient"
        ]
        if len(found) != 1:
            raise InputError(
                _("expected one Patient in the Bundle, found {n_found}").format(n_found=len(found))
            )
        return dict(found[0])
    if isinstance(document, dict) and document.get("resourceType") == "Patient":
        return document
    found_type = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
    raise InputError(
        _("expected a FHIR Patient or a Bundle holding one, got {shown}").format(shown=shown(found_type))
    )


def load_patient_profile(path: Path, keep_identifiers: Iterable[str] = ()) -> dict[str, str]:
    """:func:`profile_from_patient` of the Patient in a JSON file (a Patient or a Bundle holding one).

    Raises:
        InputError: unreadable, not JSON, no Patient, or the profile cannot be built (prefixed with the path).
    """
    document = read_json(path, "FHIR Patient")
    try:
        return profile_from_patient(patient_of(document), keep_identifiers)
    except InputError as exc:
        raise InputError(_("{path}: {exc}").format(path=path, exc=exc)) from None
