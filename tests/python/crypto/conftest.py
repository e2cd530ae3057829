"""Fixtures for the crypto tests: role keys, a record context, a sealed sample record."""

from __future__ import annotations

import os

import pytest
from _crypto_support import CHAIN_ID, DOCTOR_SECTIONS, REGISTRY, SECTIONS

from famchain.crypto.envelope import EnvelopeContext, Recipient, SealedEnvelope, seal
from famchain.crypto.wallet import Wallet
from famchain.types import Address, RecordId


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
def context(patient: Wallet) -> EnvelopeContext:
    return EnvelopeContext(RecordId(os.urandom(32)), patient.address, CHAIN_ID, Address(REGISTRY))


@pytest.fixture
def envelope(patient: Wallet, family_doctor: Wallet, context: EnvelopeContext) -> SealedEnvelope:
    """The sample record: the patient reads everything, the family doctor three sections."""
    return seal(
        SECTIONS,
        [patient.encryption_public_key, Recipient(family_doctor.encryption_public_key, DOCTOR_SECTIONS)],
        context,
    )
