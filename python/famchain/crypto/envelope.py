"""Sealed record envelopes, version 2: per-section AEAD, key commitment, padding, anonymous recipients.

A record is a mapping of section name to plaintext. :func:`seal` encrypts each section under its own random
256-bit key with the AEAD a :class:`~famchain.crypto.policy.CipherPolicy` names, and gives every recipient a
wrapped copy of the envelope MAC key and of the keys of the sections it may read. Optionally the keys of the
emergency sections are split among custodians (:mod:`famchain.crypto.emergency`). The stored bytes name no
recipient: no address, no public key, only one ephemeral public key and per-recipient tags that only the
holder of a recipient's private key can recompute.

The reader takes the :class:`EnvelopeContext` from the chain anchor (``salt``, patient, author) and the
deployment (chain id, registry), never from the envelope, which holds only a digest of it. An envelope copied
under another record, patient, author, chain or registry opens for nobody.

Conventions
-----------
Integers are unsigned big-endian. ``lp8(x)`` is one length byte then ``x``. ``|`` is concatenation.
``HKDF(ikm, info, L)`` is HKDF-SHA256 (RFC 5869) with no salt (32 zero bytes). ``HMAC`` is HMAC-SHA256.
Public keys are 64-byte uncompressed secp256k1 points without the ``0x04`` prefix; ``ECDH(a, B)`` is the
32-byte x-coordinate of ``a * B`` (noble-curves: ``getSharedSecret(a, B).slice(1, 33)``). Labels are ASCII.

Context (124 bytes, never stored)::

    context        = salt[32] | patient[20] | author[20] | chain_id u256[32] | registry[20]
    context_digest = SHA-256("famchain/v2/context" | context)

Envelope bytes::

    "FCEV" | u8 version=2
    context_digest[32]
    ephemeral_pubkey[64]                    one secp256k1 key per envelope, shared by every entry
    u8 S (1..64), then S sections, names strictly increasing (bytewise):
        lp8 name ([a-z][a-z0-9_]*, 1..64 ASCII bytes) | u8 aead_id (1 aes-256-gcm, 2 chacha20-poly1305,
        3 sm4-gcm) | commitment[32] | nonce[12] | u32 ct_len | ciphertext[ct_len]
    mac_commitment[32]
    u8 K (0..S): emergency sections; when K > 0:
        u8 t (1..N) | u8 N (1..255) | K x u8 section index (strictly increasing, < S)
    u16 R (a power of two, 4..1024): recipient entries
    ---- the header ends here: every byte above is the "prefix" ----
    R x (tag[16] | wrap[56 + 32 S])         tags strictly increasing (as unsigned byte strings)
    N x (tag[16] | wrap[49 + 32 K])         custodian entries, tags strictly increasing (only when K > 0)
    mac[32]

Derivations (``prefix`` = the envelope bytes from ``"FCEV"`` through ``R``)::

    header_digest = SHA-256("famchain/v2/header" | context | prefix)
    commitment    = HMAC(key, "famchain key commitment v2" | context | lp8(name) | u8 aead_id)
    mac_commitment= HMAC(mac_key, "famchain key commitment v2" | context | 0x00 | 0x00)
                    (the commitment formula with the empty name and aead id 0)
    section AAD   = "famchain/v2/section" | context | lp8(name) | u8 aead_id | commitment
    ciphertext    = AEAD(aead_id, key, nonce, pad(plaintext), section AAD)        (tag appended)
    mac           = HMAC(mac_key, "famchain/v2/mac" | context | every envelope byte before the mac)

    For a recipient with public key P (and private key p):
        shared    = ECDH(ephemeral, P) = ECDH(p, ephemeral_pubkey)
        tag       = HKDF(shared, "famchain recipient tag" | ephemeral_pubkey | P, 16)
        kek|nonce = HKDF(shared, "famchain kek" | header_digest | P, 44)
        wrap      = AES-256-GCM(kek, nonce, blob, aad=tag)
        blob      = mac_key[32] | mask u64 (big-endian) | S x slot[32]
                    bit i of mask (value 2^i) set <=> slot i holds the key of section i; other slots are zero
    For custodian number j (0-based, in the order given to seal; its share x-coordinate is j + 1):
        the same with "famchain custodian tag" and "famchain custodian kek", and
        blob      = mac_key[32] | u8 x | K x y[32]     (y = its Shamir share of each emergency section key,
                                                        in section order; see famchain.crypto.shamir)

``aead_id`` 3 (SM4-GCM) encrypts under ``HKDF(key, "famchain sm4-gcm key", 16)``; ids 1 and 2 use the key as is
(:mod:`famchain.crypto.aead`). ``pad`` is Padmé with a 256-byte floor over a u32 length prefix
(:mod:`famchain.crypto.padding`): ``ct_len - 16`` is always a size class, which the parser checks.

Recipient entries are padded to ``R = max(4, next power of two)`` with dummy entries: a random tag and random
wrap bytes, indistinguishable from real ones without a recipient's key. Custodian entries are not padded
(``N`` is in the header).

Tags are unique per envelope through the ephemeral key but do not depend on the header digest: a reader of an
altered envelope still finds its entry, and the wrap (its key bound to ``header_digest``) then fails, so the
damage is reported as an integrity error rather than as "not a recipient". Only the ephemeral key or the
reader's own tag, when altered, hide the entry.

Opening (one ECDH per reader, whatever ``R``): check ``context_digest``; compute the reader's tag and
binary-search it among the recipient tags; derive the KEK from ``header_digest`` and decrypt the wrap; check
``mac_commitment`` against the unwrapped MAC key, then the MAC over the whole envelope; for each granted
section check its ``commitment`` against the key (constant time), decrypt, and unpad. Nothing is decrypted before the MAC and
the key commitments verify, so a sealer cannot make one ciphertext open to two plaintexts for two readers by
handing them different keys, and no partial plaintext leaks from an altered envelope.

Randomness is drawn through one hook (:mod:`famchain.crypto._random`) in this order, which the test vectors
(``famchain/crypto/vectors/envelope-v2.json``) record: for each section in name order its key (32), then for
each section its nonce (12), the MAC key (32), the ephemeral private key (32, drawn again while not in
``1 .. n-1``), for each emergency section in name order its Shamir coefficients (``t - 1`` x 32), then for
each dummy entry its tag (16, drawn again on a collision) and its wrap bytes.

What the envelope does not prove is *who* sealed it: anyone can seal to public keys. Authorship and "this is
the record on the card" come from the chain anchor, whose ``cidDigest`` the storage layer checks.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import hmac
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from eth_utils.address import is_address, to_checksum_address

from famchain.crypto import _codec
from famchain.crypto._codec import MAX_SECTIONS, check_section_name
from famchain.crypto._random import Entropy, system_entropy
from famchain.crypto.aead import AES_256_GCM, KEY_SIZE, NONCE_SIZE, TAG_SIZE, Aead, aead_by_id, get_aead
from famchain.crypto.bundle import (
    BundleEntry,
    EntryKind,
    KeyBundle,
    OpenedBundle,
    _seal_bundle,
    open_bundle,
)
from famchain.crypto.keywrap import (
    PUBLIC_KEY_SIZE,
    EphemeralKey,
    address_from_private_key,
    ecdh,
    hkdf,
    is_public_key,
    parse_public_key,
    public_key_from_private,
)
from famchain.crypto.padding import is_size_class, pad, padded_size, unpad
from famchain.crypto.policy import CipherPolicy
from famchain.crypto.shamir import MAX_SHARES, _split
from famchain.errors import (
    AuthenticationError,
    ContextMismatchError,
    CryptoError,
    InputError,
    KeyCommitmentError,
    MalformedError,
    NotARecipientError,
    UnknownSectionError,
)
from famchain.i18n import N_, _
from famchain.types import Address

ENVELOPE_MAGIC = b"FCEV"
FORMAT_VERSION = 2
MAX_SECTION_BYTES = 1 << 28
"""Largest section plaintext (256 MiB); bigger attachments belong in their own stored object."""
MAX_RECIPIENTS = 1024
MIN_RECIPIENT_ENTRIES = 4
MAX_CUSTODIANS = MAX_SHARES
CONTEXT_SIZE = 124
DIGEST_SIZE = 32
COMMITMENT_SIZE = 32
MAC_SIZE = 32
ENTRY_TAG_SIZE = 16
MASK_SIZE = 8

CONTEXT_LABEL = b"famchain/v2/context"
HEADER_LABEL = b"famchain/v2/header"
COMMIT_LABEL = b"famchain key commitment v2"
SECTION_LABEL = b"famchain/v2/section"
MAC_LABEL = b"famchain/v2/mac"
RECIPIENT_TAG_INFO = b"famchain recipient tag"
RECIPIENT_KEK_INFO = b"famchain kek"
CUSTODIAN_TAG_INFO = b"famchain custodian tag"
CUSTODIAN_KEK_INFO = b"famchain custodian kek"

_MAX_CIPHERTEXT = padded_size(MAX_SECTION_BYTES) + TAG_SIZE
_WRAP = get_aead(AES_256_GCM)
_ENVELOPE = N_("envelope")


def _raw(address: Address) -> bytes:
    return bytes.fromhex(address[2:])


def _address(value: str, field_name: str) -> Address:
    checksummed = _checksummed(value) if isinstance(value, str) else None
    if checksummed is None:
        raise InputError(
            _("{field_name} is not an Ethereum address: {value!r}").format(field_name=field_name, value=value)
        )
    return checksummed


@functools.lru_cache(maxsize=256)
def _checksummed(value: str) -> Address | None:
    # A keccak per address: a sealer of many records for one patient asks for the same three every time.
    return Address(to_checksum_address(value)) if is_address(value) else None


# --- context, recipients ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvelopeContext:
    """What a sealed record is bound to; the reader takes it from the chain anchor, never from the envelope.

    Attributes:
        salt: The author's random 32-byte salt (an input of the chain's record id).
        patient: The patient's address (normalized to checksum form).
        author: The author's address (normalized to checksum form).
        chain_id: The chain id (1 .. 2**256 - 1).
        registry: The RecordRegistry contract address (normalized to checksum form).
    """

    salt: bytes
    patient: Address
    author: Address
    chain_id: int
    registry: Address

    def __post_init__(self) -> None:
        if not isinstance(self.salt, bytes | bytearray) or len(self.salt) != 32:
            raise InputError(_("salt must be 32 bytes"))
        if (
            isinstance(self.chain_id, bool)
            or not isinstance(self.chain_id, int)
            or not 0 < self.chain_id < 2**256
        ):
            raise InputError(
                _("chain id must be a positive uint256, got {chain_id!r}").format(chain_id=self.chain_id)
            )
        object.__setattr__(self, "salt", bytes(self.salt))
        object.__setattr__(self, "patient", _address(self.patient, "patient"))
        object.__setattr__(self, "author", _address(self.author, "author"))
        object.__setattr__(self, "registry", _address(self.registry, "registry"))

    def to_bytes(self) -> bytes:
        """``salt[32] | patient[20] | author[20] | chain_id u256 | registry[20]`` (124 bytes)."""
        return (
            self.salt
            + _raw(self.patient)
            + _raw(self.author)
            + self.chain_id.to_bytes(32, "big")
            + _raw(self.registry)
        )

    @property
    def digest(self) -> bytes:
        """``SHA-256("famchain/v2/context" | context)``: what the envelope and bundle entries store."""
        return hashlib.sha256(CONTEXT_LABEL + self.to_bytes()).digest()


@dataclass(frozen=True)
class Recipient:
    """A party a record is sealed for.

    Attributes:
        public_key: The 64-byte secp256k1 encryption public key (as registered on chain).
        sections: The section names this party may read; None means every section of the record.
    """

    public_key: bytes
    sections: frozenset[str] | None = None


@dataclass(frozen=True)
class EmergencyShares:
    """Asks :func:`seal` to split the keys of the emergency sections among custodians.

    Attributes:
        custodian_public_keys: The custodians' 64-byte public keys; custodian ``j`` gets x-coordinate ``j + 1``.
        threshold: How many custodians' shares open the emergency sections (1 .. number of custodians).
        sections: The emergency section names; those absent from a record are ignored (no block is written
            when none is present).
    """

    custodian_public_keys: Sequence[bytes]
    threshold: int
    sections: frozenset[str]


@dataclass(frozen=True)
class Withheld:
    """Stands for a section whose key was not released to the reader."""

    section: str


# --- the sealed form -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedSection:
    """One encrypted section.

    Attributes:
        name: The section name.
        algorithm: The AEAD registry name.
        commitment: HMAC commitment to the section key (see the module docstring).
        nonce: 12 bytes.
        ciphertext: The padded plaintext, encrypted, with the tag appended.
    """

    name: str
    algorithm: str
    commitment: bytes
    nonce: bytes
    ciphertext: bytes

    @property
    def aead(self) -> Aead:
        """The registered algorithm."""
        return get_aead(self.algorithm)

    def to_bytes(self) -> bytes:
        """``lp8 name | u8 aead_id | commitment | nonce | u32 ct_len | ciphertext``."""
        return (
            _codec.lp8(self.name.encode())
            + _codec.u8(self.aead.ident)
            + self.commitment
            + self.nonce
            + _codec.u32(len(self.ciphertext))
            + self.ciphertext
        )


@dataclass(frozen=True)
class EmergencyBlock:
    """The public part of an emergency sharing.

    Attributes:
        threshold: Shares needed (t).
        custodians: Number of custodians (N), one entry each.
        sections: The emergency section names, in envelope order.
    """

    threshold: int
    custodians: int
    sections: tuple[str, ...]


@dataclass(frozen=True)
class WrapEntry:
    """One anonymous entry: a 16-byte tag and an AES-256-GCM wrap (or random bytes for a dummy)."""

    tag: bytes
    wrapped: bytes

    def to_bytes(self) -> bytes:
        return self.tag + self.wrapped


@dataclass(frozen=True)
class SealedEnvelope:
    """A sealed record. Build with :func:`seal`; parse with :meth:`from_bytes`; the bytes are canonical.

    Attributes:
        context_digest: Digest of the context the envelope is bound to.
        ephemeral_public_key: The envelope's one-time public key.
        sections: In name order.
        mac_commitment: Commitment to the MAC key.
        emergency: The emergency block, or None.
        recipients: Recipient entries (dummies included), sorted by tag.
        custodians: Custodian entries, sorted by tag.
        mac: HMAC over every preceding byte.
    """

    context_digest: bytes
    ephemeral_public_key: bytes
    sections: tuple[SealedSection, ...]
    mac_commitment: bytes
    emergency: EmergencyBlock | None
    recipients: tuple[WrapEntry, ...]
    custodians: tuple[WrapEntry, ...]
    mac: bytes = field(repr=False)

    @property
    def section_names(self) -> tuple[str, ...]:
        """Section names in envelope (sorted) order."""
        return tuple(s.name for s in self.sections)

    @property
    def recipient_count(self) -> int:
        """Recipient entries, dummies included: an upper bound on the real recipients (not recorded)."""
        return len(self.recipients)

    @property
    def emergency_sections(self) -> tuple[str, ...]:
        """Names of the sections whose keys are shared among custodians (empty without a block)."""
        return () if self.emergency is None else self.emergency.sections

    def section(self, name: str) -> SealedSection:
        """The sealed section called ``name``.

        Raises:
            UnknownSectionError: No such section.
        """
        for s in self.sections:
            if s.name == name:
                return s
        raise UnknownSectionError(name, self.section_names)

    def prefix(self) -> bytes:
        """The header bytes (from the magic through the recipient count) that ``header_digest`` covers."""
        return _encode_prefix(
            self.context_digest,
            self.ephemeral_public_key,
            self.sections,
            self.mac_commitment,
            self.emergency,
            len(self.recipients),
        )

    def header_digest(self, context: EnvelopeContext) -> bytes:
        """``SHA-256("famchain/v2/header" | context | prefix)``: every wrap is bound to it."""
        return _header_digest(context.to_bytes(), self.prefix())

    @cached_property
    def _bytes(self) -> bytes:
        parts = [self.prefix()]
        parts.extend(e.to_bytes() for e in self.recipients)
        parts.extend(e.to_bytes() for e in self.custodians)
        parts.append(self.mac)
        return b"".join(parts)

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
            MalformedError: Bad magic, unknown version, truncation, trailing bytes, a count out of range,
                unsorted or duplicate sections or tags, an unknown algorithm id, a bad section name, a
                ciphertext length that is not a padded size class, or an ephemeral key off the curve.
        """
        rd = _codec.Reader(data, _ENVELOPE)
        if rd.take(len(ENVELOPE_MAGIC), "magic") != ENVELOPE_MAGIC:
            raise rd.fail(_("bad magic"))
        version = rd.uint(1, "version")
        if version != FORMAT_VERSION:
            raise rd.fail(_("unsupported version {version}").format(version=version))
        context_digest = rd.take(DIGEST_SIZE, "context digest")
        ephemeral = rd.take(PUBLIC_KEY_SIZE, "ephemeral public key")
        if not is_public_key(ephemeral):
            raise rd.fail(_("ephemeral public key is not a secp256k1 point"))
        n_sections = rd.uint(1, "section count")
        if not 0 < n_sections <= MAX_SECTIONS:
            raise rd.fail(
                _("section count {n_sections} not in 1..{max_sections}").format(
                    n_sections=n_sections, max_sections=MAX_SECTIONS
                )
            )
        sections: list[SealedSection] = []
        for _i in range(n_sections):
            sections.append(_read_section(rd, sections[-1].name if sections else None))
        names = tuple(s.name for s in sections)
        mac_commitment = rd.take(COMMITMENT_SIZE, "mac commitment")
        emergency = _read_emergency(rd, names)
        n_entries = rd.uint(2, "recipient entry count")
        if not (MIN_RECIPIENT_ENTRIES <= n_entries <= MAX_RECIPIENTS and n_entries & (n_entries - 1) == 0):
            raise rd.fail(
                _(
                    "recipient entry count {n_entries} is not a power of two in {min_entries}..{max_recipients}"
                ).format(
                    n_entries=n_entries,
                    min_entries=MIN_RECIPIENT_ENTRIES,
                    max_recipients=MAX_RECIPIENTS,
                )
            )
        recipients = _read_entries(rd, n_entries, _recipient_wrap_size(n_sections), "recipient")
        custodians: tuple[WrapEntry, ...] = ()
        if emergency is not None:
            size = _custodian_wrap_size(len(emergency.sections))
            custodians = _read_entries(rd, emergency.custodians, size, "custodian")
        mac = rd.take(MAC_SIZE, "mac")
        rd.end()
        return cls(
            context_digest, ephemeral, tuple(sections), mac_commitment, emergency, recipients, custodians, mac
        )


