"""A CAR of many records imports as one durable batch: few flushes, in the right order, all or nothing."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _storage_support import PatternReader, gc_running, kill_at_checkpoint

from famchain.errors import BlockIntegrityError, InputError, IntegrityError, UnknownCidError
from famchain.storage import blockstore
from famchain.storage.car import write_car
from famchain.storage.cid import DAG_PB, CidInfo, make_cid, parse_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.unixfs import KUBO_CIDV1, DagParams, build_dag

REPO = Path(__file__).resolve().parents[3]


def _records(n: int, size: int = 4096, seed: int = 0) -> list[bytes]:
    """Distinct record-sized payloads (sealed bytes look random; these only need to differ)."""
    return [hashlib.sha256(f"{seed}/{i}".encode()).digest() * (size // 32) for i in range(n)]


def _flush_car(
    records: list[bytes], params: DagParams = KUBO_CIDV1
) -> tuple[list[CidInfo], list[tuple[CidInfo, bytes]], bytes]:
    """Roots, blocks and bytes of a CAR built as a batched flush builds it (build_dag + write_car)."""
    blocks: list[tuple[CidInfo, bytes]] = []
    roots = [build_dag(io.BytesIO(r), lambda b: blocks.append((b.cid, b.data)), params) for r in records]
    out = io.BytesIO()
    write_car(roots, blocks, out)
    return roots, blocks, out.getvalue()


class _Calls:
    """Counts and orders the flushing calls the block store makes (the real calls still run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple[str, str]] = []
        self._wrap(monkeypatch, blockstore.os, "fsync", lambda fd: os.readlink(f"/proc/self/fd/{fd}"))
        self._wrap(monkeypatch, blockstore, "sync_filesystem", _describe_target)
        self._wrap(monkeypatch, blockstore.os, "open", lambda path, *flags: str(path))
        self._wrap(monkeypatch, blockstore.os, "replace", lambda src, dst: str(dst))
        self._wrap(monkeypatch, blockstore.os, "link", lambda src, dst: str(dst))

    def _wrap(
        self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, describe: Callable[..., str]
    ) -> None:
        real = getattr(owner, name)

        def call(*args: Any) -> Any:
            self.log.append((name, describe(*args)))
            return real(*args)

        monkeypatch.setattr(owner, name, call)

    def first(self, name: str, where: Callable[[str], bool] = lambda _: True) -> int:
        return next(i for i, (op, what) in enumerate(self.log) if op == name and where(what))

    def count(self, name: str) -> int:
        return sum(1 for op, _ in self.log if op == name)


def _describe_target(target: Path | int) -> str:
    return os.readlink(f"/proc/self/fd/{target}") if isinstance(target, int) else str(target)


def _no_syncfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blockstore, "_syncfs_loaded", True)
    monkeypatch.setattr(blockstore, "_syncfs_call", None)


def _assert_holds(store: EmbeddedStore, records: list[bytes], roots: list[CidInfo]) -> None:
    """Every record reads back whole and verified, is pinned, and the store re-hashes clean (also reopened)."""
    for data, root in zip(records, roots, strict=True):
        assert store.get(root.cid) == data
    reopened = EmbeddedStore(store.location)
    assert set(reopened.pins()) >= {r.cid for r in roots}
    assert reopened.verify() == []
    assert list((Path(store.location) / "blocks").glob("*/.tmp-*")) == []


def _leftovers(store: EmbeddedStore) -> list[Path]:
    root = Path(store.location)
    return [*root.glob("blocks/*/.tmp-*"), *root.glob("pins/.tmp-*")]


