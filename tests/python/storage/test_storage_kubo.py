"""KuboStore over the Kubo RPC, exercised against the embedded server's RPC subset."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from _storage_support import PatternReader, closed_port, tampering_proxy

from famchain.errors import (
    BlockIntegrityError,
    InputError,
    NotPinnedError,
    StoreUnavailableError,
    UnknownCidError,
)
from famchain.storage.api import ContentStore
from famchain.storage.cid import make_cid
from famchain.storage.config import StoreConfig, open_store
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayServer
from famchain.storage.kubo import KuboStore


@pytest.fixture
def kubo(served: GatewayServer) -> KuboStore:
    return KuboStore(served.url, timeout=(2, 30))


def test_both_backends_implement_the_protocol(store: EmbeddedStore, kubo: KuboStore) -> None:
    assert isinstance(store, ContentStore)
    assert isinstance(kubo, ContentStore)


def test_add_gives_the_same_cid_as_the_embedded_store(store: EmbeddedStore, kubo: KuboStore) -> None:
    data = PatternReader(1_200_000).read()
    expected = store.put(data, only_hash=True)
    assert kubo.put(data) == expected
    assert store.get(expected) == data
    assert kubo.get(expected) == data
    assert kubo.pins() == [expected]
    assert kubo.has(expected)


def test_add_streams_a_file(kubo: KuboStore, store: EmbeddedStore, tmp_path: Path) -> None:
    data = PatternReader(2_500_000).read()
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    seen: list[int] = []
    with open(path, "rb") as fh:
        cid = kubo.put(fh, progress=seen.append)
    assert sum(seen) == len(data)
    assert store.get(cid) == data


def test_add_from_an_unsized_stream(kubo: KuboStore) -> None:
    class Pipe:
        def __init__(self) -> None:
            self._buf = io.BytesIO(b"piped bytes")

        def read(self, n: int = -1) -> bytes:
            return self._buf.read(n)

        def seekable(self) -> bool:
            return False

    assert kubo.put(Pipe()) == make_cid(b"piped bytes")  # type: ignore[arg-type]


def test_only_hash_and_no_pin(kubo: KuboStore, store: EmbeddedStore) -> None:
    cid = kubo.put(b"just the hash", only_hash=True)
    assert cid == make_cid(b"just the hash")
    assert not kubo.has(cid)
    unpinned = kubo.put(b"stored, not pinned", pin=False)
    assert kubo.has(unpinned)
    assert kubo.pins() == []


def test_pin_unpin_and_errors(kubo: KuboStore) -> None:
    cid = kubo.put(b"pin me", pin=False)
    kubo.pin(cid)
    assert kubo.pins() == [cid]
    kubo.unpin(cid)
    assert kubo.pins() == []
    with pytest.raises(NotPinnedError):
        kubo.unpin(cid)
    with pytest.raises(UnknownCidError):
        kubo.get(make_cid(b"absent"))
    with pytest.raises(InputError):
        kubo.get("not-a-cid")


def test_car_export_and_import_through_rpc(kubo: KuboStore, tmp_path: Path) -> None:
    data = PatternReader(900_000).read()
    cid = kubo.put(data)
    out = io.BytesIO()
    kubo.export_car(cid, out)
    other = EmbeddedStore(tmp_path / "elsewhere")
    assert other.import_car(io.BytesIO(out.getvalue())) == [cid]
    kubo.unpin(cid)
    assert kubo.import_car(io.BytesIO(out.getvalue())) == [cid]
    assert kubo.pins() == [cid]


def test_block_altered_in_transit_is_rejected(store: EmbeddedStore, served: GatewayServer) -> None:
    cid = store.put(b"tamper target")
    with tampering_proxy(served.url, cid) as evil, pytest.raises(BlockIntegrityError) as info:
        KuboStore(evil).get(cid)
    assert info.value.cid == cid


def test_closed_port_is_store_unavailable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    kubo = KuboStore(url, timeout=(1, 2))
    with pytest.raises(StoreUnavailableError) as info:
        kubo.put(b"x")
    assert url in str(info.value)
    assert "\n" not in str(info.value)
    assert not kubo.healthy()
    assert kubo.status()["healthy"] is False


def test_status_and_version(kubo: KuboStore) -> None:
    assert kubo.healthy()
    assert kubo.status()["healthy"] is True


def test_rpc_rejects_get_and_unknown_commands(served: GatewayServer) -> None:
    assert requests.get(f"{served.url}/api/v0/version", timeout=5).status_code == 405
    resp = requests.post(f"{served.url}/api/v0/nope", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["Type"] == "error"


def test_rpc_add_refuses_other_layouts(served: GatewayServer) -> None:
    resp = requests.post(f"{served.url}/api/v0/add?cid-version=0", files={"file": b"x"}, timeout=5)
    assert resp.status_code == 400
    assert "cid-version=1" in resp.json()["Message"]


def test_open_store_selects_the_configured_backend(tmp_path: Path, served: GatewayServer) -> None:
    embedded = open_store(StoreConfig("embedded", tmp_path / "store"))
    assert isinstance(embedded, EmbeddedStore)
    assert embedded.location == str(tmp_path / "store")
    remote = open_store(StoreConfig("kubo", api_url=served.url))
    assert isinstance(remote, KuboStore)
    assert remote.put(b"via config") == make_cid(b"via config")


def test_rpc_refuses_chunked_uploads_cleanly(served: GatewayServer) -> None:
    def body() -> Iterator[bytes]:
        yield b"--x\r\n\r\npayload\r\n--x--\r\n"

    resp = requests.post(
        f"{served.url}/api/v0/add",
        data=body(),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=5,
    )
    assert resp.status_code == 411
    assert served.store.pins() == []


def test_a_store_that_dies_mid_answer_is_unavailable_not_a_crash() -> None:
    """A store killed while it answers leaves a truncated chunked body: the record stays queued."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_half() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n67\r\n{"Hash":')
        conn.close()

    thread = threading.Thread(target=answer_half, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    with pytest.raises(StoreUnavailableError, match="connection broke"):
        KuboStore(url, timeout=(2, 5)).put(b"a record")
    thread.join(5)
    server.close()
