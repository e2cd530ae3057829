"""The gated gateway against a real devnet: the devnet's store served with ``--gated``'s guard (the chain's
answer, rechecked on every request), read through by each role with its own signed requests. Judged from
what the gateway serves: the patient, the author and current grantees get the sealed bytes; a stranger, a
revoked grantee and an unsigned request get 403; a member institution replicates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from _cli_support import Cli

from _world import World
from famchain import ALL_SECTIONS, Client, Purpose, RecordId, Section, parse_record
from famchain.devnet import DevnetInfo
from famchain.errors import AccessDeniedError, GatewayRefusedError
from famchain.records.gatekeeping import ChainGuard
from famchain.storage.access import AccessGate, AccessSigner
from famchain.storage.cid import cid_from_digest
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayFetcher, GatewayServer
from famchain.storage.remote import GatewayStore

VISIT = {
    "sections": {
        "present_illness": "Cough for a week.",
        "diagnosis": [{"text": "Acute bronchitis", "code": "J20.9"}],
        "prescriptions": [{"drug": "Amoxicillin 500 mg", "days": 5}],
    }
}
TWO_SECTIONS = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)


@pytest.fixture
def gateway(world: World, devnet: DevnetInfo) -> Iterator[GatewayServer]:
    """The devnet's store behind a gate that asks the chain on every request (no reuse of answers)."""
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    guard = ChainGuard(world.patient.chain, store=store, recheck_seconds=0)
    with GatewayServer(store, rpc=False, gate=AccessGate(guard)) as server:
        yield server


def _through(client: Client, gateway: GatewayServer) -> Client:
    """The same account, reading through the gated gateway only (nothing local)."""
    store = GatewayStore(gateway.url, AccessSigner(client.account_key()))
    return Client(
        client.w3, client.deployment, client.account, store=store, home=client.home, _chain=client.chain
    )


def _raw(gateway: GatewayServer, client: Client | None, cid: str) -> requests.Response:
    headers = (
        {} if client is None else {"Authorization": AccessSigner(client.account_key()).header(gateway.url)}
    )
    return requests.get(f"{gateway.url}/ipfs/{cid}?format=raw", headers=headers, timeout=10)


def _submit(world: World) -> RecordId:
    return world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id


def _grant(world: World, grantee: Client, sections: int = ALL_SECTIONS) -> None:
    world.patient.consents.grant(
        grantee.address, sections, purpose=Purpose.REFERRAL, expires_at=world.patient.now() + 30 * 86400
    )


def test_patient_author_and_current_grantee_are_served_and_read_the_record(
    world: World, gateway: GatewayServer
) -> None:
    _grant(world, world.specialist)
    _grant(world, world.insurer, TWO_SECTIONS)
    record = _submit(world)

    for reader in (world.patient, world.family_doctor, world.specialist):
        assert _through(reader, gateway).records.read(record).sections == VISIT["sections"]
    scoped = _through(world.insurer, gateway).records.read(record)
    assert set(scoped.sections) == {"diagnosis", "prescriptions"}


def test_stranger_outsider_and_unsigned_requests_are_refused(world: World, gateway: GatewayServer) -> None:
    record = _submit(world)
    cid = world.chain.records.find(record).cid

    for refused in (world.stranger, world.outsider):
        resp = _raw(gateway, refused, cid)
        assert resp.status_code == 403
        assert f"{refused.address} may not read this record of {world.patient.address} now" in resp.text
        with pytest.raises(GatewayRefusedError, match="may not read this record"):
            _through(refused, gateway).records.read(record)
    unsigned = _raw(gateway, None, cid)
    assert unsigned.status_code == 403
    assert unsigned.text.startswith("unsigned request")
    assert _raw(gateway, world.patient, cid).status_code == 200


def test_a_revoked_grantee_can_no_longer_fetch_the_ciphertext(world: World, gateway: GatewayServer) -> None:
    _grant(world, world.insurer, TWO_SECTIONS)
    record = _submit(world)
    cid = world.chain.records.find(record).cid
    assert _raw(gateway, world.insurer, cid).status_code == 200

    world.patient.consents.revoke(world.insurer.address)

    resp = _raw(gateway, world.insurer, cid)
    assert resp.status_code == 403
    assert "may not read this record" in resp.text
    with pytest.raises(AccessDeniedError):
        _through(world.insurer, gateway).records.read(record)


def test_a_grantee_is_served_its_key_bundle_and_nobody_else_is(world: World, gateway: GatewayServer) -> None:
    _submit(world)
    world.patient.consents.grant(
        world.specialist.address,
        ALL_SECTIONS,
        purpose=Purpose.REFERRAL,
        expires_at=world.patient.now() + 30 * 86400,
    )
    (event,) = [e for e in world.chain.audit.events(world.patient.address) if e.name == "ConsentGranted"]
    bundle = cid_from_digest(bytes(event.args["bundleDigest"]), int(event.args["bundleCodec"]))

    assert _raw(gateway, world.specialist, bundle).status_code == 200
    assert _raw(gateway, world.patient, bundle).status_code == 200
    resp = _raw(gateway, world.stranger, bundle)
    assert resp.status_code == 403
    assert "key bundle" in resp.text


