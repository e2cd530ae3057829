"""Faults injected into real processes; afterwards every record is anchored exactly once, none lost.

Each test runs its own devnet (anvil with persisted state + the store process) so it can kill and restart
them; success is judged from the chain and the store, never from the client's own report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _world import ANVIL, World, build_world
from famchain import Client, OutboxState, QueuedError, RecordId, parse_record
from famchain.chain.rpc import connect
from famchain.devnet import Devnet, dev_account
from famchain.errors import BlockIntegrityError
from famchain.records import anchoring
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.kubo import KuboStore

VISIT = {"sections": {"diagnosis": [{"text": "Seasonal allergic rhinitis", "code": "J30.2"}]}}


class Clinic:
    """One devnet with the shared test world on it; can rebind its clients after a restart."""

    def __init__(self, root: Path, devnet: Devnet) -> None:
        self.devnet = devnet
        self.info = self.devnet.up(persist=True)
        self.home = root / "home"
        self.world: World = build_world(
            connect(self.info.rpc_url), dev_account(), KuboStore(self.info.ipfs_url), self.home
        )
        self.bind()

    def bind(self, receipt_timeout: float = 60.0) -> None:
        """(Re)connect to the current URLs of the chain and the store."""
        self.info = self.devnet.info()  # type: ignore[assignment]
        self.w3 = connect(self.info.rpc_url)
        self.store = KuboStore(self.info.ipfs_url, timeout=(1.0, 10.0))
        base = Client(self.w3, self.world.patient.deployment, store=self.store, home=self.home)
        self.doctor = base.with_account(self.world.family_doctor.account, receipt_timeout=receipt_timeout)
        self.doctor.sender.resync()
        self.patient = self.world.patient.address

    def card_ids(self) -> list[RecordId]:
        """Record ids on the patient's card, verified against the on-chain head."""
        return [r.record_id for r in self.doctor.records.card(self.patient)]


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    devnet = Devnet(tmp_path / "devnet", anvil=ANVIL)
    try:
        yield Clinic(tmp_path, devnet)
    finally:
        devnet.down()  # also when setting the clinic up failed half-way


def _seal(clinic: Clinic, n: int) -> list[RecordId]:
    return [clinic.doctor.records.seal(clinic.patient, parse_record(VISIT)).record_id for _ in range(n)]


def test_store_killed_mid_batch_then_restarted_anchors_every_record_once(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seal(clinic, 12)
    doctor = clinic.doctor
    # A flush stores records in groups (one CAR each): three groups of four, the store dies at the second.
    monkeypatch.setattr(anchoring, "STORE_GROUP", 4)
    real_import = clinic.store.import_car
    calls = {"n": 0}

    def import_then_die(car, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the store process dies in the middle of the batch
            _kill_store(clinic)
        return real_import(car, **kwargs)

    clinic.store.import_car = import_then_die  # type: ignore[method-assign]
    with pytest.raises(QueuedError, match="queued in the outbox"):
        doctor.records.flush()
    assert clinic.card_ids() == []  # nothing anchored before every byte was stored

    clinic.devnet.restart("store")
    clinic.bind()
    report = clinic.doctor.records.flush()

    assert sorted(clinic.card_ids()) == sorted(ids)
    assert len(report.anchored) == 12
    assert clinic.doctor.records.pending() == []
    for entry in clinic.doctor.actor.outbox.done():
        assert clinic.store.has(entry.cid)
        assert entry.cid in clinic.store.pins()


def _kill_store(clinic: Clinic) -> None:
    from famchain.devnet._process import stop

    stop(clinic.info.store_pid)


def test_rpc_down_then_restarted_from_saved_state_drains_the_outbox(clinic: Clinic) -> None:
    ids = _seal(clinic, 3)
    from famchain.devnet._process import stop

    time.sleep(1.2)  # let anvil persist its state (--state-interval 1)
    stop(clinic.info.anvil_pid)
    with pytest.raises(QueuedError, match="unreachable"):
        clinic.doctor.records.flush()
    assert all(e.state is OutboxState.STORED for e in clinic.doctor.records.pending())

    clinic.devnet.restart("chain")
    clinic.bind()
    clinic.doctor.records.flush()

    assert sorted(clinic.card_ids()) == sorted(ids)


def _rpc(clinic: Clinic, method: str, *params: object) -> object:
    return clinic.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]


def test_dropped_transaction_is_rebroadcast_not_duplicated(clinic: Clinic) -> None:
    ids = _seal(clinic, 1)
    clinic.bind(receipt_timeout=1.5)
    _rpc(clinic, "evm_setAutomine", False)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            clinic.doctor.records.flush()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    pending = _wait_for_pending(clinic)
    _rpc(clinic, "anvil_dropTransaction", pending)
    time.sleep(2.0)  # past the receipt timeout: the sender rebroadcasts the same signed bytes
    _rpc(clinic, "evm_mine")
    _rpc(clinic, "evm_setAutomine", True)
    worker.join(30)

    assert errors == []
    assert clinic.card_ids() == ids
    assert clinic.w3.eth.get_transaction(pending)["hash"].to_0x_hex() == pending


def test_unmined_transaction_is_unknown_then_reconciled_without_a_duplicate(clinic: Clinic) -> None:
    ids = _seal(clinic, 1)
    clinic.bind(receipt_timeout=0.5)
    _rpc(clinic, "evm_setAutomine", False)

    with pytest.raises(QueuedError, match="outcome is unknown"):
        clinic.doctor.records.flush()
    _rpc(clinic, "evm_mine")  # the "lost" transaction is mined after all
    _rpc(clinic, "evm_setAutomine", True)
    report = clinic.doctor.records.flush()

    assert [e.record_id for e in report.already] == ids
    assert report.transactions == 0
    assert clinic.card_ids() == ids


def _wait_for_pending(clinic: Clinic) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        content = _rpc(clinic, "txpool_content")
        pending = content["result"]["pending"]  # type: ignore[index]
        for by_nonce in pending.values():
            for tx in by_nonce.values():
                return str(tx["hash"])
        time.sleep(0.02)
    raise AssertionError("no transaction reached the pool")


def test_corrupted_block_is_detected_reported_and_repaired_from_another_gateway(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from famchain.cli import app
    from famchain.storage.gateway import GatewayServer

    ours = EmbeddedStore(tmp_path / "ours")
    theirs = EmbeddedStore(tmp_path / "theirs")
    payload = bytes(range(256)) * 4096  # 1 MiB: four leaves and a root
    cid = ours.put(payload)
    assert theirs.put(payload) == cid
    victim = next(p for p in sorted((tmp_path / "ours").rglob("*.data")))
    victim.write_bytes(b"\x00" + victim.read_bytes()[1:])

    with pytest.raises(BlockIntegrityError) as info:
        ours.get(cid)
    assert info.value.cid in str(info.value)

    runner = CliRunner(mix_stderr=False)
    verify = runner.invoke(app, ["ipfs", "verify", "--store-dir", str(tmp_path / "ours")])
    assert verify.exit_code == 1
    assert "1 corrupted" in verify.stdout

    with GatewayServer(theirs) as gateway:
        fetched = runner.invoke(
            app, ["ipfs", "fetch", cid, "--from", gateway.url, "--store-dir", str(tmp_path / "ours")]
        )
    assert fetched.exit_code == 0, fetched.stderr
    assert EmbeddedStore(tmp_path / "ours").get(cid) == payload
    assert runner.invoke(app, ["ipfs", "verify", "--store-dir", str(tmp_path / "ours")]).exit_code == 0
