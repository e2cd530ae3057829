"""The curious member: everything an RPC node and a gateway URL tell about one resident.

:func:`privacy_report` plays an institution of the consortium (or anyone with its RPC endpoint) that wants to
learn about a resident without any consent: it reads every event naming the resident, and asks the gateways
for every object those events name, once unsigned and once signed with its own account. It lists what it
learns as :class:`Finding` items, each with a stable ``item`` id:

Learned by design (the chain must see it to decide, see ``docs/protocol.md``): ``registration``,
``family-doctor``, ``visit-metadata``, ``consent-metadata``, ``request-metadata``, ``key-releases``,
``guardians``, ``emergency-metadata``, ``deletions``; from the store, for an account a gateway serves:
``section-size-class`` and ``recipient-count-bucket``; ``ciphertext-served-to-member`` when the account is
a member institution (replication), ``ciphertext-served-to-entitled`` when the chain entitles it (the resident, a
grantee...).

Leaks (issue #15 closed them; ``LEAKS``; a test fails if one reappears): ``consent-purpose`` (a purpose in
calldata or events, raw, as hex text or as an unsalted hash), ``ciphertext-served-unsigned``,
``ciphertext-served-to-stranger`` (an account the chain does not entitle), ``recipient-named-in-store`` (an
address or public key of a party inside a stored envelope or bundle), ``exact-section-length`` (a section
ciphertext that is not a padded size class).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from eth_utils.crypto import keccak

from famchain.chain.contracts import Famchain
from famchain.chain.history import ChainEvent, History
from famchain.crypto.bundle import KeyBundle
from famchain.crypto.envelope import SealedEnvelope
from famchain.crypto.padding import is_size_class
from famchain.errors import FamchainError, GatewayRefusedError
from famchain.i18n import _
from famchain.records.emergency import reason_text
from famchain.records.gatekeeping import ChainGuard
from famchain.records.sections import Purpose, section_names
from famchain.storage.access import AccessSigner
from famchain.storage.cid import RAW, cid_from_digest, parse_cid
from famchain.storage.gateway import GatewayFetcher
from famchain.storage.remote import GatewayStore
from famchain.storage.unixfs import iter_file
from famchain.types import Address, Cid

LEAKS: Final = frozenset(
    {
        "consent-purpose",
        "ciphertext-served-unsigned",
        "ciphertext-served-to-stranger",
        "recipient-named-in-store",
        "exact-section-length",
    }
)
"""Items that must never be learnable again."""
TAG: Final = 16
"""AEAD tag bytes appended to every section ciphertext (AES-256-GCM, SM4-GCM, ChaCha20-Poly1305)."""


@dataclass(frozen=True)
class Finding:
    """One thing the curious member learns.

    Attributes:
        item: stable id (see the module docstring).
        source: ``chain`` or the gateway URL.
        detail: what exactly, in one line.
    """

    item: str
    source: str
    detail: str

    @property
    def leak(self) -> bool:
        """Whether this is one of the closed leaks."""
        return self.item in LEAKS

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"item": self.item, "source": self.source, "detail": self.detail, "leak": self.leak}


@dataclass(frozen=True)
class StoredObject:
    """An object the resident's events name in the store."""

    kind: str
    cid: Cid
    event: ChainEvent


@dataclass
class PrivacyReport:
    """What the curious member learned about ``resident``."""

    resident: str
    observer: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def items(self) -> set[str]:
        """The distinct items learned."""
        return {f.item for f in self.findings}

    @property
    def leaks(self) -> list[Finding]:
        """The findings that are closed leaks."""
        return [f for f in self.findings if f.leak]

    def add(self, item: str, source: str, detail: str) -> None:
        """Record a finding."""
        self.findings.append(Finding(item, source, detail))

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "resident": self.resident,
            "observer": self.observer,
            "items": sorted(self.items),
            "leaks": sorted({f.item for f in self.leaks}),
            "findings": [f.to_json() for f in self.findings],
        }

    def lines(self) -> list[str]:
        """Human-readable: one line per finding, grouped by item, leaks marked."""
        out = []
        for item in _ordered(self.items):
            for f in self.findings:
                if f.item == item:
                    mark = "LEAK " if f.leak else ""
                    out.append(f"{mark}{item}: {f.detail}")
        return out


