"""The direct calldata encoder (famchain.chain.codec) gives web3's bytes for every function of every packaged
contract, and declines (so web3 decides) whatever web3 would have to normalize or refuse."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from famchain.chain import artifacts
from famchain.chain.codec import decode_log, encode_call, type_string

ADDRESS = "0x" + "11" * 20


def _value(entry: dict[str, Any], rng: random.Random) -> Any:
    kind = entry["type"]
    if kind.endswith("]"):
        inner = {**entry, "type": kind[: kind.rindex("[")]}
        size = kind[kind.rindex("[") + 1 : -1]
        return [_value(inner, rng) for _ in range(int(size) if size else rng.randrange(4))]
    if kind == "tuple":
        return {c["name"]: _value(c, rng) for c in entry["components"]}
    if kind == "address":
        return to_checksum_address(rng.randbytes(20))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "string":
        return "".join(rng.choice("abc 病历") for _ in range(rng.randrange(40)))
    if kind == "bytes":
        return rng.randbytes(rng.randrange(100))
    if kind.startswith("bytes"):
        return rng.randbytes(int(kind[5:]))
    if kind.startswith("uint"):
        return rng.randrange(2 ** int(kind[4:] or 256))
    if kind.startswith("int"):
        bits = int(kind[3:] or 256)
        return rng.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1))
    raise AssertionError(f"no generator for {kind}")


def _functions() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, item)
        for name in artifacts.DEPLOYABLE
        for item in artifacts.load(name).abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    ]


@pytest.mark.parametrize(
    ("contract", "item"), _functions(), ids=lambda v: v if isinstance(v, str) else v["name"]
)
def test_every_function_encodes_as_web3_does(contract: str, item: dict[str, Any]) -> None:
    c = Web3().eth.contract(address=to_checksum_address(ADDRESS), abi=artifacts.load(contract).abi)
    rng = random.Random(f"{contract}.{item['name']}")
    signature = f"{item['name']}({','.join(type_string(i) for i in item['inputs'])})"
    for _ in range(5):
        args = [_value(i, rng) for i in item["inputs"]]
        data = encode_call(c.get_function_by_signature(signature)(*args))
        assert data is not None, (item["name"], args)
        assert "0x" + data.hex() == c.encode_abi(signature, args=args)


def _anchor_call(**overrides: Any) -> Any:
    c = Web3().eth.contract(address=to_checksum_address(ADDRESS), abi=artifacts.load("RecordRegistry").abi)
    anchor = {
        "salt": b"\x01" * 32,
        "previous": b"\x00" * 32,
        "cidDigest": b"\x02" * 32,
        "sections": 7,
        "cidCodec": 0x55,
        "kind": 0,
    }
    args: dict[str, Any] = {"patient": to_checksum_address("0x" + "22" * 20), "head": b"\x00" * 24}
    args.update(overrides)
    anchor.update(args.pop("anchor", {}))
    return c.functions.anchor(args["patient"], args["head"], anchor)


def test_a_canonical_anchor_is_encoded() -> None:
    assert encode_call(_anchor_call()) is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"patient": "0x" + "ab" * 20},  # not checksummed: web3 refuses it
        {"head": b"\x00" * 23},  # short: web3 refuses it, eth_abi would pad it
        {"head": "0x" + "00" * 24},  # hex text: web3 converts it
        {"anchor": {"sections": True}},
        {"anchor": {"sections": "7"}},
        {"anchor": {"sections": 2**32}},  # out of range
    ],
    ids=["lowercase-address", "short-bytes24", "hex-text", "bool-as-int", "text-as-int", "overflow"],
)
def test_anything_web3_would_normalize_or_refuse_is_left_to_web3(overrides: dict[str, Any]) -> None:
    try:
        call = _anchor_call(**overrides)
    except Exception:
        return
    assert encode_call(call) is None


def _events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, item)
        for name in artifacts.DEPLOYABLE
        for item in artifacts.load(name).abi
        if item["type"] == "event"
    ]


def _log(item: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The log an emitter of ``item`` with ``args`` writes, in the form web3's get_logs hands it over."""
    signature = f"{item['name']}({','.join(type_string(i) for i in item['inputs'])})"
    topics = [HexBytes(keccak(text=signature))]
    for i in item["inputs"]:
        if i["indexed"]:
            topics.append(HexBytes(abi_encode([i["type"]], [args[i["name"]]])))
    data = [i for i in item["inputs"] if not i["indexed"]]
    return {
        "address": to_checksum_address(ADDRESS),
        "topics": topics,
        "data": HexBytes(abi_encode([i["type"] for i in data], [args[i["name"]] for i in data])),
        "blockNumber": 7,
        "transactionHash": HexBytes(b"\x01" * 32),
        "transactionIndex": 0,
        "blockHash": HexBytes(b"\x02" * 32),
        "logIndex": 3,
        "removed": False,
    }


@pytest.mark.parametrize(
    ("contract", "item"), _events(), ids=lambda v: v if isinstance(v, str) else v["name"]
)
def test_every_event_decodes_as_web3_decodes_it(contract: str, item: dict[str, Any]) -> None:
    c = Web3().eth.contract(address=to_checksum_address(ADDRESS), abi=artifacts.load(contract).abi)
    rng = random.Random(f"{contract}.{item['name']}.log")
    for _ in range(5):
        args = {i["name"]: _value(i, rng) for i in item["inputs"]}
        log = _log(item, args)
        expected = dict(c.events[item["name"]]().process_log(log)["args"])

        decoded = decode_log(item, list(log["topics"]), log["data"])

        assert decoded == expected
        assert {k: type(v) for k, v in decoded.items()} == {k: type(v) for k, v in expected.items()}


def test_a_log_that_does_not_fit_its_event_is_refused() -> None:
    item = next(i for _c, i in _events() if i["name"] == "RecordAnchored")
    log = _log(item, {i["name"]: _value(i, random.Random(1)) for i in item["inputs"]})

    with pytest.raises(ValueError, match="topic count"):
        decode_log(item, list(log["topics"])[:-1], log["data"])
    with pytest.raises(ValueError, match="log data"):
        decode_log(item, list(log["topics"]), log["data"][:-40])