def _encode_prefix(
    context_digest: bytes,
    ephemeral_public_key: bytes,
    sections: Sequence[SealedSection],
    mac_commitment: bytes,
    emergency: EmergencyBlock | None,
    n_entries: int,
) -> bytes:
    parts = [
        ENVELOPE_MAGIC,
        _codec.u8(FORMAT_VERSION),
        context_digest,
        ephemeral_public_key,
        _codec.u8(len(sections)),
    ]
    parts.extend(s.to_bytes() for s in sections)
    parts.append(mac_commitment)
    if emergency is None:
        parts.append(_codec.u8(0))
    else:
        index = {s.name: i for i, s in enumerate(sections)}
        parts.append(_codec.u8(len(emergency.sections)))
        parts.append(_codec.u8(emergency.threshold) + _codec.u8(emergency.custodians))
        parts.append(bytes(index[n] for n in emergency.sections))
    parts.append(_codec.u16(n_entries))
    return b"".join(parts)


def _read_section(rd: _codec.Reader, previous: str | None) -> SealedSection:
    name = rd.section_name()
    if previous is not None and name.encode() <= previous.encode():
        raise rd.fail(_("section {name!r} out of order or duplicated").format(name=name))
    ident = rd.uint(1, "aead id")
    aead = aead_by_id(ident)
    if aead is None:
        raise rd.fail(_("unknown aead id {ident}").format(ident=ident))
    commitment = rd.take(COMMITMENT_SIZE, "key commitment")
    nonce = rd.take(NONCE_SIZE, "nonce")
    size = rd.uint(4, "ciphertext length")
    if size > _MAX_CIPHERTEXT or not is_size_class(size - TAG_SIZE):
        raise rd.fail(_("ciphertext length {size} is not a padded size class plus the tag").format(size=size))
    return SealedSection(name, aead.name, commitment, nonce, rd.take(size, "ciphertext"))


