"""Key-release bundles: consent to existing records without touching the content-addressed envelope."""

from __future__ import annotations

import dataclasses
import os

import pytest
from _crypto_support import DOCTOR_SECTIONS, SECTIONS

from famchain.crypto.envelope import (
    EnvelopeContext,
    KeyBundle,
    Recipient,
    SealedEnvelope,
    Withheld,
    add_recipients,
    open_all,
    open_section,
    release_keys,
    seal,
    verify_bundle,
)
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    InputError,
    IntegrityError,
    MalformedError,
    NotARecipientError,
    UnknownSectionError,
)
from famchain.types import RecordId

GRANTED = ("diagnosis", "prescriptions")


@pytest.fixture
def bundle(envelope: SealedEnvelope, patient: Wallet, insurer: Wallet) -> KeyBundle:
    bundles = add_recipients(envelope, patient.private_key, [insurer.encryption_public_key], GRANTED)
    assert list(bundles) == [insurer.address]
    return bundles[insurer.address]


def test_grantee_opens_released_sections_only(
    envelope: SealedEnvelope, bundle: KeyBundle, insurer: Wallet, context: EnvelopeContext
) -> None:
    opened = open_all(envelope, insurer.private_key, context, bundles=[bundle])
    for name, value in opened.items():
        assert value == (SECTIONS[name] if name in GRANTED else Withheld(name))
    assert (
        open_section(envelope, "diagnosis", insurer.private_key, context, bundles=[bundle])
        == SECTIONS["diagnosis"]
    )
    with pytest.raises(NotARecipientError):
        open_section(envelope, "past_history", insurer.private_key, context, bundles=[bundle])


def test_grantee_without_bundle_is_not_a_recipient(
    envelope: SealedEnvelope, insurer: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError):
        open_all(envelope, insurer.private_key, context)


def test_bundle_is_useless_to_anyone_else(
    envelope: SealedEnvelope, bundle: KeyBundle, stranger: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError):
        open_all(envelope, stranger.private_key, context, bundles=[bundle])
    with pytest.raises(NotARecipientError):
        verify_bundle(bundle, stranger.private_key)


