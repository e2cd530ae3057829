"""Issue #16 on a real devnet and store: the deployment's cipher policy (the ``gm`` preset), PIPL consent terms and
their date range, deletion requests that lock records, and erasure after retention from every member store.

Each claim is judged from the chain (events, views) and the stores (what a key opens, which blocks are held),
not from the client's own report.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from _cli_support import Cli

from _world import World, build_world
from famchain import (
    ALL_SECTIONS,
    Attachment,
    Deployment,
    KeyNotReleasedError,
    RecordId,
    Section,
    parse_record,
)
from famchain.chain.structs import ProposalAction
from famchain.crypto.aead import AES_256_GCM, SM4_GCM
from famchain.crypto.envelope import EnvelopeContext, KeyBundle, SealedEnvelope, Withheld, open_all
from famchain.crypto.policy import preset
from famchain.devnet import DevnetInfo, dev_account
from famchain.errors import (
    EmergencyCardLockedError,
    ErasureRefusedError,
    NotARecipientError,
    RecordErasedError,
    RecordLockedError,
)
from famchain.records.outbox import OutboxEntry
from famchain.services.consents import TermsOptions
from famchain.storage.cid import cid_from_digest
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayFetcher, GatewayServer
from famchain.storage.kubo import KuboStore
from famchain.types import Address

ROOT = Path(__file__).resolve().parents[3]
VISIT = {
    "sections": {
        "present_illness": "Pain in the right big toe since last night.",
        "diagnosis": [{"text": "Gout", "code": "M10.9"}],
        "prescriptions": [{"drug": "Colchicine 0.5 mg", "days": 5}],
        "allergies": [{"substance": "Aspirin"}],
    }
}
XRAY = Attachment("toe.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
WITH_XRAY = {**VISIT["sections"], "attachments": [XRAY.to_json()]}
DAY = 86_400


def _travel(world: World, seconds: int) -> None:
    """Move the devnet's clock (tests only)."""
    world.patient.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    world.patient.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _submit(world: World, *, xray: bool = False) -> OutboxEntry:
    content = parse_record(VISIT, [XRAY] if xray else None)
    return world.family_doctor.records.submit(world.patient.address, content).entry


def _context(world: World, record_id: RecordId) -> EnvelopeContext:
    anchor = world.chain.records.find(record_id)
    return EnvelopeContext(
        anchor.salt,
        Address(anchor.patient),
        Address(anchor.author),
        world.patient.chain_id,
        Address(world.patient.chain.records.address),
    )


def _announced_bundles(world: World, grantee: str) -> list[KeyBundle]:
    """Every key bundle the chain announced for ``grantee`` (consents naming one, key releases)."""
    out = []
    for event in world.chain.audit.events(world.patient.address):
        if event.name in ("ConsentGranted", "KeysReleased") and event.args.get("grantee") == grantee:
            digest = bytes(event.args["bundleDigest"])
            if any(digest):
                cid = cid_from_digest(digest, int(event.args["bundleCodec"]))
                out.append(KeyBundle.from_bytes(world.store.get(cid)))
    return out


def _opened_from_store(world: World, reader: Any, record_id: RecordId) -> set[str]:
    """The sections of a record ``reader``'s key opens from the stored envelope and the bundles announced on
    chain for it, with no client logic in between."""
    anchor = world.chain.records.find(record_id)
    sealed = SealedEnvelope.from_bytes(world.store.get(anchor.cid))
    try:
        opened = open_all(
            sealed,
            reader.account_key(),
            _context(world, record_id),
            bundles=_announced_bundles(world, reader.address),
        )
    except NotARecipientError:
        return set()
    return {name for name, value in opened.items() if not isinstance(value, Withheld)}


def _cli(world: World, devnet: DevnetInfo, tmp_path: Path) -> Cli:
    deployment = tmp_path / "deployment.json"
    world.deployment.save(deployment)
    return Cli(devnet.rpc_url, devnet.ipfs_url, deployment, tmp_path / "keys", world.home)


# --- the deployment's cipher policy: the gm preset ----------------------------------------------------------


