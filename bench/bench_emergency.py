"""Emergency access benchmark: what the emergency block adds to sealing, and what a declaration, each custodian's
approval and the physician's opening cost, on a devnet, through the client users run.

Run: ``.venv/bin/python bench/bench_emergency.py [--records N] [--runs N] [--rpc-url URL --ipfs-url URL]``
(without URLs it starts a throwaway devnet). Prints figures (medians, the two sides of each ratio run alternately) with ratios to a baseline measured in the
same run; asserts nothing about timing.

- Sealing: ``client.records.seal`` of the same visit for a patient who opted out (the baseline) and for one whose
  choice is in force with three custodians, threshold 2; the stored envelope sizes; the JSON-RPC calls of the
  first seal in a new block (the entitlements view, which now also reads the emergency choice, the custodians,
  the threshold and, once, their member keys); the anchor's gas for both records (the chain holds the same
  digest either way).
- Emergency: ``declare``, each custodian's ``approve`` (open its shares of the card's records, re-wrap them in
  one bundle, store, send) for a card of ``--records`` records, and the physician's ``read``; baselines: the
  patient's consent grant that re-wraps the keys of the same card for a grantee (run after each approval), and
  the patient's own ``read_card`` (alternating with the physician's read).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from famchain import Client, InstitutionKind, ProposalAction, parse_record
from famchain.chain.rpc import connect, rpc_calls
from famchain.crypto.envelope import EmergencyShares, EnvelopeContext, Recipient, seal
from famchain.crypto.keywrap import public_key_from_private
from famchain.devnet import Devnet, dev_account
from famchain.records.anchoring import Strategy
from famchain.records.emergency import EmergencyReason
from famchain.records.sections import ALL_SECTIONS, Action
from famchain.storage.kubo import KuboStore
from famchain.types import Address

ROOT = Path(__file__).resolve().parents[1]
VISIT = {
    "sections": {
        "present_illness": "Chest pain radiating to the left arm for two hours, sweating.",
        "past_history": "Myocardial infarction in 2019 with a stent in the LAD; type 2 diabetes since 2010.",
        "family_history": "Father died of a myocardial infarction at 58.",
        "diagnosis": [{"text": "Unstable angina", "code": "I20.0", "system": "ICD-10"}],
        "prescriptions": [
            {"drug": "Clopidogrel 75 mg", "frequency": "once daily", "days": 90},
            {"drug": "Atorvastatin 40 mg", "frequency": "at night", "days": 90},
        ],
        "examinations": [{"name": "Troponin I", "value": "0.02", "unit": "ng/mL"}],
        "allergies": [{"substance": "Penicillin", "reaction": "anaphylaxis"}],
    }
}
DAY = 86_400


def paired_median_ms(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Median wall times of two functions run alternately (so load on a shared machine affects both alike)."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        for fn, times in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(a), statistics.median(b)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and its wall time in seconds."""
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


class World:
    """Four founders (three of them custodians, threshold 2), a family doctor, an emergency physician, a
    specialist (the baseline's grantee), and two patients: one opted out, one opted in."""

    def __init__(self, rpc_url: str, ipfs_url: str, home: Path) -> None:
        self.w3 = connect(rpc_url, timeout=60.0)
        names = (
            "pc",
            "hospital",
            "insurer",
            "research",
            "doctor",
            "erdoc",
            "specialist",
            "optout",
            "patient",
        )
        self.accounts = {n: Account.create() for n in names}
        founders = [
            (self.accounts["pc"].address, InstitutionKind.PRIMARY_CARE),
            (self.accounts["hospital"].address, InstitutionKind.HOSPITAL),
            (self.accounts["insurer"].address, InstitutionKind.INSURER),
            (self.accounts["research"].address, InstitutionKind.RESEARCH),
        ]
        deployer = Client.deploy(self.w3, dev_account(), founders, store=KuboStore(ipfs_url), home=home)
        self.clients = {n: deployer.with_account(a, poll_interval=0.002) for n, a in self.accounts.items()}
        for account in self.accounts.values():
            deployer.transfer(account.address, 10**20)
        for institution, person in (("pc", "doctor"), ("hospital", "erdoc"), ("hospital", "specialist")):
            enrollment = self[person].consortium.sign_enrollment(self[institution].address)
            self[institution].consortium.register_practitioner(enrollment)
        self.custodians = [self["pc"], self["insurer"], self["research"]]
        for custodian in self.custodians:
            custodian.consortium.publish_member_key()
            proposal = self["hospital"].consortium.propose(ProposalAction.ADD_CUSTODIAN, custodian.address)
            for voter in ("pc", "insurer", "research"):
                if not deployer.consortium.proposal(proposal.proposal_id).executed:
                    self[voter].consortium.vote(proposal.proposal_id)
        for name in ("optout", "patient"):
            self[name].residents.register({"name": f"resident {name}"})
            self["doctor"].agreements.propose(
                self[name].address, ALL_SECTIONS, Action.READ | Action.APPEND, 365 * DAY
            )
            self[name].agreements.accept(self["doctor"].address, share=False)
        self["optout"].emergency.opt_out()
        self["patient"].emergency.opt_in(ALL_SECTIONS)

    def __getitem__(self, name: str) -> Client:
        return self.clients[name]


