"""Emergency access (issue #14): custodians' shares of the emergency sections' keys.

At sealing (``seal(..., emergency=EmergencyShares(custodians, t, sections))``) the author splits the key of
each emergency section present in the record into one Shamir share per custodian (threshold ``t``) and wraps
each custodian's shares in a custodian entry of the envelope (format in :mod:`famchain.crypto.envelope`).

In an emergency each of at least ``t`` custodians opens its shares (:func:`open_emergency_shares`) and
re-wraps them for the physician in a key bundle (:func:`release_shares`, optionally only some of the emergency
sections: those the emergency covers); the physician combines ``t`` bundles (:func:`open_with_shares`) and opens
exactly the emergency sections asked for. Every reconstructed key is checked against the envelope's key
commitment, so a custodian who hands out a wrong share is caught, not obeyed. Below the threshold nothing is
reconstructed: :class:`~famchain.errors.InsufficientSharesError`.

Combining is robust to custodians that do not play along: a bundle entry whose MAC key does not authenticate the
envelope (a custodian that holds no share of this record, or altered bytes) is ignored, not counted; when the
shares received do not combine to the committed keys (a lying custodian), every set of ``t`` custodians'
entries is tried and the first whose keys all match their commitments opens (``C(n, t)`` HMACs at most, ``n``
being the entries received), so one liar cannot block an emergency that ``t`` honest custodians served.
"""

from __future__ import annotations

import itertools
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
    KeyCommitmentError,
    MalformedError,
    NotARecipientError,
)
from famchain.i18n import _


def _custodian_access(
    envelope: SealedEnvelope, private_key: bytes, context: EnvelopeContext
) -> tuple[bytes, dict[str, Share]]:
    """The MAC key and this custodian's shares, the envelope authenticated."""
    ctx = _env._check_context(envelope, context)
    block = envelope.emergency
    custodian = address_from_private_key(private_key)
    if block is None:
        raise NotARecipientError(
            custodian,
            _("emergency shares of {describe} (it has none)").format(describe=_env._describe(envelope)),
        )
    blob = _env._unwrap_entry(
        envelope.custodians,
        private_key,
        envelope.ephemeral_public_key,
        _env._header_digest(ctx, envelope.prefix()),
        custodian=True,
    )
    if blob is None:
        raise NotARecipientError(
            custodian, _("emergency shares of {describe}").format(describe=_env._describe(envelope))
        )
    mac_key, x = blob[:KEY_SIZE], blob[KEY_SIZE]
    if not 1 <= x <= block.custodians:
        raise MalformedError(
            _("custodian entry"),
            _("x-coordinate {x} not in 1..{custodians}").format(x=x, custodians=block.custodians),
        )
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
    *,
    sections: Iterable[str] | None = None,
) -> KeyBundle:
    """Re-wraps a custodian's shares of some envelopes for a physician, as one key bundle.

    Args:
        custodian_private_key: The custodian's private key.
        physician_public_key: The physician's 64-byte encryption public key.
        grants: The envelopes and their contexts (from the anchors).
        sections: Release only the shares of these sections (the ones an emergency covers); None releases
            every emergency section. Envelopes with none of them are left out.

    Raises:
        InputError: Nothing to release.
        NotARecipientError: An envelope has no entry for this custodian.
        IntegrityError: An envelope fails authentication.
    """
    return _release_shares(custodian_private_key, physician_public_key, grants, system_entropy, sections)


def _release_shares(
    custodian_private_key: bytes,
    physician_public_key: bytes,
    grants: Iterable[tuple[SealedEnvelope, EnvelopeContext]],
    entropy: Entropy,
    sections: Iterable[str] | None = None,
) -> KeyBundle:
    physician = parse_public_key(physician_public_key)
    wanted = None if sections is None else frozenset(sections)
    entries = {}
    for envelope, context in grants:
        mac_key, shares = _custodian_access(envelope, custodian_private_key, context)
        chosen = sorted((n, s) for n, s in shares.items() if wanted is None or n in wanted)
        if not chosen:
            continue
        entry = BundleEntry(context.digest, envelope.digest, EntryKind.SHARES, mac_key, shares=tuple(chosen))
        entries[entry.sort_key] = entry
    return _seal_bundle(entries.values(), physician, entropy)


