"""The forge gas figures are what real transactions pay: each operation ``GasTest`` measures is sent here as a
real transaction on the devnet, under the same conditions (same sections, codec and kind; a card that already
holds records; a first nonce and a new grant), and its receipt must show exactly ``GasTest``'s execution gas.

``GasTest`` writes its figures to ``snapshots/GasTest.json`` (``forge test`` rewrites the file; ``make test``
runs forge before pytest). The execution gas (``gasUsed`` - 21,000 - calldata gas) is compared, not the whole
``gasUsed``: the two transactions carry different addresses, salts and digests, and a random zero byte costs 4
instead of 16 calldata gas. Both whole figures are 21,000 + calldata gas + execution gas, so for the same calldata
they are equal too. The gas targets are also checked here on the real receipts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from web3.types import TxParams, TxReceipt

from _world import World
from famchain import Action, Client, Section
from famchain.bench.runner import INTRINSIC_GAS, calldata_gas
from famchain.chain.contracts import RecordContract
from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import CODEC_RAW, Anchor, CardAccess
from famchain.crypto import typed_data
from famchain.records.sections import ALL_SECTIONS, Purpose
from famchain.records.terms import default_terms
from famchain.types import RecordId

SNAPSHOT = Path(__file__).resolve().parents[3] / "snapshots" / "GasTest.json"
DIAGNOSIS = int(Section.DIAGNOSIS)
TWO_SECTIONS = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)
BOTH = Action.READ | Action.APPEND
BATCH = 50
DAY = 86_400

ANCHOR_TX_TARGET = 60_000
BATCH_PER_RECORD_TARGET = 10_000
GRANT_WITH_SIG_TX_TARGET = 100_000
IS_AUTHORIZED_GRANTEE_TARGET = 12_000


@pytest.fixture(scope="module")
def forge() -> dict[str, int]:
    """``GasTest``'s figures by name."""
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run `forge test --match-contract GasTest`"
    figures: dict[str, Any] = json.loads(SNAPSHOT.read_text())
    return {name: int(value) for name, value in figures.items()}


def _figure(forge: dict[str, int], name: str) -> int:
    assert name in forge, f"{SNAPSHOT} has no {name}: run the whole `forge test --match-contract GasTest`"
    return forge[name]


def _execution(world: World, receipt: TxReceipt) -> int:
    """A mined transaction's execution gas, from its receipt and its calldata as the chain holds them."""
    assert receipt["status"] == 1
    data = bytes(world.chain.w3.eth.get_transaction(receipt["transactionHash"])["input"])
    used = int(receipt["gasUsed"])
    # What the chain charged is intrinsic + calldata + execution (EIP-7623's calldata floor is far below).
    assert used > INTRINSIC_GAS + 10 * (4 * len(data) - 3 * data.count(0))
    return used - INTRINSIC_GAS - calldata_gas(data)


def _anchor(sections: int) -> Anchor:
    """What ``GasTest`` anchors: a new outpatient visit record with a raw CID (random salt and digest)."""
    return Anchor(
        salt=os.urandom(32),
        previous=RecordId.zero(),
        cidDigest=os.urandom(32),
        sections=sections,
        cidCodec=CODEC_RAW,
    )


def _send_anchor(author: Client, patient: str, sections: int) -> TxReceipt:
    """One anchor by ``author`` on the card's current head; the card must grow by one."""
    records: RecordContract = author.chain.records
    head = records.card(patient).head
    before = records.card(patient).length
    receipt = author.sender.transact(records.anchor(patient, head, _anchor(sections)))
    assert records.card(patient).length == before + 1
    return receipt


def test_steady_anchor_costs_what_gastest_says_and_meets_the_target(
    world: World, forge: dict[str, int]
) -> None:
    patient = world.patient.address
    first = _send_anchor(world.family_doctor, patient, ALL_SECTIONS)
    steady = _send_anchor(world.family_doctor, patient, ALL_SECTIONS)
    assert _execution(world, first) == _figure(forge, "anchor_first_execution")
    assert _execution(world, steady) == _figure(forge, "anchor_steady_execution")
    assert int(steady["gasUsed"]) <= ANCHOR_TX_TARGET


def test_grantee_anchor_costs_what_gastest_says(world: World, forge: dict[str, int]) -> None:
    patient, specialist = world.patient, world.specialist.address
    _send_anchor(world.family_doctor, patient.address, ALL_SECTIONS)
    patient.sender.transact(
        patient.chain.consents.grant(
            specialist, DIAGNOSIS, BOTH, patient.now() + 30 * DAY, os.urandom(32), bytes(32), 0
        )
    )
    receipt = _send_anchor(world.specialist, patient.address, DIAGNOSIS)
    assert _execution(world, receipt) == _figure(forge, "anchor_grantee_execution")
    assert int(receipt["gasUsed"]) <= ANCHOR_TX_TARGET


