"""Emergency access (break-glass, issue #14): declarations, custodians' share releases, the physician's opening.

The flow, end to end (docs/protocol.md, "Emergency access"):

1. Sealing (:mod:`famchain.records.sealing`): while the patient's emergency choice is not zero, the keys of the
   chosen sections present in a new record are split ``t`` of ``n`` among the custodians of the sealing block
   and wrapped to their published member keys (the envelope's emergency block).
2. A physician (active practitioner of an active hospital member) declares an emergency with a reason code
   (:class:`EmergencyReason`). The declaration pins the card: its length and head at that block.
3. Each custodian's client (:func:`release_for_emergency`) takes the records the declaration pinned (index
   ``< cardLength``, the head checked), opens its own shares of the emergency sections the declaration covers,
   re-wraps them to the physician's registered key in one key bundle, stores and pins it, and approves on chain
   (``EmergencySharesReleased`` names the bundle). A custodian sees which records the patient has and which
   emergency sections they hold, never a key: its shares alone are uniformly random.
4. With ``t`` approvals, before expiry, the physician (:func:`read_emergency`) combines the announced bundles and
   opens exactly the emergency sections of those records: nothing else, and nothing anchored after the
   declaration (no custodian releases it; the bundles hold no share of it).

Everything here is read from chain events and the store; the functions take the deployment's contracts and
event reader, so a client without an account (an auditor) can list emergencies too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from famchain.chain.contracts import Famchain
from famchain.chain.history import AnchoredRecord, ChainEvent, History, address_topic
from famchain.chain.structs import ZERO_ADDRESS, ZERO_HEAD, InstitutionKind, MemberStatus, Parameter, Review
from famchain.chain.tx import TxInfo
from famchain.crypto import emergency as shares
from famchain.crypto.bundle import MAX_BUNDLE_ENTRIES, KeyBundle, OpenedBundle
from famchain.crypto.envelope import EnvelopeContext, SealedEnvelope
from famchain.errors import (
    AlreadyApprovedError,
    ContractRevertError,
    CryptoError,
    EmergencyCardLockedError,
    EmergencyExpiredError,
    EmergencyNotOpenError,
    EmergencyOptedOutError,
    FamchainError,
    InputError,
    InstitutionLimitError,
    InstitutionSuspendedError,
    InsufficientSharesError,
    IntegrityError,
    NotARecipientError,
    NotCustodianError,
    NotDeclaringPhysicianError,
    NothingToReleaseError,
    NotHospitalPhysicianError,
    NotReviewerError,
    PhysicianLimitError,
    StorageError,
    StoreUnavailableError,
    TooFewCustodiansError,
    UnknownEmergencyError,
)
from famchain.i18n import _
from famchain.records.actor import Actor
from famchain.records.deletion import deletions
from famchain.records.model import decode_section
from famchain.records.reading import ReadResult, check_bytes, context_of, first_occurrences, opened_bundles
from famchain.records.sections import section_names
from famchain.records.sharing import Skipped
from famchain.storage.api import ContentStore
from famchain.storage.cid import cid_from_digest, digest_and_codec
from famchain.storage.unixfs import build_dag
from famchain.types import Cid, RecordId

EMERGENCY_EVENTS = ("EmergencyDeclared", "EmergencySharesReleased", "EmergencyOpened", "EmergencyReviewed")
NOT_EMERGENCY = "not an emergency section of this emergency"
NO_BLOCK = "sealed without emergency shares (the patient had opted out, or there were too few custodians)"


class EmergencyReason(IntEnum):
    """The reason codes a declaration carries (``uint8 reason`` on chain; the catalogue is the client's)."""

    UNCONSCIOUS = 1
    """The patient is unconscious or otherwise unable to consent."""
    LIFE_THREATENING = 2
    """An immediate threat to life or health needs the history now."""
    MAJOR_TRAUMA = 3
    """Major trauma (accident, injury) on arrival."""
    POISONING = 4
    """Poisoning or overdose: prescriptions and allergies needed."""
    CANNOT_COMMUNICATE = 5
    """Conscious but unable to communicate (language, cognition, psychiatric crisis) and no guardian present."""
    OTHER = 255
    """Any other emergency (to be explained in the review)."""

    @property
    def label(self) -> str:
        """``life-threatening``: the form the command line takes and prints."""
        return self.name.lower().replace("_", "-")

    @property
    def description(self) -> str:
        """One sentence for the audit."""
        return _REASONS[self]


_REASONS = {
    EmergencyReason.UNCONSCIOUS: "patient unconscious or unable to consent",
    EmergencyReason.LIFE_THREATENING: "immediate threat to life or health",
    EmergencyReason.MAJOR_TRAUMA: "major trauma on arrival",
    EmergencyReason.POISONING: "poisoning or overdose",
    EmergencyReason.CANNOT_COMMUNICATE: "patient cannot communicate and no guardian is present",
    EmergencyReason.OTHER: "other emergency",
}


def parse_reason(value: str | int) -> EmergencyReason:
    """A reason code from its label (``unconscious``), its number, or the enum.

    Raises:
        InputError: not a known reason.
    """
    if isinstance(value, EmergencyReason):
        return value
    text = str(value).strip().lower().replace("_", "-")
    for reason in EmergencyReason:
        if text in (reason.label, str(int(reason))):
            return reason
    known = ", ".join(r.label for r in EmergencyReason)
    raise InputError(
        _("unknown emergency reason {value!r}; use one of {known}").format(value=value, known=known)
    )


def reason_text(code: int) -> str:
    """What a reason code means (``reason 7`` for a code outside the catalogue)."""
    try:
        reason = EmergencyReason(code)
    except ValueError:
        return f"reason {code}"
    return f"{reason.label} ({reason.description})"


# --- what the chain says about an emergency --------------------------------------------------------------


@dataclass(frozen=True)
class ShareApproval:
    """A custodian's share release (``EmergencySharesReleased``): its bundle, and the approvals so far."""

    custodian: str
    bundle: Cid
    approvals: int
    block: int
    tx_hash: str


@dataclass(frozen=True)
class EmergencyReview:
    """A review (``EmergencyReviewed``): who, accepted or contested."""

    reviewer: str
    contested: bool
    block: int
    tx_hash: str


@dataclass(frozen=True)
class EmergencyInfo:
    """An emergency as its events and storage tell it.

    Attributes:
        card_length: records ``0 .. card_length - 1`` of the patient's card may open.
        card_head: the card head at declaration (pins exactly those records).
        opened_block: the block of ``EmergencyOpened`` (the threshold reached), None before.
    """

    emergency_id: int
    patient: str
    physician: str
    institution: str
    reason: int
    sections: int
    card_length: int
    card_head: bytes
    declared_at: int
    expires_at: int
    threshold: int
    declared_block: int
    declared_tx: str
    approvals: tuple[ShareApproval, ...] = ()
    opened_block: int | None = None
    opened_tx: str | None = None
    reviews: tuple[EmergencyReview, ...] = ()

    @property
    def review(self) -> Review:
        """Contested once any reviewer contested it (final), else accepted once reviewed."""
        if any(r.contested for r in self.reviews):
            return Review.CONTESTED
        return Review.ACCEPTED if self.reviews else Review.NONE

    @property
    def opened(self) -> bool:
        """True once ``t`` custodians released their shares (the physician could open the sections)."""
        return self.opened_block is not None

    def is_open(self, now: int) -> bool:
        """True while it has its approvals and has not expired (``EmergencyAccess.isOpen``)."""
        return len(self.approvals) >= self.threshold and now < self.expires_at

    def state(self, now: int) -> str:
        """``open``, ``waiting for custodians (k of t)``, ``expired`` or ``over (was opened)``."""
        if now >= self.expires_at:
            return "over (was opened)" if self.opened else "expired (never opened)"
        if len(self.approvals) >= self.threshold:
            return "open"
        return f"waiting for custodians ({len(self.approvals)} of {self.threshold})"

    @property
    def reason_text(self) -> str:
        """The reason code in words."""
        return reason_text(self.reason)

    def to_json(self, now: int | None = None) -> dict[str, Any]:
        """Machine-readable form (``state`` when ``now`` is given)."""
        out: dict[str, Any] = {
            "id": self.emergency_id,
            "patient": self.patient,
            "physician": self.physician,
            "institution": self.institution,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "sections": section_names(self.sections),
            "card_length": self.card_length,
            "card_head": "0x" + self.card_head.hex(),
            "declared_at": self.declared_at,
            "expires_at": self.expires_at,
            "threshold": self.threshold,
            "declared": {"block": self.declared_block, "tx": self.declared_tx},
            "approvals": [
                {"custodian": a.custodian, "bundle": str(a.bundle), "block": a.block, "tx": a.tx_hash}
                for a in self.approvals
            ],
            "opened": None
            if self.opened_block is None
            else {"block": self.opened_block, "tx": self.opened_tx},
            "review": self.review.name.lower(),
            "reviews": [
                {"reviewer": r.reviewer, "contested": r.contested, "block": r.block, "tx": r.tx_hash}
                for r in self.reviews
            ],
        }
        if now is not None:
            out["state"] = self.state(now)
        return out


def _topics(history: History) -> list[str]:
    return ["0x" + history.topic(name).hex() for name in EMERGENCY_EVENTS]


def emergency_events(
    fc: Famchain,
    history: History,
    *,
    patient: str | None = None,
    emergency_id: int | None = None,
    physician: str | None = None,
) -> list[ChainEvent]:
    """The emergency events (declarations, share releases, openings, reviews), in chain order: of one patient,
    one emergency, or every emergency (one ``eth_getLogs`` filter); with ``physician`` only the declarations of
    that physician and the events of those emergencies."""
    if physician is not None:
        declared = "0x" + history.topic("EmergencyDeclared").hex()
        mine = history.events([declared, None, None, address_topic(physician)], [fc.emergency.address])
        ids = ["0x" + int(e.args["id"]).to_bytes(32, "big").hex() for e in mine]
        if not ids:
            return []
        return history.events([_topics(history), None, ids], [fc.emergency.address])
    id_topic = None if emergency_id is None else "0x" + int(emergency_id).to_bytes(32, "big").hex()
    patient_topic = None if patient is None else address_topic(patient)
    return history.events([_topics(history), patient_topic, id_topic], [fc.emergency.address])


def emergencies_from(fc: Famchain, events: Iterable[ChainEvent]) -> list[EmergencyInfo]:
    """The emergencies the events declare, with their approvals, opening and reviews, in declaration order (one
    contract read per emergency for its threshold and times)."""
    declared: dict[int, ChainEvent] = {}
    approvals: dict[int, list[ShareApproval]] = {}
    opened: dict[int, ChainEvent] = {}
    reviews: dict[int, list[EmergencyReview]] = {}
    for e in events:
        if e.name not in EMERGENCY_EVENTS:
            continue
        a = e.args
        if e.name == "EmergencyDeclared":
            declared[int(a["id"])] = e
        elif e.name == "EmergencySharesReleased":
            approvals.setdefault(int(a["id"]), []).append(
                ShareApproval(
                    str(a["custodian"]),
                    cid_from_digest(bytes(a["bundleDigest"]), int(a["bundleCodec"])),
                    int(a["approvals"]),
                    e.block,
                    e.tx_hash,
                )
            )
        elif e.name == "EmergencyOpened":
            opened[int(a["id"])] = e
        elif e.name == "EmergencyReviewed":
            reviews.setdefault(int(a["id"]), []).append(
                EmergencyReview(str(a["reviewer"]), bool(a["contested"]), e.block, e.tx_hash)
            )
    out = []
    for emergency_id, e in declared.items():
        a = e.args
        stored = fc.emergency.emergency(emergency_id)
        done = opened.get(emergency_id)
        out.append(
            EmergencyInfo(
                emergency_id,
                str(a["patient"]),
                str(a["physician"]),
                str(a["institution"]),
                int(a["reason"]),
                int(a["sections"]),
                int(a["cardLength"]),
                bytes(a["cardHead"]),
                stored.declaredAt,
                int(a["expiresAt"]),
                stored.threshold,
                e.block,
                e.tx_hash,
                tuple(approvals.get(emergency_id, ())),
                done.block if done is not None else None,
                done.tx_hash if done is not None else None,
                tuple(reviews.get(emergency_id, ())),
            )
        )
    return out


def emergency_info(fc: Famchain, history: History, emergency_id: int) -> EmergencyInfo:
    """One emergency.

    Raises:
        UnknownEmergencyError: no such emergency.
    """
    if emergency_id < 1 or emergency_id > fc.emergency.emergency_count():
        raise UnknownEmergencyError(emergency_id)
    found = emergencies_from(fc, emergency_events(fc, history, emergency_id=emergency_id))
    if not found:
        raise UnknownEmergencyError(emergency_id)
    return found[0]


def covered_records(history: History, info: EmergencyInfo) -> list[AnchoredRecord]:
    """The records an emergency may open: the first ``card_length`` of the patient's verified card, which must
    end at the head the declaration pinned (each id once: its first occurrence).

    Raises:
        IntegrityError: the card's history does not reproduce its head, or not the pinned one.
    """
    card = history.card(info.patient)[: info.card_length]
    head = card[-1].head if card else ZERO_HEAD
    if len(card) != info.card_length or head != info.card_head:
        raise IntegrityError(
            _(
                "the first {card_length} records of the card of {patient} are not the ones emergency {emergency_id} pinned (head 0x{card_head})"
            ).format(
                card_length=info.card_length,
                patient=info.patient,
                emergency_id=info.emergency_id,
                card_head=info.card_head.hex(),
            )
        )
    return first_occurrences(card)


@dataclass(frozen=True)
class OpenedRecord:
    """What an opened emergency disclosed of one record: the sections whose keys the physician could rebuild.

    Attributes:
        from_envelope: True when the sections come from the record's emergency block (its public header, read
            from the store); False when the store could not be read: then every declared section present is
            listed (an upper bound).
    """

    record: AnchoredRecord
    sections: tuple[str, ...]
    from_envelope: bool


def opened_records(history: History, store: ContentStore | None, info: EmergencyInfo) -> list[OpenedRecord]:
    """What an emergency opened, per covered record (nothing before ``t`` custodians approved: fewer shares
    reveal nothing). The sections are the declared ones the record holds and its emergency block shares.

    Raises:
        IntegrityError: the card is not the one the declaration pinned.
    """
    if not info.opened:
        return []
    wanted = set(section_names(info.sections))
    out = []
    for record in covered_records(history, info):
        names = wanted & set(section_names(record.sections))
        if not names:
            continue
        from_envelope = False
        if store is not None:
            try:
                sealed = check_bytes(record, store.get(record.cid))
            except FamchainError:  # the store is down or lost it: the chain's upper bound stands
                sealed = None
            if sealed is not None:
                names &= set(sealed.emergency_sections)
                from_envelope = True
        if names:
            ordered = tuple(n for n in section_names(record.sections) if n in names)
            out.append(OpenedRecord(record, ordered, from_envelope))
    return out


@dataclass(frozen=True)
class EmergencyAccess:
    """An emergency access as the patient's audit shows it: who (physician, institution), why (reason), when,
    the custodians that approved, the review, and what was opened."""

    emergency: EmergencyInfo
    opened: tuple[OpenedRecord, ...]

    def to_json(self, now: int | None = None) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            **self.emergency.to_json(now),
            "opened_records": [
                {
                    "record": o.record.record_id.to_0x_hex(),
                    "sections": list(o.sections),
                    "from_envelope": o.from_envelope,
                }
                for o in self.opened
            ],
        }