def _read_emergency(rd: _codec.Reader, names: tuple[str, ...]) -> EmergencyBlock | None:
    count = rd.uint(1, "emergency section count")
    if count == 0:
        return None
    if count > len(names):
        raise rd.fail(
            _("emergency section count {count} exceeds the {n_names} sections").format(
                count=count, n_names=len(names)
            )
        )
    threshold = rd.uint(1, "emergency threshold")
    custodians = rd.uint(1, "custodian count")
    if not 1 <= threshold <= custodians:
        raise rd.fail(
            _("emergency threshold {threshold} not in 1..{custodians} (custodians)").format(
                threshold=threshold, custodians=custodians
            )
        )
    indices = list(rd.take(count, "emergency section indices"))
    if any(b <= a for a, b in itertools.pairwise(indices)) or indices[-1] >= len(names):
        raise rd.fail(_("emergency section indices not strictly increasing and in range"))
    return EmergencyBlock(threshold, custodians, tuple(names[i] for i in indices))


def _read_entries(rd: _codec.Reader, count: int, wrap_size: int, kind: str) -> tuple[WrapEntry, ...]:
    entries: list[WrapEntry] = []
    for _i in range(count):
        tag = rd.take(ENTRY_TAG_SIZE, f"{kind} tag")
        if entries and tag <= entries[-1].tag:
            raise rd.fail(_("{kind} tags out of order or duplicated").format(kind=kind))
        entries.append(WrapEntry(tag, rd.take(wrap_size, f"{kind} wrap")))
    return tuple(entries)


