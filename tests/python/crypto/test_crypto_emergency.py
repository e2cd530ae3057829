"""Emergency shares: custodians open their shares, re-wrap them for a physician, who needs t of them."""

from __future__ import annotations

import dataclasses
import os

import pytest
from _crypto_support import DOCTOR_SECTIONS, EMERGENCY_SECTIONS, SECTIONS, flip

from famchain.crypto.bundle import EntryKind, KeyBundle, OpenedBundle, open_bundle
from famchain.crypto.emergency import open_emergency_shares, open_with_shares, release_shares
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
from famchain.crypto.shamir import Share, combine
from famchain.crypto.wallet import Wallet
from famchain.errors import (
    InputError,
    InsufficientSharesError,
    IntegrityError,
    KeyCommitmentError,
    NotARecipientError,
)


def _bundles(
    envelope: SealedEnvelope, context: EnvelopeContext, custodians: list[Wallet], to: Wallet
) -> list[KeyBundle]:
    return [
        release_shares(c.private_key, to.encryption_public_key, [(envelope, context)]) for c in custodians
    ]


def test_block_records_threshold_count_and_sections(emergency_envelope: SealedEnvelope) -> None:
    parsed = SealedEnvelope.from_bytes(emergency_envelope.to_bytes())
    assert parsed.emergency is not None
    assert (parsed.emergency.threshold, parsed.emergency.custodians) == (2, 3)
    assert parsed.emergency_sections == tuple(sorted(EMERGENCY_SECTIONS))
    assert len(parsed.custodians) == 3