def emergency_accesses(
    fc: Famchain, history: History, patient: str, store: ContentStore | None = None
) -> list[EmergencyAccess]:
    """Every emergency declared for ``patient``, the most recent first, with what each opened.

    Raises:
        IntegrityError: the card is not the one a declaration pinned.
    """
    infos = emergencies_from(fc, emergency_events(fc, history, patient=patient))
    return [EmergencyAccess(i, tuple(opened_records(history, store, i))) for i in reversed(infos)]


# --- refusals in their own words --------------------------------------------------------------------------


def refusal(
    fc: Famchain, exc: ContractRevertError, *, account: str, patient: str | None = None, emergency_id: int = 0
) -> ContractRevertError:
    """The emergency error a contract refusal stands for, with its own sentence (the refusal itself when no
    emergency error fits)."""
    name = exc.error_name
    if name == "EmergencyAccessNotHospitalPhysician":
        return not_hospital_physician(fc, account)
    if name == "EmergencyAccessOptedOut" and patient is not None:
        return EmergencyOptedOutError(patient)
    if name == "EmergencyAccessCardLocked":
        locked = patient or fc.emergency.emergency(emergency_id).patient
        return EmergencyCardLockedError(locked, fc.residents.deletion_requested_at(locked, bytes(32)))
    if name == "EmergencyAccessPhysicianLimit":
        return PhysicianLimitError(account, fc.consortium.parameter(Parameter.PHYSICIAN_DAILY_LIMIT))
    if name == "EmergencyAccessInstitutionLimit":
        institution = fc.practitioner(account).institution
        return InstitutionLimitError(institution, fc.consortium.parameter(Parameter.INSTITUTION_DAILY_LIMIT))
    if name == "EmergencyAccessTooFewCustodians":
        threshold = fc.consortium.parameter(Parameter.CUSTODIAN_THRESHOLD)
        return TooFewCustodiansError(len(fc.consortium.custodians()), threshold)
    if name == "EmergencyAccessExpired":
        return EmergencyExpiredError(emergency_id, fc.emergency.emergency(emergency_id).expiresAt)
    if name == "EmergencyAccessUnknown":
        return UnknownEmergencyError(emergency_id)
    if name == "EmergencyAccessNotCustodian":
        return NotCustodianError(account)
    if name == "EmergencyAccessAlreadyApproved":
        return AlreadyApprovedError(emergency_id, account)
    if name == "EmergencyAccessNotReviewer":
        return NotReviewerError(emergency_id, account)
    return exc


