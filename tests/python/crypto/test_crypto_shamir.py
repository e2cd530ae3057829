"""Shamir sharing over GF(2^8): reconstruction, secrecy below the threshold, the strict share format."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famchain.crypto import shamir
from famchain.crypto.shamir import Share, combine, split
from famchain.errors import InconsistentSharesError, InputError, InsufficientSharesError, MalformedError


@st.composite
def sharings(draw: st.DrawFn) -> tuple[bytes, int, list[Share]]:
    secret = draw(st.binary(min_size=1, max_size=48))
    count = draw(st.integers(1, 12))
    threshold = draw(st.integers(1, count))
    return secret, threshold, split(secret, threshold, count)


@settings(max_examples=150, deadline=None)
@given(sharings(), st.data())
def test_any_threshold_shares_reconstruct(
    sharing: tuple[bytes, int, list[Share]], data: st.DataObject
) -> None:
    secret, threshold, shares = sharing
    chosen = data.draw(st.lists(st.sampled_from(shares), min_size=threshold, unique_by=lambda s: s.x))
    assert combine(data.draw(st.permutations(chosen))) == secret


@settings(max_examples=100, deadline=None)
@given(sharings(), st.data())
def test_fewer_than_threshold_shares_raise(
    sharing: tuple[bytes, int, list[Share]], data: st.DataObject
) -> None:
    _, threshold, shares = sharing
    chosen = data.draw(st.lists(st.sampled_from(shares), max_size=threshold - 1, unique_by=lambda s: s.x))
    with pytest.raises(InsufficientSharesError) as info:
        combine(chosen)
    assert info.value.have == len(chosen)


@settings(max_examples=100, deadline=None)
@given(sharings())
def test_share_bytes_roundtrip(sharing: tuple[bytes, int, list[Share]]) -> None:
    for share in sharing[2]:
        data = share.to_bytes()
        assert data[:5] == bytes([1, share.x, share.threshold]) + len(share.y).to_bytes(2, "big")
        assert Share.from_bytes(data) == share


def _scripted(coefficients: bytes):  # type: ignore[no-untyped-def]
    """Entropy that hands out the given coefficient bytes one at a time (secrets of one byte)."""
    stream = iter(coefficients)
    return lambda size, what: bytes(next(stream) for _ in range(size))


@pytest.mark.parametrize(("threshold", "xs"), [(2, (1,)), (2, (7,)), (3, (1, 2)), (3, (2, 5))])
def test_fewer_than_threshold_shares_are_uniform_exact_count(threshold: int, xs: tuple[int, ...]) -> None:
    """For every 1-byte secret, running over all 256^(t-1) coefficient choices gives each (t-1)-tuple of share
    values exactly once: the shares held below the threshold say nothing about the secret."""
    count = max(*xs, threshold)
    expected = 256 ** (threshold - 1)
    for secret in (b"\x00", b"\xa7"):
        seen: Counter[tuple[int, ...]] = Counter()
        for coefficients in itertools.product(range(256), repeat=threshold - 1):
            shares = shamir._split(secret, threshold, count, _scripted(bytes(coefficients)))
            seen[tuple(shares[x - 1].y[0] for x in xs)] += 1
        assert len(seen) == expected
        assert set(seen.values()) == {1}


def test_combine_with_extra_shares_checks_consistency() -> None:
    shares = split(b"emergency key material 32 bytes!", 2, 4)
    assert combine(shares) == b"emergency key material 32 bytes!"
    bad = Share(shares[3].x, 2, bytes(b ^ 1 for b in shares[3].y))
    with pytest.raises(InconsistentSharesError, match="off the polynomial"):
        combine([*shares[:3], bad])
    with pytest.raises(InconsistentSharesError, match="two different shares"):
        combine([shares[0], Share(1, 2, bad.y)])
    assert combine([shares[0], shares[0], shares[1]]) == b"emergency key material 32 bytes!"


def test_combine_refuses_mixed_sharings() -> None:
    a = split(b"a" * 32, 2, 3)
    b = split(b"b" * 16, 2, 3)
    c = split(b"c" * 32, 3, 3)
    with pytest.raises(InconsistentSharesError, match="lengths"):
        combine([a[0], b[1]])
    with pytest.raises(InconsistentSharesError, match="thresholds"):
        combine([a[0], c[1], c[2]])
    with pytest.raises(InsufficientSharesError):
        combine([])


@pytest.mark.parametrize(
    ("secret", "threshold", "count"),
    [(b"", 1, 1), (b"x", 0, 1), (b"x", 3, 2), (b"x", 1, 0), (b"x", 1, 256), (b"x" * 65_536, 1, 1)],
)
def test_split_rejects_bad_parameters(secret: bytes, threshold: int, count: int) -> None:
    with pytest.raises(InputError):
        split(secret, threshold, count)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x01\x02\x00",
        b"\x02\x01\x02\x00\x01\xaa",
        b"\x01\x00\x02\x00\x01\xaa",
        b"\x01\x01\x00\x00\x01\xaa",
        b"\x01\x01\x02\x00\x00",
        b"\x01\x01\x02\x00\x02\xaa",
        b"\x01\x01\x02\x00\x01\xaa\xbb",
    ],
)
def test_share_parser_is_strict(data: bytes) -> None:
    with pytest.raises(MalformedError):
        Share.from_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_share_parser_on_random_bytes(data: bytes) -> None:
    try:
        share = Share.from_bytes(data)
    except MalformedError:
        return
    assert share.to_bytes() == data


def test_share_repr_hides_the_value() -> None:
    share = split(b"\x42" * 32, 1, 1)[0]
    assert share.y.hex() not in repr(share)