def test_deploy_with_the_gm_preset_writes_it_to_the_deployment_file(
    world: World, devnet: DevnetInfo, tmp_path: Path
) -> None:
    cli = _cli(world, devnet, tmp_path)
    out = tmp_path / "gm.json"
    founders = [f"primary-care:{world.consortium.address}", f"hospital:{world.hospital.address}"]
    args = [a for f in founders for a in ("--founder", f)]

    cli.tx(None, "deploy", "--dev", "--cipher-policy", "gm", "-o", str(out), *args)

    assert Deployment.load(out).cipher_policy == preset("gm").to_dict()
    assert "neither a file nor a preset" in cli.fail(
        None, "deploy", "--dev", "--yes", "--cipher-policy", "sm2", "-o", str(tmp_path / "x.json"), *args
    )
    assert not (tmp_path / "x.json").exists()


def test_under_the_gm_preset_text_is_sealed_with_sm4_and_every_reader_opens_it(
    w3: Any, devnet: DevnetInfo, tmp_path: Path
) -> None:
    world = build_world(
        w3, dev_account(), KuboStore(devnet.ipfs_url), tmp_path / "home", cipher_policy=preset("gm").to_dict()
    )
    entry = _submit(world, xray=True)
    world.patient.consents.grant(
        world.insurer.address,
        int(Section.DIAGNOSIS | Section.ATTACHMENTS),
        expires_at=world.patient.now() + DAY,
    )

    sealed = SealedEnvelope.from_bytes(world.store.get(entry.cid))  # judged from the stored bytes
    assert {name: sealed.section(name).aead.name for name in sealed.section_names} == {
        "allergies": SM4_GCM,
        "attachments": AES_256_GCM,
        "diagnosis": SM4_GCM,
        "prescriptions": SM4_GCM,
        "present_illness": SM4_GCM,
    }
    assert world.patient.records.read(entry.record_id).sections == WITH_XRAY
    assert world.family_doctor.records.read(entry.record_id).sections == WITH_XRAY
    insurer = world.insurer.records.read(entry.record_id)  # through the key bundle the consent named
    assert set(insurer.sections) == {"diagnosis", "attachments"}
    assert insurer.ciphers["diagnosis"] == SM4_GCM
    assert insurer.ciphers["attachments"] == AES_256_GCM
    assert _opened_from_store(world, world.insurer, entry.record_id) == {"diagnosis", "attachments"}


# --- PIPL consent terms --------------------------------------------------------------------------------------


def test_a_consent_releases_only_the_records_anchored_in_its_date_range(world: World) -> None:
    old = _submit(world)
    _travel(world, 10 * DAY)
    new = _submit(world)
    old_at = world.chain.records.find(old.record_id).anchored_at
    new_at = world.chain.records.find(new.record_id).anchored_at
    assert new_at - old_at >= 10 * DAY

    insurer, specialist = world.insurer, world.specialist
    world.patient.consents.grant(
        insurer.address,
        ALL_SECTIONS,
        expires_at=world.patient.now() + 30 * DAY,
        terms=TermsOptions(purpose="insurance-claim", records_until=old_at + DAY),
    )
    world.patient.consents.grant(
        specialist.address,
        ALL_SECTIONS,
        expires_at=world.patient.now() + 30 * DAY,
        terms=TermsOptions(purpose="referral", records_from=new_at - DAY),
    )
    world.patient.consents.sync(insurer.address)  # a sync keeps to the terms' dates too

    assert _opened_from_store(world, insurer, old.record_id) == set(VISIT["sections"])
    assert _opened_from_store(world, insurer, new.record_id) == set()
    assert _opened_from_store(world, specialist, new.record_id) == set(VISIT["sections"])
    assert _opened_from_store(world, specialist, old.record_id) == set()
    with pytest.raises(KeyNotReleasedError):  # the chain lets it read; no key for it ever went out
        insurer.records.read(new.record_id)


