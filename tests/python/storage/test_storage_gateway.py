"""The trustless gateway, fetching between stores on loopback, and ``famchain ipfs serve`` as a process."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from _storage_support import PatternReader, closed_port, tampering_proxy
from hypothesis import given, settings
from hypothesis import strategies as st

from famchain.errors import BlockIntegrityError, InputError, StoreUnavailableError, UnknownCidError
from famchain.storage.car import CarReader
from famchain.storage.cid import RAW, make_cid, parse_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayFetcher, GatewayServer, MultipartFile

REPO = Path(__file__).resolve().parents[3]


def test_server_binds_loopback_on_a_free_port(served: GatewayServer) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    assert not served.url.endswith(":0")


def test_raw_block_by_query_and_by_accept(store: EmbeddedStore, served: GatewayServer) -> None:
    cid = store.put(b"hello world")
    by_query = requests.get(f"{served.url}/ipfs/{cid}?format=raw", timeout=5)
    by_accept = requests.get(
        f"{served.url}/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.raw"}, timeout=5
    )
    for resp in (by_query, by_accept):
        assert resp.status_code == 200
        assert resp.content == b"hello world"
        assert resp.headers["Content-Type"] == "application/vnd.ipld.raw"
        assert resp.headers["Etag"] == f'"{cid}.raw"'


def test_head_has_headers_and_no_body(store: EmbeddedStore, served: GatewayServer) -> None:
    cid = store.put(b"hello world")
    resp = requests.head(f"{served.url}/ipfs/{cid}?format=raw", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == "11"
    assert resp.content == b""


def test_car_response_is_a_verified_car_of_the_dag(store: EmbeddedStore, served: GatewayServer) -> None:
    data = PatternReader(700_000).read()
    cid = store.put(data)
    resp = requests.get(f"{served.url}/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.car"}, timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.ipld.car")
    reader = CarReader(io.BytesIO(resp.content))
    assert [r.cid for r in reader.roots] == [cid]
    assert len(list(reader)) == 4
    same = requests.get(f"{served.url}/ipfs/{cid}?format=car", timeout=5)
    assert same.content == resp.content


def test_plain_get_returns_the_file(store: EmbeddedStore, served: GatewayServer) -> None:
    data = PatternReader(700_000).read()
    cid = store.put(data)
    assert requests.get(f"{served.url}/ipfs/{cid}", timeout=5).content == data


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ipfs/not-a-cid?format=raw", 400),
        ("/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku?format=raw", 404),
        ("/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku?format=car", 404),
        ("/ipfs/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e?format=tar", 400),
        ("/nothing-here", 404),
        ("/api/v0/version", 405),
    ],
)
def test_error_statuses(served: GatewayServer, path: str, status: int) -> None:
    served.store.put(b"hello world")
    assert requests.get(served.url + path, timeout=5).status_code == status


def test_fetch_between_two_stores(
    store: EmbeddedStore, other_store: EmbeddedStore, served: GatewayServer
) -> None:
    data = PatternReader(3_000_000).read()
    cid = store.put(data)
    result = GatewayFetcher(served.url).fetch(cid, other_store)
    assert result.blocks_fetched == 13
    assert result.bytes_fetched > len(data)
    assert other_store.get(cid) == data
    assert other_store.pins() == [cid]
    again = GatewayFetcher(served.url).fetch(cid, other_store)
    assert (again.blocks_fetched, again.blocks_present) == (0, 13)


def test_fetch_accepts_a_cidv0_name_for_the_same_dag(
    store: EmbeddedStore, other_store: EmbeddedStore, served: GatewayServer
) -> None:
    cid = parse_cid(store.put(PatternReader(600_000).read()))
    v0 = type(cid)(0, cid.codec, cid.digest).encode()
    GatewayFetcher(served.url).fetch(v0, other_store)
    assert other_store.pins() == [cid.cid]


def test_peer_serving_a_corrupted_block_is_rejected_and_nothing_is_stored(
    store: EmbeddedStore, other_store: EmbeddedStore, served: GatewayServer
) -> None:
    data = PatternReader(1_500_000).read()
    root = store.put(data)
    leaves = [c.cid for c, _ in store.walk(root) if c.codec == RAW]
    victim = leaves[3]
    with tampering_proxy(served.url, victim) as evil, pytest.raises(BlockIntegrityError) as info:
        GatewayFetcher(evil).fetch(root, other_store)
    assert info.value.cid == victim
    assert evil in str(info.value)
    assert other_store.blocks.count() == (0, 0)
    assert other_store.pins() == []


def test_fetch_of_unknown_cid_raises_and_stores_nothing(
    other_store: EmbeddedStore, served: GatewayServer
) -> None:
    with pytest.raises(UnknownCidError):
        GatewayFetcher(served.url).fetch(make_cid(b"nobody has this"), other_store)
    assert other_store.blocks.count() == (0, 0)


def test_fetch_from_a_closed_port_is_unavailable(other_store: EmbeddedStore) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnavailableError) as info:
        GatewayFetcher(url).fetch(make_cid(b"x"), other_store)
    assert url in str(info.value)


def test_serve_as_a_process_prints_only_its_url(store: EmbeddedStore, other_store: EmbeddedStore) -> None:
    cid = store.put(PatternReader(400_000).read())
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    code = "from famchain.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "ipfs", "serve", "--port", "0", "--store-dir", store.location],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        GatewayFetcher(url).fetch(cid, other_store)
        assert other_store.get(cid) == store.get(cid)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == ""
    assert err == ""


class _Trickle:
    """Hands out a body in reads of varying sizes, like a socket."""

    def __init__(self, body: bytes, sizes: list[int]) -> None:
        self._body = body
        self._sizes = sizes or [1]
        self._i = 0

    def read(self, n: int) -> bytes:
        take = min(n, self._sizes[self._i % len(self._sizes)])
        self._i += 1
        out, self._body = self._body[:take], self._body[take:]
        return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"\r\n", b"--", b"\r\n--", b"bound", b"boundary", b"x" * 50, b"\r"]), max_size=40
    ),
    st.lists(st.integers(min_value=1, max_value=70), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=100),
)
def test_property_multipart_reader_returns_exactly_the_part(
    pieces: list[bytes], sizes: list[int], read_size: int
) -> None:
    payload = b"".join(pieces)
    boundary = b"boundary123"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="f.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + payload + b"\r\n--" + boundary + b"--\r\n"
    )
    part = MultipartFile(_Trickle(body, sizes), boundary)  # type: ignore[arg-type]
    got = bytearray()
    while chunk := part.read(read_size):
        got += chunk
    assert bytes(got) == payload
    assert part.filename == "f.bin"


def test_multipart_without_closing_boundary_is_rejected() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\npayload without end'
    part = MultipartFile(_Trickle(body, [7]), b"b")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="closing boundary"):
        part.read(-1)


def test_rpc_can_be_turned_off(store: EmbeddedStore) -> None:
    cid = store.put(b"read only")
    with GatewayServer(store, rpc=False) as server:
        assert requests.post(f"{server.url}/api/v0/pin/rm?arg={cid}", timeout=5).status_code == 404
        assert requests.get(f"{server.url}/ipfs/{cid}?format=raw", timeout=5).content == b"read only"
    assert store.pins() == [cid]


def test_reading_a_directory_is_an_input_error(store: EmbeddedStore) -> None:
    import hashlib

    from famchain.storage.cid import DAG_PB, CidInfo
    from famchain.storage.unixfs import encode_pbnode

    node = encode_pbnode([], b"\x08\x01")  # UnixFS Data{Type=Directory}
    cid = CidInfo(1, DAG_PB, hashlib.sha256(node).digest())
    store.put_block(cid, node)
    with pytest.raises(InputError, match="not a UnixFS file"):
        store.get(cid.cid)
