"""Sealed record envelopes and key-release bundles.

A record is an ordered mapping of section name to plaintext. :func:`seal` encrypts each section under its own
random 256-bit key with a registered AEAD, and wraps, for every recipient, a *key blob* (the envelope MAC key
followed by the keys of the sections that recipient may read) to the recipient's secp256k1 public key with
:mod:`famchain.crypto.keywrap`. The result is a :class:`SealedEnvelope` with one canonical byte form.

Integrity is layered so that any altered byte is detected by every reader, including bytes the reader cannot
decrypt:

* each section's AEAD associated data binds the format version, the :class:`EnvelopeContext` (record id,
  patient, chain id, registry) and the section's name and algorithm, so a ciphertext moved to another section,
  record, chain or registry does not decrypt;
* each key blob's associated data binds the *header digest* (SHA-256 over the context, every section's name,
  algorithm, nonce and ciphertext hash, and every recipient's address and section list) and the recipient's
  address;
* the envelope ends with HMAC-SHA256 under the envelope MAC key over every preceding byte (other
  recipients' wrapped keys included). A reader verifies it before decrypting anything, so no partial
  plaintext is released.

What the envelope does not prove is *who* sealed it: anyone can seal a record to public keys. Authorship and
"this is the record on the card" come from the chain anchor, so a reader checks :attr:`SealedEnvelope.digest`
against the anchored ``cidDigest`` (the storage layer does this when it verifies a CID) and takes the
:class:`EnvelopeContext` from the anchor, never from the envelope.

Envelope bytes (version 1; integers big-endian; ``lp8`` = one length byte then the bytes)::

    "FCEV" | u8 version=1
    record_id[32] | patient[20] | chain_id u256[32] | registry[20]
    u8 n_sections (1..64), then per section, sorted by name, no duplicates:
        lp8 name ([a-z][a-z0-9_]*, <= 64) | lp8 algorithm (registry name) | nonce[12]
        u32 ciphertext_len (16 .. 2^28+16) | ciphertext (tag appended)
    u16 n_recipients (1..1024), then per recipient, sorted by address, no duplicates:
        address[20] | u8 n (1..n_sections) | n x u8 section index (strictly increasing)
        ephemeral_pubkey[64] | nonce[12] | wrapped blob[32 * (n + 1) + 16]
    mac[32]

A :class:`KeyBundle` releases keys of existing records to one grantee (consent given after the record was
sealed). Bytes (version 1)::

    "FCKB" | u8 version=1 | grantee[20]
    u16 n_entries (1..4096), then per entry, sorted by (record_id, envelope_digest), no duplicates:
        record_id[32] | envelope_digest[32] (SHA-256 of the envelope bytes)
        u8 n (1..64) | n x lp8 section name (strictly increasing)
        ephemeral_pubkey[64] | nonce[12] | wrapped blob[32 * (n + 1) + 16]

Each entry's blob is bound (AEAD associated data) to the grantee, record id, envelope digest and section
names, so it opens only for that grantee and only against that exact envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from eth_utils.address import is_address, to_checksum_address

from famchain.crypto import _codec
from famchain.crypto.aead import DEFAULT_AEAD, KEY_SIZE, NONCE_SIZE, TAG_SIZE, get_aead, is_registered
from famchain.crypto.keywrap import (
    PUBLIC_KEY_SIZE,
    WRAP_OVERHEAD,
    WrappedKey,
    address_from_private_key,
    address_from_public_key,
    unwrap_key,
    wrap_key,
)
from famchain.errors import (
    AuthenticationError,
    ContextMismatchError,
    InputError,
    MalformedError,
    NotARecipientError,
    UnknownSectionError,
)
from famchain.types import Address, RecordId

ENVELOPE_MAGIC = b"FCEV"
BUNDLE_MAGIC = b"FCKB"
FORMAT_VERSION = 1
MAX_SECTIONS = 64
MAX_SECTION_NAME = 64
MAX_SECTION_BYTES = 1 << 28
"""Largest section plaintext (256 MiB); bigger attachments belong in their own stored object."""
MAX_RECIPIENTS = 1024
MAX_BUNDLE_ENTRIES = 4096
MAC_SIZE = 32

_SECTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ENVELOPE = "envelope"
_BUNDLE = "key bundle"


def _raw(address: Address) -> bytes:
    """The 20 bytes of an address already normalized to checksum form."""
    return bytes.fromhex(address[2:])


def _address(value: str, field: str) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"{field} is not an Ethereum address: {value!r}")
    return Address(to_checksum_address(value))


def check_section_name(name: str) -> str:
    """Validates a section name (lowercase ASCII identifier, at most 64 characters).

    Raises:
        InputError: The name is not acceptable.
    """
    if not isinstance(name, str) or len(name) > MAX_SECTION_NAME or not _SECTION_NAME.fullmatch(name):
        raise InputError(
            f"invalid section name {name!r}: expected [a-z][a-z0-9_]*, at most {MAX_SECTION_NAME}"
        )
    return name


@dataclass(frozen=True)
class EnvelopeContext:
    """What a sealed record is bound to; the reader takes it from the chain anchor.

    Attributes:
        record_id: The 32-byte record identifier.
        patient: The patient's address (normalized to checksum form).
        chain_id: The chain id (1 .. 2**256 - 1).
        registry: The RecordRegistry contract address (normalized to checksum form).
    """

    record_id: RecordId
    patient: Address
    chain_id: int
    registry: Address

    def __post_init__(self) -> None:
        if not isinstance(self.record_id, bytes) or len(self.record_id) != 32:
            raise InputError("record id must be 32 bytes")
        if (
            isinstance(self.chain_id, bool)
            or not isinstance(self.chain_id, int)
            or not 0 < self.chain_id < 2**256
        ):
            raise InputError(f"chain id must be a positive uint256, got {self.chain_id!r}")
        object.__setattr__(self, "record_id", RecordId(bytes(self.record_id)))
        object.__setattr__(self, "patient", _address(self.patient, "patient"))
        object.__setattr__(self, "registry", _address(self.registry, "registry"))

    def to_bytes(self) -> bytes:
        """Encodes as ``record_id[32] ‖ patient[20] ‖ chain_id u256 ‖ registry[20]`` (104 bytes)."""
        return self.record_id + _raw(self.patient) + self.chain_id.to_bytes(32, "big") + _raw(self.registry)

    def mismatch(self, other: EnvelopeContext) -> tuple[str, str, str] | None:
        """Returns ``(field, self value, other value)`` of the first differing field, or None."""
        for field, mine, theirs in (
            ("record id", "0x" + self.record_id.hex(), "0x" + other.record_id.hex()),
            ("patient", self.patient, other.patient),
            ("chain id", str(self.chain_id), str(other.chain_id)),
            ("registry", self.registry, other.registry),
        ):
            if mine != theirs:
                return field, mine, theirs
        return None


@dataclass(frozen=True)
class Recipient:
    """A party a record is sealed for.

    Attributes:
        public_key: The 64-byte secp256k1 encryption public key (as registered on chain).
        sections: The section names this party may read; None means every section of the record.
    """

    public_key: bytes
    sections: frozenset[str] | None = None

    @property
    def address(self) -> Address:
        """The address the public key belongs to."""
        return address_from_public_key(self.public_key)


@dataclass(frozen=True)
class SealedSection:
    """One encrypted section: name, AEAD algorithm name, nonce and ciphertext with tag."""

    name: str
    algorithm: str
    nonce: bytes
    ciphertext: bytes

    def _header(self) -> bytes:
        return (
            _codec.lp8(self.name.encode())
            + _codec.lp8(self.algorithm.encode())
            + self.nonce
            + _codec.u32(len(self.ciphertext))
        )

    def to_bytes(self) -> bytes:
        return self._header() + self.ciphertext

    def digest_input(self) -> bytes:
        return self._header() + hashlib.sha256(self.ciphertext).digest()


@dataclass(frozen=True)
class RecipientEntry:
    """One recipient's wrapped key blob: the envelope MAC key then the keys of ``sections`` in order."""

    address: Address
    sections: tuple[str, ...]
    wrapped: WrappedKey


