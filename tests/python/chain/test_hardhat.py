"""Beyond anvil: the client on a second, independent EVM node implementation, Hardhat's node (EDR).

A consortium runs Besu, GoQuorum or Geth, so nothing outside the devnet and the benchmark's setup may depend on
anvil's own RPC methods. Here the real ``famchain demo`` deploys on a ``hardhat node`` and plays every step,
the node's request log shows that only standard methods were called, and famchain's gas per operation there is
the gas on anvil. A static check keeps ``anvil_*`` / ``evm_*`` / ``hardhat_*`` out of the library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import closed_port
from typer.testing import CliRunner

from famchain.bench.runner import World, sample_record
from famchain.chain.rpc import connect
from famchain.cli import app
from famchain.devnet import DevnetInfo
from famchain.devnet._process import spawn, stop
from famchain.records.anchoring import MAX_BATCH, Strategy

ROOT = Path(__file__).resolve().parents[3]
HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"
CONFIG = ROOT / "tests" / "hardhat" / "hardhat.config.js"
PACKAGE = ROOT / "python" / "famchain"
DEMO_STEPS = 26
NON_STANDARD = re.compile(r"(?:anvil|evm|hardhat)_[a-z][A-Za-z]*")
"""RPC methods only development nodes serve (anvil's, Hardhat's and Ganache's test controls)."""
QUOTED_NON_STANDARD = re.compile(r"[\"'](" + NON_STANDARD.pattern + r")[\"']")
"""Such a method named in a string (``settings.anvil_binary`` is a function, not a method)."""
LOGGED_METHOD = re.compile(r"^(?:\x1b\[[0-9;]*m)?([a-z0-9]+_[A-Za-z0-9]+)(?:\x1b\[[0-9;]*m)?\s*$")
"""A request line of ``hardhat node``'s log: the method name alone on its line, maybe coloured."""


class HardhatNode:
    """A running ``hardhat node``: its URL and the file its request log goes to."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def methods(self) -> set[str]:
        """Every JSON-RPC method the node logged a request for so far."""
        found = set()
        for line in self.log.read_text(errors="replace").splitlines():
            match = LOGGED_METHOD.match(line.strip())
            if match:
                found.add(match.group(1))
        return found


@pytest.fixture(scope="module")
def hardhat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    """``hardhat node`` (chain id 31337, the public test mnemonic's accounts) on a free loopback port."""
    log = tmp_path_factory.mktemp("hardhat") / "hardhat.log"
    argv = [str(HARDHAT), "node", "--config", str(CONFIG), "--hostname", "127.0.0.1"]
    argv += ["--port", str(closed_port())]
    proc, url = spawn(
        "hardhat node", argv, log, timeout=60.0, env={"HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
    )
    try:
        yield HardhatNode(url, log)
    finally:
        stop(proc.pid)


def test_the_node_is_hardhat_not_anvil(hardhat: HardhatNode) -> None:
    version = str(connect(hardhat.url).client_version)

    assert version.startswith("HardhatNetwork/"), version
    assert "anvil" not in version.lower()


def test_demo_runs_on_hardhat_with_standard_rpc_only(hardhat: HardhatNode, devnet: DevnetInfo) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        app, ["demo", "--json", "--rpc-url", hardhat.url, "--ipfs-url", devnet.ipfs_url]
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert [step["number"] for step in summary["steps"]] == list(range(1, DEMO_STEPS + 1))
    assert all(step["ok"] for step in summary["steps"])
    assert "card of 6 records verified against the on-chain head" in summary["steps"][-1]["outcome"]
    methods = hardhat.methods()
    assert {"eth_sendRawTransaction", "eth_getTransactionReceipt", "eth_call", "eth_getLogs"} <= methods
    assert {m for m in methods if NON_STANDARD.fullmatch(m)} == set()
    assert "eth_sendTransaction" not in methods  # every transaction is signed by the client, none by the node


def test_gas_per_operation_on_hardhat_equals_anvil(hardhat: HardhatNode, devnet: DevnetInfo) -> None:
    measured = {}
    for name, url in (("hardhat", hardhat.url), ("anvil", devnet.rpc_url)):
        result = CliRunner(mix_stderr=False).invoke(
            app, ["bench", "--json", "--gas-on", url, "--ipfs-url", devnet.ipfs_url]
        )
        assert result.exit_code == 0, result.stdout + result.stderr
        measured[name] = json.loads(result.stdout)

    assert measured["hardhat"]["node"].startswith("HardhatNetwork/")
    assert measured["anvil"]["node"].startswith("anvil/")
    hardhat_gas, anvil_gas = measured["hardhat"]["gas"], measured["anvil"]["gas"]
    assert set(hardhat_gas) == set(anvil_gas)
    assert "anchor" in hardhat_gas
    for op, gas in anvil_gas.items():
        # Random salts and digests: a zero byte of calldata costs 4 gas instead of 16, nothing else differs.
        assert abs(hardhat_gas[op] - gas) <= 12 * 8, (op, hardhat_gas[op], gas)
    assert hardhat_gas["anchor"] <= 60_000


def test_big_batches_and_batched_rounds_run_on_hardhat(
    hardhat: HardhatNode, devnet: DevnetInfo, tmp_path: Path
) -> None:
    """The submit paths' transaction shapes on a second node: a full ``anchorBatch`` of :data:`MAX_BATCH`
    records (48 KB of calldata) and pipelined rounds sent as JSON-RPC batch requests."""
    world = World(hardhat.url, devnet.ipfs_url, tmp_path / "home")
    world.build()
    names = ["first", "second", "third"]
    world.enrol(names)
    doctor, first = world.client("doctor"), world.address("first")

    sealed = doctor.records.seal_many(first, [sample_record(n) for n in range(MAX_BATCH + 5)])
    batched = doctor.records.flush()

    assert (len(batched.anchored), batched.transactions) == (MAX_BATCH + 5, 2)
    assert [r.record_id for r in doctor.records.card(first)] == [e.record_id for e in sealed]

    singles = [doctor.records.seal(world.address(names[n % 3]), sample_record(n)) for n in range(6)]
    pipelined = doctor.records.flush(strategy=Strategy.PIPELINED)

    assert (len(pipelined.anchored), pipelined.transactions) == (6, 6)
    assert {e.record_id for e in pipelined.anchored} == {e.record_id for e in singles}
    assert hardhat.methods() >= {"eth_sendRawTransaction", "eth_getTransactionReceipt"}


def test_gas_on_needs_the_store(hardhat: HardhatNode) -> None:
    result = CliRunner(mix_stderr=False).invoke(app, ["bench", "--gas-on", hardhat.url])

    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "error: --gas-on needs --ipfs-url (the store the deployment's records go to)"
    ]


def test_no_development_rpc_methods_outside_the_devnet_and_the_bench() -> None:
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("devnet/", "bench/")):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for method in QUOTED_NON_STANDARD.findall(line):
                offending.append(f"{relative}:{number}: {method}")

    assert offending == []