def test_each_custodian_opens_its_own_shares(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    opened = [open_emergency_shares(emergency_envelope, c.private_key, context) for c in custodians]
    assert [next(iter(o.values())).x for o in opened] == [1, 2, 3]  # the order of the custodian list
    for name in EMERGENCY_SECTIONS:
        assert {o[name].threshold for o in opened} == {2}
        key = combine([opened[0][name], opened[2][name]])
        assert combine([opened[1][name], opened[2][name]]) == key


@pytest.mark.parametrize("chosen", [(0, 1), (0, 2), (1, 2), (0, 1, 2)])
def test_physician_with_t_bundles_opens_exactly_the_emergency_sections(
    emergency_envelope: SealedEnvelope,
    custodians: list[Wallet],
    physician: Wallet,
    context: EnvelopeContext,
    chosen: tuple[int, ...],
) -> None:
    bundles = _bundles(emergency_envelope, context, [custodians[i] for i in chosen], physician)
    parsed = [KeyBundle.from_bytes(b.to_bytes()) for b in bundles]
    opened = open_with_shares(emergency_envelope, physician.private_key, context, parsed)
    for name, value in opened.items():
        assert value == (SECTIONS[name] if name in EMERGENCY_SECTIONS else Withheld(name))


def test_fewer_than_t_bundles_open_nothing(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    one = _bundles(emergency_envelope, context, custodians[:1], physician)
    with pytest.raises(InsufficientSharesError, match="1 of the 2 shares") as info:
        open_with_shares(emergency_envelope, physician.private_key, context, one)
    assert (info.value.have, info.value.need) == (1, 2)
    with pytest.raises(InsufficientSharesError):
        open_with_shares(emergency_envelope, physician.private_key, context, [])
    # the same custodian's bundle twice is still one share
    with pytest.raises(InsufficientSharesError):
        open_with_shares(emergency_envelope, physician.private_key, context, one + one)


def test_share_bundles_do_not_open_sections_through_open_all(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    bundles = _bundles(emergency_envelope, context, custodians, physician)
    with pytest.raises(NotARecipientError):
        open_all(emergency_envelope, physician.private_key, context, bundles=bundles)


def test_share_bundles_for_another_physician_do_not_count(
    emergency_envelope: SealedEnvelope,
    custodians: list[Wallet],
    physician: Wallet,
    stranger: Wallet,
    context: EnvelopeContext,
) -> None:
    mixed = _bundles(emergency_envelope, context, custodians[:1], physician)
    mixed += _bundles(emergency_envelope, context, custodians[1:2], stranger)
    with pytest.raises(InsufficientSharesError):
        open_with_shares(emergency_envelope, physician.private_key, context, mixed)


def test_share_bundle_entry_kind_and_contents(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    bundle = release_shares(
        custodians[1].private_key, physician.encryption_public_key, [(emergency_envelope, context)]
    )
    (entry,) = open_bundle(bundle, physician.private_key).entries
    assert entry.kind is EntryKind.SHARES
    assert entry.sections == tuple(sorted(EMERGENCY_SECTIONS))
    assert {s.x for _, s in entry.shares} == {2}


def test_a_lying_custodian_is_caught(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    honest = [
        open_bundle(b, physician.private_key)
        for b in _bundles(emergency_envelope, context, custodians, physician)
    ]
    entry = honest[0].entries[0]
    bent = tuple((n, Share(s.x, s.threshold, os.urandom(32))) for n, s in entry.shares)
    liar = OpenedBundle((dataclasses.replace(entry, shares=bent),))
    # exactly t shares, one of them wrong: the combined key fails its commitment, nothing opens
    with pytest.raises(KeyCommitmentError):
        open_with_shares(emergency_envelope, physician.private_key, context, [liar, honest[1]])
    # t honest custodians besides the liar: the liar is outvoted, the sealed plaintext opens (never another)
    opened = open_with_shares(
        emergency_envelope, physician.private_key, context, [liar, honest[1], honest[2]]
    )
    assert {n: v for n, v in opened.items() if not isinstance(v, Withheld)} == {
        n: SECTIONS[n] for n in EMERGENCY_SECTIONS
    }


def test_a_liar_claiming_an_honest_custodians_x_does_not_block_it(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    honest = [
        open_bundle(b, physician.private_key)
        for b in _bundles(emergency_envelope, context, custodians[:2], physician)
    ]
    entry = honest[0].entries[0]
    twin = tuple((n, Share(s.x, s.threshold, os.urandom(32))) for n, s in entry.shares)  # same x, other y
    liar = OpenedBundle((dataclasses.replace(entry, shares=twin),))
    opened = open_with_shares(emergency_envelope, physician.private_key, context, [liar, *honest])
    assert opened["diagnosis"] == SECTIONS["diagnosis"]
    with pytest.raises(KeyCommitmentError):
        open_with_shares(emergency_envelope, physician.private_key, context, [liar, honest[1]])


def test_an_entry_for_a_record_the_custodian_holds_no_share_of_is_ignored(
    emergency_envelope: SealedEnvelope,
    custodians: list[Wallet],
    physician: Wallet,
    stranger: Wallet,
    context: EnvelopeContext,
) -> None:
    """A party outside the record's custodian set makes up an entry (random MAC key and shares): it is ignored,
    not counted towards t, and does not stop the honest custodians' shares from opening the record."""
    honest = [
        open_bundle(b, physician.private_key)
        for b in _bundles(emergency_envelope, context, custodians[:2], physician)
    ]
    entry = honest[0].entries[0]
    forged = dataclasses.replace(
        entry,
        mac_key=os.urandom(32),
        shares=tuple((n, Share(3, s.threshold, os.urandom(32))) for n, s in entry.shares),
    )
    outsider = OpenedBundle((forged,))
    with pytest.raises(InsufficientSharesError) as info:
        open_with_shares(emergency_envelope, physician.private_key, context, [outsider, honest[1]])
    assert info.value.have == 1  # the forged entry did not count
    opened = open_with_shares(emergency_envelope, physician.private_key, context, [outsider, *honest])
    assert opened["prescriptions"] == SECTIONS["prescriptions"]


def test_release_and_open_only_the_sections_asked_for(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    bundles = [
        release_shares(
            c.private_key,
            physician.encryption_public_key,
            [(emergency_envelope, context)],
            sections={"diagnosis"},
        )
        for c in custodians[:2]
    ]
    assert {e.sections for b in bundles for e in open_bundle(b, physician.private_key).entries} == {
        ("diagnosis",)
    }
    opened = open_with_shares(
        emergency_envelope, physician.private_key, context, bundles, sections={"diagnosis"}
    )
    assert {n for n, v in opened.items() if not isinstance(v, Withheld)} == {"diagnosis"}
    # shares of diagnosis only do not open prescriptions, whatever the caller asks
    with pytest.raises(InsufficientSharesError):
        open_with_shares(emergency_envelope, physician.private_key, context, bundles)
    with pytest.raises(NotARecipientError):
        open_with_shares(
            emergency_envelope, physician.private_key, context, bundles, sections={"past_history"}
        )
    with pytest.raises(InputError):  # no section of the envelope's block in the release: nothing to release
        release_shares(
            custodians[0].private_key,
            physician.encryption_public_key,
            [(emergency_envelope, context)],
            sections={"past_history"},
        )


def test_share_with_wrong_threshold_is_not_counted(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    honest = [
        open_bundle(b, physician.private_key)
        for b in _bundles(emergency_envelope, context, custodians, physician)
    ]
    entry = honest[0].entries[0]
    bent = tuple((n, Share(s.x, 1, s.y)) for n, s in entry.shares)
    with pytest.raises(InsufficientSharesError):  # a share of another threshold does not count
        open_with_shares(
            emergency_envelope,
            physician.private_key,
            context,
            [OpenedBundle((dataclasses.replace(entry, shares=bent),))],
        )


def test_non_custodians_get_no_shares(
    emergency_envelope: SealedEnvelope,
    envelope: SealedEnvelope,
    patient: Wallet,
    custodians: list[Wallet],
    context: EnvelopeContext,
) -> None:
    with pytest.raises(NotARecipientError):
        open_emergency_shares(emergency_envelope, patient.private_key, context)
    with pytest.raises(NotARecipientError, match="has none"):
        open_emergency_shares(envelope, custodians[0].private_key, context)
    with pytest.raises(NotARecipientError, match="has none"):
        open_with_shares(envelope, patient.private_key, context, [])


def test_recipients_still_read_normally(
    emergency_envelope: SealedEnvelope, patient: Wallet, family_doctor: Wallet, context: EnvelopeContext
) -> None:
    assert open_all(emergency_envelope, patient.private_key, context) == SECTIONS
    opened = open_all(emergency_envelope, family_doctor.private_key, context)
    assert {n for n, v in opened.items() if not isinstance(v, Withheld)} == DOCTOR_SECTIONS


def test_a_custodian_is_not_a_reader(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    with pytest.raises(NotARecipientError):
        open_all(emergency_envelope, custodians[0].private_key, context)


def test_emergency_sections_absent_from_the_record_write_no_block(
    patient: Wallet, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    sealed = seal(
        {"past_history": b"x"},
        [patient.encryption_public_key],
        context,
        emergency=EmergencyShares([c.encryption_public_key for c in custodians], 2, frozenset({"diagnosis"})),
    )
    assert sealed.emergency is None
    assert sealed.custodians == ()


@pytest.mark.parametrize(
    ("keys", "threshold"),
    [(0, 1), (3, 0), (3, 4), (3, True)],
)
def test_seal_rejects_bad_emergency_parameters(
    patient: Wallet, custodians: list[Wallet], context: EnvelopeContext, keys: int, threshold: int
) -> None:
    publics = [c.encryption_public_key for c in custodians][:keys]
    with pytest.raises(InputError):
        seal(
            SECTIONS,
            [patient.encryption_public_key],
            context,
            emergency=EmergencyShares(publics, threshold, EMERGENCY_SECTIONS),
        )


def test_duplicate_custodian_is_refused(
    patient: Wallet, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    pub = custodians[0].encryption_public_key
    with pytest.raises(InputError, match="twice"):
        seal(
            SECTIONS,
            [patient.encryption_public_key],
            context,
            emergency=EmergencyShares([pub, pub], 1, EMERGENCY_SECTIONS),
        )


def test_mutated_share_bundle_never_opens(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    bundles = _bundles(emergency_envelope, context, custodians[:2], physician)
    data = bundles[0].to_bytes()
    for index in range(0, len(data), 7):
        with pytest.raises(IntegrityError):
            open_bundle(KeyBundle.from_bytes(flip(data, index)), physician.private_key)
        try:
            tampered = KeyBundle.from_bytes(flip(data, index))
        except IntegrityError:
            continue
        # the altered bundle does not open for the physician, so only one share is left
        with pytest.raises(InsufficientSharesError):
            open_with_shares(emergency_envelope, physician.private_key, context, [tampered, bundles[1]])


def test_release_keys_and_shares_mix_in_one_envelope(
    emergency_envelope: SealedEnvelope,
    patient: Wallet,
    custodians: list[Wallet],
    physician: Wallet,
    context: EnvelopeContext,
) -> None:
    keys = release_keys(
        patient.private_key,
        physician.encryption_public_key,
        [(emergency_envelope, context, ["past_history"])],
    )
    shares = _bundles(emergency_envelope, context, custodians[:2], physician)
    assert (
        open_all(emergency_envelope, physician.private_key, context, bundles=[keys, *shares])["past_history"]
        == (SECTIONS["past_history"])
    )
    assert (
        open_with_shares(emergency_envelope, physician.private_key, context, [keys, *shares])["diagnosis"]
        == (SECTIONS["diagnosis"])
    )


def test_tampered_envelope_fails_for_custodian(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    data = emergency_envelope.to_bytes()
    with pytest.raises(IntegrityError):
        open_emergency_shares(
            SealedEnvelope.from_bytes(flip(data, len(data) - 1)), custodians[0].private_key, context
        )


def test_recipient_flag_for_custodian_section(
    patient: Wallet, custodians: list[Wallet], context: EnvelopeContext
) -> None:
    sealed = seal(
        {"diagnosis": b"d"},
        [Recipient(patient.encryption_public_key)],
        context,
        emergency=EmergencyShares([custodians[0].encryption_public_key], 1, frozenset({"diagnosis"})),
    )
    physician = Wallet(os.urandom(32))
    bundle = release_shares(custodians[0].private_key, physician.encryption_public_key, [(sealed, context)])
    assert open_with_shares(sealed, physician.private_key, context, [bundle]) == {"diagnosis": b"d"}


def test_every_mutated_share_byte_is_refused(
    emergency_envelope: SealedEnvelope, custodians: list[Wallet], physician: Wallet, context: EnvelopeContext
) -> None:
    """Flip each byte of one released share: the parser, the consistency checks or the key commitment refuse."""
    opened = [
        open_bundle(b, physician.private_key)
        for b in _bundles(emergency_envelope, context, custodians[:2], physician)
    ]
    entry = opened[0].entries[0]
    name, share = entry.shares[0]
    raw = share.to_bytes()
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            try:
                bent = Share.from_bytes(flip(raw, index, bit))
            except IntegrityError:
                continue
            shares = tuple((n, bent if n == name else s) for n, s in entry.shares)
            liar = OpenedBundle((dataclasses.replace(entry, shares=shares),))
            with pytest.raises((IntegrityError, InsufficientSharesError)):
                open_with_shares(emergency_envelope, physician.private_key, context, [liar, opened[1]])