def test_a_car_of_many_records_flushes_twice_whatever_its_size(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_car(
        io.BytesIO(_flush_car(_records(3, seed=9))[2])
    )  # the store is in use (pin template made)
    records = [*_records(99), PatternReader(700_000).read()]  # 100 records, one of them a 4-block DAG
    roots, blocks, car = _flush_car(records)
    assert len(blocks) == 103
    calls = _Calls(monkeypatch)

    assert store.import_car(io.BytesIO(car)) == [r.cid for r in roots]

    # One syncfs for the blocks' bytes, one for their names, one fsync of the pins directory: not per block.
    assert calls.count("sync_filesystem") == 2
    assert calls.count("fsync") == 1
    _assert_holds(store, records, roots)


def test_the_flushes_come_in_the_order_that_makes_every_name_point_at_durable_bytes(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_car(
        io.BytesIO(_flush_car(_records(3, seed=9))[2])
    )  # the store is in use (pin template made)
    records = _records(20)
    roots, _blocks, car = _flush_car(records)
    calls = _Calls(monkeypatch)

    store.import_car(io.BytesIO(car))

    ops = [op for op, _ in calls.log]
    first_sync, last_sync = ops.index("sync_filesystem"), len(ops) - 1 - ops[::-1].index("sync_filesystem")
    blocks_dir = str(Path(store.location) / "blocks")
    renames = [i for i, (op, dst) in enumerate(calls.log) if op == "replace" and dst.startswith(blocks_dir)]
    pins = [i for i, (op, dst) in enumerate(calls.log) if op == "link" and "/pins/" in dst]
    pins_sync = [i for i, (op, path) in enumerate(calls.log) if op == "fsync" and path.endswith("/pins")]
    assert len(renames) == 20
    assert len(pins) == 20
    # bytes flushed < every block name appears < names flushed < pin names appear < pin names flushed
    assert first_sync < min(renames)
    assert max(renames) < last_sync < min(pins)
    assert pins_sync
    assert pins_sync[-1] > max(pins)
    # Both flushes go through a descriptor of the store opened before the first block was written, so they
    # report a write-back error of any block of the batch.
    assert {what for op, what in calls.log if op == "sync_filesystem"} == {str(Path(store.location))}
    assert calls.first("open", lambda path: path == store.location) < calls.first(
        "open", lambda p: "/.tmp-" in p
    )
    _assert_holds(store, records, roots)


@pytest.mark.parametrize(
    "params",
    [KUBO_CIDV1, DagParams(cid_version=0, raw_leaves=False)],  # CIDv0: every leaf is a dag-pb node too
    ids=["cidv1-raw-leaves", "cidv0-dag-pb-leaves"],
)
def test_the_pin_check_reads_no_block_the_car_carried(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, params: DagParams
) -> None:
    records = [*_records(30), PatternReader(600_000).read()]
    roots, _blocks, car = _flush_car(records, params)
    reads: list[str] = []
    real_get = blockstore.BlockStore.get

    def get(self: blockstore.BlockStore, cid: CidInfo) -> bytes:
        reads.append(cid.cid)
        return real_get(self, cid)

    monkeypatch.setattr(blockstore.BlockStore, "get", get)
    assert store.import_car(io.BytesIO(car)) == [r.cid for r in roots]
    assert reads == []
    monkeypatch.undo()
    _assert_holds(store, records, roots)


def test_a_root_whose_blocks_the_store_already_holds_is_checked_on_disk(store: EmbeddedStore) -> None:
    data = PatternReader(600_000).read()
    (root,), blocks, _car = _flush_car([data])
    leaves, node = blocks[:-1], blocks[-1:]  # the builder emits the leaves, then the root node
    assert node[0][0] == root
    store.import_car(io.BytesIO(_car_bytes([], leaves)), pin=False)
    assert store.pins() == []
    # A CAR with the root node only: its leaves come from disk, verified, and the pin is written.
    assert store.import_car(io.BytesIO(_car_bytes([root], node))) == [root.cid]
    assert store.pins() == [root.cid]
    assert store.get(root.cid) == data
    # The same with a leaf corrupted on disk: refused, nothing pinned, the node it brought removed again.
    other = EmbeddedStore(Path(store.location).parent / "other")
    other.import_car(io.BytesIO(_car_bytes([], leaves)), pin=False)
    leaf = other.blocks.path_of(leaves[1][0])
    leaf.write_bytes(leaf.read_bytes()[:-1])
    with pytest.raises(BlockIntegrityError):
        other.import_car(io.BytesIO(_car_bytes([root], node)))
    assert other.pins() == []
    assert not other.has(root.cid)


def _car_bytes(roots: list[CidInfo], blocks: list[tuple[CidInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    write_car(roots, blocks, out)
    return out.getvalue()


def _corrupt_midway(car: bytes, blocks: list[tuple[CidInfo, bytes]]) -> bytes:
    # Flip a byte inside the bytes of the 60th block: the first 59 have been staged by then.
    data = blocks[59][1]
    at = car.index(data) + len(data) // 2
    return car[:at] + bytes([car[at] ^ 0xFF]) + car[at + 1 :]


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        pytest.param(_corrupt_midway, BlockIntegrityError, id="corrupt-block"),
        pytest.param(lambda car, blocks: car[: len(car) * 2 // 3], InputError, id="truncated"),
        pytest.param(
            # 80 complete records and a root whose block the CAR lacks
            lambda car, blocks: _car_bytes([b[0] for b in blocks[:80]] + [blocks[-2][0]], blocks[:80]),
            UnknownCidError,
            id="incomplete-root",
        ),
    ],
)
def test_a_car_that_fails_midway_leaves_nothing_behind(
    store: EmbeddedStore,
    damage: Callable[[bytes, list[tuple[CidInfo, bytes]]], bytes],
    error: type[Exception],
) -> None:
    kept = _records(5, seed=1)
    kept_roots, _b, kept_car = _flush_car(kept)
    store.import_car(io.BytesIO(kept_car))
    before = store.blocks.count()
    # The new CAR also carries the five records the store holds already: those must stay.
    records = [*kept, *_records(95, seed=2)]
    _roots, blocks, car = _flush_car(records)

    with pytest.raises(error):
        store.import_car(io.BytesIO(damage(car, blocks)))

    assert store.blocks.count() == before
    assert sorted(store.pins()) == sorted(r.cid for r in kept_roots)
    assert _leftovers(store) == []
    _assert_holds(store, kept, kept_roots)


def test_without_syncfs_each_block_is_fsynced_and_the_import_is_the_same(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_car(io.BytesIO(_flush_car(_records(3, seed=9))[2]))
    records = _records(40)
    roots, blocks, car = _flush_car(records)
    shards = {store.blocks.path_of(cid).parent for cid, _ in blocks}
    new_shard = any(not s.is_dir() for s in shards)
    _no_syncfs(monkeypatch)
    calls = _Calls(monkeypatch)

    store.import_car(io.BytesIO(car))

    assert calls.count("sync_filesystem") == 0
    # each block file, each shard directory, the blocks directory if a shard is new, the pins directory
    assert calls.count("fsync") == len(blocks) + len(shards) + int(new_shard) + 1
    _assert_holds(store, records, roots)


def test_a_syncfs_that_the_kernel_lacks_falls_back_to_fsyncing_every_file(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blockstore, "_syncfs_loaded", True)
    monkeypatch.setattr(blockstore, "_syncfs_call", lambda fd: errno.ENOSYS)
    records = _records(10)
    roots, blocks, car = _flush_car(records)
    calls = _Calls(monkeypatch)

    store.import_car(io.BytesIO(car))

    fsynced = [path for op, path in calls.log if op == "fsync"]
    assert len([p for p in fsynced if "/blocks/" in p and "/.tmp-" in p]) == len(
        blocks
    )  # each block's bytes, before its rename
    assert blockstore.can_sync_filesystem() is False
    _assert_holds(store, records, roots)


def test_a_failing_syncfs_fails_the_import_and_leaves_nothing(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blockstore, "_syncfs_loaded", True)
    monkeypatch.setattr(blockstore, "_syncfs_call", lambda fd: errno.EIO)
    _roots, _blocks, car = _flush_car(_records(10))
    with pytest.raises(OSError, match="Input/output error"):
        store.import_car(io.BytesIO(car))
    assert store.blocks.count() == (0, 0)
    assert store.pins() == []
    assert _leftovers(store) == []


def test_pins_are_links_to_one_durable_file_and_unpinning_one_keeps_the_others(store: EmbeddedStore) -> None:
    roots, _blocks, car = _flush_car(_records(3))
    store.import_car(io.BytesIO(car))
    pin_files = [Path(store.location) / "pins" / r.cid for r in roots]
    template = Path(store.location) / "pin-template"
    assert len({p.stat().st_ino for p in pin_files} | {template.stat().st_ino}) == 1
    assert all(p.read_bytes() == b"recursive\n" for p in pin_files)
    store.unpin(roots[0].cid)
    assert sorted(store.pins()) == sorted(r.cid for r in roots[1:])
    store.gc()
    assert not store.has(roots[0].cid)
    assert all(store.has(r.cid) for r in roots[1:])


@pytest.mark.parametrize("refusal", [errno.EMLINK, errno.EPERM])
def test_a_filesystem_refusing_a_link_still_gets_its_pins(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, refusal: int
) -> None:
    (warm_root,), _warm, warm_car = _flush_car(_records(1, seed=3))
    store.import_car(io.BytesIO(warm_car))
    old_template = (Path(store.location) / "pin-template").stat().st_ino
    real_link = os.link
    refused: list[str] = []

    def link(src: str, dst: str) -> None:
        if not refused or refusal == errno.EPERM:
            refused.append(str(dst))
            raise OSError(refusal, os.strerror(refusal))
        real_link(src, dst)

    monkeypatch.setattr(blockstore.os, "link", link)
    roots, _blocks, car = _flush_car(_records(3))
    store.import_car(io.BytesIO(car))
    monkeypatch.undo()

    assert sorted(store.pins()) == sorted([warm_root.cid, *(r.cid for r in roots)])
    assert len(refused) == (1 if refusal == errno.EMLINK else 3)
    new_template = (Path(store.location) / "pin-template").stat().st_ino
    if refusal == errno.EMLINK:
        assert new_template != old_template  # a fresh template took over; later links go to it
        assert (Path(store.location) / "pins" / roots[0].cid).stat().st_ino == new_template
    else:
        assert new_template == old_template  # no links here: plain pin files
        assert all((Path(store.location) / "pins" / r.cid).read_bytes() == b"recursive\n" for r in roots)
    assert _leftovers(store) == []


_CHILD = textwrap.dedent(
    """
    import io, sys, time
    sys.path.insert(0, {python!r})
    from famchain.storage import blockstore
    from famchain.storage.embedded import EmbeddedStore

    def hang(path):
        # Every block of the CAR is in its temporary file now; die here, before any rename.
        print("CHECKPOINT", flush=True)
        time.sleep(60)
        return True

    blockstore.sync_filesystem = hang
    EmbeddedStore({root!r}).import_car(open({car!r}, "rb"))
    print("FINISHED", flush=True)
    """
)


def test_a_store_killed_before_the_flush_shows_no_block_of_the_car(tmp_path: Path) -> None:
    records = _records(30)
    roots, blocks, car = _flush_car(records)
    (tmp_path / "flush.car").write_bytes(car)
    root = tmp_path / "crash-store"
    script = _CHILD.format(python=str(REPO / "python"), root=str(root), car=str(tmp_path / "flush.car"))
    kill_at_checkpoint(script)

    store = EmbeddedStore(root)
    assert len(_leftovers(store)) == len(blocks)
    assert store.blocks.count() == (0, 0)
    assert store.pins() == []
    store.gc()
    assert _leftovers(store) == []
    assert store.import_car(io.BytesIO(car)) == [r.cid for r in roots]
    _assert_holds(store, records, roots)


def test_duplicate_blocks_in_one_car_are_written_once(store: EmbeddedStore) -> None:
    zeros = bytes(1_048_576)  # four identical leaves
    roots, blocks, car = _flush_car([zeros, zeros])
    assert len(blocks) == 10
    assert store.import_car(io.BytesIO(car)) == [r.cid for r in roots]
    assert store.blocks.count()[0] == 2
    assert store.get(roots[0].cid) == zeros
    assert store.pins() == [roots[0].cid]


def test_add_blocks_repairs_a_corrupted_copy(store: EmbeddedStore) -> None:
    data = PatternReader(600_000).read()
    (root,), blocks, car = _flush_car([data])
    store.import_car(io.BytesIO(car))
    leaf = store.blocks.path_of(blocks[1][0])
    leaf.write_bytes(b"rot")
    written = store.add_blocks(iter(blocks), source="a peer", pin=root)
    assert [c.cid for c in written] == [blocks[1][0].cid]
    assert store.verify() == []
    assert store.get(root.cid) == data
    assert parse_cid(store.pins()[0]) == root


def test_a_dag_pb_node_that_does_not_parse_is_refused_as_a_root_and_kept_unpinned(
    store: EmbeddedStore,
) -> None:
    bad = b"\x0f\x01"  # field 1 with wire type 7: no dag-pb node
    cid = parse_cid(make_cid(bad, DAG_PB))
    car = _car_bytes([cid], [(cid, bad)])
    with pytest.raises(IntegrityError):
        store.import_car(io.BytesIO(car))
    assert store.blocks.count() == (0, 0)
    assert _leftovers(store) == []
    # Without pinning, the store takes any block that matches its CID, as Kubo's dag import does.
    assert store.import_car(io.BytesIO(car), pin=False) == [cid.cid]
    assert store.get_block(cid) == bad
    assert store.pins() == []


def test_a_single_add_fsyncs_its_block_and_two_directories_and_links_its_pin(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(b"a first record")  # the store is in use (pin template made)
    data = b"one record" * 400
    block = store.blocks.path_of(parse_cid(make_cid(data)))
    new_shard = [str(Path(store.location) / "blocks")] if not block.parent.is_dir() else []
    calls = _Calls(monkeypatch)
    cid = store.put(data)
    fsynced = [path for op, path in calls.log if op == "fsync"]
    # (a new shard's name,) the block's bytes, its shard directory (the rename), the pins directory (the pin's
    # name): no fsync of the pin file
    assert fsynced[: len(new_shard)] == new_shard
    assert fsynced[len(new_shard)].startswith(str(block.parent / ".tmp-"))
    assert fsynced[len(new_shard) + 1 :] == [str(block.parent), str(Path(store.location) / "pins")]
    pin_file = Path(store.location) / "pins" / cid
    assert pin_file.stat().st_ino == (Path(store.location) / "pin-template").stat().st_ino
    assert EmbeddedStore(store.location).pins() == sorted([cid, make_cid(b"a first record")])


def test_imports_and_gc_running_together_keep_every_pinned_record(store: EmbeddedStore) -> None:
    import threading

    cars = [_flush_car(_records(20, seed=seed)) for seed in range(8)]
    # Two importers share half their records (a retried flush next to a new one).
    shared = [_flush_car([*_records(10, seed=100), *_records(10, seed=200 + i)]) for i in range(2)]
    importers = [
        threading.Thread(target=lambda car=car: store.import_car(io.BytesIO(car))) for _r, _b, car in shared
    ]
    with gc_running(store) as errors:
        for t in importers:
            t.start()
        for _roots, _blocks, car in cars:
            store.import_car(io.BytesIO(car))
        for t in importers:
            t.join()
    assert errors == []
    every = [*cars, *shared]
    for roots, blocks, _car in every:
        assert all(store.has(cid.cid) for cid, _ in blocks)
        assert set(store.pins()) >= {r.cid for r in roots}
    assert store.verify() == []
    assert store.gc().removed_blocks == 0