def test_consent_commands_take_and_show_every_pipl_term(
    world: World, devnet: DevnetInfo, tmp_path: Path
) -> None:
    cli = _cli(world, devnet, tmp_path)
    _submit(world)
    signed = tmp_path / "consent.json"
    out = cli.ok(
        world.patient,
        "consent",
        "sign",
        world.insurer.address,
        "--sections",
        "diagnosis,prescriptions",
        "--purpose",
        "insurance-claim",
        "--recipient",
        "claims office, Example Insurance",
        "--contact",
        "claims@example.org",
        "--data",
        "diagnosis and prescriptions of the 2024 stay",
        "--method",
        "read electronically, kept 3 years",
        "--records-from",
        "2024-01-01",
        "--records-until",
        "2024-12-31",
        "--days",
        "30",
        "-o",
        str(signed),
        "--print-typed-data",
    ).stderr  # stdout holds the typed data alone
    for shown in (
        "recipient: claims office, Example Insurance",
        "contact:   claims@example.org",
        "purpose:   insurance claim",  # the purpose for people (its wire name in the typed data below)
        "data:      diagnosis and prescriptions of the 2024 stay (diagnosis, prescriptions); records anchored "
        "from 2024-01-01 until 2024-12-31",
        "method:    read electronically, kept 3 years (read)",
        "(30 days)",
    ):
        assert shown in out, out
    # what the wallet signs: the nested ConsentTerms struct, every term in clear
    typed = json.loads(signed.read_text())["typed_data"]
    assert [f["name"] for f in typed["types"]["ConsentTerms"]] == [
        "recipient",
        "contact",
        "purpose",
        "data",
        "method",
        "recordsFrom",
        "recordsUntil",
        "salt",
    ]
    terms = typed["message"]["terms"]
    assert terms["recipient"] == "claims office, Example Insurance"
    assert terms["contact"] == "claims@example.org"
    assert terms["purpose"] == "insurance-claim"
    assert int(terms["recordsFrom"]) == 1704067200
    assert int(terms["recordsUntil"]) == 1735689599

    # the plain flow keeps working: every term said plainly from the grant's scope
    plain = cli.tx(
        world.patient, "consent", "grant", world.specialist.address, "--sections", "diagnosis"
    ).stdout
    assert (
        f"recipient: practitioner {world.specialist.address} of institution {world.hospital.address}" in plain
    )
    assert "contact:   (none given)" in plain
    assert "purpose:   treatment" in plain
    assert "all records, those anchored later included" in plain
    assert "granted " in plain

    # a request shows the terms it proposes
    asked = cli.tx(
        world.stranger,  # a research practitioner
        "consent",
        "request",
        world.patient.address,
        "--sections",
        "diagnosis",
        "--purpose",
        "research",
        "--contact",
        "ethics@example.org",
    ).stdout
    assert "purpose:   research" in asked
    assert "contact:   ethics@example.org" in asked


# --- deletion requests: the lock -----------------------------------------------------------------------------


def test_a_locked_record_refuses_every_new_grant_and_key_release_and_only_the_patient_reads_it(
    world: World,
) -> None:
    locked = _submit(world)
    kept = _submit(world)
    sent = world.patient.residents.request_record_deletion(locked.record_id)
    assert [r.record_id for r in sent] == [locked.record_id]
    assert world.chain.residents.deletion_requested_at(world.patient.address, locked.record_id) > 0

    # new grants: by transaction, by signature relayed, and a sync all leave it out and say so
    granted = world.patient.consents.grant(
        world.insurer.address, ALL_SECTIONS, expires_at=world.patient.now() + DAY
    )
    assert [s.record_id for s in granted.release.skipped] == [locked.record_id]
    assert "deletion request" in granted.release.skipped[0].reason
    signed = world.patient.consents.sign(
        world.specialist.address, ALL_SECTIONS, expires_at=world.patient.now() + DAY
    )
    world.specialist.consents.relay(signed.document)
    synced = world.patient.consents.sync(world.insurer.address)
    assert [s.record_id for s in synced.skipped] == [locked.record_id]
    # nor may anyone share it on its own, the author included, nor amend it
    for releaser in (world.family_doctor, world.patient):
        with pytest.raises(RecordLockedError, match="no key to it can be released"):
            releaser.records.share(locked.record_id, world.insurer.address)
    with pytest.raises(RecordLockedError, match="cannot be amended"):
        world.family_doctor.records.prepare_update(locked.record_id, parse_record(VISIT))

    # judged from the store: no key of the locked record reached either grantee; the other record's did
    for grantee in (world.insurer, world.specialist):
        assert _opened_from_store(world, grantee, locked.record_id) == set()
        assert _opened_from_store(world, grantee, kept.record_id) == set(VISIT["sections"])

    # only the patient reads it: the family doctor, wrapped in at sealing, is refused by its client
    with pytest.raises(RecordLockedError, match="only the patient can read it"):
        world.family_doctor.records.read(locked.record_id)
    card = {r.record_id: r for r in world.family_doctor.records.read_card(world.patient.address)}
    assert card[locked.record_id].sections == {}
    assert "locked by the resident's deletion request" in str(card[locked.record_id].error)
    assert card[kept.record_id].sections == VISIT["sections"]
    assert world.patient.records.read(locked.record_id).sections == VISIT["sections"]


