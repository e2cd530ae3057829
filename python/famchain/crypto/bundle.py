"""Key bundles (version 2): section keys or emergency shares of existing envelopes, encrypted to one grantee.

A bundle is what a patient (or a custodian) stores and announces on chain when it releases keys after a
record was sealed. Its bytes show neither the grantee nor the records, sections or number of entries: only a
Padmé size class of the body. Build bundles with :func:`famchain.crypto.envelope.release_keys` or
:func:`famchain.crypto.emergency.release_shares`; open them with :func:`open_bundle` (or pass them to the
envelope readers with ``bundles=``).

Bytes (integers big-endian)::

    "FCKB" | u8 version=2 | ephemeral_pubkey[64] | ciphertext (size class + 16)

    shared    = ECDH(ephemeral, grantee).x                                   (32 bytes)
    kek|nonce = HKDF-SHA256(shared, salt=none,
                            info="famchain bundle kek" | ephemeral_pubkey[64] | grantee_pubkey[64], L=44)
    ciphertext = AES-256-GCM(kek, nonce, pad(body), aad="FCKB" | 0x02 | ephemeral_pubkey[64])

``pad`` is :mod:`famchain.crypto.padding` (u32 length, body, zeros to ``max(256, padme(len + 4))``). The body::

    u16 n_entries (1..4096), then per entry, sorted by (context_digest, envelope_digest, kind), no duplicates:
        context_digest[32]      SHA-256("famchain/v2/context" | context[124]) of the envelope's context
        envelope_digest[32]     SHA-256 of the envelope bytes
        u8 kind                 1 = section keys, 2 = emergency shares
        mac_key[32]             the envelope's MAC key (the reader authenticates the whole envelope with it)
        u8 count (1..64), then count items, names strictly increasing:
            kind 1: lp8 name | key[32]
            kind 2: lp8 name | share (famchain.crypto.shamir bytes, y of 32 bytes; one x and t per entry)

An entry is keyed by the context digest rather than the chain's record id: the record id is a function of
the same context and of the CID (whose digest depends on how the store chunks the envelope), which the
crypto layer does not compute. Every key and share is checked against the envelope's key commitments before
use, so a lying releaser cannot make a grantee decrypt anything but the sealed plaintext.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

from famchain.crypto import _codec
from famchain.crypto._random import Entropy
from famchain.crypto.aead import AES_256_GCM, KEY_SIZE, TAG_SIZE, get_aead
from famchain.crypto.keywrap import (
    PUBLIC_KEY_SIZE,
    EphemeralKey,
    ecdh,
    hkdf,
    is_public_key,
    public_key_from_private,
)
from famchain.crypto.padding import is_size_class, pad, unpad
from famchain.crypto.shamir import Share
from famchain.errors import InputError, MalformedError
from famchain.i18n import N_, _

BUNDLE_MAGIC = b"FCKB"
BUNDLE_VERSION = 2
MAX_BUNDLE_ENTRIES = 4096
BUNDLE_KEK_INFO = b"famchain bundle kek"
DIGEST_SIZE = 32
_BUNDLE = N_("key bundle")
_BODY = N_("key bundle body")


class EntryKind(IntEnum):
    """What a bundle entry carries."""

    KEYS = 1
    SHARES = 2


@dataclass(frozen=True)
class BundleEntry:
    """Keys (or emergency shares) of some sections of one envelope.

    Attributes:
        context_digest: The context digest of the envelope (see the module docstring).
        envelope_digest: SHA-256 of the envelope bytes.
        kind: Keys or shares.
        mac_key: The envelope's MAC key.
        keys: ``(section, key)`` pairs for :attr:`EntryKind.KEYS`, names sorted.
        shares: ``(section, share)`` pairs for :attr:`EntryKind.SHARES`, names sorted.
    """

    context_digest: bytes
    envelope_digest: bytes
    kind: EntryKind
    mac_key: bytes = field(repr=False)
    keys: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    shares: tuple[tuple[str, Share], ...] = field(default=(), repr=False)

    @property
    def sections(self) -> tuple[str, ...]:
        """The section names this entry covers."""
        items = self.keys if self.kind is EntryKind.KEYS else self.shares
        return tuple(name for name, _ in items)

    @property
    def sort_key(self) -> bytes:
        """``context_digest | envelope_digest | kind``: entries are sorted and unique by it."""
        return self.context_digest + self.envelope_digest + _codec.u8(self.kind)

    def to_bytes(self) -> bytes:
        """The entry's body bytes."""
        parts = [self.sort_key, self.mac_key, _codec.u8(len(self.sections))]
        if self.kind is EntryKind.KEYS:
            parts.extend(_codec.lp8(n.encode()) + k for n, k in self.keys)
        else:
            parts.extend(_codec.lp8(n.encode()) + s.to_bytes() for n, s in self.shares)
        return b"".join(parts)

    @classmethod
    def read(cls, rd: _codec.Reader) -> BundleEntry:
        """Reads one entry (see the module docstring).

        Raises:
            MalformedError: Unknown kind, bad counts, unsorted names, or shares of the wrong shape.
        """
        context_digest = rd.take(DIGEST_SIZE, "context digest")
        envelope_digest = rd.take(DIGEST_SIZE, "envelope digest")
        raw_kind = rd.uint(1, "entry kind")
        if raw_kind not in (EntryKind.KEYS, EntryKind.SHARES):
            raise rd.fail(_("unknown entry kind {raw_kind}").format(raw_kind=raw_kind))
        kind = EntryKind(raw_kind)
        mac_key = rd.take(KEY_SIZE, "mac key")
        count = rd.uint(1, "section count")
        if not 0 < count <= _codec.MAX_SECTIONS:
            raise rd.fail(
                _("section count {count} not in 1..{max_sections}").format(
                    count=count, max_sections=_codec.MAX_SECTIONS
                )
            )
        names: list[str] = []
        keys: list[tuple[str, bytes]] = []
        shares: list[tuple[str, Share]] = []
        for _i in range(count):
            name = rd.section_name()
            if names and name <= names[-1]:
                raise rd.fail(_("section {name!r} out of order or duplicated").format(name=name))
            names.append(name)
            if kind is EntryKind.KEYS:
                keys.append((name, rd.take(KEY_SIZE, "section key")))
                continue
            share = Share.read(rd)
            if len(share.y) != KEY_SIZE:
                raise rd.fail(
                    _("a share of a section key must be {key_size} bytes").format(key_size=KEY_SIZE)
                )
            if shares and (share.x, share.threshold) != (shares[0][1].x, shares[0][1].threshold):
                raise rd.fail(_("shares of one entry must have one x-coordinate and one threshold"))
            shares.append((name, share))
        return cls(context_digest, envelope_digest, kind, mac_key, tuple(keys), tuple(shares))


