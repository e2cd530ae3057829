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
import os

from eth_utils.address import to_checksum_address

from famchain.chain.history import record_id_of
from famchain.chain.structs import RecordKind
from famchain.crypto import envelope as env
from famchain.records.actor import Actor
from famchain.records.entitlements import check_author, entitled_recipients, entitlements
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
    mask = section_mask(content.names)
    view = entitlements(actor, patient)  # one view of the chain for the check and the recipients
    if check:
        check_author(actor, patient, mask, view)
    salt = os.urandom(SALT_SIZE)
    sealed_for = entitled_recipients(actor, patient, content.names, view)
    sealed = env.seal(
        content.plaintexts(),
        sealed_for.recipients,
        actor.context(salt, patient),
        policy=actor.policy,
        emergency=sealed_for.emergency,
    )
    data = sealed.to_bytes()
    # Hashed locally, not by the store: a record must reach the outbox even while the store is down.
    cid = Cid(str(build_dag(io.BytesIO(data)).cid))
    digest, codec = digest_and_codec(cid)
    previous = previous or RecordId.zero()
    entry = OutboxEntry(
        record_id=record_id_of(patient, actor.address, salt, digest, codec),
        patient=patient,
        author=actor.address,
        chain_id=actor.fc.chain_id,
        registry=actor.fc.records.address,
        sections=mask,
        previous=previous,
        cid=cid,
        salt=salt,
        kind=kind if kind is not None else content.kind,
        recipients=sealed_for.addresses,
        sealed_block=sealed_for.block,
        state=OutboxState.SEALED if previous.is_zero else OutboxState.AWAITING_APPROVAL,
    )
    return actor.outbox.add(entry, data)
