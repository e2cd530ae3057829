"""EIP-712 messages built in Python are exactly what the contracts verify, and every forged or replayed
signature is refused on chain with its own error, decoded into a sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _chain_support import World
from eth_account import Account

from famchain.chain.contracts import Famchain, InstitutionKind
from famchain.chain.deploy import deploy
from famchain.chain.tx import TransactionSender
from famchain.crypto import typed_data
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import ContractRevertError
from famchain.records.sections import ALL_SECTIONS, Action, Purpose

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
DIAGNOSIS = 0x08


def _consent(world: World, fc: Famchain | None = None, **overrides: Any) -> tuple[dict[str, Any], bytes]:
    fc = fc or world.fc
    fields: dict[str, Any] = {
        "patient": world.patient.address,
        "grantee": world.insurer.address,
        "sections": DIAGNOSIS,
        "actions": int(Action.READ),
        "purpose": int(Purpose.INSURANCE_CLAIM),
        "expires_at": fc.latest_timestamp() + 86400,
        "nonce": int(fc.consents.functions.nonces(world.patient.address).call()),
        "deadline": fc.latest_timestamp() + 3600,
        "chain_id": fc.chain_id,
        "verifying_contract": fc.consents.address,
    }
    fields.update(overrides)
    data = typed_data.consent(**fields)
    return data, typed_data.sign_typed_data(world.patient.private_key, data)


def _relay(world: World, data: dict[str, Any], signature: bytes, fc: Famchain | None = None) -> None:
    fc = fc or world.fc
    m = data["message"]
    world.outsider.sender.transact(
        fc.consents.functions.grantWithSig(
            m["patient"],
            m["grantee"],
            m["sections"],
            m["actions"],
            m["purpose"],
            m["expiresAt"],
            m["nonce"],
            m["deadline"],
            signature,
        )
    )


def _refused(fn: Callable[[], object]) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        fn()
    return info.value


def test_python_consent_relayed_by_a_third_party_grants_exactly_what_was_signed(world: World) -> None:
    data, signature = _consent(world)

    _relay(world, data, signature)

    grant = world.fc.grant(world.patient.address, world.insurer.address)
    m = data["message"]
    assert (grant.sections, grant.actions, grant.purpose, grant.expires_at) == (
        m["sections"],
        m["actions"],
        m["purpose"],
        m["expiresAt"],
    )
    assert typed_data.hash_typed_data(data) != b"\x00" * 32


def test_python_agreement_and_registration_signatures_are_accepted(world: World) -> None:
    fc, resident = world.fc, world.actor()
    world.consortium.sender.send_value(resident.address, 10**18)
    data = typed_data.registration(
        resident=resident.address,
        encryption_key=public_key_from_private(resident.private_key),
        profile=b"\x01" * 32,
        nonce=0,
        deadline=fc.latest_timestamp() + 3600,
        chain_id=fc.chain_id,
        verifying_contract=fc.residents.address,
    )
    signature = typed_data.sign_typed_data(resident.private_key, data)
    world.consortium.sender.transact(
        fc.residents.functions.registerWithSig(
            resident.address,
            public_key_from_private(resident.private_key),
            b"\x01" * 32,
            0,
            data["message"]["deadline"],
            signature,
        )
    )
    agreement = typed_data.agreement(
        resident=resident.address,
        doctor=world.family_doctor.address,
        sections=ALL_SECTIONS,
        actions=Action.READ | Action.APPEND,
        term=30 * 86400,
        nonce=1,
        deadline=fc.latest_timestamp() + 3600,
        chain_id=fc.chain_id,
        verifying_contract=fc.residents.address,
    )
    world.family_doctor.sender.transact(
        fc.residents.functions.acceptAgreementWithSig(
            resident.address,
            ALL_SECTIONS,
            Action.READ | Action.APPEND,
            30 * 86400,
            1,
            agreement["message"]["deadline"],
            typed_data.sign_typed_data(resident.private_key, agreement),
        )
    )

    assert fc.is_registered(resident.address)
    doctor = fc.family_doctor(resident.address)
    assert doctor is not None
    assert doctor.doctor == world.family_doctor.address


def test_signature_for_another_deployment_is_refused(world: World, funder: TransactionSender) -> None:
    founders = [
        (world.consortium.address, InstitutionKind.PRIMARY_CARE),
        (world.hospital.address, InstitutionKind.HOSPITAL),
    ]
    other = Famchain(world.fc.w3, deploy(world.fc.w3, funder, founders))
    data, signature = _consent(world, fc=other)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "SignedMessagesInvalidSigner"
    assert world.fc.grant(world.patient.address, world.insurer.address).sections == 0


def test_signature_for_another_chain_id_is_refused(world: World) -> None:
    data, signature = _consent(world, chain_id=world.fc.chain_id + 1)

    assert _refused(lambda: _relay(world, data, signature)).error_name == "SignedMessagesInvalidSigner"


def test_expired_deadline_is_refused_with_its_own_error(world: World) -> None:
    data, signature = _consent(world, deadline=world.fc.latest_timestamp() - 1)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "SignedMessagesExpired"


def test_reused_nonce_is_refused_with_its_own_error(world: World) -> None:
    data, signature = _consent(world)
    _relay(world, data, signature)

    error = _refused(lambda: _relay(world, data, signature))

    assert error.error_name == "InvalidAccountNonce"


def test_wrong_signer_is_refused(world: World) -> None:
    data, _ = _consent(world)
    forged = typed_data.sign_typed_data(world.insurer.private_key, data)

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
    someone_else = Account.create()
    resident = world.actor()
    world.consortium.sender.send_value(resident.address, 10**18)

    error = _refused(
        lambda: resident.sender.transact(
            world.fc.residents.functions.register(
                public_key_from_private(bytes(someone_else.key)), b"\x02" * 32
            )
        )
    )
    practitioner_error = _refused(
        lambda: world.consortium.sender.transact(
            world.fc.consortium.functions.registerPractitioner(
                resident.address, public_key_from_private(bytes(someone_else.key))
            )
        )
    )

    assert error.error_name == "ResidentRegistryInvalidEncryptionKey"
    assert practitioner_error.error_name == "ConsortiumInvalidEncryptionKey"
    assert not world.fc.is_registered(resident.address)