@dataclass(frozen=True)
class OpenedBundle:
    """The decrypted contents of a key bundle.

    Attributes:
        entries: Sorted by :attr:`BundleEntry.sort_key`.
    """

    entries: tuple[BundleEntry, ...]

    def section_names(self) -> frozenset[str]:
        """Every section name any entry covers."""
        return frozenset(n for e in self.entries for n in e.sections)

    def entries_for(self, context_digest: bytes, envelope_digest: bytes) -> tuple[BundleEntry, ...]:
        """The entries that belong to one envelope."""
        return tuple(
            e
            for e in self.entries
            if e.context_digest == context_digest and e.envelope_digest == envelope_digest
        )

    def body(self) -> bytes:
        """The unpadded body bytes."""
        return _codec.u16(len(self.entries)) + b"".join(e.to_bytes() for e in self.entries)

    @classmethod
    def from_body(cls, body: bytes) -> OpenedBundle:
        """Parses a decrypted, unpadded body.

        Raises:
            MalformedError: Not the canonical body encoding.
        """
        rd = _codec.Reader(body, _BODY)
        n_entries = rd.uint(2, "entry count")
        if not 0 < n_entries <= MAX_BUNDLE_ENTRIES:
            raise rd.fail(
                _("entry count {n_entries} not in 1..{max_bundle_entries}").format(
                    n_entries=n_entries, max_bundle_entries=MAX_BUNDLE_ENTRIES
                )
            )
        entries: list[BundleEntry] = []
        for _i in range(n_entries):
            entry = BundleEntry.read(rd)
            if entries and entry.sort_key <= entries[-1].sort_key:
                raise rd.fail(_("entry out of order or duplicated"))
            entries.append(entry)
        rd.end()
        return cls(tuple(entries))


