"""Where the time of a batched submit goes: the bench's world on a fresh devnet, the devnet's limit (pre-signed
transfers in JSON-RPC batches), then ``--records`` records sealed for one patient and flushed in batches of 50,
under cProfile.

Run: ``.venv/bin/python bench/profile_submit.py [--records N] [--top N] [--rounds N]``. Prints the limit, the
submit rate of this path and of the path before issue #11's item 7 (rebuilt from the functions that remain: one
``seal`` per record with its own fsyncs and chain read, one store request per record on four threads, each
batch of 50 settling and re-reading the card), run alternately ``--rounds`` times on one devnet so that load
hits both alike, then the profile of one more run of this path: the top entries by cumulative and by own time.
Asserts nothing about timing.
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

from eth_account import Account

from famchain.bench.runner import World, raw_batch_rate, sample_record
from famchain.devnet import Devnet
from famchain.records import anchoring
from famchain.records.anchoring import Strategy
from famchain.settings import Settings


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
        for first in range(0, len(stored), anchoring.MAX_BATCH):
            anchoring._run_group(actor, patient, stored[first : first + anchoring.MAX_BATCH], tally)
    if len(tally.anchored) != count:
        raise SystemExit(f"anchored {len(tally.anchored)} of {count}")
    return sealed - start, time.perf_counter() - sealed


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="famchain-profile-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet", anvil=Settings.from_env().anvil_binary())
        info = devnet.up()
        try:
            world = World(info.rpc_url, info.ipfs_url, Path(tmp) / "home")
            world.build()
            limit = raw_batch_rate(world, 2_000)
            print(f"limit: {limit:.1f} transfers/s (pre-signed, JSON-RPC batches)")
            names = [f"patient_{n}" for n in range(2 * args.rounds + 1)]
            for name in names:
                world.accounts[name] = Account.create()
            world.fund(world.address(n) for n in names)
            for name in names:
                world.register(name)
                world.agree(name)
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
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                print(out.getvalue())
        finally:
            devnet.down()


if __name__ == "__main__":
    sys.exit(main())
