"""Envelope benchmark: seal + wrap a 10-section record for 4 recipients, then open it; medians in ms.

Run: ``.venv/bin/python bench/bench_crypto.py [--runs N] [--section-bytes B]``. Prints figures, asserts
nothing about timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from famchain.crypto.aead import AES_256_GCM, CHACHA20_POLY1305
from famchain.crypto.envelope import (
    EnvelopeContext,
    Recipient,
    SealedEnvelope,
    add_recipients,
    open_all,
    open_section,
    seal,
)
from famchain.crypto.wallet import Wallet
from famchain.types import RecordId


def _median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    """Runs the benchmark and prints one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--section-bytes", type=int, default=4096)
    args = parser.parse_args()

    patient, doctor, author, grantee = (Wallet(os.urandom(32)) for _ in range(4))
    names = [f"section_{i:02d}" for i in range(10)]
    record = {name: os.urandom(args.section_bytes) for name in names}
    context = EnvelopeContext(RecordId(os.urandom(32)), patient.address, 31337, "0x" + "5f" * 20)  # type: ignore[arg-type]
    recipients = [
        Recipient(patient.encryption_public_key),
        Recipient(author.encryption_public_key),
        Recipient(doctor.encryption_public_key),
        Recipient(grantee.encryption_public_key, frozenset(names[:3])),
    ]

    print(f"python {platform.python_version()} on {platform.machine()}, {args.runs} runs per figure")
    print(f"record: {len(names)} sections x {args.section_bytes} B, {len(recipients)} recipients")
    for algorithm in (AES_256_GCM, CHACHA20_POLY1305):
        sealed = seal(record, recipients, context, algorithm=algorithm)
        data = sealed.to_bytes()
        figures = {
            "seal + wrap": lambda alg=algorithm: seal(record, recipients, context, algorithm=alg),
            "serialize": lambda s=sealed: SealedEnvelope(
                s.context, s.sections, s.recipients, s.mac
            ).to_bytes(),
            "parse": lambda d=data: SealedEnvelope.from_bytes(d),
            "open_all (patient, 10 sections)": lambda s=sealed: open_all(s, patient.private_key, context),
            "open_section (1 section)": lambda s=sealed: open_section(
                s, names[0], doctor.private_key, context
            ),
            "key release (3 sections, 1 grantee)": lambda s=sealed: add_recipients(
                s, patient.private_key, [grantee.encryption_public_key], names[:3]
            ),
        }
        print(f"\n{algorithm}: envelope {len(data)} bytes")
        for label, fn in figures.items():
            median, p95 = _median_ms(fn, args.runs)
            print(f"  {label:<38} median {median:7.3f} ms   p95 {p95:7.3f} ms")


if __name__ == "__main__":
    main()