def sealing(world: World, runs: int) -> dict[str, Any]:
    """Seal time and size with and without the emergency block; RPC calls of a cold view; anchor gas."""
    doctor = world["doctor"]
    content = parse_record(VISIT)
    out: dict[str, Any] = {}
    for name in ("optout", "patient"):
        patient = world[name].address
        doctor.records.seal(patient, content)  # warm: the member keys are cached once per process
        world.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        before = rpc_calls(world.w3)
        doctor.records.seal(patient, content)
        out[name] = {"cold_view_rpc_calls": rpc_calls(world.w3) - before}
    plain, shared = paired_median_ms(
        functools.partial(doctor.records.seal, world["optout"].address, content),
        functools.partial(doctor.records.seal, world["patient"].address, content),
        runs,
    )
    out["optout"]["seal_ms"], out["patient"]["seal_ms"] = plain, shared
    doctor.records.flush()
    for name in ("optout", "patient"):
        submitted = doctor.records.submit(world[name].address, content, strategy=Strategy.SINGLE)
        out[name]["bytes"] = len(doctor.store.get(submitted.entry.cid)) if doctor.store is not None else 0
        receipt = world.w3.eth.get_transaction_receipt(submitted.entry.tx_hash)  # type: ignore[arg-type]
        out[name]["anchor_gas"] = int(receipt["gasUsed"])
    out["crypto"] = crypto_seal(runs * 5)
    return out


def crypto_seal(runs: int) -> dict[str, float]:
    """The envelope's ``seal`` alone (no outbox, no chain), 4 recipients, with and without a 2-of-3 block."""
    content = parse_record(VISIT).plaintexts()
    keys = [public_key_from_private(bytes(Account.create().key)) for _ in range(7)]
    recipients = [Recipient(k) for k in keys[:4]]
    patient, author, registry = (Address(Account.create().address) for _ in range(3))
    context = EnvelopeContext(b"\x01" * 32, patient, author, 31337, registry)
    shares = EmergencyShares(keys[4:], 2, frozenset(content))
    plain, with_block = paired_median_ms(
        lambda: seal(content, recipients, context),
        lambda: seal(content, recipients, context, emergency=shares),
        runs,
    )
    return {"plain_ms": plain, "emergency_ms": with_block}


def emergency(world: World, records: int) -> dict[str, Any]:
    """A card of ``records`` records; declare, three approvals, the physician's read; the baselines."""
    doctor, patient, erdoc = world["doctor"], world["patient"], world["erdoc"]
    content = parse_record(VISIT)
    have = len(patient.records.card(patient.address))
    for _ in range(max(0, records - have)):
        doctor.records.seal(patient.address, content)
    doctor.records.flush()
    card = len(patient.records.card(patient.address))
    declared, declare_s = timed(lambda: erdoc.emergency.declare(patient.address, EmergencyReason.UNCONSCIOUS))
    specialist = world["specialist"].address
    approvals, grants = [], []
    for custodian in world.custodians:  # each approval alternates with the baseline, a grant of the same card
        released, seconds = timed(functools.partial(custodian.emergency.approve, declared.emergency_id))
        approvals.append({"gas": released.tx.gas_used, "seconds": seconds, "records": released.records})
        granted, grant_s = timed(
            lambda: patient.consents.grant(specialist, ALL_SECTIONS, expires_at=patient.now() + DAY)
        )
        grants.append({"gas": granted.tx.gas_used, "seconds": grant_s})
    read_ms, own_ms = paired_median_ms(
        functools.partial(erdoc.emergency.read, declared.emergency_id),
        functools.partial(patient.records.read_card, patient.address),
        5,
    )
    read = erdoc.emergency.read(declared.emergency_id)
    return {
        "card": card,
        "declare_gas": declared.tx.gas_used,
        "declare_s": declare_s,
        "approvals": approvals,
        "approve_s": statistics.median(a["seconds"] for a in approvals),
        "read_s": read_ms / 1000,
        "opened_records": sum(1 for r in read.results if r.sections),
        "grant_gas": grants[0]["gas"],
        "grant_s": statistics.median(g["seconds"] for g in grants),
        "own_read_s": own_ms / 1000,
        "own_read_records": card,
    }


