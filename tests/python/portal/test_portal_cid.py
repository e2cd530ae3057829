"""cid.js in headless Chromium computes the CIDs famchain's store (and Kubo) computes, and checks content."""

from __future__ import annotations

import io
from typing import Any

import pytest
from _vectors import ENVELOPES
from playwright.sync_api import Page

from famchain.errors import InputError
from famchain.storage.cid import DAG_PB, RAW, CidInfo, make_cid, parse_cid
from famchain.storage.unixfs import CHUNK_SIZE, DagParams, build_dag

pytestmark = pytest.mark.browser
HARNESS = "const h = await import('/test/harness.js');"


def js(page: Page, body: str, *args: Any) -> Any:
    return page.evaluate(f"async (args) => {{ {HARNESS} {body} }}", list(args))


def pattern(n: int) -> bytes:
    """The same bytes as the harness's ``pattern(n)``."""
    return bytes((i * 7 + (i >> 8) * 13 + (i >> 16) * 31) & 0xFF for i in range(n))


def python_file_cid(data: bytes, params: DagParams | None = None) -> str:
    return build_dag(io.BytesIO(data), params=params or DagParams()).cid


AROUND_CHUNKS = [
    0,
    1,
    255,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    2 * CHUNK_SIZE,
    2 * CHUNK_SIZE + 1,
    3_000_000,
]


def test_file_cids_match_python_around_the_chunk_boundaries(page: Page) -> None:
    browser = js(page, "return args[0].map((n) => h.cid.fileCid(h.pattern(n)));", AROUND_CHUNKS)
    python = [python_file_cid(pattern(n)) for n in AROUND_CHUNKS]
    assert browser == python
    assert [parse_cid(c).codec for c in python[:5]] == [RAW] * 5  # one chunk or less: a raw block
    assert {parse_cid(c).codec for c in python[5:]} == {DAG_PB}


def test_deep_balanced_trees_match_python(page: Page) -> None:
    """Small chunks and fan-out reach depth 4 with a few hundred bytes; every size up to there is compared."""
    sizes = list(range(0, 16 * 3**4 + 40, 3))
    browser = js(
        page, "return args[0].map((n) => h.cid.fileCid(h.pattern(n), {chunkSize: 16, maxLinks: 3}));", sizes
    )
    params = DagParams(chunk_size=16, max_links=3)
    assert browser == [python_file_cid(pattern(n), params) for n in sizes]


def test_dag_blocks_and_counts_match_python(page: Page) -> None:
    data = pattern(2 * CHUNK_SIZE + 7)
    blocks: list[str] = []
    build_dag(io.BytesIO(data), sink=lambda block: blocks.append(block.cid.cid))
    browser = js(
        page,
        "const seen = []; const r = h.cid.buildFile(h.pattern(args[0]), {onBlock: (c) => seen.push(c)});"
        "return {seen, blocks: r.blocks, size: r.size, cid: r.cid};",
        len(data),
    )
    assert browser["seen"] == blocks  # children before parents, in the same order
    assert browser["blocks"] == len(blocks) == 4
    assert browser["size"] == len(data)
    assert browser["cid"] == blocks[-1]


def test_raw_cids_and_digests_round_trip(page: Page) -> None:
    envelope = bytes.fromhex(ENVELOPES["policy"]["envelope"])
    cid = make_cid(envelope)
    got = js(
        page,
        "const c = h.cid.rawCid(h.unhex(args[0])); const p = h.cid.parseCid(c);"
        "return {c, codec: p.codec, digest: h.hex(p.digest), again: h.cid.cidFromDigest(p.digest, p.codec)};",
        envelope.hex(),
    )
    assert got == {"c": cid, "codec": RAW, "digest": ENVELOPES["policy"]["envelope_sha256"], "again": cid}


def test_cidv0_is_accepted_and_normalized(page: Page) -> None:
    v1 = python_file_cid(pattern(CHUNK_SIZE + 1))
    v0 = parse_cid(v1)
    text_v0 = CidInfo(0, DAG_PB, v0.digest).encode()
    assert text_v0.startswith("Qm")
    assert js(page, "return h.cid.normalizeCid(args[0]);", text_v0) == v1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bafy",
        "Bafkrei",
        "zdj7W",
        "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
        make_cid(b"x")[:-1],
        make_cid(b"x") + "a",
    ],
)
def test_malformed_cids_are_refused_like_python(page: Page, text: str) -> None:
    with pytest.raises(InputError):
        parse_cid(text)
    assert js(page, "return (await h.outcome(() => h.cid.parseCid(args[0]))).error;", text) == "InputError"


def test_fetched_bytes_are_verified_against_the_anchored_cid(page: Page) -> None:
    data = pattern(CHUNK_SIZE + 100)
    cid = python_file_cid(data)
    raw = make_cid(data[:100])
    body = (
        "const d = h.pattern(args[0]); const bad = d.slice(); bad[5] ^= 1;"
        "const p = h.cid.parseCid(args[1]);"
        "return [await h.outcome(() => h.cid.verifyContent(d, args[1])),"
        " await h.outcome(() => h.cid.verifyContent(d, {digest: p.digest, codec: p.codec})),"
        " await h.outcome(() => h.cid.verifyContent(bad, args[1])),"
        " await h.outcome(() => h.cid.verifyContent(d.subarray(0, 100), args[2])),"
        " await h.outcome(() => h.cid.verifyContent(d.subarray(0, 101), args[2]))];"
    )
    ok, by_digest, altered, raw_ok, raw_altered = js(page, body, len(data), cid, raw)
    assert ok == by_digest == {"value": cid}
    assert altered["error"] == raw_altered["error"] == "BlockIntegrityError"
    assert raw_ok == {"value": raw}