def _ordered(items: Iterable[str]) -> list[str]:
    order = [
        "registration",
        "family-doctor",
        "visit-metadata",
        "consent-metadata",
        "consent-purpose",
        "request-metadata",
        "key-releases",
        "guardians",
        "emergency-metadata",
        "deletions",
        "ciphertext-served-unsigned",
        "ciphertext-served-to-stranger",
        "ciphertext-served-to-member",
        "ciphertext-served-to-entitled",
        "recipient-named-in-store",
        "recipient-count-bucket",
        "exact-section-length",
        "section-size-class",
    ]
    known = [i for i in order if i in items]
    return known + sorted(set(items) - set(order))


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d %H:%M")


class _Chain:
    """The chain half: the resident's events, told as the curious member reads them."""

    def __init__(self, fc: Famchain, history: History, resident: str, report: PrivacyReport) -> None:
        self.fc = fc
        self.history = history
        self.resident = resident
        self.report = report
        self._who: dict[str, str] = {}

    def who(self, account: str) -> str:
        """An account as a member sees it: a practitioner with its institution's kind, or an institution."""
        if account.lower() == self.resident.lower():
            return f"{account} (the resident)"
        if account not in self._who:
            status = self.fc.practitioner(account)
            if status.institution and int(status.institution, 16):
                self._who[account] = (
                    f"{account} ({status.kind.name.lower()} practitioner of {status.institution})"
                )
            else:
                member = self.fc.member(account)
                kind = member.kind.name.lower() if member.epoch else ""
                self._who[account] = f"{account} ({kind} institution)" if kind else account
        return self._who[account]

    def add(self, item: str, detail: str) -> None:
        self.report.add(item, "chain", detail)

    def read(self, events: Sequence[ChainEvent]) -> list[StoredObject]:
        stored: list[StoredObject] = []
        for e in events:
            a = e.args
            if e.name == "ResidentRegistered":
                self.add(
                    "registration",
                    _("registered in block {block}, encryption key published").format(block=e.block),
                )
                stored.append(StoredObject("profile", cid_from_digest(bytes(a["profile"]), RAW), e))
            elif e.name == "ProfileUpdated":
                self.add(
                    "registration", _("profile commitment replaced in block {block}").format(block=e.block)
                )
                stored.append(StoredObject("profile", cid_from_digest(bytes(a["profile"]), RAW), e))
            elif e.name in ("AgreementAccepted", "AgreementRenewed", "AgreementTerminated"):
                verb = e.name.removeprefix("Agreement").lower()
                self.add(
                    "family-doctor",
                    _("agreement {verb} with {who} in block {block}").format(
                        verb=verb, who=self.who(str(a["doctor"])), block=e.block
                    ),
                )
            elif e.name == "RecordAnchored":
                kind = "update" if any(bytes(a["previous"])) else "visit"
                self.add(
                    "visit-metadata",
                    _("{kind} on {day} by {who}: {sections}").format(
                        kind=kind,
                        day=_day(a["anchoredAt"]),
                        who=self.who(str(a["author"])),
                        sections=", ".join(section_names(int(a["sections"]))),
                    ),
                )
                stored.append(
                    StoredObject("record", cid_from_digest(bytes(a["cidDigest"]), int(a["cidCodec"])), e)
                )
            elif e.name == "ConsentGranted":
                self.add(
                    "consent-metadata",
                    _("consent to {who} for {sections} until {day}").format(
                        who=self.who(str(a["grantee"])),
                        sections=", ".join(section_names(int(a["sections"]))),
                        day=_day(a["expiresAt"]),
                    ),
                )
                if any(bytes(a["bundleDigest"])):
                    cid = cid_from_digest(bytes(a["bundleDigest"]), int(a["bundleCodec"]))
                    stored.append(StoredObject("key bundle", cid, e))
            elif e.name == "ConsentRevoked":
                self.add(
                    "consent-metadata",
                    _("consent of {who} revoked in block {block}").format(
                        who=self.who(str(a["grantee"])), block=e.block
                    ),
                )
            elif e.name == "AccessRequested":
                self.add(
                    "request-metadata",
                    _("{who} asked for {sections}").format(
                        who=self.who(str(a["grantee"])), sections=", ".join(section_names(int(a["sections"])))
                    ),
                )
                if any(bytes(a["terms"])):
                    stored.append(StoredObject("request terms", cid_from_digest(bytes(a["terms"]), RAW), e))
            elif e.name == "KeysReleased":
                self.add(
                    "key-releases",
                    _("{who} released keys of {sections} to {grantee}").format(
                        who=self.who(str(a["releaser"])),
                        sections=", ".join(section_names(int(a["sections"]))),
                        grantee=self.who(str(a["grantee"])),
                    ),
                )
                stored.append(
                    StoredObject(
                        "key bundle", cid_from_digest(bytes(a["bundleDigest"]), int(a["bundleCodec"])), e
                    )
                )
            elif e.name in ("GuardianAppointed", "GuardianRemoved"):
                self.add(
                    "guardians",
                    _("{name} {guardian} in block {block}").format(
                        name=e.name, guardian=a.get("guardian"), block=e.block
                    ),
                )
            elif e.name.startswith("Emergency"):
                self._emergency(e, stored)
            elif e.name in ("DeletionRequested", "RecordErased"):
                self.add("deletions", _("{name} in block {block}").format(name=e.name, block=e.block))
        return stored

    def _emergency(self, e: ChainEvent, stored: list[StoredObject]) -> None:
        a = e.args
        if e.name == "EmergencyDeclared":
            self.add(
                "emergency-metadata",
                _("emergency {emergency} declared by {who} (reason: {reason_text}) for {sections}").format(
                    emergency=a["id"],
                    who=self.who(str(a["physician"])),
                    reason_text=reason_text(int(a["reason"])),
                    sections=", ".join(section_names(int(a["sections"]))),
                ),
            )
        elif e.name == "EmergencySharesReleased":
            self.add(
                "emergency-metadata",
                _("custodian {who} approved emergency {emergency}").format(
                    who=self.who(str(a["custodian"])), emergency=a["id"]
                ),
            )
            cid = cid_from_digest(bytes(a["bundleDigest"]), int(a["bundleCodec"]))
            stored.append(StoredObject("emergency key bundle", cid, e))
        elif e.name == "EmergencySectionsSet":
            self.add(
                "emergency-metadata",
                _("emergency sections set to {sections}").format(
                    sections=", ".join(section_names(int(a["sections"])))
                ),
            )
        else:
            self.add(
                "emergency-metadata",
                _("{name} for emergency {emergency}").format(name=e.name, emergency=a.get("id")),
            )

    def purposes(self, events: Sequence[ChainEvent]) -> None:
        """Look for consent purposes in the calldata and logs of the resident's consent transactions."""
        needles: dict[bytes, str] = {}
        for purpose in Purpose:
            raw = purpose.value.encode()
            needles[raw] = f"{purpose.value!r}"
            needles[raw.hex().encode()] = f"{purpose.value!r} as hex text"
            needles[keccak(raw)] = f"keccak256({purpose.value!r})"
            needles[hashlib.sha256(raw).digest()] = f"sha256({purpose.value!r})"
        seen: set[str] = set()
        for e in events:
            if e.name not in ("ConsentGranted", "AccessRequested") or e.tx_hash in seen:
                continue
            seen.add(e.tx_hash)
            tx = self.fc.w3.eth.get_transaction(e.tx_hash)  # type: ignore[arg-type]
            blob = bytes(tx["input"]) + b"".join(
                bytes(v) if isinstance(v, bytes) else str(v).encode() for v in e.args.values()
            )
            as_hex = blob.hex().encode()
            for needle, what in needles.items():
                if needle in blob or needle in as_hex:
                    self.add(
                        "consent-purpose",
                        _("{what} in transaction {tx_hash}").format(what=what, tx_hash=e.tx_hash),
                    )