def _recipient_wrap_size(n_sections: int) -> int:
    return KEY_SIZE + MASK_SIZE + KEY_SIZE * n_sections + TAG_SIZE


def _custodian_wrap_size(n_emergency: int) -> int:
    return KEY_SIZE + 1 + KEY_SIZE * n_emergency + TAG_SIZE


# --- derivations -----------------------------------------------------------------------------------------


def _header_digest(context: bytes, prefix: bytes) -> bytes:
    return hashlib.sha256(HEADER_LABEL + context + prefix).digest()


def _commit(key: bytes, context: bytes, name: str, aead_id: int) -> bytes:
    message = COMMIT_LABEL + context + _codec.lp8(name.encode()) + _codec.u8(aead_id)
    return hmac.new(key, message, hashlib.sha256).digest()


def _section_aad(context: bytes, name: str, aead_id: int, commitment: bytes) -> bytes:
    return SECTION_LABEL + context + _codec.lp8(name.encode()) + _codec.u8(aead_id) + commitment


def _mac(mac_key: bytes, context: bytes, body: bytes | memoryview) -> bytes:
    mac = hmac.new(mac_key, MAC_LABEL + context, hashlib.sha256)
    mac.update(body)
    return mac.digest()


def _entry_tag(shared: bytes, ephemeral_public_key: bytes, public_key: bytes, *, custodian: bool) -> bytes:
    info = CUSTODIAN_TAG_INFO if custodian else RECIPIENT_TAG_INFO
    return hkdf(shared, info + ephemeral_public_key + public_key, ENTRY_TAG_SIZE)


