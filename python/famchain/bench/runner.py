"""`famchain bench`: gas, throughput, read and scale figures from one run on a fresh devnet.

Everything is measured in one process against one anvil + embedded store, so the figures can be compared with
each other: famchain's gas against the naive baseline contract (``bench/baseline/NaiveHealthRecords.sol``),
the end-to-end submit rate against the rate at which the same :class:`~famchain.chain.tx.TransactionSender`
gets plain value transfers mined.

Nothing here prints or asserts timing: :func:`run` returns a :class:`BenchResult` whose ``figures`` carry the
stable keys of ``famchain bench --json`` and whose ``details`` carry what the table shows besides.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint, TxParams, TxReceipt, Wei

from famchain.chain.baseline import NaiveBaseline
from famchain.chain.contracts import RecordContract
from famchain.chain.deployment import Deployment
from famchain.chain.nonces import NonceDomain, keyed_nonce, nonce_key
from famchain.chain.rpc import connect, rpc_calls
from famchain.chain.structs import CODEC_RAW, Anchor, InstitutionKind
from famchain.chain.tx import Call, SignedTx, TransactionSender
from famchain.client import Client
from famchain.crypto import typed_data
from famchain.crypto.keywrap import address_from_public_key, public_key_from_private
from famchain.devnet import Devnet, dev_account
from famchain.errors import ChainError
from famchain.records.anchoring import Strategy
from famchain.records.model import RecordContent, parse_record
from famchain.records.sections import ALL_SECTIONS, Action, Purpose
from famchain.records.sharing import consent_document
from famchain.records.terms import default_terms
from famchain.storage.cid import cid_from_digest
from famchain.storage.kubo import KuboStore
from famchain.types import RecordId

OPS = (
    "register",
    "agreement",
    "grant_relayed",
    "revoke",
    "anchor",
    "anchor_batch_per_record",
    "key_release",
    "is_authorized",
)
"""Operation names of ``gas`` and ``baseline_gas``, in table order."""

TARGETS = {
    "anchor": 60_000,
    "anchor_batch_per_record": 10_000,
    "grant_relayed": 100_000,
    "is_authorized": 12_000,
}
"""Gas ceilings of issue #10 (``is_authorized``: execution gas for a grantee): the same as ``GasTest``'s."""

BATCH = 50
"""Anchors per ``anchorBatch`` in the gas table (issue #10's figure and forge's ``anchor_batch50``)."""
DAY = 86_400
INTRINSIC_GAS = 21_000
BOTH = Action.READ | Action.APPEND

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    transfers: int
    """Plain value transfers for the devnet's own rate."""
    submit_single: int
    """Records submitted one per transaction (this card is also read)."""
    submit_batched: int
    """Records submitted through batched flushes (this card is also read)."""
    history: int
    """Anchors on one card before the scale measurement."""
    grants: int
    """Grants in the consent registry before the scale measurement."""


FULL = Sizes(transfers=2_000, submit_single=100, submit_batched=1_000, history=10_000, grants=10_000)
QUICK = Sizes(transfers=200, submit_single=20, submit_batched=100, history=500, grants=100)


@dataclass
class BenchResult:
    """``figures``: the stable ``--json`` document; ``details``: counts, ratios and notes for the table."""

    figures: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


# --- helpers -------------------------------------------------------------------------------------------


def calldata_gas(data: bytes) -> int:
    """EIP-2028 calldata cost: 4 gas per zero byte, 16 per non-zero byte."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def view_execution_gas(w3: Web3, to: str, data: bytes) -> int:
    """Execution gas of a view call: ``estimateGas`` minus the 21,000 intrinsic and the calldata cost.

    The estimate is the smallest gas limit under which the call succeeds, so for a view that calls other
    contracts it includes the 1/64 that EIP-150 keeps back at each call.
    """
    estimate = int(w3.eth.estimate_gas(TxParams(to=to, data=data)))
    return estimate - INTRINSIC_GAS - calldata_gas(data)


def transfer(to: str, wei: int) -> TxParams:
    """A plain value transfer."""
    return TxParams(to=to_checksum_address(to), value=Wei(wei))


def gas_used(receipt: TxReceipt) -> int:
    """Gas charged for a mined transaction (after refunds)."""
    return int(receipt["gasUsed"])


def pipelined(
    sender: TransactionSender, calls: Iterable[tuple[Call, int]], window: int = 500
) -> list[TxReceipt]:
    """Sign every ``(call, gas)`` first, broadcast them all, then wait: no estimate, no wait in between.

    An explicit gas limit lets calls that depend on earlier ones in the same pipeline (a chained card
    head) be signed before those are mined.
    """
    pending = list(calls)
    receipts: list[TxReceipt] = []
    # In windows, so that the node's pool never holds more than ``window`` of our transactions.
    for start in range(0, len(pending), window):
        signed: list[SignedTx] = [sender.sign(call, gas=gas) for call, gas in pending[start : start + window]]
        for tx in signed:
            sender.broadcast(tx)
        receipts.extend(sender.wait(tx) for tx in signed)
    return receipts


def random_anchor(sections: int = ALL_SECTIONS) -> Anchor:
    """A new-visit anchor with a random salt and CID digest (gas does not depend on the bytes)."""
    return Anchor(
        salt=os.urandom(32),
        previous=RecordId.zero(),
        cidDigest=os.urandom(32),
        sections=sections,
        cidCodec=CODEC_RAW,
    )


def anchor_now(sender: TransactionSender, records: RecordContract, patient: str, call: Any) -> TxReceipt:
    """Send one anchor call built on the card's head now (read from the chain, never predicted: the leaf holds
    the anchoring block's time)."""
    return sender.transact(call(records.card(patient).head))