def not_hospital_physician(fc: Famchain, account: str) -> ContractRevertError:
    """Why ``account`` may not declare: no practitioner, a suspended or removed hospital, another kind of
    institution, or deactivated."""
    status = fc.practitioner(account)
    if status.institution == ZERO_ADDRESS:
        return NotHospitalPhysicianError(account, _("it is not a registered practitioner"))
    member = fc.member(status.institution)
    if member.status is not MemberStatus.ACTIVE:
        return InstitutionSuspendedError(account, status.institution, member.status.name.lower())
    if member.kind is not InstitutionKind.HOSPITAL:
        return NotHospitalPhysicianError(
            account,
            _("its institution {institution} is a {label} member, not a hospital").format(
                institution=status.institution, label=member.kind.label
            ),
        )
    return NotHospitalPhysicianError(
        account,
        _("it is no longer an active practitioner of {institution}").format(institution=status.institution),
    )


# --- the custodian: release its shares ------------------------------------------------------------------


@dataclass(frozen=True)
class ShareRelease:
    """A custodian's approval: the bundle of its shares re-wrapped to the physician, how many records it covers,
    the records it left out and why, and the approval's transaction."""

    emergency_id: int
    bundle_cid: Cid
    records: int
    skipped: tuple[Skipped, ...]
    tx: TxInfo
    opened: bool

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "emergency": self.emergency_id,
            "bundle": str(self.bundle_cid),
            "records": self.records,
            "skipped": [s.to_json() for s in self.skipped],
            "tx": self.tx.tx_hash,
            "opened": self.opened,
        }


