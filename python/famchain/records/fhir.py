"""Where the FHIR mapping used to live; it is :mod:`famchain.fhir` now. Kept for callers not yet moved.

:func:`load_bundle` here returns the record content alone (lenient import: unmapped entries are skipped);
new callers use :func:`famchain.fhir.load_bundle`, whose result also lists what was skipped.
"""

from __future__ import annotations

from pathlib import Path

from famchain.fhir import (
    account_reference,
    audit_to_bundle,
    bundle_from_sections,
    consents_to_bundle,
    record_from_bundle,
    record_to_bundle,
    validate_bundle,
)
from famchain.fhir import load_bundle as _load_bundle
from famchain.records.model import RecordContent

__all__ = [
    "account_reference",
    "audit_to_bundle",
    "bundle_from_sections",
    "consents_to_bundle",
    "load_bundle",
    "record_from_bundle",
    "record_to_bundle",
    "validate_bundle",
]


def load_bundle(path: Path) -> RecordContent:
    """The record mapped from a FHIR Bundle file (see :func:`famchain.fhir.load_bundle`)."""
    return _load_bundle(path).content
