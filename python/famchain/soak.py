"""Soak: many patients, records, grants and revocations on a devnet, then a check that nothing was lost and that
every record opens for exactly the parties entitled to it when it was sealed.

``python -m famchain.soak --patients 1000 --records 10000 --grant-changes 2000`` is the full run (minutes);
the test suite runs a small one. The script prints the counts it checked and the records lost (must be 0) and
exits non-zero on any loss or any wrong decryption.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from famchain.chain.history import AnchoredRecord
from famchain.chain.structs import InstitutionKind
from famchain.client import Client
from famchain.crypto import envelope as env
from famchain.crypto.envelope import SealedEnvelope, Withheld
from famchain.devnet import Devnet, dev_account
from famchain.errors import NotARecipientError
from famchain.records.model import parse_record
from famchain.records.sections import ALL_SECTIONS, Action, Purpose, section_names
from famchain.storage.api import ContentStore
from famchain.storage.kubo import KuboStore
from famchain.types import Address, RecordId

RECORD = parse_record(
    {
        "sections": {
            "present_illness": "Soak record.",
            "diagnosis": [{"text": "Soak diagnosis"}],
            "prescriptions": [{"drug": "Soak drug", "days": 1}],
            "examinations": [{"name": "Soak exam", "value": "1"}],
        }
    }
)
RECORD_SECTIONS = set(RECORD.names)


@dataclass
class SoakReport:
    """What the soak did and what it verified."""

    patients: int = 0
    records_sealed: int = 0
    records_anchored: int = 0
    records_lost: int = 0
    duplicates: int = 0
    grants: int = 0
    revocations: int = 0
    decryption_checks: int = 0
    wrong_decryptions: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No loss, no duplicate, no wrong decryption."""
        return not (self.records_lost or self.duplicates or self.wrong_decryptions)


