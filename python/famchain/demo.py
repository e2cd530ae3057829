"""The whole famchain flow on a throwaway devnet, checking at every step that the system behaves as stated.

Cast: two primary-care centres and a tertiary hospital found the consortium and vote in an insurer and a
research centre; a resident registers (gasless, relayed by the primary-care centre) and signs an agreement
with a family doctor; the doctor submits visit records; the resident consents to a hospital specialist on
referral and to an insurer's claims officer for two sections; each reader sees exactly what they may; an
amendment needs the resident's signature; a revoked insurer gets no key to a later record. Then an emergency:
three custodians are voted in, the resident narrows its emergency sections by signature, a new visit shares
their keys among the custodians, an emergency physician of the hospital declares an emergency for the
unconscious resident, one custodian's shares open nothing, two open exactly the emergency sections of the
records anchored before the declaration, and the resident's audit shows it first.

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

from famchain.chain.structs import InstitutionKind, MemberStatus, ProposalAction, Review
from famchain.client import Client
from famchain.crypto.bundle import KeyBundle
from famchain.crypto.emergency import open_with_shares
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope, is_recipient
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import Devnet, dev_account
from famchain.errors import AccessDeniedError, ContractRevertError, FamchainError, InsufficientSharesError
from famchain.i18n import _
from famchain.records.anchoring import anchor_of
from famchain.records.emergency import EmergencyReason
from famchain.records.model import Attachment, parse_record
from famchain.records.sections import ALL_SECTIONS, Action, Purpose, Section, section_names
from famchain.storage.kubo import KuboStore
from famchain.types import Address, RecordId

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
VISIT_4 = {
    "sections": {
        "present_illness": "Palpitations after a fall at home.",
        "past_history": "Hypertension; orthostatic hypotension in the last visit.",
        "diagnosis": [{"text": "Atrial fibrillation", "code": "I48.9", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Apixaban 5 mg", "frequency": "twice daily", "days": 30}],
        "allergies": [{"substance": "Penicillin", "reaction": "anaphylaxis"}],
    }
}
EMERGENCY_CHOICE = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS | Section.ALLERGIES)
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
        self.rpc_url = rpc_url
        self.store = KuboStore(ipfs_url)
        self.home = home
        self.report = report
        self.steps: list[Step] = []
        institutions = ("pc1", "pc2", "hospital", "insurer", "research")
        names = (*institutions, "doctor", "specialist", "claims", "researcher", "resident", "erdoc")
        self.keys = {n: Account.create() for n in names}
        self.clients: dict[str, Client] = {}
        self.deployer: Client | None = None
        self.records: dict[str, RecordId] = {}

    # --- plumbing ----------------------------------------------------------------------------------------

    def check(self, actor: str, title: str, ok: bool, outcome: str) -> Step:
        """Record a step; raise when it did not behave as stated."""
        step = Step(len(self.steps) + 1, actor, title, outcome, bool(ok))
        self.steps.append(step)
        self.report(step)
        if not step.ok:
            raise DemoFailed(step)
        return step

    def client(self, name: str) -> Client:
        """The named party's client (created on first use)."""
        if name not in self.clients:
            assert self.deployer is not None
            self.clients[name] = self.deployer.with_account(self.keys[name])
        return self.clients[name]

    def addr(self, name: str) -> str:
        """Address of a party."""
        return str(self.keys[name].address)

    def balance(self, name: str) -> int:
        """A party's balance (to show who paid gas)."""
        assert self.deployer is not None
        return int(self.deployer.w3.eth.get_balance(self.keys[name].address))

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
        self.emergency()
        self.audit()
        return self.steps

    def found_consortium(self) -> None:
        """Deploy with three founders, then vote in the insurer and the research centre."""
        founders = [
            (self.addr("pc1"), InstitutionKind.PRIMARY_CARE),
            (self.addr("pc2"), InstitutionKind.PRIMARY_CARE),
            (self.addr("hospital"), InstitutionKind.HOSPITAL),
        ]
        self.deployer = Client.deploy(self.rpc_url, dev_account(), founders, store=self.store, home=self.home)
        for account in self.keys.values():
            self.deployer.transfer(account.address, 10**20)
        consortium = self.deployer.consortium
        self.check(
            "deployer",
            "two primary-care centres and a tertiary hospital found the consortium",
            consortium.active_member_count() == 3,
            f"contracts at {', '.join(f'{k} {v}' for k, v in self.deployer.deployment.addresses.items())}",
        )
        for name, kind in (("insurer", InstitutionKind.INSURER), ("research", InstitutionKind.RESEARCH)):
            proposed = self.client("pc1").consortium.propose(ProposalAction.ADMIT, self.addr(name), kind=kind)
            single = consortium.member(self.addr(name)).status
            voters = ["pc1"]
            for voter in ("hospital", "pc2"):
                if consortium.member(self.addr(name)).status is MemberStatus.ACTIVE:
                    break
                self.client(voter).consortium.vote(proposed.proposal_id)
                voters.append(voter)
            status = consortium.member(self.addr(name)).status
            members = consortium.active_member_count() - (status is MemberStatus.ACTIVE)
            self.check(
                ", ".join(voters),
                f"the {name} centre is admitted by vote, not by any single key",
                single is MemberStatus.NONE and status is MemberStatus.ACTIVE and len(voters) > members / 2,
                f"after the proposer's vote: {single.name.lower()}; after {len(voters)} of {members} members: "
                f"{status.name.lower()}",
            )
        for inst, person in (
            ("pc1", "doctor"),
            ("hospital", "specialist"),
            ("insurer", "claims"),
            ("research", "researcher"),
        ):
            # The practitioner signs its own enrollment naming the institution; the institution submits it.
            enrollment = self.client(person).consortium.sign_enrollment(self.addr(inst))
            self.client(inst).consortium.register_practitioner(enrollment)
        resident = self.client("resident")
        outsider = self.refused(
            lambda: resident.consortium.register_practitioner(
                resident.consortium.sign_enrollment(resident.address)
            )
        )
        self.check(
            "institutions",
            "each institution registers its practitioners with their own enrollment signature; a non-member cannot",
            all(
                consortium.practitioner(self.addr(p)).active
                for p in ("doctor", "specialist", "claims", "researcher")
            )
            and bool(outsider),
            f"4 practitioners active; a resident trying it: {outsider}",
        )

    def _key(self, name: str) -> bytes:
        return public_key_from_private(bytes(self.keys[name].key))

    def sealed_for(self, record_id: RecordId) -> set[str]:
        """The parties whose keys open a record's envelope (the demo holds every key; the envelope names none)."""
        resident = self.client("resident")
        anchor = resident.records.find(record_id)
        sealed = SealedEnvelope.from_bytes(self.store.get(anchor.cid))
        context = EnvelopeContext(
            anchor.salt,
            Address(anchor.patient),
            Address(anchor.author),
            resident.chain_id,
            Address(resident.chain.records.address),
        )
        return {name for name, key in self.keys.items() if is_recipient(sealed, bytes(key.key), context)}

    def register_resident(self) -> None:
        """The resident signs a registration that the primary-care centre relays (the resident pays no gas)."""
        resident = self.client("resident")
        signed = resident.residents.sign_registration(PROFILE)
        balance = self.balance("resident")
        self.client("pc1").residents.relay_registration(signed)
        self.check(
            "resident, pc1",
            "the resident registers with an EIP-712 signature relayed by the primary-care centre",
            resident.residents.is_registered(resident.address) and self.balance("resident") == balance,
            f"registered; basic information sealed as {signed.profile_cid}; resident paid no gas",
        )

    def sign_agreement(self) -> None:
        """The doctor proposes; the resident accepts and releases their basic information to the doctor."""
        resident, doctor = self.client("resident"), self.client("doctor")
        doctor.agreements.propose(resident.address, ALL_SECTIONS, Action.READ | Action.APPEND, 365 * DAY)
        resident.agreements.accept(doctor.address)
        active = resident.agreements.active(resident.address)
        profile = doctor.residents.read_profile(resident.address)
        self.check(
            "doctor, resident",
            "the family-doctor agreement is signed; the doctor can read the basic information",
            active is not None and active.doctor == doctor.address and profile == PROFILE,
            f"agreement with {doctor.address} until {active.endsAt if active else '?'}; doctor reads basic information",
        )
        stranger = self.refused(
            lambda: self.client("specialist").residents.read_profile(resident.address), FamchainError
        )
        self.check("specialist", "nobody else can read the basic information", bool(stranger), stranger)

    def submit_visits(self) -> None:
        """The family doctor submits two visit records (the second with an attachment)."""
        doctor, resident = self.client("doctor"), self.client("resident")
        e1 = doctor.records.submit(resident.address, parse_record(VISIT_1)).entry
        attachment = Attachment("ecg.pdf", "application/pdf", b"%PDF-1.4 demo ECG trace\n%%EOF\n")
        e2 = doctor.records.submit(resident.address, parse_record(VISIT_2, [attachment])).entry
        self.records["visit1"], self.records["visit2"] = e1.record_id, e2.record_id
        card = doctor.records.card(resident.address)
        self.check(
            "doctor",
            "the family doctor submits two visit records: sealed, stored, pinned, anchored",
            [r.record_id for r in card] == [e1.record_id, e2.record_id]
            and all(self.store.has(e.cid) for e in (e1, e2)),
            f"card of {resident.address}: {e1.record_id.short()} ({e1.cid}), {e2.record_id.short()} ({e2.cid})",
        )

    def give_consents(self) -> None:
        """Referral to the specialist by transaction; insurance claim by an offline signature the insurer relays."""
        resident = self.client("resident")
        expires = resident.now() + 30 * DAY
        granted = resident.consents.grant(
            self.addr("specialist"), ALL_SECTIONS, purpose=Purpose.REFERRAL, expires_at=expires
        )
        announced = [
            e
            for e in resident.audit.events(resident.address)
            if e.name == "ConsentGranted" and e.args["grantee"] == self.addr("specialist")
        ]
        self.check(
            "resident",
            "the resident consents to the hospital specialist on referral: all sections, 30 days; the keys of the "
            "existing records go in the same transaction",
            resident.consents.is_authorized(resident.address, self.addr("specialist"), ALL_SECTIONS)
            and granted.release.bundle_cid is not None
            and len(announced) == 1
            and any(bytes(announced[0].args["bundleDigest"])),
            f"granted; ConsentGranted names the key bundle {granted.release.bundle_cid}; the purpose is on chain "
            f"only inside the salted terms hash 0x{bytes(announced[0].args['terms']).hex()[:16]}…",
        )
        insurer_sections = int(Section.DIAGNOSIS | Section.PRESCRIPTIONS)
        signed = resident.consents.sign(
            self.addr("claims"), insurer_sections, purpose=Purpose.INSURANCE_CLAIM, expires_at=expires
        )
        balance = self.balance("resident")
        relayed = self.client("claims").consents.relay(signed.document)
        self.check(
            "resident, insurer",
            "the resident signs a consent for the insurer (diagnosis, prescriptions; insurance claim); the insurer relays it",
            resident.consents.grant_of(resident.address, self.addr("claims")).sections == insurer_sections
            and self.balance("resident") == balance
            and relayed.bundle_cid is not None
            and set(signed.document) == {"kind", "typed_data", "signature"},
            f"consent in force exactly as signed, key bundle {relayed.bundle_cid} announced with it; the file held "
            "no key; the resident paid no gas",
        )
        stale = resident.consents.sign(
            self.addr("researcher"), int(Section.DIAGNOSIS), purpose=Purpose.RESEARCH, expires_at=expires
        )
        resident.consents.cancel(self.addr("researcher"))
        cancelled = self.refused(lambda: self.client("researcher").consents.relay(stale.document))
        self.check(
            "resident, researcher",
            "a consent signature the resident handed out and then cancelled can no longer be relayed",
            bool(cancelled)
            and resident.consents.grant_of(resident.address, self.addr("researcher")).sections == 0,
            cancelled,
        )

    def read_as_each_party(self) -> None:
        """Specialist reads everything, insurer two sections, researcher nothing."""
        visit1, visit2 = self.records["visit1"], self.records["visit2"]
        spec = [self.client("specialist").records.read(r) for r in (visit1, visit2)]
        self.check(
            "specialist",
            "the specialist reads every section of both records",
            all(not r.withheld for r in spec) and set(spec[0].sections) == set(VISIT_1["sections"]),
            f"record 1: {', '.join(spec[0].sections)}; record 2: {', '.join(spec[1].sections)}",
        )
        ins = self.client("claims").records.read(visit1)
        self.check(
            "insurer",
            "the insurer reads only diagnosis and prescriptions",
            set(ins.sections) == {"diagnosis", "prescriptions"},
            f"readable: {', '.join(ins.sections)}; withheld: {', '.join(ins.withheld)}",
        )
        denied = self.refused(lambda: self.client("researcher").records.read(visit1), AccessDeniedError)
        self.check("researcher", "the research centre, without consent, reads nothing", bool(denied), denied)

    def amend_record(self) -> None:
        """An amendment without the resident's signature is refused; with it, it is anchored."""
        doctor, resident = self.client("doctor"), self.client("resident")
        prepared = doctor.records.prepare_update(self.records["visit1"], parse_record(AMENDMENT))
        entry = prepared.entry
        head = doctor.chain.card(resident.address).head
        unsigned = self.refused(
            lambda: doctor.sender.transact(
                doctor.chain.records.anchor_update(resident.address, head, anchor_of(entry), 0, 2**63, b"")
            )
        )
        self.check(
            "doctor",
            "an amendment without the resident's approval is refused",
            "approv" in unsigned.lower(),
            unsigned,
        )
        signed = resident.records.approve(prepared.request)
        doctor.records.apply_approval(signed)
        report = doctor.records.flush()
        card = doctor.records.card(resident.address)
        self.check(
            "resident, doctor",
            "with the resident's signed approval the amendment is anchored as a new version",
            len(report.anchored) == 1 and card[-1].previous == self.records["visit1"] and len(card) == 3,
            f"version {entry.record_id.short()} updates {self.records['visit1'].short()}; nothing overwritten",
        )

    def revoke_and_continue(self) -> None:
        """The resident revokes the insurer; the next record is not sealed for the insurer."""
        resident, doctor, claims = self.client("resident"), self.client("doctor"), self.client("claims")
        resident.consents.revoke(claims.address)
        e3 = doctor.records.submit(resident.address, parse_record(VISIT_3)).entry
        wrapped_for = self.sealed_for(e3.record_id)
        denied = self.refused(lambda: claims.records.read(e3.record_id), AccessDeniedError)
        self.check(
            "resident, doctor, insurer",
            "after revocation the doctor adds a third visit and the insurer cannot read it",
            "claims" not in wrapped_for and bool(denied),
            f"record {e3.record_id.short()} opens for {', '.join(sorted(wrapped_for))}, not the insurer; {denied}",
        )
        old = self.refused(lambda: claims.records.read(self.records["visit1"]), AccessDeniedError)
        self.check(
            "insurer", "revocation takes effect on the next check, for old records too", bool(old), old
        )

    def emergency(self) -> None:
        """Custodians by vote, the resident's choice by signature, a visit sealed with shares, a declaration, one
        custodian's shares opening nothing, two opening exactly the emergency sections, the audit showing it."""
        resident, doctor, erdoc = self.client("resident"), self.client("doctor"), self.client("erdoc")
        custodians = ("pc2", "insurer", "research")
        for name in custodians:
            self.client(name).consortium.publish_member_key()
            proposed = self.client("pc1").consortium.propose(ProposalAction.ADD_CUSTODIAN, self.addr(name))
            for voter in ("hospital", "pc2", "insurer", "research"):
                if (
                    self.deployer is not None
                    and self.deployer.consortium.proposal(proposed.proposal_id).executed
                ):
                    break
                self.client(voter).consortium.vote(proposed.proposal_id)
        settings = resident.emergency.settings()
        self.check(
            "pc1, hospital, pc2, insurer, research",
            "three members publish their keys and are voted emergency custodians; any 2 of them open an emergency",
            [c.institution for c in settings.custodians] == [self.addr(n) for n in custodians]
            and settings.threshold == 2
            and all(c.key_published for c in settings.custodians),
            f"custodians {', '.join(custodians)}; threshold {settings.threshold}; an emergency lasts at most "
            f"{settings.duration // 3600} h; {settings.physician_daily_limit} a day per physician",
        )
        signed = resident.emergency.sign_choice(EMERGENCY_CHOICE)
        balance = self.balance("resident")
        self.client("pc1").emergency.relay_choice(signed)
        self.check(
            "resident, pc1",
            "the resident narrows its emergency sections to diagnosis, prescriptions and allergies by signature "
            "(relayed: no gas)",
            resident.emergency.sections() == EMERGENCY_CHOICE and self.balance("resident") == balance,
            f"an emergency may open {', '.join(section_names(EMERGENCY_CHOICE))}; past history no longer",
        )
        e4 = doctor.records.submit(resident.address, parse_record(VISIT_4)).entry
        self.records["visit4"] = e4.record_id
        sealed = SealedEnvelope.from_bytes(self.store.get(e4.cid))
        block = sealed.emergency
        custodian_reads = self.sealed_for(e4.record_id) & set(custodians)
        self.check(
            "doctor",
            "a new visit splits the keys of its emergency sections 2-of-3 among the custodians, who cannot read it",
            block is not None
            and set(block.sections) == {"diagnosis", "prescriptions", "allergies"}
            and (block.threshold, block.custodians) == (2, 3)
            and not custodian_reads,
            f"record {e4.record_id.short()}: emergency block {block.threshold if block else '-'} of "
            f"{block.custodians if block else '-'} for {', '.join(block.sections) if block else '-'}; "
            "the custodians hold shares, not keys",
        )
        enrollment = erdoc.consortium.sign_enrollment(self.addr("hospital"))
        self.client("hospital").consortium.register_practitioner(enrollment)
        refused = self.refused(lambda: doctor.emergency.declare(resident.address), FamchainError)
        declared = erdoc.emergency.declare(resident.address, EmergencyReason.UNCONSCIOUS)
        eid = declared.emergency_id
        self.check(
            "erdoc",
            "an emergency physician of the hospital declares an emergency for the unconscious resident; the "
            "primary-care doctor cannot",
            declared.emergency.card_length == 5 and "not a hospital" in refused,
            f"emergency {eid}: covers the {declared.emergency.card_length} records anchored before it, for "
            f"{(declared.emergency.expires_at - declared.emergency.declared_at) // 3600} h; {refused}",
        )
        later = doctor.records.submit(resident.address, parse_record(VISIT_3)).entry
        self.client("pc2").emergency.approve(eid)
        below = self.refused(lambda: erdoc.emergency.read(eid), FamchainError)
        bundles = [
            KeyBundle.from_bytes(self.store.get(a.bundle)) for a in resident.emergency.info(eid).approvals
        ]
        direct = self.refused(
            lambda: open_with_shares(
                sealed,
                bytes(self.keys["erdoc"].key),
                self._context(e4.record_id),
                bundles,
            ),
            InsufficientSharesError,
        )
        self.check(
            "pc2, erdoc",
            "one custodian releases its shares: below the threshold the physician opens nothing",
            "1 of the 2 custodian approvals" in below and bool(direct),
            f"{below}; with the one bundle alone: {direct}",
        )
        self.client("insurer").emergency.approve(eid)
        read = erdoc.emergency.read(eid)
        opened = {r.record_id: set(r.sections) for r in read.results if r.sections}
        self.check(
            "insurer, erdoc",
            "a second custodian releases its shares: the physician opens exactly the emergency sections of the "
            "records anchored before the declaration, nothing after",
            opened == {e4.record_id: {"diagnosis", "prescriptions", "allergies"}}
            and later.record_id not in {r.record_id for r in read.results},
            f"record {e4.record_id.short()}: {', '.join(sorted(opened.get(e4.record_id, ())))}; earlier visits "
            f"were sealed before there were custodians; record {later.record_id.short()} (after) stays closed",
        )
        accesses = resident.audit.emergencies(resident.address)
        resident.emergency.review(eid, contested=False)
        disclosed = {
            (d.section, d.recipient)
            for d in resident.audit.disclosures(resident.address)
            if d.kind.value == "emergency"
        }
        first = accesses[0].emergency if accesses else None
        self.check(
            "resident",
            "the resident's audit shows the emergency first (who, where, why, what was opened) and its accounting "
            "of disclosures names the physician; the resident accepts it on chain",
            first is not None
            and first.physician == erdoc.address
            and first.institution == self.addr("hospital")
            and disclosed == {(n, erdoc.address) for n in ("diagnosis", "prescriptions", "allergies")}
            and resident.emergency.info(eid).review is Review.ACCEPTED,
            f"emergency {eid} by {erdoc.address} of the hospital, {first.reason_text if first else '?'}, opened "
            f"{', '.join(sorted(n for n, _ in disclosed))}; reviewed: accepted",
        )

    def _context(self, record_id: RecordId) -> EnvelopeContext:
        resident = self.client("resident")
        anchor = resident.records.find(record_id)
        return EnvelopeContext(
            anchor.salt,
            Address(anchor.patient),
            Address(anchor.author),
            resident.chain_id,
            Address(resident.chain.records.address),
        )

    def audit(self) -> None:
        """The resident's whole history from chain events alone, verified against the card head."""
        resident = self.client("resident")
        card = resident.records.card(resident.address)
        events = resident.audit.events(resident.address)
        names = [e.name for e in events]
        wanted = {
            "EmergencyDeclared",
            "EmergencyOpened",
            "ResidentRegistered",
            "AgreementAccepted",
            "ConsentGranted",
            "ConsentRevoked",
            "RecordAnchored",
            "KeysReleased",
        }
        lines = [f"block {e.block}: {e.name}" for e in events]
        self.check(
            "resident, regulator",
            "the audit trail lists registration, agreement, grants, records, the update, key releases, revocation "
            "and the emergency",
            wanted <= set(names) and len(card) == 6,
            f"{len(events)} events, card of {len(card)} records verified against the on-chain head:\n    "
            + "\n    ".join(lines),
        )


@contextmanager
def fresh_devnet(anvil: str) -> Iterator[tuple[str, str, Path]]:
    """A devnet in a temporary folder, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="famchain-demo-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet", anvil=anvil)
        info = devnet.up()
        try:
            yield info.rpc_url, info.ipfs_url, Path(tmp) / "home"
        finally:
            devnet.down()


def run_demo(
    report: Callable[[Step], None],
    rpc_url: str | None = None,
    ipfs_url: str | None = None,
    *,
    anvil: str | None = None,
) -> list[Step]:
    """Run the scenario on the given endpoints, or on a fresh devnet started with ``anvil``.

    Raises:
        DemoFailed: a step did not behave as stated.
        ConfigError: neither endpoints nor an anvil binary were given.
    """
    if rpc_url and ipfs_url:
        with tempfile.TemporaryDirectory(prefix="famchain-demo-home-") as home:
            return Demo(rpc_url, ipfs_url, Path(home), report).run()
    if anvil is None:
        from famchain.errors import ConfigError

        raise ConfigError(_("the demo needs --rpc-url and --ipfs-url, or an anvil binary for a fresh devnet"))
    with fresh_devnet(anvil) as (rpc, ipfs, home):
        return Demo(rpc, ipfs, home, report).run()
