"""Sealed envelopes v2: round trips, policy, canonical bytes, anonymity, tampering at every byte class, binding."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from _crypto_support import BYTE_CLASSES, CHAIN_ID, DOCTOR_SECTIONS, REGISTRY, SECTIONS, flip, layout

from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305, SM4_GCM
from famchain.crypto.envelope import (
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    Withheld,
    is_recipient,
    open_all,
    open_section,
    seal,
)
from famchain.crypto.padding import is_size_class, padded_size
from famchain.crypto.policy import CipherPolicy
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
from famchain.types import Address

SM4_POLICY = CipherPolicy(
    {"diagnosis": SM4_GCM, "prescriptions": SM4_GCM, "past_history": CHACHA20_POLY1305}, default=AES_256_GCM
)

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
        assert value == (SECTIONS[name] if name in DOCTOR_SECTIONS else Withheld(name))


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


def test_policy_sets_each_section_algorithm_and_reader_honours_it(
    patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    sealed = seal(
        SECTIONS,
        [patient.encryption_public_key, Recipient(family_doctor.encryption_public_key, DOCTOR_SECTIONS)],
        context,
        policy=SM4_POLICY,
    )
    algorithms = {s.name: s.algorithm for s in sealed.sections}
    assert algorithms == {
        "diagnosis": SM4_GCM,
        "prescriptions": SM4_GCM,
        "past_history": CHACHA20_POLY1305,
        "present_illness": AES_256_GCM,
        "family_history": AES_256_GCM,
    }
    parsed = SealedEnvelope.from_bytes(sealed.to_bytes())
    assert open_all(parsed, patient.private_key, context) == SECTIONS
    assert open_section(parsed, "diagnosis", family_doctor.private_key, context) == SECTIONS["diagnosis"]


@pytest.mark.parametrize("algorithm", [AES_256_GCM, CHACHA20_POLY1305, SM4_GCM])
def test_each_codec_roundtrips_every_section(
    algorithm: str, patient: Wallet, context: EnvelopeContext
) -> None:
    sealed = seal(SECTIONS, [patient.encryption_public_key], context, policy=CipherPolicy(default=algorithm))
    assert {s.algorithm for s in sealed.sections} == {algorithm}
    assert open_all(SealedEnvelope.from_bytes(sealed.to_bytes()), patient.private_key, context) == SECTIONS


def test_seal_merges_duplicate_recipients(patient: Wallet, context: EnvelopeContext) -> None:
    pub = patient.encryption_public_key
    sealed = seal(
        SECTIONS,
        [Recipient(pub, frozenset({"diagnosis"})), Recipient(pub, frozenset({"past_history"}))],
        context,
    )
    opened = open_all(sealed, patient.private_key, context)
    assert {n for n, v in opened.items() if not isinstance(v, Withheld)} == {"diagnosis", "past_history"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"plaintexts": {}}, InputError),
        ({"plaintexts": {"Bad-Name": b"x"}}, InputError),
        ({"plaintexts": {"diagnosis": "text, not bytes"}}, InputError),
        ({"recipients": []}, InputError),
        ({"recipients": [b"\x01" * 64]}, InvalidKeyError),
        ({"recipients": [Recipient(b"\x01" * 64)]}, InvalidKeyError),
    ],
)
def test_seal_rejects_bad_input(
    patient: Wallet, context: EnvelopeContext, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {"plaintexts": SECTIONS, "recipients": [patient.encryption_public_key]}
    args.update(kwargs)
    with pytest.raises(error):
        seal(context=context, **args)


def test_seal_rejects_recipient_section_not_in_record(patient: Wallet, context: EnvelopeContext) -> None:
    with pytest.raises(UnknownSectionError):
        seal(SECTIONS, [Recipient(patient.encryption_public_key, frozenset({"attachments"}))], context)
    with pytest.raises(InputError, match="at least one section"):
        seal(SECTIONS, [Recipient(patient.encryption_public_key, frozenset())], context)


def test_policy_with_unknown_algorithm_is_refused() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        CipherPolicy({"diagnosis": "aes-128-cbc"})


def test_envelope_context_validates_and_normalizes(patient: Wallet, family_doctor: Wallet) -> None:
    ctx = EnvelopeContext(
        b"\x00" * 32,
        Address(patient.address.lower()),
        Address(family_doctor.address.lower()),
        1,
        Address(REGISTRY.lower()),
    )
    assert (ctx.patient, ctx.author, ctx.registry) == (patient.address, family_doctor.address, REGISTRY)
    assert len(ctx.to_bytes()) == 124
    bad: list[dict[str, Any]] = [
        {"salt": b"\x00" * 31},
        {"chain_id": 0},
        {"chain_id": 2**256},
        {"chain_id": True},
        {"patient": "0x1234"},
        {"author": "not an address"},
    ]
    for change in bad:
        with pytest.raises(InputError):
            dataclasses.replace(ctx, **change)


# --- canonical serialization, layout, size classes --------------------------------------------------------


def test_serialization_is_deterministic(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    parsed = SealedEnvelope.from_bytes(data)
    assert parsed == envelope
    assert parsed.to_bytes() == data
    assert parsed.digest == envelope.digest


def test_layout_matches_documented_format(envelope: SealedEnvelope, context: EnvelopeContext) -> None:
    data = envelope.to_bytes()
    spans = layout(data)
    assert data[:5] == b"FCEV\x02"
    assert data[5:37] == context.digest
    assert len(spans["recipient_tag"]) == 4  # two recipients padded to the smallest bucket
    tags = [data[r.start : r.stop] for r in spans["recipient_tag"]]
    assert tags == sorted(tags)
    assert spans["custodian_tag"] == []


@pytest.mark.parametrize(("real", "bucket"), [(1, 4), (3, 4), (4, 4), (5, 8), (9, 16)])
def test_recipient_entries_are_padded_to_a_power_of_two(
    real: int, bucket: int, context: EnvelopeContext
) -> None:
    wallets = [Wallet(os.urandom(32)) for _ in range(real)]
    sealed = seal({"diagnosis": b"x"}, [w.encryption_public_key for w in wallets], context)
    assert sealed.recipient_count == bucket
    assert len({len(e.wrapped) for e in sealed.recipients}) == 1
    assert sum(is_recipient(sealed, w.private_key, context) for w in wallets) == real
    for wallet in wallets:
        assert open_all(sealed, wallet.private_key, context) == {"diagnosis": b"x"}


def test_every_entry_has_the_same_length_whatever_the_grant(
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
    assert {len(e.wrapped) for e in sealed.recipients} == {56 + 32 * len(SECTIONS)}


@pytest.mark.parametrize("size", [0, 1, 252, 253, 1000, 4096, 65_535, 300_000])
def test_ciphertext_lengths_fall_in_documented_size_classes(
    size: int, patient: Wallet, context: EnvelopeContext
) -> None:
    sealed = seal({"attachments": os.urandom(size)}, [patient.encryption_public_key], context)
    (section,) = sealed.sections
    assert len(section.ciphertext) == padded_size(size) + 16
    assert is_size_class(len(section.ciphertext) - 16)
    assert padded_size(size) >= max(256, size + 4)


def test_short_sections_are_indistinguishable_by_length(patient: Wallet, context: EnvelopeContext) -> None:
    sealed = seal({"a": b"", "b": b"x" * 100, "c": b"y" * 252}, [patient.encryption_public_key], context)
    assert {len(s.ciphertext) for s in sealed.sections} == {256 + 16}


def test_reseal_uses_fresh_keys_nonces_and_ephemeral_key(patient: Wallet, context: EnvelopeContext) -> None:
    one = seal(SECTIONS, [patient.encryption_public_key], context)
    two = seal(SECTIONS, [patient.encryption_public_key], context)
    assert one.ephemeral_public_key != two.ephemeral_public_key
    assert {e.tag for e in one.recipients}.isdisjoint(e.tag for e in two.recipients)
    nonces = [s.nonce for s in one.sections + two.sections]
    assert len(set(nonces)) == len(nonces)


# --- no recipient identities -----------------------------------------------------------------------------


def _identity_needles(wallet: Wallet) -> list[bytes]:
    pub = wallet.encryption_public_key
    return [bytes.fromhex(wallet.address[2:]), pub, pub[:32], pub[32:], pub[:16], pub[-16:]]


def test_no_recipient_address_or_public_key_appears_in_the_bytes(
    patient: Wallet,
    family_doctor: Wallet,
    insurer: Wallet,
    custodians: list[Wallet],
    emergency_envelope: SealedEnvelope,
) -> None:
    data = emergency_envelope.to_bytes()
    for wallet in (patient, family_doctor, insurer, *custodians):
        for needle in _identity_needles(wallet):
            assert needle not in data
            assert needle.hex() not in data.hex()


def test_is_recipient_answers_by_trying_a_candidate_key(
    envelope: SealedEnvelope,
    patient: Wallet,
    family_doctor: Wallet,
    stranger: Wallet,
    context: EnvelopeContext,
) -> None:
    assert is_recipient(envelope, patient.private_key, context)
    assert is_recipient(envelope, family_doctor.private_key, context)
    assert not is_recipient(envelope, stranger.private_key, context)
    other = dataclasses.replace(context, salt=os.urandom(32))
    assert not is_recipient(envelope, patient.private_key, other)


# --- strict parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b + b"\x00", id="trailing-byte"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b"XCEV" + b[4:], id="bad-magic"),
        pytest.param(lambda b: b[:4] + b"\x01" + b[5:], id="version-1"),
        pytest.param(lambda b: b[:4] + b"\x03" + b[5:], id="version-3"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b[:37] + b"\x00" * 64 + b[101:], id="ephemeral-not-on-curve"),
        pytest.param(lambda b: b[:101] + b"\x00" + b[102:], id="zero-sections"),
    ],
)
def test_from_bytes_rejects_noncanonical(envelope: SealedEnvelope, mutate: Any) -> None:
    with pytest.raises(MalformedError):
        SealedEnvelope.from_bytes(mutate(envelope.to_bytes()))


@pytest.mark.parametrize("value", [None, "FCEV", 7, ["F"]])
def test_from_bytes_rejects_non_bytes(value: Any) -> None:
    with pytest.raises(MalformedError):
        SealedEnvelope.from_bytes(value)


def test_from_bytes_rejects_duplicate_or_unsorted_sections(envelope: SealedEnvelope) -> None:
    first = envelope.sections[0]
    for sections in ((first, *envelope.sections), tuple(reversed(envelope.sections))):
        forged = dataclasses.replace(envelope, sections=sections)
        with pytest.raises(MalformedError, match="out of order or duplicated"):
            SealedEnvelope.from_bytes(forged.to_bytes())


def test_from_bytes_rejects_duplicate_or_unsorted_tags(envelope: SealedEnvelope) -> None:
    entries = envelope.recipients
    for forged_entries in ((entries[0], *entries[:3]), tuple(reversed(entries))):
        forged = dataclasses.replace(envelope, recipients=forged_entries)
        with pytest.raises(MalformedError, match="tags out of order or duplicated"):
            SealedEnvelope.from_bytes(forged.to_bytes())


def test_from_bytes_rejects_entry_count_off_bucket(envelope: SealedEnvelope) -> None:
    forged = dataclasses.replace(envelope, recipients=envelope.recipients[:3])
    with pytest.raises(MalformedError, match="power of two"):
        SealedEnvelope.from_bytes(forged.to_bytes())


def test_from_bytes_rejects_ciphertext_length_off_size_class(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    ct_len_at = layout(data)["nonce"][0].stop
    for bad in (0, 15, 16, 271, 273, 0xFFFFFFFF, len(data)):
        forged = data[:ct_len_at] + bad.to_bytes(4, "big") + data[ct_len_at + 4 :]
        with pytest.raises(MalformedError):
            SealedEnvelope.from_bytes(forged)


def test_from_bytes_rejects_unknown_aead_id(envelope: SealedEnvelope) -> None:
    data = envelope.to_bytes()
    at = layout(data)["commitment"][0].start - 1
    for bad in (0, 4, 255):
        with pytest.raises(MalformedError, match="unknown aead id"):
            SealedEnvelope.from_bytes(data[:at] + bytes([bad]) + data[at + 1 :])


# --- tampering -------------------------------------------------------------------------------------------


def _open_tampered(data: bytes, reader: Wallet, context: EnvelopeContext) -> object:
    return open_all(SealedEnvelope.from_bytes(data), reader.private_key, context)


def _own_tag(envelope: SealedEnvelope, reader: Wallet, context: EnvelopeContext) -> bytes:
    from famchain.crypto import envelope as env_mod
    from famchain.crypto.keywrap import ecdh

    shared = ecdh(reader.private_key, envelope.ephemeral_public_key)
    return env_mod._entry_tag(
        shared, envelope.ephemeral_public_key, reader.encryption_public_key, custodian=False
    )


@pytest.mark.parametrize("byte_class", BYTE_CLASSES)
@pytest.mark.parametrize("reader_role", ["patient", "family_doctor"])
def test_flipped_byte_in_each_class_raises_integrity_error(
    emergency_envelope: SealedEnvelope,
    context: EnvelopeContext,
    byte_class: str,
    reader_role: str,
    request: pytest.FixtureRequest,
) -> None:
    reader: Wallet = request.getfixturevalue(reader_role)
    data = emergency_envelope.to_bytes()
    own_tag = _own_tag(emergency_envelope, reader, context)
    ranges = [r for r in layout(data)[byte_class] if data[r.start : r.stop] != own_tag]
    positions = {r.start for r in ranges if len(r)} | {r.stop - 1 for r in ranges if len(r)}
    assert positions
    for index in sorted(positions):
        with pytest.raises(IntegrityError):
            _open_tampered(flip(data, index), reader, context)


def test_every_single_byte_flip_is_detected(
    patient: Wallet, family_doctor: Wallet, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    from famchain.crypto.envelope import EmergencyShares

    sealed = seal(
        {"diagnosis": b"d" * 40, "past_history": b"p" * 20},
        [
            patient.encryption_public_key,
            Recipient(family_doctor.encryption_public_key, frozenset({"diagnosis"})),
        ],
        context,
        policy=CipherPolicy({"diagnosis": SM4_GCM}),
        emergency=EmergencyShares(
            [c.encryption_public_key for c in custodians[:2]], 2, frozenset({"diagnosis"})
        ),
    )
    data = sealed.to_bytes()
    own_tag = _own_tag(sealed, patient, context)
    own = range(data.index(own_tag), data.index(own_tag) + 16)
    for index in range(len(data)):
        # Only the reader's own tag (and the ephemeral key, which parsing refuses) can hide its entry.
        expected: tuple[type[Exception], ...] = (IntegrityError,)
        if index in own:
            expected = (IntegrityError, NotARecipientError)
        with pytest.raises(expected):
            _open_tampered(flip(data, index, 0x80), patient, context)


def test_tampering_never_returns_partial_plaintext(
    envelope: SealedEnvelope, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    data = envelope.to_bytes()
    target = next(s for s in reversed(envelope.sections) if s.name in DOCTOR_SECTIONS)
    at = data.index(target.ciphertext) + 1
    with pytest.raises(AuthenticationError):
        _open_tampered(flip(data, at), family_doctor, context)


# --- context binding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": CHAIN_ID + 1},
        {"registry": "0x" + "ab" * 20},
        {"salt": b"\x07" * 32},
        {"patient": "0x" + "cd" * 20},
        {"author": "0x" + "ef" * 20},
    ],
)
def test_open_with_other_context_raises_context_mismatch(
    envelope: SealedEnvelope, patient: Wallet, context: EnvelopeContext, change: dict[str, Any]
) -> None:
    other = dataclasses.replace(context, **change)
    with pytest.raises(ContextMismatchError):
        open_all(envelope, patient.private_key, other)


@pytest.mark.parametrize("field", ["author", "patient", "salt"])
def test_envelope_copied_under_another_context_fails_authentication(
    envelope: SealedEnvelope, patient: Wallet, stranger: Wallet, context: EnvelopeContext, field: str
) -> None:
    """A copier rewrites the stored context digest to claim the envelope for another author or patient."""
    value: Any = os.urandom(32) if field == "salt" else stranger.address
    other = dataclasses.replace(context, **{field: value})
    moved = SealedEnvelope.from_bytes(envelope.to_bytes().replace(context.digest, other.digest))
    with pytest.raises(AuthenticationError):
        open_all(moved, patient.private_key, other)


def test_section_moved_to_another_section_or_record_fails(patient: Wallet, context: EnvelopeContext) -> None:
    first = seal(SECTIONS, [patient.encryption_public_key], context)
    a, b = first.sections[0], first.sections[1]
    swapped = (dataclasses.replace(a, nonce=b.nonce, ciphertext=b.ciphertext), *first.sections[1:])
    with pytest.raises(IntegrityError):
        open_all(dataclasses.replace(first, sections=swapped), patient.private_key, context)
    other_ctx = dataclasses.replace(context, salt=os.urandom(32))
    second = seal(SECTIONS, [patient.encryption_public_key], other_ctx)
    grafted = (first.sections[0], *second.sections[1:])
    with pytest.raises(IntegrityError):
        open_all(dataclasses.replace(second, sections=grafted), patient.private_key, other_ctx)