def _entry_kek(
    shared: bytes, header_digest: bytes, public_key: bytes, *, custodian: bool
) -> tuple[bytes, bytes]:
    info = CUSTODIAN_KEK_INFO if custodian else RECIPIENT_KEK_INFO
    okm = hkdf(shared, info + header_digest + public_key, KEY_SIZE + NONCE_SIZE)
    return okm[:KEY_SIZE], okm[KEY_SIZE:]


def _entry_secrets(
    shared: bytes, ephemeral_public_key: bytes, header_digest: bytes, public_key: bytes, *, custodian: bool
) -> tuple[bytes, bytes, bytes]:
    """``(tag, kek, nonce)`` of one recipient or custodian entry."""
    kek, nonce = _entry_kek(shared, header_digest, public_key, custodian=custodian)
    return _entry_tag(shared, ephemeral_public_key, public_key, custodian=custodian), kek, nonce


def _lookup(entries: Sequence[WrapEntry], tag: bytes) -> WrapEntry | None:
    at = bisect.bisect_left(entries, tag, key=lambda e: e.tag)
    if at < len(entries) and hmac.compare_digest(entries[at].tag, tag):
        return entries[at]
    return None


# --- sealing ---------------------------------------------------------------------------------------------


def _check_sections(plaintexts: Mapping[str, bytes]) -> tuple[str, ...]:
    if not isinstance(plaintexts, Mapping) or not plaintexts:
        raise InputError(_("a record needs at least one section"))
    if len(plaintexts) > MAX_SECTIONS:
        raise InputError(
            _("a record has at most {max_sections} sections, got {n_plaintexts}").format(
                max_sections=MAX_SECTIONS, n_plaintexts=len(plaintexts)
            )
        )
    names = tuple(sorted(check_section_name(n) for n in plaintexts))
    for name in names:
        value = plaintexts[name]
        if not isinstance(value, bytes | bytearray | memoryview):
            raise InputError(
                _("section {name!r} must be bytes, got {type}").format(name=name, type=type(value).__name__)
            )
        if len(value) > MAX_SECTION_BYTES:
            raise InputError(
                _("section {name!r} is {n_value} bytes, more than {max_section_bytes}").format(
                    name=name, n_value=len(value), max_section_bytes=MAX_SECTION_BYTES
                )
            )
    return names


def _merge_recipients(
    recipients: Iterable[Recipient | bytes], names: tuple[str, ...]
) -> list[tuple[bytes, frozenset[str]]]:
    merged: dict[bytes, set[str]] = {}
    for item in recipients:
        recipient = item if isinstance(item, Recipient) else Recipient(bytes(item))
        public_key = parse_public_key(recipient.public_key)
        wanted = set(names) if recipient.sections is None else set(recipient.sections)
        for name in wanted:
            if name not in names:
                raise UnknownSectionError(name, names)
        merged.setdefault(public_key, set()).update(wanted)
    if not merged:
        raise InputError(_("an envelope needs at least one recipient"))
    if len(merged) > MAX_RECIPIENTS:
        raise InputError(
            _("an envelope has at most {max_recipients} recipients, got {n_merged}").format(
                max_recipients=MAX_RECIPIENTS, n_merged=len(merged)
            )
        )
    if any(not wanted for wanted in merged.values()):
        raise InputError(_("a recipient must be given at least one section"))
    return [(pub, frozenset(wanted)) for pub, wanted in merged.items()]


def _check_emergency(
    emergency: EmergencyShares | None, names: tuple[str, ...]
) -> tuple[list[bytes], int, tuple[str, ...]]:
    if emergency is None:
        return [], 0, ()
    custodians = [parse_public_key(k) for k in emergency.custodian_public_keys]
    if not 1 <= len(custodians) <= MAX_CUSTODIANS:
        raise InputError(
            _("emergency sharing needs 1..{max_custodians} custodians, got {n_custodians}").format(
                max_custodians=MAX_CUSTODIANS, n_custodians=len(custodians)
            )
        )
    if len(set(custodians)) != len(custodians):
        raise InputError(_("a custodian is listed twice"))
    threshold = emergency.threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= len(custodians):
        raise InputError(
            _("emergency threshold must be in 1..{n_custodians}, got {threshold!r}").format(
                n_custodians=len(custodians), threshold=threshold
            )
        )
    wanted = {check_section_name(n) for n in emergency.sections}
    return custodians, threshold, tuple(n for n in names if n in wanted)


def _recipient_count_bucket(count: int) -> int:
    return max(MIN_RECIPIENT_ENTRIES, 1 << (count - 1).bit_length())


def seal(
    plaintexts: Mapping[str, bytes],
    recipients: Iterable[Recipient | bytes],
    context: EnvelopeContext,
    *,
    policy: CipherPolicy | None = None,
    emergency: EmergencyShares | None = None,
) -> SealedEnvelope:
    """Encrypts a record section by section and wraps the keys for each recipient.

    Args:
        plaintexts: Section name -> plaintext. Stored in sorted name order.
        recipients: Who may read what. A bare 64-byte public key means every section. Entries with the same
            key are merged.
        context: What the envelope is bound to (the author's fresh salt, patient, author, chain, registry).
        policy: Which AEAD seals which section; None means AES-256-GCM everywhere.
        emergency: Custodians, threshold and sections whose keys are split for emergency access.

    Returns:
        The sealed envelope (fresh random keys, nonces and ephemeral key on every call).

    Raises:
        InputError: No sections, no recipients, a bad section name, an oversize section, or bad emergency
            parameters.
        UnknownSectionError: A recipient names a section the record does not have.
        InvalidKeyError: A public key is malformed.
        AlgorithmUnavailableError: The policy names SM4-GCM and the linked OpenSSL lacks it.
    """
    return _seal(plaintexts, recipients, context, policy=policy, emergency=emergency, entropy=system_entropy)


