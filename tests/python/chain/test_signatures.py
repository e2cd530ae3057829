"""EIP-712 messages built in Python are exactly what the contracts verify, and every forged or replayed
signature is refused on chain with its own error, decoded into a sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from _world import World
from famchain import ALL_SECTIONS, Action, Client, ContractRevertError, InstitutionKind, Purpose
from famchain.chain.nonces import NonceDomain, key_of, nonce_key
from famchain.crypto import typed_data
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import dev_account
from famchain.records.sharing import consent_document
from famchain.records.terms import default_terms

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
DIAGNOSIS = 0x08


TERMS = default_terms(
    grantee="0x0000000000000000000000000000000000000001",
    institution=None,
    sections=DIAGNOSIS,
    actions=int(Action.READ),
    purpose=Purpose.INSURANCE_CLAIM,
)


def _consent(world: World, on: Client | None = None, **overrides: Any) -> tuple[dict[str, Any], bytes]:
    chain = (on or world.patient).chain
    fields: dict[str, Any] = {
        "patient": world.patient.address,
        "grantee": world.insurer.address,
        "sections": DIAGNOSIS,
        "actions": int(Action.READ),
        "expires_at": chain.latest_timestamp() + 86400,
        "terms": TERMS,
        "bundle_digest": b"\x00" * 32,
        "bundle_codec": 0,
        "nonce": chain.consents.nonce(world.patient.address, NonceDomain.CONSENT, world.insurer.address),
        "deadline": chain.latest_timestamp() + 3600,
        "chain_id": chain.chain_id,
        "verifying_contract": chain.consents.address,
    }
    fields.update(overrides)
    data = typed_data.consent(**fields)
    return data, typed_data.sign_typed_data(world.patient.account_key(), data)


def _relay(world: World, data: dict[str, Any], signature: bytes) -> None:
    world.outsider.consents.relay(consent_document(data, signature))


def _refused(fn: Callable[[], object]) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        fn()
    return info.value


def test_python_consent_relayed_by_a_third_party_grants_exactly_what_was_signed(world: World) -> None:
    data, signature = _consent(world)

    _relay(world, data, signature)

    grant = world.chain.consents.grant_of(world.patient.address, world.insurer.address)
    m = data["message"]
    assert (grant.sections, grant.actions, grant.expiresAt) == (m["sections"], m["actions"], m["expiresAt"])
    # The chain holds the terms only as their salted hash (announced in the event), never the purpose.
    (event,) = [e for e in world.chain.audit.events(world.patient.address) if e.name == "ConsentGranted"]
    assert bytes(event.args["terms"]) == TERMS.hash_struct()
    assert typed_data.hash_typed_data(data) != b"\x00" * 32


def test_python_agreement_and_registration_signatures_are_accepted(world: World) -> None:
    resident = world.client()
    world.consortium.transfer(resident.address, 10**18)

    signed = resident.residents.sign_registration({"name": "Han Meimei"})
    world.consortium.residents.relay_registration(signed)
    acceptance = resident.agreements.sign_acceptance(
        world.family_doctor.address, ALL_SECTIONS, Action.READ | Action.APPEND, 30 * 86400
    )
    world.family_doctor.agreements.accept_signed(acceptance)

    assert world.chain.residents.is_registered(resident.address)
    # Keyed nonces: each signature carries the key of what it signs, sequence 0 of each.
    assert key_of(signed.nonce) == nonce_key(NonceDomain.REGISTRATION, 0)
    assert key_of(acceptance.nonce) == nonce_key(NonceDomain.AGREEMENT, world.family_doctor.address)
    doctor = world.chain.agreements.active(resident.address)
    assert doctor is not None
    assert doctor.doctor == world.family_doctor.address
    assert resident.residents.read_profile() == {"name": "Han Meimei"}


def test_signature_for_another_deployment_is_refused(world: World) -> None:
    founders = [
        (world.consortium.address, InstitutionKind.PRIMARY_CARE),
        (world.hospital.address, InstitutionKind.HOSPITAL),
    ]
    other = Client.deploy(world.patient.w3, dev_account(), founders)
    data, signature = _consent(world, on=other)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "SignedMessagesInvalidSigner"
    assert world.chain.consents.grant_of(world.patient.address, world.insurer.address).sections == 0


def test_signature_for_another_chain_id_is_refused(world: World) -> None:
    data, signature = _consent(world, chain_id=world.chain.chain_id + 1)

    assert _refused(lambda: _relay(world, data, signature)).error_name == "SignedMessagesInvalidSigner"


def test_expired_deadline_is_refused_with_its_own_error(world: World) -> None:
    data, signature = _consent(world, deadline=world.chain.now() - 1)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "SignedMessagesExpired"


def test_reused_nonce_is_refused_with_its_own_error(world: World) -> None:
    data, signature = _consent(world)
    _relay(world, data, signature)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "InvalidAccountNonce"


def test_wrong_signer_is_refused(world: World) -> None:
    data, _ = _consent(world)
    forged = typed_data.sign_typed_data(world.insurer.account_key(), data)

    error = _refused(lambda: _relay(world, data, forged))

    assert error.error_name == "SignedMessagesInvalidSigner"
    assert world.insurer.address in str(error)


def test_high_s_twin_of_a_valid_signature_is_refused_as_malleable(world: World) -> None:
    data, signature = _consent(world)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # v: 27 <-> 28

    error = _refused(lambda: _relay(world, data, twin))

    assert error.error_name == "SignedMessagesMalleable"


def test_substituted_encryption_key_is_rejected(world: World) -> None:
    """v2 changes what a resident's key must be: any valid curve point bound by the resident's own transaction or
    signature (a key derived in a browser does not hash to the account), so a non-point is refused; a
    practitioner's key must still hash to the practitioner."""
    someone_else = Account.create()
    resident = world.client()
    world.consortium.transfer(resident.address, 10**18)
    wrong_key = public_key_from_private(bytes(someone_else.key))
    not_on_curve = b"\x01" * 64

    # Sent as raw contract calls: the client itself never offers such a key.
    error = _refused(
        lambda: resident.sender.transact(resident.chain.residents.register(not_on_curve, b"\x02" * 32))
    )
    admin = world.consortium
    enrollment = resident.consortium.sign_enrollment(admin.address)
    practitioner_error = _refused(
        lambda: admin.sender.transact(
            admin.chain.consortium.register_practitioner(
                resident.address, wrong_key, enrollment.nonce, enrollment.deadline, enrollment.signature
            )
        )
    )

    assert error.error_name == "ResidentRegistryInvalidEncryptionKey"
    assert practitioner_error.error_name == "ConsortiumInvalidEncryptionKey"
    assert not world.chain.residents.is_registered(resident.address)
    assert not world.chain.consortium.practitioner(resident.address).active