def release_for_emergency(actor: Actor, emergency_id: int) -> ShareRelease:
    """As a custodian: release your shares of the records an emergency covers to its physician, and approve.

    The chain's refusal (unknown, expired, not a custodian, approved already, physician no longer active,
    card locked, patient opted out since) comes first, before anything is built or stored. Then the records
    the declaration pinned are checked against the pinned head; for each record holding one of the declared
    sections the custodian's own shares are opened (the envelope authenticated); records whose deletion the
    resident requested, records sealed without emergency shares or for another custodian set, and unusable
    records are left out and named. The shares go into one bundle for the physician's registered key (at most
    4,096 records: the latest), stored and pinned, then ``approve`` announces it.

    Raises:
        EmergencyRefusedError: the chain refuses the approval (each cause its own subclass).
        NothingToReleaseError: this custodian holds no share of any covered record (nothing is sent).
        IntegrityError: the card is not the one the declaration pinned.
        StorageError: the store is unreachable.
    """
    fc = actor.fc
    me = actor.address
    probe = fc.emergency.approve(emergency_id, b"\x01" * 32, 0x55)
    try:
        actor.sender.simulate(probe)
    except ContractRevertError as exc:
        raise refusal(fc, exc, account=me, emergency_id=emergency_id) from None
    info = emergency_info(fc, actor.history, emergency_id)
    physician_key = fc.consortium.encryption_key_of(info.physician)
    if not physician_key:
        raise InputError(
            _("physician {physician} has no registered encryption key").format(physician=info.physician)
        )
    wanted = set(section_names(info.sections))
    records = covered_records(actor.history, info)
    # The same rule as every other release: a deletion request (the record's, an earlier version's or the
    # card's) or an erasure keeps the record out.
    locks = deletions(actor, info.patient, records)
    grants: list[tuple[RecordId, SealedEnvelope, EnvelopeContext]] = []
    skipped: list[Skipped] = []
    covered = 0
    for record in records:
        if not wanted & set(section_names(record.sections)):
            continue
        covered += 1
        why = locks.skip_reason(record.record_id)
        if why is not None:
            skipped.append(Skipped(record.record_id, why))
            continue
        try:
            sealed = check_bytes(record, actor.store.get(record.cid))
            context = context_of(actor, record)
            if sealed.emergency is None or not wanted & set(sealed.emergency_sections):
                skipped.append(Skipped(record.record_id, NO_BLOCK))
                continue
            shares.open_emergency_shares(sealed, actor.private_key, context)
        except StoreUnavailableError:
            raise
        except NotARecipientError:
            skipped.append(Skipped(record.record_id, f"sealed for another custodian set, not for {me}"))
            continue
        except (IntegrityError, InputError, CryptoError, StorageError) as exc:
            skipped.append(Skipped(record.record_id, f"unusable: {exc}"))
            continue
        grants.append((record.record_id, sealed, context))
    if not grants:
        reason = skipped[0].reason if skipped else "the card holds no record with an emergency section"
        raise NothingToReleaseError(emergency_id, me, covered, reason)
    if len(grants) > MAX_BUNDLE_ENTRIES:
        skipped.extend(
            Skipped(
                record_id,
                f"over the {MAX_BUNDLE_ENTRIES} records one bundle holds (the latest were released)",
            )
            for record_id, _, _ in grants[:-MAX_BUNDLE_ENTRIES]
        )
        grants = grants[-MAX_BUNDLE_ENTRIES:]
    bundle = shares.release_shares(
        actor.private_key, physician_key, [(s, c) for _, s, c in grants], sections=wanted
    )
    cid = _store(actor.store, bundle)
    digest, codec = digest_and_codec(cid)
    try:
        receipt = actor.sender.transact(
            fc.emergency.approve(emergency_id, digest, codec), "approve emergency"
        )
    except ContractRevertError as exc:
        raise refusal(fc, exc, account=me, emergency_id=emergency_id) from None
    approvals = fc.emergency.emergency(emergency_id).approvals
    return ShareRelease(
        emergency_id,
        cid,
        len(grants),
        tuple(skipped),
        TxInfo.from_receipt(receipt),
        approvals >= info.threshold,
    )