def _seal(
    plaintexts: Mapping[str, bytes],
    recipients: Iterable[Recipient | bytes],
    context: EnvelopeContext,
    *,
    policy: CipherPolicy | None,
    emergency: EmergencyShares | None,
    entropy: Entropy,
) -> SealedEnvelope:
    names = _check_sections(plaintexts)
    policy = policy or CipherPolicy()
    grants = _merge_recipients(recipients, names)
    custodians, threshold, emergency_names = _check_emergency(emergency, names)

    keys = {n: entropy(KEY_SIZE, f"section key {n}") for n in names}
    nonces = {n: entropy(NONCE_SIZE, f"section nonce {n}") for n in names}
    mac_key = entropy(KEY_SIZE, "mac key")
    ephemeral = EphemeralKey(entropy)

    ctx = context.to_bytes()
    sections = tuple(
        _encrypt_section(ctx, n, get_aead(policy.algorithm_for(n)), keys[n], nonces[n], bytes(plaintexts[n]))
        for n in names
    )
    block: EmergencyBlock | None = None
    payloads: list[tuple[bytes, int, list[bytes]]] = []
    if emergency_names:
        block = EmergencyBlock(threshold, len(custodians), emergency_names)
        split = {n: _split(keys[n], threshold, len(custodians), entropy) for n in emergency_names}
        payloads = [
            (pub, j + 1, [split[n][j].y for n in emergency_names]) for j, pub in enumerate(custodians)
        ]
    return _assemble(
        context,
        sections,
        mac_key,
        ephemeral,
        [(pub, {n: keys[n] for n in names if n in granted}) for pub, granted in grants],
        block,
        payloads,
        entropy,
    )


def _encrypt_section(
    context: bytes, name: str, aead: Aead, key: bytes, nonce: bytes, plaintext: bytes
) -> SealedSection:
    commitment = _commit(key, context, name, aead.ident)
    ciphertext = aead.encrypt(key, nonce, pad(plaintext), _section_aad(context, name, aead.ident, commitment))
    return SealedSection(name, aead.name, commitment, nonce, ciphertext)


def _assemble(
    context: EnvelopeContext,
    sections: tuple[SealedSection, ...],
    mac_key: bytes,
    ephemeral: EphemeralKey,
    grants: Sequence[tuple[bytes, Mapping[str, bytes]]],
    block: EmergencyBlock | None,
    custodian_payloads: Sequence[tuple[bytes, int, Sequence[bytes]]],
    entropy: Entropy,
) -> SealedEnvelope:
    """Wraps the given keys for each recipient and custodian, adds dummies, and MACs the result.

    ``grants`` pairs each recipient's public key with the section keys it receives. :func:`_seal` passes the
    true keys; a test can pass others to play a dishonest sealer.
    """
    ctx = context.to_bytes()
    names = [s.name for s in sections]
    n_entries = _recipient_count_bucket(len(grants))
    mac_commitment = _commit(mac_key, ctx, "", 0)
    prefix = _encode_prefix(context.digest, ephemeral.public_key, sections, mac_commitment, block, n_entries)
    header = _header_digest(ctx, prefix)

    recipients: list[WrapEntry] = []
    for public_key, granted in grants:
        tag, kek, nonce = _entry_secrets(
            ephemeral.exchange(public_key), ephemeral.public_key, header, public_key, custodian=False
        )
        mask = sum(1 << i for i, n in enumerate(names) if n in granted)
        slots = b"".join(granted.get(n, bytes(KEY_SIZE)) for n in names)
        blob = mac_key + mask.to_bytes(MASK_SIZE, "big") + slots
        recipients.append(WrapEntry(tag, _WRAP.encrypt(kek, nonce, blob, tag)))
    tags = {e.tag for e in recipients}
    if len(tags) != len(recipients):
        raise CryptoError(_("two recipient tags collided; seal again"))
    wrap_size = _recipient_wrap_size(len(sections))
    while len(recipients) < n_entries:
        tag = entropy(ENTRY_TAG_SIZE, "dummy entry tag")
        if tag in tags:
            continue
        tags.add(tag)
        recipients.append(WrapEntry(tag, entropy(wrap_size, "dummy entry wrap")))

    custodians: list[WrapEntry] = []
    for public_key, x, ys in custodian_payloads:
        tag, kek, nonce = _entry_secrets(
            ephemeral.exchange(public_key), ephemeral.public_key, header, public_key, custodian=True
        )
        blob = mac_key + _codec.u8(x) + b"".join(ys)
        custodians.append(WrapEntry(tag, _WRAP.encrypt(kek, nonce, blob, tag)))
    if len({e.tag for e in custodians}) != len(custodians):
        raise CryptoError(_("two custodian tags collided; seal again"))

    unsigned = SealedEnvelope(
        context.digest,
        ephemeral.public_key,
        sections,
        mac_commitment,
        block,
        tuple(sorted(recipients, key=lambda e: e.tag)),
        tuple(sorted(custodians, key=lambda e: e.tag)),
        b"",
    )
    mac = _mac(mac_key, ctx, unsigned.to_bytes())
    return SealedEnvelope(
        unsigned.context_digest,
        unsigned.ephemeral_public_key,
        sections,
        mac_commitment,
        block,
        unsigned.recipients,
        unsigned.custodians,
        mac,
    )


# --- opening ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Access:
    """What one entry gave a reader: the MAC key and section keys (all checked)."""

    mac_key: bytes = field(repr=False)
    keys: Mapping[str, bytes] = field(repr=False)


def _check_context(envelope: SealedEnvelope, context: EnvelopeContext) -> bytes:
    if not hmac.compare_digest(context.digest, envelope.context_digest):
        raise ContextMismatchError(
            _("context digest"), "0x" + context.digest.hex(), "0x" + envelope.context_digest.hex()
        )
    return context.to_bytes()


