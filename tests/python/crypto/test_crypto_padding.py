"""Padmé padding: size classes, the 256-byte floor, strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famchain.crypto.padding import PAD_FLOOR, is_size_class, pad, padded_size, padme, unpad
from famchain.errors import MalformedError


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (1, 1),
        (2, 2),
        (9, 10),
        (16, 16),
        (17, 18),
        (100, 104),
        (257, 272),
        (1000, 1024),
        (4100, 4352),
        ((1 << 20) + 1, (1 << 20) + (1 << 15)),
    ],
)
def test_padme_known_values(length: int, expected: int) -> None:
    assert padme(length) == expected


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 1 << 40))
def test_padme_is_a_small_idempotent_round_up(length: int) -> None:
    size = padme(length)
    assert size >= length
    assert padme(size) == size
    assert size - length <= max(1, length // 8)  # Padmé's overhead bound (at most ~11.1 %)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 1 << 24))
def test_padded_size_is_a_class_with_a_floor(length: int) -> None:
    size = padded_size(length)
    assert size >= max(PAD_FLOOR, length + 4)
    assert is_size_class(size)


def test_floor_hides_every_short_plaintext() -> None:
    assert {padded_size(n) for n in range(253)} == {256}
    assert padded_size(253) > 256


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_pad_unpad_roundtrip(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) == padded_size(len(data))
    assert unpad(padded, "x") == data


@pytest.mark.parametrize(
    "padded",
    [
        pytest.param(b"\x00" * 255, id="not-a-class"),
        pytest.param((253).to_bytes(4, "big") + b"\x00" * 252, id="prefix-too-long"),
        pytest.param((10).to_bytes(4, "big") + b"\x00" * 251 + b"\x01", id="nonzero-pad"),
        pytest.param((3).to_bytes(4, "big") + b"\x00" * 268, id="prefix-of-a-smaller-class"),
    ],
)
def test_unpad_is_strict(padded: bytes) -> None:
    with pytest.raises(MalformedError):
        unpad(padded, "section")
