"""CID encoding and strict parsing."""

from __future__ import annotations

import base64
import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famchain.errors import InputError
from famchain.storage.cid import (
    DAG_PB,
    RAW,
    CidInfo,
    b58decode,
    b58encode,
    cid_from_digest,
    decode_cid_bytes,
    decode_varint,
    digest_and_codec,
    encode_varint,
    make_cid,
    normalize_cid,
    parse_cid,
)

# Kubo's own vectors. EMPTY: `ipfs add --cid-version=1` of an empty file. HELLO_WORLD: SmallFileCID in
# kubo test/cli/cid_profiles_test.go. HELLO_NL (`echo hello | ipfs add --cid-version 1`) and its CIDv0 /
# CIDv0-to-base32 pair: kubo test/sharness/t0114-gateway-subdomains/README.md.
EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HELLO_WORLD = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
HELLO_NL = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
HELLO_NL_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
HELLO_NL_V0_AS_V1 = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"


def _first_principles_raw_cid(data: bytes) -> str:
    """CIDv1 = 'b' + base32(varint 1, varint 0x55, 0x12, 0x20, sha256) spelled out without the module."""
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", EMPTY), (b"hello world", HELLO_WORLD), (b"hello\n", HELLO_NL)],
)
def test_make_cid_matches_kubo_raw_vectors(data: bytes, expected: str) -> None:
    assert make_cid(data, RAW) == expected
    assert _first_principles_raw_cid(data) == expected


def test_make_cid_one_byte_is_first_principles_raw_cid() -> None:
    assert make_cid(b"a") == _first_principles_raw_cid(b"a")


def test_cidv0_parses_and_normalizes_to_kubo_base32() -> None:
    info = parse_cid(HELLO_NL_V0)
    assert (info.version, info.codec) == (0, DAG_PB)
    assert info.encode() == HELLO_NL_V0
    assert normalize_cid(HELLO_NL_V0) == HELLO_NL_V0_AS_V1
    assert parse_cid(HELLO_NL_V0_AS_V1).digest == info.digest


def test_digest_and_codec_round_trip_for_chain() -> None:
    digest, codec = digest_and_codec(HELLO_WORLD)
    assert digest == hashlib.sha256(b"hello world").digest()
    assert codec == RAW
    assert cid_from_digest(digest, codec) == HELLO_WORLD
    assert cid_from_digest(digest, DAG_PB).startswith("bafybei")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        (" " + EMPTY, "whitespace"),
        ("B" + EMPTY[1:].upper(), "base32"),
        ("z" + EMPTY[1:], "expected a CIDv1"),
        (EMPTY[:-1], "base32"),
        (EMPTY + "a", "base32"),
        (EMPTY[:-1] + "v", "canonical"),
        (EMPTY[:-8], "truncated"),
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykU", "base32"),
        ("Qm" + "0" * 44, "base58"),
        (HELLO_NL_V0[:-1], "CIDv0"),
        ("bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "codec"),
    ],
)
def test_parse_cid_rejects_malformed_input_with_a_clear_message(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_cid(text)
    assert fragment.lower() in str(info.value).lower()


def test_parse_cid_rejects_other_hash_functions() -> None:
    sha512_cid = "bafkrgqhhyivzstcz3hhswshfjgy6ertgmnqeleynhwt4dlfsthi4hn7zgh4uvlsb5xncykzapi3ocd4lzogukir6ksdy6wzrnz6ohnv4aglcs"
    with pytest.raises(InputError, match="sha2-256"):
        parse_cid(sha512_cid)


def test_cid_from_digest_rejects_bad_inputs() -> None:
    with pytest.raises(InputError):
        cid_from_digest(b"\x00" * 31, RAW)
    with pytest.raises(InputError, match="codec"):
        cid_from_digest(b"\x00" * 32, 0x71)


def test_varint_rejects_non_minimal_and_truncated() -> None:
    assert decode_varint(encode_varint(300)) == (300, 2)
    with pytest.raises(InputError, match="non-minimal"):
        decode_varint(b"\x80\x00")
    with pytest.raises(InputError, match="truncated"):
        decode_varint(b"\x80")


@given(st.binary(min_size=32, max_size=32), st.sampled_from([RAW, DAG_PB]))
def test_property_cid_round_trips(digest: bytes, codec: int) -> None:
    cid = cid_from_digest(digest, codec)
    info = parse_cid(cid)
    assert (info.digest, info.codec, info.version) == (digest, codec, 1)
    assert decode_cid_bytes(info.to_bytes()) == info
    assert digest_and_codec(cid) == (digest, codec)
    if codec == DAG_PB:
        v0 = CidInfo(0, DAG_PB, digest).encode()
        assert v0.startswith("Qm")
        assert normalize_cid(v0) == cid


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_property_varint_round_trips(value: int) -> None:
    assert decode_varint(encode_varint(value)) == (value, len(encode_varint(value)))


@given(st.binary(max_size=64))
def test_property_base58_round_trips(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


@given(st.text(max_size=80))
def test_property_random_text_only_raises_input_error(text: str) -> None:
    try:
        info = parse_cid(text)
    except InputError:
        return
    assert info.encode() == text


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=1, max_size=70))
def test_property_random_base32_only_raises_input_error(body: str) -> None:
    with contextlib.suppress(InputError):
        parse_cid("b" + body)


@given(st.binary(max_size=80))
def test_property_random_bytes_only_raise_input_error(data: bytes) -> None:
    try:
        info = decode_cid_bytes(data)
    except InputError:
        return
    assert info.to_bytes() == data
