"""The submit / read / share pipeline against real anvil and the real store process."""

from __future__ import annotations

from dataclasses import replace

import pytest
from _chain_support import PROFILE, World

from famchain.chain.history import History
from famchain.crypto.envelope import SealedEnvelope
from famchain.errors import AccessDeniedError, ContractRevertError, InputError
from famchain.records import consent, pipeline
from famchain.records.model import parse_record
from famchain.records.outbox import ANCHORED, AWAITING_APPROVAL, STORED
from famchain.records.sections import ALL_SECTIONS, Action, Purpose, Section, section_mask

VISIT = {
    "sections": {
        "present_illness": "Headache for two days.",
        "diagnosis": [{"text": "Tension headache", "code": "G44.2"}],
        "prescriptions": [{"drug": "Ibuprofen 400 mg", "days": 3}],
    }
}
TWO_SECTIONS = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)


def _sealed_for(world: World, cid: str) -> set[str]:
    sealed = SealedEnvelope.from_bytes(world.store.get(cid))
    return {a for s in sealed.section_names for a in sealed.recipients_of(s)}


def _expires(world: World, days: int = 30) -> int:
    return world.fc.latest_timestamp() + days * 86400


def test_submit_anchors_once_and_the_author_and_patient_read_it(world: World) -> None:
    entry, report = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))

    assert [e.record_id for e in report.anchored] == [entry.record_id]
    card = History(world.fc).card(world.patient.address)
    assert [r.record_id for r in card] == [entry.record_bytes]
    assert card[0].author == world.family_doctor.address
    for reader in (world.family_doctor, world.patient):
        result = pipeline.read_record(reader, entry.record_bytes)
        assert result.sections == VISIT["sections"]
        assert result.withheld == {}
    assert world.family_doctor.outbox.pending() == []


def test_record_is_sealed_only_for_parties_entitled_at_that_moment(world: World) -> None:
    consent.grant(
        world.patient,
        world.insurer.address,
        TWO_SECTIONS,
        Action.READ,
        Purpose.INSURANCE_CLAIM,
        _expires(world),
    )

    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))

    sealed = SealedEnvelope.from_bytes(world.store.get(entry.cid))
    assert world.insurer.address in sealed.recipients_of("diagnosis")
    assert world.insurer.address not in sealed.recipients_of("present_illness")
    assert world.stranger.address not in _sealed_for(world, entry.cid)


def test_revoked_grantee_gets_no_key_to_new_records_and_loses_old_ones(world: World) -> None:
    consent.grant(
        world.patient,
        world.insurer.address,
        TWO_SECTIONS,
        Action.READ,
        Purpose.INSURANCE_CLAIM,
        _expires(world),
    )
    old, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    assert set(pipeline.read_record(world.insurer, old.record_bytes).sections) == {
        "diagnosis",
        "prescriptions",
    }

    world.patient.sender.transact(world.fc.consents.functions.revoke(world.insurer.address))
    new, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))

    assert world.insurer.address not in _sealed_for(world, new.cid)
    with pytest.raises(AccessDeniedError, match="no consent"):
        pipeline.read_record(world.insurer, new.record_bytes)
    with pytest.raises(AccessDeniedError, match="revoked or has expired"):
        pipeline.read_record(world.insurer, old.record_bytes)


def test_terminated_family_doctor_is_wrapped_into_no_new_record(world: World) -> None:
    world.patient.sender.transact(world.fc.residents.functions.terminateAgreement(world.patient.address))

    with pytest.raises(AccessDeniedError, match="no active agreement or consent"):
        pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    consent.grant(
        world.patient,
        world.specialist.address,
        ALL_SECTIONS,
        Action.READ | Action.APPEND,
        Purpose.REFERRAL,
        _expires(world),
    )
    entry, _ = pipeline.submit(world.specialist, world.patient.address, parse_record(VISIT))

    assert world.family_doctor.address not in _sealed_for(world, entry.cid)