def report(seal: dict[str, Any], em: dict[str, Any], runs: int) -> str:
    """The figures as text."""
    base, shared, crypto = seal["optout"], seal["patient"], seal["crypto"]
    lines = [
        f"envelope seal alone (crypto, 4 recipients, 7 sections, median of {runs * 5}): {crypto['plain_ms']:.2f} ms; "
        f"with a 2-of-3 block {crypto['emergency_ms']:.2f} ms = x{crypto['emergency_ms'] / crypto['plain_ms']:.2f}",
        f"sealing one 7-section visit (client.records.seal: view, seal, outbox with fsyncs; median of {runs}):",
        f"  opted out (baseline)            {base['seal_ms']:7.2f} ms  {base['bytes']:6d} bytes",
        f"  2-of-3 custodians, 7 sections   {shared['seal_ms']:7.2f} ms  {shared['bytes']:6d} bytes"
        f"  = x{shared['seal_ms'] / base['seal_ms']:.2f} time, +{shared['bytes'] - base['bytes']} bytes",
        f"  JSON-RPC calls of the first seal in a new block: {base['cold_view_rpc_calls']} -> "
        f"{shared['cold_view_rpc_calls']} (the opted-out view reads the choice too; member keys are cached)",
        f"  anchor gas (one record, whole tx): {base['anchor_gas']:,} -> {shared['anchor_gas']:,}",
        f"emergency on a card of {em['card']} records (all 7 sections, every one an emergency section):",
        f"  declare                         {em['declare_gas']:7,} gas  {em['declare_s']:6.3f} s",
    ]
    for n, a in enumerate(em["approvals"], 1):
        lines.append(
            f"  approve, custodian {n}            {a['gas']:7,} gas  {a['seconds']:6.3f} s  ({a['records']} records)"
        )
    grant = em["grant_s"]
    lines += [
        f"  baseline: the patient's consent grant re-wrapping the same card  {em['grant_gas']:7,} gas  "
        f"{grant:6.3f} s (median of 3, alternating with the approvals); custodian approve (median) = "
        f"x{em['approve_s'] / grant:.2f}",
        f"  physician's read ({em['opened_records']} records opened)   {em['read_s']:6.3f} s; the patient's own "
        f"read_card of {em['own_read_records']}: {em['own_read_s']:.3f} s = x{em['read_s'] / em['own_read_s']:.2f} "
        "(medians of 5, alternating)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100, help="records on the emergency patient's card")
    parser.add_argument("--runs", type=int, default=30, help="seals per median")
    parser.add_argument("--rpc-url", help="an existing devnet (else a throwaway one)")
    parser.add_argument("--ipfs-url", help="its store")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="famchain-bench-emergency-") as tmp:
        if args.rpc_url and args.ipfs_url:
            world = World(args.rpc_url, args.ipfs_url, Path(tmp) / "home")
            seal, em = sealing(world, args.runs), emergency(world, args.records)
        else:
            devnet = Devnet(Path(tmp) / "devnet", anvil=str(ROOT / "node_modules" / ".bin" / "anvil"))
            info = devnet.up()
            try:
                world = World(info.rpc_url, info.ipfs_url, Path(tmp) / "home")
                seal, em = sealing(world, args.runs), emergency(world, args.records)
            finally:
                devnet.down()
    print(report(seal, em, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