def _store(store: ContentStore, bundle: KeyBundle) -> Cid:
    data = bundle.to_bytes()
    local = Cid(str(build_dag(io.BytesIO(data)).cid))
    cid = store.put(data, pin=True)
    if str(cid) != str(local):
        raise StorageError(
            _("the store named the share bundle {cid}, expected {local}").format(cid=cid, local=local)
        )
    return local


# --- the physician: open the emergency sections -------------------------------------------------------


@dataclass(frozen=True)
class EmergencyRead:
    """What an emergency opened: per covered record with an emergency section, the sections readable and the
    others withheld with the reason."""

    emergency: EmergencyInfo
    results: tuple[ReadResult, ...] = field(default=())

    @property
    def opened(self) -> list[ReadResult]:
        """The records with at least one section opened."""
        return [r for r in self.results if r.sections]

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {"emergency": self.emergency.to_json(), "records": [r.to_json() for r in self.results]}


def announced_share_bundles(actor: Actor, info: EmergencyInfo) -> list[KeyBundle]:
    """The share bundles announced on chain for an emergency, fetched (missing or malformed ones are skipped:
    they open nothing)."""
    out = []
    for approval in info.approvals:
        try:
            out.append(KeyBundle.from_bytes(actor.store.get(approval.bundle)))
        except StoreUnavailableError:
            raise
        except FamchainError:
            continue
    return out