def open_with_shares(
    envelope: SealedEnvelope,
    physician_private_key: bytes,
    context: EnvelopeContext,
    bundles: Iterable[KeyBundle | OpenedBundle],
    *,
    sections: Iterable[str] | None = None,
) -> dict[str, bytes | Withheld]:
    """Combines custodians' shares released to a physician and opens exactly the emergency sections.

    Args:
        envelope: The sealed record.
        physician_private_key: The physician's private key (the grantee of the share bundles).
        context: The record the caller expects (from the chain anchor).
        bundles: Share bundles from the custodians; those that do not open for the physician are skipped, and
            so are entries whose MAC key does not authenticate this envelope (a custodian holding no share of it)
            and entries whose shares do not fit the envelope's threshold, custodian count or sections.
        sections: Open only these emergency sections (the ones an emergency covers; None: every emergency
            section of the envelope). Entries that lack one of them do not count.

    Returns:
        Section name -> plaintext for the opened sections, :class:`Withheld` for every other section.

    Raises:
        ContextMismatchError: The envelope is bound to another context.
        NotARecipientError: The envelope has no emergency block, or none of ``sections`` is in it.
        InsufficientSharesError: Fewer distinct custodians' shares than the threshold; nothing is opened.
        KeyCommitmentError: No ``t`` of the shares received combine to the committed keys (lying custodians).
    """
    ctx = _env._check_context(envelope, context)
    block = envelope.emergency
    physician = address_from_private_key(physician_private_key)
    if block is None:
        raise NotARecipientError(
            physician,
            _("emergency sections of {describe} (it has none)").format(describe=_env._describe(envelope)),
        )
    names = (
        tuple(block.sections) if sections is None else tuple(n for n in block.sections if n in set(sections))
    )
    if not names:
        raise NotARecipientError(
            physician,
            _("the requested emergency sections of {describe}").format(describe=_env._describe(envelope)),
        )
    by_x: dict[int, list[dict[str, Share]]] = {}
    for entry in _env._bundle_entries(envelope, physician_private_key, bundles, EntryKind.SHARES):
        try:
            _env._authenticate(envelope, ctx, entry.mac_key)
        except AuthenticationError:
            continue  # not a share of this envelope: its sender holds none (or the entry was altered)
        shares = dict(entry.shares)
        fits = all(s.threshold == block.threshold and s.x <= block.custodians for s in shares.values())
        if not fits or not set(shares) <= set(block.sections) or not set(names) <= set(shares):
            continue  # a custodian holding the MAC key but lying about its shares: not counted
        candidates = by_x.setdefault(next(iter(shares.values())).x, [])
        if shares not in candidates:
            candidates.append(shares)
    if len(by_x) < block.threshold:
        raise InsufficientSharesError(
            len(by_x),
            block.threshold,
            _("the emergency sections of {describe}").format(describe=_env._describe(envelope)),
        )
    keys = _combine_checked(envelope, ctx, names, by_x, block.threshold)
    return {
        s.name: _env._decrypt(s, keys[s.name], ctx) if s.name in keys else Withheld(s.name)
        for s in envelope.sections
    }


def _keys_of(
    envelope: SealedEnvelope, ctx: bytes, names: tuple[str, ...], chosen: Iterable[dict[str, Share]]
) -> dict[str, bytes] | None:
    """The section keys ``chosen`` shares give, or None when one does not match its commitment."""
    chosen = list(chosen)
    keys = {}
    for name in names:
        try:
            key = combine(entry[name] for entry in chosen)
            _env._check_key(envelope.section(name), key, ctx)
        except (InconsistentSharesError, KeyCommitmentError):
            return None
        keys[name] = key
    return keys


def _combine_checked(
    envelope: SealedEnvelope,
    ctx: bytes,
    names: tuple[str, ...],
    by_x: dict[int, list[dict[str, Share]]],
    threshold: int,
) -> dict[str, bytes]:
    """Every share received first (the honest case); else the first ``t`` custodians' entries whose keys all
    match their commitments."""
    if all(len(c) == 1 for c in by_x.values()):
        keys = _keys_of(envelope, ctx, names, (c[0] for c in by_x.values()))
        if keys is not None:
            return keys
    entries = [(x, shares) for x, candidates in sorted(by_x.items()) for shares in candidates]
    for subset in itertools.combinations(entries, threshold):
        if len({x for x, _ in subset}) < threshold:
            continue
        keys = _keys_of(envelope, ctx, names, (shares for _, shares in subset))
        if keys is not None:
            return keys
    raise KeyCommitmentError(
        _(
            "the emergency sections of {describe}: no {threshold} of the shares received combine to the sealed keys"
        ).format(describe=_env._describe(envelope), threshold=threshold)
    )


__all__ = [
    "EmergencyShares",
    "Share",
    "open_emergency_shares",
    "open_with_shares",
    "release_shares",
]