def party_needles(fc: Famchain, accounts: Iterable[str]) -> dict[bytes, str]:
    """Each party's address and public key (its x coordinate: in the uncompressed and the compressed forms), raw
    and as hex text."""
    out: dict[bytes, str] = {}
    for account in sorted(set(accounts)):
        raw = bytes.fromhex(account[2:])
        out[raw] = f"address {account}"
        out[account[2:].lower().encode()] = f"address {account} as hex text"
        key = fc.encryption_key(account) or fc.member_key(account)
        if key:
            x = bytes(key)[-64:][:32]
            out[x] = f"public key of {account}"
            out[x.hex().encode()] = f"public key of {account} as hex text"
    return out


def _accounts(events: Sequence[ChainEvent]) -> set[str]:
    found = set()
    for e in events:
        for value in e.args.values():
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42 and int(value, 16):
                found.add(value)
    return found


def inspect_bytes(
    report: PrivacyReport, source: str, obj: StoredObject, data: bytes, needles: dict[bytes, str]
) -> None:
    """What the bytes of one object tell: parties named, recipient bucket, section lengths."""
    as_hex = data.hex().encode()
    for needle, what in needles.items():
        if needle in data or needle in as_hex:
            report.add(
                "recipient-named-in-store",
                source,
                _("{what} inside the {kind} {cid}").format(what=what, kind=obj.kind, cid=obj.cid),
            )
    try:
        if obj.kind == "record":
            sealed = SealedEnvelope.from_bytes(data)
            report.add(
                "recipient-count-bucket",
                source,
                _("record {cid}: {recipient_count} recipient entries (a bucket, dummies included)").format(
                    cid=obj.cid, recipient_count=sealed.recipient_count
                ),
            )
            for section in sealed.sections:
                size = len(section.ciphertext) - TAG
                if is_size_class(size):
                    report.add(
                        "section-size-class",
                        source,
                        _("record {cid}: {name} in class {size}").format(
                            cid=obj.cid, name=section.name, size=size
                        ),
                    )
                else:
                    report.add(
                        "exact-section-length",
                        source,
                        _("record {cid}: {name} is {size} bytes").format(
                            cid=obj.cid, name=section.name, size=size
                        ),
                    )
        elif "bundle" in obj.kind:
            KeyBundle.from_bytes(data)
    except FamchainError as exc:
        # A parser that refuses a length outside the classes, or an unreadable object: say so.
        report.add(
            "exact-section-length",
            source,
            _("{kind} {cid} does not parse: {exc}").format(kind=obj.kind, cid=obj.cid, exc=exc),
        )


