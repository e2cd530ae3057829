"""Hypothesis fuzzing of every parser that reads user or peer input: only documented errors come out.

Record JSON, profile JSON, keystore files (loaded and decrypted), CAR files (random and mutated), key bundles
and outbox entries. A parser either accepts its input or raises a :class:`FamchainError` subclass; anything
else (KeyError, TypeError, IndexError, ...) is a bug that would reach a user as a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famchain.crypto import keystore
from famchain.crypto.bundle import KeyBundle, OpenedBundle
from famchain.crypto.envelope import SealedEnvelope
from famchain.crypto.shamir import Share
from famchain.errors import FamchainError
from famchain.records.model import parse_record
from famchain.records.profile import parse_profile
from famchain.storage.car import CarReader
from famchain.storage.embedded import EmbeddedStore

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
SECTION_KEYS = st.sampled_from(
    ["present_illness", "past_history", "family_history", "diagnosis", "prescriptions", "examinations", "x"]
)
ENTRY_KEYS = st.sampled_from(["text", "code", "drug", "days", "name", "value", "unit", "note", "dose", "?"])
RECORDISH = st.fixed_dictionaries(
    {
        "sections": st.dictionaries(
            SECTION_KEYS,
            st.text(max_size=10) | st.lists(st.dictionaries(ENTRY_KEYS, JSON, max_size=4), max_size=3) | JSON,
            max_size=4,
        )
    },
    optional={"version": st.integers(0, 2) | st.text(max_size=2)},
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(RECORDISH | JSON)
def test_record_parser_accepts_or_names_the_problem(document: object) -> None:
    try:
        content = parse_record(document)
    except FamchainError as exc:
        message = str(exc)
    else:
        assert content.names
        assert all(isinstance(v, bytes) for v in content.plaintexts().values())
        return
    assert message
    assert "\n" not in message


@FAST
@given(
    st.dictionaries(st.sampled_from(["name", "sex", "birth_date", "contact", "zz"]), JSON, max_size=4) | JSON
)
def test_profile_parser_accepts_or_names_the_problem(document: object) -> None:
    try:
        parse_profile(document)
    except FamchainError as exc:
        message = str(exc)
    else:
        return
    assert "profile" in message


@pytest.fixture(scope="module")
def valid_keystore(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    info = keystore.create_keystore("pw", tmp_path_factory.mktemp("keys"), kdf=keystore.KdfParams.light())
    document: dict[str, object] = json.loads(info.path.read_text())
    return document


def _mutate(document: object, path: list[str], value: object) -> object:
    if not path or not isinstance(document, dict):
        return value
    head, *rest = path
    return {**document, head: _mutate(document.get(head), rest, value)}


KEYSTORE_PATHS = st.sampled_from(
    [
        ["version"],
        ["address"],
        ["crypto"],
        ["crypto", "cipher"],
        ["crypto", "ciphertext"],
        ["crypto", "kdf"],
        ["crypto", "kdfparams"],
        ["crypto", "kdfparams", "c"],
        ["crypto", "kdfparams", "salt"],
        ["crypto", "mac"],
        ["crypto", "cipherparams", "iv"],
    ]
)


@FAST
@given(path=KEYSTORE_PATHS, value=JSON)
def test_keystore_loader_refuses_mangled_files_with_a_wallet_error(
    valid_keystore: dict[str, object], path: list[str], value: object, tmp_path: Path
) -> None:
    target = tmp_path / "mangled.json"
    target.write_text(json.dumps(_mutate(valid_keystore, path, value)))
    try:
        keystore.decrypt_keystore(target, "pw")
    except FamchainError as exc:
        message = str(exc)
    else:
        return
    assert "\n" not in message


@FAST
@given(data=st.binary(max_size=300))
def test_keystore_loader_refuses_random_bytes(data: bytes, tmp_path: Path) -> None:
    target = tmp_path / "random.json"
    target.write_bytes(data)
    with pytest.raises(FamchainError):
        keystore.decrypt_keystore(target, "pw")


@pytest.fixture(scope="module")
def car_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    store = EmbeddedStore(tmp_path_factory.mktemp("car"))
    cid = store.put(bytes(range(256)) * 2000)  # two leaves and a root
    out = io.BytesIO()
    store.export_car(cid, out)
    return out.getvalue()


def _read_all(data: bytes) -> int:
    reader = CarReader(io.BytesIO(data))
    return sum(1 for _ in reader)


@FAST
@given(st.binary(max_size=400))
def test_car_reader_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(FamchainError):
        _read_all(data)


@FAST
@given(position=st.integers(min_value=0), flip=st.integers(1, 255), cut=st.booleans())
def test_car_reader_on_mutated_files(car_bytes: bytes, position: int, flip: int, cut: bool) -> None:
    position %= len(car_bytes)
    mutated = car_bytes[:position] if cut else bytearray(car_bytes)
    if not cut:
        mutated[position] ^= flip  # type: ignore[index]
    try:
        blocks = _read_all(bytes(mutated))
    except FamchainError:
        return
    assert cut or blocks == 3  # a flip that still parses must have been in a place the hash covers


@FAST
@given(st.binary(max_size=500))
def test_key_bundle_parser_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(FamchainError):
        KeyBundle.from_bytes(b"FCKB\x02" + data)
    with contextlib.suppress(FamchainError):
        OpenedBundle.from_body(data)


@FAST
@given(st.binary(max_size=500))
def test_envelope_parser_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(FamchainError):
        SealedEnvelope.from_bytes(b"FCEV\x02" + data)


@FAST
@given(st.binary(max_size=80))
def test_share_parser_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(FamchainError):
        Share.from_bytes(b"\x01" + data)