@dataclass(frozen=True)
class KeyBundle:
    """A sealed key bundle: opaque bytes until the grantee opens it with :func:`open_bundle`.

    Attributes:
        ephemeral_public_key: The one-time 64-byte public key.
        ciphertext: The encrypted, padded body with its tag.
    """

    ephemeral_public_key: bytes
    ciphertext: bytes

    @cached_property
    def _bytes(self) -> bytes:
        return BUNDLE_MAGIC + _codec.u8(BUNDLE_VERSION) + self.ephemeral_public_key + self.ciphertext

    def to_bytes(self) -> bytes:
        """The canonical serialization."""
        return self._bytes

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of :meth:`to_bytes` (the ``bundleDigest`` of a raw-codec CID announced on chain)."""
        return hashlib.sha256(self._bytes).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyBundle:
        """Parses the serialization; only the structure can be checked without the grantee's key.

        Raises:
            MalformedError: Bad magic or version, an ephemeral key that is not a curve point, or a ciphertext
                whose length is not a padded size class plus the tag.
        """
        rd = _codec.Reader(data, _BUNDLE)
        if rd.take(len(BUNDLE_MAGIC), "magic") != BUNDLE_MAGIC:
            raise rd.fail(_("bad magic"))
        version = rd.uint(1, "version")
        if version != BUNDLE_VERSION:
            raise rd.fail(_("unsupported version {version}").format(version=version))
        ephemeral = rd.take(PUBLIC_KEY_SIZE, "ephemeral public key")
        if not is_public_key(ephemeral):
            raise rd.fail(_("ephemeral public key is not a secp256k1 point"))
        size = rd.remaining
        if not is_size_class(size - TAG_SIZE):
            raise rd.fail(
                _("ciphertext of {size} bytes is not a padded size class plus the tag").format(size=size)
            )
        return cls(ephemeral, rd.take(size, "ciphertext"))


def _kek(shared: bytes, ephemeral_public_key: bytes, grantee_public_key: bytes) -> tuple[bytes, bytes]:
    okm = hkdf(shared, BUNDLE_KEK_INFO + ephemeral_public_key + grantee_public_key, KEY_SIZE + 12)
    return okm[:KEY_SIZE], okm[KEY_SIZE:]


def _aad(ephemeral_public_key: bytes) -> bytes:
    return BUNDLE_MAGIC + _codec.u8(BUNDLE_VERSION) + ephemeral_public_key


def open_bundle(bundle: KeyBundle, private_key: bytes) -> OpenedBundle:
    """Decrypts a key bundle with the grantee's private key.

    Args:
        bundle: The sealed bundle.
        private_key: The grantee's 32-byte secp256k1 private key.

    Raises:
        AuthenticationError: The bundle is not for this key, or its bytes were altered (the two cannot be
            told apart: the bytes do not name the grantee).
        MalformedError: The decrypted body is not canonical (only its sealer could have made it so).
        InvalidKeyError: The private key is not a valid secp256k1 key.
    """
    shared = ecdh(private_key, bundle.ephemeral_public_key)
    kek, nonce = _kek(shared, bundle.ephemeral_public_key, public_key_from_private(private_key))
    padded = get_aead(AES_256_GCM).decrypt(
        kek, nonce, bundle.ciphertext, _aad(bundle.ephemeral_public_key), _(_BUNDLE)
    )
    return OpenedBundle.from_body(unpad(padded, _(_BODY)))


def _seal_bundle(entries: Iterable[BundleEntry], grantee_public_key: bytes, entropy: Entropy) -> KeyBundle:
    """Encrypts entries to a grantee (sorted, checked unique); the releasing functions call this."""
    ordered: dict[bytes, BundleEntry] = {}
    for entry in entries:
        if entry.sort_key in ordered:
            raise InputError(_("two bundle entries for the same envelope and kind"))
        ordered[entry.sort_key] = entry
    if not ordered:
        raise InputError(_("nothing to release: no requested section is present in the given records"))
    if len(ordered) > MAX_BUNDLE_ENTRIES:
        raise InputError(
            _("a key bundle holds at most {max_bundle_entries} entries, got {n_ordered}").format(
                max_bundle_entries=MAX_BUNDLE_ENTRIES, n_ordered=len(ordered)
            )
        )
    body = OpenedBundle(tuple(ordered[k] for k in sorted(ordered))).body()
    ephemeral = EphemeralKey(entropy)
    shared = ephemeral.exchange(grantee_public_key)
    kek, nonce = _kek(shared, ephemeral.public_key, grantee_public_key)
    ciphertext = get_aead(AES_256_GCM).encrypt(kek, nonce, pad(body), _aad(ephemeral.public_key))
    return KeyBundle(ephemeral.public_key, ciphertext)


__all__ = [
    "BUNDLE_MAGIC",
    "BUNDLE_VERSION",
    "BundleEntry",
    "EntryKind",
    "KeyBundle",
    "MalformedError",
    "OpenedBundle",
    "open_bundle",
]
