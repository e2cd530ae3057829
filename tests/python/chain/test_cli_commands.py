"""The CLI commands the walkthrough does not reach, their human output, and their main refusals:
devnet up/status/down, profile update, a resident-proposed agreement with `agreement share`, removing a
practitioner, approvals signed by the wrong key or relayed twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli_support import Cli
from typer.testing import CliRunner

from _world import PROFILE, World
from famchain import __version__
from famchain.cli import app
from famchain.cli._output import when
from famchain.devnet._process import alive
from famchain.records.model import Attachment, parse_record

pytestmark = pytest.mark.usefixtures("light_keystores")

VISIT = {
    "sections": {
        "present_illness": "Sore throat.",
        "diagnosis": [{"text": "Pharyngitis", "code": "J02.9"}],
        "prescriptions": [{"drug": "Lozenges", "days": 5}],
    }
}
AMENDED = {"sections": {"diagnosis": [{"text": "Streptococcal pharyngitis", "code": "J02.0"}]}}


def _file(tmp_path: Path, name: str, document: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False))
    return str(path)


def _submit(cli: Cli, world: World, tmp_path: Path, document: object = VISIT) -> str:
    visit = _file(tmp_path, "visit.json", document)
    out = cli.json(
        world.family_doctor, "record", "submit", "--patient", world.patient.address, "--file", visit, "--yes"
    )
    return str(out["record"])


def test_version() -> None:
    result = CliRunner(mix_stderr=False).invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_devnet_up_status_down(tmp_path: Path) -> None:
    runner = CliRunner(mix_stderr=False)
    state = tmp_path / "devnet"

    missing = runner.invoke(app, ["devnet", "status", "--dir", str(state), "--json"])
    assert missing.exit_code == 1
    assert json.loads(missing.stdout) == {"running": False}

    up = runner.invoke(app, ["devnet", "up", "--dir", str(state), "--json"])
    assert up.exit_code == 0, up.stdout + up.stderr
    info = json.loads(up.stdout)
    try:
        assert info["running"] is True
        assert info["chain_id"] == 31337
        assert info["rpc_url"].startswith("http://127.0.0.1:")
        assert alive(info["anvil_pid"])
        assert alive(info["store_pid"])
        human = runner.invoke(app, ["devnet", "up", "--dir", str(state)])  # already running: reused
        assert f"export FAMCHAIN_RPC_URL={info['rpc_url']}" in human.stdout
        status = runner.invoke(app, ["devnet", "status", "--dir", str(state), "--json"])
        assert status.exit_code == 0
        assert json.loads(status.stdout)["anvil_pid"] == info["anvil_pid"]
    finally:
        down = runner.invoke(app, ["devnet", "down", "--dir", str(state)])
    assert down.exit_code == 0
    assert down.stdout.strip() == f"devnet stopped ({state})"
    assert not alive(info["anvil_pid"])
    assert not alive(info["store_pid"])
    stopped = runner.invoke(app, ["devnet", "status", "--dir", str(state)])
    assert stopped.exit_code == 1
    assert stopped.stdout.startswith(f"no devnet in {state}")


def test_update_profile_reaches_patient_and_family_doctor(cli: Cli, world: World, tmp_path: Path) -> None:
    p, d = world.patient, world.family_doctor
    assert cli.json(d, "resident", "show", p.address)["basic_information"] == PROFILE
    moved = {**PROFILE, "address": "Room 3, 12 Hutong Lane", "contact": "+86 137 0000 0000"}
    before = cli.json(p, "resident", "show")["profile_cid"]
    cli.tx(p, "resident", "update-profile", "--profile", _file(tmp_path, "moved.json", moved))
    mine = cli.json(p, "resident", "show")
    assert mine["basic_information"] == moved
    assert mine["profile_cid"] != before
    assert cli.json(d, "resident", "show", p.address)["basic_information"] == moved
    assert cli.json(world.specialist, "resident", "show", p.address)["basic_information"] is None
    events = [e["event"] for e in cli.json(p, "audit", "--patient", p.address)["events"]]
    assert events.count("ProfileUpdated") == 1

    assert "already registered" in cli.fail(
        p, "resident", "register", "--profile", _file(tmp_path, "p.json", PROFILE), "--yes"
    )
    message = cli.fail(
        p, "resident", "update-profile", "--profile", _file(tmp_path, "bad.json", {"age": 3}), "--yes"
    )
    assert "profile.age: unknown field" in message
    assert cli.json(p, "resident", "show")["basic_information"] == moved


def test_resident_proposes_doctor_accepts_then_resident_shares(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    resident, doctor = world.outsider, world.family_doctor
    cli.tx(resident, "resident", "register", "--profile", _file(tmp_path, "profile.json", PROFILE))
    cli.tx(resident, "agreement", "propose", doctor.address, "--sections", "all", "--term-days", "30")
    assert "no agreement proposed" in cli.fail(
        world.specialist, "agreement", "accept", resident.address, "--yes"
    )
    cli.tx(doctor, "agreement", "accept", resident.address)
    shown = cli.json(doctor, "agreement", "show", resident.address)
    assert shown["active"]["doctor"] == doctor.address
    assert shown["pending"] == []  # v2: proposals are per (resident, doctor) pair, listed
    # the doctor's client holds no key yet: only the resident's client can release it
    assert cli.json(doctor, "resident", "show", resident.address)["basic_information"] is None
    cli.tx(resident, "agreement", "share")
    assert cli.json(doctor, "resident", "show", resident.address)["basic_information"] == PROFILE


def test_terminate_by_the_doctor_and_share_without_agreement(cli: Cli, world: World) -> None:
    p, d = world.patient, world.family_doctor
    cli.tx(d, "agreement", "terminate", p.address)
    assert cli.json(p, "agreement", "show")["active"] is None
    assert cli.fail(p, "agreement", "share", "--yes") == f"{p.address} has no active family doctor"
    no_agreement = (
        f"{p.address} has no family-doctor agreement in force: propose one (`famchain agreement propose`)"
    )
    assert cli.fail(p, "agreement", "renew", "--yes").endswith(no_agreement)
    again = cli.fail(d, "agreement", "terminate", p.address, "--yes")
    assert again.endswith(no_agreement)


def test_remove_doctor(cli: Cli, world: World, tmp_path: Path) -> None:
    pc, d, p = world.consortium, world.family_doctor, world.patient
    record = _submit(cli, world, tmp_path)
    refused = cli.fail(world.hospital, "institution", "remove-doctor", d.address, "--yes")
    assert refused.startswith(f"{d.address} is not an active practitioner of {world.hospital.address}: ")
    assert refused.endswith(
        "an institution acts only on its own practitioners (`famchain institution doctors`)"
    )
    cli.tx(pc, "institution", "remove-doctor", d.address)
    assert cli.json(pc, "institution", "doctors")["practitioners"] == [
        {"practitioner": d.address, "active": False}
    ]
    assert cli.json(p, "agreement", "show")["active"] is None
    visit = _file(tmp_path, "again.json", VISIT)
    assert "no active agreement or consent" in cli.fail(
        d, "record", "submit", "--patient", p.address, "--file", visit, "--yes"
    )
    assert cli.json(d, "outbox", "list") == []
    assert ["0x" + r.record_id.hex() for r in world.chain.records.card(p.address)] == [record]
    empty = cli.ok(world.hospital, "institution", "doctors", world.outsider.address)
    assert empty.stdout.strip() == f"{world.outsider.address} has no practitioners"


def test_approval_signed_by_someone_else_or_relayed_twice(cli: Cli, world: World, tmp_path: Path) -> None:
    p, d = world.patient, world.family_doctor
    record = _submit(cli, world, tmp_path)
    approval = tmp_path / "approval.json"
    cli.ok(
        d, "record", "update", record, "--file", _file(tmp_path, "amended.json", AMENDED), "-o", str(approval)
    )
    message = cli.fail(d, "record", "approve", str(approval))
    assert message == f"this approval must be signed by the patient {p.address}, not {d.address}"
    assert "signature" not in json.loads(approval.read_text())
    (waiting,) = cli.json(d, "outbox", "list")
    assert waiting["state"] == "awaiting_approval"
    assert waiting["previous"] == record

    signed = tmp_path / "signed.json"
    cli.ok(p, "record", "approve", str(approval), "-o", str(signed), "--yes")
    assert "signature" not in json.loads(approval.read_text())  # -o leaves the request as it was
    cli.tx(d, "record", "update", "--approval", str(signed))
    message = cli.fail(d, "record", "update", "--approval", str(signed), "--yes")
    assert message == f"no update of record {waiting['record']} is waiting for approval in this outbox"
    card = world.chain.records.card(p.address)
    assert ["0x" + r.record_id.hex() for r in card] == [record, waiting["record"]]
    # another doctor cannot relay it from their own outbox
    assert "no update of record" in cli.fail(
        world.specialist, "record", "update", "--approval", str(signed), "--yes"
    )
    assert "give RECORD_ID and --file" in cli.fail(d, "record", "update", record)


def test_human_output(cli: Cli, world: World, tmp_path: Path) -> None:
    p, d = world.patient, world.family_doctor
    record = _submit(cli, world, tmp_path)
    cli.tx(
        p,
        "consent",
        "grant",
        world.insurer.address,
        "--sections",
        "diagnosis",
        "--purpose",
        "insurance-claim",
    )

    listed = cli.ok(p, "record", "list", "--patient", p.address).stdout
    assert (
        f"   0  {record}  by {d.address}  present illness, diagnosis, prescriptions  (outpatient, block "
        in listed
    )
    anchored = p.records.card(p.address)[0]
    assert f"block {anchored.block} ({when(anchored.anchored_at)}))" in listed  # the block with its date
    read = cli.ok(world.insurer, "record", "read", record).stdout
    assert "  diagnosis: " in read
    assert "  present illness: withheld (no key released to this reader)" in read
    assert "Sore throat" not in read
    consents = cli.ok(p, "consent", "list").stdout
    assert f"{world.insurer.address} (practitioner of {world.insurer_admin.address})" in consents
    assert (
        "  consent in force: diagnosis; read; purpose insurance claim; until " in consents
    )  # the patient's client keeps the terms' opening
    audit = cli.ok(p, "audit", "--patient", p.address).stdout
    assert "ResidentRegistered" in audit
    assert f"record {record} (new record; present illness, diagnosis, prescriptions) by {d.address}" in audit
    # v2: the grant itself names the key bundle (one transaction), so the audit says so on the grant.
    assert f"consent to {world.insurer.address}: diagnosis until " in audit
    assert "with the keys of the existing records" in audit
    members = cli.ok(p, "consortium", "members").stdout
    assert "4 active; proposals carry at 50.01% of active members" in members
    assert (
        cli.ok(world.outsider, "consent", "list").stdout.strip()
        == f"{world.outsider.address} has granted nothing and has no open request"
    )
    assert cli.ok(d, "outbox", "list").stdout.strip() == "outbox is empty"
    nobody = world.outsider.address
    assert (
        cli.ok(p, "audit", "--patient", nobody).stdout.strip()
        == f"{nobody} has no history on this deployment"
    )
    assert cli.ok(p, "record", "list", "--patient", nobody).stdout.strip() == f"{nobody} has no records"


def test_read_output_keeps_attachments_inside_the_folder(cli: Cli, world: World, tmp_path: Path) -> None:
    # the author chooses attachment names: none may escape the folder or overwrite a section or another file
    attachments = [
        Attachment("..", "text/plain", b"dot dot"),
        Attachment("diagnosis.json", "text/plain", b"not the diagnosis"),
        Attachment("scan.png", "image/png", b"first"),
        Attachment("sub/scan.png", "image/png", b"second"),
        Attachment("", "application/octet-stream", b"nameless"),
    ]
    content = parse_record({"sections": {"diagnosis": [{"text": "Migraine"}]}}, attachments)
    entry = world.family_doctor.records.submit(world.patient.address, content).entry
    out = tmp_path / "out" / "inner"

    result = cli.ok(world.patient, "record", "read", str(entry.record_id), "-o", str(out))

    assert "wrote 2 section(s) and 5 attachment(s)" in result.stderr
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    assert json.loads(written.pop("diagnosis.json")) == [{"text": "Migraine"}]
    assert [a["name"] for a in json.loads(written.pop("attachments.json"))] == [a.name for a in attachments]
    assert written == {
        "attachment-1": b"dot dot",
        "2-diagnosis.json": b"not the diagnosis",
        "scan.png": b"first",
        "4-scan.png": b"second",
        "attachment-5": b"nameless",
    }
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["inner"]
    assert 'attachments: ["attachment-1 (text/plain)"' in result.stdout


def test_deploy_never_overwrites_a_live_deployment_without_force(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    before = cli.deployment.read_text()
    founders = [
        "--founder",
        f"hospital:{world.hospital.address}",
        "--founder",
        f"insurer:{world.insurer.address}",
    ]
    block = world.chain.w3.eth.block_number

    message = cli.fail(None, "deploy", "--dev", "--yes", *founders)

    assert message.startswith(f"{cli.deployment} names contracts that are still deployed on chain 31337")
    assert "--force" in message
    assert cli.deployment.read_text() == before
    assert world.chain.w3.eth.block_number == block  # nothing was deployed
    assert world.chain.records.card(world.patient.address) == []  # the world's deployment still answers

    forced = cli.json(None, "deploy", "--dev", "--yes", "--force", *founders)
    assert forced["file"] == str(cli.deployment)
    assert json.loads(cli.deployment.read_text())["addresses"] == forced["addresses"]
    assert forced["addresses"] != json.loads(before)["addresses"]

    # A file whose contracts are gone (another chain's, or a devnet that was reset) is replaced freely.
    stale = tmp_path / "stale.json"
    document = json.loads(before)
    document["addresses"] = {name: "0x" + f"{n:040x}" for n, name in enumerate(document["addresses"], 1)}
    stale.write_text(json.dumps(document))
    replaced = cli.json(None, "deploy", "--dev", "--yes", "-o", str(stale), *founders)
    assert json.loads(stale.read_text())["addresses"] == replaced["addresses"]


def test_read_output_files_are_private(cli: Cli, world: World, tmp_path: Path) -> None:
    record = _submit(cli, world, tmp_path)
    out = tmp_path / "out"

    cli.ok(world.patient, "record", "read", record, "-o", str(out))

    assert out.stat().st_mode & 0o777 == 0o700
    files = list(out.iterdir())
    assert {p.name for p in files} == {"present_illness.json", "diagnosis.json", "prescriptions.json"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)


def test_consent_and_approval_files_are_private(cli: Cli, world: World, tmp_path: Path) -> None:
    record = _submit(cli, world, tmp_path)
    signed, approval = tmp_path / "consent.json", tmp_path / "approval.json"
    cli.ok(world.patient, "consent", "sign", world.insurer.address, "-o", str(signed))
    cli.ok(
        world.family_doctor,
        "record",
        "update",
        record,
        "--file",
        _file(tmp_path, "amended.json", AMENDED),
        "-o",
        str(approval),
    )
    for path in (signed, approval):
        assert path.stat().st_mode & 0o777 == 0o600, path