def _authenticate(envelope: SealedEnvelope, context: bytes, mac_key: bytes) -> None:
    """Checks the MAC key against its commitment, then the MAC over the whole envelope."""
    if not hmac.compare_digest(_commit(mac_key, context, "", 0), envelope.mac_commitment):
        raise KeyCommitmentError(_("the envelope MAC"))
    body = memoryview(envelope.to_bytes())[:-MAC_SIZE]
    if not hmac.compare_digest(_mac(mac_key, context, body), envelope.mac):
        raise AuthenticationError(_(_ENVELOPE))


def _check_key(section: SealedSection, key: bytes, context: bytes) -> None:
    expected = _commit(key, context, section.name, section.aead.ident)
    if not hmac.compare_digest(expected, section.commitment):
        raise KeyCommitmentError(_("section {name!r}").format(name=section.name))


def _decrypt(section: SealedSection, key: bytes, context: bytes) -> bytes:
    _check_key(section, key, context)
    aead = section.aead
    aad = _section_aad(context, section.name, aead.ident, section.commitment)
    padded = aead.decrypt(key, section.nonce, section.ciphertext, aad, f"section {section.name!r}")
    return unpad(padded, f"section {section.name!r} plaintext")


def _unwrap_entry(
    entries: Sequence[WrapEntry], private_key: bytes, ephemeral: bytes, header: bytes, *, custodian: bool
) -> bytes | None:
    """The decrypted blob of the reader's entry, or None when the reader's tag is absent."""
    public_key = public_key_from_private(private_key)
    shared = ecdh(private_key, ephemeral)
    tag = _entry_tag(shared, ephemeral, public_key, custodian=custodian)
    entry = _lookup(entries, tag)
    if entry is None:
        return None
    kek, nonce = _entry_kek(shared, header, public_key, custodian=custodian)
    what = "custodian entry" if custodian else "recipient entry"
    return _WRAP.decrypt(kek, nonce, entry.wrapped, tag, what)


def _own_access(envelope: SealedEnvelope, private_key: bytes, context: bytes) -> _Access | None:
    """Unwraps the reader's recipient entry and authenticates the envelope; None without an entry."""
    blob = _unwrap_entry(
        envelope.recipients,
        private_key,
        envelope.ephemeral_public_key,
        _header_digest(context, envelope.prefix()),
        custodian=False,
    )
    if blob is None:
        return None
    mac_key = blob[:KEY_SIZE]
    mask = int.from_bytes(blob[KEY_SIZE : KEY_SIZE + MASK_SIZE], "big")
    n_sections = len(envelope.sections)
    if mask == 0 or mask >> n_sections:
        raise MalformedError(
            _("recipient entry"),
            _("section mask {mask:#x} does not fit {n_sections} sections").format(
                mask=mask, n_sections=n_sections
            ),
        )
    _authenticate(envelope, context, mac_key)
    keys: dict[str, bytes] = {}
    for i, section in enumerate(envelope.sections):
        start = KEY_SIZE + MASK_SIZE + KEY_SIZE * i
        slot = blob[start : start + KEY_SIZE]
        if mask >> i & 1:
            _check_key(section, slot, context)
            keys[section.name] = slot
        elif slot != bytes(KEY_SIZE):
            raise MalformedError(
                _("recipient entry"), _("slot {i} holds a key the mask does not grant").format(i=i)
            )
    return _Access(mac_key, keys)


def _opened(bundle: KeyBundle | OpenedBundle, private_key: bytes) -> OpenedBundle | None:
    if isinstance(bundle, OpenedBundle):
        return bundle
    try:
        return open_bundle(bundle, private_key)
    except AuthenticationError:
        # The bytes do not name their grantee: a bundle that does not open is someone else's (or altered).
        return None


def _bundle_entries(
    envelope: SealedEnvelope,
    private_key: bytes,
    bundles: Iterable[KeyBundle | OpenedBundle],
    kind: EntryKind,
) -> list[BundleEntry]:
    out: list[BundleEntry] = []
    for bundle in bundles:
        opened = _opened(bundle, private_key)
        if opened is not None:
            out.extend(
                e for e in opened.entries_for(envelope.context_digest, envelope.digest) if e.kind is kind
            )
    return out


def _unlock(
    envelope: SealedEnvelope,
    private_key: bytes,
    context: EnvelopeContext,
    bundles: Iterable[KeyBundle | OpenedBundle],
) -> dict[str, bytes]:
    ctx = _check_context(envelope, context)
    found = False
    keys: dict[str, bytes] = {}
    own = _own_access(envelope, private_key, ctx)
    if own is not None:
        found = True
        keys.update(own.keys)
    for entry in _bundle_entries(envelope, private_key, bundles, EntryKind.KEYS):
        _authenticate(envelope, ctx, entry.mac_key)
        for name, key in entry.keys:
            if name not in envelope.section_names:
                raise AuthenticationError(_("key bundle entry for section {name!r}").format(name=name))
            _check_key(envelope.section(name), key, ctx)
            keys[name] = key
        found = True
    if not found:
        raise NotARecipientError(address_from_private_key(private_key), _describe(envelope))
    return keys


def _describe(envelope: SealedEnvelope) -> str:
    return f"envelope sha256:{envelope.digest.hex()}"


def is_recipient(envelope: SealedEnvelope, private_key: bytes, context: EnvelopeContext) -> bool:
    """Tells whether the envelope holds a recipient entry for this key under this context.

    One ECDH and a tag lookup; nothing is decrypted or authenticated (use :func:`open_all` for that).

    Raises:
        InvalidKeyError: The private key is not a valid secp256k1 key.
    """
    if not hmac.compare_digest(context.digest, envelope.context_digest):
        return False
    shared = ecdh(private_key, envelope.ephemeral_public_key)
    public_key = public_key_from_private(private_key)
    tag = _entry_tag(shared, envelope.ephemeral_public_key, public_key, custodian=False)
    return _lookup(envelope.recipients, tag) is not None


