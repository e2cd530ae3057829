"""Compiled contract artifacts packaged with the Python package.

The Python side deploys and talks to the contracts without Node: ABI and bytecode are compiled once (by the
project's single solc-js wrapper, ``tools/solc``) and committed under ``famchain/chain/artifacts/``.
``tools/artifacts.py --write`` (``make artifacts``, development only: it needs the source tree and the
compiler) refreshes them; the tests fail when the packaged files differ from a fresh compile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from famchain.errors import ConfigError
from famchain.i18n import _

DEPLOYABLE = ("Consortium", "ResidentRegistry", "ConsentRegistry", "RecordRegistry", "EmergencyAccess")
"""The contracts famchain deploys, in deployment order."""

COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    "evmVersion": "cancun",
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}
"""Kept equal to foundry.toml so forge and the packaged artifacts produce the same bytecode."""


@dataclass(frozen=True)
class Artifact:
    """ABI and creation bytecode of one compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


@cache
def load(name: str) -> Artifact:
    """Load a packaged artifact by contract name.

    Raises:
        ConfigError: no artifact of that name is packaged.
    """
    try:
        text = resources.files("famchain.chain").joinpath("artifacts", f"{name}.json").read_text()
    except FileNotFoundError:
        raise ConfigError(_("no packaged artifact for contract {name!r}").format(name=name)) from None
    data = json.loads(text)
    return Artifact(name, data["abi"], data["bytecode"], data["deployedBytecode"])


def render(doc: dict[str, Any]) -> str:
    """Canonical text of an artifact file (stable key order, trailing newline)."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"
