"""Key bundles v2: consent to existing records, with neither grantee nor records visible in the bytes."""

from __future__ import annotations

import dataclasses
import os

import pytest
from _crypto_support import DOCTOR_SECTIONS, SECTIONS, flip

from famchain.crypto.bundle import BundleEntry, EntryKind, KeyBundle, OpenedBundle, _seal_bundle, open_bundle
from famchain.crypto.envelope import (
    EnvelopeContext,
    SealedEnvelope,
    Withheld,
    open_all,
    open_section,
    release_keys,
    seal,
)
from famchain.crypto.padding import is_size_class
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    AuthenticationError,
    ContextMismatchError,
    InputError,
    IntegrityError,
    KeyCommitmentError,
    MalformedError,
    NotARecipientError,
)

GRANTED = ("diagnosis", "prescriptions")


@pytest.fixture
def bundle(envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext) -> KeyBundle:
    return release_keys(patient.private_key, insurer.encryption_public_key, [(envelope, context, GRANTED)])


def test_grantee_opens_released_sections_only(
    envelope: SealedEnvelope, bundle: KeyBundle, insurer: Wallet, context: EnvelopeContext
) -> None:
    parsed = KeyBundle.from_bytes(bundle.to_bytes())
    opened = open_all(envelope, insurer.private_key, context, bundles=[parsed])
    for name, value in opened.items():
        assert value == (SECTIONS[name] if name in GRANTED else Withheld(name))
    assert (
        open_section(envelope, "diagnosis", insurer.private_key, context, bundles=[parsed])
        == (SECTIONS["diagnosis"])
    )
    with pytest.raises(NotARecipientError):
        open_section(envelope, "past_history", insurer.private_key, context, bundles=[parsed])


def test_opened_bundle_can_be_passed_instead_of_the_sealed_one(
    envelope: SealedEnvelope, bundle: KeyBundle, insurer: Wallet, context: EnvelopeContext
) -> None:
    opened = open_bundle(bundle, insurer.private_key)
    assert opened.section_names() == frozenset(GRANTED)
    (entry,) = opened.entries
    assert (entry.context_digest, entry.envelope_digest, entry.kind) == (
        context.digest,
        envelope.digest,
        EntryKind.KEYS,
    )
    result = open_all(envelope, insurer.private_key, context, bundles=[opened])
    assert result["diagnosis"] == SECTIONS["diagnosis"]


def test_grantee_without_bundle_is_not_a_recipient(
    envelope: SealedEnvelope, insurer: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError):
        open_all(envelope, insurer.private_key, context)


def test_bundle_is_useless_to_anyone_else(
    envelope: SealedEnvelope, bundle: KeyBundle, stranger: Wallet, patient: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError):
        open_all(envelope, stranger.private_key, context, bundles=[bundle])
    with pytest.raises(AuthenticationError):
        open_bundle(bundle, stranger.private_key)
    # a bundle for someone else is skipped, not an error, for a reader with its own entry
    assert open_all(envelope, patient.private_key, context, bundles=[bundle]) == SECTIONS


