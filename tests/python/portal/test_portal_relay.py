"""``client.relay``: what the portal relays and what it refuses, judged on chain.

Each refusal performs the attack (a signature from another account, an expired or replayed one, a tampered
message, another chain id, a guardian outside its scope) and checks that nothing changed on chain.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from _world import World
from famchain import ALL_SECTIONS, Client
from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import GuardianScope
from famchain.crypto.typed_data import sign_typed_data
from famchain.errors import (
    ContractRevertError,
    InputError,
    NonceUsedError,
    SignatureExpiredError,
    TamperedMessageError,
    WrongChainIdError,
    WrongSignerError,
)
from famchain.records.model import parse_record
from famchain.services.relay import SignedAction

pytestmark = pytest.mark.devnet
DAY = 86_400


def _sign(client: Client, typed: dict[str, Any]) -> str:
    return "0x" + sign_typed_data(client.account_key(), typed).hex()


def _granted(world: World) -> str:
    """The patient grants the specialist (by transaction); returns the grantee."""
    grantee = world.specialist.address
    world.patient.consents.grant(grantee, ALL_SECTIONS, expires_at=world.patient.now() + 30 * DAY)
    return grantee


def _consent_nonce(world: World, grantee: str) -> int:
    return world.chain.chain.consents.nonce(world.patient.address, NonceDomain.CONSENT, grantee)


def test_a_revocation_signed_by_the_patient_is_relayed_by_the_institution(world: World) -> None:
    grantee = _granted(world)
    relayer = world.consortium
    params = {"patient": world.patient.address, "grantee": grantee}
    prepared = relayer.relay.prepare("revoke", params)
    assert prepared.resident == world.patient.address
    gas_before = world.chain.w3.eth.get_balance(world.patient.address)
    outcome = relayer.relay.relay(
        "revoke", params, prepared.typed_data, _sign(world.patient, prepared.typed_data)
    )
    assert [e.name for e in outcome.events] == ["ConsentRevoked"]
    assert outcome.guardian is None
    assert not world.chain.consents.grant_of(world.patient.address, grantee).sections
    assert world.chain.w3.eth.get_balance(world.patient.address) == gas_before  # gasless for the patient


@pytest.mark.parametrize("attack", ["wrong-account", "expired", "replayed", "tampered", "wrong-chain"])
def test_a_bad_signature_is_refused_and_changes_nothing(world: World, attack: str) -> None:
    grantee = _granted(world)
    relayer = world.consortium
    params = {"patient": world.patient.address, "grantee": grantee}
    typed = relayer.relay.prepare(SignedAction.REVOKE, params).typed_data
    signer = world.patient
    expected: type[Exception]
    if attack == "wrong-account":
        signer, expected = world.outsider, WrongSignerError
    elif attack == "expired":
        typed = copy.deepcopy(typed)
        typed["message"]["deadline"] = world.chain.now() - 1
        expected = SignatureExpiredError
    elif attack == "replayed":
        relayer.relay.relay("revoke", params, typed, _sign(signer, typed))
        world.patient.consents.grant(grantee, ALL_SECTIONS, expires_at=world.patient.now() + 30 * DAY)
        expected = NonceUsedError
    elif attack == "tampered":
        params = {**params, "grantee": world.insurer.address}  # the page asks to revoke someone else
        expected = TamperedMessageError
    else:
        typed = copy.deepcopy(typed)
        typed["domain"]["chainId"] = 1
        expected = WrongChainIdError
    before = (world.chain.consents.grant_of(world.patient.address, grantee), _consent_nonce(world, grantee))
    block = world.chain.chain.block_number()
    with pytest.raises(expected) as refused:
        relayer.relay.relay("revoke", params, typed, _sign(signer, typed))
    assert refused.value.code == attack
    after = (world.chain.consents.grant_of(world.patient.address, grantee), _consent_nonce(world, grantee))
    assert after == before
    assert before[0].sections == ALL_SECTIONS
    assert world.chain.chain.block_number() == block  # nothing was sent


def test_a_guardian_acts_within_its_scope_and_is_refused_outside_it(world: World) -> None:
    grantee = _granted(world)
    guardian = world.outsider
    world.patient.guardians.appoint(guardian.address, GuardianScope.CONSENT, world.patient.now() + 90 * DAY)
    relayer = world.consortium
    assert [w.resident for w in guardian.guardians.wards()] == [world.patient.address]
    # Outside the scope: terminating the agreement needs AGREEMENT.
    params = {"resident": world.patient.address}
    typed = relayer.relay.prepare("terminate-agreement", params).typed_data
    with pytest.raises(WrongSignerError, match="agreement"):
        relayer.relay.relay("terminate-agreement", params, typed, _sign(guardian, typed))
    assert world.chain.agreements.active(world.patient.address) is not None
    # Within the scope: a revocation.
    params = {"patient": world.patient.address, "grantee": grantee}
    typed = relayer.relay.prepare("revoke", params).typed_data
    outcome = relayer.relay.relay("revoke", params, typed, _sign(guardian, typed))
    assert outcome.guardian == guardian.address
    acted = [e for e in outcome.events if e.name == "GuardianActed"]
    assert [(e.args["resident"], e.args["guardian"]) for e in acted] == [
        (world.patient.address, guardian.address)
    ]
    assert not world.chain.consents.grant_of(world.patient.address, grantee).sections


def test_only_the_resident_appoints_a_guardian(world: World) -> None:
    relayer = world.consortium
    helper = world.outsider
    world.patient.guardians.appoint(helper.address, GuardianScope.CONSENT, world.patient.now() + 90 * DAY)
    params = {
        "resident": world.patient.address,
        "guardian": world.stranger.address,
        "scope": int(GuardianScope.CONSENT),
        "expiresAt": world.chain.now() + 30 * DAY,
        "dependent": False,
    }
    typed = relayer.relay.prepare("appoint-guardian", params).typed_data
    with pytest.raises(WrongSignerError):
        relayer.relay.relay("appoint-guardian", params, typed, _sign(helper, typed))
    relayer.relay.relay("appoint-guardian", params, typed, _sign(world.patient, typed))
    assert world.chain.guardians.scope(world.patient.address, world.stranger.address) == GuardianScope.CONSENT


def test_an_amendment_approved_by_signature_is_anchored_by_its_author(world: World) -> None:
    doctor, patient = world.family_doctor, world.patient
    first = doctor.records.submit(patient.address, parse_record({"sections": {"present_illness": "Fever."}}))
    amended = {"present_illness": "Fever, cough.", "diagnosis": [{"text": "Influenza A"}]}
    prepared = doctor.records.prepare_update(first.record_id, parse_record({"sections": amended}))
    message = prepared.request["typed_data"]["message"]
    params = {k: message[k] for k in ("patient", "author", "previous", "salt", "cidDigest", "cidCodec")}
    params |= {"sections": message["sections"], "kind": message["kind"]}
    typed = world.consortium.relay.prepare("approve-update", params).typed_data
    outcome = world.consortium.relay.relay("approve-update", params, typed, _sign(patient, typed))
    assert [e.name for e in outcome.events] == ["UpdateApproved"]
    report = doctor.records.flush()
    assert [e.record_id for e in report.anchored] == [prepared.entry.record_id]
    card = world.chain.records.card(patient.address)
    assert [r.record_id for r in card] == [first.record_id, prepared.entry.record_id]
    assert card[1].previous == first.record_id


def test_the_contract_refusal_comes_before_sending(world: World) -> None:
    params = {"patient": world.patient.address, "grantee": world.insurer.address}  # no grant to revoke
    typed = world.consortium.relay.prepare("revoke", params).typed_data
    block = world.chain.chain.block_number()
    with pytest.raises(ContractRevertError):
        world.consortium.relay.relay("revoke", params, typed, _sign(world.patient, typed))
    assert world.chain.chain.block_number() == block


def test_unknown_actions_and_malformed_parameters_are_one_line_errors(world: World) -> None:
    with pytest.raises(InputError, match="unknown action"):
        world.consortium.relay.prepare("transfer-all", {})
    with pytest.raises(InputError, match="grantee"):
        world.consortium.relay.prepare("revoke", {"patient": world.patient.address, "grantee": "0x12"})


def test_a_cancel_relayed_for_the_patient_kills_her_outstanding_consent_signature(world: World) -> None:
    grantee = world.insurer.address
    signed = world.patient.consents.sign(grantee, ALL_SECTIONS, expires_at=world.patient.now() + 30 * DAY)
    params = {"owner": world.patient.address, "kind": "consent", "subject": grantee}
    typed = world.consortium.relay.prepare("cancel", params).typed_data
    outcome = world.consortium.relay.relay("cancel", params, typed, _sign(world.patient, typed))
    assert [e.name for e in outcome.events] == ["NonceCancelled"]
    with pytest.raises(ContractRevertError, match="nonce"):
        world.insurer.consents.relay(signed.document)
    assert not world.chain.consents.grant_of(world.patient.address, grantee).sections
