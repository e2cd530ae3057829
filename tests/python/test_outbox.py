"""The outbox's group format (issue #11, item 7): a group sealed together is one pack file written with one
fsync; its entries stay pending, resumable and private until each is anchored or dropped, and the pack goes
once all of them have."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from famchain import ConfigError, InputError, OutboxState, RecordId
from famchain.records.outbox import Outbox, OutboxEntry
from famchain.types import Cid

PATIENT = "0x" + "AB" * 20
AUTHOR = "0x" + "CD" * 20
CID = Cid("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")


def _entry(n: int) -> OutboxEntry:
    return OutboxEntry(
        record_id=RecordId(n.to_bytes(32, "big")),
        patient=PATIENT,
        author=AUTHOR,
        chain_id=31337,
        registry="0x" + "EF" * 20,
        sections=3,
        previous=RecordId.zero(),
        cid=CID,
        salt=bytes([n]) * 32,
        created=1_000.0 + n,
    )


def _group(count: int) -> list[tuple[OutboxEntry, bytes]]:
    return [(_entry(n), f"sealed bytes of record {n}".encode() * (n + 1)) for n in range(1, count + 1)]


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def test_a_group_is_one_private_pack_written_with_one_file_and_one_directory_fsync(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsyncs: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real(fd))[1])

    outbox.add_many(_group(50))

    assert len(fsyncs) == 2
    files = sorted(p.name for p in outbox.root.iterdir() if p.is_file() and p.name != ".lock")
    assert files == [f"{_entry(1).record_id}.pack"]
    assert (outbox.root / files[0]).stat().st_mode & 0o777 == 0o600


def test_every_entry_of_a_pack_is_pending_with_its_own_sealed_bytes(outbox: Outbox) -> None:
    group = _group(5)
    outbox.add_many(group)

    assert outbox.pending() == [entry for entry, _ in group]
    assert [outbox.sealed_bytes(e) for e, _ in group] == [data for _, data in group]
    # A fresh Outbox object (another process) reads the same pack.
    again = Outbox(outbox.root)
    assert [again.sealed_bytes(e) for e in again.pending()] == [data for _, data in group]


def test_a_changed_entry_of_a_pack_takes_precedence_and_keeps_its_sealed_bytes(outbox: Outbox) -> None:
    group = _group(3)
    outbox.add_many(group)

    stored = outbox.update(group[1][0], state=OutboxState.STORED, last_error="store down")

    pending = {e.record_id: e for e in outbox.pending()}
    assert pending[stored.record_id] == stored
    assert outbox.sealed_bytes(stored) == group[1][1]
    assert outbox.get(stored.record_id) == stored


def test_entries_leave_a_pack_as_they_are_anchored_and_the_pack_goes_with_the_last(outbox: Outbox) -> None:
    group = _group(4)
    outbox.add_many(group)
    entries = [e for e, _ in group]
    anchored = [replace(e, state=OutboxState.ANCHORED, tx_hash="0x" + "12" * 32, block=7) for e in entries]

    outbox.mark_done(anchored[:3])

    assert outbox.pending() == entries[3:]
    assert {e.record_id for e in outbox.done()} == {e.record_id for e in entries[:3]}
    assert outbox.get(entries[1].record_id) == anchored[1]
    assert (outbox.root / f"{entries[0].record_id}.pack").exists()

    outbox.discard(entries[3])

    assert outbox.pending() == []
    assert sorted(p.name for p in outbox.root.iterdir() if p.is_file() and p.name != ".lock") == []
    with pytest.raises(InputError, match="lost its sealed bytes"):
        outbox.sealed_bytes(entries[3])


def test_a_lost_done_marker_only_makes_entries_pending_again(outbox: Outbox) -> None:
    """Done marks are not fsynced (the card is the record): losing one brings entries back for the next flush
    to settle against the card, never loses one."""
    group = _group(3)
    outbox.add_many(group)
    outbox.mark_done([replace(group[0][0], state=OutboxState.ANCHORED)])
    marker = next(outbox.root.glob("*.left"))

    marker.unlink()

    assert outbox.pending() == [e for e, _ in group]


def test_a_single_record_is_a_pack_of_one_and_entries_of_older_outboxes_still_resume(outbox: Outbox) -> None:
    [(entry, data)] = _group(1)
    outbox.add(entry, data)
    assert [p.name for p in outbox.root.glob("0x*")] == [f"{entry.record_id}.pack"]
    # An entry an earlier famchain wrote as <id>.json + <id>.sealed is pending and resumes like any other.
    older, older_data = _entry(9), b"sealed by an earlier version"
    (outbox.root / f"{older.record_id}.json").write_text(json.dumps(older.to_json()))
    (outbox.root / f"{older.record_id}.sealed").write_bytes(older_data)

    assert outbox.pending() == [entry, older]
    assert [outbox.sealed_bytes(e) for e in outbox.pending()] == [data, older_data]

    outbox.mark_done([replace(e, state=OutboxState.ANCHORED) for e in outbox.pending()])

    assert list(outbox.root.glob("0x*")) == []


@pytest.mark.parametrize("cut", [0, 10, 30, 200, -3])
def test_a_pack_not_in_the_format_is_a_clear_error(outbox: Outbox, cut: int) -> None:
    outbox.add_many(_group(2))
    pack = next(outbox.root.glob("*.pack"))
    pack.write_bytes(b"something else" if cut == 0 else pack.read_bytes()[:cut])

    with pytest.raises(ConfigError, match="not in famchain's format"):
        Outbox(outbox.root).pending()


def test_compacting_keeps_only_pending_entries_so_no_copy_of_an_anchored_record_stays(outbox: Outbox) -> None:
    group = _group(4)
    outbox.add_many(group)
    entries = [e for e, _ in group]
    outbox.mark_done([replace(e, state=OutboxState.ANCHORED) for e in entries[:2]])

    outbox.compact()

    assert outbox.pending() == entries[2:]
    assert [outbox.sealed_bytes(e) for e in entries[2:]] == [d for _, d in group[2:]]
    names = sorted(p.name for p in outbox.root.glob("0x*"))
    assert names == [f"{entries[2].record_id}.pack"]
    packed = (outbox.root / names[0]).read_bytes()
    assert not any(data in packed for _, data in group[:2])

    outbox.compact()  # nothing left to do
    assert sorted(p.name for p in outbox.root.glob("0x*")) == names


def test_compacting_a_pack_whose_first_entry_is_still_pending_rewrites_it_in_place(outbox: Outbox) -> None:
    group = _group(3)
    outbox.add_many(group)
    outbox.mark_done([replace(group[1][0], state=OutboxState.ANCHORED)])

    outbox.compact()

    assert outbox.pending() == [group[0][0], group[2][0]]
    assert sorted(p.name for p in outbox.root.glob("0x*")) == [f"{group[0][0].record_id}.pack"]
    assert outbox.sealed_bytes(group[2][0]) == group[2][1]