def test_batch_of_50_costs_what_gastest_says_and_meets_the_target(
    world: World, forge: dict[str, int]
) -> None:
    patient, doctor = world.patient.address, world.family_doctor
    _send_anchor(world.family_doctor, patient, ALL_SECTIONS)
    records = doctor.chain.records
    batch = [_anchor(ALL_SECTIONS) for _ in range(BATCH)]
    receipt = doctor.sender.transact(records.anchor_batch(patient, records.card(patient).head, batch))
    assert records.card(patient).length == 1 + BATCH
    assert _execution(world, receipt) == _figure(forge, "anchor_batch50_execution")
    assert int(receipt["gasUsed"]) <= BATCH_PER_RECORD_TARGET * BATCH


def test_relayed_grant_with_its_key_release_costs_what_gastest_says(
    world: World, forge: dict[str, int]
) -> None:
    """The patient's first consent to this grantee, naming its key bundle, relayed by an institution."""
    patient, insurer = world.patient, world.insurer.address
    consents = patient.chain.consents
    expires = patient.now() + 30 * DAY
    terms = default_terms(
        grantee=insurer,
        institution=None,
        sections=TWO_SECTIONS,
        actions=Action.READ,
        purpose=Purpose.REFERRAL,
    )
    nonce = consents.nonce(patient.address, NonceDomain.CONSENT, insurer)
    assert nonce & (2**64 - 1) == 0  # a keyed nonce: the key above, the sequence (first) in the low 64 bits
    bundle = os.urandom(32)
    message = typed_data.consent(
        patient=patient.address,
        grantee=insurer,
        sections=TWO_SECTIONS,
        actions=Action.READ,
        expires_at=expires,
        terms=terms,
        bundle_digest=bundle,
        bundle_codec=CODEC_RAW,
        nonce=nonce,
        deadline=expires,
        chain_id=patient.chain_id,
        verifying_contract=consents.address,
    )
    signature = typed_data.sign_typed_data(patient.account_key(), message)
    call = consents.grant_with_sig(
        patient.address,
        insurer,
        TWO_SECTIONS,
        Action.READ,
        expires,
        terms.hash_struct(),
        bundle,
        CODEC_RAW,
        nonce,
        expires,
        bytes(signature),
    )
    receipt = world.hospital.sender.transact(call)
    assert consents.grant_of(patient.address, insurer).sections == TWO_SECTIONS
    assert _execution(world, receipt) == _figure(forge, "grant_with_sig_execution")
    assert int(receipt["gasUsed"]) <= GRANT_WITH_SIG_TX_TARGET


def test_is_authorized_for_a_grantee_costs_what_gastest_says(world: World, forge: dict[str, int]) -> None:
    patient, specialist = world.patient, world.specialist.address
    patient.sender.transact(
        patient.chain.consents.grant(
            specialist, DIAGNOSIS, BOTH, patient.now() + 30 * DAY, os.urandom(32), bytes(32), 0
        )
    )
    consents = patient.chain.consents
    data = consents.calldata(consents.is_authorized_call(patient.address, specialist, DIAGNOSIS, Action.READ))
    assert consents.is_authorized(patient.address, specialist, DIAGNOSIS, Action.READ)
    estimate = int(patient.chain.w3.eth.estimate_gas(TxParams(to=consents.address, data=data)))
    execution = estimate - INTRINSIC_GAS - calldata_gas(data)
    assert execution == _figure(forge, "is_authorized_grantee_execution")
    assert execution <= IS_AUTHORIZED_GRANTEE_TARGET


def test_card_access_of_gives_the_status_and_only_the_family_doctor_its_terms(world: World) -> None:
    """What the steady anchor's author check reads in one slot (``ResidentContract.card_access_of``)."""
    residents = world.chain.chain.residents
    patient = world.patient.address
    assert residents.card_access_of(patient, world.family_doctor.address) == CardAccess(
        True, False, ALL_SECTIONS, BOTH
    )
    assert residents.card_access_of(patient, world.specialist.address) == CardAccess(True, False, 0, 0)
    assert residents.card_access_of(world.outsider.address, world.family_doctor.address) == CardAccess(
        False, False, 0, 0
    )
    world.patient.agreements.terminate()
    assert residents.card_access_of(patient, world.family_doctor.address) == CardAccess(True, False, 0, 0)