def cid_string(digest: bytes) -> str:
    """A CIDv1 (raw, sha2-256) as the baseline stores it: a 59-character base32 string."""
    return str(cid_from_digest(digest, CODEC_RAW))


SAMPLE_VISIT = {
    "sections": {
        "present_illness": "Cough and low fever for three days; no shortness of breath.",
        "past_history": "Hypertension since 2015, on amlodipine 5 mg once daily.",
        "diagnosis": [{"text": "Acute upper respiratory infection", "code": "J06.9", "system": "ICD-10"}],
        "prescriptions": [{"drug": "Paracetamol 500 mg", "frequency": "every 6 h if fever", "days": 3}],
        "examinations": [{"name": "Body temperature", "value": "37.9", "unit": "°C"}],
    }
}
"""A typical visit: five sections, about a kilobyte sealed."""


def sample_record(n: int) -> RecordContent:
    """A distinct visit record (the visit number makes every envelope different)."""
    doc = {"sections": {**SAMPLE_VISIT["sections"], "present_illness": f"Visit {n}: cough, low fever."}}
    return parse_record(doc)


# --- the world -----------------------------------------------------------------------------------------


class World:
    """A deployment with two founders, a family doctor, a hospital specialist and registered patients, each
    party a :class:`famchain.Client`."""

    def __init__(self, rpc_url: str, ipfs_url: str, home: Path, store_root: Path | None = None) -> None:
        self.rpc_url = rpc_url
        self.w3 = connect(rpc_url, timeout=60.0)
        self.store = KuboStore(ipfs_url)
        self.store_root = store_root
        """The devnet store's folder: a gated gateway serves it for the gated card read."""
        self.home = home
        names = (
            "pc",
            "hospital",
            "doctor",
            "specialist",
            "patient",
            *VISIT_PATIENTS,
            "card_patient",
            "scale_patient",
        )
        self.accounts: dict[str, LocalAccount] = {n: Account.create() for n in names}
        self.deployer: Client | None = None
        self.clients: dict[str, Client] = {}

    @property
    def funder(self) -> TransactionSender:
        """The dev account's sender (funding; the baseline's deployment)."""
        return self.client_of(dev_account()).sender

    def client_of(self, account: LocalAccount) -> Client:
        """A client that reuses the base fee for a second: the benchmark signs many transactions back to back."""
        assert self.deployer is not None
        return self.deployer.with_account(account, fee_cache_seconds=1.0, poll_interval=0.002)

    def client(self, name: str) -> Client:
        """The named party."""
        if name not in self.clients:
            self.clients[name] = self.client_of(self.accounts[name])
        return self.clients[name]

    def address(self, name: str) -> str:
        """Address of a named party."""
        return str(self.accounts[name].address)

    def fund(self, addresses: Iterable[str], wei: int = 10**21) -> None:
        """Fund accounts with pipelined transfers."""
        pipelined(self.funder, [(transfer(a, wei), 21_000) for a in addresses])

    def build(self) -> Client:
        """Deploy, fund everyone, register the practitioners."""
        founders = [
            (self.address("pc"), InstitutionKind.PRIMARY_CARE),
            (self.address("hospital"), InstitutionKind.HOSPITAL),
        ]
        self.deployer = Client.deploy(self.w3, dev_account(), founders, store=self.store, home=self.home)
        self.fund(self.address(n) for n in self.accounts)
        for institution, person in (("pc", "doctor"), ("hospital", "specialist")):
            enrollment = self.client(person).consortium.sign_enrollment(self.address(institution))
            self.client(institution).consortium.register_practitioner(enrollment)
        return self.deployer

    def register(self, name: str) -> int:
        """The resident registers their key and sealed basic information; returns the gas."""
        profile = {"name": f"resident {name}", "birth_date": "1961-04-12"}
        return self.client(name).residents.register(profile).tx.gas_used

    def agree(self, name: str) -> int:
        """The family doctor proposes a one-year agreement; the resident accepts; returns the gas of both."""
        resident, doctor = self.client(name), self.client("doctor")
        proposed = doctor.agreements.propose(resident.address, ALL_SECTIONS, BOTH, 365 * DAY)
        accepted = resident.agreements.accept(doctor.address, share=False)
        return proposed.gas_used + accepted.tx.gas_used

    def enrol(self, names: Iterable[str]) -> None:
        """New residents under ``names``: fresh funded accounts, registered, each in an agreement with the doctor."""
        names = list(names)
        for name in names:
            self.accounts[name] = Account.create()
        self.fund(self.address(n) for n in names)
        for name in names:
            self.register(name)
            self.agree(name)


