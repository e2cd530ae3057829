"""Sealed envelopes: round trips, canonical bytes, tampering at every byte class, AAD binding, recipients."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from _crypto_support import CHAIN_ID, DOCTOR_SECTIONS, REGISTRY, SECTIONS

from famchain.crypto import envelope as env_mod
from famchain.crypto.aead import CHACHA20_POLY1305, get_aead
from famchain.crypto.envelope import (
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    Withheld,
    open_all,
    open_section,
    seal,
)
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    AuthenticationError,
    ContextMismatchError,
    InputError,
    IntegrityError,
    InvalidKeyError,
    MalformedError,
    NotARecipientError,
    UnknownSectionError,
    UnsupportedAlgorithmError,
)
from famchain.types import Address, RecordId

# --- layout: an independent walk of the documented byte format -------------------------------------------


def layout(data: bytes) -> dict[str, list[range]]:
    """Byte ranges of each byte class, found by walking the format as documented in envelope.py."""
    out: dict[str, list[range]] = {
        k: []
        for k in (
            "magic",
            "version",
            "context",
            "section_header",
            "nonce",
            "ciphertext",
            "tag",
            "recipient_address",
            "recipient_sections",
            "wrap_ephemeral",
            "wrap_nonce",
            "wrapped_key",
            "mac",
        )
    }
    pos = 0

    def span(kind: str, size: int) -> None:
        nonlocal pos
        out[kind].append(range(pos, pos + size))
        pos += size

    span("magic", 4)
    span("version", 1)
    span("context", 104)
    n_sections = data[pos]
    span("section_header", 1)
    for _ in range(n_sections):
        span("section_header", 1 + data[pos])
        span("section_header", 1 + data[pos])
        span("nonce", 12)
        size = int.from_bytes(data[pos : pos + 4], "big")
        span("section_header", 4)
        span("ciphertext", size - 16)
        span("tag", 16)
    n_recipients = int.from_bytes(data[pos : pos + 2], "big")
    span("section_header", 2)
    for _ in range(n_recipients):
        span("recipient_address", 20)
        count = data[pos]
        span("recipient_sections", 1 + count)
        span("wrap_ephemeral", 64)
        span("wrap_nonce", 12)
        span("wrapped_key", 32 * (count + 1) + 16)
    span("mac", 32)
    assert pos == len(data)
    return out


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- round trips -----------------------------------------------------------------------------------------


def test_open_all_roundtrip_patient_reads_every_section(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext
) -> None:
    assert open_all(envelope, patient.private_key, context) == SECTIONS


def test_open_all_withholds_sections_not_wrapped_for_reader(
    envelope: SealedEnvelope, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    opened = open_all(envelope, family_doctor.private_key, context)
    assert list(opened) == sorted(SECTIONS)
    for name, value in opened.items():
        if name in DOCTOR_SECTIONS:
            assert value == SECTIONS[name]
        else:
            assert value == Withheld(name)


def test_open_section_roundtrip_after_serialization(
    envelope: SealedEnvelope, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    parsed = SealedEnvelope.from_bytes(envelope.to_bytes())
    assert open_section(parsed, "diagnosis", family_doctor.private_key, context) == SECTIONS["diagnosis"]


def test_open_section_raises_not_a_recipient_for_withheld_section(
    envelope: SealedEnvelope, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError, match="past_history"):
        open_section(envelope, "past_history", family_doctor.private_key, context)


def test_open_section_raises_unknown_section(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(UnknownSectionError):
        open_section(envelope, "attachments", patient.private_key, context)


def test_open_raises_not_a_recipient_for_stranger(
    envelope: SealedEnvelope, stranger: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError) as info:
        open_all(envelope, stranger.private_key, context)
    assert info.value.reader == stranger.address
    with pytest.raises(NotARecipientError):
        open_section(envelope, "diagnosis", stranger.private_key, context)


def test_seal_chacha_per_section(patient: Wallet, context: EnvelopeContext) -> None:
    sealed = seal(
        SECTIONS, [patient.encryption_public_key], context, algorithm={"diagnosis": CHACHA20_POLY1305}
    )
    algorithms = {s.name: s.algorithm for s in sealed.sections}
    assert algorithms["diagnosis"] == CHACHA20_POLY1305
    assert algorithms["past_history"] == "AES-256-GCM"
    parsed = SealedEnvelope.from_bytes(sealed.to_bytes())
    assert open_all(parsed, patient.private_key, context) == SECTIONS


def test_seal_all_chacha(patient: Wallet, context: EnvelopeContext) -> None:
    sealed = seal(SECTIONS, [patient.encryption_public_key], context, algorithm=CHACHA20_POLY1305)
    assert {s.algorithm for s in sealed.sections} == {CHACHA20_POLY1305}
    assert open_all(sealed, patient.private_key, context) == SECTIONS


def test_seal_merges_duplicate_recipients(patient: Wallet, context: EnvelopeContext) -> None:
    pub = patient.encryption_public_key
    sealed = seal(
        SECTIONS,
        [Recipient(pub, frozenset({"diagnosis"})), Recipient(pub, frozenset({"past_history"}))],
        context,
    )
    assert len(sealed.recipients) == 1
    assert sealed.recipients[0].sections == ("diagnosis", "past_history")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sections": {}}, InputError),
        ({"sections": {"Bad-Name": b"x"}}, InputError),
        ({"sections": {"diagnosis": "text, not bytes"}}, InputError),
        ({"recipients": []}, InputError),
        ({"recipients": [b"\x01" * 64]}, InvalidKeyError),
        ({"algorithm": "AES-128-CBC"}, UnsupportedAlgorithmError),
        ({"algorithm": {"nope": CHACHA20_POLY1305}}, UnknownSectionError),
    ],
)
def test_seal_rejects_bad_input(
    patient: Wallet, context: EnvelopeContext, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {"sections": SECTIONS, "recipients": [patient.encryption_public_key]}
    args.update(kwargs)
    with pytest.raises(error):
        seal(context=context, **args)


def test_seal_rejects_recipient_section_not_in_record(patient: Wallet, context: EnvelopeContext) -> None:
    with pytest.raises(UnknownSectionError):
        seal(SECTIONS, [Recipient(patient.encryption_public_key, frozenset({"attachments"}))], context)


def test_envelope_context_validates_and_normalizes(patient: Wallet) -> None:
    ctx = EnvelopeContext(
        RecordId(b"\x00" * 32), Address(patient.address.lower()), 1, Address(REGISTRY.lower())
    )
    assert ctx.patient == patient.address
    assert ctx.registry == REGISTRY
    with pytest.raises(InputError):
        EnvelopeContext(RecordId(b"\x00" * 31), patient.address, 1, Address(REGISTRY))
    with pytest.raises(InputError):
        EnvelopeContext(RecordId(b"\x00" * 32), patient.address, 0, Address(REGISTRY))
    with pytest.raises(InputError):
        EnvelopeContext(RecordId(b"\x00" * 32), Address("0x1234"), 1, Address(REGISTRY))


# --- canonical serialization -----------------------------------------------------------------------------


def test_serialization_is_deterministic(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    parsed = SealedEnvelope.from_bytes(data)
    assert parsed == envelope
    assert parsed.to_bytes() == data
    assert SealedEnvelope.from_bytes(parsed.to_bytes()).to_bytes() == data
    assert parsed.digest == envelope.digest


def test_serialization_sorts_sections_and_recipients(envelope: SealedEnvelope) -> None:
    names = [s.name for s in envelope.sections]
    assert names == sorted(names)
    raw = [bytes.fromhex(r.address[2:]) for r in envelope.recipients]
    assert raw == sorted(raw)


def test_layout_matches_documented_format(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    spans = layout(data)
    assert data[:4] == b"FCEV"
    assert data[4] == 1
    assert data[5:109] == envelope.context.to_bytes()
    assert len(spans["recipient_address"]) == 2


def test_reseal_uses_fresh_keys_and_nonces(patient: Wallet, context: EnvelopeContext) -> None:
    one = seal(SECTIONS, [patient.encryption_public_key], context)
    two = seal(SECTIONS, [patient.encryption_public_key], context)
    assert one.to_bytes() != two.to_bytes()
    nonces = [s.nonce for s in one.sections + two.sections]
    assert len(set(nonces)) == len(nonces)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b + b"\x00", id="trailing-byte"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b"XCEV" + b[4:], id="bad-magic"),
        pytest.param(lambda b: b[:4] + b"\x02" + b[5:], id="unknown-version"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_from_bytes_rejects_noncanonical(envelope: SealedEnvelope, mutate: object) -> None:
    with pytest.raises(MalformedError):
        SealedEnvelope.from_bytes(mutate(envelope.to_bytes()))  # type: ignore[operator]


def test_from_bytes_rejects_duplicate_section(envelope: SealedEnvelope) -> None:
    first = envelope.sections[0]
    forged = dataclasses.replace(envelope, sections=(first, *envelope.sections))
    data = forged.to_bytes()
    # the section count byte sits right after the context
    data = data[:109] + bytes([len(forged.sections)]) + data[110:]
    with pytest.raises(MalformedError, match="out of order or duplicated"):
        SealedEnvelope.from_bytes(data)


def test_from_bytes_rejects_duplicate_recipient(envelope: SealedEnvelope) -> None:
    first = envelope.recipients[0]
    forged = dataclasses.replace(envelope, recipients=(first, first))
    with pytest.raises(MalformedError, match="recipient out of order or duplicated"):
        SealedEnvelope.from_bytes(forged.to_bytes())


def test_from_bytes_rejects_oversize_length(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    ct_len_at = layout(data)["nonce"][0].stop
    for bad in (0xFFFFFFFF, len(data)):
        forged = data[:ct_len_at] + bad.to_bytes(4, "big") + data[ct_len_at + 4 :]
        with pytest.raises(MalformedError):
            SealedEnvelope.from_bytes(forged)


def test_from_bytes_rejects_unknown_algorithm(patient: Wallet, context: EnvelopeContext) -> None:
    sealed = seal({"diagnosis": b"x"}, [patient.encryption_public_key], context)
    data = sealed.to_bytes().replace(b"AES-256-GCM", b"AES-256-GCX")
    with pytest.raises(MalformedError, match="unknown algorithm"):
        SealedEnvelope.from_bytes(data)


# --- tampering -------------------------------------------------------------------------------------------

BYTE_CLASSES = [
    "magic",
    "version",
    "context",
    "section_header",
    "nonce",
    "ciphertext",
    "tag",
    "recipient_sections",
    "wrap_ephemeral",
    "wrap_nonce",
    "wrapped_key",
    "mac",
]


def _open_tampered(data: bytes, reader: Wallet, context: EnvelopeContext) -> object:
    return open_all(SealedEnvelope.from_bytes(data), reader.private_key, context)


@pytest.mark.parametrize("byte_class", BYTE_CLASSES)
@pytest.mark.parametrize("reader_role", ["patient", "family_doctor"])
def test_flipped_byte_in_each_class_raises_integrity_error(
    envelope: SealedEnvelope,
    context: EnvelopeContext,
    byte_class: str,
    reader_role: str,
    request: pytest.FixtureRequest,
) -> None:
    reader: Wallet = request.getfixturevalue(reader_role)
    data = envelope.to_bytes()
    ranges = layout(data)[byte_class]
    positions = {r.start for r in ranges if len(r)} | {r.stop - 1 for r in ranges if len(r)}
    assert positions
    for index in sorted(positions):
        with pytest.raises(IntegrityError):
            _open_tampered(flip(data, index), reader, context)


def test_flipped_byte_in_other_recipients_address_raises_integrity_error(
    envelope: SealedEnvelope, patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    data = envelope.to_bytes()
    addresses = layout(data)["recipient_address"]
    for reader, other in ((patient, family_doctor), (family_doctor, patient)):
        slot = next(r for r in addresses if data[r.start : r.stop].hex() == other.address[2:].lower())
        for index in (slot.start, slot.stop - 1):
            with pytest.raises(IntegrityError):
                _open_tampered(flip(data, index), reader, context)


def test_every_single_byte_flip_is_detected(
    patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    sealed = seal(
        {"diagnosis": b"d" * 40, "past_history": b"p" * 20},
        [
            patient.encryption_public_key,
            Recipient(family_doctor.encryption_public_key, frozenset({"diagnosis"})),
        ],
        context,
    )
    data = sealed.to_bytes()
    own = next(
        r
        for r in layout(data)["recipient_address"]
        if data[r.start : r.stop].hex() == patient.address[2:].lower()
    )
    for index in range(len(data)):
        tampered = flip(data, index)
        expected: tuple[type[Exception], ...] = (IntegrityError,)
        if index in own:
            # the reader's own address no longer appears: it is simply not a recipient any more
            expected = (IntegrityError, NotARecipientError)
        with pytest.raises(expected):
            _open_tampered(tampered, patient, context)


def test_tampering_never_returns_partial_plaintext(
    envelope: SealedEnvelope, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    data = envelope.to_bytes()
    # corrupt the last section the doctor may read; the earlier ones must not come back either
    target = next(s for s in reversed(envelope.sections) if s.name in DOCTOR_SECTIONS)
    at = data.index(target.ciphertext) + 1
    with pytest.raises(IntegrityError):
        _open_tampered(flip(data, at), family_doctor, context)


# --- associated data binding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": CHAIN_ID + 1},
        {"registry": "0x" + "ab" * 20},
        {"record_id": RecordId(b"\x07" * 32)},
        {"patient": "0x" + "cd" * 20},
    ],
)
def test_open_with_other_context_raises_context_mismatch(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext, change: dict[str, object]
) -> None:
    other = dataclasses.replace(context, **change)  # type: ignore[arg-type]
    with pytest.raises(ContextMismatchError):
        open_all(envelope, patient.private_key, other)


def test_rewritten_header_context_fails_authentication(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext
) -> None:
    other = dataclasses.replace(context, chain_id=CHAIN_ID + 1)
    moved = SealedEnvelope.from_bytes(envelope.to_bytes().replace(context.to_bytes(), other.to_bytes()))
    with pytest.raises(AuthenticationError):
        open_all(moved, patient.private_key, other)


def test_section_ciphertext_moved_to_another_section_fails(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext
) -> None:
    a, b = envelope.sections[0], envelope.sections[1]
    swapped = (dataclasses.replace(a, nonce=b.nonce, ciphertext=b.ciphertext), *envelope.sections[1:])
    with pytest.raises(IntegrityError):
        open_all(dataclasses.replace(envelope, sections=swapped), patient.private_key, context)


def test_section_ciphertext_moved_to_another_record_fails(patient: Wallet, context: EnvelopeContext) -> None:
    first = seal(SECTIONS, [patient.encryption_public_key], context)
    other_ctx = dataclasses.replace(context, record_id=RecordId(os.urandom(32)))
    second = seal(SECTIONS, [patient.encryption_public_key], other_ctx)
    grafted = (first.sections[0], *second.sections[1:])
    with pytest.raises(IntegrityError):
        open_all(dataclasses.replace(second, sections=grafted), patient.private_key, other_ctx)


def test_section_aad_binds_name_and_context_even_with_the_key(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext
) -> None:
    """Defence in depth: an insider who holds a section key still cannot relabel its ciphertext."""
    own = env_mod._unlock_own(envelope, patient.private_key, patient.address)
    assert own is not None
    _, keys = own
    section = envelope.sections[0]
    aead = get_aead(section.algorithm)
    assert env_mod._decrypt(envelope, section, keys[section.name]) == SECTIONS[section.name]
    relabeled = dataclasses.replace(section, name=envelope.sections[1].name)
    with pytest.raises(AuthenticationError):
        env_mod._decrypt(envelope, relabeled, keys[section.name])
    changes: list[dict[str, Any]] = [
        {"chain_id": 1},
        {"registry": "0x" + "01" * 20},
        {"record_id": RecordId(b"\x01" * 32)},
    ]
    for change in changes:
        moved = dataclasses.replace(envelope, context=dataclasses.replace(context, **change))
        with pytest.raises(AuthenticationError):
            env_mod._decrypt(moved, section, keys[section.name])
    assert aead.name == section.algorithm