def test_a_lock_reaches_every_version_of_a_record(world: World) -> None:
    first = _submit(world)
    prepared = world.family_doctor.records.prepare_update(first.record_id, parse_record(VISIT, [XRAY]))
    world.family_doctor.records.anchor_approved(world.patient.records.approve(prepared.request))
    second = prepared.entry.record_id

    sent = world.patient.residents.request_record_deletion(second)  # named by its latest version

    assert sorted(r.record_id for r in sent) == sorted([first.record_id, second])
    state = world.chain.records.deletions(world.patient.address)
    assert state.is_locked(first.record_id)
    assert state.is_locked(second)
    with pytest.raises(RecordLockedError):
        world.family_doctor.records.read(first.record_id)


def test_a_whole_card_lock_refuses_emergency_declarations_and_approvals_on_chain(world: World) -> None:
    patient, physician = world.patient, world.specialist
    voters = [world.consortium, world.hospital, world.insurer_admin]
    for custodian in (world.consortium, world.hospital):
        custodian.consortium.publish_member_key()
        proposal = voters[2].consortium.propose(ProposalAction.ADD_CUSTODIAN, custodian.address).proposal_id
        for voter in voters[:2]:
            if not world.chain.consortium.proposal(proposal).executed:
                voter.consortium.vote(proposal)
    declared = physician.emergency.declare(patient.address)  # before the lock

    patient.residents.request_deletion()  # the whole card

    # the bare approval, past every client check, is refused by the contract
    with pytest.raises(EmergencyCardLockedError) as approve:
        world.consortium.emergency.announce(declared.emergency_id, b"\x01" * 32, 0x55)
    assert approve.value.error_name == "EmergencyAccessCardLocked"
    assert "deletion request" in str(approve.value)
    with pytest.raises(EmergencyCardLockedError) as declare:
        physician.emergency.declare(patient.address)
    assert declare.value.error_name == "EmergencyAccessCardLocked"
    assert not world.chain.emergency.is_open(declared.emergency_id)


# --- erasure after retention, from every member store --------------------------------------------------------


@pytest.fixture
def short_retention(w3: Any, devnet: DevnetInfo, tmp_path: Path) -> World:
    """A deployment keeping outpatient records one hour (the defaults are 15 and 30 years)."""
    return build_world(
        w3,
        dev_account(),
        KuboStore(devnet.ipfs_url),
        tmp_path / "home",
        outpatient_retention=3600,
        inpatient_retention=7200,
    )