# --- 1. famchain gas -----------------------------------------------------------------------------------


def famchain_gas(world: World) -> dict[str, int]:
    """Gas of each operation on famchain, for one patient with the family doctor and a specialist.

    Registration, agreement, relayed consent and revocation go through the client's services; the anchors
    and the key release are sent with random content through the contract layer (gas does not depend on
    the bytes, and these figures are the contracts', see ``submit`` below for the client's).
    """
    patient, doctor, hospital = world.client("patient"), world.client("doctor"), world.client("hospital")
    specialist = world.address("specialist")
    chain = patient.chain
    gas: dict[str, int] = {"register": world.register("patient"), "agreement": world.agree("patient")}

    records, who = chain.records, patient.address
    anchor_now(doctor.sender, records, who, lambda head: records.anchor(who, head, random_anchor()))
    # A card that already holds records is the common case; the first anchor is in ``scale``.
    gas["anchor"] = gas_used(
        anchor_now(doctor.sender, records, who, lambda head: records.anchor(who, head, random_anchor()))
    )
    batch = [random_anchor() for _ in range(BATCH)]
    receipt = anchor_now(doctor.sender, records, who, lambda head: records.anchor_batch(who, head, batch))
    gas["anchor_batch_per_record"] = gas_used(receipt) // BATCH

    expires = patient.now() + 30 * DAY
    terms = default_terms(
        grantee=specialist,
        institution=None,
        sections=ALL_SECTIONS,
        actions=Action.READ,
        purpose=Purpose.REFERRAL,
    )
    # A relayed consent that names its key bundle (the usual case: the card holds records).
    consent = typed_data.consent(
        patient=who,
        grantee=specialist,
        sections=ALL_SECTIONS,
        actions=Action.READ,
        expires_at=expires,
        terms=terms,
        bundle_digest=os.urandom(32),
        bundle_codec=CODEC_RAW,
        nonce=chain.consents.nonce(who, NonceDomain.CONSENT, specialist),
        deadline=expires,
        chain_id=chain.chain_id,
        verifying_contract=chain.consents.address,
    )
    signature = typed_data.sign_typed_data(patient.account_key(), consent)
    gas["grant_relayed"] = hospital.consents.relay(consent_document(consent, signature)).grant_tx.gas_used
    gas["key_release"] = gas_used(
        patient.sender.transact(
            records.release_keys(who, specialist, os.urandom(32), CODEC_RAW, ALL_SECTIONS)
        )
    )
    call = chain.consents.is_authorized_call(patient.address, specialist, ALL_SECTIONS, Action.READ)
    gas["is_authorized"] = view_execution_gas(world.w3, chain.consents.address, chain.consents.calldata(call))
    gas["revoke"] = patient.consents.revoke(specialist).gas_used
    return gas


def node_gas(rpc_url: str, ipfs_url: str, home: Path) -> dict[str, Any]:
    """famchain's gas per operation on any EVM node whose account 0 is the devnet funder (anvil, Hardhat's
    node): a fresh deployment, accounts funded with plain transfers, standard JSON-RPC only.

    Returns ``{"node": web3_clientVersion, "gas": {operation: gas}}`` (operations as in :data:`OPS`).
    """
    world = World(rpc_url, ipfs_url, home)
    world.build()
    return {"node": str(world.w3.client_version), "gas": famchain_gas(world)}


# --- 2. the naive baseline -----------------------------------------------------------------------------


def baseline_gas(world: World) -> dict[str, int]:
    """The same operations on the naive baseline contract, by the same accounts."""
    naive = NaiveBaseline.deploy(world.w3, world.funder)
    patient, doctor, hospital = world.client("patient"), world.client("doctor"), world.client("hospital")
    specialist = world.address("specialist")

    gas: dict[str, int] = {}
    key = public_key_from_private(patient.account_key())
    gas["register"] = gas_used(patient.sender.transact(naive.register(key, cid_string(os.urandom(32)))))
    requested = doctor.sender.transact(naive.request_doctor(patient.address))
    approved = patient.sender.transact(naive.approve_doctor(doctor.address))
    gas["agreement"] = gas_used(requested) + gas_used(approved)

    doctor.sender.transact(naive.add_record(patient.address, cid_string(os.urandom(32))))
    gas["anchor"] = gas_used(
        doctor.sender.transact(naive.add_record(patient.address, cid_string(os.urandom(32))))
    )
    # One transaction per record: a "batch" of 50 is 50 transactions.
    limit = gas["anchor"] * 2
    receipts = pipelined(
        doctor.sender,
        [(naive.add_record(patient.address, cid_string(os.urandom(32))), limit) for _ in range(BATCH)],
    )
    gas["anchor_batch_per_record"] = sum(gas_used(r) for r in receipts) // BATCH

    nonce = naive.nonces(patient.address)
    packed = b"".join(bytes.fromhex(a[2:]) for a in (naive.address, patient.address, specialist))
    message = keccak(packed + nonce.to_bytes(32, "big"))  # abi.encodePacked(this, patient, accessor, nonce)
    signature = Account.sign_message(encode_defunct(primitive=message), patient.account_key()).signature
    gas["grant_relayed"] = gas_used(
        hospital.sender.transact(naive.grant_access_with_sig(patient.address, specialist, bytes(signature)))
    )
    gas["key_release"] = gas_used(
        patient.sender.transact(naive.share_key(specialist, cid_string(os.urandom(32))))
    )
    call = naive.is_authorized_call(patient.address, specialist)
    gas["is_authorized"] = view_execution_gas(world.w3, naive.address, naive.calldata(call))
    gas["revoke"] = gas_used(patient.sender.transact(naive.revoke_access(specialist)))
    return gas


