"""Submit, read, share and amend records through the client, against real anvil and the real store process;
each outcome judged from the chain (the verified card, the events) and the store (who a record is sealed for)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from _world import PROFILE, World
from famchain import (
    ALL_SECTIONS,
    AccessDeniedError,
    Action,
    ContractRevertError,
    InputError,
    OutboxState,
    Purpose,
    RecordId,
    Section,
    Strategy,
    UnknownRecordError,
    parse_record,
)
from famchain.chain.structs import ZERO_HEAD, Card
from famchain.records.anchoring import anchor_of
from famchain.records.sections import section_mask

VISIT = {
    "sections": {
        "present_illness": "Headache for two days.",
        "diagnosis": [{"text": "Tension headache", "code": "G44.2"}],
        "prescriptions": [{"drug": "Ibuprofen 400 mg", "days": 3}],
    }
}
TWO_SECTIONS = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)


def _sealed_for(world: World, record_id: RecordId) -> set[str]:
    """The parties whose keys open the record's envelope (judged from the store with every role's key)."""
    return set(world.opens(record_id))


def _expires(world: World, days: int = 30) -> int:
    return world.patient.now() + days * 86400


def _card(world: World) -> list[RecordId]:
    return [r.record_id for r in world.chain.records.card(world.patient.address)]


def _submit(world: World) -> RecordId:
    return world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id


def test_submit_anchors_once_and_the_author_and_patient_read_it(world: World) -> None:
    submitted = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))

    assert [e.record_id for e in submitted.report.anchored] == [submitted.record_id]
    assert submitted.entry.state is OutboxState.ANCHORED
    card = world.chain.records.card(world.patient.address)
    assert [r.record_id for r in card] == [submitted.record_id]
    assert card[0].author == world.family_doctor.address
    for reader in (world.family_doctor, world.patient):
        result = reader.records.read(submitted.record_id)
        assert result.sections == VISIT["sections"]
        assert result.withheld == {}
    assert world.family_doctor.records.pending() == []


def test_record_is_sealed_only_for_parties_entitled_at_that_moment(world: World) -> None:
    world.patient.consents.grant(
        world.insurer.address, TWO_SECTIONS, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )

    submitted = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))

    opens = world.opens(submitted.record_id)
    assert opens[world.insurer.address] == {"diagnosis", "prescriptions"}
    assert opens[world.patient.address] == opens[world.family_doctor.address] == set(VISIT["sections"])
    assert world.stranger.address not in opens
    # The outbox keeps whom it wrapped (the stored envelope names nobody).
    assert set(submitted.entry.recipients) == set(opens)


def test_revoked_grantee_gets_no_key_to_new_records_and_loses_old_ones(world: World) -> None:
    world.patient.consents.grant(
        world.insurer.address, TWO_SECTIONS, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )
    old = _submit(world)
    assert set(world.insurer.records.read(old).sections) == {"diagnosis", "prescriptions"}

    world.patient.consents.revoke(world.insurer.address)
    new = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))

    assert world.insurer.address not in _sealed_for(world, new.record_id)
    with pytest.raises(AccessDeniedError, match="no consent"):
        world.insurer.records.read(new.record_id)
    with pytest.raises(AccessDeniedError, match="revoked or has expired"):
        world.insurer.records.read(old)


def test_terminated_family_doctor_is_wrapped_into_no_new_record(world: World) -> None:
    world.patient.agreements.terminate()

    with pytest.raises(AccessDeniedError, match="no active agreement or consent"):
        _submit(world)
    world.patient.consents.grant(
        world.specialist.address,
        ALL_SECTIONS,
        actions=Action.READ | Action.APPEND,
        purpose=Purpose.REFERRAL,
        expires_at=_expires(world),
    )
    submitted = world.specialist.records.submit(world.patient.address, parse_record(VISIT))

    assert world.family_doctor.address not in _sealed_for(world, submitted.record_id)


def test_grant_releases_existing_records_to_the_grantee(world: World) -> None:
    record = _submit(world)
    with pytest.raises(AccessDeniedError):
        world.specialist.records.read(record)

    granted = world.patient.consents.grant(
        world.specialist.address, ALL_SECTIONS, purpose=Purpose.REFERRAL, expires_at=_expires(world)
    )

    assert granted.release.bundle_cid is not None
    assert world.specialist.records.read(record).sections == VISIT["sections"]
    # v2: the grant itself announces the bundle (one transaction), so the patient is the releaser on record.
    (event,) = [e for e in world.chain.audit.events(world.patient.address) if e.name == "ConsentGranted"]
    assert event.args["grantee"] == world.specialist.address
    digest, codec = granted.release.digest_and_codec
    assert (bytes(event.args["bundleDigest"]), event.args["bundleCodec"]) == (digest, codec)
    assert world.store.has(granted.release.bundle_cid)


def test_grantee_scoped_to_some_sections_cannot_decrypt_the_others(world: World) -> None:
    record = _submit(world)
    world.patient.consents.grant(
        world.insurer.address, TWO_SECTIONS, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )

    result = world.insurer.records.read(record)

    assert set(result.sections) == {"diagnosis", "prescriptions"}
    assert result.withheld == {"present_illness": "no key released to this reader"}


def test_reader_without_consent_is_refused(world: World) -> None:
    record = _submit(world)

    with pytest.raises(AccessDeniedError, match="may read no section"):
        world.stranger.records.read(record)


def test_unknown_record_is_an_input_error(world: World) -> None:
    with pytest.raises(UnknownRecordError, match="no record 0x11") as info:
        world.patient.records.read(RecordId(b"\x11" * 32))
    assert isinstance(info.value, InputError)


def test_unauthorized_author_is_refused_before_anything_is_queued(world: World) -> None:
    with pytest.raises(AccessDeniedError):
        world.stranger.records.submit(world.patient.address, parse_record(VISIT))

    assert world.stranger.records.pending() == []


def test_contract_refuses_an_anchor_by_an_unauthorized_author(world: World) -> None:
    entry = world.stranger.records.seal(world.patient.address, parse_record(VISIT), check=False)

    report = world.stranger.records.flush()

    assert [f.entry.record_id for f in report.failed] == [entry.record_id]
    assert isinstance(report.failed[0].error, ContractRevertError)
    assert report.failed[0].error.error_name == "RecordRegistryUnauthorized"
    assert "may not add these sections to the card of" in str(report.failed[0].error)
    assert _card(world) == []


def test_batch_flush_anchors_many_records_in_one_transaction(world: World) -> None:
    entries = [world.family_doctor.records.seal(world.patient.address, parse_record(VISIT)) for _ in range(7)]

    report = world.family_doctor.records.flush()

    assert report.transactions == 1
    assert sorted(e.record_id for e in report.anchored) == sorted(e.record_id for e in entries)
    assert _card(world) == [e.record_id for e in entries]


def test_flush_after_success_anchors_nothing_twice(world: World) -> None:
    record = _submit(world)
    # Simulate a client that lost track of the outcome: put the entry back as if it were still pending.
    outbox = world.family_doctor.actor.outbox
    done = outbox.get(record)
    assert done is not None
    assert done.state is OutboxState.ANCHORED
    outbox.add(replace(done, state=OutboxState.STORED), world.store.get(done.cid))

    report = world.family_doctor.records.flush()

    assert [e.record_id for e in report.already] == [record]
    assert report.transactions == 0
    assert len(_card(world)) == 1


@pytest.mark.parametrize(
    ("delay", "error"),
    [(0, "RecordRegistryAlreadyAnchored"), (10, "RecordRegistryStaleHead")],
    ids=["same-time", "later"],
)
def test_contract_rejects_the_same_anchor_twice_with_its_own_error(
    world: World, delay: int, error: str
) -> None:
    """v2: the leaf holds the anchoring time, so the contract recognises its own record only for a replay at
    the same time (AlreadyAnchored, as in v1); a later replay is a stale head. The card is unchanged."""
    entry = world.family_doctor.records.seal(world.patient.address, parse_record(VISIT))
    world.family_doctor.records.flush()
    doctor = world.family_doctor
    anchored_at = world.chain.records.card(world.patient.address)[0].anchored_at
    if delay:  # a later block (anvil's test RPC); else the replay is checked at the anchoring block's time
        doctor.w3.provider.make_request("evm_mine", [anchored_at + delay])  # type: ignore[arg-type]

    with pytest.raises(ContractRevertError) as info:
        doctor.sender.transact(
            doctor.chain.records.anchor(world.patient.address, ZERO_HEAD, anchor_of(entry))
        )

    assert info.value.error_name == error
    assert _card(world) == [entry.record_id]


def test_update_waits_for_the_patients_signature(world: World) -> None:
    first = _submit(world)
    amended = parse_record({"sections": {"diagnosis": [{"text": "Migraine", "code": "G43.9"}]}})

    prepared = world.family_doctor.records.prepare_update(first, amended)
    report = world.family_doctor.records.flush()
    assert [e.record_id for e in report.waiting_approval] == [prepared.entry.record_id]
    waiting = world.family_doctor.records.outbox_entry(prepared.entry.record_id)
    assert waiting is not None
    assert waiting.state is OutboxState.AWAITING_APPROVAL

    with pytest.raises(InputError, match="must be signed by the patient"):
        world.family_doctor.records.approve(prepared.request)
    signed = world.patient.records.approve(prepared.request)
    world.family_doctor.records.apply_approval(signed)
    report = world.family_doctor.records.flush()

    assert [e.record_id for e in report.anchored] == [prepared.entry.record_id]
    card = world.chain.records.card(world.patient.address)
    assert [r.record_id for r in card] == [first, prepared.entry.record_id]
    assert card[1].previous == first
    assert world.patient.records.read(first).sections == VISIT["sections"]


def test_profile_is_readable_by_patient_and_family_doctor_only(world: World) -> None:
    assert world.patient.residents.read_profile() == PROFILE
    assert world.family_doctor.residents.read_profile(world.patient.address) == PROFILE
    with pytest.raises(AccessDeniedError):
        world.specialist.residents.read_profile(world.patient.address)


def test_section_mask_names_unknown_sections() -> None:
    assert section_mask(["diagnosis,prescriptions"]) == TWO_SECTIONS
    with pytest.raises(InputError, match="unknown section 'dna'"):
        section_mask(["dna"])


def test_pipelined_flush_sends_one_transaction_per_record_in_order(world: World) -> None:
    entries = [world.family_doctor.records.seal(world.patient.address, parse_record(VISIT)) for _ in range(6)]

    report = world.family_doctor.records.flush(strategy=Strategy.PIPELINED)

    assert report.transactions == 6
    assert len({e.tx_hash for e in report.anchored}) == 6
    assert _card(world) == [e.record_id for e in entries]


def test_single_flush_sends_one_transaction_per_record(world: World) -> None:
    entries = [world.family_doctor.records.seal(world.patient.address, parse_record(VISIT)) for _ in range(3)]

    report = world.family_doctor.records.flush(strategy=Strategy.SINGLE)

    assert report.transactions == 3
    assert _card(world) == [e.record_id for e in entries]


def test_pipelined_anchor_that_reverts_is_retried_on_the_real_head(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [world.family_doctor.records.seal(world.patient.address, parse_record(VISIT)) for _ in range(3)]
    records = world.family_doctor.chain.records
    real_card = type(records).card
    reads: list[int] = []

    def stale_first(self: object, patient: str, block: object = "latest") -> Card:
        # The pipeline's first read of the card gives a head the card never has, so its first anchor reverts.
        reads.append(1)
        card = real_card(self, patient, block)  # type: ignore[arg-type]
        return Card(b"\x5a" * 24, card.length) if len(reads) == 1 else card

    monkeypatch.setattr(type(records), "card", stale_first)

    report = world.family_doctor.records.flush(strategy=Strategy.PIPELINED)

    assert sorted(e.record_id for e in report.anchored) == sorted(e.record_id for e in entries)
    card = _card(world)
    assert card == [e.record_id for e in entries]  # retried one at a time on the real head, in order
    assert report.failed == ()


def test_pipelined_flush_runs_patients_side_by_side(world: World) -> None:
    """A card's next head is known only once its previous anchor is mined (the leaf holds the time), so a
    pipelined flush sends the records of different patients together."""
    other = world.outsider
    other.residents.register({"name": "second patient"})
    world.family_doctor.agreements.propose(other.address, ALL_SECTIONS, Action.READ | Action.APPEND, 86400)
    other.agreements.accept(world.family_doctor.address)
    mine = [world.family_doctor.records.seal(world.patient.address, parse_record(VISIT)) for _ in range(2)]
    theirs = [world.family_doctor.records.seal(other.address, parse_record(VISIT)) for _ in range(2)]

    report = world.family_doctor.records.flush(strategy=Strategy.PIPELINED)

    assert report.transactions == 4
    assert _card(world) == [e.record_id for e in mine]
    assert [r.record_id for r in world.chain.records.card(other.address)] == [e.record_id for e in theirs]
    blocks = {e.record_id: e.block for e in report.anchored}
    assert blocks[mine[0].record_id] < blocks[mine[1].record_id]


def test_drop_removes_a_record_that_can_never_be_anchored(world: World) -> None:
    stranger = world.stranger
    entry = stranger.records.seal(world.patient.address, parse_record(VISIT), check=False)
    assert stranger.records.flush().failed

    dropped = stranger.records.drop(entry.record_id)

    assert dropped.record_id == entry.record_id
    assert stranger.records.pending() == []
    assert list(stranger.actor.outbox.root.glob(f"{entry.record_id}.*")) == []
    with pytest.raises(InputError, match="no pending record"):
        stranger.records.drop(entry.record_id)


def test_drop_of_a_record_already_on_the_card_marks_it_done(world: World) -> None:
    record = _submit(world)
    outbox = world.family_doctor.actor.outbox
    done = outbox.get(record)
    assert done is not None
    outbox.add(replace(done, state=OutboxState.STORED), world.store.get(done.cid))

    kept = world.family_doctor.records.drop(record)

    assert kept.state is OutboxState.ANCHORED
    assert world.family_doctor.records.pending() == []
    assert len(_card(world)) == 1


def test_outbox_files_are_private(world: World) -> None:
    entry = world.stranger.records.seal(world.patient.address, parse_record(VISIT), check=False)
    outbox = world.stranger.actor.outbox

    outbox.update(entry, last_error="the store was down")  # a changed entry gets a file of its own
    paths = list(outbox.root.glob(f"{entry.record_id}.*"))
    assert {p.suffix for p in paths} == {".pack", ".json"}
    for path in paths:
        assert path.stat().st_mode & 0o777 == 0o600, path
    for folder in (outbox.root, outbox.done_dir, outbox.root.parent, outbox.root.parent.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


def test_read_card_opens_every_record_with_bundles_and_rechecks_consent(world: World) -> None:
    records = [_submit(world) for _ in range(3)]
    world.patient.consents.grant(
        world.insurer.address, TWO_SECTIONS, purpose=Purpose.INSURANCE_CLAIM, expires_at=_expires(world)
    )

    as_patient = world.patient.records.read_card(world.patient.address)
    as_insurer = world.insurer.records.read_card(world.patient.address)
    world.patient.consents.revoke(world.insurer.address)
    revoked = world.insurer.records.read_card(world.patient.address)

    assert [r.record_id for r in as_patient] == records
    assert all(r.sections == VISIT["sections"] for r in as_patient)
    assert all(set(r.sections) == {"diagnosis", "prescriptions"} for r in as_insurer)
    assert all(
        r.sections == {} and set(r.withheld.values()) >= {"consent revoked or expired"} for r in revoked
    )


def test_access_request_is_seen_by_the_patient_and_can_be_withdrawn(world: World) -> None:
    world.insurer.consents.request(
        world.patient.address, TWO_SECTIONS, purpose=Purpose.INSURANCE_CLAIM, duration=30 * 86400
    )

    request = world.chain.consents.request_of(world.patient.address, world.insurer.address)
    assert (request.sections, request.actions, request.duration) == (
        TWO_SECTIONS,
        int(Action.READ),
        30 * 86400,
    )
    (row,) = world.patient.consents.list()
    assert row.grantee == world.insurer.address
    assert row.active is False
    assert [e.event for e in row.events] == ["AccessRequested"]
    assert row.request_terms is not None
    assert row.request_terms["purpose"] == "insurance-claim"

    world.insurer.consents.withdraw_request(world.patient.address)

    assert world.chain.consents.request_of(world.patient.address, world.insurer.address).sections == 0
    names = [e.name for e in world.chain.audit.events(world.patient.address)]
    assert names[-1] == "AccessRequestWithdrawn"
