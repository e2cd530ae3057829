"""Emergency access (issue #14): custodians' shares of the emergency sections' keys.

At sealing (``seal(..., emergency=EmergencyShares(custodians, t, sections))``) the author splits the key of
each emergency section present in the record into one Shamir share per custodian (threshold ``t``) and wraps
each custodian's shares in a custodian entry of the envelope (format in :mod:`famchain.crypto.envelope`).

In an emergency each of at least ``t`` custodians opens its shares (:func:`open_emergency_shares`) and
re-wraps them for the physician in a key bundle (:func:`release_shares`); the physician combines ``t``
bundles (:func:`open_with_shares`) and opens exactly the emergency sections. Every reconstructed key is checked
against the envelope's key commitment, so a custodian who hands out a wrong share is caught, not obeyed.
Below the threshold nothing is reconstructed: :class:`~famchain.errors.InsufficientSharesError`.
"""

from __future__ import annotations

from collections.abc import Iterable

from famchain.crypto import envelope as _env
from famchain.crypto._random import Entropy, system_entropy
from famchain.crypto.aead import KEY_SIZE
from famchain.crypto.bundle import BundleEntry, EntryKind, KeyBundle, OpenedBundle, _seal_bundle
from famchain.crypto.envelope import EmergencyShares, EnvelopeContext, SealedEnvelope, Withheld
from famchain.crypto.keywrap import address_from_private_key, parse_public_key
from famchain.crypto.shamir import Share, combine
from famchain.errors import (
    AuthenticationError,
    InconsistentSharesError,
    InsufficientSharesError,
    MalformedError,
    NotARecipientError,
)


def _custodian_access(
    envelope: SealedEnvelope, private_key: bytes, context: EnvelopeContext
) -> tuple[bytes, dict[str, Share]]:
    """The MAC key and this custodian's shares, the envelope authenticated."""
    ctx = _env._check_context(envelope, context)
    block = envelope.emergency
    custodian = address_from_private_key(private_key)
    if block is None:
        raise NotARecipientError(custodian, f"emergency shares of {_env._describe(envelope)} (it has none)")
    blob = _env._unwrap_entry(
        envelope.custodians,
        private_key,
        envelope.ephemeral_public_key,
        _env._header_digest(ctx, envelope.prefix()),
        custodian=True,
    )
    if blob is None:
        raise NotARecipientError(custodian, f"emergency shares of {_env._describe(envelope)}")
    mac_key, x = blob[:KEY_SIZE], blob[KEY_SIZE]
    if not 1 <= x <= block.custodians:
        raise MalformedError("custodian entry", f"x-coordinate {x} not in 1..{block.custodians}")
    _env._authenticate(envelope, ctx, mac_key)
    shares = {}
    for i, name in enumerate(block.sections):
        start = KEY_SIZE + 1 + KEY_SIZE * i
        shares[name] = Share(x, block.threshold, blob[start : start + KEY_SIZE])
    return mac_key, shares


def open_emergency_shares(
    envelope: SealedEnvelope, custodian_private_key: bytes, context: EnvelopeContext
) -> dict[str, Share]:
    """Opens a custodian's shares of the emergency section keys.

    Args:
        envelope: The sealed record.
        custodian_private_key: The custodian's 32-byte private key.
        context: The record the caller expects (from the chain anchor).

    Returns:
        Emergency section name -> this custodian's share of its key.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: The envelope has no emergency block, or no entry for this custodian.
        IntegrityError: Any byte of the envelope was altered.
    """
    return _custodian_access(envelope, custodian_private_key, context)[1]


def release_shares(
    custodian_private_key: bytes,
    physician_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, EnvelopeContext]],
) -> KeyBundle:
    """Re-wraps a custodian's shares of some envelopes for a physician, as one key bundle.

    Args:
        custodian_private_key: The custodian's private key.
        physician_public_key: The physician's 64-byte encryption public key.
        grants: The envelopes and their contexts (from the anchors).

    Raises:
        InputError: No envelope given.
        NotARecipientError: An envelope has no entry for this custodian.
        IntegrityError: An envelope fails authentication.
    """
    return _release_shares(custodian_private_key, physician_public_key, grants, system_entropy)


def _release_shares(
    custodian_private_key: bytes,
    physician_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, EnvelopeContext]],
    entropy: Entropy,
) -> KeyBundle:
    physician = parse_public_key(physician_public_key)
    entries = {}
    for envelope, context in grants:
        mac_key, shares = _custodian_access(envelope, custodian_private_key, context)
        entry = BundleEntry(
            context.digest, envelope.digest, EntryKind.SHARES, mac_key, shares=tuple(sorted(shares.items()))
        )
        entries[entry.sort_key] = entry
    return _seal_bundle(entries.values(), physician, entropy)


def open_with_shares(
    envelope: SealedEnvelope,
    physician_private_key: bytes,
    context: EnvelopeContext,
    bundles: Iterable[KeyBundle | OpenedBundle],
) -> dict[str, bytes | Withheld]:
    """Combines custodians' shares released to a physician and opens exactly the emergency sections.

    Args:
        envelope: The sealed record.
        physician_private_key: The physician's private key (the grantee of the share bundles).
        context: The record the caller expects (from the chain anchor).
        bundles: Share bundles from the custodians; those that do not open for the physician are skipped.

    Returns:
        Section name -> plaintext for the emergency sections, :class:`Withheld` for every other section.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: The envelope has no emergency block.
        InsufficientSharesError: Fewer distinct custodians' shares than the threshold; nothing is opened.
        InconsistentSharesError: Shares that contradict each other or the envelope's threshold.
        KeyCommitmentError: The combined key is not the committed one (a custodian released a wrong share).
        IntegrityError: Any byte of the envelope was altered.
    """
    ctx = _env._check_context(envelope, context)
    block = envelope.emergency
    if block is None:
        physician = address_from_private_key(physician_private_key)
        raise NotARecipientError(physician, f"emergency sections of {_env._describe(envelope)} (it has none)")
    collected: dict[str, list[Share]] = {name: [] for name in block.sections}
    for entry in _env._bundle_entries(envelope, physician_private_key, bundles, EntryKind.SHARES):
        _env._authenticate(envelope, ctx, entry.mac_key)
        for name, share in entry.shares:
            if name not in collected:
                raise AuthenticationError(f"emergency share entry for section {name!r}")
            if share.threshold != block.threshold or share.x > block.custodians:
                raise InconsistentSharesError(
                    f"share x = {share.x}, t = {share.threshold} does not fit the envelope's "
                    f"{block.threshold} of {block.custodians}"
                )
            collected[name].append(share)
    have = min(len({s.x for s in shares}) for shares in collected.values())
    if have < block.threshold:
        raise InsufficientSharesError(
            have, block.threshold, f"the emergency sections of {_env._describe(envelope)}"
        )
    keys = {name: combine(shares) for name, shares in collected.items()}
    for name, key in keys.items():
        _env._check_key(envelope.section(name), key, ctx)
    return {
        s.name: _env._decrypt(s, keys[s.name], ctx) if s.name in keys else Withheld(s.name)
        for s in envelope.sections
    }


__all__ = [
    "EmergencyShares",
    "Share",
    "open_emergency_shares",
    "open_with_shares",
    "release_shares",
]
