"""The test world, built with the client alone: a consortium, practitioners, a registered patient and an
active family-doctor agreement. ``conftest.py`` builds one per test; the fault tests build theirs on a devnet
of their own with the same function."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from famchain import ALL_SECTIONS, Action, Client, InstitutionKind, RecordId
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope, Withheld, open_all
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import NotARecipientError
from famchain.storage.api import ContentStore
from famchain.types import Address

ROOT = Path(__file__).resolve().parents[2]
ANVIL = str(ROOT / "node_modules" / ".bin" / "anvil")
"""The anvil binary npm installs (the tests' devnets run it)."""

PROFILE = {"name": "Li Lei", "birth_date": "1970-02-03", "national_id": "110101197002030011"}
BOTH = Action.READ | Action.APPEND
YEAR = 365 * 86400

ROLES = (
    "consortium",
    "hospital",
    "insurer_admin",
    "research",
    "family_doctor",
    "specialist",
    "insurer",
    "stranger",
    "patient",
    "outsider",
)
FOUNDERS = {
    "consortium": InstitutionKind.PRIMARY_CARE,
    "hospital": InstitutionKind.HOSPITAL,
    "insurer_admin": InstitutionKind.INSURER,
    "research": InstitutionKind.RESEARCH,
}
PRACTITIONERS = {
    "family_doctor": "consortium",
    "specialist": "hospital",
    "insurer": "insurer_admin",
    "stranger": "research",
}


def encryption_key(account: LocalAccount) -> bytes:
    """The account's encryption public key (what `famchain account show` prints)."""
    return public_key_from_private(bytes(account.key))


@dataclass
class World:
    """A deployed consortium with every role, each a :class:`famchain.Client` of its own account.

    ``consortium`` is a primary-care founder's admin; ``family_doctor`` its practitioner, in an agreement with
    ``patient``; ``specialist`` (hospital), ``insurer`` (insurer) and ``stranger`` (a research practitioner
    with no consent) are practitioners; ``outsider`` is a funded account with no role at all.
    """

    consortium: Client
    hospital: Client
    insurer_admin: Client
    research: Client
    family_doctor: Client
    specialist: Client
    insurer: Client
    stranger: Client
    patient: Client
    outsider: Client
    home: Path
    store: ContentStore

    @property
    def chain(self) -> Client:
        """A client with no account: public reads."""
        return self.patient.with_account(None)

    @property
    def deployment(self):  # type: ignore[no-untyped-def]
        return self.patient.deployment

    def client(self, account: LocalAccount | None = None) -> Client:
        """A client of a new account (fresh key unless given), not funded."""
        return self.patient.with_account(account or Account.create())

    def roles(self) -> dict[str, Client]:
        """Every role's client by name."""
        return {role: getattr(self, role) for role in ROLES}

    def opens(self, record_id: RecordId) -> dict[str, set[str]]:
        """Judged from the store: for each role, the sections of a record its key opens from the envelope alone
        (no key bundle), under the context the record's anchor gives. The envelope names nobody, so every
        role's key is tried."""
        anchor = self.chain.records.find(record_id)
        sealed = SealedEnvelope.from_bytes(self.store.get(anchor.cid))
        context = EnvelopeContext(
            anchor.salt,
            Address(anchor.patient),
            Address(anchor.author),
            self.patient.chain_id,
            Address(self.patient.chain.records.address),
        )
        out = {}
        for client in self.roles().values():
            try:
                opened = open_all(sealed, client.account_key(), context)
            except NotARecipientError:
                continue
            out[client.address] = {name for name, value in opened.items() if not isinstance(value, Withheld)}
        return out


def fund(funder: Client, addresses: Iterable[str], wei: int = 10**20) -> None:
    """Give each address devnet ether."""
    for address in addresses:
        funder.transfer(address, wei)


def build_world(
    w3: Web3,
    funder: LocalAccount,
    store: ContentStore,
    home: Path,
    *,
    receipt_timeout: float = 60.0,
    **deploy_options: Any,
) -> World:
    """Deploy and populate a world through the client API only (``deploy_options`` go to ``Client.deploy``)."""
    accounts = {role: Account.create() for role in ROLES}
    founders = [(accounts[role].address, kind) for role, kind in FOUNDERS.items()]
    deployer = Client.deploy(w3, funder, founders, store=store, home=home, **deploy_options)
    fund(deployer, (a.address for a in accounts.values()))
    clients = {
        role: deployer.with_account(account, receipt_timeout=receipt_timeout)
        for role, account in accounts.items()
    }
    for person, institution in PRACTITIONERS.items():
        # The practitioner signs its own enrollment naming the institution; the institution's admin submits it.
        enrollment = clients[person].consortium.sign_enrollment(clients[institution].address)
        clients[institution].consortium.register_practitioner(enrollment)
    patient, doctor = clients["patient"], clients["family_doctor"]
    patient.residents.register(PROFILE)
    doctor.agreements.propose(patient.address, ALL_SECTIONS, BOTH, YEAR)
    patient.agreements.accept(doctor.address)
    return World(**clients, home=home, store=store)