def test_a_block_the_chain_names_nowhere_is_refused_even_to_a_member(
    world: World, gateway: GatewayServer
) -> None:
    cid = world.store.put(b"not anchored anywhere")

    resp = _raw(gateway, world.hospital, cid)

    assert resp.status_code == 403
    assert "no record, key bundle or profile anchored on this deployment" in resp.text


def test_a_member_institution_replicates_and_a_practitioner_without_consent_cannot(
    world: World, gateway: GatewayServer, tmp_path: Path
) -> None:
    record = _submit(world)
    cid = world.chain.records.find(record).cid
    replica = EmbeddedStore(tmp_path / "hospital-store")

    fetched = GatewayFetcher(gateway.url, signer=AccessSigner(world.hospital.account_key())).fetch(
        cid, replica
    )

    assert fetched.blocks_fetched >= 1
    assert cid in replica.pins()
    with pytest.raises(GatewayRefusedError):
        GatewayFetcher(gateway.url, signer=AccessSigner(world.stranger.account_key())).fetch(
            cid, EmbeddedStore(tmp_path / "stranger-store")
        )


def test_reading_a_card_through_the_gateway_signs_one_token(world: World, gateway: GatewayServer) -> None:
    doctor = world.family_doctor
    for n in range(5):
        doctor.records.seal(
            world.patient.address, parse_record({"sections": {"present_illness": f"visit {n}"}})
        )
    doctor.records.flush()
    signer = AccessSigner(world.patient.account_key())
    store = GatewayStore(gateway.url, signer)
    patient = world.patient
    reader = Client(
        patient.w3, patient.deployment, patient.account, store=store, home=patient.home, _chain=patient.chain
    )

    results = reader.records.read_card(world.patient.address)

    assert [r.sections["present_illness"] for r in results] == [f"visit {n}" for n in range(5)]
    assert signer.signed == 1


def test_asking_a_gated_store_for_copies_needs_an_account_it_answers(
    world: World, gateway: GatewayServer
) -> None:
    record = _submit(world)

    (signed,) = world.hospital.records.copies(record, [gateway.url]).answers
    (unsigned,) = world.chain.records.copies(record, [gateway.url]).answers

    assert signed.holds is True
    assert unsigned.holds is None
    assert "sign with --keystore" in unsigned.detail


def test_privacy_report_cli_as_a_stranger_against_the_gated_store(
    world: World, gateway: GatewayServer, cli: Cli
) -> None:
    _grant(world, world.insurer, TWO_SECTIONS)
    _submit(world)

    report = cli.json(world.stranger, "privacy", "report", world.patient.address, "--gateway", gateway.url)

    assert report["leaks"] == []
    assert {"registration", "family-doctor", "visit-metadata", "consent-metadata"} <= set(report["items"])
    assert report["observer"] == world.stranger.address


def test_privacy_report_cli_exits_1_on_an_ungated_store(world: World, devnet: DevnetInfo, cli: Cli) -> None:
    _submit(world)

    result = cli.invoke(None, "privacy", "report", world.patient.address, "--gateway", devnet.ipfs_url)

    assert result.exit_code == 1
    assert "LEAK ciphertext-served-unsigned: record" in result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("leak(s)")


def test_reading_through_the_gateway_setting_from_the_cli(
    world: World, gateway: GatewayServer, cli: Cli, tmp_path: Path
) -> None:
    """FAMCHAIN_IPFS_GATEWAY: what the reader's own (empty) store lacks is fetched from the gated gateway,
    signed; a stranger gets the gateway's one-line refusal."""
    record = _submit(world)
    empty = str(tmp_path / "empty-store")
    env = {
        "FAMCHAIN_IPFS_BACKEND": "embedded",
        "FAMCHAIN_IPFS_DIR": empty,
        "FAMCHAIN_IPFS_GATEWAY": gateway.url,
    }

    read = cli.json(world.patient, "record", "read", str(record), **env)
    refused = cli.fail(world.stranger, "record", "read", str(record), **env)

    assert read["sections"] == VISIT["sections"]
    assert f"the gateway {gateway.url} refused: {world.stranger.address} may not read this record" in refused


def test_a_revoked_grantee_reading_the_card_gets_each_record_refused_not_a_crash(
    world: World, gateway: GatewayServer
) -> None:
    _grant(world, world.insurer, TWO_SECTIONS)
    records = [_submit(world), _submit(world)]
    world.patient.consents.revoke(world.insurer.address)

    results = _through(world.insurer, gateway).records.read_card(world.patient.address)

    assert [r.record_id for r in results] == records
    for result in results:
        assert result.sections == {}
        assert result.error is not None
        assert f"the gateway {gateway.url} refused" in result.error