# --- 3. throughput ---------------------------------------------------------------------------------------


def transfer_rate(world: World, count: int, round_size: int | None = None) -> float:
    """Plain value transfers per second through TransactionSender: sign all, broadcast all, wait all (one request
    per transaction); with ``round_size``, in rounds of that many, each broadcast in one JSON-RPC batch and its
    receipts fetched in one, as the pipelined flush sends a round of anchors."""
    bench = Account.create()
    world.fund([bench.address], 10**22)
    sender = world.client_of(bench).sender
    sender.sign(transfer(bench.address, 0), gas=21_000)
    sender.resync()  # the warm-up signed a nonce it never sent
    targets = [Account.create().address for _ in range(count)]
    start = time.perf_counter()
    if round_size is None:
        pipelined(sender, [(transfer(t, 1), 21_000) for t in targets])
    else:
        for first in range(0, count, round_size):
            signed = [sender.sign(transfer(t, 1), gas=21_000) for t in targets[first : first + round_size]]
            sender.broadcast_all(signed)
            sender.fetch_receipts(signed)
            for tx in signed:
                sender.wait(tx)
    return count / (time.perf_counter() - start)


RAW_BATCH = 500
RAW_WAIT_SECONDS = 300
"""``eth_sendRawTransaction`` requests per JSON-RPC batch (one HTTP request) in :func:`raw_batch_rate`."""


def raw_batch_rate(world: World, count: int) -> float:
    """The node's own limit: plain transfers per second when ``count`` of them, signed beforehand, go out as
    JSON-RPC batches (:data:`RAW_BATCH` ``eth_sendRawTransaction`` per HTTP request, the next sent once the
    account's mined nonce shows the previous one mined), from the first request until the last is mined. Only
    standard methods; no client-side work is timed."""
    bench = Account.create()
    world.fund([bench.address], 10**22)
    base = int(world.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
    chain_id = int(world.w3.eth.chain_id)
    raws = []
    for nonce in range(count):
        tx = {
            "to": to_checksum_address(Account.create().address),
            "value": 1,
            "gas": INTRINSIC_GAS,
            "maxFeePerGas": 4 * base + 10**9,
            "maxPriorityFeePerGas": 10**9,
            "nonce": nonce,
            "chainId": chain_id,
            "type": 2,
        }
        raws.append("0x" + bytes(bench.sign_transaction(tx).raw_transaction).hex())
    url = str(getattr(world.w3.provider, "endpoint_uri", ""))
    params = [bench.address, "latest"]
    probe = {"jsonrpc": "2.0", "id": 0, "method": "eth_getTransactionCount", "params": params}
    with requests.Session() as session:
        start = time.perf_counter()
        deadline = start + RAW_WAIT_SECONDS
        for first in range(0, count, RAW_BATCH):
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": "eth_sendRawTransaction", "params": [raw]}
                for n, raw in enumerate(raws[first : first + RAW_BATCH], first)
            ]
            refused = [
                a["error"] for a in session.post(url, json=payload, timeout=120).json() if "error" in a
            ]
            if refused:
                raise ChainError(f"the node refused a pre-signed transfer: {refused[0]}")
            # One batch in the pool at a time, polled every 20 ms: thousands of queued transactions and a
            # tight polling loop made anvil grow past 20 GB on a loaded machine.
            last = min(first + RAW_BATCH, count)
            while (mined := int(session.post(url, json=probe, timeout=60).json()["result"], 16)) < last:
                if time.perf_counter() > deadline:
                    raise ChainError(
                        f"{mined} of {count} pre-signed transfers mined after {RAW_WAIT_SECONDS} s"
                    )
                time.sleep(0.02)
        return count / (time.perf_counter() - start)


VISIT_PATIENTS = tuple(f"visit_patient_{n}" for n in range(10))
"""The single-record submit goes to ten patients' cards: a card's next head is known only once its last anchor is
mined (the leaf holds the time), so pipelined anchors run across patients."""


def submit_single(world: World, names: Sequence[str], count: int) -> float:
    """Records per second with one anchor transaction per record: seal each (round-robin over the patients), then
    one pipelined flush stores, pins and anchors them, the patients' anchors broadcast together like the
    transfers of the devnet limit."""
    doctor = world.client("doctor")
    patients = [world.address(name) for name in names]
    contents = [sample_record(n) for n in range(count)]
    start = time.perf_counter()
    for n, content in enumerate(contents):
        doctor.records.seal(patients[n % len(patients)], content)
    report = doctor.records.flush(strategy=Strategy.PIPELINED)
    elapsed = time.perf_counter() - start
    if len(report.anchored) != count or report.transactions != count:
        raise ChainError(f"unbatched flush anchored {len(report.anchored)} of {count} records")
    return count / elapsed


