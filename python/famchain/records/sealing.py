"""Sealing: a record encrypted section by section for everyone entitled now, and put in the outbox.

Nothing leaves the machine here: the CID is computed locally, so a record reaches the outbox even while the
store is down; :mod:`famchain.records.anchoring` stores and anchors it.
"""

from __future__ import annotations

import io

from eth_utils.address import to_checksum_address

from famchain.crypto import envelope as env
from famchain.records.actor import Actor
from famchain.records.entitlements import check_author, entitled_recipients
from famchain.records.model import RecordContent
from famchain.records.outbox import OutboxEntry, OutboxState
from famchain.records.sections import section_mask
from famchain.storage.unixfs import build_dag
from famchain.types import Cid, RecordId


def seal_record(
    actor: Actor,
    patient: str,
    content: RecordContent,
    previous: RecordId | None = None,
    *,
    check: bool = True,
) -> OutboxEntry:
    """Seal a record for everyone entitled now and put it in the outbox.

    Args:
        actor: the author.
        patient: whose card the record goes on.
        content: the sections.
        previous: the record this one updates (None for a new visit).
        check: refuse here an author the chain would refuse (off only to test the contract's own check).

    Raises:
        AccessDeniedError: the author may not append these sections for this patient.
    """
    patient = to_checksum_address(patient)
    mask = section_mask(content.names)
    if check:
        check_author(actor, patient, mask)
    record_id = RecordId.random()
    sealed = env.seal(
        content.plaintexts(),
        entitled_recipients(actor, patient, content.names),
        actor.context(record_id, patient),
    )
    data = sealed.to_bytes()
    # Hashed locally, not by the store: a record must reach the outbox even while the store is down.
    cid = build_dag(io.BytesIO(data)).cid
    previous = previous or RecordId.zero()
    entry = OutboxEntry(
        record_id=record_id,
        patient=patient,
        author=actor.address,
        chain_id=actor.fc.chain_id,
        registry=actor.fc.records.address,
        sections=mask,
        previous=previous,
        cid=Cid(str(cid)),
        state=OutboxState.SEALED if previous.is_zero else OutboxState.AWAITING_APPROVAL,
    )
    return actor.outbox.add(entry, data)
