"""Accounting of disclosures (HIPAA §164.528, PIPL art. 45): per record and section, every party that ever
received a key to it, how, when, why, and the chain event that proves it.

A key reaches anyone only through an on-chain event (the design's rule), so the accounting is built from the
chain and the verified card alone, with one caveat per kind, stated in each row's ``basis``:

- **author**: the author seals every record for itself (``RecordAnchored``).
- **family doctor**, **grantee**, **guardian** (wrapped at sealing): the envelope names nobody and the author's
  view at sealing is not on chain, so these are derived from the entitlements in force at the record's
  anchoring block as the chain reconstructs them (the agreement in force with READ and its sections; every
  consent in force with READ, its grantee still enrolled as granted; every guardian with the READ scope). The
  grounds (the event that put the entitlement in force) are named next to the anchor.
- **key release** (``KeysReleased``, or a ``ConsentGranted`` naming a bundle): a bundle is sealed to its grantee
  and the chain shows its sections, not its records, so every record anchored by then holding those sections is
  listed: an upper bound of what the bundle may hold.
- **emergency**: an emergency that reached its custodian threshold (``EmergencyOpened``) disclosed to its
  physician the declared sections of the records anchored before the declaration that the record's emergency
  block shares (read from the envelope's public header when the store is given; else every declared section
  present, an upper bound). Custodians receive shares, never keys: fewer than ``t`` reveal nothing, so a
  custodian is not a recipient, and an emergency below its threshold disclosed nothing.

The patient, the subject of every record, is not listed. The purpose is the consent terms' purpose when the
caller's terms book holds their opening (else ``committed``: the chain holds only a salted hash), the agreement
for a family doctor, the emergency's reason code for an emergency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from famchain.chain.contracts import Famchain
from famchain.chain.history import AnchoredRecord, ChainEvent, History
from famchain.chain.structs import GuardianScope
from famchain.records.emergency import emergencies_from, opened_records
from famchain.records.reading import first_occurrences
from famchain.records.sections import Action, section_names
from famchain.records.terms import COMMITTED, TermsBook
from famchain.storage.api import ContentStore
from famchain.types import RecordId

AUTHOR_BASIS = "the author seals every record for itself"
SEALED_BASIS = (
    "wrapped at sealing: derived from the entitlements in force at the record's anchoring block as the chain "
    "reconstructs them (the envelope names nobody, and the author's view at sealing is not on chain)"
)
RELEASE_BASIS = (
    "may have covered: the bundle is sealed to its grantee and the chain shows its sections, not its records, so "
    "every record anchored by then holding those sections is listed"
)
EMERGENCY_BASIS = (
    "opened with the custodians' shares: the declared sections the record's emergency block shares"
)
EMERGENCY_CHAIN_BASIS = (
    "opened with the custodians' shares: every declared section the record holds (its bytes could not be read "
    "to narrow it to its emergency block)"
)


class DisclosureKind(StrEnum):
    """How a party received a key."""

    AUTHOR = "author"
    FAMILY_DOCTOR = "family-doctor"
    GRANTEE = "grantee"
    GUARDIAN = "guardian"
    KEY_RELEASE = "key-release"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Proof:
    """A chain event: its name, block and transaction."""

    event: str
    block: int
    tx_hash: str

    @classmethod
    def of(cls, event: ChainEvent) -> Proof:
        """The proof an event gives."""
        return cls(event.name, event.block, event.tx_hash)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {"event": self.event, "block": self.block, "tx": self.tx_hash}


@dataclass(frozen=True)
class Disclosure:
    """One party that received the key of one section of one record.

    Attributes:
        at: when (the proving event's block time).
        purpose: why, when known (consent terms whose opening the caller holds, the agreement, the emergency).
        proof: the event that proves the key reached the party (the anchor for keys wrapped at sealing).
        grounds: for keys wrapped at sealing, the event that put the entitlement in force.
        basis: how this row is known (see the module docstring).
        releaser: who re-wrapped the key (key releases), or the custodians' physician's institution (emergency).
    """

    record_id: RecordId
    section: str
    recipient: str
    kind: DisclosureKind
    at: int
    purpose: str | None
    proof: Proof
    basis: str
    grounds: Proof | None = None
    releaser: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "record": self.record_id.to_0x_hex(),
            "section": self.section,
            "recipient": self.recipient,
            "as": self.kind.value,
            "at": self.at,
            "purpose": self.purpose,
            "proof": self.proof.to_json(),
            "grounds": self.grounds.to_json() if self.grounds is not None else None,
            "releaser": self.releaser,
            "basis": self.basis,
        }


class _Chain:
    """Block-pinned reads with a cache (one set per block)."""

    def __init__(self, fc: Famchain, patient: str) -> None:
        self.fc = fc
        self.patient = patient
        self.times: dict[int, int] = {}

    def time(self, block: int) -> int:
        if block not in self.times:
            self.times[block] = self.fc.block_timestamp(block)
        return self.times[block]


def _latest(
    events: Iterable[ChainEvent], names: tuple[str, ...], party_arg: str, party: str, block: int
) -> ChainEvent | None:
    found = None
    for e in events:
        if e.block > block:
            break
        if e.name in names and str(e.args.get(party_arg)) == party:
            found = e
    return found


class _Purposes:
    """Why a party held keys: its consent's terms (when the book opens them), the agreement, the guardianship."""

    def __init__(self, events: list[ChainEvent], book: TermsBook | None) -> None:
        self.events = events
        self.book = book

    def consent(self, grantee: str, block: int) -> str | None:
        granted = _latest(self.events, ("ConsentGranted",), "grantee", grantee, block)
        if granted is None:
            return None
        terms = self.book.get(bytes(granted.args["terms"])) if self.book is not None else None
        return terms.purpose if terms is not None else COMMITTED

    def of(self, party: str, block: int) -> str | None:
        purpose = self.consent(party, block)
        if purpose is not None:
            return purpose
        if _latest(self.events, ("AgreementAccepted",), "doctor", party, block) is not None:
            return "treatment (family-doctor agreement)"
        if _latest(self.events, ("GuardianAppointed",), "guardian", party, block) is not None:
            return "guardian of the resident"
        return None


def _sealed_for(
    chain: _Chain, events: list[ChainEvent], record: AnchoredRecord, purposes: _Purposes
) -> list[Disclosure]:
    """Parties wrapped in at sealing, reconstructed at the anchoring block."""
    fc, patient, block = chain.fc, chain.patient, record.block
    names = section_names(record.sections)
    proof = Proof("RecordAnchored", record.block, record.tx_hash)
    out: list[Disclosure] = []

    def add(
        party: str, sections: int, kind: DisclosureKind, purpose: str | None, grounds: ChainEvent | None
    ) -> None:
        if party in (patient, record.author):
            return
        for name in names:
            if name in section_names(sections):
                out.append(
                    Disclosure(
                        record.record_id,
                        name,
                        party,
                        kind,
                        record.anchored_at,
                        purpose,
                        proof,
                        SEALED_BASIS,
                        Proof.of(grounds) if grounds is not None else None,
                    )
                )

    doctor = fc.family_doctor(patient, block)
    if doctor is not None and doctor.actions & Action.READ:
        grounds = _latest(events, ("AgreementAccepted", "AgreementRenewed"), "doctor", doctor.doctor, block)
        add(
            doctor.doctor,
            doctor.sections,
            DisclosureKind.FAMILY_DOCTOR,
            "treatment (family-doctor agreement)",
            grounds,
        )
    now = chain.time(block)
    grantees = {str(e.args["grantee"]) for e in events if e.block <= block and e.name == "ConsentGranted"}
    for grantee in sorted(grantees):
        grant = fc.consents.grant_of(patient, grantee, block)
        if not grant.active_at(now) or grant.enrollment == 0 or not grant.actions & Action.READ:
            continue
        if fc.consortium.practitioner(grantee, block).enrollment != grant.enrollment:
            continue
        grounds = _latest(events, ("ConsentGranted",), "grantee", grantee, block)
        add(grantee, grant.sections, DisclosureKind.GRANTEE, purposes.consent(grantee, block), grounds)
    guardians = {
        str(e.args["guardian"]) for e in events if e.block <= block and e.name == "GuardianAppointed"
    }
    for guardian in sorted(guardians):
        # sealing leaves out a guardian with no registered encryption key (nothing to wrap to)
        readable = fc.residents.guardian_scope(patient, guardian, block) & GuardianScope.READ
        if readable and fc.encryption_key(guardian) is not None:
            grounds = _latest(events, ("GuardianAppointed",), "guardian", guardian, block)
            add(guardian, 0xFF, DisclosureKind.GUARDIAN, "guardian of the resident (read scope)", grounds)
    return out


def _released(
    chain: _Chain, events: list[ChainEvent], card: list[AnchoredRecord], purposes: _Purposes
) -> list[Disclosure]:
    """Key releases: each bundle announced on chain, against every record anchored by then with its sections."""
    out = []
    for e in events:
        if e.name == "KeysReleased":
            sections, releaser = int(e.args["sections"]), str(e.args["releaser"])
        elif (
            e.name == "ConsentGranted"
            and any(bytes(e.args["bundleDigest"]))
            and int(e.args["actions"]) & Action.READ
        ):
            sections, releaser = int(e.args["sections"]), chain.patient
        else:
            continue
        grantee = str(e.args["grantee"])
        at = chain.time(e.block)
        purpose = purposes.of(grantee, e.block)
        for record in card:
            if record.block > e.block or grantee == record.author:
                continue
            for name in section_names(record.sections & sections):
                out.append(
                    Disclosure(
                        record.record_id,
                        name,
                        grantee,
                        DisclosureKind.KEY_RELEASE,
                        at,
                        purpose,
                        Proof.of(e),
                        RELEASE_BASIS,
                        releaser=releaser,
                    )
                )
    return out


def _emergencies(
    chain: _Chain, history: History, events: list[ChainEvent], store: ContentStore | None
) -> list[Disclosure]:
    out = []
    for info in emergencies_from(chain.fc, events):
        if info.opened_block is None or info.opened_tx is None:
            continue
        proof = Proof("EmergencyOpened", info.opened_block, info.opened_tx)
        at = chain.time(info.opened_block)
        purpose = f"emergency treatment (break the glass), emergency {info.emergency_id}: {info.reason_text}"
        for opened in opened_records(history, store, info):
            basis = EMERGENCY_BASIS if opened.from_envelope else EMERGENCY_CHAIN_BASIS
            for name in opened.sections:
                out.append(
                    Disclosure(
                        opened.record.record_id,
                        name,
                        info.physician,
                        DisclosureKind.EMERGENCY,
                        at,
                        purpose,
                        proof,
                        basis,
                        Proof("EmergencyDeclared", info.declared_block, info.declared_tx),
                        info.institution,
                    )
                )
    return out


def disclosures(
    fc: Famchain,
    history: History,
    patient: str,
    *,
    book: TermsBook | None = None,
    store: ContentStore | None = None,
) -> list[Disclosure]:
    """Every party that received the key of each section of each of ``patient``'s records, by record (card
    order), section, then time.

    Args:
        fc: the deployment's contracts.
        history: its event reader.
        patient: whose records.
        book: the consent terms' openings the caller holds (purposes; else ``committed``).
        store: where the sealed records are (narrows emergencies to the sections their emergency block shares).

    Raises:
        IntegrityError: the card's events do not reproduce its on-chain head.
    """
    card = first_occurrences(history.card(patient))
    events = history.patient_events(patient)
    chain = _Chain(fc, patient)
    purposes = _Purposes(events, book)
    rows: list[Disclosure] = []
    for record in card:
        proof = Proof("RecordAnchored", record.block, record.tx_hash)
        for name in section_names(record.sections):
            rows.append(
                Disclosure(
                    record.record_id,
                    name,
                    record.author,
                    DisclosureKind.AUTHOR,
                    record.anchored_at,
                    "treatment (author of the record)",
                    proof,
                    AUTHOR_BASIS,
                )
            )
        rows.extend(_sealed_for(chain, events, record, purposes))
    rows.extend(_released(chain, events, card, purposes))
    rows.extend(_emergencies(chain, history, events, store))
    order = {record.record_id: record.index for record in card}
    sections = {name: i for i, name in enumerate(section_names(0xFF))}
    rows.sort(key=lambda d: (order[d.record_id], sections[d.section], d.at, d.proof.block))
    return rows


__all__ = [
    "AUTHOR_BASIS",
    "EMERGENCY_BASIS",
    "EMERGENCY_CHAIN_BASIS",
    "RELEASE_BASIS",
    "SEALED_BASIS",
    "Disclosure",
    "DisclosureKind",
    "Proof",
    "disclosures",
]
