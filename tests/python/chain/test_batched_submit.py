"""Batched submit (issue #11, item 7): many records sealed on one view of the chain (in worker processes when
asked), queued with grouped durable writes, stored with one request per group of records (their DAGs in one
CAR, roots pinned), then anchored in batches; every record reaches the card once and opens for its readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes

from _world import World
from famchain import AccessDeniedError, Client, OutboxState, RecordId, parse_record
from famchain.records import anchoring, sealing
from famchain.records.model import RecordContent


def _visits(count: int) -> list[RecordContent]:
    return [
        parse_record(
            {
                "sections": {
                    "present_illness": f"Visit {n}: headache for two days.",
                    "diagnosis": [{"text": "Tension headache", "code": "G44.2"}],
                }
            }
        )
        for n in range(count)
    ]


def test_seal_many_in_worker_processes_queues_records_that_open_like_single_seals(world: World) -> None:
    doctor, patient = world.family_doctor, world.patient.address
    visits = _visits(3)
    single = doctor.records.seal(patient, visits[0])

    many = sealing.seal_records(doctor.actor, patient, visits, workers=2)

    assert [e.state for e in many] == [OutboxState.SEALED] * 3
    assert len({e.record_id for e in many} | {single.record_id}) == 4
    assert all(e.recipients == single.recipients for e in many)
    pending = {e.record_id: e for e in doctor.records.pending()}
    assert set(pending) == {single.record_id, *(e.record_id for e in many)}
    assert all(doctor.actor.outbox.sealed_bytes(e) for e in many)

    report = doctor.records.flush()

    assert {e.record_id for e in report.anchored} == set(pending)
    for entry, visit in zip(many, visits, strict=True):
        for reader in (doctor, world.patient):
            assert reader.records.read(entry.record_id).sections == visit.sections


def test_seal_many_refuses_an_unauthorized_author_and_queues_nothing(world: World) -> None:
    with pytest.raises(AccessDeniedError):
        world.stranger.records.seal_many(world.patient.address, _visits(2))

    assert world.stranger.records.pending() == []


def test_flush_stores_groups_of_records_with_one_request_each(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = world.family_doctor
    store = doctor.actor.store
    imports: list[int] = []
    real_import = store.import_car

    def counted(car: Any, *, pin: bool = True) -> Any:
        roots = real_import(car, pin=pin)
        imports.append(len(roots))
        return roots

    def no_put(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a flush stores records by group, not one by one")

    monkeypatch.setattr(store, "import_car", counted)
    monkeypatch.setattr(store, "put", no_put)
    monkeypatch.setattr(anchoring, "STORE_GROUP", 2)
    entries = doctor.records.seal_many(world.patient.address, _visits(5))

    report = doctor.records.flush()

    assert sorted(imports) == [1, 2, 2]
    assert {e.record_id for e in report.anchored} == {e.record_id for e in entries}
    assert report.transactions == 1
    pins = set(world.store.pins())
    assert all(e.cid in pins for e in entries)
    assert [r.record_id for r in world.chain.records.card(world.patient.address)] == [
        e.record_id for e in report.anchored
    ]


def test_batches_chain_on_each_receipt_and_a_moved_card_falls_back_to_rereading_it(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doctor, patient = world.family_doctor, world.patient.address
    monkeypatch.setattr(anchoring, "MAX_BATCH", 2)
    entries = doctor.records.seal_many(patient, _visits(7))
    # The same doctor on another machine (its own outbox) anchors a record while this flush runs.
    elsewhere = Client(doctor.w3, world.deployment, store=world.store, home=tmp_path / "other")
    elsewhere = elsewhere.with_account(doctor.account)
    sender = doctor.actor.sender
    real_transact = sender.transact
    sent: list[str] = []
    moved: list[RecordId] = []

    def transact(call: Any, description: str = "", gas: int | None = None) -> Any:
        sent.append(description)
        if len(sent) == 3:
            moved.append(elsewhere.records.submit(patient, _visits(1)[0]).record_id)
        return real_transact(call, description, gas)

    monkeypatch.setattr(sender, "transact", transact)

    report = doctor.records.flush()

    assert {e.record_id for e in report.anchored} == {e.record_id for e in entries}
    # Batches 1 and 2 on the heads their receipts gave; the 3rd found the card moved and was retried on the
    # head read again; the 4th followed it.
    assert report.transactions == 4
    assert len(sent) == 5
    card = [r.record_id for r in world.chain.records.card(patient)]
    assert sorted(card) == sorted([*moved, *(e.record_id for e in entries)])
    assert len(card) == len(set(card)) == 8
    assert card.index(moved[0]) == 4
    assert doctor.records.pending() == []


def test_the_sender_reads_a_batch_receipt_exactly_as_web3_formats_it(world: World) -> None:
    """The sender asks the node for receipts itself (web3's formatters cost ~0.6 ms a log); what it hands on
    must be what ``w3.eth.get_transaction_receipt`` gives, log by log, so every reader of a receipt is unchanged."""
    doctor = world.family_doctor
    doctor.records.seal_many(world.patient.address, _visits(3))
    report = doctor.records.flush()
    tx_hash = HexBytes(report.anchored[0].tx_hash)
    w3 = doctor.sender.w3

    ours = doctor.sender._receipt(tx_hash)
    theirs = w3.eth.get_transaction_receipt(tx_hash)

    assert ours == theirs
    assert len(ours["logs"]) >= 3
    assert [type(v) for v in ours["logs"][0].values()] == [type(v) for v in theirs["logs"][0].values()]
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
    assert doctor.sender._receipt(HexBytes(b"\x07" * 32)) is None
