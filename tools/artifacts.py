"""Development tooling: compile the contracts and the benchmark baseline into the packaged artifacts.

Run from the repository (``make artifacts``)::

    .venv/bin/python tools/artifacts.py --write    # refresh python/famchain/chain/artifacts and bench/baseline.json
    .venv/bin/python tools/artifacts.py            # exit 1 when the packaged files are stale

Not part of the installed package: it needs the source tree, ``tools/solc`` and ``node_modules``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

from famchain.bench.baseline import NAME as BASELINE
from famchain.bench.baseline import SOURCE as BASELINE_SOURCE
from famchain.chain.artifacts import COMPILER_SETTINGS, DEPLOYABLE, render
from famchain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _compile(root: Path, sources: dict[str, str]) -> dict[str, Any]:
    import solcx

    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": COMPILER_SETTINGS,
    }
    output: dict[str, Any] = solcx.compile_standard(
        standard_input, base_path=str(root), solc_binary=root / "tools" / "solc"
    )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ConfigError(errors[0].get("formattedMessage", "compilation failed").splitlines()[0])
    return output


def _document(root: Path, unit: str, name: str, body: dict[str, Any], content: str) -> dict[str, Any]:
    import solcx

    return {
        "contractName": name,
        "sourceName": unit,
        "abi": body["abi"],
        "bytecode": "0x" + body["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + body["evm"]["deployedBytecode"]["object"],
        "compiler": {
            "version": str(solcx.wrapper.get_solc_version(root / "tools" / "solc")),
            "settings": COMPILER_SETTINGS,
        },
        "sourceSha256": hashlib.sha256(content.encode()).hexdigest(),
    }


def compile_contracts(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Compile ``contracts/`` and return the artifact documents of the deployable contracts by name."""
    sources = {
        path.relative_to(root).as_posix(): path.read_text() for path in sorted((root / "contracts").rglob("*.sol"))
    }
    output = _compile(root, sources)
    found = {
        name: _document(root, unit, name, body, sources[unit])
        for unit, contracts in output["contracts"].items()
        for name, body in contracts.items()
        if name in DEPLOYABLE and unit.startswith("contracts/")
    }
    missing = set(DEPLOYABLE) - set(found)
    if missing:
        raise ConfigError(f"contracts not found in contracts/: {', '.join(sorted(missing))}")
    return found


def compile_baseline(root: Path = ROOT) -> dict[str, Any]:
    """Compile the benchmark's naive baseline contract."""
    content = (root / BASELINE_SOURCE).read_text()
    output = _compile(root, {BASELINE_SOURCE: content})
    return _document(root, BASELINE_SOURCE, BASELINE, output["contracts"][BASELINE_SOURCE][BASELINE], content)


def targets(root: Path = ROOT) -> dict[Path, str]:
    """Every packaged artifact file and the text a fresh compile gives it."""
    folder = root / "python" / "famchain" / "chain" / "artifacts"
    out = {folder / f"{name}.json": render(doc) for name, doc in compile_contracts(root).items()}
    out[root / "python" / "famchain" / "bench" / "baseline.json"] = render(compile_baseline(root))
    return out


def stale(root: Path = ROOT) -> list[str]:
    """Packaged files that differ from a fresh compile (missing ones count as stale)."""
    return [
        path.name for path, text in targets(root).items() if not path.exists() or path.read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    """``--write`` refreshes the packaged artifacts; without it, exit 1 when they are stale."""
    parser = argparse.ArgumentParser(prog="tools/artifacts.py")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    if args.write:
        for path, text in targets(args.root).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return 0
    names = stale(args.root)
    if names:
        sys.stderr.write(f"stale artifacts: {', '.join(names)}; run `make artifacts`\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
