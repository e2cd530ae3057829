"""Hypothesis properties of the envelope and bundle parsers and of seal/open."""

from __future__ import annotations

import contextlib
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famchain.crypto.envelope import (
    EnvelopeContext,
    KeyBundle,
    Recipient,
    SealedEnvelope,
    Withheld,
    add_recipients,
    open_all,
    seal,
)
from famchain.crypto.wallet import Wallet
from famchain.errors import FamchainError, InputError, IntegrityError, NotARecipientError
from famchain.types import RecordId

PATIENT = Wallet(bytes.fromhex("11" * 32))
DOCTOR = Wallet(bytes.fromhex("22" * 32))
GRANTEE = Wallet(bytes.fromhex("33" * 32))
CONTEXT = EnvelopeContext(RecordId(b"\x42" * 32), PATIENT.address, 31337, "0x" + "ee" * 20)  # type: ignore[arg-type]
SAMPLE = seal(
    {"diagnosis": b"flu", "past_history": b"none", "prescriptions": b"rest"},
    [PATIENT.encryption_public_key, Recipient(DOCTOR.encryption_public_key, frozenset({"diagnosis"}))],
    CONTEXT,
)
SAMPLE_BYTES = SAMPLE.to_bytes()
BUNDLE_BYTES = add_recipients(SAMPLE, PATIENT.private_key, [GRANTEE.encryption_public_key], ["diagnosis"])[
    GRANTEE.address
].to_bytes()

PARSE_ERRORS = (IntegrityError, InputError)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "set":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@FAST
@given(st.binary(max_size=512))
def test_envelope_parser_on_random_bytes_raises_only_integrity_errors(data: bytes) -> None:
    try:
        parsed = SealedEnvelope.from_bytes(data)
    except PARSE_ERRORS:
        return
    assert parsed.to_bytes() == data


@FAST
@given(st.binary(max_size=64).map(lambda tail: b"FCEV\x01" + tail))
def test_envelope_parser_past_the_magic_raises_only_integrity_errors(data: bytes) -> None:
    with contextlib.suppress(*PARSE_ERRORS):
        SealedEnvelope.from_bytes(data)


@FAST
@given(mutations(SAMPLE_BYTES))
def test_mutated_envelope_never_opens(data: bytes) -> None:
    if data == SAMPLE_BYTES:
        return
    try:
        parsed = SealedEnvelope.from_bytes(data)
    except PARSE_ERRORS:
        return
    # whatever parses re-serializes to exactly the same bytes (canonical form) ...
    assert parsed.to_bytes() == data
    # ... and opens for nobody
    for reader in (PATIENT, DOCTOR):
        try:
            open_all(parsed, reader.private_key, CONTEXT)
        except (IntegrityError, NotARecipientError):
            continue
        raise AssertionError("a mutated envelope opened")


@FAST
@given(st.binary(max_size=400))
def test_bundle_parser_on_random_bytes_raises_only_integrity_errors(data: bytes) -> None:
    try:
        parsed = KeyBundle.from_bytes(data)
    except PARSE_ERRORS:
        return
    assert parsed.to_bytes() == data


@FAST
@given(mutations(BUNDLE_BYTES))
def test_mutated_bundle_never_opens(data: bytes) -> None:
    if data == BUNDLE_BYTES:
        return
    try:
        bundle = KeyBundle.from_bytes(data)
    except PARSE_ERRORS:
        return
    assert bundle.to_bytes() == data
    try:
        open_all(SAMPLE, GRANTEE.private_key, CONTEXT, bundles=[bundle])
    except (IntegrityError, NotARecipientError):
        return
    raise AssertionError("a mutated bundle opened")


section_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
records = st.dictionaries(section_names, st.binary(max_size=300), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(records, st.data(), st.sampled_from(["AES-256-GCM", "ChaCha20-Poly1305"]))
def test_seal_open_roundtrip(record: dict[str, bytes], data: st.DataObject, algorithm: str) -> None:
    doctor_sections = data.draw(st.frozensets(st.sampled_from(sorted(record)), min_size=1))
    context = EnvelopeContext(
        RecordId(os.urandom(32)), PATIENT.address, data.draw(st.integers(1, 2**64)), CONTEXT.registry
    )
    sealed = seal(
        record,
        [PATIENT.encryption_public_key, Recipient(DOCTOR.encryption_public_key, doctor_sections)],
        context,
        algorithm=algorithm,
    )
    raw = sealed.to_bytes()
    parsed = SealedEnvelope.from_bytes(raw)
    assert parsed.to_bytes() == raw
    assert open_all(parsed, PATIENT.private_key, context) == dict(sorted(record.items()))
    opened = open_all(parsed, DOCTOR.private_key, context)
    assert opened == {n: record[n] if n in doctor_sections else Withheld(n) for n in sorted(record)}


def test_every_parse_error_is_a_famchain_error() -> None:
    assert issubclass(IntegrityError, FamchainError)
    assert issubclass(InputError, FamchainError)
