"""Every actor's walkthrough through the ``famchain`` CLI alone: deploy, membership vote, practitioners,
registration, agreement, records with attachments, amendment with approval, consents (by transaction and by
an offline signature relayed by someone else), revocation, audit and the outbox.

Only the CLI acts; the tests decode the ``--json`` output (and read the chain directly to check it).
"""

from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path

import pytest
from _cli_support import Cli
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from famchain import Client, MemberStatus
from famchain.chain.deployment import Deployment
from famchain.chain.rpc import connect
from famchain.devnet import DevnetInfo
from famchain.records.sections import ALL_SECTIONS, Section, section_names

pytestmark = pytest.mark.usefixtures("light_keystores")

PROFILE = {"name": "张三", "sex": "female", "birth_date": "1958-09-30", "contact": "+86 139 0000 0000"}
VISIT = {
    "version": 1,
    "sections": {
        "present_illness": "Chest tightness on exertion for a week.",
        "past_history": "Type 2 diabetes since 2010.",
        "diagnosis": [{"text": "Stable angina", "code": "I20.8", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Aspirin 100 mg", "frequency": "once daily", "days": 30}],
        "examinations": [{"name": "ECG", "value": "ST depression V4-V6"}],
    },
}
AMENDED = {
    "sections": {
        "diagnosis": [{"text": "Unstable angina", "code": "I20.0", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Aspirin 100 mg", "frequency": "once daily", "days": 90}],
    }
}
SCAN = b"%PDF-1.4\n% a tiny stand-in for an ECG printout\n" + bytes(range(256))
INSURER_SECTIONS = ["diagnosis", "prescriptions"]


@pytest.fixture
def cli(devnet: DevnetInfo, tmp_path: Path) -> Cli:
    return Cli(
        devnet.rpc_url,
        devnet.ipfs_url,
        tmp_path / "deployments" / "walkthrough.json",
        tmp_path / "keystores",
        tmp_path / "home",
    )


def _write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document, ensure_ascii=False))
    return str(path)


def _events(cli: Cli, who: LocalAccount, patient: str) -> list[dict[str, object]]:
    out = cli.json(who, "audit", "--patient", patient)
    assert out["patient"] == patient
    events: list[dict[str, object]] = out["events"]
    return events


def test_actor_walkthrough_through_the_cli(cli: Cli, w3: Web3, tmp_path: Path) -> None:
    pc, hospital, insurer_admin = Account.create(), Account.create(), Account.create()
    doctor, specialist, insurer, patient = (
        Account.create(),
        Account.create(),
        Account.create(),
        Account.create(),
    )
    relayer = Account.create()

    # --- deployment: two founders, paid by anvil's dev account ---
    deployed = cli.json(
        None,
        "deploy",
        "--dev",
        "--yes",
        "--founder",
        f"primary-care:{pc.address}",
        "--founder",
        f"hospital:{hospital.address.lower()}",
    )
    assert Path(deployed["file"]) == cli.deployment
    assert set(deployed["addresses"]) == {
        "Consortium",
        "ResidentRegistry",
        "ConsentRegistry",
        "RecordRegistry",
        "EmergencyAccess",
    }
    assert deployed["founders"] == [
        {"admin": pc.address, "kind": "primary_care"},
        {"admin": hospital.address, "kind": "hospital"},
    ]
    chain = Client(connect(cli.rpc_url), Deployment.load(cli.deployment))  # public reads: no account

    for account in (pc, hospital, insurer_admin, doctor, specialist, insurer, patient, relayer):
        out = cli.ok(None, "devnet", "fund", account.address, "--eth", "5")
        assert account.address in out.stdout
        assert w3.eth.get_balance(account.address) == 5 * 10**18

    # --- practitioners: each signs its enrollment (with the key `account show` prints); the admin submits it ---
    def enrollment(who: LocalAccount, institution: LocalAccount) -> str:
        path = tmp_path / f"{who.address}.enrollment.json"
        cli.ok(who, "institution", "enroll-sign", "--institution", institution.address, "-o", str(path))
        shown = cli.json(None, "account", "show", cli.key(who))
        signed = json.loads(path.read_text())
        assert signed["encryption_key"] == shown["encryption_public_key"]
        assert path.stat().st_mode & 0o777 == 0o600
        return str(path)

    # an enrollment names its institution: another institution cannot use it
    stolen = enrollment(doctor, pc)
    assert "lets " in cli.fail(
        hospital, "institution", "add-doctor", doctor.address, "--enrollment", stolen, "--yes"
    )
    cli.tx(pc, "institution", "add-doctor", doctor.address, "--enrollment", stolen)
    cli.tx(
        hospital,
        "institution",
        "add-doctor",
        specialist.address,
        "--enrollment",
        enrollment(specialist, hospital),
    )
    doctors = cli.json(pc, "institution", "doctors")
    assert doctors == {
        "institution": pc.address,
        "practitioners": [{"practitioner": doctor.address, "active": True}],
    }
    assert cli.json(pc, "institution", "doctors", hospital.address)["practitioners"] == [
        {"practitioner": specialist.address, "active": True}
    ]

    # --- an insurer is voted in: the proposal counts as one vote, the second carries it ---
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # a user would see any warning on stderr
        proposed = cli.json(
            pc, "consortium", "propose", "admit", insurer_admin.address, "--kind", "insurer", "--yes"
        )
    assert [str(w.message) for w in caught] == []
    assert proposed["executed"] is False
    assert chain.consortium.member(insurer_admin.address).status is MemberStatus.NONE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        voted = cli.json(hospital, "consortium", "vote", str(proposed["proposal"]), "--yes")
    assert [str(w.message) for w in caught] == []
    assert voted == {"proposal": proposed["proposal"], "approvals": 2, "executed": True}
    members = cli.json(pc, "consortium", "members")
    assert members["active"] == 3
    assert members["threshold_bps"] == 5001
    assert {m["institution"]: (m["kind"], m["status"]) for m in members["members"]} == {
        pc.address: ("primary_care", "active"),
        hospital.address: ("hospital", "active"),
        insurer_admin.address: ("insurer", "active"),
    }
    cli.tx(
        insurer_admin,
        "institution",
        "add-doctor",
        insurer.address,
        "--enrollment",
        enrollment(insurer, insurer_admin),
    )

    # --- the resident registers; only they read their basic information ---
    profile = _write(tmp_path / "profile.json", PROFILE)
    cli.tx(patient, "resident", "register", "--profile", profile)
    mine = cli.json(patient, "resident", "show")
    assert mine["resident"] == patient.address
    assert mine["basic_information"] == PROFILE
    assert mine["family_doctor"] is None
    theirs = cli.json(specialist, "resident", "show", patient.address)
    assert theirs["basic_information"] is None
    assert "withheld" in theirs
    assert theirs["profile_cid"] == mine["profile_cid"]
    assert chain.residents.is_registered(patient.address)

    # --- family-doctor agreement: proposed by the doctor, accepted by the resident, renewed ---
    cli.tx(doctor, "agreement", "propose", patient.address, "--sections", "all", "--term-days", "365")
    pending = cli.json(patient, "agreement", "show")
    assert pending["active"] is None
    (proposal,) = pending["pending"]  # v2: one proposal per (resident, doctor) pair
    assert proposal["doctor"] == doctor.address
    assert proposal["proposer"] == doctor.address
    assert proposal["sections"] == section_names(ALL_SECTIONS)
    cli.tx(patient, "agreement", "accept", doctor.address)
    active = cli.json(doctor, "agreement", "show", patient.address)["active"]
    assert active["doctor"] == doctor.address
    assert active["actions"] == ["read", "append"]
    assert cli.json(doctor, "resident", "show", patient.address)["basic_information"] == PROFILE
    cli.tx(patient, "agreement", "renew", "--term-days", "400")
    renewed = cli.json(patient, "agreement", "show")["active"]
    assert renewed["ends_at"] > active["ends_at"]

    # --- a visit record with an attachment ---
    (tmp_path / "ecg.pdf").write_bytes(SCAN)
    visit = _write(tmp_path / "visit.json", VISIT)
    submitted = cli.json(
        doctor,
        "record",
        "submit",
        "--patient",
        patient.address,
        "--file",
        visit,
        "--attach",
        str(tmp_path / "ecg.pdf"),
        "--yes",
    )
    assert submitted["state"] == "anchored"
    assert submitted["patient"] == patient.address
    assert submitted["sections"] == [*VISIT["sections"], "attachments"]
    record = submitted["record"]
    card = cli.json(patient, "record", "list", "--patient", patient.address)["records"]
    assert [(r["index"], r["record"], r["author"], r["updates"]) for r in card] == [
        (0, record, doctor.address, None)
    ]
    assert card[0]["cid"] == submitted["cid"]

    read = cli.json(patient, "record", "read", record)
    assert read["author"] == doctor.address
    assert read["withheld"] == {}
    assert {k: v for k, v in read["sections"].items() if k != "attachments"} == VISIT["sections"]
    (attachment,) = read["sections"]["attachments"]
    assert attachment["name"] == "ecg.pdf"
    assert attachment["media_type"] == "application/pdf"
    assert base64.b64decode(attachment["data"]) == SCAN
    out_dir = tmp_path / "read"
    cli.ok(doctor, "record", "read", record, "-o", str(out_dir))
    assert (out_dir / "ecg.pdf").read_bytes() == SCAN
    assert json.loads((out_dir / "diagnosis.json").read_text()) == VISIT["sections"]["diagnosis"]

    # --- amendment: the doctor prepares, the patient approves offline, the doctor relays ---
    amended = _write(tmp_path / "amended.json", AMENDED)
    approval = tmp_path / "approval.json"
    cli.ok(doctor, "record", "update", record, "--file", amended, "-o", str(approval))
    request = json.loads(approval.read_text())
    assert "signature" not in request
    assert cli.fail(doctor, "record", "update", "--approval", str(approval), "--yes").startswith(
        "the approval file carries no signature"
    )
    cli.ok(patient, "record", "approve", str(approval), "--yes")
    assert json.loads(approval.read_text())["signature"].startswith("0x")
    cli.tx(doctor, "record", "update", "--approval", str(approval))
    card = cli.json(patient, "record", "list", "--patient", patient.address)["records"]
    assert [r["record"] for r in card] == [record, request["record"]]
    assert card[1]["updates"] == record
    assert card[1]["sections"] == INSURER_SECTIONS
    new_version = cli.json(patient, "record", "read", request["record"])
    assert new_version["previous"] == record
    assert new_version["sections"] == AMENDED["sections"]

    # --- consent by transaction: the specialist on referral, existing records re-wrapped for them ---
    assert cli.fail(specialist, "record", "read", record).endswith(
        f"no consent from {patient.address} covers it"
    )
    cli.tx(
        patient,
        "consent",
        "grant",
        specialist.address,
        "--sections",
        "all",
        "--purpose",
        "referral",
        "--days",
        "30",
    )
    referral = cli.json(specialist, "record", "read", record)
    assert referral["withheld"] == {}
    assert referral["sections"]["diagnosis"] == VISIT["sections"]["diagnosis"]

    # --- consent signed offline by the patient, relayed by someone else who pays the gas ---
    signed = tmp_path / "consent.json"
    before = w3.eth.get_transaction_count(patient.address)
    cli.ok(
        patient,
        "consent",
        "sign",
        insurer.address,
        "--sections",
        "diagnosis,prescriptions",
        "--purpose",
        "insurance-claim",
        "--days",
        "10",
        "-o",
        str(signed),
    )
    assert w3.eth.get_transaction_count(patient.address) == before  # signing sends nothing
    message = json.loads(signed.read_text())["typed_data"]["message"]
    assert chain.consents.grant_of(patient.address, insurer.address).sections == 0
    cli.tx(relayer, "consent", "submit", str(signed))
    assert w3.eth.get_transaction_count(patient.address) == before
    grant = chain.consents.grant_of(patient.address, insurer.address)
    assert (grant.sections, grant.actions, grant.expiresAt) == (
        int(Section.DIAGNOSIS | Section.PRESCRIPTIONS),
        1,
        int(message["expiresAt"]),
    )
    assert message["terms"]["purpose"] == "insurance-claim"  # in the signed terms; on chain only their hash
    claim = cli.json(insurer, "record", "read", record)
    assert set(claim["sections"]) == set(INSURER_SECTIONS)
    assert set(claim["withheld"]) == {"present_illness", "past_history", "examinations", "attachments"}

    # --- an access request, the consent list, a revocation ---
    cli.tx(
        insurer,
        "consent",
        "request",
        patient.address,
        "--sections",
        "examinations",
        "--purpose",
        "insurance-claim",
    )
    consents = {c["grantee"]: c for c in cli.json(patient, "consent", "list")["consents"]}
    assert set(consents) == {specialist.address, insurer.address}
    assert consents[specialist.address]["active"] is True
    assert consents[specialist.address]["sections"] == section_names(ALL_SECTIONS)
    assert consents[insurer.address]["sections"] == INSURER_SECTIONS
    assert consents[insurer.address]["purpose"] == "insurance-claim"  # the patient's client holds the opening
    assert (
        consents[insurer.address]["request"]["terms"]["purpose"] == "insurance-claim"
    )  # sealed to the patient
    assert consents[insurer.address]["request"]["sections"] == ["examinations"]
    assert [e["event"] for e in consents[insurer.address]["events"]] == ["ConsentGranted", "AccessRequested"]
    cli.tx(patient, "consent", "revoke", insurer.address)
    consents = {
        c["grantee"]: c for c in cli.json(doctor, "consent", "list", "--patient", patient.address)["consents"]
    }
    assert consents[insurer.address]["active"] is False
    assert consents[specialist.address]["active"] is True
    # the doctor's client holds no opening of these terms: it sees that they are committed, not what they say
    assert consents[specialist.address]["purpose"] == "committed"
    assert consents[insurer.address]["request"]["terms"] == "committed"
    assert "revoked or has expired" in cli.fail(insurer, "record", "read", record)

    # --- the audit trail, from chain events alone, in chain order ---
    events = _events(cli, doctor, patient.address)
    names = [e["event"] for e in events]
    positions = [(e["block"], e["log_index"]) for e in events]
    assert positions == sorted(positions)
    assert names[:3] == ["ResidentRegistered", "AgreementProposed", "AgreementAccepted"]
    assert names.count("RecordAnchored") == 2
    assert names.count("ConsentRevoked") == 1
    assert names.index("RecordAnchored") < names.index("ConsentGranted") < names.index("ConsentRevoked")
    # v2: a grant names its key bundle (ConsentGranted), a release to the family doctor is KeysReleased.
    released_to = [e["args"]["grantee"] for e in events if e["event"] == "KeysReleased"]
    assert released_to == [doctor.address]
    bundles_to = [
        e["args"]["grantee"]
        for e in events
        if e["event"] == "ConsentGranted" and int(e["args"]["bundleDigest"], 16) != 0
    ]
    assert bundles_to == [specialist.address, insurer.address]
    anchored = [e["args"]["recordId"] for e in events if e["event"] == "RecordAnchored"]
    assert anchored == [record, request["record"]]

    # --- the outbox is empty once everything is anchored; flushing it sends nothing ---
    assert cli.json(doctor, "outbox", "list") == []
    nonce = w3.eth.get_transaction_count(doctor.address)
    flushed = cli.json(doctor, "outbox", "flush", "--yes")
    assert flushed["anchored"] == flushed["failed"] == []
    assert flushed["transactions"] == 0
    assert w3.eth.get_transaction_count(doctor.address) == nonce

    # --- the agreement ends; the former doctor is wrapped into nothing new ---
    cli.tx(patient, "agreement", "terminate")
    assert cli.json(patient, "agreement", "show")["active"] is None
    assert (
        cli.json(patient, "audit", "--patient", patient.address)["events"][-1]["event"]
        == "AgreementTerminated"
    )
    message_ = cli.fail(doctor, "record", "submit", "--patient", patient.address, "--file", visit, "--yes")
    assert "no active agreement or consent" in message_
    assert cli.json(doctor, "outbox", "list") == []
