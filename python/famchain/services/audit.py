"""``client.audit``: a patient's whole history from chain events alone, the card verified against its head; the
emergency accesses first; and the accounting of every disclosure (HIPAA §164.528, PIPL art. 45)."""

from __future__ import annotations

from collections.abc import Iterable

from famchain.chain.history import ChainEvent
from famchain.records import disclosures as accounting
from famchain.records.disclosures import Disclosure
from famchain.records.emergency import EmergencyAccess, emergency_accesses
from famchain.records.terms import TermsBook
from famchain.services._base import Service
from famchain.storage.api import ContentStore


class AuditService(Service):
    """Audit trails: anyone (the patient, a regulator) can read them; no account needed."""

    def events(self, patient: str, *, verify: bool = True) -> list[ChainEvent]:
        """Every event of the patient's history, in chain order: registration, agreements, grants,
        revocations, requests, records, updates, key releases, guardians, deletion requests, emergencies.

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

    def emergencies(self, patient: str, *, store: ContentStore | None = None) -> list[EmergencyAccess]:
        """Every emergency declared for the patient, the most recent first: who declared it, where, why, when,
        which custodians approved, the review, and what was opened (narrowed to each record's emergency block
        when a store is given or the client has one).

        Raises:
            IntegrityError: the card is not the one a declaration pinned.
        """
        c = self._client
        return emergency_accesses(c.chain, c.history, patient, store or c.store)

    def disclosures(self, patient: str, *, book: TermsBook | None = None) -> list[Disclosure]:
        """The accounting of disclosures: per record and section, every party that received its key, as author,
        family doctor, grantee or guardian (wrapped at sealing, derived from the entitlements at the anchoring
        block), key release or emergency, with the date, the purpose when known and the proving event (see
        :mod:`famchain.records.disclosures` for how each kind is known).

        Args:
            patient: whose records.
            book: consent terms' openings for the purposes [default: this client's, when it has an account and
                a home].

        Raises:
            IntegrityError: the card's events do not reproduce its on-chain head.
        """
        c = self._client
        chosen = book if book is not None else c.consents.book
        return accounting.disclosures(c.chain, c.history, patient, book=chosen, store=c.store)

    def timestamps(self, events: Iterable[ChainEvent]) -> dict[int, int]:
        """Block number -> timestamp for the blocks of ``events``."""
        chain = self._client.chain
        return {block: chain.block_timestamp(block) for block in sorted({e.block for e in events})}
