"""Every custom error the contracts can revert with reaches the user as a sentence: what happened, what to do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from famchain.chain import artifacts
from famchain.chain.revert import SENTENCES, decode_revert


def _type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in entry["components"]) + ")" + entry["type"][5:]
    return str(entry["type"])


def _custom_errors() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for name in artifacts.DEPLOYABLE:
        for item in artifacts.load(name).abi:
            if item.get("type") == "error":
                found[item["name"]] = item["inputs"]
    return found


ERRORS = _custom_errors()
ADDRESS = "0x00000000000000000000000000000000000000aa"


def _sample(kind: str) -> Any:
    if kind == "address":
        return ADDRESS
    if kind.startswith("bytes"):
        return b"\x11" * int(kind[5:])
    if kind == "string":
        return "famchain"
    return 1


def test_the_abis_declare_the_errors_users_meet() -> None:
    # a guard against walking an empty list: the five contracts declare about a hundred errors
    assert len(ERRORS) > 90
    assert {"InvalidAccountNonce", "ConsentRegistryInvalidGrantee", "ConsortiumProposalExecuted"} <= set(
        ERRORS
    )


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_custom_error_has_a_sentence(name: str) -> None:
    inputs = ERRORS[name]
    assert name in SENTENCES, f"{name} has no sentence in famchain.chain.refusals"
    types = [_type(i) for i in inputs]
    selector = function_signature_to_4byte_selector(f"{name}({','.join(types)})")
    data = selector + abi_encode(types, [_sample(t) for t in types])
    refused = decode_revert(data)
    message = str(refused)
    assert refused.error_name == name
    # what happened, then what to do, in words: never the error's own name or a Python value
    what, sep, todo = message.partition(": ")
    assert sep, message
    assert what.strip(), message
    assert todo.strip(), message
    assert name not in message, message
    assert not re.search(r"[a-z][A-Z][a-z]+[A-Z]", message), message
    assert "None" not in message, message
    assert "?" not in message, message


@pytest.mark.parametrize(
    ("name", "types", "values", "expected"),
    [
        (
            "InvalidAccountNonce",
            ["address", "uint256"],
            [ADDRESS, 1],
            "was already used or replaced (its nonce is now 1): sign a new message",
        ),
        ("ConsortiumProposalExecuted", ["uint256"], [7], "proposal 7 has already passed"),
        (
            "ConsentRegistryInvalidGrantee",
            ["address"],
            [ADDRESS],
            "is not an active practitioner of a consortium member",
        ),
    ],
)
def test_the_raw_errors_users_reported_read_as_sentences(
    name: str, types: list[str], values: list[Any], expected: str
) -> None:
    data = function_signature_to_4byte_selector(f"{name}({','.join(types)})") + abi_encode(types, values)
    message = str(decode_revert(data))
    assert expected in message
    assert "invalid account nonce" not in message.lower()
    assert "currentNonce" not in message