def test_grant_releases_existing_records_to_the_grantee(world: World) -> None:
    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    with pytest.raises(AccessDeniedError):
        pipeline.read_record(world.specialist, entry.record_bytes)

    bundle = consent.grant(
        world.patient, world.specialist.address, ALL_SECTIONS, Action.READ, Purpose.REFERRAL, _expires(world)
    )

    assert bundle is not None
    assert pipeline.read_record(world.specialist, entry.record_bytes).sections == VISIT["sections"]
    releases = [
        e for e in History(world.fc).patient_events(world.patient.address) if e.name == "KeysReleased"
    ]
    assert releases[-1].args["grantee"] == world.specialist.address


def test_grantee_scoped_to_some_sections_cannot_decrypt_the_others(world: World) -> None:
    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    consent.grant(
        world.patient,
        world.insurer.address,
        TWO_SECTIONS,
        Action.READ,
        Purpose.INSURANCE_CLAIM,
        _expires(world),
    )

    result = pipeline.read_record(world.insurer, entry.record_bytes)

    assert set(result.sections) == {"diagnosis", "prescriptions"}
    assert result.withheld == {"present_illness": "no key released to this reader"}


def test_reader_without_consent_is_refused(world: World) -> None:
    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))

    with pytest.raises(AccessDeniedError, match="may read no section"):
        pipeline.read_record(world.stranger, entry.record_bytes)


def test_unknown_record_is_an_input_error(world: World) -> None:
    with pytest.raises(InputError, match="no record 0x11"):
        pipeline.read_record(world.patient, b"\x11" * 32)


def test_unauthorized_author_is_refused_before_anything_is_queued(world: World) -> None:
    with pytest.raises(AccessDeniedError):
        pipeline.submit(world.stranger, world.patient.address, parse_record(VISIT))

    assert world.stranger.outbox.pending() == []


def test_contract_refuses_an_anchor_by_an_unauthorized_author(world: World) -> None:
    entry = pipeline.seal_record(world.stranger, world.patient.address, parse_record(VISIT), check=False)

    report = pipeline.flush(world.stranger)

    assert [e.record_id for e, _ in report.failed] == [entry.record_id]
    assert "unauthorized" in report.failed[0][1]
    assert History(world.fc).card(world.patient.address) == []


def test_batch_flush_anchors_many_records_in_one_transaction(world: World) -> None:
    entries = [
        pipeline.seal_record(world.family_doctor, world.patient.address, parse_record(VISIT))
        for _ in range(7)
    ]

    report = pipeline.flush(world.family_doctor)

    assert report.transactions == 1
    assert sorted(e.record_id for e in report.anchored) == sorted(e.record_id for e in entries)
    card = History(world.fc).card(world.patient.address)
    assert [r.record_id for r in card] == [e.record_bytes for e in entries]


def test_flush_after_success_anchors_nothing_twice(world: World) -> None:
    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    # Simulate a client that lost track of the outcome: put the entry back as if it were still pending.
    done = world.family_doctor.outbox.get(entry.record_id)
    assert done is not None
    assert done.state == ANCHORED
    world.family_doctor.outbox.add(replace(done, state=STORED), world.store.get(entry.cid))

    report = pipeline.flush(world.family_doctor)

    assert [e.record_id for e in report.already] == [entry.record_id]
    assert report.transactions == 0
    assert len(History(world.fc).card(world.patient.address)) == 1


def test_contract_rejects_the_same_anchor_twice_with_its_own_error(world: World) -> None:
    entry = pipeline.seal_record(world.family_doctor, world.patient.address, parse_record(VISIT))
    pipeline.flush(world.family_doctor)
    digest_codec = pipeline.digest_and_codec(entry.cid)
    anchor = (entry.record_bytes, entry.previous_bytes, digest_codec[0], entry.sections, digest_codec[1])

    with pytest.raises(ContractRevertError) as info:
        world.family_doctor.sender.transact(
            world.fc.records.functions.anchor(world.patient.address, b"\x00" * 24, anchor)
        )

    assert info.value.error_name == "RecordRegistryAlreadyAnchored"


