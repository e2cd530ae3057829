"""The resident's basic information (基本信息): a small documented JSON object, validated before sealing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from famchain.errors import InputError

FIELDS = ("name", "sex", "birth_date", "occupation", "contact", "address", "national_id")
"""Accepted fields; every one is optional but at least one must be present. All are text."""


def parse_profile(document: Any) -> dict[str, str]:
    """Validate a profile document.

    Raises:
        InputError: naming the offending field.
    """
    if not isinstance(document, dict):
        raise InputError(f"profile: expected a JSON object, got {type(document).__name__}")
    out = {}
    for key, value in document.items():
        if key not in FIELDS:
            raise InputError(f"profile.{key}: unknown field; expected one of {', '.join(FIELDS)}")
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            raise InputError(f"profile.{key}: expected non-empty text of at most 1000 characters")
        out[key] = value
    if not out:
        raise InputError("profile: at least one field is required")
    return out


def load_profile(path: Path) -> dict[str, str]:
    """Read and validate a profile JSON file.

    Raises:
        InputError: unreadable, invalid JSON, or a schema violation.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read profile ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON profile ({exc})") from None
    try:
        return parse_profile(document)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
