"""Who may fetch which sealed bytes from a member's gateway, as the chain says now.

A gateway learns what each stored object is from the deployment's events, read incrementally (one
``eth_getLogs`` per new stretch of blocks):

- a record (``RecordAnchored``): its patient and author fetch it always; the family doctor, a READ guardian and a
  grantee while the chain lets them READ at least one of its sections; an emergency physician while an
  emergency it declared on the patient is open, for the records anchored before the declaration;
- a key bundle (``ConsentGranted``, ``KeysReleased``): the patient and the releaser always, the grantee while it
  may read something of the patient's; an emergency bundle (``EmergencySharesReleased``): the patient and the
  custodian always, the physician while the emergency is open;
- a sealed profile (``ResidentRegistered``, ``ProfileUpdated``): the resident, and whoever may read something of
  the resident's (the family doctor it is sealed to);
- a request's sealed terms (``AccessRequested``): the patient and the requester.

An active member institution's admin account fetches anything (pinning and replication between member stores:
it only ever holds ciphertext), unless the gateway is run without member replication; a custodian then still
fetches the records an emergency declared on their patient may open (its shares are in them). Blocks below the
root of a multi-block record are served on the same terms as their root. Only the first event naming an object
counts (a resident can name any digest it has seen later, e.g. anchor someone else's CID on its own card; that
must not make it a party). Everything else is refused — a
stranger, a revoked or expired grantee, a former family doctor, a removed member — and so is a block the
chain names nowhere; so is a record under the resident's deletion request (its own, an earlier version's or the
whole card's) to everyone but the patient and the member stores that must keep it until it is erased. The events
and the answers about an account are reused for ``recheck_seconds`` (1 s by default): a revocation, a declaration
or a deletion request takes effect at the gateway within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from famchain.chain.contracts import Famchain
from famchain.chain.history import ChainEvent, History
from famchain.errors import FamchainError, GatewayRefusedError
from famchain.i18n import _
from famchain.records.sections import Action
from famchain.storage.cid import DAG_PB, RAW, CidInfo, cid_from_digest, parse_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.unixfs import walk_dag
from famchain.types import Address

DEFAULT_RECHECK: Final = 1.0


class Kind(Enum):
    """What a stored object is, as the chain names it."""

    RECORD = "record"
    BUNDLE = "key bundle"
    EMERGENCY_BUNDLE = "emergency key bundle"
    PROFILE = "profile"
    REQUEST_TERMS = "request terms"


@dataclass(frozen=True)
class Claim:
    """One event's word on a stored object: whose it is and who fetches it always.

    Attributes:
        parties: lower-cased accounts always served (patient, author, releaser, custodian, requester).
        grantee: the account a bundle is for (served while entitled).
        sections: a record's sections; ``index``: its card position.
        emergency: the emergency an emergency bundle belongs to.
    """

    kind: Kind
    patient: str
    parties: frozenset[str]
    codec: int
    grantee: str | None = None
    sections: int = 0
    index: int = -1
    emergency: int | None = None
    record: bytes = b""
    """A record's id (its versions' locks reach it through ``previous``)."""


@dataclass(frozen=True)
class Declared:
    """An emergency declaration: who may open which records of the patient while it is open."""

    emergency: int
    physician: str
    card_length: int


_EVENTS: Final = (
    "DeletionRequested",
    "RecordAnchored",
    "ConsentGranted",
    "KeysReleased",
    "EmergencyDeclared",
    "EmergencySharesReleased",
    "ResidentRegistered",
    "ProfileUpdated",
    "AccessRequested",
)


@dataclass
class _Cached:
    value: object
    at: float


@dataclass
class _Index:
    block: int
    claims: dict[bytes, list[Claim]] = field(default_factory=dict)
    emergencies: dict[str, list[Declared]] = field(default_factory=dict)
    expanded: set[bytes] = field(default_factory=set)
    previous: dict[bytes, bytes] = field(default_factory=dict)
    """Record id -> the record it amends."""
    locked: set[bytes] = field(default_factory=set)
    """Record ids whose deletion was requested."""
    locked_cards: set[str] = field(default_factory=set)
    """Patients (lower-case) who asked for their whole card's deletion."""


