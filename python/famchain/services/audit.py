"""``client.audit``: a patient's whole history from chain events alone, the card verified against its head."""

from __future__ import annotations

from collections.abc import Iterable

from famchain.chain.history import ChainEvent
from famchain.services._base import Service


class AuditService(Service):
    """Audit trails: anyone (the patient, a regulator) can read them; no account needed."""

    def events(self, patient: str, *, verify: bool = True) -> list[ChainEvent]:
        """Every event of the patient's history, in chain order: registration, agreements, grants,
        revocations, requests, records, updates and key releases.

        Args:
            patient: whose history.
            verify: first check that the record events reproduce the card's on-chain head.

        Raises:
            IntegrityError: the card's events do not reproduce its head (missing or forged history).
        """
        history = self._client.history
        if verify:
            history.card(patient)
        return history.patient_events(patient)

    def timestamps(self, events: Iterable[ChainEvent]) -> dict[int, int]:
        """Block number -> timestamp for the blocks of ``events``."""
        chain = self._client.chain
        return {block: chain.block_timestamp(block) for block in sorted({e.block for e in events})}
