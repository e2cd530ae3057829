"""A small world for the portal on a devnet: what ``famchain portal --demo`` serves and the browser tests use.

Two founders (a primary-care centre and a hospital), two family doctors and a specialist, and a resident who
reads in the browser: her encryption key is the one her wallet derives (registered by her ``EncryptionKey``
signature, relayed by the centre), her agreement with the family doctor is in force, two visits are on her
card, the specialist has asked for access, a second doctor has proposed an agreement, and the family doctor
has posted an amendment of her first visit to the portal. Everything is built through :class:`famchain.Client`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from famchain.chain.structs import InstitutionKind
from famchain.client import Client
from famchain.crypto.derived_key import derive_encryption_key
from famchain.crypto.typed_data import sign_typed_data
from famchain.portal.amendments import AmendmentBox, default_folder
from famchain.portal.directory import Directory
from famchain.records.model import parse_record
from famchain.records.sections import ALL_SECTIONS, Action, Section
from famchain.services.consents import TermsOptions
from famchain.storage.api import ContentStore

YEAR = 365 * 86_400
PROFILE = {"name": "Zhang Min", "birth_date": "1951-05-12", "contact": "13800000000"}
VISITS = (
    {
        "present_illness": "Dizziness in the mornings for two weeks.",
        "past_history": "Hypertension since 2009.",
        "diagnosis": [{"text": "Essential hypertension", "code": "I10", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Amlodipine 5 mg", "frequency": "once daily", "days": 30}],
    },
    {
        "present_illness": "Follow-up: dizziness gone, blood pressure 132/84.",
        "examinations": [{"name": "Blood pressure", "value": "132/84", "unit": "mmHg"}],
        "allergies": [{"substance": "Penicillin", "reaction": "rash"}],
    },
)
AMENDED = {
    "present_illness": "Dizziness in the mornings for two weeks, worse when standing up.",
    "past_history": "Hypertension since 2009.",
    "diagnosis": [
        {"text": "Essential hypertension with orthostatic dizziness", "code": "I10", "system": "ICD-10"}
    ],
    "prescriptions": [{"drug": "Amlodipine 5 mg", "frequency": "once daily", "days": 30}],
}


@dataclass
class PortalWorld:
    """The demo's parties: each a client of its own account (``relayer`` is the centre's admin)."""

    relayer: Client
    hospital: Client
    doctor: Client
    doctor2: Client
    specialist: Client
    patient: Client
    helper: Client
    """A relative the resident can appoint as guardian (funded, no role)."""
    names: Directory
    records: list[Any]
    amendment: dict[str, Any]

    @property
    def patient_key(self) -> bytes:
        """The resident's account key (the wallet's)."""
        return self.patient.account_key()

    def derived_key(self) -> bytes:
        """The resident's browser encryption key (what her wallet derives)."""
        fc = self.patient.chain
        return derive_encryption_key(
            self.patient_key, registry=fc.residents.address, chain_id=fc.chain_id
        ).private_key


def build_portal_world(w3: Web3, funder: LocalAccount, store: ContentStore, home: Path) -> PortalWorld:
    """Deploy and populate the portal's demo world (see the module docstring)."""
    accounts = {
        role: Account.create()
        for role in ("centre", "hospital", "doctor", "doctor2", "specialist", "patient", "helper")
    }
    founders = [
        (accounts["centre"].address, InstitutionKind.PRIMARY_CARE),
        (accounts["hospital"].address, InstitutionKind.HOSPITAL),
    ]
    deployer = Client.deploy(w3, funder, founders, store=store, home=home)
    for account in accounts.values():
        deployer.transfer(account.address, 10**20)
    c = {role: deployer.with_account(account) for role, account in accounts.items()}
    for person, institution in (("doctor", "centre"), ("doctor2", "centre"), ("specialist", "hospital")):
        c[institution].consortium.register_practitioner(
            c[person].consortium.sign_enrollment(c[institution].address)
        )
    patient, doctor, relayer = c["patient"], c["doctor"], c["centre"]
    patient.residents.register(PROFILE)
    # The browser key: derived from the wallet's signature, registered by her EncryptionKey signature, relayed.
    fc = patient.chain
    derived = derive_encryption_key(
        patient.account_key(), registry=fc.residents.address, chain_id=fc.chain_id
    )
    params = {"resident": patient.address, "encryptionKey": "0x" + derived.public_key.hex()}
    typed = relayer.relay.prepare("set-encryption-key", params).typed_data
    relayer.relay.relay("set-encryption-key", params, typed, sign_typed_data(patient.account_key(), typed))
    doctor.agreements.propose(patient.address, ALL_SECTIONS, Action.READ | Action.APPEND, YEAR)
    patient.agreements.accept(doctor.address, share=False)
    records = [doctor.records.submit(patient.address, parse_record({"sections": visit})) for visit in VISITS]
    c["specialist"].consents.request(
        patient.address,
        Section.DIAGNOSIS | Section.PRESCRIPTIONS | Section.ALLERGIES,
        duration=30 * 86_400,
        terms=TermsOptions(purpose="referral", recipient="Dr. Chen Li, cardiology, City No. 1 Hospital"),
    )
    c["doctor2"].agreements.propose(patient.address, ALL_SECTIONS, Action.READ | Action.APPEND, YEAR)
    prepared = doctor.records.prepare_update(records[0].record_id, parse_record({"sections": AMENDED}))
    box = AmendmentBox(relayer, default_folder(relayer))
    box.post(prepared.request)
    names = Directory(
        {
            c["centre"].address: {"name": "Riverside Community Health Centre", "zh": "河畔社区卫生服务中心"},
            c["hospital"].address: {"name": "City No. 1 Hospital", "zh": "市第一人民医院"},
            doctor.address: {"name": "Dr. Wang Fang", "zh": "王芳医生"},
            c["doctor2"].address: {"name": "Dr. Zhao Lei", "zh": "赵磊医生"},
            c["specialist"].address: {"name": "Dr. Chen Li", "zh": "陈立医生"},
            patient.address: {"name": "Zhang Min", "zh": "张敏"},
            c["helper"].address: {"name": "Zhang Wei (son)", "zh": "张伟 (儿子)"},
        }
    )
    return PortalWorld(
        relayer,
        c["hospital"],
        doctor,
        c["doctor2"],
        c["specialist"],
        patient,
        c["helper"],
        names,
        records,
        prepared.request,
    )
