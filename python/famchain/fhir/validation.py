"""Reading and validating FHIR JSON: one-line errors that name the entry, the resource and the field.

"Valid" here means what ``fhir.resources`` 8.3.0 checks with its R4B (4.3.0) models: every element is one the
resource type defines (no unknown element), with the right cardinality and datatype, required elements present,
primitive values matching FHIR's regular expressions (dates, decimals, ids, base64), one value per choice
element. It does not check codes against value sets, not even required bindings (``status: "bogus"`` passes),
nor profiles (US Core or any other), nor invariants written in FHIRPath, nor that references resolve (the
importer checks that bundle-internal ``urn:uuid``/``urn:oid`` references do). The resources famchain maps are
the same in R4 (4.0.1) and R4B.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from famchain.errors import InputError, shown
from famchain.fhir._common import one_line
from famchain.i18n import _

MAX_FILE = 512 * 1024 * 1024
"""A FHIR JSON file larger than this is refused before it is read."""


def _where(document: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    """``Bundle.entry[2].resource(Observation).valueQuantity.value`` from a pydantic error location."""
    out = str(document.get("resourceType") or "Bundle")
    node: Any = document
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
        if isinstance(node, Mapping):
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        if part == "resource" and isinstance(node, Mapping) and isinstance(node.get("resourceType"), str):
            out += f"({node['resourceType']})"
    return out


def _validation_error(document: Mapping[str, Any], exc: pydantic.ValidationError) -> InputError:
    first = exc.errors()[0]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    # fhir.resources quotes FHIR's regexes, which hold a newline and a tab: keep the error on one line.
    return InputError(one_line(f"{_where(document, tuple(first['loc']))}: {message}{more}"))


def validate_bundle(document: Any) -> Bundle:
    """A FHIR R4(B) Bundle from decoded JSON, validated by fhir.resources.

    Raises:
        InputError: not a Bundle, or a resource violates FHIR; the message names the resource and field.
    """
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        found = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        raise InputError(_("expected a FHIR Bundle, got {shown}").format(shown=shown(found)))
    try:
        return Bundle.model_validate(document)
    except pydantic.ValidationError as exc:
        raise _validation_error(document, exc) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # fhir.resources' own checks
        raise InputError(one_line(f"Bundle: not valid FHIR ({type(exc).__name__}: {exc})")) from None


def validate_resource(document: Any) -> Any:
    """One FHIR resource (any type fhir.resources knows) from decoded JSON.

    Raises:
        InputError: not a resource, an unknown type, or a violation of FHIR naming the field.
    """
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise InputError(_("expected a FHIR resource (a JSON object with resourceType)"))
    try:
        model = get_fhir_model_class(document["resourceType"])
    except (KeyError, ValueError, ImportError, AttributeError):
        raise InputError(
            _("unknown FHIR resource type {resource_type!r}").format(resource_type=document["resourceType"])
        ) from None
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as exc:
        raise _validation_error(document, exc) from None


def read_json(path: Path, what: str = "FHIR bundle") -> Any:
    """Decoded JSON of a file, with one-line errors.

    Raises:
        InputError: missing, unreadable, too large, not UTF-8 or not JSON (the message starts with the path).
    """
    try:
        if path.stat().st_size > MAX_FILE:
            raise InputError(
                _("{path}: {what} larger than {mib} MiB").format(path=path, what=what, mib=MAX_FILE // 2**20)
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise InputError(
            _("{path}: cannot read {what} ({reason})").format(path=path, what=what, reason=reason)
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            _("{path}: invalid JSON at line {lineno} column {colno}: {msg}").format(
                path=path, lineno=exc.lineno, colno=exc.colno, msg=exc.msg
            )
        ) from None
    except RecursionError:
        raise InputError(_("{path}: JSON nested too deeply").format(path=path)) from None
