"""Emergency access end to end on a devnet (issue #14): sealing with custodians' shares, declaration, share
releases, the physician's opening, limits and refusals, custodians changed by vote, reviews and the audit.

Outcomes are judged from the chain and the store: which envelopes carry which emergency sections (parsed from
the stored bytes), which bundles were announced on chain, and what those bundles open when the physician's key
is used directly on them, bypassing the client's own checks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _cli_support import Cli
from fhir.resources.R4B.bundle import Bundle
from web3 import Web3

from _world import World
from famchain import Client, parse_record
from famchain.chain.structs import GuardianScope, MemberStatus, Parameter, ProposalAction, Review
from famchain.chain.tx import TransactionSender
from famchain.crypto._random import system_entropy
from famchain.crypto.bundle import BundleEntry, EntryKind, KeyBundle, _seal_bundle
from famchain.crypto.emergency import open_with_shares
from famchain.crypto.envelope import SealedEnvelope, Withheld
from famchain.crypto.shamir import Share
from famchain.devnet import DevnetInfo, dev_account
from famchain.errors import (
    AccessDeniedError,
    ContractRevertError,
    EmergencyExpiredError,
    EmergencyNotOpenError,
    EmergencyOptedOutError,
    InstitutionLimitError,
    InstitutionSuspendedError,
    InsufficientSharesError,
    NotARecipientError,
    NotCustodianError,
    NotDeclaringPhysicianError,
    NothingToReleaseError,
    NotHospitalPhysicianError,
    NotReviewerError,
    PhysicianLimitError,
    TooFewCustodiansError,
)
from famchain.records.emergency import EmergencyReason
from famchain.records.reading import context_of
from famchain.records.sections import Section, section_mask
from famchain.storage.cid import digest_and_codec
from famchain.types import RecordId

CHOICE = int(Section.PAST_HISTORY | Section.DIAGNOSIS | Section.ALLERGIES)
VISIT_A = {
    "sections": {
        "present_illness": "Chest pain for two hours.",
        "past_history": "Myocardial infarction in 2019; stent.",
        "diagnosis": [{"text": "Unstable angina", "code": "I20.0", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Clopidogrel 75 mg", "frequency": "once daily", "days": 90}],
    }
}
VISIT_B = {
    "sections": {
        "allergies": [{"substance": "Penicillin", "reaction": "anaphylaxis"}],
        "examinations": [{"name": "Troponin I", "value": "0.02", "unit": "ng/mL"}],
    }
}
VISIT_C = {"sections": {"diagnosis": [{"text": "Stable angina", "code": "I20.8", "system": "ICD-10"}]}}


def _vote(world: World, proposer: Client, action: ProposalAction, target: str, **options: Any) -> None:
    """Propose and have the other founders vote until the proposal is carried."""
    outcome = proposer.consortium.propose(action, target, **options)
    for voter in (world.consortium, world.hospital, world.insurer_admin, world.research):
        if world.chain.consortium.proposal(outcome.proposal_id).executed:
            return
        active = world.chain.consortium.member(voter.address).status is MemberStatus.ACTIVE
        if voter.address != proposer.address and active:
            voter.consortium.vote(outcome.proposal_id)
    assert world.chain.consortium.proposal(outcome.proposal_id).executed


def _custodians(world: World, members: list[Client]) -> None:
    for member in members:
        member.consortium.publish_member_key()
        _vote(world, world.hospital, ProposalAction.ADD_CUSTODIAN, member.address)


@pytest.fixture
def custodians(world: World) -> list[Client]:
    """Three custodians (the primary-care centre, the insurer, the research centre), threshold 2 (default)."""
    members = [world.consortium, world.insurer_admin, world.research]
    _custodians(world, members)
    assert world.chain.consortium.custodians() == [m.address for m in members]
    return members


def _sealed(world: World, record_id: RecordId) -> SealedEnvelope:
    anchor = world.chain.records.find(record_id)
    return SealedEnvelope.from_bytes(world.store.get(anchor.cid))


def _announced(world: World, emergency_id: int) -> list[KeyBundle]:
    """The share bundles announced on chain for the emergency, fetched from the store."""
    info = world.chain.emergency.info(emergency_id)
    return [KeyBundle.from_bytes(world.store.get(a.bundle)) for a in info.approvals]


def _open_directly(world: World, record_id: RecordId, bundles: list[KeyBundle]) -> dict[str, bytes]:
    """What the bundles open of a record with the physician's key, the client's checks bypassed."""
    anchor = world.chain.records.find(record_id)
    context = context_of(world.specialist.actor, anchor)
    opened = open_with_shares(_sealed(world, record_id), world.specialist.account_key(), context, bundles)
    return {n: v for n, v in opened.items() if not isinstance(v, Withheld)}


def test_t_custodians_open_exactly_the_chosen_sections_of_records_anchored_before_the_declaration(
    world: World, custodians: list[Client]
) -> None:
    patient, doctor, physician = world.patient, world.family_doctor, world.specialist
    patient.emergency.choose(CHOICE)
    a = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    b = doctor.records.submit(patient.address, parse_record(VISIT_B)).record_id

    # Judged from the store: each envelope shares exactly its chosen sections among the 3 custodians, t = 2.
    block_a, block_b = _sealed(world, a).emergency, _sealed(world, b).emergency
    assert block_a is not None
    assert block_b is not None
    assert (block_a.threshold, block_a.custodians, set(block_a.sections)) == (
        2,
        3,
        {"past_history", "diagnosis"},
    )
    assert set(block_b.sections) == {"allergies"}

    declared = physician.emergency.declare(patient.address, EmergencyReason.UNCONSCIOUS)
    eid = declared.emergency_id
    assert (declared.emergency.card_length, declared.emergency.sections) == (2, CHOICE)
    c = doctor.records.submit(patient.address, parse_record(VISIT_C)).record_id  # after the declaration

    first = custodians[0].emergency.approve(eid)
    assert (first.records, first.opened) == (2, False)

    # t - 1 approvals: the client refuses, and the one announced bundle opens nothing when used directly.
    with pytest.raises(EmergencyNotOpenError, match="1 of the 2 custodian approvals"):
        physician.emergency.read(eid)
    for record in (a, b):
        with pytest.raises(InsufficientSharesError):
            _open_directly(world, record, _announced(world, eid))

    second = custodians[1].emergency.approve(eid)
    assert second.opened
    assert world.chain.emergency.is_open(eid)

    read = physician.emergency.read(eid)
    opened = {r.record_id: r.sections for r in read.results}
    assert set(opened) == {a, b}  # record C was anchored after the declaration
    assert opened[a] == {
        "past_history": VISIT_A["sections"]["past_history"],
        "diagnosis": VISIT_A["sections"]["diagnosis"],
    }
    assert opened[b] == {"allergies": VISIT_B["sections"]["allergies"]}
    withheld = {r.record_id: set(r.withheld) for r in read.results}
    assert withheld[a] == {"present_illness", "prescriptions"}
    assert withheld[b] == {"examinations"}

    # The same, judged without the client: the announced bundles open exactly these sections, and nothing of C.
    bundles = _announced(world, eid)
    assert set(_open_directly(world, a, bundles)) == {"past_history", "diagnosis"}
    assert set(_open_directly(world, b, bundles)) == {"allergies"}
    with pytest.raises(InsufficientSharesError):
        _open_directly(world, c, bundles)

    # A third custodian may still approve; the physician then holds more shares, and nothing more opens.
    custodians[2].emergency.approve(eid)
    assert {r.record_id: r.sections for r in physician.emergency.read(eid).results} == opened

    # Nobody else can use the bundles: the physician's key is needed.
    with pytest.raises(NotDeclaringPhysicianError):
        world.stranger.emergency.read(eid)


def test_a_custodian_without_shares_of_the_covered_records_sends_nothing(
    world: World, custodians: list[Client]
) -> None:
    patient = world.patient
    world.family_doctor.records.submit(patient.address, parse_record(VISIT_A))  # shared among the 3
    _custodians(world, [world.hospital])  # a fourth custodian, added after the record was sealed
    declared = world.specialist.emergency.declare(patient.address)
    before = world.chain.emergency.get(declared.emergency_id).approvals
    with pytest.raises(NothingToReleaseError, match="another custodian set"):
        world.hospital.emergency.approve(declared.emergency_id)
    assert world.chain.emergency.get(declared.emergency_id).approvals == before == 0
    with pytest.raises(NotCustodianError):
        world.stranger.emergency.approve(declared.emergency_id)


def test_an_approval_bundle_for_a_record_its_custodian_holds_no_share_of_is_ignored(
    world: World, custodians: list[Client]
) -> None:
    """A custodian voted in after a record was sealed (so holding no share of it) announces a bundle with a forged
    entry for that record: the emergency reaches its threshold on chain, but the forged entry is not counted, the
    record stays closed until a custodian of its set approves, and then it opens with the genuine shares."""
    patient = world.patient
    record = world.family_doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    late = world.hospital
    _custodians(world, [late])
    eid = world.specialist.emergency.declare(patient.address).emergency_id
    custodians[0].emergency.approve(eid)

    anchor = world.chain.records.find(record)
    sealed = _sealed(world, record)
    context = context_of(world.specialist.actor, anchor)
    forged = BundleEntry(
        context.digest,
        sealed.digest,
        EntryKind.SHARES,
        os.urandom(32),  # the envelope's MAC key is unknown outside the record's custodian set
        shares=tuple((name, Share(2, 2, os.urandom(32))) for name in sealed.emergency_sections),
    )
    physician_key = world.chain.chain.consortium.encryption_key_of(world.specialist.address)
    bundle = _seal_bundle([forged], physician_key, system_entropy)
    cid = world.store.put(bundle.to_bytes(), pin=True)
    late.emergency.announce(eid, *digest_and_codec(cid))
    assert world.chain.emergency.is_open(eid)  # two approvals on chain

    read = world.specialist.emergency.read(eid)
    (result,) = read.results
    assert result.sections == {}
    assert set(result.withheld.values()) >= {"1 of the 2 custodian shares of this record were released"}
    custodians[1].emergency.approve(eid)
    (result,) = world.specialist.emergency.read(eid).results
    assert set(result.sections) == {"past_history", "diagnosis", "prescriptions"}


def test_a_custodian_removed_by_vote_stops_being_one_and_later_records_use_the_new_set(
    world: World, custodians: list[Client]
) -> None:
    patient, doctor = world.patient, world.family_doctor
    patient.emergency.choose(CHOICE)
    old = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    removed = custodians[2]
    _vote(world, world.hospital, ProposalAction.REMOVE_CUSTODIAN, removed.address)
    assert removed.address not in world.chain.consortium.custodians()
    new = doctor.records.submit(patient.address, parse_record(VISIT_C)).record_id

    # From the store: the old record has 3 custodian entries, the new one 2, and the removed custodian holds
    # a share of the old record only.
    old_block, new_block = _sealed(world, old).emergency, _sealed(world, new).emergency
    assert old_block is not None
    assert new_block is not None
    assert (old_block.custodians, new_block.custodians) == (3, 2)

    declared = world.specialist.emergency.declare(patient.address)
    with pytest.raises(NotCustodianError):
        removed.emergency.approve(declared.emergency_id)
    for custodian in custodians[:2]:
        custodian.emergency.approve(declared.emergency_id)
    opened = {
        r.record_id: set(r.sections) for r in world.specialist.emergency.read(declared.emergency_id).results
    }
    assert opened == {old: {"past_history", "diagnosis"}, new: {"diagnosis"}}


def test_each_refusal_has_its_own_error(world: World, custodians: list[Client]) -> None:
    patient = world.patient
    # a practitioner of a primary-care centre is no hospital physician
    with pytest.raises(NotHospitalPhysicianError, match="primary-care member, not a hospital"):
        world.family_doctor.emergency.declare(patient.address)
    with pytest.raises(NotHospitalPhysicianError, match="not a registered practitioner"):
        world.outsider.emergency.declare(patient.address)
    # an opted-out patient
    patient.emergency.opt_out()
    with pytest.raises(EmergencyOptedOutError, match="opted out"):
        world.specialist.emergency.declare(patient.address)
    patient.emergency.opt_in()
    # a physician over its daily limit (1 a day, set by vote), then its institution (1 a day)
    _vote(world, world.hospital, ProposalAction.SET_PARAMETER, world.hospital.address,
          parameter=Parameter.PHYSICIAN_DAILY_LIMIT, value=1)  # fmt: skip
    world.specialist.emergency.declare(patient.address)
    with pytest.raises(PhysicianLimitError, match="daily limit per physician"):
        world.specialist.emergency.declare(patient.address)
    colleague = world.client()
    world.hospital.transfer(colleague.address, 10**18)
    world.hospital.consortium.register_practitioner(
        colleague.consortium.sign_enrollment(world.hospital.address)
    )
    _vote(world, world.consortium, ProposalAction.SET_PARAMETER, world.consortium.address,
          parameter=Parameter.INSTITUTION_DAILY_LIMIT, value=1)  # fmt: skip
    with pytest.raises(InstitutionLimitError, match="daily limit per institution"):
        colleague.emergency.declare(patient.address)
    # an emergency lasts at most 24 hours: a longer duration is refused at the proposal
    with pytest.raises(ContractRevertError, match="an emergency lasts at most 24 hours") as longer:
        world.consortium.consortium.propose(
            ProposalAction.SET_PARAMETER, parameter=Parameter.EMERGENCY_DURATION, value=86_401
        )
    assert longer.value.error_name == "ConsortiumInvalidParameter"
    # an expired emergency: no more approvals, and the physician opens nothing
    eid = world.chain.emergency.count()
    world.patient.w3.provider.make_request("evm_increaseTime", [86_400])  # type: ignore[arg-type]
    world.patient.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(EmergencyExpiredError, match=f"emergency {eid} ended"):
        custodians[0].emergency.approve(eid)
    with pytest.raises(EmergencyExpiredError):
        world.specialist.emergency.read(eid)
    # a suspended hospital: its physicians cannot declare
    _vote(world, world.consortium, ProposalAction.SUSPEND, world.hospital.address)
    assert world.chain.consortium.member(world.hospital.address).status is MemberStatus.SUSPENDED
    with pytest.raises(InstitutionSuspendedError, match="is suspended"):
        world.specialist.emergency.declare(patient.address)
    # too few custodians (threshold 3 of 3, then one removed)
    _vote(world, world.consortium, ProposalAction.SET_PARAMETER, world.consortium.address,
          parameter=Parameter.CUSTODIAN_THRESHOLD, value=3)  # fmt: skip
    _vote(world, world.consortium, ProposalAction.REMOVE_CUSTODIAN, custodians[2].address)
    _vote(world, world.consortium, ProposalAction.REINSTATE, world.hospital.address)
    with pytest.raises(TooFewCustodiansError, match="2 emergency custodian"):
        colleague.emergency.declare(patient.address)


def test_reviews_by_patient_family_doctor_and_no_one_else(world: World, custodians: list[Client]) -> None:
    patient = world.patient
    eid = world.specialist.emergency.declare(patient.address, EmergencyReason.MAJOR_TRAUMA).emergency_id
    with pytest.raises(NotReviewerError):
        world.stranger.emergency.review(eid, contested=True)
    world.family_doctor.emergency.review(eid, contested=False)
    assert world.chain.emergency.get(eid).review is Review.ACCEPTED
    signed = patient.emergency.sign_review(eid, contested=True)
    world.outsider.emergency.relay_review(signed)  # gasless for the patient
    info = world.chain.emergency.info(eid)
    assert info.review is Review.CONTESTED
    assert world.chain.emergency.get(eid).review is Review.CONTESTED
    assert [(r.reviewer, r.contested) for r in info.reviews] == [
        (world.family_doctor.address, False),
        (patient.address, True),
    ]


def test_a_guardian_with_the_emergency_scope_chooses_for_the_resident(world: World) -> None:
    patient, guardian = world.patient, world.outsider
    patient.guardians.appoint(guardian.address, int(GuardianScope.EMERGENCY), patient.now() + 86_400)
    guardian.emergency.choose(int(Section.ALLERGIES), resident=patient.address)
    assert world.chain.emergency.sections(patient.address) == int(Section.ALLERGIES)
    guardian.emergency.opt_out(resident=patient.address)
    assert world.chain.emergency.sections(patient.address) == 0
    events = [e.name for e in world.chain.audit.events(patient.address)]
    assert events.count("GuardianActed") == 2


def test_no_emergency_block_while_opted_out_or_without_enough_custodians(world: World) -> None:
    patient, doctor = world.patient, world.family_doctor
    none_yet = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id  # no custodians
    _custodians(world, [world.consortium, world.insurer_admin])
    patient.emergency.opt_out()
    opted_out = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    patient.emergency.choose(section_mask(["diagnosis"]))
    shared = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    assert _sealed(world, none_yet).emergency is None
    assert _sealed(world, opted_out).emergency is None
    block = _sealed(world, shared).emergency
    assert block is not None
    assert block.sections == ("diagnosis",)
    with pytest.raises(NotARecipientError):
        _open_directly(world, opted_out, [])


# --- the patient's audit: emergencies first, and the accounting of every disclosure -----------------------


def _hospital_colleague(world: World) -> Client:
    """Another physician of the hospital (the emergency department)."""
    colleague = world.client()
    world.hospital.transfer(colleague.address, 10**18)
    world.hospital.consortium.register_practitioner(
        colleague.consortium.sign_enrollment(world.hospital.address)
    )
    return colleague


def test_the_accounting_lists_every_party_that_received_a_key(world: World, custodians: list[Client]) -> None:
    patient, doctor = world.patient, world.family_doctor
    expires = patient.now() + 30 * 86_400
    a = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    patient.consents.grant(
        world.insurer.address, int(Section.DIAGNOSIS), purpose="insurance-claim", expires_at=expires
    )
    b = doctor.records.submit(patient.address, parse_record(VISIT_B)).record_id
    patient.consents.grant(world.specialist.address, 0xFF, purpose="referral", expires_at=expires)
    patient.guardians.appoint(world.stranger.address, int(GuardianScope.READ), expires)  # a READ guardian
    c = doctor.records.submit(patient.address, parse_record(VISIT_C)).record_id
    er = _hospital_colleague(world)
    eid = er.emergency.declare(patient.address, EmergencyReason.UNCONSCIOUS).emergency_id
    for custodian in custodians[:2]:
        custodian.emergency.approve(eid)
    emergency_read = {r.record_id: set(r.sections) for r in er.emergency.read(eid).results}

    rows = patient.audit.disclosures(patient.address)
    by_kind: dict[str, set[tuple[RecordId, str, str]]] = {}
    for row in rows:
        by_kind.setdefault(row.kind.value, set()).add((row.record_id, row.section, row.recipient))

    # Wrapped at sealing (derived from the chain) is exactly what each party's key opens from the envelope.
    for record in (a, b, c):
        opened = world.opens(record)
        wrapped = {
            (party, section)
            for party, sections in opened.items()
            if party not in (patient.address, doctor.address)
            for section in sections
        }
        derived = {
            (who, section)
            for kind in ("family-doctor", "grantee", "guardian")
            for rid, section, who in by_kind.get(kind, set())
            if rid == record
        }
        assert derived == wrapped, record
        authored = {(s, who) for rid, s, who in by_kind["author"] if rid == record}
        assert authored == {(s, doctor.address) for s in opened[doctor.address]}
    assert (c, "diagnosis", world.insurer.address) in by_kind["grantee"]
    assert (c, "diagnosis", world.stranger.address) in by_kind["guardian"]
    assert not any(rid in (a, b) for rid, _, _ in by_kind["guardian"])  # appointed after A and B

    # Key releases: an upper bound, and every key a bundle really holds is in it (opened with the grantee's key).
    for grantee in (world.insurer, world.specialist):
        for record in (a, b):
            try:
                readable = set(grantee.records.read(record).sections)
            except AccessDeniedError:
                readable = set()
            for section in readable:
                assert (record, section, grantee.address) in by_kind["key-release"] | by_kind.get(
                    "grantee", set()
                )
    # Emergency: exactly what the physician opened.
    emergency = {(rid, s) for rid, s, who in by_kind["emergency"] if who == er.address}
    assert emergency == {(rid, s) for rid, sections in emergency_read.items() for s in sections}

    # Purposes where known, and the proving event of each row.
    purposes = {(r.kind.value, r.recipient): r.purpose for r in rows}
    assert purposes[("grantee", world.insurer.address)] == "insurance-claim"
    assert purposes[("key-release", world.specialist.address)] == "referral"
    assert purposes[("emergency", er.address)].startswith(
        f"emergency treatment (break the glass), emergency {eid}"
    )
    tx_of = {e.tx_hash: e.name for e in world.chain.audit.events(patient.address)}
    assert all(tx_of[r.proof.tx_hash] == r.proof.event for r in rows)
    # An auditor without the patient's terms openings sees the purposes as committed.
    assert {
        r.purpose for r in world.chain.audit.disclosures(patient.address) if r.kind.value == "grantee"
    } == {"committed"}


def test_the_patients_audit_shows_emergencies_first(world: World, custodians: list[Client]) -> None:
    patient = world.patient
    a = world.family_doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    first = world.specialist.emergency.declare(patient.address, EmergencyReason.POISONING).emergency_id
    second = world.specialist.emergency.declare(patient.address, EmergencyReason.MAJOR_TRAUMA).emergency_id
    for custodian in custodians[:2]:
        custodian.emergency.approve(second)
    accesses = patient.audit.emergencies(patient.address)
    assert [x.emergency.emergency_id for x in accesses] == [second, first]
    latest = accesses[0]
    assert latest.emergency.physician == world.specialist.address
    assert latest.emergency.institution == world.hospital.address
    assert latest.emergency.reason == EmergencyReason.MAJOR_TRAUMA
    assert [a.custodian for a in latest.emergency.approvals] == [c.address for c in custodians[:2]]
    assert [(o.record.record_id, o.sections, o.from_envelope) for o in latest.opened] == [
        (a, ("past_history", "diagnosis", "prescriptions"), True)
    ]
    assert accesses[1].opened == ()  # below its threshold: nothing opened


# --- through the CLI ------------------------------------------------------------------------------------


def test_emergency_commands(world: World, cli: Cli, tmp_path: Path) -> None:
    patient, physician = world.patient, world.specialist
    members = [world.consortium, world.insurer_admin]
    for member in members:
        cli.tx(member, "consortium", "publish-key")
        _vote(world, world.hospital, ProposalAction.ADD_CUSTODIAN, member.address)
    assert cli.json(None, "consortium", "parameters")["custodians"] == [m.address for m in members]
    settings = cli.json(None, "emergency", "custodians")
    assert (settings["threshold"], len(settings["custodians"])) == (2, 2)
    shown = cli.ok(
        None, "emergency", "custodians"
    ).stdout.splitlines()  # for people: a table, then the settings
    assert shown[0].split() == ["custodian", "kind", "member", "key"]
    assert [row.split()[-1] for row in shown[1:3]] == ["published", "published"]
    assert shown[3].startswith("threshold 2 of 2 custodians; an emergency lasts at most ")

    cli.tx(patient, "emergency", "optin", "--sections", "diagnosis,allergies")
    assert "an emergency may open diagnosis, allergies" in cli.ok(patient, "emergency", "show").stdout
    shown = cli.json(patient, "emergency", "show")
    assert shown["sections"] == ["diagnosis", "allergies"]
    assert world.chain.emergency.sections(patient.address) == int(Section.DIAGNOSIS | Section.ALLERGIES)
    record = world.family_doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id

    declared = cli.json(
        physician, "emergency", "declare", patient.address, "--reason", "unconscious", "--yes"
    )
    eid = declared["id"]
    assert (declared["card_length"], declared["reason"]) == (1, int(EmergencyReason.UNCONSCIOUS))
    assert "0 of the 2 custodian approvals" in cli.fail(physician, "emergency", "read", str(eid))
    pending = cli.json(world.consortium, "emergency", "pending")["emergencies"]
    assert [e["id"] for e in pending] == [eid]
    for member in members:
        released = cli.json(member, "emergency", "approve", str(eid), "--yes")
        assert released["records"] == 1
    assert world.chain.emergency.is_open(eid)
    described = cli.ok(None, "emergency", "info", str(eid)).stdout
    assert f"emergency {eid} for " in described
    assert ": open" in described
    assert "custodians: 2 of 2 approved" in described
    dated = r"released its shares in block \d+ \(\d{4}-\d\d-\d\d \d\d:\d\d "
    assert len(re.findall(dated, described)) == 2  # each approval with its block and the block's date
    assert "reason: unconscious (patient unconscious or unable to consent)" in described
    opened = cli.json(physician, "emergency", "read", str(eid))["records"]
    assert [(r["record"], set(r["sections"])) for r in opened] == [(record.to_0x_hex(), {"diagnosis"})]
    human = cli.ok(physician, "emergency", "read", str(eid)).stdout
    assert "Unstable angina" in human
    assert "present illness: withheld (not an emergency section of this emergency)" in human

    # The patient's audit: the emergency comes first, then the history; review and the accounting.
    audit = cli.ok(None, "audit", "--patient", patient.address).stdout
    assert audit.startswith("EMERGENCY ACCESS (1)")
    assert f"record {record}: diagnosis" in audit
    assert f"famchain emergency review {eid} --accept|--contest" in audit
    signed = tmp_path / "review.json"
    cli.ok(patient, "emergency", "review", str(eid), "--contest", "--sign", str(signed))
    cli.tx(world.outsider, "emergency", "relay", str(signed))
    assert world.chain.emergency.get(eid).review is Review.CONTESTED
    listed = cli.json(None, "emergency", "list", "--patient", patient.address)["emergencies"]
    assert [(e["id"], e["review"]) for e in listed] == [(eid, "contested")]
    rows = cli.json(patient, "audit", "--patient", patient.address, "--disclosures")["disclosures"]
    assert {(r["section"], r["recipient"]) for r in rows if r["as"] == "emergency"} == {
        ("diagnosis", physician.address)
    }
    bundle = json.loads(
        cli.ok(patient, "audit", "--patient", patient.address, "--disclosures", "--fhir").stdout
    )
    Bundle.model_validate(bundle)
    btg = [e["resource"] for e in bundle["entry"] if e["resource"]["subtype"][0]["code"] == "emergency"]
    assert [c["coding"][0]["code"] for c in btg[0]["purposeOfEvent"]] == ["BTG", "ETREAT"]
    trail = json.loads(cli.ok(None, "audit", "--patient", patient.address, "--fhir").stdout)
    Bundle.model_validate(trail)
    flagged = [e["resource"] for e in trail["entry"] if "purposeOfEvent" in e["resource"]]
    assert {r["type"]["code"] for r in flagged} == {
        "EmergencyDeclared",
        "EmergencySharesReleased",
        "EmergencyOpened",
    }

    # Opting out by an offline signature the primary-care centre relays (the resident pays no gas).
    choice = tmp_path / "choice.json"
    cli.ok(patient, "emergency", "sign-choice", "--sections", "none", "-o", str(choice))
    cli.tx(world.consortium, "emergency", "relay", str(choice))
    assert world.chain.emergency.sections(patient.address) == 0
    assert "opted out of emergency access" in cli.fail(
        physician, "emergency", "declare", patient.address, "--reason", "poisoning", "--yes"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("emergency", "declare", "{patient}", "--reason", "boredom", "--yes"),
            "unknown emergency reason 'boredom'",
        ),
        (("emergency", "optin", "--sections", "kidneys", "--yes"), "unknown section 'kidneys'"),
        (("emergency", "review", "1", "--yes"), "say --accept or --contest"),
        (("emergency", "info", "7"), "no emergency 7 on this deployment"),
        (("emergency", "approve", "7", "--yes"), "no emergency 7 on this deployment"),
        (("emergency", "read", "7"), "no emergency 7 on this deployment"),
        (("emergency", "declare", "{patient}", "--reason", "unconscious", "--yes"), "not a hospital"),
        (("emergency", "relay", "{file}", "--yes"), "is not a signed emergency choice or review"),
    ],
)
def test_emergency_bad_input_is_one_line(
    world: World, cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "famchain.consent"}))
    argv = [a.format(patient=world.patient.address, file=other) for a in args]
    assert message in cli.fail(world.family_doctor, *argv)


def test_the_emergency_benchmark_runs(devnet: DevnetInfo, w3: Web3) -> None:
    """`bench/bench_emergency.py` cannot rot: a small run on the session devnet prints every figure (no timing
    is asserted)."""
    script = Path(__file__).resolve().parents[3] / "bench" / "bench_emergency.py"
    argv = ["--records", "3", "--runs", "2", "--rpc-url", devnet.rpc_url, "--ipfs-url", devnet.ipfs_url]
    try:
        result = subprocess.run(
            [sys.executable, str(script), *argv], capture_output=True, text=True, timeout=240, check=False
        )
    finally:
        # The script funded its world from the devnet's account 0 in another process: forget our cached nonce.
        TransactionSender(w3, dev_account()).resync()
    assert result.returncode == 0, result.stderr[-2000:]
    for figure in (
        "with a 2-of-3 block",
        "anchor gas",
        "declare",
        "approve, custodian 3",
        "physician's read",
    ):
        assert figure in result.stdout


def test_a_record_whose_deletion_was_requested_is_left_out_of_every_custodian_release(
    world: World, custodians: list[Client]
) -> None:
    """PIPL art. 47 lock (issue #16) meets break-glass (issue #14): a locked record, and an amendment of it,
    never reach the physician, even with every custodian approving; the other records do."""
    patient, doctor, physician = world.patient, world.family_doctor, world.specialist
    patient.emergency.choose(CHOICE)
    a = doctor.records.submit(patient.address, parse_record(VISIT_A)).record_id
    b = doctor.records.submit(patient.address, parse_record(VISIT_B)).record_id
    patient.residents.request_record_deletion(a)
    eid = physician.emergency.declare(patient.address).emergency_id

    releases = [c.emergency.approve(eid) for c in custodians[:2]]
    for release in releases:
        assert release.records == 1
        assert [s.record_id for s in release.skipped] == [a]
        assert "deletion request" in release.skipped[0].reason

    opened = {r.record_id: r.sections for r in physician.emergency.read(eid).results if r.sections}
    assert set(opened) == {b}
    # Judged without the client: the announced bundles hold no share of the locked record.
    bundles = _announced(world, eid)
    with pytest.raises(InsufficientSharesError):
        _open_directly(world, a, bundles)
    assert set(_open_directly(world, b, bundles)) == {"allergies"}
