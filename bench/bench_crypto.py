"""Envelope v2 benchmark: codecs side by side, padding overhead, tag lookup vs trial decryption, Shamir.

Run: ``.venv/bin/python bench/bench_crypto.py [--runs N]``. Prints figures (medians), asserts nothing about
timing. Everything goes through the functions users call (``seal``, ``open_section``, ``release_keys``,
``release_shares``, ``open_with_shares``, ``split``, ``combine``); only the "trial decryption" row uses the
envelope's private helpers, to price the design the tags replace.
"""

from __future__ import annotations

import argparse
import bisect
import os
import platform
import statistics
import time
from collections.abc import Callable

from famchain.crypto import envelope as env
from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305, SM4_GCM, get_aead
from famchain.crypto.emergency import open_emergency_shares, open_with_shares, release_shares
from famchain.crypto.envelope import (
    EmergencyShares,
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    is_recipient,
    open_all,
    open_section,
    release_keys,
    seal,
)
from famchain.crypto.keywrap import ecdh
from famchain.crypto.padding import padded_size
from famchain.crypto.policy import PRESETS, CipherPolicy, preset
from famchain.crypto.shamir import combine, split
from famchain.crypto.wallet import Wallet
from famchain.errors import AuthenticationError
from famchain.types import Address

CODECS = (AES_256_GCM, CHACHA20_POLY1305, SM4_GCM)
PRESET_TEXT_SECTIONS = (
    "present_illness",
    "past_history",
    "family_history",
    "diagnosis",
    "prescriptions",
    "examinations",
    "allergies",
)
KIB = 1024
MIB = 1024 * KIB

DEMO_SECTIONS = {
    # examples/visit.json and the demo's visits, encoded as the record model encodes them
    "present_illness (visit)": 37,
    "past_history (visit)": 41,
    "family_history (visit)": 26,
    "diagnosis (visit)": 79,
    "prescriptions (visit)": 73,
    "examinations (visit)": 87,
    "basic information (profile)": 190,
    "discharge letter": 3_000,
    "lab report PDF": 60 * KIB,
    "chest X-ray JPEG": 350 * KIB,
    "CT series ZIP": 12 * MIB,
}


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _context(patient: Wallet, author: Wallet) -> EnvelopeContext:
    return EnvelopeContext(os.urandom(32), patient.address, author.address, 31337, Address("0x" + "5f" * 20))


def bench_codecs(runs: int) -> None:
    """Seal and open one section per codec; MB/s of the whole path and of the bare AEAD."""
    patient, author = Wallet(os.urandom(32)), Wallet(os.urandom(32))
    context = _context(patient, author)
    print("\n1. codecs: one section, one recipient (seal = pad + commit + encrypt + wrap + MAC)")
    print(
        f"   {'codec':<18} {'size':>6} {'seal ms':>9} {'open ms':>9} {'seal MB/s':>10} {'open MB/s':>10} "
        f"{'AEAD MB/s':>10} {'seal / AES':>10}"
    )
    for size, label in ((4 * KIB, "4 KiB"), (MIB, "1 MiB")):
        n = runs if size < MIB else max(5, runs // 5)
        data = os.urandom(size)
        baseline = 0.0
        for codec in CODECS:
            policy = CipherPolicy(default=codec)
            sealed = seal({"attachments": data}, [patient.encryption_public_key], context, policy=policy)
            seal_ms = _median_ms(
                lambda p=policy, d=data: seal(
                    {"attachments": d}, [patient.encryption_public_key], context, policy=p
                ),
                n,
            )
            open_ms = _median_ms(
                lambda s=sealed: open_section(s, "attachments", patient.private_key, context), n
            )
            aead, key, nonce = get_aead(codec), os.urandom(32), os.urandom(12)
            raw_ms = _median_ms(lambda a=aead, k=key, v=nonce, d=data: a.encrypt(k, v, d, b""), n)
            mbps = [size / 1e6 / (ms / 1000) for ms in (seal_ms, open_ms, raw_ms)]
            baseline = baseline or seal_ms  # AES-256-GCM comes first: the same run's baseline
            print(
                f"   {codec:<18} {label:>6} {seal_ms:9.3f} {open_ms:9.3f} "
                f"{mbps[0]:10.1f} {mbps[1]:10.1f} {mbps[2]:10.1f} {seal_ms / baseline:10.2f}"
            )


def bench_presets(runs: int) -> None:
    """A demo-sized visit (seven short text sections) and one with a 350 KiB X-ray attached, sealed and opened
    under each deployment preset, against the ``aes`` preset in the same run."""
    patient, author = Wallet(os.urandom(32)), Wallet(os.urandom(32))
    context = _context(patient, author)
    text = {name: os.urandom(80) for name in PRESET_TEXT_SECTIONS}
    visits = {
        "visit, 7 text sections": text,
        "visit + 350 KiB X-ray": {**text, "attachments": os.urandom(350 * KIB)},
    }
    print("\n1b. deployment presets (famchain deploy --cipher-policy NAME): whole record, 2 recipients")
    print(
        f"   {'record':<26} {'preset':<10} {'seal ms':>9} {'open ms':>9} {'seal / aes':>10} {'open / aes':>10}"
    )
    recipients = [patient.encryption_public_key, author.encryption_public_key]
    for label, plaintexts in visits.items():
        policies = {name: preset(name) for name in PRESETS}
        sealed = {name: seal(plaintexts, recipients, context, policy=p) for name, p in policies.items()}
        samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in PRESETS}
        for _ in range(runs):  # round-robin, so load on a shared machine falls on every preset alike
            for name, policy in policies.items():
                start = time.perf_counter()
                seal(plaintexts, recipients, context, policy=policy)
                middle = time.perf_counter()
                open_all(sealed[name], patient.private_key, context)
                samples[name][0].append((middle - start) * 1000)
                samples[name][1].append((time.perf_counter() - middle) * 1000)
        base = [statistics.median(x) for x in samples["aes"]]
        for name in PRESETS:
            seal_ms, open_ms = (statistics.median(x) for x in samples[name])
            print(
                f"   {label:<26} {name:<10} {seal_ms:9.3f} {open_ms:9.3f} "
                f"{seal_ms / base[0]:10.2f} {open_ms / base[1]:10.2f}"
            )


