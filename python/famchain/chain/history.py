"""A patient's history read from chain events alone, and the card verified against its on-chain head.

Every per-patient event of the five contracts (EmergencyAccess included) carries the patient as its first indexed argument, so one
``eth_getLogs`` filter per block range returns the whole history; ranges are paged (and halved when a node
refuses a large answer), so the number of RPC calls grows with the span of blocks, not with the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.contract.contract import ContractEvent
from web3.exceptions import Web3RPCError

from famchain.chain import artifacts
from famchain.chain.artifacts import DEPLOYABLE
from famchain.chain.codec import event_args
from famchain.chain.contracts import Famchain
from famchain.chain.structs import ZERO_HEAD, Anchor, RecordKind
from famchain.errors import IntegrityError
from famchain.i18n import _
from famchain.storage.cid import cid_from_digest
from famchain.types import Cid, RecordId

DEFAULT_PAGE = 50_000


@dataclass(frozen=True)
class ChainEvent:
    """One decoded event."""

    name: str
    contract: str
    block: int
    tx_hash: str
    log_index: int
    args: dict[str, Any] = field(hash=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (bytes as 0x hex)."""
        return {
            "event": self.name,
            "contract": self.contract,
            "block": self.block,
            "tx": self.tx_hash,
            "log_index": self.log_index,
            "args": {k: _jsonable(v) for k, v in self.args.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class AnchoredRecord:
    """A record on a visit card, from its ``RecordAnchored`` event: what was anchored, by whom, and where.

    Attributes:
        record_id: ``keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec))`` (checked on decoding).
        anchor: the anchored fields (salt, previous, CID digest and codec, sections, kind).
        anchored_at: the anchoring block's timestamp (part of the card leaf; chooses the retention end).
        index: the position on the card; ``head``: the card head after this record.
    """

    patient: str
    record_id: RecordId
    author: str
    anchor: Anchor
    anchored_at: int
    index: int
    head: bytes
    block: int
    tx_hash: str

    @property
    def previous(self) -> RecordId:
        """The record it updates (zero for a new visit)."""
        return self.anchor.previous

    @property
    def salt(self) -> bytes:
        """The author's salt (the envelope context's first field)."""
        return self.anchor.salt

    @property
    def sections(self) -> int:
        """Bitmask of the sections present."""
        return self.anchor.sections

    @property
    def kind(self) -> RecordKind:
        """Outpatient or inpatient."""
        return self.anchor.kind

    @property
    def cid(self) -> Cid:
        """Where the sealed bytes are stored."""
        return cid_from_digest(self.anchor.cidDigest, self.anchor.cidCodec)

    @property
    def is_update(self) -> bool:
        """True when this record is a new version of an earlier one."""
        return self.anchor.is_update

    @property
    def leaf(self) -> bytes:
        """This record's card leaf."""
        return leaf_hash(self.record_id, self.previous, self.sections, self.kind, self.anchored_at)


def address_topic(address: str) -> str:
    """An address as an indexed-event topic (left-padded to 32 bytes), for ``eth_getLogs`` filters."""
    return "0x" + abi_encode(["address"], [address]).hex()


def record_id_of(patient: str, author: str, salt: bytes, cid_digest: bytes, cid_codec: int) -> RecordId:
    """``keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec))``: a record id as RecordRegistry
    derives it (``author`` is the account that sends the anchor)."""
    return RecordId(
        keccak(
            abi_encode(
                ["address", "address", "bytes32", "bytes32", "uint8"],
                [patient, author, bytes(salt), bytes(cid_digest), cid_codec],
            )
        )
    )


def leaf_hash(record_id: bytes, previous: bytes, sections: int, kind: int, anchored_at: int) -> bytes:
    """``keccak256(abi.encode(recordId, previous, uint32 sections, uint8 kind, uint64 anchoredAt))``: the card
    leaf of one record (must equal RecordRegistry's ``leafOf``)."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "uint32", "uint8", "uint64"],
            [bytes(record_id), bytes(previous), int(sections), int(kind), int(anchored_at)],
        )
    )


def next_head(head: bytes, leaf: bytes) -> bytes:
    """Fold one leaf into the card head (``bytes24(keccak256(abi.encode(head, leaf)))``)."""
    return keccak(abi_encode(["bytes24", "bytes32"], [head, leaf]))[:24]


class History:
    """Reads and decodes the registries' events."""

    def __init__(self, fc: Famchain, page: int = DEFAULT_PAGE) -> None:
        self.fc = fc
        self.page = page
        self._abis: dict[bytes, tuple[str, ContractEvent]] = {}
        for contract_name in DEPLOYABLE:
            abi = artifacts.load(contract_name).abi
            decoder = fc.w3.eth.contract(abi=abi)
            for item in abi:
                if item.get("type") == "event":
                    types = ",".join(i["type"] for i in item["inputs"])
                    event: ContractEvent = decoder.events[item["name"]]()
                    self._abis[keccak(text=f"{item['name']}({types})")] = (contract_name, event)
        # Events every signing contract shares (GuardianActed, NonceCancelled) are named by the emitter.
        self._names = {address.lower(): name for name, address in fc.deployment.addresses.items()}

    def _get_logs(self, params: dict[str, Any], start: int, end: int) -> Iterator[dict[str, Any]]:
        step = self.page
        lo = start
        while lo <= end:
            hi = min(end, lo + step - 1)
            try:
                logs = self.fc.w3.eth.get_logs({**params, "fromBlock": lo, "toBlock": hi})  # type: ignore[typeddict-item]
            except Web3RPCError:
                if step == 1:
                    raise
                step = max(1, step // 2)
                continue
            yield from logs  # type: ignore[misc]
            lo = hi + 1

    def events(
        self,
        topics: list[Any],
        contracts: list[str] | None = None,
        to_block: int | None = None,
        from_block: int | None = None,
    ) -> list[ChainEvent]:
        """Decoded events matching ``topics`` from the deployment's start block (or ``from_block``), in chain
        order."""
        addresses = contracts or list(self.fc.deployment.addresses.values())
        end = self.fc.w3.eth.block_number if to_block is None else to_block
        start = (
            self.fc.deployment.start_block
            if from_block is None
            else max(from_block, self.fc.deployment.start_block)
        )
        out = []
        for log in self._get_logs({"address": addresses, "topics": topics}, start, end):
            found = self._decoded(log)
            if found is not None:
                out.append(found)
        out.sort(key=lambda e: (e.block, e.log_index))
        return out

    def receipt_events(self, receipt: Any) -> list[ChainEvent]:
        """The deployment's events a transaction emitted (from its receipt), in log order; others are ignored."""
        known = {a.lower() for a in self.fc.deployment.addresses.values()}
        found = (self._decoded(log) for log in receipt["logs"] if str(log["address"]).lower() in known)
        return [e for e in found if e is not None]

    def _decoded(self, log: Any) -> ChainEvent | None:
        """A log of one of the deployment's events, decoded (None for a log of no known event)."""
        known = self._abis.get(bytes(log["topics"][0])) if log["topics"] else None
        if known is None:
            return None
        contract_name, event = known
        return ChainEvent(
            event.event_name,
            self._names.get(str(log["address"]).lower(), contract_name),
            int(log["blockNumber"]),
            HexBytes(log["transactionHash"]).to_0x_hex(),
            int(log["logIndex"]),
            event_args(event, log),
        )

    def patient_events(
        self, patient: str, to_block: int | None = None, *, from_block: int | None = None
    ) -> list[ChainEvent]:
        """Every event whose first indexed argument is ``patient``: the patient's whole audit trail (records,
        consents, agreements, guardians, deletion requests, emergencies, cancelled signatures)."""
        topic = address_topic(patient)
        return self.events([None, topic], to_block=to_block, from_block=from_block)

    def card(self, patient: str) -> list[AnchoredRecord]:
        """The patient's visit card in order, verified against the on-chain head and length.

        Every record id is recomputed from its event's patient, author, salt, digest and codec, and every leaf
        from the id, ``previous``, sections, kind and anchoring time, so a node that forges or drops an event
        is caught.

        Raises:
            IntegrityError: the events do not reproduce the stored head (missing or forged history).
        """
        block = self.fc.w3.eth.block_number
        stored = self.fc.card(patient, block)
        sig = "0x" + self.topic("RecordAnchored").hex()
        topic = address_topic(patient)
        events = self.events([sig, topic], [self.fc.records.address], to_block=block)
        records = [anchored_from_event(e) for e in events]
        head = ZERO_HEAD
        for n, rec in enumerate(records):
            head = next_head(head, rec.leaf)
            if rec.patient != patient or rec.index != n or rec.head != head:
                raise IntegrityError(
                    _(
                        "visit card of {patient} breaks at record {n}: the event history is not the card"
                    ).format(patient=patient, n=n)
                )
        if len(records) != stored.length or head != stored.head:
            raise IntegrityError(
                _(
                    "visit card of {patient}: events give {n_records} records and head 0x{head}, the chain says {length} and 0x{chain_head}"
                ).format(
                    patient=patient,
                    n_records=len(records),
                    head=head.hex(),
                    length=stored.length,
                    chain_head=stored.head.hex(),
                )
            )
        return records

    def record_ids(self, patient: str | None = None) -> list[RecordId]:
        """The ids of every record anchored on the deployment (on ``patient``'s card when given), in chain
        order (what a record id prefix is matched against)."""
        topics: list[Any] = ["0x" + self.topic("RecordAnchored").hex()]
        if patient is not None:
            topics.append(address_topic(patient))
        found = self.events(topics, [self.fc.records.address])
        return [anchored_from_event(e).record_id for e in found]

    def anchors(
        self, patient: str | None, record_ids: list[bytes], to_block: int | None = None
    ) -> dict[RecordId, AnchoredRecord]:
        """Anchors of the given record ids (on ``patient``'s card, or any card when None), by record id.

        An id that appears twice (the same author anchoring the same content twice) maps to its first
        occurrence. Each event's id is recomputed from its fields.
        """
        if not record_ids:
            return {}
        patient_topic = None if patient is None else address_topic(patient)
        topics = [
            "0x" + self.topic("RecordAnchored").hex(),
            patient_topic,
            ["0x" + bytes(i).hex() for i in record_ids],
        ]
        found = self.events(topics, [self.fc.records.address], to_block=to_block)
        out: dict[RecordId, AnchoredRecord] = {}
        for event in found:
            anchored = anchored_from_event(event)
            out.setdefault(anchored.record_id, anchored)
        return out

    def topic(self, name: str) -> bytes:
        """Topic 0 of an event by name."""
        for topic, (_abi, event) in self._abis.items():
            if event.event_name == name:
                return topic
        raise KeyError(name)


def anchored_from_event(event: ChainEvent) -> AnchoredRecord:
    """Typed view of a ``RecordAnchored`` event, its record id recomputed from its fields.

    Raises:
        IntegrityError: the event's record id is not the one its patient, author, salt, digest and codec give
            (a forged event: RecordRegistry always derives it).
    """
    a = event.args
    try:
        kind = RecordKind(int(a["kind"]))
    except ValueError:
        raise IntegrityError(
            _("record {record_id!r} has an unknown kind {kind}").format(
                record_id=a["recordId"], kind=a["kind"]
            )
        ) from None
    anchor = Anchor(
        salt=bytes(a["salt"]),
        previous=RecordId(a["previous"]),
        cidDigest=bytes(a["cidDigest"]),
        sections=int(a["sections"]),
        cidCodec=int(a["cidCodec"]),
        kind=kind,
    )
    record_id = RecordId(a["recordId"])
    derived = record_id_of(
        str(a["patient"]), str(a["author"]), anchor.salt, anchor.cidDigest, anchor.cidCodec
    )
    if derived != record_id:
        raise IntegrityError(
            _(
                "record {record_id} on the card of {patient}: its id is not the one its author, salt and content give (a forged event)"
            ).format(record_id=record_id, patient=a["patient"])
        )
    return AnchoredRecord(
        str(a["patient"]),
        record_id,
        str(a["author"]),
        anchor,
        int(a["anchoredAt"]),
        int(a["index"]),
        bytes(a["head"]),
        event.block,
        event.tx_hash,
    )
