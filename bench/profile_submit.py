"""Where the time of a batched submit goes: the bench's world on a fresh devnet, the devnet's limit (pre-signed
transfers in JSON-RPC batches), then ``--records`` records sealed for one patient and flushed in batches of 50,
under cProfile.

Run: ``.venv/bin/python bench/profile_submit.py [--records N] [--top N]``. Prints the limit, the submit rate with
the profiler on and off (the profiler slows pure-Python code), the seal and flush phases, and the top entries by
cumulative and by own time; asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from famchain.bench.runner import World, raw_batch_rate, sample_record
from famchain.devnet import Devnet
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


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="famchain-profile-") as tmp:
        devnet = Devnet(Path(tmp) / "devnet", anvil=Settings.from_env().anvil_binary())
        info = devnet.up()
        try:
            world = World(info.rpc_url, info.ipfs_url, Path(tmp) / "home")
            world.build()
            limit = raw_batch_rate(world, 2_000)
            print(f"limit: {limit:.1f} transfers/s (pre-signed, JSON-RPC batches)")
            for name in ("card_patient", "patient"):
                world.register(name)
                world.agree(name)
            seal_s, flush_s = submit(world, "patient", args.records)
            total = seal_s + flush_s
            print(
                f"without profiler: {args.records / total:.1f} records/s "
                f"(seal {seal_s:.2f} s, store + pin + anchor {flush_s:.2f} s) = {args.records / total / limit:.2f}"
                " of the limit"
            )
            profiler = cProfile.Profile()
            profiler.enable()
            seal_s, flush_s = submit(world, "card_patient", args.records)
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
