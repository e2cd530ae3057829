"""Calldata of a contract call and the arguments of an event log, straight with ``eth_abi``.

web3's own encoder walks every argument through its normalizers (ENS names, checksums, byte-string coercions)
in pure Python: for ``anchorBatch`` with 50 anchors that is about 25 ms a call, and a transaction encodes twice
(the gas estimate, then the signed bytes). The arguments famchain passes are already in canonical form, so
:func:`encode_call` encodes them with ``eth_abi`` alone (1.7 ms for the same batch) and gives up, returning
None, on anything that is not: a non-checksummed address, a byte string of the wrong length, keyword
arguments. The caller then falls back to web3, whose checks and error messages stay the ones users see.

Reading is the same story: web3's ``process_log`` costs about 2.5 ms per event (a patient's history is read
before every seal on a new block, a card read decodes an event per record); :func:`decode_log` gives the same
arguments for the event shapes the packaged contracts emit, and None for any other shape.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.contract.contract import ContractEvent, ContractFunction


def type_string(entry: dict[str, Any]) -> str:
    """The canonical ABI type of an input or output entry (tuples spelled out, as in a signature)."""
    if entry["type"].startswith("tuple"):
        inner = ",".join(type_string(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


@cache
def _selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


class _NotCanonical(Exception):
    """An argument web3 would have to normalize (or refuse) first."""


def _canonical(entry: dict[str, Any], value: Any) -> Any:
    kind = entry["type"]
    if kind.endswith("]"):
        inner = {**entry, "type": kind[: kind.rindex("[")]}
        if not isinstance(value, list | tuple):
            raise _NotCanonical
        return [_canonical(inner, v) for v in value]
    if kind == "tuple":
        components = entry["components"]
        if isinstance(value, dict):
            if set(value) != {c["name"] for c in components}:
                raise _NotCanonical
            return tuple(_canonical(c, value[c["name"]]) for c in components)
        if not isinstance(value, list | tuple) or len(value) != len(components):
            raise _NotCanonical
        return tuple(_canonical(c, v) for c, v in zip(components, value, strict=True))
    if kind == "address":
        if not isinstance(value, str) or to_checksum_address(value) != value:
            raise _NotCanonical
        return value
    if kind.startswith("bytes") and kind != "bytes":
        if not isinstance(value, bytes) or len(value) != int(kind[5:]):
            raise _NotCanonical
        return value
    if kind == "bytes":
        if not isinstance(value, bytes):
            raise _NotCanonical
        return value
    if kind.startswith(("uint", "int")) and (isinstance(value, bool) or not isinstance(value, int)):
        raise _NotCanonical
    return value


def encode_call(call: ContractFunction) -> bytes | None:
    """The calldata of ``call`` (selector and arguments), or None when web3 has to normalize its arguments."""
    abi = getattr(call, "abi", None)
    if not isinstance(abi, dict) or call.kwargs or abi.get("type") != "function":
        return None
    inputs = abi["inputs"]
    args = tuple(call.args)
    if len(args) != len(inputs):
        return None
    types = [type_string(i) for i in inputs]
    try:
        values = [_canonical(i, a) for i, a in zip(inputs, args, strict=True)]
        data = abi_encode(types, values)
    except (_NotCanonical, EncodingError, TypeError, ValueError):
        return None
    return _selector(f"{abi['name']}({','.join(types)})") + data


_STATIC_SCALARS = ("address", "bool", "uint", "int", "bytes")


def _plain(kind: str) -> bool:
    """A type :func:`decode_log` handles: a scalar (no tuple, no array)."""
    return kind == "string" or (kind.startswith(_STATIC_SCALARS) and not kind.endswith("]"))


@cache
def _event_shape(
    inputs: tuple[tuple[str, str, bool], ...],
) -> tuple[list[tuple[str, str]], list[str], list[str]] | None:
    if not all(_plain(kind) for _name, kind, _indexed in inputs):
        return None
    indexed = [(name, kind) for name, kind, flag in inputs if flag]
    data = [(name, kind) for name, kind, flag in inputs if not flag]
    return indexed, [name for name, _kind in data], [kind for _name, kind in data]


def _checksummed(kind: str, value: Any) -> Any:
    return to_checksum_address(value) if kind == "address" else value


def decode_log(event: dict[str, Any], topics: list[bytes], data: bytes) -> dict[str, Any] | None:
    """The arguments of a log of ``event`` (its ABI entry) as web3 names and types them (checksummed
    addresses, ``bytes``, ``int``), or None when the event has a tuple or array argument (web3 decodes those).

    An indexed ``string`` or ``bytes`` argument is its topic, the keccak of the value, as in web3.

    Raises:
        ValueError: the topics or data do not fit the event (a log of another event under its signature).
    """
    shape = _event_shape(tuple((i["name"], i["type"], bool(i.get("indexed"))) for i in event["inputs"]))
    if shape is None:
        return None
    indexed, names, kinds = shape
    if len(topics) != len(indexed) + 1:
        raise ValueError("topic count does not match the event")
    args: dict[str, Any] = {}
    for (name, kind), topic in zip(indexed, topics[1:], strict=True):
        if kind in ("string", "bytes"):
            args[name] = bytes(topic)
        else:
            args[name] = _checksummed(kind, abi_decode([kind], bytes(topic))[0])
    try:
        values = abi_decode(kinds, bytes(data)) if kinds else ()
    except Exception as exc:
        raise ValueError(f"log data does not match the event: {exc}") from None
    for name, kind, value in zip(names, kinds, values, strict=True):
        args[name] = _checksummed(kind, value)
    return args


def event_args(event: ContractEvent, log: Any) -> dict[str, Any]:
    """The arguments of ``log``, a log of ``event``: by :func:`decode_log`, or by web3 for an event shape it does
    not take and for a log that does not fit the event (web3's error then says why)."""
    try:
        args = decode_log(dict(event.abi), [bytes(t) for t in log["topics"]], bytes(log["data"]))
    except ValueError:
        args = None
    return args if args is not None else dict(event.process_log(log)["args"])