def _custodians(world: World, members: list[Client]) -> None:
    """Each member publishes its key and the founders vote it in as a custodian (threshold 2, the default)."""
    from famchain.chain.structs import MemberStatus, ProposalAction

    for member in members:
        member.consortium.publish_member_key()
        outcome = world.hospital.consortium.propose(ProposalAction.ADD_CUSTODIAN, member.address)
        for voter in (world.consortium, world.insurer_admin, world.research):
            if world.chain.consortium.proposal(outcome.proposal_id).executed:
                break
            if world.chain.consortium.member(voter.address).status is MemberStatus.ACTIVE:
                voter.consortium.vote(outcome.proposal_id)
        assert world.chain.consortium.proposal(outcome.proposal_id).executed


@pytest.fixture
def unreplicated(world: World, devnet: DevnetInfo) -> Iterator[GatewayServer]:
    """The gated gateway without member replication: members are served only what their own role allows."""
    store = EmbeddedStore(Path(devnet.state_dir) / "ipfs")
    guard = ChainGuard(world.patient.chain, store=store, members_replicate=False, recheck_seconds=0)
    with GatewayServer(store, rpc=False, gate=AccessGate(guard)) as server:
        yield server


def test_an_emergency_physician_is_served_while_the_emergency_is_open_and_only_what_it_covers(
    world: World, unreplicated: GatewayServer
) -> None:
    from famchain.records.emergency import EmergencyReason

    custodians = [world.consortium, world.insurer_admin]
    _custodians(world, custodians)
    world.patient.emergency.choose(TWO_SECTIONS)
    before = world.chain.records.find(_submit(world)).cid
    physician = world.specialist
    declared = physician.emergency.declare(world.patient.address, EmergencyReason.UNCONSCIOUS)
    after = world.chain.records.find(_submit(world)).cid

    # Declared but not approved: not open yet.
    assert _raw(unreplicated, physician, before).status_code == 403
    # A custodian fetches the records the declaration covers (its shares are in them), nothing later.
    assert _raw(unreplicated, custodians[0], before).status_code == 200
    assert _raw(unreplicated, custodians[0], after).status_code == 403
    # A member that is no custodian is not served without replication.
    assert _raw(unreplicated, world.research, before).status_code == 403

    for custodian in custodians:
        custodian.emergency.approve(declared.emergency_id)
    assert world.chain.emergency.is_open(declared.emergency_id)

    assert _raw(unreplicated, physician, before).status_code == 200
    assert _raw(unreplicated, physician, after).status_code == 403
    bundles = [a.bundle for a in world.chain.emergency.info(declared.emergency_id).approvals]
    assert [_raw(unreplicated, physician, b).status_code for b in bundles] == [200, 200]
    assert [_raw(unreplicated, world.stranger, b).status_code for b in bundles] == [403, 403]
    read = _through(physician, unreplicated).emergency.read(declared.emergency_id)
    assert [set(r.sections) for r in read.results] == [{"diagnosis", "prescriptions"}]


def test_a_record_under_a_deletion_request_is_served_to_the_patient_only(
    world: World, unreplicated: GatewayServer
) -> None:
    _grant(world, world.specialist)
    kept, locked = _submit(world), _submit(world)
    cids = {r: world.chain.records.find(r).cid for r in (kept, locked)}
    assert _raw(unreplicated, world.specialist, cids[locked]).status_code == 200

    world.patient.residents.request_deletion(locked)

    for reader in (world.specialist, world.family_doctor):
        resp = _raw(unreplicated, reader, cids[locked])
        assert resp.status_code == 403
        assert "locked by the resident's deletion request: only the patient can read it" in resp.text
        assert _raw(unreplicated, reader, cids[kept]).status_code == 200
    assert _raw(unreplicated, world.patient, cids[locked]).status_code == 200


def test_naming_someone_elses_cid_later_on_chain_does_not_make_one_a_party(
    world: World, gateway: GatewayServer
) -> None:
    """A resident may commit any digest as its profile (or anchor it on its own card): only the first event that
    names an object says whose it is."""
    from famchain.storage.cid import digest_and_codec

    cid = world.chain.records.find(_submit(world)).cid
    digest, _codec = digest_and_codec(cid)
    attacker = world.outsider
    attacker.residents.register(
        {"name": "Mallory", "birth_date": "1990-01-01", "national_id": "110101199001010000"}
    )
    attacker.sender.transact(attacker.chain.residents.update_profile(digest))
    assert bytes(attacker.chain.profile_digest(attacker.address)) == bytes(digest)

    resp = _raw(gateway, attacker, cid)

    assert resp.status_code == 403
    assert "may not read this record" in resp.text