def bench_record(runs: int) -> None:
    """A 10-section record for 4 recipients under a mixed policy (the v1 bench's shape)."""
    patient, doctor, author, grantee = (Wallet(os.urandom(32)) for _ in range(4))
    names = [f"section_{i:02d}" for i in range(10)]
    record = {name: os.urandom(4 * KIB) for name in names}
    context = _context(patient, author)
    recipients = [
        Recipient(patient.encryption_public_key),
        Recipient(author.encryption_public_key),
        Recipient(doctor.encryption_public_key),
        Recipient(grantee.encryption_public_key, frozenset(names[:3])),
    ]
    policy = CipherPolicy({n: SM4_GCM for n in names[:3]}, default=AES_256_GCM)
    sealed = seal(record, recipients, context, policy=policy)
    data = sealed.to_bytes()
    print(
        f"\n2. record: 10 sections x 4 KiB (3 sm4-gcm, 7 aes-256-gcm), 4 recipients; envelope {len(data)} B"
    )
    figures: dict[str, Callable[[], object]] = {
        "seal": lambda: seal(record, recipients, context, policy=policy),
        "parse": lambda: SealedEnvelope.from_bytes(data),
        "open_all (patient, 10 sections)": lambda: open_all(sealed, patient.private_key, context),
        "open_section (1 section)": lambda: open_section(sealed, names[0], doctor.private_key, context),
        "is_recipient": lambda: is_recipient(sealed, grantee.private_key, context),
        "release_keys (3 sections, 1 grantee)": lambda: release_keys(
            patient.private_key, grantee.encryption_public_key, [(sealed, context, names[:3])]
        ),
    }
    for label, fn in figures.items():
        print(f"   {label:<40} {_median_ms(fn, runs):8.3f} ms")


def bench_padding() -> None:
    """Padmé with a 256-byte floor on demo-like section sizes."""
    print("\n3. padding overhead (plaintext -> padded; the ciphertext adds the 16-byte tag)")
    print(f"   {'section':<30} {'bytes':>10} {'padded':>10} {'overhead':>9}")
    total_plain = total_padded = 0
    for label, size in DEMO_SECTIONS.items():
        padded = padded_size(size)
        total_plain += size
        total_padded += padded
        print(f"   {label:<30} {size:>10} {padded:>10} {100 * (padded - size) / size:8.1f}%")
    visit = [v for k, v in DEMO_SECTIONS.items() if "(visit)" in k]
    plain, padded = sum(visit), sum(padded_size(v) for v in visit)
    print(
        f"   demo visit (6 text sections): {plain} B -> {padded} B ({100 * (padded - plain) / plain:.0f}% overhead)"
    )
    worst = max((padded_size(n) - n) / n for n in range(253, 20 * MIB, 997))
    print(f"   worst case above the floor (sampled 253 B .. 20 MiB): {100 * worst:.1f}%")


def _trial_unwrap(sealed: SealedEnvelope, private_key: bytes, context: EnvelopeContext) -> bytes:
    """The tagless alternative: one ECDH, then try the wrap of every entry until one authenticates."""
    ctx = context.to_bytes()
    header = env._header_digest(ctx, sealed.prefix())
    shared = ecdh(private_key, sealed.ephemeral_public_key)
    kek, nonce = env._entry_kek(shared, header, Wallet(private_key).encryption_public_key, custodian=False)
    wrap = get_aead(AES_256_GCM)
    for entry in sealed.recipients:
        try:
            return wrap.decrypt(kek, nonce, entry.wrapped, entry.tag)
        except AuthenticationError:
            continue
    raise LookupError("no entry")


