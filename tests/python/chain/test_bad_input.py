"""Bad input and broken surroundings through the CLI: each is exactly one ``error: ...`` line on stderr, a
non-zero exit, and nothing lost or half-done (checked on chain and in the outbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli_support import PASSWORD, Cli, closed_port, command, one_error_line
from eth_account import Account
from web3 import Web3

from _world import PROFILE, World
from famchain.devnet import DevnetInfo
from famchain.records.sections import Section

pytestmark = pytest.mark.usefixtures("light_keystores")

VISIT = {
    "sections": {
        "present_illness": "Headache for two days.",
        "diagnosis": [{"text": "Tension headache", "code": "G44.2"}],
        "prescriptions": [{"drug": "Ibuprofen 400 mg", "days": 3}],
    }
}


@pytest.fixture
def visit(tmp_path: Path) -> str:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(VISIT))
    return str(path)


def _card(world: World) -> list[str]:
    return ["0x" + r.record_id.hex() for r in world.chain.records.card(world.patient.address)]


def _submit(cli: Cli, world: World, visit: str) -> str:
    out = cli.json(
        world.family_doctor, "record", "submit", "--patient", world.patient.address, "--file", visit, "--yes"
    )
    assert out["state"] == "anchored"
    return str(out["record"])


def _advance(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


# --- keys and passwords -----------------------------------------------------------------------------------


def test_wrong_password_is_one_line_and_sends_nothing(cli: Cli, world: World, w3: Web3, visit: str) -> None:
    nonce = w3.eth.get_transaction_count(world.family_doctor.address)
    message = cli.fail(
        world.family_doctor,
        "record",
        "submit",
        "--patient",
        world.patient.address,
        "--file",
        visit,
        "--yes",
        FAMCHAIN_PASSWORD="not the password",
    )
    assert message.startswith("wrong password")
    assert w3.eth.get_transaction_count(world.family_doctor.address) == nonce
    assert _card(world) == []


def test_wrong_password_file_no_account_unknown_keystore(cli: Cli, world: World, tmp_path: Path) -> None:
    wrong = tmp_path / "pw"
    wrong.write_text("nope\n")
    wrong.chmod(0o600)
    message = cli.fail(world.patient, "resident", "show", "--password-file", str(wrong))
    assert message.startswith("wrong password")
    assert "cannot read" in cli.fail(
        world.patient, "resident", "show", "--password-file", str(tmp_path / "none")
    )
    assert "no account" in cli.fail(None, "resident", "show")
    stranger = Account.create().address
    assert f"no keystore for {stranger}" in cli.fail(None, "resident", "show", FAMCHAIN_KEYSTORE=stranger)


# --- addresses --------------------------------------------------------------------------------------------


BAD_ADDRESSES = [
    "0x1234",  # too short
    "0xD8dA6BF26964aF9D7eEd9e03E53415D37aA96045"[:-1] + "6",  # one digit off
    "0x" + "g" * 40,
    "not an address",
    "",
]


def test_invalid_address_is_named(cli: Cli, world: World) -> None:
    for bad in BAD_ADDRESSES:
        for args in (
            ("record", "list", "--patient", bad),
            ("resident", "show", bad),
            ("consent", "revoke", bad, "--yes"),
            ("agreement", "show", bad),
        ):
            message = cli.fail(world.patient, *args)
            assert repr(bad) in message, args
            assert "is not an Ethereum address" in message or "wrong EIP-55 checksum" in message, args


def test_bad_checksum_is_refused(cli: Cli, world: World) -> None:
    good = world.patient.address
    flipped = good[:2] + "".join(c.swapcase() if c.isalpha() else c for c in good[2:])
    assert flipped != good
    assert flipped.lower() != flipped
    message = cli.fail(world.family_doctor, "record", "list", "--patient", flipped)
    assert message == f"patient {flipped!r} has a wrong EIP-55 checksum (a typo?); check the address"
    for accepted in (good, good.lower(), "0x" + good[2:].upper()):
        assert cli.json(world.family_doctor, "record", "list", "--patient", accepted)["patient"] == good


def test_unknown_address(cli: Cli, world: World, tmp_path: Path) -> None:
    nobody = Account.create().address
    assert cli.fail(world.patient, "resident", "show", nobody) == f"{nobody} is not a registered resident"
    assert cli.json(world.patient, "record", "list", "--patient", nobody) == {
        "patient": nobody,
        "records": [],
    }
    message = cli.fail(
        world.family_doctor, "record", "submit", "--patient", nobody, "--file", "/dev/null", "--yes"
    )
    assert "invalid JSON" in message  # the file is read before anything else
    visit = tmp_path / "v.json"
    visit.write_text(json.dumps(VISIT))
    message = cli.fail(
        world.family_doctor, "record", "submit", "--patient", nobody, "--file", str(visit), "--yes"
    )
    assert message == f"{nobody} is not a registered resident"
    assert cli.json(world.family_doctor, "outbox", "list") == []


# --- records ----------------------------------------------------------------------------------------------


def test_unknown_record_id(cli: Cli, world: World, visit: str) -> None:
    _submit(cli, world, visit)
    unknown = "0x" + "ab" * 32
    assert cli.fail(world.patient, "record", "read", unknown) == f"no record {unknown} on this deployment"
    assert "no record id starts with 0x1234" in cli.fail(
        world.patient, "record", "read", "0x1234"
    )  # a prefix
    assert "not 32 bytes of hex" in cli.fail(world.patient, "record", "read", "zz" * 32)
    message = cli.fail(world.family_doctor, "record", "update", unknown, "--file", visit)
    assert message == f"no record {unknown} on this deployment"


MALFORMED = [
    (
        {"sections": {"prescriptions": [{"drug": "Ibuprofen", "days": "three"}]}},
        "sections.prescriptions[0].days",
    ),
    ({"sections": {"diagnosis": [{"code": "G44.2"}]}}, "sections.diagnosis[0].text"),
    ({"sections": {"diagnosis": [{"text": "x", "colour": "red"}]}}, "sections.diagnosis[0].colour"),
    ({"sections": {"present_illness": 42}}, "sections.present_illness"),
    ({"sections": {}}, "sections"),
    ({"sections": {"surgery": "appendectomy"}}, "sections.surgery"),
    ({"version": 2, "sections": {"present_illness": "x"}}, "version"),
    ({"patient": "Li Lei", "sections": {"present_illness": "x"}}, "patient"),
    ([1, 2], "record"),
]


def test_malformed_record_names_the_field(cli: Cli, world: World, w3: Web3, tmp_path: Path) -> None:
    nonce = w3.eth.get_transaction_count(world.family_doctor.address)
    for n, (document, field) in enumerate(MALFORMED):
        path = tmp_path / f"bad-{n}.json"
        path.write_text(json.dumps(document))
        message = cli.fail(
            world.family_doctor,
            "record",
            "submit",
            "--patient",
            world.patient.address,
            "--file",
            str(path),
            "--yes",
        )
        assert message.startswith(f"{path}: {field}:"), message
    assert w3.eth.get_transaction_count(world.family_doctor.address) == nonce
    assert cli.json(world.family_doctor, "outbox", "list") == []
    assert _card(world) == []


def test_unknown_section_name_in_options(cli: Cli, world: World) -> None:
    for args in (
        ("consent", "grant", world.specialist.address, "--sections", "diagnosis,surgery", "--yes"),
        ("consent", "request", world.patient.address, "--sections", "surgery", "--yes"),
        ("agreement", "propose", world.family_doctor.address, "--sections", "surgery", "--yes"),
    ):
        message = cli.fail(world.patient if args[1] != "request" else world.specialist, *args)
        assert message.startswith("unknown section 'surgery'"), args
    assert world.chain.consents.grant_of(world.patient.address, world.specialist.address).sections == 0


def test_invalid_json_and_missing_files(cli: Cli, world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"sections": {')
    doctor, patient = world.family_doctor, world.patient.address
    assert "invalid JSON at line 1" in cli.fail(
        doctor, "record", "submit", "--patient", patient, "--file", str(broken), "--yes"
    )
    missing = tmp_path / "missing.json"
    assert "cannot read record" in cli.fail(
        doctor, "record", "submit", "--patient", patient, "--file", str(missing), "--yes"
    )
    assert "cannot read" in cli.fail(world.patient, "consent", "submit", str(missing), "--yes")
    assert "not JSON" in cli.fail(world.patient, "consent", "submit", str(broken), "--yes")
    assert "cannot read" in cli.fail(world.patient, "record", "approve", str(missing))
    assert "cannot read profile" in cli.fail(
        world.outsider, "resident", "register", "--profile", str(missing), "--yes"
    )
    visit = tmp_path / "v.json"
    visit.write_text(json.dumps(VISIT))
    message = cli.fail(
        doctor,
        "record",
        "submit",
        "--patient",
        patient,
        "--file",
        str(visit),
        "--attach",
        str(missing),
        "--yes",
    )
    assert "cannot read attachment" in message
    assert _card(world) == []


# --- consent ----------------------------------------------------------------------------------------------


def test_no_consent(cli: Cli, world: World, visit: str) -> None:
    record = _submit(cli, world, visit)
    message = cli.fail(world.stranger, "record", "read", record)
    assert message == (
        f"{world.stranger.address} may read no section of record {record}: "
        f"no consent from {world.patient.address} covers it"
    )
    assert "withheld" in cli.json(world.stranger, "resident", "show", world.patient.address)
    message = cli.fail(
        world.stranger, "record", "submit", "--patient", world.patient.address, "--file", visit, "--yes"
    )
    assert message.startswith("no active agreement or consent")
    assert _card(world) == [record]


def test_expired_consent(cli: Cli, world: World, w3: Web3, visit: str) -> None:
    record = _submit(cli, world, visit)
    cli.tx(
        world.patient, "consent", "grant", world.insurer.address, "--sections", "diagnosis", "--days", "0.01"
    )
    assert set(cli.json(world.insurer, "record", "read", record)["sections"]) == {"diagnosis"}
    _advance(w3, 3600)
    message = cli.fail(world.insurer, "record", "read", record)
    assert message.endswith(f"the consent of {world.patient.address} was revoked or has expired")
    (row,) = cli.json(world.patient, "consent", "list")["consents"]
    assert row["active"] is False


def _sign(cli: Cli, world: World, path: Path) -> None:
    cli.ok(
        world.patient,
        "consent",
        "sign",
        world.insurer.address,
        "--sections",
        "diagnosis,prescriptions",
        "--purpose",
        "insurance-claim",
        "-o",
        str(path),
    )


def test_expired_signature(cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str) -> None:
    _submit(cli, world, visit)
    signed = tmp_path / "consent.json"
    _sign(cli, world, signed)
    deadline = int(json.loads(signed.read_text())["typed_data"]["message"]["deadline"])
    _advance(w3, deadline - world.chain.now() + 60)
    message = cli.fail(world.outsider, "consent", "submit", str(signed), "--yes")
    assert "expired" in message
    assert time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(deadline)) in message  # the deadline as a date
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0


def test_reused_nonce(cli: Cli, world: World, tmp_path: Path, visit: str) -> None:
    record = _submit(cli, world, visit)
    signed = tmp_path / "consent.json"
    _sign(cli, world, signed)
    cli.tx(world.outsider, "consent", "submit", str(signed))
    grant = world.chain.consents.grant_of(world.patient.address, world.insurer.address)
    assert grant.sections == int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)
    message = cli.fail(world.outsider, "consent", "submit", str(signed), "--yes")
    assert "nonce" in message
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address) == grant
    assert set(cli.json(world.insurer, "record", "read", record)["sections"]) == {
        "diagnosis",
        "prescriptions",
    }
    events = [
        e["event"] for e in cli.json(world.patient, "audit", "--patient", world.patient.address)["events"]
    ]
    assert events.count("ConsentGranted") == 1


def test_tampered_consent_file(cli: Cli, world: World, tmp_path: Path) -> None:
    signed = tmp_path / "consent.json"
    _sign(cli, world, signed)
    doc = json.loads(signed.read_text())
    doc["typed_data"]["message"]["sections"] = 0x7F  # ask for more than was signed
    signed.write_text(json.dumps(doc))
    message = cli.fail(world.insurer, "consent", "submit", str(signed), "--yes")
    assert "signature" in message or "signer" in message
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0
    signed.write_text(json.dumps({"kind": "something else"}))
    assert cli.fail(world.insurer, "consent", "submit", str(signed), "--yes").startswith(
        "not a signed famchain consent"
    )


# --- store and chain down ---------------------------------------------------------------------------------


def test_store_down_queues_then_flush_anchors_exactly_once(cli: Cli, world: World, visit: str) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    doctor = world.family_doctor
    message = cli.fail(
        doctor,
        "record",
        "submit",
        "--patient",
        world.patient.address,
        "--file",
        visit,
        "--yes",
        FAMCHAIN_IPFS_API=down,
    )
    assert "queued in the outbox" in message
    assert down in message
    (queued,) = cli.json(doctor, "outbox", "list")
    assert queued["state"] == "sealed"
    assert _card(world) == []

    # still down: the flush fails the same way and loses nothing
    assert "queued in the outbox" in cli.fail(doctor, "outbox", "flush", "--yes", FAMCHAIN_IPFS_API=down)
    assert [e["record"] for e in cli.json(doctor, "outbox", "list")] == [queued["record"]]

    flushed = cli.json(doctor, "outbox", "flush", "--yes")
    assert [e["record"] for e in flushed["anchored"]] == [queued["record"]]
    assert flushed["transactions"] == 1
    assert _card(world) == [queued["record"]]
    assert cli.json(doctor, "outbox", "list") == []
    again = cli.json(doctor, "outbox", "flush", "--yes")
    assert again["anchored"] == again["already_anchored"] == []
    assert _card(world) == [queued["record"]]
    read = cli.json(world.patient, "record", "read", queued["record"])
    assert read["sections"] == VISIT["sections"]


def test_store_down_then_next_submit_anchors_both_once(cli: Cli, world: World, visit: str) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    doctor, patient = world.family_doctor, world.patient.address
    cli.fail(
        doctor, "record", "submit", "--patient", patient, "--file", visit, "--yes", FAMCHAIN_IPFS_API=down
    )
    (queued,) = cli.json(doctor, "outbox", "list")
    second = cli.invoke(doctor, "record", "submit", "--patient", patient, "--file", visit, "--yes", "--json")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "also anchored 1 earlier queued record" in second.stderr
    assert _card(world) == [queued["record"], json.loads(second.stdout)["record"]]


def test_rpc_down(cli: Cli, world: World, visit: str) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    for who, args in (
        (world.patient, ("resident", "show")),
        (world.patient, ("record", "list", "--patient", world.patient.address)),
        (
            world.family_doctor,
            ("record", "submit", "--patient", world.patient.address, "--file", visit, "--yes"),
        ),
        (world.patient, ("consent", "grant", world.insurer.address, "--yes")),
        (world.patient, ("audit", "--patient", world.patient.address)),
        (None, ("devnet", "fund", world.outsider.address)),
        (
            None,
            (
                "deploy",
                "--dev",
                "--yes",
                "--founder",
                f"hospital:{world.hospital.address}",
                "--founder",
                f"insurer:{world.insurer_admin.address}",
            ),
        ),
    ):
        message = cli.fail(who, *args, FAMCHAIN_RPC_URL=down)
        assert message.startswith(f"RPC endpoint {down} is unreachable"), (args, message)
    assert cli.json(world.family_doctor, "outbox", "list") == []
    assert _card(world) == []


def test_missing_deployment_file(cli: Cli, world: World, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    message = cli.fail(world.patient, "resident", "show", FAMCHAIN_DEPLOYMENT=str(missing))
    assert message.startswith(f"no deployment file {missing}")
    message = cli.fail(world.patient, "resident", "show", "--deployment", str(missing))
    assert message.startswith(f"no deployment file {missing}")
    broken = tmp_path / "broken.json"
    broken.write_text('{"chain_id": 31337}')
    assert "is malformed" in cli.fail(world.patient, "resident", "show", "--deployment", str(broken))


def test_deploy_needs_two_founders(cli: Cli, world: World, w3: Web3, tmp_path: Path) -> None:
    out = tmp_path / "one.json"
    block = w3.eth.block_number
    message = cli.fail(
        None,
        "deploy",
        "--dev",
        "--yes",
        "--founder",
        f"primary-care:{world.outsider.address}",
        "-o",
        str(out),
    )
    assert "at least two founding institutions" in message
    assert w3.eth.block_number == block
    assert not out.exists()
    message = cli.fail(
        None,
        "deploy",
        "--dev",
        "--yes",
        "--founder",
        f"dentist:{world.outsider.address}",
        "--founder",
        f"hospital:{world.hospital.address}",
    )
    assert "unknown kind 'dentist'" in message
    message = cli.fail(None, "deploy", "--dev", "--yes", "--founder", world.outsider.address)
    assert "expected KIND:ADDRESS" in message
    message = cli.fail(
        None,
        "deploy",
        "--dev",
        "--yes",
        "--founder",
        f"hospital:{world.outsider.address}",
        "--founder",
        f"insurer:{world.outsider.address}",
    )
    assert "listed twice" in message
    assert "--founder" in cli.fail(None, "deploy", "--dev", "--yes")


# --- confirmation -----------------------------------------------------------------------------------------


def test_transactions_need_yes_without_a_terminal(
    cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str
) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    p, d, s = world.patient, world.family_doctor, world.specialist
    enrollment = tmp_path / "enrollment.json"
    # Signing an enrollment sends nothing (no --yes needed); registering with it is a transaction.
    cli.ok(
        world.outsider,
        "institution",
        "enroll-sign",
        "--institution",
        world.consortium.address,
        "-o",
        str(enrollment),
    )
    cases = [
        (
            None,
            (
                "deploy",
                "--dev",
                "--founder",
                f"hospital:{world.hospital.address}",
                "--founder",
                f"insurer:{world.insurer_admin.address}",
            ),
        ),
        (world.consortium, ("consortium", "propose", "admit", world.outsider.address, "--kind", "research")),
        (world.consortium, ("consortium", "vote", "0")),
        (
            world.consortium,
            ("institution", "add-doctor", world.outsider.address, "--enrollment", str(enrollment)),
        ),
        (world.consortium, ("institution", "remove-doctor", d.address)),
        (world.outsider, ("resident", "register", "--profile", str(profile))),
        (p, ("resident", "update-profile", "--profile", str(profile))),
        (p, ("agreement", "propose", s.address)),
        (
            p,
            (
                "agreement",
                "share",
            ),
        ),
        (
            p,
            (
                "agreement",
                "renew",
            ),
        ),
        (
            p,
            (
                "agreement",
                "terminate",
            ),
        ),
        (d, ("record", "submit", "--patient", p.address, "--file", visit)),
        (s, ("consent", "request", p.address)),
        (p, ("consent", "grant", s.address)),
        (p, ("consent", "revoke", s.address)),
        (p, ("consent", "cancel", s.address)),
        (p, ("consent", "sync", s.address)),
        (p, ("consent", "refuse", s.address)),
        (p, ("guardian", "appoint", world.outsider.address, "--scope", "read")),
        (p, ("guardian", "remove", world.outsider.address)),
        (p, ("resident", "delete-request", "--card")),
    ]
    for who, args in cases:
        sender = who.address if who is not None else "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        nonce = w3.eth.get_transaction_count(sender)
        message = cli.fail(who, *args)
        assert "without confirmation: pass --yes" in message, (args, message)
        assert w3.eth.get_transaction_count(sender) == nonce, args
    assert cli.json(d, "outbox", "list") == []
    assert _card(world) == []


def test_accept_relay_update_and_flush_need_yes(
    cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str
) -> None:
    p, d = world.patient, world.family_doctor
    # a second resident with an agreement proposed by the doctor, waiting for acceptance
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    cli.tx(world.outsider, "resident", "register", "--profile", str(profile))
    cli.tx(d, "agreement", "propose", world.outsider.address)
    # a signed consent waiting to be relayed
    signed = tmp_path / "consent.json"
    _sign(cli, world, signed)
    # an approved update waiting to be relayed
    record = _submit(cli, world, visit)
    approval = tmp_path / "approval.json"
    cli.ok(d, "record", "update", record, "--file", visit, "-o", str(approval))
    cli.ok(p, "record", "approve", str(approval), "--yes")
    # a record queued while the store was down
    down = f"http://127.0.0.1:{closed_port()}"
    cli.fail(d, "record", "submit", "--patient", p.address, "--file", visit, "--yes", FAMCHAIN_IPFS_API=down)
    outbox = cli.json(d, "outbox", "list")
    assert [e["state"] for e in outbox] == ["awaiting_approval", "sealed"]

    for who, args in (
        (world.outsider, ("agreement", "accept", d.address)),
        (world.insurer, ("consent", "submit", str(signed))),
        (d, ("record", "update", "--approval", str(approval))),
        (d, ("outbox", "flush")),
    ):
        nonce = w3.eth.get_transaction_count(who.address)
        message = cli.fail(who, *args)
        assert "without confirmation: pass --yes" in message, (args, message)
        assert w3.eth.get_transaction_count(who.address) == nonce, args
    assert cli.json(d, "outbox", "list") == outbox  # the approval was not attached either
    assert world.chain.agreements.active(world.outsider.address) is None
    assert world.chain.consents.grant_of(p.address, world.insurer.address).sections == 0
    assert _card(world) == [record]

    # with --yes everything goes through, each exactly once (relaying the update flushes the queue too)
    cli.tx(d, "record", "update", "--approval", str(approval))
    card = _card(world)
    assert len(card) == 3
    assert sorted(card[1:]) == sorted(e["record"] for e in outbox)
    flushed = cli.json(d, "outbox", "flush", "--yes")
    assert flushed["anchored"] == flushed["failed"] == []
    assert cli.json(d, "outbox", "list") == []
    assert _card(world) == card


def test_out_of_range_numbers_are_input_errors(cli: Cli, world: World, w3: Web3) -> None:
    p, d, c = world.patient, world.family_doctor.address, world.consortium
    founders = ("--founder", f"primary-care:{world.outsider.address}", "--founder", f"hospital:{d}")
    cases = [
        (c, ("consortium", "vote", str(2**256), "--yes"), "2**256"),
        (
            c,
            ("consortium", "propose", "set-threshold", c.address, "--threshold-bps", "70000", "--yes"),
            "70000",
        ),
        (p, ("agreement", "propose", d, "--term-days", "-1", "--yes"), "--term-days must be a positive"),
        (p, ("agreement", "propose", d, "--term-days", "1e30", "--yes"), "--term-days 1e+30 is out of range"),
        (p, ("agreement", "renew", "--term-days", "nan", "--yes"), "--term-days must be a positive"),
        (p, ("consent", "grant", d, "--days", "inf", "--yes"), "--days must be a positive"),
        (p, ("consent", "grant", d, "--days", "0", "--yes"), "--days must be a positive"),
        (p, ("consent", "sign", d, "--days", "1e300", "-o", "/dev/null"), "--days 1e+300 is out of range"),
        (p, ("consent", "grant", d, "--days", "784351555964", "--yes"), "to 36525 days"),
        (None, ("deploy", "--dev", "--yes", *founders, "--voting-period-days", "-1"), "--voting-period-days"),
        (None, ("deploy", "--dev", "--yes", *founders, "--threshold-bps", "99999"), "99999"),
        (None, ("devnet", "fund", world.outsider.address, "--eth", "-1"), "--eth must be a non-negative"),
        (None, ("devnet", "fund", world.outsider.address, "--eth", "nan"), "--eth must be a non-negative"),
    ]
    funder = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    for who, args, expected in cases:
        sender = who.address if who is not None else funder
        nonce = w3.eth.get_transaction_count(sender)
        message = cli.fail(who, *args)
        assert expected.replace("2**256", str(2**256)) in message, (args, message)
        assert not message.startswith("unexpected"), args
        assert w3.eth.get_transaction_count(sender) == nonce, args


def test_store_down_grant_sends_nothing(cli: Cli, world: World, w3: Web3, visit: str) -> None:
    record = _submit(cli, world, visit)
    down = f"http://127.0.0.1:{closed_port()}"
    p, insurer = world.patient, world.insurer.address
    nonce = w3.eth.get_transaction_count(p.address)
    message = cli.fail(
        p, "consent", "grant", insurer, "--sections", "diagnosis", "--yes", FAMCHAIN_IPFS_API=down
    )
    assert message.startswith(f"content store at {down} is unreachable")
    assert w3.eth.get_transaction_count(p.address) == nonce
    assert world.chain.consents.grant_of(p.address, insurer).sections == 0
    # the chain's own refusal still comes first and names the problem
    message = cli.fail(p, "consent", "grant", world.outsider.address, "--yes", FAMCHAIN_IPFS_API=down)
    assert message.startswith(
        f"{world.outsider.address} is not an active practitioner of a consortium member"
    )
    cli.tx(p, "consent", "grant", insurer, "--sections", "diagnosis")
    assert set(cli.json(world.insurer, "record", "read", record)["sections"]) == {"diagnosis"}


def test_store_down_update_leaves_no_orphan(cli: Cli, world: World, tmp_path: Path, visit: str) -> None:
    record = _submit(cli, world, visit)
    down = f"http://127.0.0.1:{closed_port()}"
    d, approval = world.family_doctor, tmp_path / "approval.json"
    message = cli.fail(
        d, "record", "update", record, "--file", visit, "-o", str(approval), FAMCHAIN_IPFS_API=down
    )
    assert message.startswith(f"content store at {down} is unreachable")
    assert not approval.exists()
    assert cli.json(d, "outbox", "list") == []
    assert cli.fail(world.patient, "record", "read", record, FAMCHAIN_IPFS_API=down).startswith(
        "content store"
    )
    cli.ok(d, "record", "update", record, "--file", visit, "-o", str(approval))
    assert [e["state"] for e in cli.json(d, "outbox", "list")] == ["awaiting_approval"]


def test_store_down_when_the_resident_accepts(cli: Cli, world: World, tmp_path: Path) -> None:
    resident, doctor = world.outsider, world.family_doctor
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    cli.tx(resident, "resident", "register", "--profile", str(profile))
    cli.tx(doctor, "agreement", "propose", resident.address)
    down = f"http://127.0.0.1:{closed_port()}"
    message = cli.fail(resident, "agreement", "accept", doctor.address, "--yes", FAMCHAIN_IPFS_API=down)
    assert message.startswith(
        "the agreement is in force, but your records are not shared with the doctor yet"
    )
    assert message.endswith("run `famchain agreement share` when the store is reachable")
    assert cli.json(resident, "agreement", "show")["active"]["doctor"] == doctor.address
    assert cli.json(doctor, "resident", "show", resident.address)["basic_information"] is None
    cli.tx(resident, "agreement", "share")
    assert cli.json(doctor, "resident", "show", resident.address)["basic_information"] == PROFILE


def test_configuration_errors(cli: Cli, world: World, devnet: DevnetInfo, tmp_path: Path, visit: str) -> None:
    p = world.patient
    cases: list[tuple[dict[str, str], str]] = [
        ({"FAMCHAIN_RPC_URL": "not a url"}, "RPC endpoint not a url is unreachable"),
        ({"FAMCHAIN_RPC_URL": "ftp://x"}, "RPC endpoint ftp://x is unreachable"),
        ({"FAMCHAIN_RPC_URL": devnet.ipfs_url}, f"RPC endpoint {devnet.ipfs_url} is unreachable"),
        ({"FAMCHAIN_IPFS_BACKEND": "bogus"}, "unknown FAMCHAIN_IPFS_BACKEND 'bogus'"),
        ({"FAMCHAIN_IPFS_TIMEOUT": "soon"}, "FAMCHAIN_IPFS_TIMEOUT must be a number of seconds"),
        ({"FAMCHAIN_IPFS_API": "garbage"}, "FAMCHAIN_IPFS_API 'garbage' is not an http:// or https:// URL"),
        ({"FAMCHAIN_DEPLOYMENT": str(tmp_path)}, f"cannot read deployment file {tmp_path}"),
        ({"FAMCHAIN_DEPLOYMENT": "/dev/null"}, "cannot read deployment file /dev/null"),
        ({"FAMCHAIN_KEYSTORE_DIR": str(tmp_path / "empty")}, f"no keystore for {p.address}"),
        ({"FAMCHAIN_KEYSTORE": str(cli.deployment)}, f"not a V3 keystore: {cli.deployment}"),
        ({"FAMCHAIN_PASSWORD": ""}, "wrong password"),
    ]
    for env, expected in cases:
        message = cli.fail(p, "resident", "show", **env)
        assert message.startswith(expected), (env, message)
    message = cli.fail(
        world.family_doctor,
        "record",
        "submit",
        "--patient",
        p.address,
        "--file",
        visit,
        "--yes",
        FAMCHAIN_HOME="/dev/null/home",
    )
    assert message.startswith("cannot create outbox /dev/null/home/outbox/")
    assert _card(world) == []


def test_keystore_by_file_option_and_password_file_env(cli: Cli, world: World, tmp_path: Path) -> None:
    p = world.patient
    cli.key(p)
    (keystore_file,) = cli.keystores.iterdir()
    password = tmp_path / "password"
    password.write_text("walkthrough password\n")
    shown = cli.json(
        world.stranger,  # the environment names another account: --keystore wins
        "resident",
        "show",
        "--keystore",
        str(keystore_file),
        FAMCHAIN_PASSWORD=None,
        FAMCHAIN_PASSWORD_FILE=str(password),
    )
    assert shown["resident"] == p.address
    assert shown["basic_information"] == PROFILE
    piped = cli.runner.invoke(
        command(),
        ["resident", "show", "--json"],
        input=PASSWORD + "\n",
        env=cli.env(p, FAMCHAIN_PASSWORD=None),
    )
    assert piped.exit_code == 0, piped.stderr
    assert json.loads(piped.stdout)["basic_information"] == PROFILE
    assert piped.stderr == ""
    # no password anywhere and nothing on stdin (a real process: CliRunner's stdin re-prompts forever)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAMCHAIN_")}
    env.update({k: v for k, v in cli.env(p, FAMCHAIN_PASSWORD=None).items() if v is not None})
    done = subprocess.run(
        [sys.executable, "-m", "famchain", "resident", "show"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal for getpass to open
        check=False,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr == (
        "error: no password: pass --password-file, set FAMCHAIN_PASSWORD, or pipe it on stdin\n"
    )


def test_relaying_a_bad_consent_file_sends_nothing(
    cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str
) -> None:
    record = _submit(cli, world, visit)
    signed = tmp_path / "consent.json"
    _sign(cli, world, signed)
    good = json.loads(signed.read_text())
    # v2: the file carries the signed message (terms, bundle digest) and the signature, no key material.
    assert set(good) == {"kind", "typed_data", "signature"}
    relayer = world.outsider
    down = f"http://127.0.0.1:{closed_port()}"

    def bad(change: str) -> dict[str, object]:
        doc = json.loads(json.dumps(good))
        message = doc["typed_data"]["message"]
        if change == "purpose":
            message["terms"]["purpose"] = "marketing"
        elif change == "bundle":
            message["bundleDigest"] = "0x" + "11" * 32
        elif change == "no terms":
            del message["terms"]
        elif change == "huge sections":
            message["sections"] = 2**40
        elif change == "short salt":
            message["terms"]["salt"] = "0x1234"
        elif change == "no signature":
            del doc["signature"]
        return doc

    cases = [
        ("purpose", "the signature was made by"),  # the relayer cannot change what the patient agreed to
        ("bundle", "the signature was made by"),  # nor the key bundle the consent names
        ("no terms", "signed consent is malformed: KeyError"),
        ("huge sections", "signed consent is malformed"),
        ("short salt", "consent terms: salt must be 32 bytes"),
        ("no signature", "not a signed famchain consent"),
    ]
    for change, expected in cases:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad(change)))
        nonce = w3.eth.get_transaction_count(relayer.address)
        message = cli.fail(relayer, "consent", "submit", str(path), "--yes")
        assert message.lower().startswith(expected.lower()), (change, message)
        assert w3.eth.get_transaction_count(relayer.address) == nonce, change
        assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0, (
            change
        )

    # v2: relaying needs no store (the patient stored the bundle before signing): it works with the store down.
    cli.tx(relayer, "consent", "submit", str(signed), FAMCHAIN_IPFS_API=down)
    assert set(cli.json(world.insurer, "record", "read", record)["sections"]) == {
        "diagnosis",
        "prescriptions",
    }


def _prepared_update(cli: Cli, world: World, tmp_path: Path, visit: str) -> tuple[str, Path]:
    record = _submit(cli, world, visit)
    approval = tmp_path / "approval.json"
    cli.ok(world.family_doctor, "record", "update", record, "--file", visit, "-o", str(approval))
    return record, approval


def test_bad_approval_requests_are_refused_before_signing(
    cli: Cli, world: World, tmp_path: Path, visit: str
) -> None:
    _, approval = _prepared_update(cli, world, tmp_path, visit)
    request = json.loads(approval.read_text())
    consent = tmp_path / "consent.json"
    _sign(cli, world, consent)  # a Consent typed-data document, passed off as an approval request
    disguised = {**request, "typed_data": json.loads(consent.read_text())["typed_data"]}
    cases: list[tuple[object, str]] = [
        (disguised, "an approval request signs a RecordUpdate, not a 'Consent'"),
        ({**request, "typed_data": "x"}, "the approval request is malformed"),
        (
            {**request, "typed_data": {k: v for k, v in request["typed_data"].items() if k != "message"}},
            "the approval request is malformed",
        ),
        ({**request, "kind": "other"}, "not a famchain record-update approval request"),
        (
            {
                **request,
                "typed_data": {
                    **request["typed_data"],
                    "message": {**request["typed_data"]["message"], "nonce": []},
                },
            },
            "the approval request is malformed (EncodingTypeError",
        ),
    ]
    for document, expected in cases:
        approval.write_text(json.dumps(document))
        message = cli.fail(world.patient, "record", "approve", str(approval))
        assert message.startswith(expected), message
        assert "signature" not in json.loads(approval.read_text())


def test_bad_approvals_are_refused_before_the_outbox_changes(
    cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str
) -> None:
    record, approval = _prepared_update(cli, world, tmp_path, visit)
    cli.ok(world.patient, "record", "approve", str(approval), "--yes")
    signed = json.loads(approval.read_text())
    (waiting,) = cli.json(world.family_doctor, "outbox", "list")
    other = Account.sign_typed_data(world.outsider.account_key(), full_message=signed["typed_data"])

    def variant(**changes: object) -> dict[str, object]:
        doc = json.loads(json.dumps(signed))
        message = changes.pop("message", None)
        if isinstance(message, dict):
            doc["typed_data"]["message"].update(message)
        doc.update(changes)
        return doc

    cases: list[tuple[dict[str, object], str]] = [
        (variant(signature="0xzz"), "the approval file is malformed"),
        (variant(signature="0x1234"), "the approval is not the patient"),
        (
            variant(signature="0x" + other.signature.hex().removeprefix("0x")),
            "the approval is not the patient",
        ),
        (variant(message={"nonce": "abc"}), "the approval file is malformed"),
        (variant(message={"deadline": 2**300}), "deadline"),
        (variant(typed_data="x"), "the approval file is malformed"),
    ]
    doctor = world.family_doctor
    for document, expected in cases:
        path = tmp_path / "bad-approval.json"
        path.write_text(json.dumps(document))
        nonce = w3.eth.get_transaction_count(doctor.address)
        message = cli.fail(doctor, "record", "update", "--approval", str(path), "--yes")
        assert expected in message, message
        assert w3.eth.get_transaction_count(doctor.address) == nonce
        assert cli.json(doctor, "outbox", "list") == [waiting]

    cli.tx(doctor, "record", "update", "--approval", str(approval))
    assert _card(world) == [record, waiting["record"]]


def test_expired_approval_waits_for_a_new_one(
    cli: Cli, world: World, w3: Web3, tmp_path: Path, visit: str
) -> None:
    record, approval = _prepared_update(cli, world, tmp_path, visit)
    cli.ok(world.patient, "record", "approve", str(approval), "--yes")
    deadline = int(json.loads(approval.read_text())["typed_data"]["message"]["deadline"])
    _advance(w3, deadline - world.chain.now() + 60)
    doctor = world.family_doctor

    message = cli.fail(doctor, "record", "update", "--approval", str(approval), "--yes")

    assert message.startswith("update refused:")
    assert "expired" in message
    (entry,) = cli.json(doctor, "outbox", "list")
    assert entry["state"] == "awaiting_approval"
    assert "expired" in entry["last_error"]
    flushed = cli.json(doctor, "outbox", "flush", "--yes")  # no longer fails on every flush
    assert flushed["failed"] == []
    assert [e["record"] for e in flushed["waiting_approval"]] == [entry["record"]]
    assert _card(world) == [record]
    visit_two = cli.json(
        doctor, "record", "submit", "--patient", world.patient.address, "--file", visit, "--yes"
    )
    assert _card(world) == [record, visit_two["record"]]


def test_queued_record_whose_author_lost_the_right_fails_flush_in_one_line(
    cli: Cli, world: World, visit: str
) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    d, p = world.family_doctor, world.patient
    cli.fail(d, "record", "submit", "--patient", p.address, "--file", visit, "--yes", FAMCHAIN_IPFS_API=down)
    (queued,) = cli.json(d, "outbox", "list")
    cli.tx(p, "agreement", "terminate")

    result = cli.invoke(d, "outbox", "flush", "--yes", "--json")

    message = one_error_line(result)
    assert message.startswith(f"1 record(s) not anchored; {queued['record']}: ")
    report = json.loads(result.stdout)
    assert [e["record"] for e in report["failed"]] == [queued["record"]]
    assert _card(world) == []
    (kept,) = cli.json(d, "outbox", "list")  # kept, with the reason, not lost
    assert kept["record"] == queued["record"]
    assert kept["last_error"] == report["failed"][0]["error"]
