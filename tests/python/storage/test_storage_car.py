"""CARv1 export and import."""

from __future__ import annotations

import hashlib
import io

import pytest
from _storage_support import PatternReader
from hypothesis import given, settings
from hypothesis import strategies as st

from famchain.errors import BlockIntegrityError, InputError, IntegrityError, UnknownCidError
from famchain.storage.car import CarReader, decode_header, encode_header, iter_car
from famchain.storage.cid import RAW, CidInfo, encode_varint, parse_cid
from famchain.storage.embedded import EmbeddedStore

# go-car's header for one dag-pb root, spelled out: map(2) "roots": [tag 42 bytes(0x00 || CID)], "version": 1.
_ROOT = parse_cid("bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4")


def test_header_is_canonical_dag_cbor() -> None:
    expected = b"\xa2" + b"\x65roots" + b"\x81\xd8\x2a\x58\x25\x00" + _ROOT.to_bytes() + b"\x67version\x01"
    assert encode_header([_ROOT]) == expected
    assert decode_header(expected) == [_ROOT]


def test_header_key_order_is_accepted_either_way() -> None:
    swapped = b"\xa2\x67version\x01" + b"\x65roots" + b"\x81\xd8\x2a\x58\x25\x00" + _ROOT.to_bytes()
    assert decode_header(swapped) == [_ROOT]


def _car_of(store: EmbeddedStore, data: bytes) -> tuple[str, bytes]:
    cid = store.put(data)
    out = io.BytesIO()
    store.export_car(cid, out)
    return cid, out.getvalue()


def test_car_round_trip_between_stores(store: EmbeddedStore, other_store: EmbeddedStore) -> None:
    data = PatternReader(2_000_000).read()
    cid, car = _car_of(store, data)
    assert other_store.import_car(io.BytesIO(car)) == [cid]
    assert other_store.get(cid) == data
    assert other_store.pins() == [cid]
    again = io.BytesIO()
    other_store.export_car(cid, again)
    assert again.getvalue() == car


def test_car_lists_blocks_depth_first_root_first(store: EmbeddedStore) -> None:
    cid, car = _car_of(store, PatternReader(600_000).read())
    reader = CarReader(io.BytesIO(car))
    assert [r.cid for r in reader.roots] == [cid]
    order = [c.cid for c, _ in reader]
    assert order[0] == cid
    assert order == [c.cid for c, _ in store.walk(cid)]


def test_duplicate_leaves_are_written_once(store: EmbeddedStore) -> None:
    cid, car = _car_of(store, bytes(1_048_576))  # four identical zero leaves
    blocks = list(CarReader(io.BytesIO(car)))
    assert len(blocks) == 2
    assert blocks[0][0].cid == cid


def test_corrupted_car_is_rejected_and_nothing_is_pinned(
    store: EmbeddedStore, other_store: EmbeddedStore
) -> None:
    data = PatternReader(600_000).read()
    _cid, car = _car_of(store, data)
    tampered = bytearray(car)
    tampered[-10] ^= 0xFF  # inside the last block's bytes
    with pytest.raises(BlockIntegrityError):
        other_store.import_car(io.BytesIO(bytes(tampered)))
    assert other_store.pins() == []
    assert other_store.blocks.count() == (0, 0)


@pytest.mark.parametrize("cut", [1, 5, 100, 50_000])
def test_truncated_car_is_rejected(store: EmbeddedStore, other_store: EmbeddedStore, cut: int) -> None:
    _cid, car = _car_of(store, PatternReader(600_000).read())
    with pytest.raises(InputError, match="truncated"):
        other_store.import_car(io.BytesIO(car[:-cut]))
    assert other_store.pins() == []
    assert other_store.blocks.count() == (0, 0)


def test_garbage_after_blocks_is_rejected(store: EmbeddedStore, other_store: EmbeddedStore) -> None:
    _cid, car = _car_of(store, b"small")
    with pytest.raises((InputError, IntegrityError)):
        other_store.import_car(io.BytesIO(car + b"\x05garbage"))


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x00",
        b"\x05\xa1\x61a\x01",
        encode_varint(3) + b"\xa1\x61a",
        b"\x0a" + encode_header([])[:-1] + b"\x02",
    ],
)
def test_bad_headers_are_rejected(blob: bytes) -> None:
    with pytest.raises(InputError):
        CarReader(io.BytesIO(blob))


def test_version_2_header_is_rejected() -> None:
    header = encode_header([_ROOT])[:-1] + b"\x02"
    with pytest.raises(InputError, match="CARv1"):
        CarReader(io.BytesIO(encode_varint(len(header)) + header))


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_property_random_bytes_only_raise_input_or_integrity_errors(blob: bytes) -> None:
    try:
        reader = CarReader(io.BytesIO(blob))
        list(reader)
    except (InputError, IntegrityError):
        pass


@settings(max_examples=100)
@given(st.binary(min_size=1, max_size=2000), st.integers(min_value=0, max_value=10**6))
def test_property_any_flipped_byte_is_caught_or_changes_the_meaning(data: bytes, where: int) -> None:
    cid = CidInfo(1, RAW, hashlib.sha256(data).digest())
    car = bytearray(b"".join(iter_car([cid], [(cid, data)])))
    car[where % len(car)] ^= 0x01
    try:
        reader = CarReader(io.BytesIO(bytes(car)))
        roots, blocks = reader.roots, list(reader)
    except (InputError, IntegrityError):
        return
    assert (roots, blocks) != ([cid], [(cid, data)])


def test_incomplete_car_is_not_pinned_and_leaves_nothing(
    store: EmbeddedStore, other_store: EmbeddedStore
) -> None:
    cid = store.put(PatternReader(600_000).read())
    blocks = list(store.walk(cid))
    partial = b"".join(iter_car([parse_cid(cid)], blocks[:-1]))
    with pytest.raises(UnknownCidError):
        other_store.import_car(io.BytesIO(partial))
    assert other_store.blocks.count() == (0, 0)
    assert other_store.import_car(io.BytesIO(partial), pin=False) == [cid]
    assert other_store.pins() == []