def read_emergency(actor: Actor, emergency_id: int) -> EmergencyRead:
    """As the declaring physician: open exactly the emergency sections of the records the emergency covers.

    Only bundles announced on chain for this emergency are used; only the declared sections of records anchored
    before the declaration are combined; a record whose shares do not reach the threshold is reported withheld
    with the reason (the others still open).

    Raises:
        UnknownEmergencyError: no such emergency.
        NotDeclaringPhysicianError: the caller did not declare it.
        EmergencyExpiredError: it is over (the client opens nothing after it, as the chain says).
        EmergencyNotOpenError: fewer custodians approved than the threshold.
        IntegrityError: the card is not the one the declaration pinned.
    """
    fc = actor.fc
    info = emergency_info(fc, actor.history, emergency_id)
    if actor.address != info.physician:
        raise NotDeclaringPhysicianError(emergency_id, actor.address, info.physician)
    if fc.latest_timestamp() >= info.expires_at:
        raise EmergencyExpiredError(emergency_id, info.expires_at)
    if len(info.approvals) < info.threshold:
        raise EmergencyNotOpenError(emergency_id, len(info.approvals), info.threshold)
    bundles = opened_bundles(actor, announced_share_bundles(actor, info))
    return EmergencyRead(info, tuple(_open_records(actor, info, bundles)))