def test_erasure_is_refused_before_retention_and_after_it_every_store_deletes_the_bytes(
    short_retention: World, devnet: DevnetInfo, tmp_path: Path
) -> None:
    world = short_retention
    cli = _cli(world, devnet, tmp_path)
    erased, other = _submit(world), _submit(world)
    # two more member stores replicate the records (as an IPFS Cluster would), one served over HTTP
    members = [EmbeddedStore(tmp_path / "member-a"), EmbeddedStore(tmp_path / "member-b")]
    for store in members:
        for entry in (erased, other):
            GatewayFetcher(devnet.ipfs_url).fetch(entry.cid, store)
    gateway = GatewayServer(members[1], rpc=False)
    gateway.start()
    gateways = [devnet.ipfs_url, gateway.url]
    try:
        message = cli.fail(world.stranger, "record", "erase", str(erased.record_id), "--yes")
        assert "the resident has not asked for its deletion" in message
        cli.tx(world.patient, "resident", "delete-request", str(erased.record_id))
        message = cli.fail(world.stranger, "record", "erase", str(erased.record_id), "--yes")
        assert "outpatient records are kept 3600 second(s) after anchoring; this one until" in message
        with pytest.raises(ErasureRefusedError):
            world.stranger.records.erase(erased.record_id)
        assert not world.chain.records.is_erased(erased.record_id)

        _travel(world, 3601)
        assert world.chain.records.erasable(world.patient.address) == [
            world.chain.records.find(erased.record_id)
        ]
        cli.tx(world.stranger, "record", "erase", "--due", "--patient", world.patient.address)
        assert world.chain.records.is_erased(erased.record_id)

        # every member store deletes the sealed bytes: the devnet's store over its RPC, the two embedded ones
        before = cli.invoke(None, "record", "copies", str(erased.record_id), *_stores(gateways), "--json")
        assert before.exit_code == 1  # erased, yet stores hold it: the erasure is incomplete
        assert json.loads(before.stdout)["holding"] == 2
        assert "erasure incomplete: 2 store(s) still hold" in before.stderr
        cli.ok(None, "ipfs", "sync-erasures")  # FAMCHAIN_IPFS_BACKEND=kubo: the devnet store
        for n in range(len(members)):
            done = cli.json(
                None,
                "ipfs",
                "sync-erasures",
                "--backend",
                "embedded",
                "--store-dir",
                str(tmp_path / f"member-{'ab'[n]}"),
            )
            assert [r["record"] for r in done["deleted"]] == [str(erased.record_id)]
        for store in (world.store, *members):
            assert not store.has(erased.cid)  # judged from each store
            assert store.has(other.cid)
        copies = cli.json(None, "record", "copies", str(erased.record_id), *_stores(gateways))
        assert (copies["erased"], copies["holding"], copies["unknown"]) == (True, 0, 0)
        again = cli.json(None, "ipfs", "sync-erasures")
        assert again["deleted"] == []
        assert again["erased_records"] == 1
    finally:
        gateway.stop()

    # reading says so, the card shows it, the audit shows request, lock and erasure
    day = time.strftime("%Y-%m-%d", time.gmtime(world.chain.now()))
    phrase = f"erased on {day} at the resident's request"
    with pytest.raises(RecordErasedError, match=phrase):
        world.patient.records.read(erased.record_id)
    assert phrase in cli.fail(world.patient, "record", "read", str(erased.record_id))
    card = {r.record_id: r for r in world.patient.records.read_card(world.patient.address)}
    assert card[erased.record_id].error == f"record {erased.record_id} was {phrase}"
    assert card[other.record_id].sections == VISIT["sections"]
    listing = cli.ok(None, "record", "list", "--patient", world.patient.address).stdout
    assert f"{erased.record_id}" in listing
    assert f"[{phrase}]" in listing
    rows = {
        r["record"]: r
        for r in cli.json(None, "record", "list", "--patient", world.patient.address)["records"]
    }
    assert rows[str(erased.record_id)]["erased_at"]
    assert rows[str(other.record_id)]["erased_at"] is None
    audit = cli.ok(None, "audit", "--patient", world.patient.address).stdout
    assert f"deletion of record {erased.record_id} requested; record locked" in audit
    assert f"record {erased.record_id} erased at the resident's request" in audit


def _stores(urls: list[str]) -> list[str]:
    return [a for url in urls for a in ("--store", url)]


def test_serve_follows_erasures_and_deletes_the_bytes_as_the_event_arrives(
    short_retention: World, devnet: DevnetInfo, tmp_path: Path
) -> None:
    world = short_retention
    entry = _submit(world)
    deployment = tmp_path / "deployment.json"
    world.deployment.save(deployment)
    store_dir = tmp_path / "member"
    GatewayFetcher(devnet.ipfs_url).fetch(entry.cid, EmbeddedStore(store_dir))
    served = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "famchain"),
            "ipfs",
            "serve",
            "--store-dir",
            str(store_dir),
            "--follow-erasures",
            "--rpc-url",
            devnet.rpc_url,
            "--deployment",
            str(deployment),
            "--poll-seconds",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert served.stdout is not None
        url = served.stdout.readline().strip()
        assert url.startswith("http://"), served.stderr.read() if served.stderr else ""
        world.patient.residents.request_record_deletion(entry.record_id)
        _travel(world, 3601)
        world.stranger.records.erase(entry.record_id)

        deadline = time.monotonic() + 30
        while EmbeddedStore(store_dir).has(entry.cid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not EmbeddedStore(store_dir).has(entry.cid)
        assert world.chain.records.copies(entry.record_id, [url]).holding == 0
    finally:
        served.terminate()
        _, err = served.communicate(timeout=10)
    assert f"erased record {entry.record_id}" in err
