"""The whole famchain flow on a throwaway devnet, checking at every step that the system behaves as stated.

Cast: two primary-care centres and a tertiary hospital found the consortium and vote in an insurer and a
research centre; a resident registers (gasless, relayed by the primary-care centre) and signs an agreement
with a family doctor; the doctor submits visit records; the resident consents to a hospital specialist on
referral and to an insurer's claims officer for two sections; each reader sees exactly what they may; an
amendment needs the resident's signature; a revoked insurer gets no key to a later record.

Each step yields a :class:`Step`; a step whose outcome differs from what it states raises
:class:`DemoFailed` after being reported.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from famchain.chain.client import connect
from famchain.chain.contracts import Famchain, InstitutionKind, ProposalAction
from famchain.chain.deploy import deploy
from famchain.chain.history import History
from famchain.chain.tx import TransactionSender
from famchain.crypto import typed_data
from famchain.crypto.envelope import SealedEnvelope
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import DEV_FUNDER_KEY, Devnet
from famchain.errors import AccessDeniedError, ContractRevertError, FamchainError
from famchain.records import consent, pipeline
from famchain.records.model import Attachment, parse_record
from famchain.records.pipeline import Actor
from famchain.records.sections import ALL_SECTIONS, Action, Purpose, Section
from famchain.storage.cid import digest_and_codec
from famchain.storage.kubo import KuboStore

DAY = 86400


class DemoFailed(FamchainError):
    """A demo step did not behave as the system promises."""

    def __init__(self, step: Step) -> None:
        self.step = step
        super().__init__(f"demo step {step.number} failed: {step.title}: {step.outcome}")


@dataclass
class Step:
    """One stated expectation and what actually happened."""

    number: int
    actor: str
    title: str
    outcome: str
    ok: bool

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return asdict(self)


VISIT_1 = {
    "sections": {
        "present_illness": "Cough and low fever for three days.",
        "past_history": "Hypertension since 2015, on amlodipine.",
        "family_history": "Father: type 2 diabetes.",
        "diagnosis": [{"text": "Acute upper respiratory infection", "code": "J06.9", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Paracetamol 500 mg", "frequency": "every 6 h if fever", "days": 3}],
        "examinations": [{"name": "Body temperature", "value": "37.9", "unit": "°C"}],
    }
}
VISIT_2 = {
    "sections": {
        "present_illness": "Follow-up: blood pressure readings at home around 150/95.",
        "diagnosis": [{"text": "Essential hypertension", "code": "I10", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Amlodipine 5 mg", "frequency": "once daily", "days": 30}],
        "examinations": [{"name": "Blood pressure", "value": "152/96", "unit": "mmHg"}],
    }
}
AMENDMENT = {
    "sections": {
        "diagnosis": [{"text": "Acute bronchitis", "code": "J20.9", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Paracetamol 500 mg", "frequency": "every 6 h if fever", "days": 5}],
    }
}
VISIT_3 = {
    "sections": {
        "present_illness": "Dizziness on standing.",
        "diagnosis": [{"text": "Orthostatic hypotension", "code": "I95.1", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Amlodipine 2.5 mg", "frequency": "once daily", "days": 30}],
    }
}
PROFILE = {
    "name": "王小明",
    "sex": "male",
    "birth_date": "1961-04-12",
    "occupation": "retired teacher",
    "contact": "+86 138 0000 0000",
    "national_id": "110101196104120000",
}
SCENARIO_SECRETS = (PROFILE["name"], PROFILE["birth_date"], PROFILE["national_id"], PROFILE["contact"])
"""Personal data the privacy checks look for on chain."""


class Demo:
    """Runs the scenario; ``report`` is called with every step as it completes."""

    def __init__(self, rpc_url: str, ipfs_url: str, home: Path, report: Callable[[Step], None]) -> None:
        self.w3 = connect(rpc_url)
        self.store = KuboStore(ipfs_url)
        self.home = home
        self.report = report
        self.steps: list[Step] = []
        self.funder = TransactionSender(self.w3, Account.from_key(DEV_FUNDER_KEY))
        institutions = ("pc1", "pc2", "hospital", "insurer", "research")
        names = (*institutions, "doctor", "specialist", "claims", "researcher", "resident")
        self.keys: dict[str, LocalAccount] = {n: Account.create() for n in names}
        self.actors: dict[str, Actor] = {}
        self.fc: Famchain | None = None
        self.records: dict[str, bytes] = {}

    # --- plumbing ----------------------------------------------------------------------------------------

    def check(self, actor: str, title: str, ok: bool, outcome: str) -> Step:
        """Record a step; raise when it did not behave as stated."""
        step = Step(len(self.steps) + 1, actor, title, outcome, bool(ok))
        self.steps.append(step)
        self.report(step)
        if not step.ok:
            raise DemoFailed(step)
        return step

    def actor(self, name: str) -> Actor:
        """The named party (created on first use)."""
        if name not in self.actors:
            assert self.fc is not None
            account = self.keys[name]
            self.actors[name] = Actor(
                self.fc, account, TransactionSender(self.w3, account), self.store, self.home
            )
        return self.actors[name]

    def addr(self, name: str) -> str:
        """Address of a party."""
        return str(self.keys[name].address)

    def refused(self, fn: Callable[[], object], error: type[Exception] = ContractRevertError) -> str:
        """Run ``fn`` expecting it to be refused; return the refusal message (empty when it was not)."""
        try:
            fn()
        except error as exc:
            return str(exc)
        return ""

    # --- the scenario ------------------------------------------------------------------------------------

    def run(self) -> list[Step]:
        """Play every act in order."""
        self.found_consortium()
        self.register_resident()
        self.sign_agreement()
        self.submit_visits()
        self.give_consents()
        self.read_as_each_party()
        self.amend_record()
        self.revoke_and_continue()
        self.audit()
        return self.steps

    def found_consortium(self) -> None:
        """Deploy with three founders, then vote in the insurer and the research centre."""
        for account in self.keys.values():
            self.funder.send_value(account.address, 10**20)
        founders = [
            (self.addr("pc1"), InstitutionKind.PRIMARY_CARE),
            (self.addr("pc2"), InstitutionKind.PRIMARY_CARE),
            (self.addr("hospital"), InstitutionKind.HOSPITAL),
        ]
        deployment = deploy(self.w3, self.funder, founders)
        self.fc = Famchain(self.w3, deployment)
        fc = self.fc
        self.check(
            "deployer",
            "two primary-care centres and a tertiary hospital found the consortium",
            int(fc.consortium.functions.activeMemberCount().call()) == 3,
            f"contracts at {', '.join(f'{k} {v}' for k, v in deployment.addresses.items())}",
        )
        for name, kind in (("insurer", InstitutionKind.INSURER), ("research", InstitutionKind.RESEARCH)):
            pc1 = self.actor("pc1")
            receipt = pc1.sender.transact(
                fc.consortium.functions.propose(int(ProposalAction.ADMIT), self.addr(name), int(kind), 0)
            )
            pid = int(
                fc.consortium.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
                    "proposalId"
                ]
            )
            single = fc.member(self.addr(name))[1].name
            voters = ["pc1"]
            for voter in ("hospital", "pc2"):
                if fc.member(self.addr(name))[1].name == "ACTIVE":
                    break
                self.actor(voter).sender.transact(fc.consortium.functions.vote(pid))
                voters.append(voter)
            status = fc.member(self.addr(name))[1].name
            members = int(fc.consortium.functions.activeMemberCount().call()) - (status == "ACTIVE")
            self.check(
                ", ".join(voters),
                f"the {name} centre is admitted by vote, not by any single key",
                single == "NONE" and status == "ACTIVE" and len(voters) > members / 2,
                f"after the proposer's vote: {single.lower()}; after {len(voters)} of {members} members: {status.lower()}",
            )
        for inst, person in (
            ("pc1", "doctor"),
            ("hospital", "specialist"),
            ("insurer", "claims"),
            ("research", "researcher"),
        ):
            self.actor(inst).sender.transact(
                fc.consortium.functions.registerPractitioner(
                    self.addr(person), public_key_from_private(bytes(self.keys[person].key))
                )
            )
        outsider = self.refused(
            lambda: self.actor("resident").sender.transact(
                fc.consortium.functions.registerPractitioner(
                    self.addr("resident"), public_key_from_private(bytes(self.keys["resident"].key))
                )
            )
        )
        self.check(
            "institutions",
            "each institution registers its practitioners; a non-member cannot",
            all(
                fc.practitioner(self.addr(p)).active for p in ("doctor", "specialist", "claims", "researcher")
            )
            and bool(outsider),
            f"4 practitioners active; a resident trying it: {outsider}",
        )

    def register_resident(self) -> None:
        """The resident signs a registration that the primary-care centre relays (the resident pays no gas)."""
        fc, resident = self.fc, self.actor("resident")
        assert fc is not None
        digest, cid = pipeline.seal_profile(resident, PROFILE)
        data = typed_data.registration(
            resident=resident.address,
            encryption_key=public_key_from_private(resident.private_key),
            profile=digest,
            nonce=int(fc.residents.functions.nonces(resident.address).call()),
            deadline=fc.latest_timestamp() + DAY,
            chain_id=fc.chain_id,
            verifying_contract=fc.residents.address,
        )
        signature = typed_data.sign_typed_data(resident.private_key, data)
        balance = self.w3.eth.get_balance(self.keys["resident"].address)
        m = data["message"]
        self.actor("pc1").sender.transact(
            fc.residents.functions.registerWithSig(
                resident.address,
                public_key_from_private(resident.private_key),
                digest,
                m["nonce"],
                m["deadline"],
                signature,
            )
        )
        self.check(
            "resident, pc1",
            "the resident registers with an EIP-712 signature relayed by the primary-care centre",
            fc.is_registered(resident.address)
            and self.w3.eth.get_balance(self.keys["resident"].address) == balance,
            f"registered; basic information sealed as {cid}; resident paid no gas",
        )

    def sign_agreement(self) -> None:
        """The doctor proposes; the resident accepts and releases their basic information to the doctor."""
        fc, resident, doctor = self.fc, self.actor("resident"), self.actor("doctor")
        assert fc is not None
        term = 365 * DAY
        doctor.sender.transact(
            fc.residents.functions.proposeAgreement(
                resident.address, ALL_SECTIONS, Action.READ | Action.APPEND, term
            )
        )
        resident.sender.transact(
            fc.residents.functions.acceptAgreement(
                doctor.address, ALL_SECTIONS, Action.READ | Action.APPEND, term
            )
        )
        pipeline.release_existing(resident, doctor.address, ALL_SECTIONS)
        active = fc.family_doctor(resident.address)
        profile = pipeline.read_profile(doctor, resident.address)
        self.check(
            "doctor, resident",
            "the family-doctor agreement is signed; the doctor can read the basic information",
            active is not None and active.doctor == doctor.address and profile == PROFILE,
            f"agreement with {doctor.address} until {active.ends_at if active else '?'}; doctor reads basic information",
        )
        stranger = self.refused(
            lambda: pipeline.read_profile(self.actor("specialist"), resident.address), FamchainError
        )
        self.check(
            "specialist",
            "nobody else can read the basic information",
            bool(stranger),
            stranger,
        )

    def submit_visits(self) -> None:
        """The family doctor submits two visit records (the second with an attachment)."""
        doctor, resident = self.actor("doctor"), self.actor("resident")
        e1, _ = pipeline.submit(doctor, resident.address, parse_record(VISIT_1))
        attachment = Attachment("ecg.pdf", "application/pdf", b"%PDF-1.4 demo ECG trace\n%%EOF\n")
        e2, _ = pipeline.submit(doctor, resident.address, parse_record(VISIT_2, [attachment]))
        self.records["visit1"], self.records["visit2"] = e1.record_bytes, e2.record_bytes
        card = doctor.history.card(resident.address)
        self.check(
            "doctor",
            "the family doctor submits two visit records: sealed, stored, pinned, anchored",
            [r.record_id for r in card] == [e1.record_bytes, e2.record_bytes]
            and all(self.store.has(e.cid) for e in (e1, e2)),
            f"card of {resident.address}: {e1.record_id[:18]}… ({e1.cid}), {e2.record_id[:18]}… ({e2.cid})",
        )

    def give_consents(self) -> None:
        """Referral to the specialist by transaction; insurance claim by an offline signature the insurer relays."""
        fc, resident = self.fc, self.actor("resident")
        assert fc is not None
        expires = fc.latest_timestamp() + 30 * DAY
        bundle = consent.grant(
            resident, self.addr("specialist"), ALL_SECTIONS, Action.READ, Purpose.REFERRAL, expires
        )
        self.check(
            "resident",
            "the resident consents to the hospital specialist on referral: all sections, 30 days",
            fc.is_authorized(resident.address, self.addr("specialist"), ALL_SECTIONS, Action.READ)
            and bundle is not None,
            f"granted; keys of the existing records released to the specialist in {bundle}",
        )
        insurer_sections = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)
        doc = consent.sign_consent(
            resident, self.addr("claims"), insurer_sections, Action.READ, Purpose.INSURANCE_CLAIM, expires
        )
        balance = self.w3.eth.get_balance(self.keys["resident"].address)
        relayed = consent.relay_consent(self.actor("claims"), doc)
        self.check(
            "resident, insurer",
            "the resident signs a consent for the insurer (diagnosis, prescriptions; insurance claim); the insurer relays it",
            fc.grant(resident.address, self.addr("claims")).sections == insurer_sections
            and self.w3.eth.get_balance(self.keys["resident"].address) == balance
            and relayed.bundle_cid is not None,
            f"consent in force exactly as signed; key release {relayed.bundle_cid}; the resident paid no gas",
        )

    def read_as_each_party(self) -> None:
        """Specialist reads everything, insurer two sections, researcher nothing."""
        visit1, visit2 = self.records["visit1"], self.records["visit2"]
        spec = [pipeline.read_record(self.actor("specialist"), r) for r in (visit1, visit2)]
        self.check(
            "specialist",
            "the specialist reads every section of both records",
            all(not r.withheld for r in spec) and set(spec[0].sections) == set(VISIT_1["sections"]),
            f"record 1: {', '.join(spec[0].sections)}; record 2: {', '.join(spec[1].sections)}",
        )
        ins = pipeline.read_record(self.actor("claims"), visit1)
        self.check(
            "insurer",
            "the insurer reads only diagnosis and prescriptions",
            set(ins.sections) == {"diagnosis", "prescriptions"},
            f"readable: {', '.join(ins.sections)}; withheld: {', '.join(ins.withheld)}",
        )
        denied = self.refused(
            lambda: pipeline.read_record(self.actor("researcher"), visit1), AccessDeniedError
        )
        self.check("researcher", "the research centre, without consent, reads nothing", bool(denied), denied)

    def amend_record(self) -> None:
        """An amendment without the resident's signature is refused; with it, it is anchored."""
        fc, doctor, resident = self.fc, self.actor("doctor"), self.actor("resident")
        assert fc is not None
        entry, request = pipeline.prepare_update(doctor, self.records["visit1"], parse_record(AMENDMENT))
        digest, codec = digest_and_codec(entry.cid)
        head = fc.card(resident.address).head
        anchor = (entry.record_bytes, entry.previous_bytes, digest, entry.sections, codec)
        unsigned = self.refused(
            lambda: doctor.sender.transact(
                fc.records.functions.anchorUpdate(resident.address, head, anchor, 0, 2**63, b"")
            )
        )
        self.check(
            "doctor",
            "an amendment without the resident's approval is refused",
            "approv" in unsigned.lower(),
            unsigned,
        )
        signed = pipeline.approve_request(resident.private_key, request)
        pipeline.apply_approval(doctor, signed)
        report = pipeline.flush(doctor)
        card = doctor.history.card(resident.address)
        self.check(
            "resident, doctor",
            "with the resident's signed approval the amendment is anchored as a new version",
            len(report.anchored) == 1 and card[-1].previous == self.records["visit1"] and len(card) == 3,
            f"version {entry.record_id[:18]}… updates {('0x' + self.records['visit1'].hex())[:18]}…; nothing overwritten",
        )

    def revoke_and_continue(self) -> None:
        """The resident revokes the insurer; the next record is not sealed for the insurer."""
        fc, resident, doctor = self.fc, self.actor("resident"), self.actor("doctor")
        assert fc is not None
        resident.sender.transact(fc.consents.functions.revoke(self.addr("claims")))
        e3, _ = pipeline.submit(doctor, resident.address, parse_record(VISIT_3))
        sealed = SealedEnvelope.from_bytes(self.store.get(e3.cid))
        wrapped_for = {a for s in sealed.section_names for a in sealed.recipients_of(s)}
        denied = self.refused(
            lambda: pipeline.read_record(self.actor("claims"), e3.record_bytes), AccessDeniedError
        )
        self.check(
            "resident, doctor, insurer",
            "after revocation the doctor adds a third visit and the insurer cannot read it",
            self.addr("claims") not in wrapped_for and bool(denied),
            f"record {e3.record_id[:18]}… sealed for {len(wrapped_for)} parties, none of them the insurer; {denied}",
        )
        old = self.refused(
            lambda: pipeline.read_record(self.actor("claims"), self.records["visit1"]), AccessDeniedError
        )
        self.check(
            "insurer",
            "revocation takes effect on the next check, for old records too",
            bool(old),
            old,
        )

    def audit(self) -> None:
        """The resident's whole history from chain events alone, verified against the card head."""
        fc, resident = self.fc, self.actor("resident")
        assert fc is not None
        history = History(fc)
        card = history.card(resident.address)
        events = history.patient_events(resident.address)
        names = [e.name for e in events]
        wanted = {
            "ResidentRegistered",
            "AgreementAccepted",
            "ConsentGranted",
            "ConsentRevoked",
            "RecordAnchored",
        }
        wanted.add("KeysReleased")
        lines = [f"block {e.block}: {e.name}" for e in events]
        self.check(
            "resident, regulator",
            "the audit trail lists registration, agreement, grants, records, the update, key releases, revocation",
            wanted <= set(names) and len(card) == 4,
            f"{len(events)} events, card of {len(card)} records verified against the on-chain head:\n    "
            + "\n    ".join(lines),
        )


@contextmanager
def fresh_devnet() -> Iterator[tuple[str, str, Path]]:
    """A devnet in a temporary folder, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="famchain-demo-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet")
        info = devnet.up()
        try:
            yield info.rpc_url, info.ipfs_url, Path(tmp) / "home"
        finally:
            devnet.down()


def run_demo(
    report: Callable[[Step], None], rpc_url: str | None = None, ipfs_url: str | None = None
) -> list[Step]:
    """Run the scenario on a fresh devnet (or on the given endpoints); raise :class:`DemoFailed` on a bad step."""
    if rpc_url and ipfs_url:
        with tempfile.TemporaryDirectory(prefix="famchain-demo-home-") as home:
            return Demo(rpc_url, ipfs_url, Path(home), report).run()
    with fresh_devnet() as (rpc, ipfs, home):
        return Demo(rpc, ipfs, home, report).run()
