"""The packaged ABI/bytecode (and the benchmark's baseline) must be exactly what the sources compile to today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from famchain.chain import artifacts

ROOT = Path(__file__).resolve().parents[2]


def _tools() -> ModuleType:
    spec = importlib.util.spec_from_file_location("famchain_tools_artifacts", ROOT / "tools" / "artifacts.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_packaged_artifacts_equal_a_fresh_compile() -> None:
    assert _tools().stale(ROOT) == [], "run `make artifacts` and commit the packaged artifacts"


def test_every_deployable_contract_is_packaged_with_abi_and_bytecode() -> None:
    for name in artifacts.DEPLOYABLE:
        art = artifacts.load(name)
        assert len(art.bytecode) > 1000
        assert len(art.deployed_bytecode) > 1000
        int(art.bytecode, 16)  # well-formed hex
        assert any(item.get("type") == "event" for item in art.abi)
