"""Turns revert data into plain sentences, using the custom errors declared in the packaged ABIs."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError

from famchain.chain import artifacts
from famchain.chain.codec import type_string
from famchain.chain.refusals import REFUSALS
from famchain.errors import ContractRevertError
from famchain.i18n import N_, _

_PANICS = {
    0x01: N_("assertion failed"),
    0x11: N_("arithmetic overflow"),
    0x12: N_("division by zero"),
    0x32: N_("array index out of bounds"),
}

SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = dict(REFUSALS)
"""Error name -> sentence builder: every custom error of the packaged ABIs (:mod:`famchain.chain.refusals`),
refined here where a table reads better; an error missing from both gets a generic sentence."""


def sentence(name: str) -> Callable[[Callable[[dict[str, Any]], str]], Callable[[dict[str, Any]], str]]:
    """Register a sentence builder for a custom error name."""

    def register(fn: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        SENTENCES[name] = fn
        return fn

    return register


@cache
def _errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for name in artifacts.DEPLOYABLE:
        for item in artifacts.load(name).abi:
            if item.get("type") != "error":
                continue
            types = [type_string(i) for i in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = (
                item["name"],
                types,
                [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])],
            )
    return table


def _fmt(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        return to_checksum_address(value)
    return str(value)


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def decode_revert(data: bytes | str | None) -> ContractRevertError:
    """Decode revert data (selector + ABI-encoded arguments) into a :class:`ContractRevertError`."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data or b""
    if len(raw) < 4:
        return ContractRevertError(_("the contract refused the call without a reason"))
    selector, body = raw[:4], raw[4:]
    if selector == bytes.fromhex("08c379a0"):
        (reason,) = abi_decode(["string"], body)
        return ContractRevertError(
            _("the contract refused the call: {reason}").format(reason=reason), "Error"
        )
    if selector == bytes.fromhex("4e487b71"):
        (code,) = abi_decode(["uint256"], body)
        return ContractRevertError(
            _("contract panic: {reason}").format(reason=_(_PANICS[code]) if code in _PANICS else hex(code)),
            "Panic",
        )
    known = _errors().get(selector)
    if known is None:
        return ContractRevertError(
            _("the contract refused the call (unknown error {selector})").format(
                selector="0x" + selector.hex()
            )
        )
    name, types, names = known
    try:
        values = dict(zip(names, abi_decode(types, body), strict=True))
    except Exception:  # malformed revert payload: still report which error it was
        values = {}
    builder = SENTENCES.get(name)
    if builder is not None:
        return ContractRevertError(builder(values), name)
    args = ", ".join(f"{k} {_fmt(v)}" for k, v in values.items())
    return ContractRevertError(f"{_words(name)}" + (f" ({args})" if args else ""), name)


def revert_from_exception(exc: ContractLogicError) -> ContractRevertError:
    """Decode the revert data web3 attached to a failed call or estimate."""
    data = exc.data if isinstance(exc.data, str | bytes) else None
    if data is None and exc.message:
        found = re.search(r"0x[0-9a-fA-F]{8,}", str(exc.message))
        data = found.group(0) if found else None
    if data is None:
        return ContractRevertError(
            _("the contract refused the call: {reason}").format(reason=exc.message or exc)
        )
    return decode_revert(data)


_PARAMETER_RANGES = {
    1: ("custodian-threshold", N_("from 1 to 255 custodians")),
    2: ("emergency-duration", N_("from 1 to 86,400 seconds: an emergency lasts at most 24 hours")),
    3: ("physician-daily-limit", N_("at least 1 declaration a day")),
    4: ("institution-daily-limit", N_("at least 1 declaration a day")),
}


@sentence("ConsortiumInvalidParameter")
def _invalid_parameter(values: dict[str, Any]) -> str:
    which = int(values.get("parameter", 0))
    name, allowed = _PARAMETER_RANGES.get(which, ("parameter", N_("a valid parameter")))
    return _(
        "{name} cannot be {value}: it must be {allowed} "
        "(`famchain consortium propose set-parameter --parameter NAME --value N`)"
    ).format(name=name, value=values.get("value"), allowed=_(allowed))
