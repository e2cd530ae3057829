"""Signed gateway requests: the token a reader signs, the gate that checks it, and a gated gateway on loopback
(the guard here is a fixed list of who may have which block; the chain's guard is tested against a devnet in
``tests/python/chain/test_gateway_access.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from _storage_support import PatternReader
from eth_account import Account

from famchain.errors import GatewayRefusedError, InputError
from famchain.storage.access import MAX_LIFETIME, UNSIGNED, AccessGate, AccessSigner, AccessToken, origin
from famchain.storage.cid import CidInfo
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayFetcher, GatewayServer
from famchain.storage.remote import GatewayStore
from famchain.types import Address

GATEWAY = "http://gw.example:8080"
NOW = 1_800_000_000


class ListGuard:
    """Lets each account have the blocks listed for it; counts the questions."""

    def __init__(self) -> None:
        self.allowed: dict[str, set[bytes]] = {}
        self.asked = 0

    def allow(self, reader: str, cid: str) -> None:
        from famchain.storage.cid import parse_cid

        self.allowed.setdefault(reader.lower(), set()).add(parse_cid(cid).digest)

    def check(self, reader: Address, cid: CidInfo) -> None:
        self.asked += 1
        if cid.digest not in self.allowed.get(reader.lower(), set()):
            raise GatewayRefusedError(f"{reader} may not read {cid.cid}")


@pytest.fixture
def reader() -> bytes:
    return bytes(Account.create().key)


def _gate(guard: ListGuard | None = None, now: float = NOW) -> AccessGate:
    return AccessGate(guard or ListGuard(), [GATEWAY], clock=lambda: now)


def test_a_signed_token_proves_its_reader(reader: bytes) -> None:
    token = AccessToken.sign(reader, GATEWAY, lifetime=60, now=NOW)

    assert _gate().reader(token.header()) == Account.from_key(reader).address
    assert AccessToken.parse(token.header()) == token


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "unsigned request"),
        ("", "unsigned request"),
        ("Bearer abc", "not a Famchain access token"),
        ("Famchain gateway=x,reader=y", "no expires"),
        ("Famchain gateway=x,reader=y,expires=z,nonce=n,signature=0x00", "bad expires or signature"),
    ],
)
def test_unsigned_or_malformed_requests_are_refused_with_one_line(header: str | None, reason: str) -> None:
    with pytest.raises(GatewayRefusedError, match=reason) as refused:
        _gate().reader(header)
    assert "\n" not in str(refused.value)


def test_a_token_for_another_gateway_is_refused(reader: bytes) -> None:
    token = AccessToken.sign(reader, "http://other.example", lifetime=60, now=NOW)

    with pytest.raises(GatewayRefusedError, match=r"signed for http://other\.example, not for this gateway"):
        _gate().reader(token.header())


def test_an_expired_token_is_refused(reader: bytes) -> None:
    token = AccessToken.sign(reader, GATEWAY, lifetime=60, now=NOW - 61)

    with pytest.raises(GatewayRefusedError, match="expired 1 s ago"):
        _gate().reader(token.header())


def test_a_token_living_longer_than_the_gateway_accepts_is_refused(reader: bytes) -> None:
    token = AccessToken.sign(reader, GATEWAY, lifetime=MAX_LIFETIME + 1, now=NOW)

    with pytest.raises(GatewayRefusedError, match=f"accepts at most {MAX_LIFETIME} s"):
        _gate().reader(token.header())


def test_a_token_naming_someone_else_is_refused(reader: bytes) -> None:
    token = AccessToken.sign(reader, GATEWAY, lifetime=60, now=NOW)
    victim = Account.create().address
    forged = replace(token, reader=Address(victim))

    with pytest.raises(GatewayRefusedError, match=f"names {victim} but was signed by"):
        _gate().reader(forged.header())


def test_an_altered_expiry_no_longer_recovers_to_the_reader(reader: bytes) -> None:
    token = AccessToken.sign(reader, GATEWAY, lifetime=60, now=NOW)
    stretched = replace(token, expires=token.expires + 100)

    with pytest.raises(GatewayRefusedError, match="but was signed by"):
        _gate().reader(stretched.header())


def test_origin_keeps_scheme_host_and_port_only() -> None:
    assert origin("HTTP://GW.Example:8080/ipfs/x?y=1") == "http://gw.example:8080"
    with pytest.raises(InputError, match="not an http"):
        origin("ftp://gw.example")


def test_the_signer_signs_once_per_gateway_until_the_token_nears_its_end(reader: bytes) -> None:
    clock = [float(NOW)]
    signer = AccessSigner(reader, lifetime=120, clock=lambda: clock[0])

    first = signer.header(GATEWAY + "/ipfs/a")
    assert signer.header(GATEWAY) == first
    clock[0] += 100
    renewed = signer.header(GATEWAY)

    assert renewed != first
    assert signer.signed == 2
    assert _gate(now=clock[0]).reader(renewed) == Account.from_key(reader).address


# --- a gated gateway on loopback ---------------------------------------------------------------------------


@pytest.fixture
def guard() -> ListGuard:
    return ListGuard()


@pytest.fixture
def gated(store: EmbeddedStore, guard: ListGuard) -> Iterator[GatewayServer]:
    with GatewayServer(store, gate=AccessGate(guard)) as server:
        yield server


def test_gated_gateway_refuses_an_unsigned_request_before_saying_whether_it_holds_the_block(
    store: EmbeddedStore, gated: GatewayServer
) -> None:
    held = store.put(b"sealed bytes")
    unknown = EmbeddedStore(store.location + "-elsewhere").put(b"never stored here")

    for cid in (held, unknown):
        for method in (requests.get, requests.head):
            resp = method(f"{gated.url}/ipfs/{cid}?format=raw", timeout=5)
            assert resp.status_code == 403
    body = requests.get(f"{gated.url}/ipfs/{held}?format=raw", timeout=5).text
    assert body == UNSIGNED + "\n"


def test_gated_gateway_serves_the_entitled_reader_and_refuses_another(
    store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes
) -> None:
    cid = store.put(b"sealed bytes")
    guard.allow(Account.from_key(reader).address, cid)
    other = bytes(Account.create().key)

    served = GatewayFetcher(gated.url, signer=AccessSigner(reader)).get_block(cid)
    with pytest.raises(GatewayRefusedError, match="may not read") as refused:
        GatewayFetcher(gated.url, signer=AccessSigner(other)).get_block(cid)

    assert served == b"sealed bytes"
    assert str(refused.value).startswith(f"the gateway {gated.url} refused: ")
    with pytest.raises(GatewayRefusedError, match="unsigned request"):
        GatewayFetcher(gated.url).get_block(cid)


def test_a_batch_of_reads_signs_one_token(
    store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes
) -> None:
    cids = [store.put(f"record {n}".encode()) for n in range(20)]
    for cid in cids:
        guard.allow(Account.from_key(reader).address, cid)
    signer = AccessSigner(reader)
    remote = GatewayStore(gated.url, signer)

    assert [remote.get(cid) for cid in cids] == [f"record {n}".encode() for n in range(20)]
    assert signer.signed == 1
    assert guard.asked == 20


def test_blocks_below_an_allowed_root_are_fetched_and_verified(
    store: EmbeddedStore, other_store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes
) -> None:
    data = PatternReader(700_000).read()
    root = store.put(data)
    address = Account.from_key(reader).address
    for info, _block in store.walk(root):
        guard.allow(address, info.cid)

    result = GatewayFetcher(gated.url, signer=AccessSigner(reader)).fetch(root, other_store)

    assert result.blocks_fetched == 4
    assert other_store.get(root) == data


def test_a_read_only_gateway_store_refuses_writes_with_one_line(gated: GatewayServer, reader: bytes) -> None:
    remote = GatewayStore(gated.url, AccessSigner(reader))

    with pytest.raises(Exception, match="serves reads only") as refused:
        remote.put(b"x")
    assert "\n" not in str(refused.value)


def test_a_gateway_store_reads_its_local_store_first_and_writes_there(
    store: EmbeddedStore, other_store: EmbeddedStore, gated: GatewayServer, reader: bytes
) -> None:
    remote = GatewayStore(gated.url, AccessSigner(reader), local=other_store)

    cid = remote.put(b"written locally")

    assert other_store.get(cid) == b"written locally"
    assert not store.has(cid)
    assert remote.get(cid) == b"written locally"


def test_a_gated_answer_is_not_kept_by_shared_caches(
    store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes
) -> None:
    cid = store.put(b"sealed bytes")
    guard.allow(Account.from_key(reader).address, cid)
    header = AccessSigner(reader).header(gated.url)

    resp = requests.get(f"{gated.url}/ipfs/{cid}?format=raw", headers={"Authorization": header}, timeout=5)

    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("signed", [True, False])
def test_the_auth_endpoint_answers_a_proxy_sub_request(
    store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes, signed: bool
) -> None:
    """What nginx's auth_request in front of a Kubo gateway asks (docs/deploy.md): 204 passes, 403 refuses."""
    cid = store.put(b"held by the Kubo node, not by this store")
    guard.allow(Account.from_key(reader).address, cid)
    headers = {"X-Original-URI": f"/ipfs/{cid}?format=raw"}
    if signed:
        headers["Authorization"] = AccessSigner(reader).header(gated.url)

    resp = requests.get(f"{gated.url}/famchain/auth", headers=headers, timeout=5)

    assert resp.status_code == (204 if signed else 403)


@pytest.mark.parametrize("uri", ["/ipns/example.org", "/api/v0/cat?arg=x", "/ipfs/not-a-cid"])
def test_the_auth_endpoint_refuses_anything_but_a_block_request(
    gated: GatewayServer, reader: bytes, uri: str
) -> None:
    headers = {"X-Original-URI": uri, "Authorization": AccessSigner(reader).header(gated.url)}

    resp = requests.get(f"{gated.url}/famchain/auth", headers=headers, timeout=5)

    assert resp.status_code == 403


def test_a_multi_block_file_is_read_in_one_request_judged_by_its_root(
    store: EmbeddedStore, gated: GatewayServer, guard: ListGuard, reader: bytes
) -> None:
    """What a proxy in front of Kubo needs: the gate knows the roots the chain names, not the blocks below."""
    data = PatternReader(700_000).read()
    root = store.put(data)
    guard.allow(Account.from_key(reader).address, root)  # the root only

    remote = GatewayStore(gated.url, AccessSigner(reader))

    assert remote.get(root) == data
    assert guard.asked == 1