def test_bundle_keys_add_to_envelope_keys(
    envelope: SealedEnvelope, patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    more = release_keys(
        patient.private_key, family_doctor.encryption_public_key, [(envelope, context, ["past_history"])]
    )
    opened = open_all(envelope, family_doctor.private_key, context, bundles=[more])
    readable = {n for n, v in opened.items() if not isinstance(v, Withheld)}
    assert readable == DOCTOR_SECTIONS | {"past_history"}


def test_bundle_does_not_open_another_envelope(
    patient: Wallet, insurer: Wallet, bundle: KeyBundle, context: EnvelopeContext
) -> None:
    other = seal(SECTIONS, [patient.encryption_public_key], context)  # same context, other digest
    with pytest.raises(NotARecipientError):
        open_all(other, insurer.private_key, context, bundles=[bundle])


def test_bundle_serialization_is_canonical_and_padded(bundle: KeyBundle, insurer: Wallet) -> None:
    data = bundle.to_bytes()
    parsed = KeyBundle.from_bytes(data)
    assert parsed == bundle
    assert parsed.to_bytes() == data
    assert parsed.digest == bundle.digest
    assert data[:5] == b"FCKB\x02"
    assert is_size_class(len(data) - 5 - 64 - 16)


def test_bundle_bytes_name_no_grantee_record_or_section(
    bundle: KeyBundle,
    envelope: SealedEnvelope,
    insurer: Wallet,
    patient: Wallet,
    context: EnvelopeContext,
) -> None:
    data = bundle.to_bytes()
    for wallet in (insurer, patient):
        assert bytes.fromhex(wallet.address[2:]) not in data
        assert wallet.encryption_public_key[:16] not in data
    for needle in (context.salt, context.digest, envelope.digest, b"diagnosis", b"prescriptions"):
        assert needle not in data


def test_bundle_size_depends_only_on_the_size_class(
    patient: Wallet, insurer: Wallet, stranger: Wallet, context: EnvelopeContext
) -> None:
    sizes = set()
    for wanted in (["diagnosis"], ["past_history"]):
        sealed = seal(SECTIONS, [patient.encryption_public_key], context)
        for grantee in (insurer, stranger):
            made = release_keys(
                patient.private_key, grantee.encryption_public_key, [(sealed, context, wanted)]
            )
            sizes.add(len(made.to_bytes()))
    assert sizes == {5 + 64 + 256 + 16}


def test_release_keys_across_records_skips_records_without_the_sections(
    patient: Wallet, family_doctor: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    records = []
    for sections in ({"diagnosis": b"a"}, {"past_history": b"b"}, {"diagnosis": b"c", "attachments": b"d"}):
        ctx = dataclasses.replace(context, salt=os.urandom(32))
        records.append((seal(sections, [patient.encryption_public_key], ctx), ctx))
    grants = [(sealed, ctx, ["diagnosis", "prescriptions"]) for sealed, ctx in records]
    bundle = KeyBundle.from_bytes(
        release_keys(patient.private_key, insurer.encryption_public_key, grants).to_bytes()
    )
    opened = open_bundle(bundle, insurer.private_key)
    assert len(opened.entries) == 2
    keys = [e.sort_key for e in opened.entries]
    assert keys == sorted(keys)
    assert open_all(records[0][0], insurer.private_key, records[0][1], bundles=[bundle]) == {
        "diagnosis": b"a"
    }
    assert open_all(records[2][0], insurer.private_key, records[2][1], bundles=[bundle]) == {
        "attachments": Withheld("attachments"),
        "diagnosis": b"c",
    }
    with pytest.raises(NotARecipientError):
        open_all(records[1][0], insurer.private_key, records[1][1], bundles=[bundle])


def test_release_keys_same_envelope_twice_releases_the_union(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    bundle = release_keys(
        patient.private_key,
        insurer.encryption_public_key,
        [(envelope, context, ["diagnosis"]), (envelope, context, ["past_history"])],
    )
    assert open_bundle(bundle, insurer.private_key).section_names() == {"diagnosis", "past_history"}


def test_release_keys_with_nothing_to_release(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    with pytest.raises(InputError):
        release_keys(
            patient.private_key, insurer.encryption_public_key, [(envelope, context, ["attachments"])]
        )


def test_releaser_cannot_release_what_it_does_not_hold(
    envelope: SealedEnvelope,
    family_doctor: Wallet,
    stranger: Wallet,
    insurer: Wallet,
    context: EnvelopeContext,
) -> None:
    pub = insurer.encryption_public_key
    with pytest.raises(NotARecipientError, match="past_history"):
        release_keys(family_doctor.private_key, pub, [(envelope, context, ["past_history"])])
    with pytest.raises(NotARecipientError):
        release_keys(stranger.private_key, pub, [(envelope, context, ["diagnosis"])])
    other = dataclasses.replace(context, salt=os.urandom(32))
    with pytest.raises(ContextMismatchError):
        release_keys(family_doctor.private_key, pub, [(envelope, other, ["diagnosis"])])


def test_release_from_tampered_envelope_fails(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    tampered = SealedEnvelope.from_bytes(flip(envelope.to_bytes(), len(envelope.to_bytes()) - 1))
    with pytest.raises(IntegrityError):
        release_keys(patient.private_key, insurer.encryption_public_key, [(tampered, context, GRANTED)])


def test_every_single_byte_flip_in_bundle_is_detected(bundle: KeyBundle, insurer: Wallet) -> None:
    data = bundle.to_bytes()
    for index in range(len(data)):
        with pytest.raises(IntegrityError):
            open_bundle(KeyBundle.from_bytes(flip(data, index, 0x80)), insurer.private_key)


def test_tampered_bundle_never_opens_the_envelope(
    envelope: SealedEnvelope, bundle: KeyBundle, insurer: Wallet, context: EnvelopeContext
) -> None:
    tampered = KeyBundle.from_bytes(flip(bundle.to_bytes(), len(bundle.to_bytes()) - 20))
    with pytest.raises(NotARecipientError):
        open_all(envelope, insurer.private_key, context, bundles=[tampered])


def test_lying_releaser_is_caught_by_the_key_commitment(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    """A releaser who holds the MAC key hands out a key other than the sealed one: refused before decrypting."""
    honest = open_bundle(
        release_keys(patient.private_key, insurer.encryption_public_key, [(envelope, context, GRANTED)]),
        insurer.private_key,
    )
    (entry,) = honest.entries
    forged_keys = tuple((name, os.urandom(32)) for name, _ in entry.keys)
    forged = _seal_bundle(
        [dataclasses.replace(entry, keys=forged_keys)],
        insurer.encryption_public_key,
        lambda n, _: os.urandom(n),
    )
    with pytest.raises(KeyCommitmentError):
        open_all(envelope, insurer.private_key, context, bundles=[forged])


def test_bundle_entry_with_wrong_mac_key_fails(
    envelope: SealedEnvelope, patient: Wallet, insurer: Wallet, context: EnvelopeContext
) -> None:
    honest = open_bundle(
        release_keys(patient.private_key, insurer.encryption_public_key, [(envelope, context, GRANTED)]),
        insurer.private_key,
    )
    forged = OpenedBundle((dataclasses.replace(honest.entries[0], mac_key=os.urandom(32)),))
    with pytest.raises(KeyCommitmentError, match="MAC"):
        open_all(envelope, insurer.private_key, context, bundles=[forged])


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b + b"\x00", id="trailing"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b"FCKX" + b[4:], id="magic"),
        pytest.param(lambda b: b[:4] + b"\x01" + b[5:], id="version"),
        pytest.param(lambda b: b[:5] + b"\x00" * 64 + b[69:], id="ephemeral-off-curve"),
        pytest.param(lambda b: b[:69], id="no-ciphertext"),
    ],
)
def test_bundle_from_bytes_rejects_noncanonical(bundle: KeyBundle, mutate: object) -> None:
    with pytest.raises(MalformedError):
        KeyBundle.from_bytes(mutate(bundle.to_bytes()))  # type: ignore[operator]


def _body_entry() -> BundleEntry:
    return BundleEntry(
        b"\x01" * 32, b"\x02" * 32, EntryKind.KEYS, b"\x03" * 32, (("diagnosis", b"\x04" * 32),)
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x00\x00", id="zero-entries"),
        pytest.param(b"\x00\x02" + _body_entry().to_bytes() * 2, id="duplicate-entry"),
        pytest.param(b"\x00\x01" + _body_entry().to_bytes() + b"\x00", id="trailing"),
        pytest.param(
            b"\x00\x01" + _body_entry().to_bytes()[:64] + b"\x03" + _body_entry().to_bytes()[65:], id="kind"
        ),
        pytest.param(b"\x00\x01" + _body_entry().to_bytes()[:97] + b"\x00", id="zero-sections"),
    ],
)
def test_bundle_body_parser_is_strict(body: bytes) -> None:
    with pytest.raises(MalformedError):
        OpenedBundle.from_body(body)


def test_bundle_body_roundtrip() -> None:
    opened = OpenedBundle((_body_entry(),))
    assert OpenedBundle.from_body(opened.body()) == opened
