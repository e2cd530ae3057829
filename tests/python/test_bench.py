"""`famchain bench --quick --json` runs end to end and reports every stable key with sane values.

No timing is asserted: the figures depend on the machine. What must hold anywhere: every operation costs gas,
anchor gas does not grow with the card, and reading a card takes a handful of RPC calls, not one per record.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from famchain.bench.runner import OPS, QUICK
from famchain.cli import app

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    """One quick benchmark run (a fresh devnet of its own)."""
    result = CliRunner().invoke(app, ["bench", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_bench_json_has_exactly_the_stable_keys(figures: dict[str, Any]) -> None:
    assert set(figures) == {
        "startup",
        "signing",
        "gas",
        "baseline_gas",
        "throughput",
        "read",
        "read_gated",
        "scale",
        "peak_rss_mb",
    }
    assert set(figures["startup"]) == {
        "import_typer_s",
        "help_s",
        "account_list_s",
        "help_ratio",
        "account_list_ratio",
    }
    assert set(figures["signing"]) == {"native_ms", "coincurve_ms"}
    assert set(figures["gas"]) == set(OPS)
    assert set(figures["baseline_gas"]) == set(OPS)
    assert set(figures["throughput"]) == {
        "devnet_raw_batch_per_s",
        "devnet_transfers_per_s",
        "devnet_transfers_before_after_per_s",
        "devnet_transfer_rounds_per_s",
        "submit_per_s",
        "submit_batched_per_s",
    }
    assert set(figures["read"]) == {"records", "seconds", "rpc_calls"}
    assert set(figures["scale"]) == {
        "anchor_gas_first",
        "anchor_gas_10000th",
        "is_authorized_gas_10000_grants",
    }


def test_bench_gas_is_positive_for_every_operation(figures: dict[str, Any]) -> None:
    for side in ("gas", "baseline_gas"):
        for op, gas in figures[side].items():
            assert isinstance(gas, int), (side, op, gas)
            assert gas > 0, (side, op, gas)
    # A batch shares the transaction overhead: per record it costs less than one anchor.
    assert figures["gas"]["anchor_batch_per_record"] < figures["gas"]["anchor"]


def test_bench_throughput_and_memory_are_positive_numbers(figures: dict[str, Any]) -> None:
    for name, value in figures["throughput"].items():
        for rate in value if isinstance(value, list) else [value]:
            assert isinstance(rate, float), (name, rate)
            assert rate > 0, (name, rate)
    assert isinstance(figures["peak_rss_mb"], float)
    assert figures["peak_rss_mb"] > 0


def test_bench_anchor_gas_is_flat_in_card_length(figures: dict[str, Any]) -> None:
    scale = figures["scale"]
    assert 0 < scale["anchor_gas_10000th"] <= scale["anchor_gas_first"]
    assert scale["is_authorized_gas_10000_grants"] > 0


def test_bench_card_read_needs_few_rpc_calls(figures: dict[str, Any]) -> None:
    read = figures["read"]
    assert read["records"] == QUICK.submit_batched
    assert isinstance(read["seconds"], float)
    assert read["seconds"] > 0
    assert 0 < read["rpc_calls"] <= 10 < read["records"]


def test_bench_card_read_through_a_gated_gateway_signs_once_and_stays_few_calls(
    figures: dict[str, Any],
) -> None:
    gated = figures["read_gated"]
    assert set(gated) == {
        "records",
        "seconds",
        "seconds_gateway_process",
        "rpc_calls",
        "gateway_rpc_calls",
        "tokens_signed",
    }
    assert gated["seconds_gateway_process"] > 0
    assert gated["records"] == figures["read"]["records"]
    assert gated["tokens_signed"] == 1
    assert 0 < gated["rpc_calls"] <= 10 < gated["records"]
    assert 0 < gated["gateway_rpc_calls"] <= 10


def test_bench_startup_and_signing_are_measured(figures: dict[str, Any]) -> None:
    startup = figures["startup"]
    for key in ("import_typer_s", "help_s", "account_list_s"):
        assert startup[key] > 0, key
    assert startup["help_ratio"] == round(startup["help_s"] / startup["import_typer_s"], 2)
    signing = figures["signing"]
    assert signing["native_ms"] > 0
    assert signing["coincurve_ms"] is not None, "coincurve is a pinned dependency"
    assert signing["coincurve_ms"] > 0


def test_bench_startup_alone_reports_the_three_commands() -> None:
    result = CliRunner().invoke(app, ["bench", "--startup", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"startup", "signing"}
    assert figures["signing"]["coincurve_ms"] is not None
    startup = figures["startup"]
    assert startup["help_s"] > 0
    assert startup["account_list_s"] > 0
    assert startup["import_typer_s"] > 0