@dataclass(frozen=True)
class Withheld:
    """Stands for a section whose key was not released to the reader."""

    section: str


@dataclass(frozen=True)
class SealedEnvelope:
    """A sealed record. Build with :func:`seal`; parse with :meth:`from_bytes`; the bytes are canonical."""

    context: EnvelopeContext
    sections: tuple[SealedSection, ...]
    recipients: tuple[RecipientEntry, ...]
    mac: bytes

    @property
    def section_names(self) -> tuple[str, ...]:
        """Section names in envelope (sorted) order."""
        return tuple(s.name for s in self.sections)

    def recipients_of(self, section: str) -> tuple[Address, ...]:
        """Addresses that hold a wrapped key for ``section`` in this envelope."""
        return tuple(r.address for r in self.recipients if section in r.sections)

    def _index(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self.sections)}

    def header_digest(self) -> bytes:
        """SHA-256 over the context, section metadata and ciphertext hashes, and recipient list."""
        index = self._index()
        parts = [
            b"famchain/envelope/header",
            ENVELOPE_MAGIC,
            _codec.u8(FORMAT_VERSION),
            self.context.to_bytes(),
            _codec.u8(len(self.sections)),
        ]
        parts.extend(s.digest_input() for s in self.sections)
        parts.append(_codec.u16(len(self.recipients)))
        for r in self.recipients:
            parts.append(_recipient_head(r, index))
        return hashlib.sha256(b"".join(parts)).digest()

    def _body(self) -> bytes:
        index = self._index()
        parts = [
            ENVELOPE_MAGIC,
            _codec.u8(FORMAT_VERSION),
            self.context.to_bytes(),
            _codec.u8(len(self.sections)),
        ]
        parts.extend(s.to_bytes() for s in self.sections)
        parts.append(_codec.u16(len(self.recipients)))
        for r in self.recipients:
            parts.append(_recipient_head(r, index) + r.wrapped.to_bytes())
        return b"".join(parts)

    @cached_property
    def _bytes(self) -> bytes:
        return self._body() + self.mac

    def to_bytes(self) -> bytes:
        """The canonical serialization; the same envelope always gives the same bytes."""
        return self._bytes

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of :meth:`to_bytes` (equal to the digest inside the envelope's raw CIDv1)."""
        return hashlib.sha256(self._bytes).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedEnvelope:
        """Parses the canonical serialization, rejecting anything that would not re-serialize identically.

        Only the structure is checked here; authenticity is checked when a reader opens the envelope.

        Raises:
            MalformedError: Bad magic, unknown version, truncation, trailing bytes, an oversize or zero count,
                unsorted or duplicate sections or recipients, an unknown algorithm or a bad section name.
        """
        rd = _codec.Reader(data, _ENVELOPE)
        if rd.take(len(ENVELOPE_MAGIC), "magic") != ENVELOPE_MAGIC:
            raise rd.fail("bad magic")
        version = rd.uint(1, "version")
        if version != FORMAT_VERSION:
            raise rd.fail(f"unsupported version {version}")
        context = _read_context(rd)
        n_sections = rd.uint(1, "section count")
        if not 0 < n_sections <= MAX_SECTIONS:
            raise rd.fail(f"section count {n_sections} not in 1..{MAX_SECTIONS}")
        sections: list[SealedSection] = []
        for _ in range(n_sections):
            name = _read_name(rd)
            if sections and name <= sections[-1].name:
                raise rd.fail(f"section {name!r} out of order or duplicated")
            algorithm = rd.lp8("algorithm").decode("ascii", "replace")
            if not is_registered(algorithm):
                raise rd.fail(f"unknown algorithm {algorithm!r}")
            nonce = rd.take(NONCE_SIZE, "nonce")
            size = rd.uint(4, "ciphertext length")
            if not TAG_SIZE <= size <= MAX_SECTION_BYTES + TAG_SIZE:
                raise rd.fail(f"ciphertext length {size} out of range")
            sections.append(SealedSection(name, algorithm, nonce, rd.take(size, "ciphertext")))
        names = tuple(s.name for s in sections)
        n_recipients = rd.uint(2, "recipient count")
        if not 0 < n_recipients <= MAX_RECIPIENTS:
            raise rd.fail(f"recipient count {n_recipients} not in 1..{MAX_RECIPIENTS}")
        recipients: list[RecipientEntry] = []
        previous = b""
        for _ in range(n_recipients):
            raw_address = rd.take(20, "recipient address")
            if raw_address <= previous:
                raise rd.fail("recipient out of order or duplicated")
            previous = raw_address
            count = rd.uint(1, "recipient section count")
            if not 0 < count <= n_sections:
                raise rd.fail(f"recipient section count {count} not in 1..{n_sections}")
            indices = list(rd.take(count, "recipient section indices"))
            if any(b <= a for a, b in itertools.pairwise(indices)) or indices[-1] >= n_sections:
                raise rd.fail("recipient section indices not strictly increasing and in range")
            wrapped = WrappedKey.from_bytes(rd.take(WRAP_OVERHEAD + KEY_SIZE * (count + 1), "wrapped key"))
            address = Address(to_checksum_address(raw_address))
            recipients.append(RecipientEntry(address, tuple(names[i] for i in indices), wrapped))
        mac = rd.take(MAC_SIZE, "mac")
        rd.end()
        return cls(context, tuple(sections), tuple(recipients), mac)


def _recipient_head(entry: RecipientEntry, index: Mapping[str, int]) -> bytes:
    return (
        _raw(entry.address) + _codec.u8(len(entry.sections)) + bytes(index[name] for name in entry.sections)
    )


def _read_context(rd: _codec.Reader) -> EnvelopeContext:
    record_id = rd.take(32, "record id")
    patient = rd.take(20, "patient")
    chain_id = rd.uint(32, "chain id")
    registry = rd.take(20, "registry")
    if chain_id == 0:
        raise rd.fail("chain id is zero")
    return EnvelopeContext(
        RecordId(record_id),
        Address(to_checksum_address(patient)),
        chain_id,
        Address(to_checksum_address(registry)),
    )


def _read_name(rd: _codec.Reader) -> str:
    raw = rd.lp8("section name")
    try:
        return check_section_name(raw.decode("ascii"))
    except (UnicodeDecodeError, InputError):
        raise rd.fail(f"invalid section name {raw!r}") from None


# --- associated data -------------------------------------------------------------------------------------


def _section_aad(context: EnvelopeContext, name: str, algorithm: str) -> bytes:
    return (
        b"famchain/envelope/section"
        + _codec.u8(FORMAT_VERSION)
        + context.to_bytes()
        + _codec.lp8(name.encode())
        + _codec.lp8(algorithm.encode())
    )


def _wrap_info(context: EnvelopeContext) -> bytes:
    return b"famchain/envelope/wrap" + _codec.u8(FORMAT_VERSION) + context.to_bytes()


def _wrap_aad(header_digest: bytes, address: Address) -> bytes:
    return b"famchain/envelope/keys" + header_digest + _raw(address)


def _mac(mac_key: bytes, body: bytes) -> bytes:
    return hmac.new(mac_key, b"famchain/envelope/mac" + body, hashlib.sha256).digest()


# --- sealing ---------------------------------------------------------------------------------------------


def _as_recipient(value: Recipient | bytes) -> Recipient:
    return value if isinstance(value, Recipient) else Recipient(bytes(value))


def seal(
    sections: Mapping[str, bytes],
    recipients: Iterable[Recipient | bytes],
    context: EnvelopeContext,
    *,
    algorithm: str | Mapping[str, str] = DEFAULT_AEAD,
) -> SealedEnvelope:
    """Encrypts a record section by section and wraps the section keys for each recipient.

    Args:
        sections: Section name -> plaintext. Stored in sorted name order.
        recipients: Who may read what. A bare 64-byte public key means every section. Two entries with the
            same key are merged.
        context: What the envelope is bound to.
        algorithm: One AEAD name for every section, or a mapping section -> name (missing sections use
            the default).

    Returns:
        The sealed envelope (fresh random keys and nonces on every call).

    Raises:
        InputError: No sections, no recipients, a bad section name or an oversize section.
        UnknownSectionError: A recipient names a section the record does not have.
        UnsupportedAlgorithmError: An algorithm name is not registered.
        InvalidKeyError: A public key is malformed.
    """
    if not sections:
        raise InputError("a record needs at least one section")
    if len(sections) > MAX_SECTIONS:
        raise InputError(f"a record has at most {MAX_SECTIONS} sections, got {len(sections)}")
    names = tuple(sorted(check_section_name(n) for n in sections))
    algorithms = {
        n: algorithm if isinstance(algorithm, str) else algorithm.get(n, DEFAULT_AEAD) for n in names
    }
    if not isinstance(algorithm, str) and (extra := set(algorithm) - set(names)):
        raise UnknownSectionError(sorted(extra)[0], names)

    merged: dict[bytes, set[str]] = {}
    for item in recipients:
        recipient = _as_recipient(item)
        address_from_public_key(recipient.public_key)
        wanted = set(names) if recipient.sections is None else set(recipient.sections)
        for name in wanted:
            if name not in sections:
                raise UnknownSectionError(name, names)
        merged.setdefault(bytes(recipient.public_key), set()).update(wanted)
    if not merged:
        raise InputError("an envelope needs at least one recipient")
    if len(merged) > MAX_RECIPIENTS:
        raise InputError(f"an envelope has at most {MAX_RECIPIENTS} recipients, got {len(merged)}")
    if any(not wanted for wanted in merged.values()):
        raise InputError("a recipient must be given at least one section")

    keys = {n: os.urandom(KEY_SIZE) for n in names}
    sealed: list[SealedSection] = []
    for name in names:
        value = sections[name]
        if not isinstance(value, bytes | bytearray | memoryview):
            raise InputError(f"section {name!r} must be bytes, got {type(value).__name__}")
        plaintext = bytes(value)
        if len(plaintext) > MAX_SECTION_BYTES:
            raise InputError(f"section {name!r} is {len(plaintext)} bytes, more than {MAX_SECTION_BYTES}")
        aead = get_aead(algorithms[name])
        nonce, ciphertext = aead.encrypt(keys[name], plaintext, _section_aad(context, name, aead.name))
        sealed.append(SealedSection(name, aead.name, nonce, ciphertext))

    ordered = sorted(
        ((_raw(address_from_public_key(pub)), pub, wanted) for pub, wanted in merged.items()),
    )
    placeholder = WrappedKey(b"", b"", b"")
    heads = [
        RecipientEntry(Address(to_checksum_address(raw)), tuple(n for n in names if n in wanted), placeholder)
        for raw, _, wanted in ordered
    ]
    header = SealedEnvelope(context, tuple(sealed), tuple(heads), b"").header_digest()

    mac_key = os.urandom(KEY_SIZE)
    info = _wrap_info(context)
    entries = []
    for head, (_, pub, _) in zip(heads, ordered, strict=True):
        blob = mac_key + b"".join(keys[n] for n in head.sections)
        wrapped = wrap_key(blob, pub, info=info, aad=_wrap_aad(header, head.address))
        entries.append(RecipientEntry(head.address, head.sections, wrapped))
    unsigned = SealedEnvelope(context, tuple(sealed), tuple(entries), b"")
    return SealedEnvelope(context, tuple(sealed), tuple(entries), _mac(mac_key, unsigned._body()))


# --- opening ---------------------------------------------------------------------------------------------


def _split_blob(blob: bytes, sections: Sequence[str]) -> tuple[bytes, dict[str, bytes]]:
    keys = {name: blob[KEY_SIZE * (i + 1) : KEY_SIZE * (i + 2)] for i, name in enumerate(sections)}
    return blob[:KEY_SIZE], keys


def _unlock_own(
    envelope: SealedEnvelope, private_key: bytes, reader: Address
) -> tuple[bytes, dict[str, bytes]] | None:
    """Unwraps the reader's own blob and verifies the envelope MAC; None when the reader has no entry."""
    entry = next((r for r in envelope.recipients if r.address == reader), None)
    if entry is None:
        return None
    blob = unwrap_key(
        entry.wrapped,
        private_key,
        info=_wrap_info(envelope.context),
        aad=_wrap_aad(envelope.header_digest(), reader),
        what="envelope key wrap",
    )
    mac_key, keys = _split_blob(blob, entry.sections)
    _verify_mac(envelope, mac_key)
    return mac_key, keys


def _verify_mac(envelope: SealedEnvelope, mac_key: bytes) -> None:
    if not hmac.compare_digest(_mac(mac_key, envelope._body()), envelope.mac):
        raise AuthenticationError(_ENVELOPE)


def _unlock(
    envelope: SealedEnvelope,
    private_key: bytes,
    context: EnvelopeContext,
    bundles: Iterable[KeyBundle],
) -> dict[str, bytes]:
    if (diff := context.mismatch(envelope.context)) is not None:
        raise ContextMismatchError(*diff)
    reader = address_from_private_key(private_key)
    found = False
    keys: dict[str, bytes] = {}
    own = _unlock_own(envelope, private_key, reader)
    if own is not None:
        found = True
        keys.update(own[1])
    for bundle in bundles:
        if bundle.grantee != reader:
            continue
        for entry in bundle.entries:
            if entry.record_id != envelope.context.record_id or entry.envelope_digest != envelope.digest:
                continue
            mac_key, released = _split_blob(_unwrap_entry(bundle.grantee, entry, private_key), entry.sections)
            _verify_mac(envelope, mac_key)
            if missing := set(entry.sections) - set(envelope.section_names):
                raise AuthenticationError(f"key bundle entry for section {sorted(missing)[0]!r}")
            found = True
            keys.update(released)
    if not found:
        raise NotARecipientError(reader, f"record 0x{envelope.context.record_id.hex()}")
    return keys


def _decrypt(envelope: SealedEnvelope, section: SealedSection, key: bytes) -> bytes:
    aead = get_aead(section.algorithm)
    aad = _section_aad(envelope.context, section.name, section.algorithm)
    return aead.decrypt(key, section.nonce, section.ciphertext, aad, f"section {section.name!r}")


def open_section(
    envelope: SealedEnvelope,
    name: str,
    reader_private_key: bytes,
    context: EnvelopeContext,
    *,
    bundles: Iterable[KeyBundle] = (),
) -> bytes:
    """Decrypts one section for a reader.

    The whole envelope is authenticated (MAC under a key only recipients hold) before anything is decrypted.

    Args:
        envelope: The sealed record.
        name: The section to open.
        reader_private_key: The reader's 32-byte secp256k1 private key.
        context: The record the caller expects (from the chain anchor); must equal the envelope's.
        bundles: Key-release bundles that may hold the reader's keys for this envelope.

    Raises:
        UnknownSectionError: The envelope has no such section.
        ContextMismatchError: The envelope is bound to another record, patient, chain or registry.
        NotARecipientError: No key for the reader in the envelope or bundles, or none for this section.
        IntegrityError: Any byte of the envelope or bundle entry was altered.
    """
    sections = {s.name: s for s in envelope.sections}
    if name not in sections:
        raise UnknownSectionError(name, envelope.section_names)
    keys = _unlock(envelope, reader_private_key, context, bundles)
    if name not in keys:
        reader = address_from_private_key(reader_private_key)
        raise NotARecipientError(reader, f"section {name!r} of record 0x{envelope.context.record_id.hex()}")
    return _decrypt(envelope, sections[name], keys[name])


def open_all(
    envelope: SealedEnvelope,
    reader_private_key: bytes,
    context: EnvelopeContext,
    *,
    bundles: Iterable[KeyBundle] = (),
) -> dict[str, bytes | Withheld]:
    """Decrypts every section released to the reader; the others come back as :class:`Withheld`.

    Either every released section decrypts or nothing is returned.

    Args:
        envelope: The sealed record.
        reader_private_key: The reader's 32-byte private key.
        context: The record the caller expects; must equal the envelope's.
        bundles: Key-release bundles that may hold the reader's keys for this envelope.

    Returns:
        Section name -> plaintext or :class:`Withheld`, in envelope order.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: The reader holds no key at all for this envelope.
        IntegrityError: Any byte was altered.
    """
    keys = _unlock(envelope, reader_private_key, context, bundles)
    out: dict[str, bytes | Withheld] = {}
    for section in envelope.sections:
        key = keys.get(section.name)
        out[section.name] = Withheld(section.name) if key is None else _decrypt(envelope, section, key)
    return out


# --- key-release bundles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleEntry:
    """The keys of some sections of one envelope, wrapped for the bundle's grantee."""

    record_id: RecordId
    envelope_digest: bytes
    sections: tuple[str, ...]
    wrapped: WrappedKey

    def _head(self) -> bytes:
        return (
            self.record_id
            + self.envelope_digest
            + _codec.u8(len(self.sections))
            + b"".join(_codec.lp8(n.encode()) for n in self.sections)
        )


@dataclass(frozen=True)
class KeyBundle:
    """Section keys of existing records released to one grantee; canonical bytes like the envelope's."""

    grantee: Address
    entries: tuple[BundleEntry, ...]

    @cached_property
    def _bytes(self) -> bytes:
        parts = [
            BUNDLE_MAGIC,
            _codec.u8(FORMAT_VERSION),
            _raw(self.grantee),
            _codec.u16(len(self.entries)),
        ]
        parts.extend(e._head() + e.wrapped.to_bytes() for e in self.entries)
        return b"".join(parts)

    def to_bytes(self) -> bytes:
        """The canonical serialization."""
        return self._bytes

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of :meth:`to_bytes` (the ``bundleDigest`` of a raw-codec CID announced on chain)."""
        return hashlib.sha256(self._bytes).digest()

    def section_names(self) -> frozenset[str]:
        """Every section name released by any entry."""
        return frozenset(n for e in self.entries for n in e.sections)

    def record_ids(self) -> tuple[RecordId, ...]:
        """Record ids covered, in bundle order (an id repeats if several envelopes of it are covered)."""
        return tuple(e.record_id for e in self.entries)

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyBundle:
        """Parses the canonical serialization.

        Raises:
            MalformedError: Bad magic or version, truncation, trailing bytes, bad counts, unsorted or
                duplicate entries or section names.
        """
        rd = _codec.Reader(data, _BUNDLE)
        if rd.take(len(BUNDLE_MAGIC), "magic") != BUNDLE_MAGIC:
            raise rd.fail("bad magic")
        version = rd.uint(1, "version")
        if version != FORMAT_VERSION:
            raise rd.fail(f"unsupported version {version}")
        grantee = Address(to_checksum_address(rd.take(20, "grantee")))
        n_entries = rd.uint(2, "entry count")
        if not 0 < n_entries <= MAX_BUNDLE_ENTRIES:
            raise rd.fail(f"entry count {n_entries} not in 1..{MAX_BUNDLE_ENTRIES}")
        entries: list[BundleEntry] = []
        previous = b""
        for _ in range(n_entries):
            record_id = rd.take(32, "record id")
            envelope_digest = rd.take(32, "envelope digest")
            if record_id + envelope_digest <= previous:
                raise rd.fail("entry out of order or duplicated")
            previous = record_id + envelope_digest
            count = rd.uint(1, "section count")
            if not 0 < count <= MAX_SECTIONS:
                raise rd.fail(f"section count {count} not in 1..{MAX_SECTIONS}")
            names: list[str] = []
            for _ in range(count):
                name = _read_name(rd)
                if names and name <= names[-1]:
                    raise rd.fail(f"section {name!r} out of order or duplicated")
                names.append(name)
            wrapped = WrappedKey.from_bytes(rd.take(WRAP_OVERHEAD + KEY_SIZE * (count + 1), "wrapped key"))
            entries.append(BundleEntry(RecordId(record_id), envelope_digest, tuple(names), wrapped))
        rd.end()
        return cls(grantee, tuple(entries))


def _bundle_info(record_id: bytes, envelope_digest: bytes) -> bytes:
    return b"famchain/keybundle/wrap" + _codec.u8(FORMAT_VERSION) + record_id + envelope_digest


def _bundle_aad(grantee: Address, entry: BundleEntry) -> bytes:
    return b"famchain/keybundle/keys" + _raw(grantee) + entry._head()


def _unwrap_entry(grantee: Address, entry: BundleEntry, private_key: bytes) -> bytes:
    return unwrap_key(
        entry.wrapped,
        private_key,
        info=_bundle_info(entry.record_id, entry.envelope_digest),
        aad=_bundle_aad(grantee, entry),
        what=f"key bundle entry for record 0x{entry.record_id.hex()}",
    )


def release_keys(
    holder_private_key: bytes,
    grantee_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, Iterable[str] | None]],
) -> KeyBundle:
    """Re-wraps section keys of existing records for one grantee (consent given after sealing).

    For each ``(envelope, sections)`` the requested sections present in the envelope are released (None means
    every section); records with none of them are skipped, so one consent mask can be applied to a whole card.

    Args:
        holder_private_key: A key that holds the sections in each envelope (normally the patient's).
        grantee_public_key: The grantee's 64-byte encryption public key.
        grants: The envelopes and the sections to release from each.

    Returns:
        One bundle for the grantee.

    Raises:
        InputError: Nothing to release.
        NotARecipientError: The holder lacks a key for a requested section that the envelope has.
        IntegrityError: An envelope fails authentication for the holder.
    """
    holder = address_from_private_key(holder_private_key)
    grantee = address_from_public_key(grantee_public_key)
    entries: dict[bytes, BundleEntry] = {}
    for envelope, wanted in grants:
        present = set(envelope.section_names)
        chosen = present if wanted is None else {check_section_name(n) for n in wanted} & present
        if not chosen:
            continue
        own = _unlock_own(envelope, holder_private_key, holder)
        if own is None:
            raise NotARecipientError(holder, f"record 0x{envelope.context.record_id.hex()}")
        mac_key, keys = own
        if missing := chosen - set(keys):
            raise NotARecipientError(
                holder, f"section {sorted(missing)[0]!r} of record 0x{envelope.context.record_id.hex()}"
            )
        names = tuple(sorted(chosen))
        head = BundleEntry(envelope.context.record_id, envelope.digest, names, WrappedKey(b"", b"", b""))
        blob = mac_key + b"".join(keys[n] for n in names)
        wrapped = wrap_key(
            blob,
            grantee_public_key,
            info=_bundle_info(head.record_id, head.envelope_digest),
            aad=_bundle_aad(grantee, head),
        )
        entries[head.record_id + head.envelope_digest] = BundleEntry(
            head.record_id, head.envelope_digest, names, wrapped
        )
    if not entries:
        raise InputError("nothing to release: no requested section is present in the given records")
    if len(entries) > MAX_BUNDLE_ENTRIES:
        raise InputError(f"a key bundle holds at most {MAX_BUNDLE_ENTRIES} entries, got {len(entries)}")
    return KeyBundle(grantee, tuple(entries[k] for k in sorted(entries)))


def add_recipients(
    envelope: SealedEnvelope,
    holder_private_key: bytes,
    new_recipient_pubkeys: Iterable[bytes],
    sections: Iterable[str] | None = None,
) -> dict[Address, KeyBundle]:
    """Releases sections of one sealed record to new recipients, one key bundle per recipient.

    The envelope itself never changes (its bytes are content-addressed); the bundles travel separately and
    are opened together with it (``open_section(..., bundles=[bundle])``).

    Args:
        envelope: The sealed record.
        holder_private_key: A key holding the sections (normally the patient's).
        new_recipient_pubkeys: The grantees' 64-byte public keys.
        sections: Sections to release; None means every section.

    Returns:
        Grantee address -> its bundle.

    Raises:
        UnknownSectionError: A requested section is not in the envelope.
        NotARecipientError: The holder lacks a requested section.
        IntegrityError: The envelope fails authentication for the holder.
    """
    wanted = None if sections is None else tuple(sections)
    for name in wanted or ():
        if name not in envelope.section_names:
            raise UnknownSectionError(name, envelope.section_names)
    out: dict[Address, KeyBundle] = {}
    for pub in new_recipient_pubkeys:
        bundle = release_keys(holder_private_key, pub, [(envelope, wanted)])
        out[bundle.grantee] = bundle
    return out


def verify_bundle(bundle: KeyBundle, reader_private_key: bytes) -> None:
    """Checks that every entry of a bundle opens for the reader (every byte authenticated).

    Raises:
        NotARecipientError: The bundle is for another grantee.
        IntegrityError: An entry was altered.
    """
    reader = address_from_private_key(reader_private_key)
    if bundle.grantee != reader:
        raise NotARecipientError(reader, f"key bundle for {bundle.grantee}")
    for entry in bundle.entries:
        _unwrap_entry(bundle.grantee, entry, reader_private_key)


__all__ = [
    "BUNDLE_MAGIC",
    "ENVELOPE_MAGIC",
    "FORMAT_VERSION",
    "PUBLIC_KEY_SIZE",
    "BundleEntry",
    "EnvelopeContext",
    "KeyBundle",
    "MalformedError",
    "Recipient",
    "RecipientEntry",
    "SealedEnvelope",
    "SealedSection",
    "Withheld",
    "add_recipients",
    "check_section_name",
    "open_all",
    "open_section",
    "release_keys",
    "seal",
    "verify_bundle",
]
