"""The CLI flows of issue #13 as the patient, the doctor and a grantee meet them: a wallet patient signing a
consent the CLI printed, an offline consent signature, requests answered by the patient, pending agreements and
amendments shown with their terms, record ids by prefix, queued records in --json."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from _cli_support import AMENDED, VISIT, Cli, closed_port, command
from eth_account import Account

from _world import World
from famchain.records.sections import section_mask

pytestmark = pytest.mark.usefixtures("light_keystores")


def _granted(world: World, grantee: str, sections: list[str]) -> bool:
    return world.chain.consents.is_authorized(world.patient.address, grantee, section_mask(sections))


@pytest.fixture
def clock_at_chain_time(world: World, monkeypatch: pytest.MonkeyPatch) -> int:
    """This computer's clock, as the offline signer reads it, set to the devnet's (earlier tests on the same
    devnet moved the chain's time ahead, as a real chain never is)."""
    import types

    import famchain.cli.consent as consent_cli

    now = world.patient.now()
    clock = {name: getattr(time, name) for name in dir(time) if not name.startswith("_")}
    monkeypatch.setattr(consent_cli, "time", types.SimpleNamespace(**{**clock, "time": lambda: float(now)}))
    return now


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


def test_offline_consent_signature_needs_no_rpc(
    cli: Cli, world: World, tmp_path: Path, clock_at_chain_time: int
) -> None:
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
    assert grant.expiresAt == clock_at_chain_time + 10 * 86400  # this computer's clock, not the chain's


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


def test_patient_reads_a_request_and_answers_it(cli: Cli, world: World) -> None:
    patient, specialist, insurer = world.patient.address, world.specialist.address, world.insurer.address
    asked = cli.tx(
        world.specialist, "consent", "request", patient, "--sections", "diagnosis,past_history",
        "--purpose", "referral", "--days", "14", "--contact", "ward 3",
    ).stdout  # fmt: skip
    assert f"famchain consent answer {specialist} --grant" in asked
    cli.tx(
        world.insurer,
        "consent",
        "request",
        patient,
        "--sections",
        "diagnosis",
        "--purpose",
        "insurance-claim",
    )

    listed = cli.ok(world.patient, "consent", "list").stdout
    block = listed[listed.index(specialist) :]
    institution = world.chain.consortium.practitioner(specialist).institution
    for shown in (
        f"{specialist} (practitioner of {institution})",
        "asks for: past history, diagnosis (read) for 14 days",
        "purpose:   referral",
        "contact:   ward 3",
        f"famchain consent answer {specialist} --grant",
    ):
        assert shown in block, listed

    granted = cli.tx(world.patient, "consent", "answer", specialist, "--grant").stdout
    assert "purpose:   referral" in granted
    assert "(14 days)" in granted
    assert _granted(world, specialist, ["diagnosis", "past_history"])
    assert not _granted(world, specialist, ["diagnosis", "past_history", "prescriptions"])
    grant = world.chain.consents.grant_of(patient, specialist)
    assert abs(grant.expiresAt - (world.chain.now() + 14 * 86400)) < 120

    cli.tx(world.patient, "consent", "answer", insurer, "--refuse")
    assert not world.chain.consents.request_of(patient, insurer).is_open
    assert not _granted(world, insurer, ["diagnosis"])
    again = cli.fail(world.patient, "consent", "answer", insurer, "--grant", "--yes")
    assert "no open access request" in again
    both = cli.fail(world.patient, "consent", "answer", insurer, "--yes")
    assert "--grant or --refuse" in both


def test_consent_prompts_default_to_no(cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from famchain.cli import _when

    monkeypatch.setattr(_when, "_terminal", lambda: True)
    insurer = world.insurer.address
    result = cli.runner.invoke(
        command(),
        ["consent", "grant", insurer, "--sections", "diagnosis"],
        input="\n",
        env=cli.env(world.patient),
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "[y/N]" in result.stdout + result.stderr
    assert not _granted(world, insurer, ["diagnosis"])


def _register(cli: Cli, who: object, tmp_path: Path) -> None:
    from _world import PROFILE

    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    cli.tx(who, "resident", "register", "--profile", str(profile))  # type: ignore[arg-type]


def test_a_pending_agreement_shows_its_terms_everywhere(cli: Cli, world: World, tmp_path: Path) -> None:
    resident, doctor = world.outsider, world.family_doctor
    _register(cli, resident, tmp_path)
    cli.tx(doctor, "agreement", "propose", resident.address, "--sections", "diagnosis,prescriptions",
           "--actions", "read", "--term-days", "90")  # fmt: skip

    shown = cli.ok(resident, "agreement", "show").stdout
    assert f"{resident.address}: no active agreement" in shown
    assert f"proposal by the doctor {doctor.address}" in shown
    assert "sections: diagnosis, prescriptions" in shown
    assert "actions:  read" in shown
    assert "term:     90 days" in shown
    (pending,) = cli.json(resident, "agreement", "show")["pending"]
    assert pending["actions"] == ["read"]
    assert pending["term"] == 90 * 86400
    assert pending["sections"] == ["diagnosis", "prescriptions"]

    incoming = cli.ok(resident, "agreement", "list", "--incoming").stdout
    assert f"accept it: famchain agreement accept {doctor.address}" in incoming
    assert cli.json(doctor, "agreement", "list", "--incoming")["proposals"] == []
    (outgoing,) = cli.json(doctor, "agreement", "list")["proposals"]
    assert outgoing["resident"] == resident.address
    assert outgoing["proposer"] == doctor.address

    accepted = cli.tx(resident, "agreement", "accept", doctor.address).stdout
    assert accepted.index("term:     90 days (in force until ") < accepted.index("agreement in force between")
    assert world.chain.agreements.active(resident.address).doctor == doctor.address  # type: ignore[union-attr]
    active = cli.ok(resident, "agreement", "show").stdout
    assert f"family doctor {doctor.address} (diagnosis, prescriptions; read) until " in active
    assert "(90 days)" in active
    assert (
        cli.ok(resident, "agreement", "list", "--incoming").stdout.strip()
        == "no agreement proposal waits for you"
    )


def _submit(cli: Cli, world: World, tmp_path: Path, document: object = VISIT) -> str:
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(document))
    out = cli.json(
        world.family_doctor,
        "record",
        "submit",
        "--patient",
        world.patient.address,
        "--file",
        str(visit),
        "--yes",
    )
    return str(out["record"])


def _prepare_amendment(cli: Cli, world: World, tmp_path: Path) -> tuple[str, Path]:
    record = _submit(cli, world, tmp_path)
    amended = tmp_path / "amended.json"
    amended.write_text(json.dumps(AMENDED))
    approval = tmp_path / "approval.json"
    cli.ok(world.family_doctor, "record", "update", record, "--file", str(amended), "-o", str(approval))
    return record, approval


def test_approve_shows_what_the_amendment_changes_and_asks(cli: Cli, world: World, tmp_path: Path) -> None:
    record, approval = _prepare_amendment(cli, world, tmp_path)
    unasked = cli.invoke(world.patient, "record", "approve", str(approval))
    assert unasked.exit_code == 1
    assert unasked.stderr.strip().endswith("without confirmation: pass --yes")
    assert "signature" not in json.loads(approval.read_text())
    change = unasked.stdout
    assert f"of record {record} changes:" in change
    lines = change.splitlines()
    (added,) = [line for line in lines if line.startswith("  + examinations (added): ")]
    assert '"Rapid strep test"' in added
    (removed,) = [line for line in lines if line.startswith("  - prescriptions (removed): ")]
    assert '"Lozenges"' in removed
    assert "  ~ diagnosis (altered)" in change
    assert '"Pharyngitis"' in change
    assert '"Streptococcal pharyngitis"' in change
    assert "  = unchanged: present illness" in change

    cli.ok(world.patient, "record", "approve", str(approval), "--yes")
    cli.tx(world.family_doctor, "record", "update", "--approval", str(approval))
    assert len(world.chain.records.card(world.patient.address)) == 2


def test_approve_says_when_it_cannot_compare(cli: Cli, world: World, tmp_path: Path) -> None:
    _, approval = _prepare_amendment(cli, world, tmp_path)
    down = f"http://127.0.0.1:{closed_port()}"
    signed = cli.ok(world.patient, "record", "approve", str(approval), "--yes", FAMCHAIN_RPC_URL=down).stdout
    assert "could not be compared" in signed
    assert "the new version holds: present illness, diagnosis, examinations" in signed
    assert json.loads(approval.read_text())["signature"].startswith("0x")


def test_wallet_patient_approves_an_amendment(cli: Cli, world: World, tmp_path: Path) -> None:
    _, approval = _prepare_amendment(cli, world, tmp_path)
    typed = json.loads(cli.ok(None, "record", "approve", str(approval), "--print-typed-data").stdout)
    assert typed["primaryType"] == "RecordUpdate"
    wrong = Account.sign_typed_data(world.outsider.account.key, full_message=typed).signature.to_0x_hex()
    assert "not " in cli.fail(None, "record", "approve", str(approval), "--signature", wrong)
    right = Account.sign_typed_data(world.patient.account.key, full_message=typed).signature.to_0x_hex()
    cli.ok(None, "record", "approve", str(approval), "--signature", right)
    cli.tx(world.family_doctor, "record", "update", "--approval", str(approval))
    assert len(world.chain.records.card(world.patient.address)) == 2


def test_reading_an_older_record_without_its_key_says_why_and_the_fix(
    cli: Cli, world: World, tmp_path: Path, clock_at_chain_time: int
) -> None:
    record = _submit(cli, world, tmp_path)
    consent = tmp_path / "consent.json"
    cli.ok(world.patient, "consent", "sign", world.insurer.address, "--offline", "--sections", "diagnosis",
           "-o", str(consent))  # fmt: skip
    cli.tx(world.insurer, "consent", "submit", str(consent))
    assert _granted(world, world.insurer.address, ["diagnosis"])

    message = cli.fail(world.insurer, "record", "read", record)
    assert "no consent" not in message
    assert f"no key to it has been released to {world.insurer.address}" in message
    assert f"famchain consent sync {world.insurer.address}" in message

    cli.tx(world.patient, "consent", "sync", world.insurer.address)
    read = cli.json(world.insurer, "record", "read", record)
    assert read["sections"]["diagnosis"] == VISIT["sections"]["diagnosis"]


def test_a_queued_record_is_printed_with_its_state_and_error(cli: Cli, world: World, tmp_path: Path) -> None:
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(VISIT))
    down = f"http://127.0.0.1:{closed_port()}"
    d, p = world.family_doctor, world.patient
    result = cli.invoke(
        d, "record", "submit", "--patient", p.address, "--file", str(visit), "--yes", "--json",
        FAMCHAIN_IPFS_API=down,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "1 record queued in the outbox (1 not stored yet)" in result.stderr
    queued = json.loads(result.stdout)
    assert queued["state"] == "sealed"
    assert queued["patient"] == p.address
    assert queued["error"]
    (listed,) = cli.json(d, "outbox", "list")
    assert listed["record"] == queued["record"]
    assert listed["last_error"]
    assert "127.0.0.1" in listed["last_error"] or "store" in listed["last_error"]

    flushed = cli.json(d, "outbox", "flush", "--yes")
    assert [e["record"] for e in flushed["anchored"]] == [queued["record"]]
    assert cli.json(d, "outbox", "list") == []


def test_read_output_writes_each_attachment_once(cli: Cli, world: World, tmp_path: Path) -> None:
    from famchain.records.model import Attachment, parse_record

    scan = b"\x89PNG scan bytes " * 64
    content = parse_record(
        {"sections": {"diagnosis": [{"text": "Migraine"}]}}, [Attachment("scan.png", "image/png", scan)]
    )
    entry = world.family_doctor.records.submit(world.patient.address, content).entry
    out = tmp_path / "out"
    cli.ok(world.patient, "record", "read", str(entry.record_id), "-o", str(out))
    assert (out / "scan.png").read_bytes() == scan
    index = json.loads((out / "attachments.json").read_text())
    assert index == [{"file": "scan.png", "media_type": "image/png", "name": "scan.png", "size": len(scan)}]
    total = sum(p.stat().st_size for p in out.iterdir())
    assert total < 2 * len(scan)  # the bytes are written once, not again as base64


def test_record_ids_by_unique_prefix(cli: Cli, world: World, tmp_path: Path) -> None:
    first = _submit(cli, world, tmp_path)
    second = _submit(cli, world, tmp_path, {"sections": {"diagnosis": [{"text": "Otitis"}]}})
    short = next(n for n in range(4, 64) if first[: 2 + n] != second[: 2 + n])
    prefix = first[: 2 + short]
    read = cli.json(world.patient, "record", "read", prefix)
    assert read["record"] == first
    assert cli.json(world.patient, "record", "read", prefix.removeprefix("0x").upper())["record"] == first

    unknown = next(
        p for p in ("0xffff", "0x0000", "0x1234") if not (first.startswith(p) or second.startswith(p))
    )
    assert cli.fail(world.patient, "record", "read", unknown) == (
        f"no record id starts with {unknown}: see `famchain record list`"
    )
    assert "too short" in cli.fail(world.patient, "record", "read", first[:5])
    assert "is not hex" in cli.fail(world.patient, "record", "read", "0xnothex")


def test_ambiguous_record_prefix(cli: Cli, world: World) -> None:
    from famchain.errors import InputError
    from famchain.types import RecordId

    ids = [RecordId.from_hex(r) for r in ("0xabcd" + "1" * 60, "0xabcd" + "2" * 60)]

    class Fixed:
        def record_ids(self, patient: str | None = None) -> list[RecordId]:
            return ids

    client = world.client()
    client.__dict__["history"] = Fixed()
    with pytest.raises(InputError, match=r"record id 0xabcd is ambiguous: it starts 2 records"):
        client.records.resolve("abcd")
    assert client.records.resolve("0xabcd1") == ids[0]


def test_guardian_times_are_dates_with_the_time_left(cli: Cli, world: World) -> None:
    guardian = world.outsider.address
    appointed = cli.tx(
        world.patient, "guardian", "appoint", guardian, "--scope", "consent", "--days", "10"
    ).stdout
    (info,) = world.chain.guardians.list(world.patient.address)
    expires = info.expires_at
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires))
    assert f"until {day} (10 days)" in appointed
    listed = cli.ok(world.patient, "guardian", "list").stdout
    assert f"until {day} (10 days)" in listed
    assert str(expires) not in listed


