"""The packaged ABI/bytecode must be exactly what the contracts compile to today."""

from __future__ import annotations

from famchain.chain import artifacts


def test_packaged_artifacts_equal_a_fresh_compile() -> None:
    assert artifacts.stale() == [], "run `make artifacts` and commit python/famchain/chain/artifacts/"


def test_every_deployable_contract_is_packaged_with_abi_and_bytecode() -> None:
    for name in artifacts.DEPLOYABLE:
        art = artifacts.load(name)
        assert len(art.bytecode) > 1000
        assert len(art.deployed_bytecode) > 1000
        int(art.bytecode, 16)  # well-formed hex
        assert any(item.get("type") == "event" for item in art.abi)