def _served_to(guard: ChainGuard, observer: Address | None, cid: Cid) -> str:
    """``ciphertext-served-to-entitled`` when the chain entitles the observer to the object (the resident, a
    grantee...), else ``ciphertext-served-to-stranger``."""
    if observer is None:
        return "ciphertext-served-to-stranger"
    try:
        guard.check(observer, parse_cid(cid))
    except GatewayRefusedError:
        return "ciphertext-served-to-stranger"
    return "ciphertext-served-to-entitled"


def privacy_report(
    fc: Famchain,
    resident: str,
    gateways: Sequence[str] = (),
    *,
    signer: AccessSigner | None = None,
    history: History | None = None,
) -> PrivacyReport:
    """Everything an RPC node and ``gateways`` tell about ``resident`` (see the module docstring).

    Args:
        fc: the deployment, read through the observer's RPC endpoint.
        resident: whom to learn about.
        gateways: store gateways to ask for every object the resident's events name.
        signer: the observer's account, to ask the gateways signed (None: unsigned only).
        history: the event reader (one is built when None).
    """
    history = history or History(fc)
    observer = signer.address if signer is not None else None
    report = PrivacyReport(resident, observer)
    chain = _Chain(fc, history, resident, report)
    events = history.patient_events(resident)
    stored = chain.read(events)
    chain.purposes(events)
    if not gateways:
        return report
    needles = party_needles(fc, _accounts(events) | {resident})
    member = observer is not None and fc.consortium.is_active_member(observer)
    guard = ChainGuard(fc, history)
    for url in gateways:
        unsigned = GatewayFetcher(url)
        remote = GatewayStore(url, signer) if signer is not None else None
        for obj in stored:
            data: bytes | None = None
            try:
                data = b"".join(iter_file(parse_cid(obj.cid), unsigned.get_block))
                report.add(
                    "ciphertext-served-unsigned",
                    url,
                    _("{kind} {cid} served to an unsigned request").format(kind=obj.kind, cid=obj.cid),
                )
            except FamchainError:
                pass
            if remote is not None:
                try:
                    served = remote.get(obj.cid)
                except FamchainError:
                    pass
                else:
                    item = "ciphertext-served-to-member" if member else _served_to(guard, observer, obj.cid)
                    report.add(
                        item,
                        url,
                        _("{kind} {cid} served to {observer}").format(
                            kind=obj.kind, cid=obj.cid, observer=observer
                        ),
                    )
                    data = served if data is None else data
            if data is not None:
                inspect_bytes(report, url, obj, data, needles)
    return report


__all__ = [
    "LEAKS",
    "Finding",
    "PrivacyReport",
    "StoredObject",
    "inspect_bytes",
    "party_needles",
    "privacy_report",
]
