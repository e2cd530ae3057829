"""The `famchain demo` scenario against the session devnet (real anvil + the store process): every step
behaves as stated, as a function and through the CLI's ``--json`` summary."""

from __future__ import annotations

import json

from _cli_support import closed_port, one_error_line
from typer.testing import CliRunner

from famchain.cli import app
from famchain.demo import Step, run_demo
from famchain.devnet import DevnetInfo

STEPS = 26
ACTORS_OF_KEY_STEPS = {
    1: "deployer",
    8: "doctor",
    11: "resident, researcher",
    13: "insurer",
    14: "researcher",
    15: "doctor",
    22: "erdoc",
    24: "insurer, erdoc",
    25: "resident",
}


def test_run_demo_every_step_behaves_as_stated(devnet: DevnetInfo) -> None:
    steps: list[Step] = []

    returned = run_demo(steps.append, devnet.rpc_url, devnet.ipfs_url)

    assert returned == steps
    assert [s.number for s in steps] == list(range(1, STEPS + 1))
    failed = [(s.number, s.title, s.outcome) for s in steps if not s.ok]
    assert failed == []
    assert all(s.title and s.outcome for s in steps)
    for number, actor in ACTORS_OF_KEY_STEPS.items():
        assert steps[number - 1].actor == actor
    assert "cancelled" in steps[10].title
    assert "refused" in steps[14].title
    audit = steps[-1].outcome
    assert "card of 6 records verified against the on-chain head" in audit
    assert "below the threshold the physician opens nothing" in steps[22].title
    assert "exactly the emergency sections" in steps[23].title
    for event in (
        "EmergencyDeclared",
        "EmergencySharesReleased",
        "EmergencyOpened",
        "EmergencyReviewed",
        "ResidentRegistered",
        "AgreementAccepted",
        "RecordAnchored",
        "KeysReleased",
        "ConsentRevoked",
    ):
        assert f": {event}" in audit


def test_demo_json_through_the_cli(devnet: DevnetInfo) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        app, ["demo", "--json", "--rpc-url", devnet.rpc_url, "--ipfs-url", devnet.ipfs_url]
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"ok", "steps"}
    assert summary["ok"] is True
    assert len(summary["steps"]) == STEPS
    assert all(step["ok"] is True for step in summary["steps"])
    assert set(summary["steps"][0]) == {"number", "actor", "title", "outcome", "ok"}
    assert [step["number"] for step in summary["steps"]] == list(range(1, STEPS + 1))


def test_demo_against_a_dead_chain_fails_in_one_line(devnet: DevnetInfo) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner(mix_stderr=False).invoke(
        app, ["demo", "--json", "--rpc-url", down, "--ipfs-url", devnet.ipfs_url]
    )

    message = one_error_line(result)
    assert message.startswith(f"RPC endpoint {down} is unreachable")
