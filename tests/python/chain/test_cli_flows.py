"""The CLI flows of issue #13 as the patient, the doctor and a grantee meet them: a wallet patient signing a
consent the CLI printed, an offline consent signature, requests answered by the patient, pending agreements and
amendments shown with their terms, record ids by prefix, queued records in --json."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from _cli_support import Cli, closed_port
from eth_account import Account

from _world import World
from famchain.devnet import DevnetInfo
from famchain.records.sections import section_mask


@pytest.fixture(autouse=True)
def _light_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")


@pytest.fixture
def cli(world: World, devnet: DevnetInfo, tmp_path: Path) -> Cli:
    path = tmp_path / "deployments" / "world.json"
    world.deployment.save(path)
    return Cli(devnet.rpc_url, devnet.ipfs_url, path, tmp_path / "keystores", world.home)


def _granted(world: World, grantee: str, sections: list[str]) -> bool:
    return world.chain.consents.is_authorized(world.patient.address, grantee, section_mask(sections))


def test_wallet_patient_signs_the_printed_typed_data(cli: Cli, world: World, tmp_path: Path) -> None:
    patient, insurer = world.patient.address, world.insurer.address
    unsigned = tmp_path / "consent.json"
    printed = cli.ok(
        None,
        "consent", "sign", insurer, "--patient", patient, "--sections", "diagnosis",
        "--purpose", "insurance-claim", "--print-typed-data", "-o", str(unsigned),
    )  # fmt: skip
    typed = json.loads(printed.stdout)  # stdout is the typed data alone: what the wallet signs
    assert typed["primaryType"] == "Consent"
    assert typed["message"]["patient"] == patient
    assert "eth_signTypedData_v4" in printed.stderr
    assert "--signature" in printed.stderr

    forged = Account.sign_typed_data(world.outsider.account.key, full_message=typed).signature.to_0x_hex()
    refused = cli.fail(world.insurer, "consent", "submit", str(unsigned), "--signature", forged, "--yes")
    assert f"not {patient}'s over this typed data" in refused
    no_signature = cli.fail(world.insurer, "consent", "submit", str(unsigned), "--yes")
    assert "--signature" in no_signature
    assert not _granted(world, insurer, ["diagnosis"])

    signature = Account.sign_typed_data(world.patient.account.key, full_message=typed).signature.to_0x_hex()
    cli.tx(world.insurer, "consent", "submit", str(unsigned), "--signature", signature)
    assert _granted(world, insurer, ["diagnosis"])
    assert not _granted(world, insurer, ["diagnosis", "prescriptions"])


def test_wallet_signature_over_the_bare_printed_json(cli: Cli, world: World, tmp_path: Path) -> None:
    patient, insurer = world.patient.address, world.insurer.address
    printed = cli.ok(
        None,
        "consent",
        "sign",
        insurer,
        "--patient",
        patient,
        "--print-typed-data",
        "-o",
        str(tmp_path / "c.json"),
    )
    typed_file = tmp_path / "typed.json"
    typed_file.write_text(printed.stdout)
    signature = Account.sign_typed_data(
        world.patient.account.key, full_message=json.loads(printed.stdout)
    ).signature.to_0x_hex()
    cli.tx(world.insurer, "consent", "submit", str(typed_file), "--signature", signature)
    assert _granted(world, insurer, ["all"])


def test_offline_consent_signature_needs_no_rpc(cli: Cli, world: World, tmp_path: Path) -> None:
    insurer = world.insurer.address
    out = tmp_path / "offline.json"
    down = f"http://127.0.0.1:{closed_port()}"
    signed = cli.ok(
        world.patient,
        "consent", "sign", insurer, "--offline", "--sections", "diagnosis,prescriptions", "--days", "10",
        "-o", str(out), FAMCHAIN_RPC_URL=down,
    )  # fmt: skip
    assert "consent sync" in signed.stdout
    assert "until " in signed.stdout
    assert json.loads(out.read_text())["signature"].startswith("0x")
    cli.tx(world.insurer, "consent", "submit", str(out))
    assert _granted(world, insurer, ["diagnosis", "prescriptions"])
    grant = world.chain.consents.grant_of(world.patient.address, insurer)
    assert abs(grant.expiresAt - (time.time() + 10 * 86400)) < 600  # this computer's clock, not the chain's


def test_offline_sign_without_deployment_file_and_sign_has_no_yes(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    message = cli.fail(
        world.patient, "consent", "sign", world.insurer.address, "--offline", "-o", str(tmp_path / "x.json"),
        FAMCHAIN_DEPLOYMENT=None,
    )  # fmt: skip
    assert "--deployment" in message
    assert "--yes" not in cli.ok(None, "consent", "sign", "--help").stdout
    assert (
        cli.invoke(world.patient, "consent", "sign", world.insurer.address, "-o", "x", "--yes").exit_code == 2
    )
