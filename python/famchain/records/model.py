"""The record a doctor submits: a documented JSON document split into sections (docs/record-format.md).

Parsing is strict and names the offending field, e.g. ``sections.prescriptions[1].days: expected a whole
number``. Each section's plaintext is its canonical JSON (sorted keys, no spaces, UTF-8), so the same record
always seals to the same plaintexts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from famchain.chain.structs import RecordKind
from famchain.errors import InputError, shown
from famchain.i18n import _
from famchain.records.sections import SECTION_NAMES

FORMAT_VERSION = 1
MAX_TEXT = 100_000
MAX_ITEMS = 500
MAX_ATTACHMENT = 64 * 1024 * 1024
MAX_FRAGMENT = 1024 * 1024

_Check = Callable[[Any, str], Any]


def _fail(where: str, problem: str) -> InputError:
    # Field names come from the user's file: escape control characters so the error stays one line.
    shown = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", where)
    return InputError(_("{shown}: {problem}").format(shown=shown, problem=problem))


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _fail(where, _("expected text, got {type}").format(type=type(value).__name__))
    if required and not value.strip():
        raise _fail(where, _("must not be empty"))
    if len(value) > MAX_TEXT:
        raise _fail(where, _("longer than {max_text} characters").format(max_text=MAX_TEXT))
    return value


def _number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(where, _("expected a whole number >= 0"))
    return value


def _entries(fields: Mapping[str, tuple[_Check, bool]]) -> _Check:
    """A list of objects with the given fields (checker, required)."""

    def check(value: Any, where: str) -> list[dict[str, Any]]:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not value:
            raise _fail(where, _("expected a non-empty list of entries"))
        if len(value) > MAX_ITEMS:
            raise _fail(where, _("more than {max_items} entries").format(max_items=MAX_ITEMS))
        out = []
        for n, item in enumerate(value):
            here = f"{where}[{n}]"
            if not isinstance(item, dict):
                raise _fail(here, _("expected an object, got {type}").format(type=type(item).__name__))
            unknown = sorted(set(item) - set(fields))
            if unknown:
                raise _fail(
                    f"{here}.{unknown[0]}",
                    _("unknown field; expected one of {options}").format(options=", ".join(fields)),
                )
            entry = {}
            for key, (checker, required) in fields.items():
                if key not in item:
                    if required:
                        raise _fail(f"{here}.{key}", _("is required"))
                    continue
                entry[key] = checker(item[key], f"{here}.{key}")
            out.append(entry)
        return out

    return check


def _fragment(types: tuple[str, ...]) -> _Check:
    """A FHIR resource kept with an item (docs/record-format.md, "Items from FHIR"): checked here for its
    type and size; the FHIR export validates it in full."""

    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _fail(
                where, _("expected a FHIR resource object, got {type}").format(type=type(value).__name__)
            )
        if value.get("resourceType") not in types:
            raise _fail(
                f"{where}.resourceType", _("expected one of {options}").format(options=", ".join(types))
            )
        if len(canonical_json(value)) > MAX_FRAGMENT:
            raise _fail(where, _("larger than {kib} KiB").format(kib=MAX_FRAGMENT // 1024))
        return value

    return check


def _narrative(types: tuple[str, ...]) -> _Check:
    """Text, or a list of items ``{text, date?, code?, system?, fhir?}``."""
    items = _entries(
        {
            "text": (_text, True),
            "date": (_text, False),
            "code": (_text, False),
            "system": (_text, False),
            "fhir": (_fragment(types), False),
        }
    )

    def check(value: Any, where: str) -> Any:
        if isinstance(value, list | dict):
            return items(value, where)
        return _text(value, where)

    return check


_SECTION_CHECKS: dict[str, _Check] = {
    "present_illness": _narrative(("Encounter", "Observation")),
    "past_history": _narrative(("Condition", "Procedure", "Immunization", "Encounter", "Observation")),
    "family_history": _narrative(("FamilyMemberHistory", "Observation")),
    "diagnosis": _entries(
        {
            "text": (_text, True),
            "code": (_text, False),
            "system": (_text, False),
            "status": (_text, False),
            "date": (_text, False),
            "note": (_text, False),
            "fhir": (_fragment(("Condition",)), False),
        }
    ),
    "prescriptions": _entries(
        {
            "drug": (_text, True),
            "code": (_text, False),
            "system": (_text, False),
            "dose": (_text, False),
            "route": (_text, False),
            "frequency": (_text, False),
            "days": (_number, False),
            "date": (_text, False),
            "status": (_text, False),
            "note": (_text, False),
            "fhir": (_fragment(("MedicationRequest",)), False),
        }
    ),
    "examinations": _entries(
        {
            "name": (_text, True),
            "value": (_text, True),
            "unit": (_text, False),
            "reference_range": (_text, False),
            "interpretation": (_text, False),
            "code": (_text, False),
            "system": (_text, False),
            "date": (_text, False),
            "status": (_text, False),
            "note": (_text, False),
            "fhir": (_fragment(("Observation", "DiagnosticReport", "Procedure")), False),
        }
    ),
    "allergies": _entries(
        {
            "substance": (_text, True),
            "code": (_text, False),
            "system": (_text, False),
            "category": (_text, False),
            "criticality": (_text, False),
            "reaction": (_text, False),
            "status": (_text, False),
            "date": (_text, False),
            "note": (_text, False),
            "fhir": (_fragment(("AllergyIntolerance",)), False),
        }
    ),
}


@dataclass(frozen=True)
class Attachment:
    """A file attached to a record (PDF, image, ...), carried inside the ``attachments`` section.

    ``details`` are the descriptive fields an attachment from FHIR brings (``type``, ``date``, ``author``,
    ``description``, ``fhir``, ``carried_by``; docs/record-format.md).
    """

    name: str
    media_type: str
    data: bytes
    details: Mapping[str, Any] | None = field(default=None, hash=False)

    def to_json(self) -> dict[str, Any]:
        """JSON form with the bytes in base64 and their sha256."""
        return {
            "name": self.name,
            "media_type": self.media_type,
            **(self.details or {}),
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "data": base64.b64encode(self.data).decode(),
        }

    @classmethod
    def from_path(cls, path: Path) -> Attachment:
        """Read an attachment from disk.

        Raises:
            InputError: missing, unreadable or too large.
        """
        try:
            size = path.stat().st_size
            if size > MAX_ATTACHMENT:
                raise InputError(
                    _("{path}: attachment larger than {mib} MiB").format(
                        path=path, mib=MAX_ATTACHMENT // 2**20
                    )
                )
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(
                _("{path}: cannot read attachment ({strerror})").format(path=path, strerror=exc.strerror)
            ) from None
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(path.name, media, data)


@dataclass(frozen=True)
class RecordContent:
    """A validated record: section name -> JSON value, in section bit order, and the record's kind (which
    chooses how long the chain keeps it before a deletion request may erase it)."""

    sections: dict[str, Any]
    kind: RecordKind = RecordKind.OUTPATIENT

    def plaintexts(self) -> dict[str, bytes]:
        """Canonical bytes of each section, ready to seal."""
        return {name: canonical_json(value) for name, value in self.sections.items()}

    @property
    def names(self) -> list[str]:
        """Section names present."""
        return list(self.sections)


def canonical_json(value: Any) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no insignificant spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_record(document: Any, attachments: list[Attachment] | None = None) -> RecordContent:
    """Validate a record document (already JSON-decoded) and return its sections.

    Raises:
        InputError: naming the first offending field.
    """
    if not isinstance(document, dict):
        raise _fail("record", _("expected a JSON object, got {type}").format(type=type(document).__name__))
    unknown = sorted(set(document) - {"version", "kind", "sections"})
    if unknown:
        raise _fail(unknown[0], _("unknown field; a record has 'version', 'kind' and 'sections'"))
    version = document.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise _fail(
            "version",
            _("unsupported record format {version!r}; expected {format_version}").format(
                version=version, format_version=FORMAT_VERSION
            ),
        )
    sections = document.get("sections")
    if not isinstance(sections, dict):
        raise _fail("sections", _("expected an object of section name -> content"))
    out: dict[str, Any] = {}
    for name in sections:
        if name not in _SECTION_CHECKS:
            hint = _(" (attach files with --attach)") if name == "attachments" else ""
            raise _fail(
                f"sections.{name}",
                _("unknown section{hint}; expected one of {options}").format(
                    hint=hint, options=", ".join(_SECTION_CHECKS)
                ),
            )
    for name, check in _SECTION_CHECKS.items():
        if name in sections:
            out[name] = check(sections[name], f"sections.{name}")
    if attachments:
        out["attachments"] = [a.to_json() for a in attachments]
    if not out:
        raise _fail("sections", _("a record needs at least one section"))
    ordered = {name: out[name] for name in SECTION_NAMES if name in out}
    return RecordContent(ordered, parse_kind(document.get("kind", RecordKind.OUTPATIENT.label), "kind"))


def parse_kind(value: Any, where: str = "kind") -> RecordKind:
    """``outpatient`` (the default) or ``inpatient``.

    Raises:
        InputError: anything else.
    """
    kinds = {k.label: k for k in RecordKind}
    if isinstance(value, RecordKind):
        return value
    if not isinstance(value, str) or value.strip().lower() not in kinds:
        raise _fail(
            where,
            _("expected one of {options}, got {shown}").format(options=", ".join(kinds), shown=shown(value)),
        )
    return kinds[value.strip().lower()]


def load_record(path: Path, attachments: list[Path] | None = None) -> RecordContent:
    """Read and validate a record JSON file (plus attachment files).

    Raises:
        InputError: unreadable file, invalid JSON, or a schema violation (the message names the field).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise InputError(
            _("{path}: cannot read record ({reason})").format(path=path, reason=reason)
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            _("{path}: invalid JSON at line {lineno} column {colno}: {msg}").format(
                path=path, lineno=exc.lineno, colno=exc.colno, msg=exc.msg
            )
        ) from None
    files = [Attachment.from_path(p) for p in attachments or []]
    try:
        return parse_record(document, files)
    except InputError as exc:
        raise InputError(_("{path}: {exc}").format(path=path, exc=exc)) from None


def decode_section(name: str, plaintext: bytes) -> Any:
    """Inverse of :meth:`RecordContent.plaintexts` for one section."""
    try:
        return json.loads(plaintext.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(_("section {name} does not hold record JSON").format(name=name)) from None