class Soak:
    """One soak run against a chain and a store, entirely through :class:`famchain.Client`."""

    def __init__(self, rpc_url: str, store: ContentStore, home: Path, seed: int = 7) -> None:
        self.rpc_url = rpc_url
        self.store = store
        self.home = home
        self.rng = random.Random(seed)  # noqa: S311 - reproducible workload, not cryptography
        self.report = SoakReport()

    def _client(self, account: LocalAccount) -> Client:
        return self.funder.with_account(account, fee_cache_seconds=2)

    def setup(self, patients: int, doctors: int, grantees: int) -> None:
        """A consortium, doctors, grantees and registered patients each with a family doctor."""
        admins = [Account.create() for _ in range(3)]
        self.doctor_keys = [Account.create() for _ in range(doctors)]
        self.grantee_keys = [Account.create() for _ in range(grantees)]
        self.patient_keys = [Account.create() for _ in range(patients)]
        self.stranger = Account.create()
        founders = [
            (admins[0].address, InstitutionKind.PRIMARY_CARE),
            (admins[1].address, InstitutionKind.HOSPITAL),
            (admins[2].address, InstitutionKind.INSURER),
        ]
        deployer = Client.deploy(self.rpc_url, dev_account(), founders, store=self.store, home=self.home)
        self.funder = deployer.with_account(dev_account(), fee_cache_seconds=2, receipt_timeout=60)
        for account in admins + self.doctor_keys + self.grantee_keys + self.patient_keys:
            self.funder.transfer(account.address, 10**19)
        pc, hospital = self._client(admins[0]), self._client(admins[1])
        self.doctors = [self._client(d) for d in self.doctor_keys]
        self.grantees = [self._client(g) for g in self.grantee_keys]
        # Each practitioner signs its own enrollment naming its institution; the institution submits it.
        for institution, practitioners in ((pc, self.doctors), (hospital, self.grantees)):
            for practitioner in practitioners:
                institution.consortium.register_practitioner(
                    practitioner.consortium.sign_enrollment(institution.address)
                )
        self.patients = [self._client(p) for p in self.patient_keys]
        self.by_address: dict[str, Client] = {p.address: p for p in self.patients}
        self.family: dict[str, Client] = {}
        for n, patient in enumerate(self.patients):
            patient.residents.register({"name": f"soak patient {n}"})
            doctor = self.doctors[n % len(self.doctors)]
            # The resident signs the acceptance; the doctor sends it (the resident pays no gas for it).
            signed = patient.agreements.sign_acceptance(
                doctor.address, ALL_SECTIONS, Action.READ | Action.APPEND, 365 * 86400
            )
            doctor.agreements.accept_signed(signed)
            self.family[patient.address] = doctor
        self.report.patients = patients

    def run(self, records: int, grant_changes: int) -> None:
        """Interleave grants/revocations with sealed records; then flush every doctor's outbox."""
        grants: dict[str, dict[str, int]] = defaultdict(dict)  # patient -> grantee -> sections
        self.expected: dict[RecordId, dict[str, set[str]]] = {}
        self.sealed: dict[RecordId, tuple[str, str]] = {}
        changes_per_record = grant_changes / max(records, 1)
        budget = 0.0
        expires = self.funder.now() + 365 * 86400
        for _ in range(records):
            budget += changes_per_record
            while budget >= 1:
                budget -= 1
                granted = [(p, g) for p, by in grants.items() for g in by]
                if granted and self.rng.random() < 0.4:  # revoke a consent in force
                    patient_address, grantee_address = self.rng.choice(granted)
                    self.by_address[patient_address].consents.revoke(grantee_address)
                    del grants[patient_address][grantee_address]
                    self.report.revocations += 1
                else:
                    patient = self.rng.choice(self.patients)
                    grantee = self.rng.choice(self.grantees)
                    sections = self.rng.choice([ALL_SECTIONS, 0x08 | 0x10, 0x01, 0x20 | 0x08])
                    patient.consents.grant(
                        grantee.address, sections, purpose=Purpose.REFERRAL, expires_at=expires
                    )
                    grants[patient.address][grantee.address] = sections
                    self.report.grants += 1
            patient = self.rng.choice(self.patients)
            doctor = self.family[patient.address]
            entry = doctor.records.seal(patient.address, RECORD, check=False)
            who: dict[str, set[str]] = {patient.address: RECORD_SECTIONS, doctor.address: RECORD_SECTIONS}
            for grantee_address, sections in grants[patient.address].items():
                visible = RECORD_SECTIONS & set(section_names(sections))
                if visible:
                    who[grantee_address] = visible
            self.expected[entry.record_id] = who
            self.sealed[entry.record_id] = (patient.address, entry.cid)
            self.report.records_sealed += 1
        for doctor in self.doctors:
            doctor.records.flush()

    def verify(self) -> None:
        """Every sealed record on its patient's card exactly once, stored, and opening (from its envelope alone)
        for exactly who it should: the patient, the author, and the grantees in force when it was sealed."""
        seen: dict[RecordId, int] = defaultdict(int)
        anchors: dict[RecordId, AnchoredRecord] = {}
        for patient in self.patients:
            for record in self.funder.records.card(patient.address):
                seen[record.record_id] += 1
                anchors.setdefault(record.record_id, record)
        self.report.records_anchored = sum(1 for r in self.sealed if seen.get(r))
        self.report.records_lost = sum(1 for r in self.sealed if not seen.get(r))
        self.report.duplicates = sum(n - 1 for n in seen.values() if n > 1)
        readers: dict[str, Client] = {c.address: c for c in [*self.patients, *self.doctors, *self.grantees]}
        stranger = self.stranger.address
        chain = self.funder.chain
        # The envelope names nobody: every practitioner is tried, with the expected parties, a few other
        # patients and a stranger.
        practitioners = {c.address for c in [*self.doctors, *self.grantees]}
        patients = [p.address for p in self.patients]
        for record_id, (patient_address, cid) in self.sealed.items():
            anchor = anchors.get(record_id)
            if anchor is None:
                continue  # counted as lost above
            try:
                sealed = SealedEnvelope.from_bytes(self.store.get(cid))
            except Exception as exc:
                self.report.records_lost += 1
                self.report.problems.append(f"record {record_id}: {exc}")
                continue
            expected = self.expected[record_id]
            others = set(self.rng.sample(patients, min(3, len(patients))))
            candidates = set(expected) | practitioners | others | {stranger}
            context = env.EnvelopeContext(
                anchor.salt,
                Address(patient_address),
                Address(anchor.author),
                chain.chain_id,
                Address(chain.records.address),
            )
            for address in sorted(candidates):
                key = bytes(self.stranger.key) if address == stranger else readers[address].account_key()
                try:
                    opened = env.open_all(sealed, key, context)
                    got = {n for n, v in opened.items() if not isinstance(v, Withheld)}
                except NotARecipientError:
                    got = set()
                self.report.decryption_checks += 1
                if got != expected.get(address, set()):
                    self.report.wrong_decryptions += 1
                    self.report.problems.append(f"record {record_id}: {address} opens {sorted(got)}")


def run_soak(
    rpc_url: str,
    store: ContentStore,
    home: Path,
    *,
    patients: int,
    records: int,
    grant_changes: int,
    seed: int = 7,
) -> SoakReport:
    """Set up, run and verify one soak; return the report."""
    started = time.monotonic()
    soak = Soak(rpc_url, store, home, seed)
    soak.setup(patients, doctors=max(1, patients // 50), grantees=max(2, patients // 25))
    soak.run(records, grant_changes)
    soak.verify()
    soak.report.seconds = round(time.monotonic() - started, 1)
    return soak.report


def main(argv: list[str] | None = None) -> int:
    """Command line: run on a fresh devnet and print the report."""
    parser = argparse.ArgumentParser(prog="python -m famchain.soak", description=__doc__)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--grant-changes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from famchain.settings import Settings

    anvil = Settings.from_env().anvil_binary()
    with tempfile.TemporaryDirectory(prefix="famchain-soak-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet", anvil=anvil)
        info = devnet.up()
        try:
            report = run_soak(
                info.rpc_url,
                KuboStore(info.ipfs_url),
                Path(tmp) / "home",
                patients=args.patients,
                records=args.records,
                grant_changes=args.grant_changes,
                seed=args.seed,
            )
        finally:
            devnet.down()
    data = {**asdict(report), "problems": report.problems[:20], "ok": report.ok}
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        for key, value in data.items():
            if key != "problems":
                sys.stdout.write(f"{key:18} {value}\n")
        for problem in report.problems[:20]:
            sys.stdout.write(f"problem: {problem}\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