def submit_batched(world: World, name: str, count: int) -> float:
    """Records per second when a doctor seals many at once (``records.seal_many``: one view of the chain,
    grouped durable writes) and one flush stores them in groups and anchors 50 per transaction."""
    doctor, patient = world.client("doctor"), world.address(name)
    contents = [sample_record(n) for n in range(count)]
    start = time.perf_counter()
    doctor.records.seal_many(patient, contents)
    report = doctor.records.flush(strategy=Strategy.BATCHED)
    elapsed = time.perf_counter() - start
    if len(report.anchored) != count:
        raise ChainError(f"batched flush anchored {len(report.anchored)} of {count} records")
    return count / elapsed


# --- 4. reading a card ---------------------------------------------------------------------------------


def timed_read(world: World, name: str) -> dict[str, Any]:
    """Seconds and JSON-RPC calls for the patient to open their own card with the library's reader
    (``client.records.read_card``: verified history, key bundles, fetch, verify, decrypt, consent re-check)."""
    reader = world.client(name)
    before = rpc_calls(world.w3)
    start = time.perf_counter()
    card = reader.records.read_card(reader.address)
    seconds = time.perf_counter() - start
    if not card or any(not result.sections or result.withheld for result in card):
        raise ChainError(f"reading the card of {name} left records undecrypted")
    return {"records": len(card), "seconds": seconds, "rpc_calls": rpc_calls(world.w3) - before}


def timed_gated_read(world: World, name: str) -> dict[str, Any]:
    """:func:`timed_read` through a gated gateway (``famchain ipfs serve --gated``'s gate over the devnet's store,
    reading the chain on a connection of its own): the patient's client signs its block requests, the gateway
    checks each token and asks the chain who may have each block. Counts the client's JSON-RPC calls, the
    gateway's, and the tokens the client signed."""
    from famchain.chain.contracts import Famchain
    from famchain.records.gatekeeping import ChainGuard
    from famchain.storage.access import AccessGate, AccessSigner
    from famchain.storage.embedded import EmbeddedStore
    from famchain.storage.gateway import GatewayServer
    from famchain.storage.remote import GatewayStore

    if world.store_root is None or world.deployer is None:
        raise ChainError("the gated read needs the devnet store's folder")
    gateway_w3 = connect(world.rpc_url, timeout=60.0)
    served = EmbeddedStore(world.store_root)
    guard = ChainGuard(Famchain(gateway_w3, world.deployer.deployment), store=served)
    owner = world.client(name)
    signer = AccessSigner(bytes(world.accounts[name].key))
    with GatewayServer(served, rpc=False, gate=AccessGate(guard)) as gateway:
        reader = Client(
            world.w3,
            world.deployer.deployment,
            world.accounts[name],
            store=GatewayStore(gateway.url, signer),
            home=world.home,
            _chain=owner.chain,
        )
        gateway_before = rpc_calls(gateway_w3)
        before = rpc_calls(world.w3)
        start = time.perf_counter()
        card = reader.records.read_card(reader.address)
        seconds = time.perf_counter() - start
        calls = rpc_calls(world.w3) - before
        gateway_calls = rpc_calls(gateway_w3) - gateway_before
    if not card or any(not result.sections or result.withheld for result in card):
        raise ChainError(f"reading the card of {name} through the gated gateway left records undecrypted")
    return {
        "records": len(card),
        "seconds": seconds,
        "seconds_gateway_process": _gated_read_from_a_gateway_process(
            world, name, owner, world.store_root, world.deployer.deployment
        ),
        "rpc_calls": calls,
        "gateway_rpc_calls": gateway_calls,
        "tokens_signed": signer.signed,
    }


def _gated_read_from_a_gateway_process(
    world: World, name: str, owner: Client, store_root: Path, deployment: Deployment
) -> float:
    """Seconds for the same read through ``famchain ipfs serve --gated`` as its own process, as an institution
    runs it (in :func:`timed_gated_read` the gateway's threads share this process's interpreter lock)."""
    from famchain.devnet._process import spawn, stop
    from famchain.storage.access import AccessSigner
    from famchain.storage.remote import GatewayStore

    with tempfile.TemporaryDirectory(prefix="famchain-bench-gateway-") as folder:
        deployment_file = Path(folder) / "deployment.json"
        deployment.save(deployment_file)
        argv = [sys.executable, "-m", "famchain", "ipfs", "serve", "--gated", "--no-rpc", "--port", "0"]
        argv += ["--backend", "embedded", "--store-dir", str(store_root)]
        argv += ["--rpc-url", world.rpc_url, "--deployment", str(deployment_file)]
        proc, url = spawn("gated gateway", argv, Path(folder) / "gateway.log")
        try:
            reader = Client(
                world.w3,
                deployment,
                world.accounts[name],
                store=GatewayStore(url, AccessSigner(bytes(world.accounts[name].key))),
                home=world.home,
                _chain=owner.chain,
            )
            start = time.perf_counter()
            card = reader.records.read_card(reader.address)
            seconds = time.perf_counter() - start
        finally:
            stop(proc.pid)
    if not card or any(not result.sections or result.withheld for result in card):
        raise ChainError(
            f"reading the card of {name} through a gated gateway process left records undecrypted"
        )
    return seconds