def _open_records(actor: Actor, info: EmergencyInfo, bundles: Sequence[OpenedBundle]) -> list[ReadResult]:
    wanted = set(section_names(info.sections))
    out = []
    for record in covered_records(actor.history, info):
        names = wanted & set(section_names(record.sections))
        if not names:
            continue
        withheld = {n: NOT_EMERGENCY for n in section_names(record.sections) if n not in names}
        try:
            sealed = check_bytes(record, actor.store.get(record.cid))
        except StoreUnavailableError:
            raise
        except (IntegrityError, InputError, CryptoError, StorageError) as exc:
            reason = f"unusable record: {exc}"
            out.append(
                ReadResult(record, {}, dict.fromkeys(section_names(record.sections), reason), str(exc))
            )
            continue
        shared = names & set(sealed.emergency_sections)
        if not shared:
            out.append(ReadResult(record, {}, {**withheld, **dict.fromkeys(sorted(names), NO_BLOCK)}))
            continue
        try:
            opened = shares.open_with_shares(
                sealed, actor.private_key, context_of(actor, record), bundles, sections=shared
            )
        except InsufficientSharesError as exc:
            why = f"{exc.have} of the {exc.need} custodian shares of this record were released"
            out.append(ReadResult(record, {}, {**withheld, **dict.fromkeys(sorted(names), why)}))
            continue
        except (IntegrityError, CryptoError) as exc:
            out.append(
                ReadResult(record, {}, {**withheld, **dict.fromkeys(sorted(names), str(exc))}, str(exc))
            )
            continue
        sections: dict[str, Any] = {}
        for name, value in opened.items():
            if isinstance(value, bytes):
                sections[name] = decode_section(name, value)
            elif name in names:
                withheld[name] = NO_BLOCK
        out.append(ReadResult(record, sections, withheld))
    return out


__all__ = [
    "EMERGENCY_EVENTS",
    "EmergencyAccess",
    "EmergencyInfo",
    "EmergencyRead",
    "EmergencyReason",
    "EmergencyReview",
    "OpenedRecord",
    "ShareApproval",
    "ShareRelease",
    "announced_share_bundles",
    "covered_records",
    "emergencies_from",
    "emergency_accesses",
    "emergency_events",
    "emergency_info",
    "not_hospital_physician",
    "opened_records",
    "parse_reason",
    "read_emergency",
    "reason_text",
    "refusal",
    "release_for_emergency",
]