class ChainGuard:
    """A :class:`~famchain.storage.access.Guard` that asks the chain.

    Args:
        fc: the deployment.
        history: its event reader (one is built when None).
        store: the gateway's own store, to serve the blocks below a multi-block record's root.
        members_replicate: let active member institutions fetch everything (replication).
        recheck_seconds: how long an answer about an account is reused.
        clock: monotonic seconds (tests move it).
    """

    def __init__(
        self,
        fc: Famchain,
        history: History | None = None,
        *,
        store: EmbeddedStore | None = None,
        members_replicate: bool = True,
        recheck_seconds: float = DEFAULT_RECHECK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fc = fc
        self.history = history or History(fc)
        self.store = store
        self.members_replicate = members_replicate
        self.recheck = recheck_seconds
        self.clock = clock
        self._index = _Index(fc.deployment.start_block - 1)
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._lock = threading.RLock()
        self._topics = ["0x" + self.history.topic(name).hex() for name in _EVENTS]
        self._refreshed = float("-inf")

    # --- the index ----------------------------------------------------------------------------------

    def refresh(self) -> int:
        """Index the events of the blocks since the last refresh; returns the latest block indexed."""
        with self._lock:
            self._refreshed = self.clock()
            latest = self.fc.block_number()
            if latest > self._index.block:
                for event in self.history.events(
                    [self._topics], from_block=self._index.block + 1, to_block=latest
                ):
                    self._add(event)
                self._index.block = latest
            return self._index.block

    def _add(self, event: ChainEvent) -> None:
        a = event.args
        name = event.name
        if name == "DeletionRequested":
            record = bytes(a["recordId"])
            if any(record):
                self._index.locked.add(record)
            else:
                self._index.locked_cards.add(str(a["resident"]).lower())
            return
        if name == "EmergencyDeclared":
            declared = Declared(int(a["id"]), str(a["physician"]).lower(), int(a["cardLength"]))
            self._index.emergencies.setdefault(str(a["patient"]), []).append(declared)
            return
        if name == "RecordAnchored":
            patient, author = str(a["patient"]), str(a["author"])
            record = bytes(a["recordId"])
            if any(bytes(a["previous"])):
                self._index.previous.setdefault(record, bytes(a["previous"]))
            claim = Claim(
                Kind.RECORD,
                patient,
                frozenset({patient.lower(), author.lower()}),
                int(a["cidCodec"]),
                sections=int(a["sections"]),
                index=int(a["index"]),
                record=record,
            )
            self._claim(bytes(a["cidDigest"]), claim)
        elif name in ("ConsentGranted", "KeysReleased"):
            patient = str(a["patient"])
            parties = {patient.lower()}
            if name == "KeysReleased":
                parties.add(str(a["releaser"]).lower())
            claim = Claim(Kind.BUNDLE, patient, frozenset(parties), int(a["bundleCodec"]), str(a["grantee"]))
            self._claim(bytes(a["bundleDigest"]), claim)
        elif name == "EmergencySharesReleased":
            patient = str(a["patient"])
            claim = Claim(
                Kind.EMERGENCY_BUNDLE,
                patient,
                frozenset({patient.lower(), str(a["custodian"]).lower()}),
                int(a["bundleCodec"]),
                str(a["physician"]),
                emergency=int(a["id"]),
            )
            self._claim(bytes(a["bundleDigest"]), claim)
        elif name in ("ResidentRegistered", "ProfileUpdated"):
            resident = str(a["resident"])
            self._claim(
                bytes(a["profile"]), Claim(Kind.PROFILE, resident, frozenset({resident.lower()}), RAW)
            )
        elif name == "AccessRequested":
            patient, requester = str(a["patient"]), str(a["grantee"])
            both = frozenset({patient.lower(), requester.lower()})
            self._claim(bytes(a["terms"]), Claim(Kind.REQUEST_TERMS, patient, both, RAW))

    def _claim(self, digest: bytes, claim: Claim) -> None:
        # The first event that names an object says whose it is. Anyone can name a digest they have seen later
        # (a resident anchoring someone else's CID on their own card, or committing it as their profile), so a
        # later naming never adds who is served.
        if any(digest) and digest not in self._index.claims:
            self._index.claims[digest] = [claim]

    def claims(self, cid: CidInfo) -> list[Claim]:
        """What the chain says ``cid`` is (after indexing new blocks when it is unknown); a block below a
        multi-block record's root gets the root's claims."""
        with self._lock:
            if self.clock() - self._refreshed >= self.recheck:
                # New declarations and deletion requests count from the next check on, like revocations.
                self.refresh()
            found = self._index.claims.get(cid.digest)
            if found is None:
                self.refresh()
                found = self._index.claims.get(cid.digest)
            if found is None and self.store is not None:
                self._expand()
                found = self._index.claims.get(cid.digest)
            return list(found or [])

    def _expand(self) -> None:
        """Give the blocks below each multi-block root held here their root's claims (once per root)."""
        assert self.store is not None
        for digest, claims in list(self._index.claims.items()):
            codec = claims[0].codec
            if codec != DAG_PB or digest in self._index.expanded:
                continue
            root = parse_cid(cid_from_digest(digest, codec))
            if not self.store.has(root.cid):
                continue
            try:
                for child, _data in walk_dag(root, self.store.get_block):
                    if child.digest not in self._index.claims:
                        self._index.claims[child.digest] = list(claims)
            except FamchainError:
                continue  # incomplete here: try again next time
            self._index.expanded.add(digest)

    # --- the chain's answers about an account -------------------------------------------------------

    def _cached(self, key: tuple[str, ...], compute: Callable[[], object]) -> object:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit.at < self.recheck:
                return hit.value
        value = compute()
        with self._lock:
            self._cache[key] = _Cached(value, now)
        return value

    def readable(self, reader: str, patient: str) -> int:
        """The sections of ``patient`` the chain lets ``reader`` READ now (consent, agreement, guardianship)."""

        def compute() -> int:
            fc = self.fc
            mask = 0
            grant = fc.consents.grant_of(patient, reader)
            in_force = grant.active_at(fc.latest_timestamp()) and grant.actions & Action.READ
            if in_force and grant.enrollment and fc.consortium.enrollment_of(reader) == grant.enrollment:
                mask |= grant.sections
            access = fc.residents.access_of(patient, reader)
            if access.actions & Action.READ:
                mask |= access.sections
            return mask

        mask = self._cached(("readable", reader.lower(), patient.lower()), compute)
        return mask if isinstance(mask, int) else 0

    def delegate(self, reader: Address, signer: Address) -> bool:
        """Whether ``signer`` is the address of ``reader``'s registered encryption key (a browser-derived key: it
        may sign gateway requests for the resident)."""
        from famchain.crypto.keywrap import address_from_public_key

        def compute() -> bool:
            key = self.fc.residents.encryption_key_of(reader)
            return bool(key) and address_from_public_key(bytes(key)).lower() == str(signer).lower()

        return bool(self._cached(("delegate", str(reader).lower(), str(signer).lower()), compute))

    def is_member(self, account: str) -> bool:
        """Whether ``account`` is an active member institution now."""
        return bool(
            self._cached(("member", account.lower()), lambda: self.fc.consortium.is_active_member(account))
        )

    def is_custodian(self, account: str) -> bool:
        """Whether ``account`` is an emergency custodian now."""
        return bool(
            self._cached(("custodian", account.lower()), lambda: self.fc.consortium.is_custodian(account))
        )

    def is_open(self, emergency: int) -> bool:
        """Whether the emergency is open now (approved and not expired)."""
        return bool(self._cached(("open", str(emergency)), lambda: self.fc.emergency.is_open(emergency)))

    # --- the decision ------------------------------------------------------------------------------

    def check(self, reader: Address, cid: CidInfo) -> None:
        """Return if ``reader`` may have ``cid`` now.

        Raises:
            GatewayRefusedError: the chain names the block nowhere, or lets ``reader`` have none of what it is.
        """
        claims = self.claims(cid)
        if not claims:
            raise GatewayRefusedError(
                _("{cid} is no record, key bundle or profile anchored on this deployment").format(cid=cid.cid)
            )
        who = str(reader).lower()
        if any(c.patient.lower() == who for c in claims):
            return
        if self.members_replicate and self.is_member(reader):
            return  # member stores keep a locked record until it is erased (retention duties)
        live = [c for c in claims if not self.locked(c)]
        if not live:
            raise GatewayRefusedError(
                _(
                    "this record of {patient} is locked by the resident's deletion request: only the patient can read it"
                ).format(patient=claims[0].patient)
            )
        if any(who in c.parties for c in live):
            return
        for claim in live:
            if self._entitled(reader, claim):
                return
        first = claims[0]
        raise GatewayRefusedError(
            _(
                "{reader} may not read this {kind} of {patient} now: no consent, agreement, guardianship or open emergency of theirs covers it"
            ).format(reader=reader, kind=first.kind.value, patient=first.patient)
        )

    def locked(self, claim: Claim) -> bool:
        """Whether a deletion request covers a record (its own, an earlier version's, or the whole card's)."""
        if claim.kind is not Kind.RECORD:
            return False
        with self._lock:
            if claim.patient.lower() in self._index.locked_cards:
                return True
            record: bytes | None = claim.record
            seen = set()
            while record and record not in seen:
                if record in self._index.locked:
                    return True
                seen.add(record)
                record = self._index.previous.get(record)
            return False

    def _entitled(self, reader: Address, claim: Claim) -> bool:
        who = str(reader).lower()
        if claim.kind is Kind.RECORD:
            if self.readable(reader, claim.patient) & claim.sections:
                return True
            with self._lock:
                declared = list(self._index.emergencies.get(claim.patient, ()))
            covering = [d for d in declared if claim.index < d.card_length]
            if any(d.physician == who and self.is_open(d.emergency) for d in covering):
                return True
            return bool(covering) and self.is_custodian(reader)
        if claim.kind is Kind.BUNDLE:
            return (
                claim.grantee is not None
                and claim.grantee.lower() == who
                and bool(self.readable(reader, claim.patient))
            )
        if claim.kind is Kind.EMERGENCY_BUNDLE:
            return (
                claim.grantee is not None
                and claim.grantee.lower() == who
                and claim.emergency is not None
                and self.is_open(claim.emergency)
            )
        if claim.kind is Kind.PROFILE:
            return bool(self.readable(reader, claim.patient))
        return False


__all__ = ["ChainGuard", "Claim", "Declared", "Kind"]