def test_update_waits_for_the_patients_signature(world: World) -> None:
    first, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    amended = parse_record({"sections": {"diagnosis": [{"text": "Migraine", "code": "G43.9"}]}})

    entry, request = pipeline.prepare_update(world.family_doctor, first.record_bytes, amended)
    report = pipeline.flush(world.family_doctor)
    assert [e.record_id for e in report.waiting_approval] == [entry.record_id]
    assert world.family_doctor.outbox.get(entry.record_id).state == AWAITING_APPROVAL  # type: ignore[union-attr]

    with pytest.raises(InputError, match="must be signed by the patient"):
        pipeline.approve_request(world.family_doctor.private_key, request)
    signed = pipeline.approve_request(world.patient.private_key, request)
    pipeline.apply_approval(world.family_doctor, signed)
    report = pipeline.flush(world.family_doctor)

    assert [e.record_id for e in report.anchored] == [entry.record_id]
    card = History(world.fc).card(world.patient.address)
    assert [r.record_id for r in card] == [first.record_bytes, entry.record_bytes]
    assert card[1].previous == first.record_bytes
    assert pipeline.read_record(world.patient, first.record_bytes).sections == VISIT["sections"]


def test_profile_is_readable_by_patient_and_family_doctor_only(world: World) -> None:
    assert pipeline.read_profile(world.patient, world.patient.address) == PROFILE
    assert pipeline.read_profile(world.family_doctor, world.patient.address) == PROFILE
    with pytest.raises(AccessDeniedError):
        pipeline.read_profile(world.specialist, world.patient.address)


def test_section_mask_names_unknown_sections() -> None:
    assert section_mask(["diagnosis,prescriptions"]) == TWO_SECTIONS
    with pytest.raises(InputError, match="unknown section 'dna'"):
        section_mask(["dna"])


def test_unbatched_flush_pipelines_one_transaction_per_record_in_order(world: World) -> None:
    entries = [
        pipeline.seal_record(world.family_doctor, world.patient.address, parse_record(VISIT))
        for _ in range(6)
    ]

    report = pipeline.flush(world.family_doctor, batch=False)

    assert report.transactions == 6
    assert len({e.tx_hash for e in report.anchored}) == 6
    card = History(world.fc).card(world.patient.address)
    assert [r.record_id for r in card] == [e.record_bytes for e in entries]


def test_pipelined_anchor_that_reverts_is_retried_on_the_real_head(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [
        pipeline.seal_record(world.family_doctor, world.patient.address, parse_record(VISIT))
        for _ in range(3)
    ]
    # Chain the pipelined heads wrongly: every anchor after the first names a head the card never has.
    monkeypatch.setattr(pipeline, "next_head", lambda head, leaf: b"\x5a" * 24)

    report = pipeline.flush(world.family_doctor, batch=False)

    assert sorted(e.record_id for e in report.anchored) == sorted(e.record_id for e in entries)
    card = [r.record_id for r in History(world.fc).card(world.patient.address)]
    assert sorted(card) == sorted(e.record_bytes for e in entries)
    assert len(card) == 3


def test_drop_removes_a_record_that_can_never_be_anchored(world: World) -> None:
    entry = pipeline.seal_record(world.stranger, world.patient.address, parse_record(VISIT), check=False)
    assert pipeline.flush(world.stranger).failed

    dropped = pipeline.drop(world.stranger, entry.record_id)

    assert dropped.record_id == entry.record_id
    assert world.stranger.outbox.pending() == []
    assert not world.stranger.outbox.envelope_path(entry.record_id).exists()
    with pytest.raises(InputError, match="no pending record"):
        pipeline.drop(world.stranger, entry.record_id)


def test_drop_of_a_record_already_on_the_card_marks_it_done(world: World) -> None:
    entry, _ = pipeline.submit(world.family_doctor, world.patient.address, parse_record(VISIT))
    done = world.family_doctor.outbox.get(entry.record_id)
    assert done is not None
    world.family_doctor.outbox.add(replace(done, state=STORED), world.store.get(entry.cid))

    kept = pipeline.drop(world.family_doctor, entry.record_id)

    assert kept.state == ANCHORED
    assert world.family_doctor.outbox.pending() == []
    assert len(History(world.fc).card(world.patient.address)) == 1