# --- 5. scale --------------------------------------------------------------------------------------------


def anchor_history(world: World, name: str, total: int) -> tuple[int, int]:
    """Gas of the 1st and the ``total``-th single anchor on one card; the ones between go in batches of 50,
    each built on the head the chain holds (the leaf has the anchoring block's time: nothing is predicted)."""
    doctor, patient = world.client("doctor"), world.address(name)
    records = doctor.chain.records
    first = gas_used(
        anchor_now(doctor.sender, records, patient, lambda h: records.anchor(patient, h, random_anchor()))
    )
    middle = total - 2
    with doctor.sender.one_fee_lookup():
        for start in range(0, middle, BATCH):
            batch = [random_anchor() for _ in range(min(BATCH, middle - start))]
            anchor_now(
                doctor.sender, records, patient, lambda h, b=batch: records.anchor_batch(patient, h, b)
            )
    nth = gas_used(
        anchor_now(doctor.sender, records, patient, lambda h: records.anchor(patient, h, random_anchor()))
    )
    length = records.card(patient).length
    if length != total:
        raise ChainError(f"the scale card holds {length} records, expected {total}")
    return first, nth


def bulk(world: World, sender: TransactionSender, to: str, calldata: Sequence[bytes], gas: int) -> None:
    """Setup only: have anvil send many transactions from ``sender``'s account, packed into full blocks.

    anvil slows down as it mines thousands of one-transaction blocks, and signing in pure Python costs
    milliseconds per transaction, so the state behind the scale figures is built with anvil's impersonation,
    JSON-RPC batches and manual mining instead. Nothing measured goes through here; every receipt is checked.
    """
    w3 = world.w3
    rpc = w3.provider.make_request
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    account = sender.address
    first = w3.eth.block_number + 1
    nonce = w3.eth.get_transaction_count(account, "pending")  # type: ignore[arg-type]
    rpc(RPCEndpoint("anvil_impersonateAccount"), [account])
    rpc(RPCEndpoint("evm_setAutomine"), [False])
    try:
        with requests.Session() as session:
            for start in range(0, len(calldata), 1_000):
                payload = [
                    {
                        "jsonrpc": "2.0",
                        "id": n,
                        "method": "eth_sendTransaction",
                        "params": [
                            {
                                "from": account,
                                "to": to,
                                "data": "0x" + data.hex(),
                                "gas": hex(gas),
                                "nonce": hex(nonce + n),
                            }
                        ],
                    }
                    for n, data in enumerate(calldata[start : start + 1_000], start)
                ]
                answers = session.post(url, json=payload, timeout=120).json()
                refused = [a["error"] for a in answers if "error" in a]
                if refused:
                    raise ChainError(f"anvil refused a setup transaction: {refused[0]}")
        while int(rpc(RPCEndpoint("txpool_status"), [])["result"]["pending"], 16):
            rpc(RPCEndpoint("evm_mine"), [])
    finally:
        rpc(RPCEndpoint("evm_setAutomine"), [True])
        rpc(RPCEndpoint("anvil_stopImpersonatingAccount"), [account])
        sender.resync()
    mined = 0
    for block in range(first, w3.eth.block_number + 1):
        receipts = rpc(RPCEndpoint("eth_getBlockReceipts"), [hex(block)])["result"]
        if any(int(r["status"], 16) != 1 for r in receipts):
            raise ChainError(f"a setup transaction in block {block} reverted")
        mined += len(receipts)
    if mined != len(calldata):
        raise ChainError(f"{mined} of {len(calldata)} setup transactions were mined")