def granted_sections(
    envelope: SealedEnvelope, private_key: bytes, context: EnvelopeContext
) -> frozenset[str] | None:
    """The sections whose keys the envelope itself wraps for this key (what it can release), checked.

    The reader's entry is unwrapped, the envelope authenticated (MAC and key commitments) and nothing
    decrypted: a cheap check, before a key release, that the releaser really holds what it would hand out.

    Returns:
        The section names, or None when the envelope has no entry for this key.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        KeyCommitmentError: A wrapped key is not the committed one.
        IntegrityError: Any byte of the envelope was altered.
    """
    access = _own_access(envelope, private_key, _check_context(envelope, context))
    return None if access is None else frozenset(access.keys)


def open_section(
    envelope: SealedEnvelope,
    name: str,
    reader_private_key: bytes,
    context: EnvelopeContext,
    *,
    bundles: Iterable[KeyBundle | OpenedBundle] = (),
) -> bytes:
    """Decrypts one section for a reader.

    The whole envelope is authenticated (key commitment and MAC under a key only recipients hold) before
    anything is decrypted.

    Args:
        envelope: The sealed record.
        name: The section to open.
        reader_private_key: The reader's 32-byte secp256k1 private key.
        context: The record the caller expects (from the chain anchor).
        bundles: Key bundles that may hold the reader's keys for this envelope; bundles that do not open
            with the reader's key are skipped (the bytes do not say whose they are).

    Raises:
        UnknownSectionError: The envelope has no such section.
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: No key for the reader in the envelope or bundles, or none for this section.
        KeyCommitmentError: A key handed to the reader is not the committed one.
        IntegrityError: Any byte of the envelope was altered.
    """
    section = envelope.section(name)
    keys = _unlock(envelope, reader_private_key, context, bundles)
    if name not in keys:
        reader = address_from_private_key(reader_private_key)
        raise NotARecipientError(
            reader, _("section {name!r} of {describe}").format(name=name, describe=_describe(envelope))
        )
    return _decrypt(section, keys[name], context.to_bytes())


def open_all(
    envelope: SealedEnvelope,
    reader_private_key: bytes,
    context: EnvelopeContext,
    *,
    bundles: Iterable[KeyBundle | OpenedBundle] = (),
) -> dict[str, bytes | Withheld]:
    """Decrypts every section released to the reader; the others come back as :class:`Withheld`.

    Either every released section decrypts or nothing is returned.

    Args:
        envelope: The sealed record.
        reader_private_key: The reader's 32-byte private key.
        context: The record the caller expects (from the chain anchor).
        bundles: Key bundles that may hold the reader's keys for this envelope (see :func:`open_section`).

    Returns:
        Section name -> plaintext or :class:`Withheld`, in envelope order.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: The reader holds no key at all for this envelope.
        KeyCommitmentError: A key handed to the reader is not the committed one.
        IntegrityError: Any byte was altered.
    """
    keys = _unlock(envelope, reader_private_key, context, bundles)
    ctx = context.to_bytes()
    out: dict[str, bytes | Withheld] = {}
    for section in envelope.sections:
        key = keys.get(section.name)
        out[section.name] = Withheld(section.name) if key is None else _decrypt(section, key, ctx)
    return out


# --- key release -----------------------------------------------------------------------------------------


def release_keys(
    releaser_private_key: bytes,
    grantee_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, EnvelopeContext, Iterable[str] | None]],
) -> KeyBundle:
    """Re-wraps section keys of existing records for one grantee (consent given after sealing).

    For each ``(envelope, context, sections)`` the requested sections present in the envelope are released
    (None means every section); records with none of them are skipped, so one consent mask can be applied
    to a whole card. The same envelope given twice releases the union.

    Args:
        releaser_private_key: A recipient of each envelope holding the sections (patient, author, family
            doctor).
        grantee_public_key: The grantee's 64-byte encryption public key.
        grants: The envelopes, their contexts (from the anchors) and the sections to release from each.

    Returns:
        One bundle for the grantee.

    Raises:
        InputError: Nothing to release.
        ContextMismatchError: A context does not match its envelope.
        NotARecipientError: The releaser lacks an entry, or a key for a requested section.
        IntegrityError: An envelope fails authentication for the releaser.
        InvalidKeyError: A key is malformed.
    """
    return _release_keys(releaser_private_key, grantee_public_key, grants, system_entropy)


def _release_keys(
    releaser_private_key: bytes,
    grantee_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, EnvelopeContext, Iterable[str] | None]],
    entropy: Entropy,
) -> KeyBundle:
    grantee = parse_public_key(grantee_public_key)
    releaser = address_from_private_key(releaser_private_key)
    chosen: dict[bytes, tuple[SealedEnvelope, EnvelopeContext, set[str]]] = {}
    for envelope, context, wanted in grants:
        present = set(envelope.section_names)
        names = present if wanted is None else {check_section_name(n) for n in wanted} & present
        if not names:
            continue
        key = context.digest + envelope.digest
        if key in chosen:
            chosen[key][2].update(names)
        else:
            chosen[key] = (envelope, context, names)
    entries = []
    for envelope, context, names in chosen.values():
        access = _own_access(envelope, releaser_private_key, _check_context(envelope, context))
        if access is None:
            raise NotARecipientError(releaser, _describe(envelope))
        if missing := names - set(access.keys):
            raise NotARecipientError(
                releaser,
                _("section {section!r} of {describe}").format(
                    section=sorted(missing)[0], describe=_describe(envelope)
                ),
            )
        items = tuple((n, access.keys[n]) for n in sorted(names))
        entries.append(BundleEntry(context.digest, envelope.digest, EntryKind.KEYS, access.mac_key, items))
    return _seal_bundle(entries, grantee, entropy)


__all__ = [
    "ENVELOPE_MAGIC",
    "FORMAT_VERSION",
    "EmergencyBlock",
    "EmergencyShares",
    "EnvelopeContext",
    "KeyBundle",
    "MalformedError",
    "OpenedBundle",
    "Recipient",
    "SealedEnvelope",
    "SealedSection",
    "Withheld",
    "WrapEntry",
    "check_section_name",
    "granted_sections",
    "is_recipient",
    "open_all",
    "open_section",
    "release_keys",
    "seal",
]
