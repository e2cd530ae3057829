"""Sealing: a record encrypted section by section for everyone entitled now (and the keys of its emergency
sections split among the emergency custodians now), and put in the outbox.

The author draws a random salt, seals with the context ``(salt, patient, author, chain, RecordRegistry)``,
computes the CID locally and derives the record id exactly as RecordRegistry will
(``keccak256(abi.encode(patient, author, salt, cidDigest, cidCodec))``), so the id is known before anything is
sent and names this author's content on this patient's card forever. Nothing leaves the machine here: a record
reaches the outbox even while the store is down; :mod:`famchain.records.anchoring` stores and anchors it.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from famchain.chain.history import record_id_of
from famchain.chain.structs import RecordKind
from famchain.crypto import envelope as env
from famchain.crypto.policy import CipherPolicy
from famchain.records.actor import Actor
from famchain.records.entitlements import Entitlements, check_author, entitled_recipients, entitlements
from famchain.records.model import RecordContent
from famchain.records.outbox import OutboxEntry, OutboxState
from famchain.records.sections import section_mask
from famchain.storage.cid import digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Cid, RecordId

SALT_SIZE = 32


def seal_record(
    actor: Actor,
    patient: str,
    content: RecordContent,
    previous: RecordId | None = None,
    *,
    kind: RecordKind | None = None,
    check: bool = True,
) -> OutboxEntry:
    """Seal a record for everyone entitled now and put it in the outbox.

    Args:
        actor: the author.
        patient: whose card the record goes on.
        content: the sections (and the record's kind).
        previous: the record this one updates (None for a new visit).
        kind: overrides ``content.kind``.
        check: refuse here an author the chain would refuse (off only to test the contract's own check).

    Raises:
        AccessDeniedError: the author may not append these sections for this patient.
    """
    patient = to_checksum_address(patient)
    view = entitlements(actor, patient)  # one view of the chain for the check and the recipients
    if check:
        check_author(actor, patient, section_mask(content.names), view)
    job = _job(actor, patient, content, view)
    entry, data = _entry(actor, patient, content, job, _seal(job), previous or RecordId.zero(), kind)
    return actor.outbox.add(entry, data)


def seal_records(
    actor: Actor,
    patient: str,
    contents: Sequence[RecordContent],
    *,
    kind: RecordKind | None = None,
    workers: int = 1,
) -> list[OutboxEntry]:
    """Seal many new visit records of one patient on one view of the chain and put them in the outbox together.

    The same as :func:`seal_record` for each, but the author's right and the recipients are read once and the
    outbox writes are made durable as one group (:meth:`~famchain.records.outbox.Outbox.add_many`). Nothing is
    queued unless every record sealed.

    ``workers`` > 1 seals the envelopes in that many worker processes (the crypto holds the GIL, so threads do
    not help). The default is 1: on the shared 2-core machines measured so far, starting the workers cost more
    than the crypto they took over (500 records: 2.8 s in this process, 8 to 10 s in two spawned workers, 3.0 s
    in two forked ones); give more where cores are free.

    Raises:
        AccessDeniedError: the author may not append some record's sections for this patient (nothing queued).
    """
    patient = to_checksum_address(patient)
    view = entitlements(actor, patient)
    for mask in {section_mask(content.names) for content in contents}:
        check_author(actor, patient, mask, view)
    jobs = [_job(actor, patient, content, view) for content in contents]
    count = min(workers, len(jobs))
    if count > 1:
        # "spawn": a fork would copy this process's threads' locks (web3's HTTP pools) mid-use.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            datas = list(pool.map(_seal, jobs, chunksize=max(1, len(jobs) // (4 * count))))
    else:
        datas = [_seal(job) for job in jobs]
    zero = RecordId.zero()
    entries = [
        _entry(actor, patient, content, job, data, zero, kind)
        for content, job, data in zip(contents, jobs, datas, strict=True)
    ]
    return actor.outbox.add_many(entries)


@dataclass(frozen=True)
class _Job:
    """Everything one envelope is sealed from (picklable: it crosses to a worker process)."""

    plaintexts: dict[str, bytes]
    recipients: list[env.Recipient]
    context: env.EnvelopeContext
    policy: CipherPolicy | None
    emergency: env.EmergencyShares | None
    salt: bytes
    addresses: tuple[str, ...]
    block: int


def _job(actor: Actor, patient: str, content: RecordContent, view: Entitlements) -> _Job:
    salt = os.urandom(SALT_SIZE)
    sealed_for = entitled_recipients(actor, patient, content.names, view)
    return _Job(
        dict(content.plaintexts()),
        sealed_for.recipients,
        actor.context(salt, patient),
        actor.policy,
        sealed_for.emergency,
        salt,
        sealed_for.addresses,
        sealed_for.block,
    )


def _seal(job: _Job) -> bytes:
    """The sealed envelope's bytes (a module-level function: worker processes run it)."""
    sealed = env.seal(job.plaintexts, job.recipients, job.context, policy=job.policy, emergency=job.emergency)
    return sealed.to_bytes()


def _entry(
    actor: Actor,
    patient: str,
    content: RecordContent,
    job: _Job,
    data: bytes,
    previous: RecordId,
    kind: RecordKind | None,
) -> tuple[OutboxEntry, bytes]:
    # Hashed locally, not by the store: a record must reach the outbox even while the store is down.
    cid = Cid(str(build_dag(io.BytesIO(data)).cid))
    digest, codec = digest_and_codec(cid)
    entry = OutboxEntry(
        record_id=record_id_of(patient, actor.address, job.salt, digest, codec),
        patient=patient,
        author=actor.address,
        chain_id=actor.fc.chain_id,
        registry=actor.fc.records.address,
        sections=section_mask(content.names),
        previous=previous,
        cid=cid,
        salt=job.salt,
        kind=kind if kind is not None else content.kind,
        recipients=job.addresses,
        sealed_block=job.block,
        state=OutboxState.SEALED if previous.is_zero else OutboxState.AWAITING_APPROVAL,
    )
    return entry, data
