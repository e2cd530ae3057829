"""The embedded block store: verified reads, pins, gc, verify, crash safety."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _storage_support import PatternReader, gc_running, kill_at_checkpoint

from famchain.errors import BlockIntegrityError, NotPinnedError, UnknownCidError
from famchain.storage.blockstore import BlockStore
from famchain.storage.cid import RAW, make_cid, parse_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.unixfs import decode_pbnode

REPO = Path(__file__).resolve().parents[3]


def _leaves(store: EmbeddedStore, root: str) -> list[str]:
    return [cid.cid for cid, _ in store.walk(root) if cid.codec == RAW]


def test_put_get_round_trip_and_pin(store: EmbeddedStore) -> None:
    data = PatternReader(1_000_000).read()
    cid = store.put(data)
    assert store.get(cid) == data
    assert b"".join(store.stream(cid)) == data
    assert store.pins() == [cid]
    assert store.has(cid)


def test_put_accepts_a_stream_and_equals_bytes(store: EmbeddedStore, tmp_path: Path) -> None:
    data = PatternReader(700_000).read()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        assert store.put(fh, pin=False) == store.put(data)


def test_only_hash_stores_nothing(store: EmbeddedStore) -> None:
    cid = store.put(b"secret", only_hash=True)
    assert cid == make_cid(b"secret")
    assert not store.has(cid)
    assert store.pins() == []
    assert store.blocks.count() == (0, 0)


def test_unknown_cid_raises(store: EmbeddedStore) -> None:
    missing = make_cid(b"never stored")
    with pytest.raises(UnknownCidError) as info:
        store.get(missing)
    assert info.value.cid == missing
    assert not store.has(missing)


def test_blocks_are_filed_under_their_multihash_in_shards(store: EmbeddedStore) -> None:
    cid = parse_cid(store.put(b"hello world"))
    path = store.blocks.path_of(cid)
    # Kubo flatfs: base32 multihash key "CIQ...", shard = next-to-last two characters.
    assert path.name.startswith("CIQ")
    assert path.parent.name == path.stem[-3:-1]
    assert path.read_bytes() == b"hello world"


def test_read_of_a_block_corrupted_on_disk_names_the_cid(store: EmbeddedStore) -> None:
    data = PatternReader(600_000).read()
    root = store.put(data)
    leaf = _leaves(store, root)[1]
    path = store.blocks.path_of(parse_cid(leaf))
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(BlockIntegrityError) as info:
        store.get(root)
    assert info.value.cid == leaf
    assert leaf in str(info.value)


def test_verify_reports_a_corrupted_block(store: EmbeddedStore) -> None:
    root = store.put(PatternReader(600_000).read())
    store.put(b"another file")
    assert store.verify() == []
    leaf = parse_cid(_leaves(store, root)[0])
    path = store.blocks.path_of(leaf)
    path.write_bytes(path.read_bytes()[:-1])  # truncated on disk
    bad = store.verify()
    assert [b.digest for b in bad] == [leaf.digest]
    assert bad[0].path == path


def test_gc_keeps_pinned_and_removes_unpinned(store: EmbeddedStore) -> None:
    kept = store.put(PatternReader(800_000).read())
    dropped = store.put(b"x" * 300_000, pin=False)
    loose = store.put(b"loose", pin=False)
    shared = store.put(PatternReader(262_144).read(), pin=False)  # also the first leaf of `kept`
    before_blocks, _ = store.blocks.count()
    result = store.gc()
    assert result.removed_blocks == before_blocks - result.kept_blocks > 0
    assert store.get(kept) == PatternReader(800_000).read()
    assert store.has(shared)
    assert not store.has(dropped)
    assert not store.has(loose)
    assert store.verify() == []
    store.unpin(kept)
    store.gc()
    assert store.blocks.count() == (0, 0)


def test_unpin_of_unpinned_raises(store: EmbeddedStore) -> None:
    cid = store.put(b"abc", pin=False)
    with pytest.raises(NotPinnedError):
        store.unpin(cid)


def test_pin_requires_the_whole_dag(store: EmbeddedStore) -> None:
    root = store.put(PatternReader(600_000).read(), pin=False)
    node = decode_pbnode(store.get_block(root))
    store.blocks.delete(node.links[-1].cid)
    with pytest.raises(UnknownCidError):
        store.pin(root)
    assert store.pins() == []


def test_pin_many_pins_every_root_or_none_when_a_dag_is_incomplete(store: EmbeddedStore) -> None:
    roots = [parse_cid(store.put(f"record {n}".encode(), pin=False)) for n in range(3)]

    store.blocks.pin_many(roots)
    store.blocks.pin_many(roots)  # pinning again changes nothing

    assert sorted(store.pins()) == sorted(r.cid for r in roots)
    assert sorted(EmbeddedStore(store.location).pins()) == sorted(r.cid for r in roots)
    big = store.put(PatternReader(600_000).read(), pin=False)
    store.blocks.delete(decode_pbnode(store.get_block(big)).links[-1].cid)
    extra = parse_cid(store.put(b"another record", pin=False))
    with pytest.raises(UnknownCidError):
        store.blocks.pin_many([extra, parse_cid(big)])
    assert extra.cid not in store.pins()


def test_pins_survive_reopening(store: EmbeddedStore) -> None:
    cid = store.put(b"durable")
    assert EmbeddedStore(store.location).pins() == [cid]


_CHILD = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {python!r})
    from famchain.storage import blockstore
    from famchain.storage.embedded import EmbeddedStore

    store = EmbeddedStore({root!r})
    real_write = os.write

    def slow_write(fd, data):
        # Write half of the block, tell the parent, then hang until killed.
        real_write(fd, bytes(data[: len(data) // 2]))
        print("CHECKPOINT", flush=True)
        time.sleep(60)
        return 0

    blockstore.os.write = slow_write
    store.put(bytes(range(256)) * 4096)  # 1 MiB: four 256 KiB leaves
    print("FINISHED", flush=True)
    """
)