def test_bundle_keys_add_to_envelope_keys(
    envelope: SealedEnvelope, patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    more = add_recipients(
        envelope, patient.private_key, [family_doctor.encryption_public_key], ["past_history"]
    )
    opened = open_all(envelope, family_doctor.private_key, context, bundles=more.values())
    readable = {n for n, v in opened.items() if not isinstance(v, Withheld)}
    assert readable == DOCTOR_SECTIONS | {"past_history"}


def test_bundle_does_not_open_another_envelope(
    patient: Wallet, insurer: Wallet, bundle: KeyBundle, context: EnvelopeContext
) -> None:
    # same record id and context, sealed again: a different envelope digest
    other = seal(SECTIONS, [patient.encryption_public_key], context)
    with pytest.raises(NotARecipientError):
        open_all(other, insurer.private_key, context, bundles=[bundle])


def test_bundle_serialization_is_canonical(bundle: KeyBundle, insurer: Wallet) -> None:
    data = bundle.to_bytes()
    parsed = KeyBundle.from_bytes(data)
    assert parsed == bundle
    assert parsed.to_bytes() == data
    assert parsed.digest == bundle.digest
    assert parsed.section_names() == frozenset(GRANTED)
    verify_bundle(parsed, insurer.private_key)


def test_release_keys_across_records_skips_records_without_the_sections(
    patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    records = []
    for sections in ({"diagnosis": b"a"}, {"past_history": b"b"}, {"diagnosis": b"c", "attachments": b"d"}):
        ctx = dataclasses.replace(context, record_id=RecordId(os.urandom(32)))
        records.append((seal(sections, [patient.encryption_public_key], ctx), ctx))
    grants = [(sealed, ["diagnosis", "prescriptions"]) for sealed, _ in records]
    bundle = release_keys(patient.private_key, insurer.encryption_public_key, grants)
    assert len(bundle.entries) == 2
    assert set(bundle.record_ids()) == {records[0][1].record_id, records[2][1].record_id}
    keys = [e.record_id + e.envelope_digest for e in bundle.entries]
    assert keys == sorted(keys)
    bundle = KeyBundle.from_bytes(bundle.to_bytes())
    assert open_all(records[0][0], insurer.private_key, records[0][1], bundles=[bundle]) == {
        "diagnosis": b"a"
    }
    assert open_all(records[2][0], insurer.private_key, records[2][1], bundles=[bundle]) == {
        "attachments": Withheld("attachments"),
        "diagnosis": b"c",
    }
    with pytest.raises(NotARecipientError):
        open_all(records[1][0], insurer.private_key, records[1][1], bundles=[bundle])


def test_release_keys_with_nothing_to_release(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet
) -> None:
    with pytest.raises(InputError):
        release_keys(patient.private_key, insurer.encryption_public_key, [(envelope, ["attachments"])])


def test_holder_cannot_release_what_it_does_not_hold(
    envelope: SealedEnvelope, family_doctor: Wallet, stranger: Wallet, insurer: Wallet
) -> None:
    with pytest.raises(NotARecipientError, match="past_history"):
        add_recipients(envelope, family_doctor.private_key, [insurer.encryption_public_key], ["past_history"])
    with pytest.raises(NotARecipientError):
        add_recipients(envelope, stranger.private_key, [insurer.encryption_public_key], ["diagnosis"])
    with pytest.raises(UnknownSectionError):
        add_recipients(envelope, family_doctor.private_key, [insurer.encryption_public_key], ["attachments"])


def test_release_from_tampered_envelope_fails(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet
) -> None:
    data = bytearray(envelope.to_bytes())
    data[-1] ^= 1
    tampered = SealedEnvelope.from_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        add_recipients(tampered, patient.private_key, [insurer.encryption_public_key], GRANTED)


def test_every_single_byte_flip_in_bundle_is_detected(bundle: KeyBundle, insurer: Wallet) -> None:
    data = bundle.to_bytes()
    grantee = range(5, 25)
    for index in range(len(data)):
        tampered = data[:index] + bytes([data[index] ^ 0x80]) + data[index + 1 :]
        expected: tuple[type[Exception], ...] = (IntegrityError,)
        if index in grantee:
            expected = (IntegrityError, NotARecipientError)
        with pytest.raises(expected):
            verify_bundle(KeyBundle.from_bytes(tampered), insurer.private_key)


def test_tampered_bundle_entry_never_opens_the_envelope(
    envelope: SealedEnvelope, bundle: KeyBundle, insurer: Wallet, context: EnvelopeContext
) -> None:
    data = bytearray(bundle.to_bytes())
    data[-20] ^= 1
    tampered = KeyBundle.from_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        open_all(envelope, insurer.private_key, context, bundles=[tampered])


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b + b"\x00", id="trailing"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b"FCKX" + b[4:], id="magic"),
        pytest.param(lambda b: b[:4] + b"\x09" + b[5:], id="version"),
        pytest.param(lambda b: b[:25] + b"\x00\x00" + b[27:], id="zero-entries"),
    ],
)
def test_bundle_from_bytes_rejects_noncanonical(bundle: KeyBundle, mutate: object) -> None:
    with pytest.raises(MalformedError):
        KeyBundle.from_bytes(mutate(bundle.to_bytes()))  # type: ignore[operator]


def test_bundle_from_bytes_rejects_duplicate_entry(bundle: KeyBundle) -> None:
    doubled = dataclasses.replace(bundle, entries=bundle.entries * 2)
    with pytest.raises(MalformedError, match="duplicated"):
        KeyBundle.from_bytes(doubled.to_bytes())


def test_partial_recipient_envelope_shape(
    patient: Wallet, family_doctor: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    sealed = seal(
        SECTIONS,
        [
            patient.encryption_public_key,
            Recipient(family_doctor.encryption_public_key, DOCTOR_SECTIONS),
            Recipient(insurer.encryption_public_key, frozenset({"diagnosis"})),
        ],
        context,
    )
    assert set(sealed.recipients_of("diagnosis")) == {patient.address, family_doctor.address, insurer.address}
    assert sealed.recipients_of("past_history") == (patient.address,)
