"""Where the time of a submit goes: the bench's world on a fresh devnet, the devnet's limit (pre-signed transfers
in JSON-RPC batches), then ``--records`` records sealed for one patient and flushed in batches, under cProfile.

Run: ``.venv/bin/python bench/profile_submit.py [--records N] [--top N] [--rounds N]``. Prints the limit, the
submit rate of this path and of the path before issue #11's item 7 (rebuilt from the functions that remain: one
``seal`` per record with its own chain read, one store request per record on four threads, each batch of 50
settling and re-reading the card), run alternately ``--rounds`` times on one devnet so that load hits both
alike, then the profile of one more run of this path: the top entries by cumulative and by own time.

``--single``: the single-record path instead (``famchain bench``'s ``submit_per_s``): ``--records`` records,
each sealed alone, round-robin over ten patients, then one pipelined flush (one anchor per record); prints the
sender's transfer rate (one request per transaction, and in rounds of ten sent as JSON-RPC batches), milliseconds
per record in sealing and in the flush, the ratios, and the profile of one more run. Asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from famchain.bench.runner import VISIT_PATIENTS, World, raw_batch_rate, sample_record, transfer_rate
from famchain.devnet import Devnet
from famchain.records import anchoring
from famchain.records.anchoring import Strategy
from famchain.settings import Settings

BEFORE_BATCH = 50
"""Records per anchorBatch before item 7."""


def submit(world: World, name: str, count: int) -> tuple[float, float]:
    """Seal ``count`` records for ``name`` and flush them batched; returns (seal seconds, flush seconds)."""
    doctor, patient = world.client("doctor"), world.address(name)
    contents = [sample_record(n) for n in range(count)]
    start = time.perf_counter()
    doctor.records.seal_many(patient, contents)
    sealed = time.perf_counter()
    report = doctor.records.flush(strategy=Strategy.BATCHED)
    if len(report.anchored) != count:
        raise SystemExit(f"anchored {len(report.anchored)} of {count}")
    return sealed - start, time.perf_counter() - sealed


def submit_before(world: World, name: str, count: int) -> tuple[float, float]:
    """The path before: ``seal`` per record, one store request per record (4 threads), batches of 50 each
    settled and built on a head read again (:func:`famchain.records.anchoring._run_group`)."""
    doctor, patient = world.client("doctor"), world.address(name)
    actor = doctor.actor
    contents = [sample_record(n) for n in range(count)]
    start = time.perf_counter()
    for content in contents:
        doctor.records.seal(patient, content)
    sealed = time.perf_counter()
    tally = anchoring._Tally()
    with actor.outbox.locked():
        with ThreadPoolExecutor(max_workers=4) as pool:
            stored = list(pool.map(lambda e: anchoring.store_entry(actor, e), actor.outbox.pending()))
        for first in range(0, len(stored), BEFORE_BATCH):
            anchoring._run_group(actor, patient, stored[first : first + BEFORE_BATCH], tally)
    if len(tally.anchored) != count:
        raise SystemExit(f"anchored {len(tally.anchored)} of {count}")
    return sealed - start, time.perf_counter() - sealed


def print_profile(profiler: cProfile.Profile, top: int) -> None:
    """The ``top`` entries by cumulative time, then by own time."""
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


def single(world: World, records: int, rounds: int, top: int) -> None:
    """The single-record path: sender rates, then seal and flush per record, ``rounds`` times, then a profile."""
    names = list(VISIT_PATIENTS)
    world.enrol(names)
    doctor = world.client("doctor")
    patients = [world.address(n) for n in names]

    def run() -> tuple[float, float]:
        start = time.perf_counter()
        for n in range(records):
            doctor.records.seal(patients[n % len(patients)], sample_record(n))
        sealed = time.perf_counter()
        report = doctor.records.flush(strategy=Strategy.PIPELINED)
        if len(report.anchored) != records or report.transactions != records:
            raise SystemExit(f"anchored {len(report.anchored)} of {records}")
        return sealed - start, time.perf_counter() - sealed

    for n in range(rounds):
        sender = transfer_rate(world, 1_000)
        batched = transfer_rate(world, 1_000, round_size=len(names))
        seal_s, flush_s = run()
        rate = records / (seal_s + flush_s)
        print(
            f"round {n + 1}: sender {sender:.1f} transfers/s ({1000 / sender:.2f} ms), in rounds of {len(names)} "
            f"{batched:.1f}/s; submit {rate:.1f} records/s = {rate / sender:.2f} of the sender "
            f"({rate / batched:.2f} of the rounds): seal {1000 * seal_s / records:.2f} ms, "
            f"flush {1000 * flush_s / records:.2f} ms per record"
        )
    profiler = cProfile.Profile()
    profiler.enable()
    seal_s, flush_s = run()
    profiler.disable()
    print(f"with profiler: seal {seal_s:.2f} s, flush {flush_s:.2f} s")
    print_profile(profiler, top)


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--single", action="store_true", help="profile the single-record path instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="famchain-profile-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet", anvil=Settings.from_env().anvil_binary())
        info = devnet.up()
        try:
            world = World(info.rpc_url, info.ipfs_url, Path(tmp) / "home")
            world.build()
            limit = raw_batch_rate(world, 2_000)
            print(f"limit: {limit:.1f} transfers/s (pre-signed, JSON-RPC batches)")
            if args.single:
                single(world, args.records, args.rounds, args.top)
                return
            names = [f"patient_{n}" for n in range(2 * args.rounds + 1)]
            world.enrol(names)
            rates: dict[str, list[float]] = {"now": [], "before": []}
            for n in range(args.rounds):
                for label, run in (("now", submit), ("before", submit_before)):
                    seal_s, flush_s = run(world, names.pop(), args.records)
                    total = seal_s + flush_s
                    rates[label].append(args.records / total)
                    print(
                        f"round {n + 1}, {label:>6}: {args.records / total:6.1f} records/s = "
                        f"{args.records / total / limit:.3f} of the limit (seal {seal_s:.2f} s, "
                        f"store + pin + anchor {flush_s:.2f} s)"
                    )
            now, before = statistics.median(rates["now"]), statistics.median(rates["before"])
            print(f"median: now {now:.1f} records/s, before {before:.1f} records/s: x{now / before:.2f}")
            profiler = cProfile.Profile()
            profiler.enable()
            seal_s, flush_s = submit(world, names.pop(), args.records)
            profiler.disable()
            print(f"with profiler: seal {seal_s:.2f} s, store + pin + anchor {flush_s:.2f} s")
            print_profile(profiler, args.top)
        finally:
            devnet.down()


if __name__ == "__main__":
    sys.exit(main())