def _tag_unwrap(sealed: SealedEnvelope, private_key: bytes, context: EnvelopeContext) -> bytes | None:
    header = env._header_digest(context.to_bytes(), sealed.prefix())
    return env._unwrap_entry(
        sealed.recipients, private_key, sealed.ephemeral_public_key, header, custodian=False
    )


def bench_tags(runs: int) -> None:
    """Finding the reader's entry: tag lookup vs trial decryption vs one ephemeral key per entry."""
    print("\n4. finding the reader's entry (unwrap only; the reader's entry is tried last in the trial row)")
    print(f"   {'entries':>7} {'tag lookup ms':>14} {'trial ms':>10} {'ECDH per entry ms':>18}")
    author = Wallet(os.urandom(32))
    ecdh_ms = _median_ms(lambda: ecdh(author.private_key, author.encryption_public_key), runs)
    for count in (4, 16, 64, 256, 1024):
        wallets = [Wallet(os.urandom(32)) for _ in range(count)]
        context = _context(wallets[0], author)
        sealed = seal({"diagnosis": b"x"}, [w.encryption_public_key for w in wallets], context)
        tags = [e.tag for e in sealed.recipients]
        # the wallet whose entry sorts last is the worst case for trial decryption
        last = max(
            wallets,
            key=lambda w: bisect.bisect_left(
                tags,
                env._entry_tag(
                    ecdh(w.private_key, sealed.ephemeral_public_key),
                    sealed.ephemeral_public_key,
                    w.encryption_public_key,
                    custodian=False,
                ),
            ),
        )
        n = max(5, runs // 4) if count >= 256 else runs
        tag_ms = _median_ms(lambda s=sealed, w=last, c=context: _tag_unwrap(s, w.private_key, c), n)
        trial_ms = _median_ms(lambda s=sealed, w=last, c=context: _trial_unwrap(s, w.private_key, c), n)
        print(f"   {count:>7} {tag_ms:14.3f} {trial_ms:10.3f} {count * ecdh_ms:18.3f}")
    print(
        f"   (one secp256k1 ECDH: {ecdh_ms:.3f} ms; 'ECDH per entry' is the worst case of per-entry ephemeral keys)"
    )


def bench_shamir(runs: int) -> None:
    """Split and combine a 32-byte key, and the emergency flow end to end."""
    print("\n5. shamir (32-byte section key)")
    secret = os.urandom(32)
    for threshold, count in ((2, 3), (3, 5), (5, 9), (7, 13)):
        shares = split(secret, threshold, count)
        split_ms = _median_ms(lambda t=threshold, c=count: split(secret, t, c), runs)
        combine_ms = _median_ms(lambda s=shares[:threshold]: combine(s), runs)
        print(f"   t={threshold} n={count:<3} split {split_ms:7.3f} ms   combine {combine_ms:7.3f} ms")
    patient, author, physician = (Wallet(os.urandom(32)) for _ in range(3))
    custodians = [Wallet(os.urandom(32)) for _ in range(3)]
    context = _context(patient, author)
    record = {
        "diagnosis": os.urandom(200),
        "prescriptions": os.urandom(200),
        "past_history": os.urandom(4 * KIB),
    }
    emergency = EmergencyShares(
        [c.encryption_public_key for c in custodians], 2, frozenset({"diagnosis", "prescriptions"})
    )
    sealed = seal(record, [patient.encryption_public_key], context, emergency=emergency)
    bundles = [
        release_shares(c.private_key, physician.encryption_public_key, [(sealed, context)])
        for c in custodians[:2]
    ]
    figures: dict[str, Callable[[], object]] = {
        "seal with a 2-of-3 emergency block": lambda: seal(
            record, [patient.encryption_public_key], context, emergency=emergency
        ),
        "custodian: open_emergency_shares": lambda: open_emergency_shares(
            sealed, custodians[0].private_key, context
        ),
        "custodian: release_shares": lambda: release_shares(
            custodians[0].private_key, physician.encryption_public_key, [(sealed, context)]
        ),
        "physician: open_with_shares (2 bundles)": lambda: open_with_shares(
            sealed, physician.private_key, context, bundles
        ),
    }
    for label, fn in figures.items():
        print(f"   {label:<40} {_median_ms(fn, runs):8.3f} ms")


def main() -> None:
    """Runs every figure and prints it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {args.runs} runs per figure (medians)"
    )
    bench_codecs(args.runs)
    bench_presets(args.runs)
    bench_record(args.runs)
    bench_padding()
    bench_tags(args.runs)
    bench_shamir(args.runs)


if __name__ == "__main__":
    main()
