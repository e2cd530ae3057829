"""FHIR R4 in and out: a visit's Bundle becomes a record, a reader gets a Bundle of what they may see.

Validation uses ``fhir.resources`` R4B models (see :mod:`famchain.fhir.validation` for what that checks). The
mapping, per resource type (docs/record-format.md has the item fields):

=======================  =========================================================================================
``Encounter``            this visit -> ``present_illness`` (class, type, reasons, date); an earlier visit in the
                         same bundle -> ``past_history``. *This visit* is the latest Encounter (or the one named).
``Condition``            ``diagnosis``; ``past_history`` when its category is ``problem-list-item`` or
                         ``health-concern`` or it belongs to an earlier visit
``Procedure``            done at this visit -> ``examinations`` (检查/操作, with its outcome); earlier (another
                         visit, or dated before this one) -> ``past_history`` (手术史)
``Immunization``         ``past_history`` (预防接种史)
``FamilyMemberHistory``  ``family_history``
``AllergyIntolerance``   ``allergies`` (过敏史)
``MedicationRequest``    ``prescriptions`` (drug, dose, route, timing in words, days, instructions)
``Observation``          ``examinations`` (value, unit, reference range, interpretation, components); the LOINC
                         narratives 10164-2 / 11348-0 / 10157-6 -> the text of present / past / family history
``DiagnosticReport``     ``examinations`` (conclusion or results); its ``presentedForm`` -> ``attachments``, once
                         per distinct bytes; a report with only a presentedForm -> ``attachments``
``DocumentReference``    ``attachments`` (bytes inline; type, date, author, description)
=======================  =========================================================================================

Patient, Practitioner, PractitionerRole, Organization, Location and Medication entries are context (names,
drugs); every other type is skipped and reported (:class:`~famchain.fhir.importing.ImportResult`), or refused
with ``strict=True``. Each item keeps its resource without identity (:mod:`famchain.fhir._prune`) so the export
gives back the same codes, texts, values and bytes. A Patient never enters a record:
:func:`~famchain.fhir.patient.profile_from_patient` builds the resident's sealed profile from it.
"""

from famchain.fhir._common import account_reference, instant
from famchain.fhir.audit import audit_to_bundle, disclosures_to_bundle
from famchain.fhir.consent import consents_to_bundle
from famchain.fhir.exporting import bundle_from_sections, record_to_bundle
from famchain.fhir.importing import (
    MAPPED_TYPES,
    SECTION_RESOURCES,
    ImportResult,
    MappedEntry,
    SkippedEntry,
    import_bundle,
    load_bundle,
    record_from_bundle,
)
from famchain.fhir.patient import (
    IdentifierChoice,
    identifier_choices,
    load_patient_profile,
    patient_of,
    profile_from_patient,
)
from famchain.fhir.validation import validate_bundle, validate_resource

__all__ = [
    "MAPPED_TYPES",
    "SECTION_RESOURCES",
    "IdentifierChoice",
    "ImportResult",
    "MappedEntry",
    "SkippedEntry",
    "account_reference",
    "audit_to_bundle",
    "bundle_from_sections",
    "consents_to_bundle",
    "disclosures_to_bundle",
    "identifier_choices",
    "import_bundle",
    "instant",
    "load_bundle",
    "load_patient_profile",
    "patient_of",
    "profile_from_patient",
    "record_from_bundle",
    "record_to_bundle",
    "validate_bundle",
    "validate_resource",
]
