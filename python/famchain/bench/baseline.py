"""The naive baseline contract (``bench/baseline/NaiveHealthRecords.sol``), compiled and packaged.

The benchmark deploys the packaged ``baseline.json`` so that a run needs no compiler; ``python -m
famchain.bench.baseline --write`` refreshes it with the project's solc wrapper and the same compiler settings
as the famchain contracts, and ``--check`` (run by the tests) fails when it differs from a fresh compile.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from famchain.chain.artifacts import COMPILER_SETTINGS, Artifact, render
from famchain.errors import ConfigError

NAME = "NaiveHealthRecords"
SOURCE = f"bench/baseline/{NAME}.sol"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def packaged_path(root: Path | None = None) -> Path:
    """The committed compiled baseline inside the source tree."""
    return (root or _repo_root()) / "python" / "famchain" / "bench" / "baseline.json"


def compile_baseline(root: Path | None = None) -> dict[str, Any]:
    """Compile the baseline with ``tools/solc`` and return its artifact document."""
    import solcx

    root = root or _repo_root()
    content = (root / SOURCE).read_text()
    standard_input = {
        "language": "Solidity",
        "sources": {SOURCE: {"content": content}},
        "settings": COMPILER_SETTINGS,
    }
    output = solcx.compile_standard(standard_input, base_path=str(root), solc_binary=root / "tools" / "solc")
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ConfigError(errors[0].get("formattedMessage", "compilation failed").splitlines()[0])
    body = output["contracts"][SOURCE][NAME]
    return {
        "contractName": NAME,
        "sourceName": SOURCE,
        "abi": body["abi"],
        "bytecode": "0x" + body["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + body["evm"]["deployedBytecode"]["object"],
        "compiler": {
            "version": str(solcx.wrapper.get_solc_version(root / "tools" / "solc")),
            "settings": COMPILER_SETTINGS,
        },
        "sourceSha256": hashlib.sha256(content.encode()).hexdigest(),
    }


@cache
def load() -> Artifact:
    """The packaged baseline artifact."""
    text = resources.files("famchain.bench").joinpath("baseline.json").read_text()
    data = json.loads(text)
    return Artifact(NAME, data["abi"], data["bytecode"], data["deployedBytecode"])


def is_stale(root: Path | None = None) -> bool:
    """True when the packaged baseline differs from a fresh compile of its source."""
    path = packaged_path(root)
    return not path.exists() or path.read_text() != render(compile_baseline(root))


def main(argv: list[str] | None = None) -> int:
    """``--write`` refreshes the packaged baseline; without it, exit 1 when it is stale."""
    parser = argparse.ArgumentParser(prog="python -m famchain.bench.baseline")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.write:
        packaged_path().write_text(render(compile_baseline()))
        return 0
    if is_stale():
        sys.stderr.write(f"stale {packaged_path().name}: run `python -m famchain.bench.baseline --write`\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