def test_process_killed_mid_write_leaves_no_half_block(tmp_path: Path) -> None:
    root = tmp_path / "crash-store"
    script = _CHILD.format(python=str(REPO / "python"), root=str(root))
    kill_at_checkpoint(script)

    temps = list((root / "blocks").glob("*/.tmp-*"))
    assert temps, "the child should have died with a half-written temporary file"
    assert all(t.stat().st_size == 131072 for t in temps)
    store = EmbeddedStore(root)
    leaf = parse_cid(make_cid(bytes(range(256)) * 1024))
    assert not store.has(leaf.cid)
    assert store.blocks.count() == (0, 0)
    assert store.verify() == []
    assert store.pins() == []
    # gc removes the leftovers; a retry then stores the file normally.
    store.gc()
    assert list((root / "blocks").glob("*/.tmp-*")) == []
    cid = store.put(bytes(range(256)) * 4096)
    assert store.get(cid) == bytes(range(256)) * 4096


def test_temp_files_are_invisible_to_readers(store: EmbeddedStore) -> None:
    cid = parse_cid(make_cid(b"partial"))
    shard = store.blocks.path_of(cid).parent
    shard.mkdir(parents=True, exist_ok=True)
    (shard / ".tmp-123-abc").write_bytes(b"par")
    assert not store.has(cid.cid)
    assert store.verify() == []
    assert store.blocks.count() == (0, 0)


def test_blockstore_put_rejects_wrong_bytes(tmp_path: Path) -> None:
    blocks = BlockStore(tmp_path / "b")
    cid = parse_cid(make_cid(b"right"))
    with pytest.raises(BlockIntegrityError):
        blocks.put(cid, b"wrong")
    assert not blocks.has(cid)


def test_status_reports_counts(store: EmbeddedStore) -> None:
    store.put(b"abc")
    status = store.status()
    assert status["backend"] == "embedded"
    assert (status["blocks"], status["bytes"], status["pins"], status["healthy"]) == (1, 3, 1, True)


def test_gc_running_concurrently_never_breaks_pinned_adds(store: EmbeddedStore) -> None:
    with gc_running(store) as errors:
        cids = [store.put(PatternReader(300_000 + i).read()) for i in range(15)]
        loose = [store.put(f"loose {i}".encode(), pin=False) for i in range(15)]
    assert errors == []
    for i, cid in enumerate(cids):
        assert store.get(cid) == PatternReader(300_000 + i).read()
    store.gc()
    assert not any(store.has(c) for c in loose)
