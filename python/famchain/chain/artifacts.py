"""Compiled contract artifacts packaged with the Python package.

The Python side deploys and talks to the contracts without Node: ABI and bytecode are compiled once (by the
project's single solc-js wrapper, ``tools/solc``) and committed under ``famchain/chain/artifacts/``.
``python -m famchain.chain.artifacts --write`` refreshes them; ``--check`` (run by the tests) fails when the
packaged files differ from a fresh compile.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from famchain.errors import ConfigError

DEPLOYABLE = ("Consortium", "ResidentRegistry", "ConsentRegistry", "RecordRegistry")
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


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


@cache
def load(name: str) -> Artifact:
    """Load a packaged artifact by contract name.

    Raises:
        ConfigError: no artifact of that name is packaged.
    """
    try:
        text = resources.files("famchain.chain").joinpath("artifacts", f"{name}.json").read_text()
    except FileNotFoundError:
        raise ConfigError(f"no packaged artifact for contract {name!r}") from None
    data = json.loads(text)
    return Artifact(name, data["abi"], data["bytecode"], data["deployedBytecode"])


def compile_sources(
    root: Path | None = None, names: tuple[str, ...] = DEPLOYABLE
) -> dict[str, dict[str, Any]]:
    """Compile ``contracts/`` with the wrapper compiler and return artifact documents by contract name."""
    import solcx

    root = root or _repo_root()
    sources = {
        path.relative_to(root).as_posix(): {"content": path.read_text()}
        for path in sorted((root / "contracts").rglob("*.sol"))
    }
    standard_input = {"language": "Solidity", "sources": sources, "settings": COMPILER_SETTINGS}
    output = solcx.compile_standard(standard_input, base_path=str(root), solc_binary=root / "tools" / "solc")
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ConfigError(errors[0].get("formattedMessage", "compilation failed").splitlines()[0])
    version = solcx.wrapper.get_solc_version(root / "tools" / "solc")
    found: dict[str, dict[str, Any]] = {}
    for unit, contracts in output["contracts"].items():
        for cname, body in contracts.items():
            if cname in names and unit.startswith("contracts/"):
                found[cname] = {
                    "contractName": cname,
                    "sourceName": unit,
                    "abi": body["abi"],
                    "bytecode": "0x" + body["evm"]["bytecode"]["object"],
                    "deployedBytecode": "0x" + body["evm"]["deployedBytecode"]["object"],
                    "compiler": {"version": str(version), "settings": COMPILER_SETTINGS},
                    "sourceSha256": hashlib.sha256(sources[unit]["content"].encode()).hexdigest(),
                }
    missing = set(names) - set(found)
    if missing:
        raise ConfigError(f"contracts not found in contracts/: {', '.join(sorted(missing))}")
    return found


def packaged_dir(root: Path | None = None) -> Path:
    """Folder of the committed artifact files inside the source tree."""
    return (root or _repo_root()) / "python" / "famchain" / "chain" / "artifacts"


def render(doc: dict[str, Any]) -> str:
    """Canonical text of an artifact file (stable key order, trailing newline)."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def stale(root: Path | None = None) -> list[str]:
    """Names of packaged artifacts that differ from a fresh compile (missing files count as stale)."""
    folder = packaged_dir(root)
    out = []
    for name, doc in compile_sources(root).items():
        path = folder / f"{name}.json"
        if not path.exists() or path.read_text() != render(doc):
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    """``--write`` refreshes the packaged artifacts; ``--check`` exits 1 when they are stale."""
    parser = argparse.ArgumentParser(prog="python -m famchain.chain.artifacts")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.write:
        folder = packaged_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for name, doc in compile_sources().items():
            (folder / f"{name}.json").write_text(render(doc))
        return 0
    names = stale()
    if names:
        sys.stderr.write(f"stale artifacts: {', '.join(names)}; run `make artifacts`\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