def grants_at_scale(world: World, count: int) -> int:
    """``isAuthorized`` execution gas once ``count`` grants are in force (one patient, many grantees)."""
    hospital, patient = world.client("hospital"), world.client("patient")
    chain = patient.chain
    privates = [os.urandom(32) for _ in range(count)]
    keys = [public_key_from_private(p) for p in privates]
    grantees = [str(address_from_public_key(key)) for key in keys]
    # Each practitioner's own Enrollment signature (a fresh account: sequence 0 of its Enrollment/hospital key).
    nonce = keyed_nonce(nonce_key(NonceDomain.ENROLLMENT, hospital.address), 0)
    deadline = patient.now() + 30 * DAY
    calls = []
    for private, grantee, key in zip(privates, grantees, keys, strict=True):
        message = typed_data.enrollment(
            practitioner=grantee,
            institution=hospital.address,
            nonce=nonce,
            deadline=deadline,
            chain_id=chain.chain_id,
            verifying_contract=chain.consortium.address,
        )
        signature = typed_data.sign_typed_data(private, message)
        calls.append(chain.consortium.register_practitioner(grantee, key, nonce, deadline, signature))
    limit = int(calls[0].estimate_gas({"from": hospital.address})) * 3 // 2
    bulk(
        world, hospital.sender, chain.consortium.address, [chain.consortium.calldata(c) for c in calls], limit
    )
    expires = patient.now() + 30 * DAY
    terms = default_terms(
        grantee=grantees[0],
        institution=None,
        sections=ALL_SECTIONS,
        actions=Action.READ,
        purpose=Purpose.RESEARCH,
    ).hash_struct()
    grants = [
        chain.consents.grant(g, ALL_SECTIONS, Action.READ, expires, terms, b"\x00" * 32, 0) for g in grantees
    ]
    limit = int(grants[0].estimate_gas({"from": patient.address})) * 3 // 2
    bulk(world, patient.sender, chain.consents.address, [chain.consents.calldata(c) for c in grants], limit)
    probe = grantees[count // 2]
    if not patient.consents.is_authorized(patient.address, probe, ALL_SECTIONS, Action.READ):
        raise ChainError(f"grant {count // 2} of {count} is not in force")
    call = chain.consents.is_authorized_call(patient.address, probe, ALL_SECTIONS, Action.READ)
    return view_execution_gas(world.w3, chain.consents.address, chain.consents.calldata(call))


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the run ---------------------------------------------------------------------------------------------


def measure(world: World, sizes: Sizes, progress: Progress) -> BenchResult:
    """Every measurement, in order, on a built world."""
    progress("gas per operation (famchain)")
    gas = famchain_gas(world)
    progress("gas per operation (naive baseline)")
    naive = baseline_gas(world)

    progress(f"devnet limit: {sizes.transfers} pre-signed transfers in JSON-RPC batches")
    raw = raw_batch_rate(world, sizes.transfers)
    for name in (*VISIT_PATIENTS, "card_patient", "scale_patient"):
        world.register(name)
        world.agree(name)
    # anvil's time per transaction grows with the chain (about 2 ms per 1,000 blocks under automine here), so the
    # sender's rate is measured right before and right after the single-record submit, half the transfers each
    # time, and the submit is compared with their mean; the rounds variant follows.
    half = max(1, sizes.transfers // 2)
    progress(f"devnet rate through TransactionSender: {half} plain transfers")
    transfers_before = transfer_rate(world, half)
    progress(
        f"end-to-end submit: {sizes.submit_single} records, one transaction each, {len(VISIT_PATIENTS)} patients"
    )
    single = submit_single(world, VISIT_PATIENTS, sizes.submit_single)
    progress(f"devnet rate through TransactionSender again: {half} plain transfers")
    transfers_after = transfer_rate(world, half)
    transfers = (transfers_before + transfers_after) / 2
    progress(
        f"the same in rounds of {len(VISIT_PATIENTS)}, each one JSON-RPC batch (the pipelined flush's shape)"
    )
    transfer_rounds = transfer_rate(world, half, round_size=len(VISIT_PATIENTS))
    progress(f"end-to-end submit: {sizes.submit_batched} records, batched")
    batched = submit_batched(world, "card_patient", sizes.submit_batched)

    progress("reading both cards")
    small = timed_read(world, VISIT_PATIENTS[0])
    large = timed_read(world, "card_patient")
    progress("reading the large card through a gated gateway")
    gated = timed_gated_read(world, "card_patient")

    progress(f"scale: {sizes.history} anchors on one card")
    anchor_first, anchor_nth = anchor_history(world, "scale_patient", sizes.history)
    progress(f"scale: {sizes.grants} grants in the registry")
    authorized_at_scale = grants_at_scale(world, sizes.grants)

    progress("signing time per transaction (eth-keys backends)")
    signing = signing_times(world.accounts["doctor"], world.deployer.chain_id if world.deployer else 31337)

    figures: dict[str, Any] = {
        "signing": signing,
        "gas": {op: gas[op] for op in OPS},
        "baseline_gas": {op: naive[op] for op in OPS},
        "throughput": {
            "devnet_raw_batch_per_s": round(raw, 1),
            "devnet_transfers_per_s": round(transfers, 1),
            "devnet_transfers_before_after_per_s": [round(transfers_before, 1), round(transfers_after, 1)],
            "devnet_transfer_rounds_per_s": round(transfer_rounds, 1),
            "submit_per_s": round(single, 1),
            "submit_batched_per_s": round(batched, 1),
        },
        "read": {
            "records": large["records"],
            "seconds": round(large["seconds"], 3),
            "rpc_calls": large["rpc_calls"],
        },
        "read_gated": {
            "records": gated["records"],
            "seconds": round(gated["seconds"], 3),
            "rpc_calls": gated["rpc_calls"],
            "gateway_rpc_calls": gated["gateway_rpc_calls"],
            "tokens_signed": gated["tokens_signed"],
            "seconds_gateway_process": round(gated["seconds_gateway_process"], 3),
        },
        "scale": {
            "anchor_gas_first": anchor_first,
            "anchor_gas_10000th": anchor_nth,
            "is_authorized_gas_10000_grants": authorized_at_scale,
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    details: dict[str, Any] = {
        "sizes": sizes,
        "ratios": {op: gas[op] / naive[op] for op in OPS},
        "submit_ratio": single / transfers,
        "submit_rounds_ratio": single / transfer_rounds,
        "round_size": len(VISIT_PATIENTS),
        "submit_batched_ratio": batched / transfers,
        "sender_raw_ratio": transfers / raw,
        "submit_raw_ratio": single / raw,
        "submit_batched_raw_ratio": batched / raw,
        "reads": [small, large],
    }
    return BenchResult(figures, details)


def run(
    *,
    anvil: str,
    famchain: Sequence[str],
    environment: Mapping[str, str],
    quick: bool = False,
    progress: Progress | None = None,
) -> BenchResult:
    """Measure startup, then start a fresh devnet, measure everything else, stop it.

    Args:
        anvil: the anvil binary for the devnet.
        famchain: the command that runs the CLI (for the startup figures).
        environment: the environment the startup commands run in.
        quick: small counts (CI): the JSON keys stay the same, the scale and read figures are then for
            ``QUICK`` sizes, not 10,000 / 1,000.
        progress: called with a short label as each phase starts.
    """
    sizes = QUICK if quick else FULL
    say: Progress = progress or (lambda _label: None)
    started = time.perf_counter()
    say("startup: famchain --help and famchain account list against a bare `import typer`")
    startup = measure_startup(famchain, environment, runs=STARTUP_RUNS_QUICK if quick else STARTUP_RUNS)
    with tempfile.TemporaryDirectory(prefix="famchain-bench-") as tmp:
        say("starting a fresh devnet")
        devnet = Devnet(Path(tmp) / "devnet", anvil=anvil)
        info = devnet.up()
        try:
            world = World(info.rpc_url, info.ipfs_url, Path(tmp) / "home", Path(info.state_dir) / "ipfs")
            say("deploying")
            world.build()
            result = measure(world, sizes, say)
        finally:
            devnet.down()
    result.figures = {"startup": startup, **result.figures}
    result.details["seconds"] = time.perf_counter() - started
    return result


# --- 6. startup and signing -------------------------------------------------------------------------------

STARTUP_RUNS = 15
STARTUP_RUNS_QUICK = 5
HELP_TARGET_RATIO = 1.5
ACCOUNT_LIST_TARGET_RATIO = 2.0


def _median_seconds(argv: Sequence[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(list(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_startup(
    famchain: Sequence[str], environment: Mapping[str, str], runs: int = STARTUP_RUNS
) -> dict[str, Any]:
    """Wall time (median of ``runs``, interleaved so load affects all three alike) of a bare
    ``python -c "import typer"``, ``famchain --help`` and ``famchain account list``, with the ratios.

    The commands run in ``environment`` without its ``FAMCHAIN_*`` variables; ``account list`` lists a folder
    of three keystores (it reads each and checksums its address).
    """
    from famchain.crypto.keystore import KdfParams, create_keystore

    with tempfile.TemporaryDirectory(prefix="famchain-startup-") as tmp:
        for _ in range(3):
            create_keystore("bench", tmp, kdf=KdfParams.light())
        env = {k: v for k, v in environment.items() if not k.startswith("FAMCHAIN_")}
        env["FAMCHAIN_KEYSTORE_DIR"] = tmp
        commands = {
            "import_typer_s": [sys.executable, "-c", "import typer"],
            "help_s": [*famchain, "--help"],
            "account_list_s": [*famchain, "account", "list"],
        }
        for argv in commands.values():  # warm the file cache
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                samples[name].append(_median_seconds(argv, env, 1))
    out: dict[str, Any] = {name: round(statistics.median(values), 4) for name, values in samples.items()}
    out["help_ratio"] = round(out["help_s"] / out["import_typer_s"], 2)
    out["account_list_ratio"] = round(out["account_list_s"] / out["import_typer_s"], 2)
    return out


def signing_times(account: LocalAccount, chain_id: int, count: int = 200) -> dict[str, float | None]:
    """Milliseconds to sign one EIP-1559 anchor-sized transaction, with eth-keys' pure-Python backend and with
    coincurve (libsecp256k1), each chosen explicitly (None when coincurve is not installed)."""
    from eth_keys.backends.native.main import NativeECCBackend
    from eth_keys.datatypes import PrivateKey

    tx: dict[str, Any] = {
        "to": to_checksum_address("0x" + "11" * 20),
        "data": "0x" + os.urandom(196).hex(),
        "gas": 150_000,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": 0,
        "chainId": chain_id,
        "value": 0,
    }

    def per_tx(key: PrivateKey) -> float:
        Account.sign_transaction(tx, key)  # warm up
        start = time.perf_counter()
        for nonce in range(count):
            Account.sign_transaction({**tx, "nonce": nonce}, key)
        return round((time.perf_counter() - start) / count * 1000, 3)

    raw = bytes(account.key)
    native = per_tx(PrivateKey(raw, backend=NativeECCBackend()))
    try:
        from eth_keys.backends.coincurve import CoinCurveECCBackend

        fast: float | None = per_tx(PrivateKey(raw, backend=CoinCurveECCBackend()))
    except ImportError:
        fast = None
    return {"native_ms": native, "coincurve_ms": fast}
