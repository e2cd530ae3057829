"""Hypothesis properties of the v2 parsers (envelope, bundle, share) and of seal/open."""

from __future__ import annotations

import contextlib
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famchain.crypto.aead import algorithms
from famchain.crypto.bundle import KeyBundle, OpenedBundle, open_bundle
from famchain.crypto.emergency import open_with_shares, release_shares
from famchain.crypto.envelope import (
    EmergencyShares,
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    Withheld,
    open_all,
    release_keys,
    seal,
)
from famchain.crypto.padding import is_size_class
from famchain.crypto.policy import CipherPolicy
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    FamchainError,
    InsufficientSharesError,
    IntegrityError,
    MalformedError,
    NotARecipientError,
)
from famchain.types import Address

PATIENT = Wallet(bytes.fromhex("11" * 32))
DOCTOR = Wallet(bytes.fromhex("22" * 32))
GRANTEE = Wallet(bytes.fromhex("33" * 32))
CUSTODIANS = [Wallet(bytes([0x40 + i]) * 32) for i in range(3)]
PHYSICIAN = Wallet(bytes.fromhex("77" * 32))
CONTEXT = EnvelopeContext(b"\x42" * 32, PATIENT.address, DOCTOR.address, 31337, Address("0x" + "ee" * 20))
SAMPLE = seal(
    {"diagnosis": b"flu", "past_history": b"none", "prescriptions": b"rest"},
    [PATIENT.encryption_public_key, Recipient(DOCTOR.encryption_public_key, frozenset({"diagnosis"}))],
    CONTEXT,
    policy=CipherPolicy({"diagnosis": "sm4-gcm", "past_history": "chacha20-poly1305"}),
    emergency=EmergencyShares([c.encryption_public_key for c in CUSTODIANS], 2, frozenset({"diagnosis"})),
)
SAMPLE_BYTES = SAMPLE.to_bytes()
BUNDLE_BYTES = release_keys(
    PATIENT.private_key, GRANTEE.encryption_public_key, [(SAMPLE, CONTEXT, ["diagnosis"])]
).to_bytes()
SHARE_BUNDLES = [
    release_shares(c.private_key, PHYSICIAN.encryption_public_key, [(SAMPLE, CONTEXT)]).to_bytes()
    for c in CUSTODIANS[:2]
]

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
def test_envelope_parser_on_random_bytes_raises_only_malformed(data: bytes) -> None:
    try:
        parsed = SealedEnvelope.from_bytes(data)
    except MalformedError:
        return
    assert parsed.to_bytes() == data


@FAST
@given(st.binary(max_size=200).map(lambda tail: b"FCEV\x02" + tail))
def test_envelope_parser_past_the_magic_raises_only_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedError):
        SealedEnvelope.from_bytes(data)


@FAST
@given(mutations(SAMPLE_BYTES))
def test_mutated_envelope_never_opens(data: bytes) -> None:
    if data == SAMPLE_BYTES:
        return
    try:
        parsed = SealedEnvelope.from_bytes(data)
    except MalformedError:
        return
    # whatever parses re-serializes to exactly the same bytes (canonical form) ...
    assert parsed.to_bytes() == data
    # ... and opens for nobody: readers, custodians, physicians
    for reader in (PATIENT, DOCTOR):
        try:
            open_all(parsed, reader.private_key, CONTEXT)
        except (IntegrityError, NotARecipientError):
            continue
        raise AssertionError("a mutated envelope opened")
    bundles = [KeyBundle.from_bytes(b) for b in SHARE_BUNDLES]
    try:
        open_with_shares(parsed, PHYSICIAN.private_key, CONTEXT, bundles)
    except (IntegrityError, NotARecipientError, InsufficientSharesError):
        return
    raise AssertionError("a mutated envelope opened with shares")


@FAST
@given(st.binary(max_size=400))
def test_bundle_parser_on_random_bytes_raises_only_malformed(data: bytes) -> None:
    try:
        parsed = KeyBundle.from_bytes(data)
    except MalformedError:
        return
    assert parsed.to_bytes() == data


@FAST
@given(st.binary(max_size=400))
def test_bundle_body_parser_on_random_bytes_raises_only_malformed(data: bytes) -> None:
    try:
        parsed = OpenedBundle.from_body(data)
    except MalformedError:
        return
    assert parsed.body() == data


@FAST
@given(mutations(BUNDLE_BYTES))
def test_mutated_bundle_never_opens(data: bytes) -> None:
    if data == BUNDLE_BYTES:
        return
    try:
        bundle = KeyBundle.from_bytes(data)
    except MalformedError:
        return
    assert bundle.to_bytes() == data
    try:
        open_bundle(bundle, GRANTEE.private_key)
    except IntegrityError:
        pass
    else:
        raise AssertionError("a mutated bundle opened")
    try:
        open_all(SAMPLE, GRANTEE.private_key, CONTEXT, bundles=[bundle])
    except NotARecipientError:
        return
    raise AssertionError("a mutated bundle released a key")


section_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
records = st.dictionaries(section_names, st.binary(max_size=700), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(records, st.data())
def test_seal_open_roundtrip_with_policy_and_emergency(record: dict[str, bytes], data: st.DataObject) -> None:
    names = sorted(record)
    doctor_sections = data.draw(st.frozensets(st.sampled_from(names), min_size=1))
    policy = CipherPolicy(
        data.draw(st.dictionaries(st.sampled_from(names), st.sampled_from(algorithms()))),
        default=data.draw(st.sampled_from(algorithms())),
    )
    emergency_sections = data.draw(st.frozensets(st.sampled_from(names)))
    threshold = data.draw(st.integers(1, 3))
    context = EnvelopeContext(
        os.urandom(32), PATIENT.address, DOCTOR.address, data.draw(st.integers(1, 2**64)), CONTEXT.registry
    )
    sealed = seal(
        record,
        [PATIENT.encryption_public_key, Recipient(DOCTOR.encryption_public_key, doctor_sections)],
        context,
        policy=policy,
        emergency=EmergencyShares(
            [c.encryption_public_key for c in CUSTODIANS], threshold, emergency_sections
        ),
    )
    raw = sealed.to_bytes()
    parsed = SealedEnvelope.from_bytes(raw)
    assert parsed.to_bytes() == raw
    assert all(is_size_class(len(s.ciphertext) - 16) for s in parsed.sections)
    assert {s.name: s.algorithm for s in parsed.sections} == {n: policy.algorithm_for(n) for n in names}
    assert open_all(parsed, PATIENT.private_key, context) == dict(sorted(record.items()))
    opened = open_all(parsed, DOCTOR.private_key, context)
    assert opened == {n: record[n] if n in doctor_sections else Withheld(n) for n in names}
    if emergency_sections:
        bundles = [
            release_shares(c.private_key, PHYSICIAN.encryption_public_key, [(parsed, context)])
            for c in CUSTODIANS[:threshold]
        ]
        emergency = open_with_shares(parsed, PHYSICIAN.private_key, context, bundles)
        assert emergency == {n: record[n] if n in emergency_sections else Withheld(n) for n in names}


def test_every_parse_error_is_a_famchain_error() -> None:
    assert issubclass(MalformedError, IntegrityError)
    assert issubclass(IntegrityError, FamchainError)