def test_record_pending_for_the_patient_and_the_author(cli: Cli, world: World, tmp_path: Path) -> None:
    record, approval = _prepare_amendment(cli, world, tmp_path)
    p, d = world.patient, world.family_doctor
    mine = cli.ok(p, "record", "pending", str(approval)).stdout
    assert f"of record {record} by {d.address}" in mine
    assert "awaiting your approval, sign until " in mine
    assert f"famchain record approve {approval}" in mine
    (waiting,) = cli.json(d, "record", "pending")["pending"]
    assert waiting["previous"] == record
    assert waiting["state"] == "awaiting the patient's approval"
    assert "not you" in cli.fail(world.outsider, "record", "pending", str(approval))

    cli.ok(p, "record", "approve", str(approval), "--yes")
    assert cli.json(p, "record", "pending", str(approval))["pending"][0]["state"] == "signed"
    cli.tx(d, "record", "update", "--approval", str(approval))
    assert cli.json(p, "record", "pending", str(approval))["pending"][0]["state"] == "anchored"
    assert cli.ok(d, "record", "pending").stdout.strip() == "no amendment awaits an approval"


def test_the_resident_refuses_a_proposal_and_a_doctor_withdraws_one(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    resident, doctor = world.outsider, world.family_doctor
    _register(cli, resident, tmp_path)
    proposed = cli.tx(doctor, "agreement", "propose", resident.address, "--term-days", "30").stdout
    assert f"for 30 days; they accept it with `famchain agreement accept {doctor.address}`" in proposed
    assert (
        f"famchain agreement withdraw {doctor.address}"
        in cli.ok(resident, "agreement", "list", "--incoming").stdout
    )
    refused = cli.tx(resident, "agreement", "withdraw", doctor.address).stdout
    assert f"proposal of {doctor.address} refused" in refused
    assert world.chain.agreements.pending(resident.address, doctor.address) is None
    assert "is waiting" in cli.fail(resident, "agreement", "withdraw", doctor.address, "--yes")

    cli.tx(doctor, "agreement", "propose", resident.address, "--term-days", "30")
    withdrawn = cli.tx(doctor, "agreement", "withdraw", resident.address).stdout
    assert f"proposal withdrawn: {resident.address} can no longer accept it" in withdrawn
    assert world.chain.agreements.pending(resident.address, doctor.address) is None
