"""The client's v2 services against a real devnet: practitioners enrolled by their own signature, guardians,
deletion requests and erasure after retention, emergency access (typed chain access, a smoke test), and the
chain layer covering every external function of the five contracts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _cli_support import Cli

from _world import World, build_world
from famchain import AccessDeniedError, ContractRevertError, Deployment, InputError, parse_record
from famchain.chain import artifacts
from famchain.chain.contracts import Famchain
from famchain.chain.structs import GuardianScope, ProposalAction, RecordKind
from famchain.crypto.envelope import SealedEnvelope
from famchain.devnet import DevnetInfo, dev_account
from famchain.records.sections import ALL_SECTIONS
from famchain.storage.kubo import KuboStore

VISIT = {
    "sections": {"diagnosis": [{"text": "Gout", "code": "M10.9"}], "allergies": [{"substance": "Aspirin"}]}
}


def _events(world: World, name: str) -> list[dict[str, object]]:
    return [e.args for e in world.chain.audit.events(world.patient.address) if e.name == name]


# --- practitioners enrol with their own signature ---------------------------------------------------------


def test_an_institution_cannot_register_a_practitioner_without_its_own_signature(world: World) -> None:
    newcomer = world.client()
    admin = world.hospital
    enrollment = newcomer.consortium.sign_enrollment(world.consortium.address)  # names another institution

    with pytest.raises(InputError, match="lets "):
        admin.consortium.register_practitioner(enrollment)
    # The raw call with that signature (or the admin's own signature for the newcomer) is refused on chain.
    forged = admin.consortium.sign_enrollment(admin.address)
    for signature in (enrollment.signature, forged.signature):
        with pytest.raises(ContractRevertError) as info:
            admin.sender.transact(
                admin.chain.consortium.register_practitioner(
                    newcomer.address,
                    enrollment.encryption_key,
                    enrollment.nonce,
                    enrollment.deadline,
                    signature,
                )
            )
        assert info.value.error_name == "SignedMessagesInvalidSigner"
    assert not world.chain.consortium.practitioner(newcomer.address).active

    world.consortium.consortium.register_practitioner(enrollment)
    status = world.chain.consortium.practitioner(newcomer.address)
    assert (status.institution, status.active, status.enrollment) == (world.consortium.address, True, 1)


# --- guardians ------------------------------------------------------------------------------------------


def test_a_read_guardian_is_wrapped_into_new_records_until_removed(world: World) -> None:
    guardian = world.outsider
    guardian.residents.register({"name": "a relative"})  # a guardian with an encryption key
    expires = world.patient.now() + 86400
    world.patient.guardians.appoint(
        guardian.address, int(GuardianScope.READ | GuardianScope.CONSENT), expires
    )

    (shown,) = world.patient.guardians.list()
    assert (shown.guardian, shown.scopes, shown.active, shown.dependent) == (
        guardian.address,
        ["consent", "read"],
        True,
        False,
    )
    record = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    assert world.opens(record)[guardian.address] == set(VISIT["sections"])
    assert guardian.records.read(record).sections == VISIT["sections"]

    world.patient.guardians.remove(guardian.address)
    later = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    assert guardian.address not in world.opens(later)
    assert world.patient.guardians.list()[0].active is False
    assert [e["guardian"] for e in _events(world, "GuardianRemoved")] == [guardian.address]


def test_guardian_commands(
    world: World, devnet: DevnetInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")
    deployment = tmp_path / "deployment.json"
    world.deployment.save(deployment)
    cli = Cli(devnet.rpc_url, devnet.ipfs_url, deployment, tmp_path / "keys", world.home)
    guardian = world.outsider.address

    cli.tx(world.patient, "guardian", "appoint", guardian, "--scope", "consent,records", "--days", "10")
    (row,) = cli.json(world.patient, "guardian", "list")["guardians"]
    assert (row["guardian"], row["scope"], row["active"]) == (guardian, ["consent", "records"], True)
    assert world.chain.guardians.scope(world.patient.address, guardian) == 0x05
    assert "unknown guardian scope 'everything'" in cli.fail(
        world.patient, "guardian", "appoint", guardian, "--scope", "everything", "--yes"
    )
    # The guardian resigns.
    cli.tx(world.outsider, "guardian", "remove", "--resident", world.patient.address)
    assert world.chain.guardians.scope(world.patient.address, guardian) == 0


# --- deletion requests and erasure ------------------------------------------------------------------------


def test_a_record_is_erased_only_after_a_deletion_request_and_its_retention(
    w3: object, devnet: DevnetInfo, tmp_path: Path
) -> None:
    world = build_world(
        w3,  # type: ignore[arg-type]
        dev_account(),
        KuboStore(devnet.ipfs_url),
        tmp_path / "home",
        outpatient_retention=600,
        inpatient_retention=3600,
    )
    record = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    later = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id
    assert world.chain.records.retention(RecordKind.OUTPATIENT) == 600

    with pytest.raises(ContractRevertError) as refused:
        world.stranger.records.erase(record, check=False)  # the contract's own refusal
    assert refused.value.error_name == "RecordRegistryNoDeletionRequest"
    requested = world.patient.residents.request_deletion(record)
    assert requested.requested_at > 0
    with pytest.raises(ContractRevertError) as early:
        world.stranger.records.erase(record, check=False)
    assert early.value.error_name == "RecordRegistryRetentionNotOver"

    world.patient.w3.provider.make_request("evm_increaseTime", [601])  # type: ignore[arg-type]
    world.patient.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    world.stranger.records.erase(record)  # anyone may, with the proof built from the verified card

    assert world.chain.records.is_erased(record)
    assert not world.chain.records.is_erased(later)
    assert [e["recordId"] for e in _events(world, "RecordErased")] == [bytes(record)]


def test_a_whole_card_deletion_request_locks_the_card(world: World) -> None:
    world.family_doctor.records.submit(world.patient.address, parse_record(VISIT))

    world.patient.residents.request_deletion()

    assert world.chain.residents.status(world.patient.address).locked
    assert world.chain.agreements.active(world.patient.address) is None  # the agreement ended with it
    with pytest.raises(AccessDeniedError):
        world.specialist.records.submit(world.patient.address, parse_record(VISIT))
    with pytest.raises(ContractRevertError) as info:
        world.patient.consents.grant(
            world.insurer.address, ALL_SECTIONS, expires_at=world.patient.now() + 86400
        )
    assert info.value.error_name == "ConsentRegistryCardLocked"
    assert world.patient.records.read_card(world.patient.address)[0].sections  # the patient still reads


def test_resident_delete_request_command(
    world: World, devnet: DevnetInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMCHAIN_INSECURE_TEST_KEYSTORES", "1")
    deployment = tmp_path / "deployment.json"
    world.deployment.save(deployment)
    cli = Cli(devnet.rpc_url, devnet.ipfs_url, deployment, tmp_path / "keys", world.home)
    record = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).record_id

    out = cli.tx(world.patient, "resident", "delete-request", str(record)).stdout
    assert "erased once its retention period is over" in out
    assert world.chain.residents.deletion_requested_at(world.patient.address, record) > 0
    assert "give a RECORD id or --card" in cli.fail(world.patient, "resident", "delete-request", "--yes")
    assert cli.json(world.patient, "resident", "show")["locked"] is False


# --- emergency access: the bare transactions, a smoke test (the flow: test_emergency.py) ------------------


def test_emergency_smoke(world: World) -> None:
    patient, physician = world.patient, world.specialist  # the specialist works at a hospital
    assert patient.emergency.sections() == 0x9A
    patient.emergency.choose(0)
    with pytest.raises(ContractRevertError) as opted_out:
        physician.emergency.declare(patient.address)
    assert opted_out.value.error_name == "EmergencyAccessOptedOut"
    patient.emergency.choose(0x88)
    with pytest.raises(ContractRevertError) as few:
        physician.emergency.declare(patient.address)
    assert few.value.error_name == "EmergencyAccessTooFewCustodians"

    # Two custodians, each admitted by vote after publishing its member key.
    voters = [world.consortium, world.hospital, world.insurer_admin]
    for custodian in (world.consortium, world.hospital):
        custodian.consortium.publish_member_key()
        proposal = voters[2].consortium.propose(ProposalAction.ADD_CUSTODIAN, custodian.address).proposal_id
        for voter in voters[:2]:
            if not world.chain.consortium.proposal(proposal).executed:
                voter.consortium.vote(proposal)
    assert sorted(world.chain.consortium.custodians()) == sorted(
        [world.consortium.address, world.hospital.address]
    )

    emergency = physician.emergency.declare(patient.address).emergency_id
    declared = world.chain.emergency.get(emergency)
    assert (declared.patient, declared.physician, declared.sections) == (
        patient.address,
        physician.address,
        0x88,
    )
    for custodian in (world.consortium, world.hospital):
        custodian.emergency.announce(emergency, b"\x01" * 32, 0x55)  # the bare transaction
    assert world.chain.emergency.is_open(emergency)
    patient.emergency.review(emergency, contested=True)
    assert world.chain.emergency.get(emergency).review == 2
    names = [e.name for e in world.chain.audit.events(patient.address)]
    for name in (
        "EmergencySectionsSet",
        "EmergencyDeclared",
        "EmergencySharesReleased",
        "EmergencyOpened",
        "EmergencyReviewed",
    ):
        assert name in names


# --- the chain layer covers the ABI -----------------------------------------------------------------------

ALIASES = {
    "nonces": ("nonce", "nonce_of_key", "legacy_nonce"),
    "eip712Domain": ("eip712_domain",),
    "PROPOSAL_TTL": ("proposal_ttl",),
    "consortium": ("consortium_address",),
    "residentRegistry": ("resident_registry_address",),
    "consentRegistry": ("consent_registry_address",),
    "recordRegistry": ("record_registry_address",),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("name", artifacts.DEPLOYABLE)
def test_every_external_function_has_a_typed_method(world: World, name: str) -> None:
    fc: Famchain = world.chain.chain
    wrapper = fc.signing(name)
    functions = {item["name"] for item in artifacts.load(name).abi if item.get("type") == "function"}
    missing = [
        f for f in sorted(functions) if not any(hasattr(wrapper, m) for m in ALIASES.get(f, (_snake(f),)))
    ]
    assert missing == []


def test_the_deployment_cipher_policy_is_what_every_client_seals_with(
    w3: object, devnet: DevnetInfo, tmp_path: Path
) -> None:
    policy = {"default": "aes-256-gcm", "sections": {"diagnosis": "chacha20-poly1305"}}
    world = build_world(
        w3,
        dev_account(),
        KuboStore(devnet.ipfs_url),
        tmp_path / "home",
        cipher_policy=policy,  # type: ignore[arg-type]
    )
    path = tmp_path / "deployment.json"
    world.deployment.save(path)
    loaded = Deployment.load(path)
    assert set(loaded.addresses) == set(artifacts.DEPLOYABLE)
    assert loaded.cipher_policy == policy
    assert all(found == expected for found, expected in world.chain.chain.wiring().values())

    entry = world.family_doctor.records.submit(world.patient.address, parse_record(VISIT)).entry

    sealed = SealedEnvelope.from_bytes(world.store.get(entry.cid))
    assert sealed.section("diagnosis").aead.name == "chacha20-poly1305"
    assert sealed.section("allergies").aead.name == "aes-256-gcm"
    assert world.patient.records.read(entry.record_id).sections == VISIT["sections"]
