"""Fixtures for the crypto tests: role keys, a record context, sealed sample records."""

from __future__ import annotations

import os

import pytest
from _crypto_support import CHAIN_ID, DOCTOR_SECTIONS, EMERGENCY_SECTIONS, REGISTRY, SECTIONS

from famchain.crypto.envelope import EmergencyShares, EnvelopeContext, Recipient, SealedEnvelope, seal
from famchain.crypto.wallet import Wallet
from famchain.types import Address


def _wallet() -> Wallet:
    return Wallet(os.urandom(32))


@pytest.fixture
def patient() -> Wallet:
    return _wallet()


@pytest.fixture
def family_doctor() -> Wallet:
    return _wallet()


@pytest.fixture
def insurer() -> Wallet:
    return _wallet()


@pytest.fixture
def stranger() -> Wallet:
    return _wallet()


@pytest.fixture
def physician() -> Wallet:
    return _wallet()


@pytest.fixture
def custodians() -> list[Wallet]:
    return [_wallet() for _ in range(3)]


@pytest.fixture
def context(patient: Wallet, family_doctor: Wallet) -> EnvelopeContext:
    """A record of the patient written by the family doctor."""
    return EnvelopeContext(
        os.urandom(32), patient.address, family_doctor.address, CHAIN_ID, Address(REGISTRY)
    )


@pytest.fixture
def envelope(patient: Wallet, family_doctor: Wallet, context: EnvelopeContext) -> SealedEnvelope:
    """The sample record: the patient reads everything, the family doctor three sections."""
    return seal(
        SECTIONS,
        [patient.encryption_public_key, Recipient(family_doctor.encryption_public_key, DOCTOR_SECTIONS)],
        context,
    )


@pytest.fixture
def emergency_envelope(
    patient: Wallet, family_doctor: Wallet, custodians: list[Wallet], context: EnvelopeContext
) -> SealedEnvelope:
    """The sample record with diagnosis and prescriptions shared 2-of-3 among the custodians."""
    return seal(
        SECTIONS,
        [patient.encryption_public_key, Recipient(family_doctor.encryption_public_key, DOCTOR_SECTIONS)],
        context,
        emergency=EmergencyShares([c.encryption_public_key for c in custodians], 2, EMERGENCY_SECTIONS),
    )
