"""Storage benchmark: put/get throughput of the embedded store (and through its Kubo RPC), peak memory of a
large streamed add.

Run: ``.venv/bin/python bench/bench_storage.py [--quick]``. Prints figures, asserts nothing about timing.

* put / get: MB/s for 1 MB and 100 MB files of fresh random bytes (so no block is deduplicated), put with
  pin and fsync, get re-hashing every block; the same through ``KuboStore`` against the embedded server.
* peak RSS: a child process adds a 1 GiB file streamed from a ChaCha20 generator (every leaf distinct) and
  reports ``getrusage(RUSAGE_SELF).ru_maxrss``, so the parent's buffers do not count. Target: < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1_000_000


class KeystreamFile:
    """A read-only stream of ``size`` pseudo-random bytes (ChaCha20 keystream) generated on demand."""

    def __init__(self, size: int, seed: bytes = b"famchain-bench") -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

        key = (seed * 32)[:32]
        self._enc = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
        self._left = size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        self._left -= n
        return self._enc.update(bytes(n)) if n else b""


def _rate(nbytes: int, seconds: float) -> float:
    return nbytes / MB / seconds


def _bench_store(label: str, size: int, runs: int, root: Path, use_rpc: bool) -> None:
    from famchain.storage.embedded import EmbeddedStore
    from famchain.storage.gateway import GatewayServer
    from famchain.storage.kubo import KuboStore

    put_rates, get_rates = [], []
    embedded = EmbeddedStore(root)
    server = GatewayServer(embedded).__enter__() if use_rpc else None
    store = KuboStore(server.url) if server is not None else embedded
    try:
        for _ in range(runs):
            data = os.urandom(size)
            start = time.perf_counter()
            cid = store.put(data)
            put_rates.append(_rate(size, time.perf_counter() - start))
            start = time.perf_counter()
            back = store.get(cid)
            get_rates.append(_rate(size, time.perf_counter() - start))
            assert back == data
            store.unpin(cid)
        embedded.gc()
    finally:
        if server is not None:
            server.stop()
    print(
        f"{label:<28} {size / MB:>7.0f} MB  put {statistics.median(put_rates):8.1f} MB/s"
        f"  get {statistics.median(get_rates):8.1f} MB/s  (median of {runs})"
    )


def _vm_hwm_kb() -> int:
    """Peak RSS of this process image (VmHWM, reset by exec), or 0 where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _child_add(size: int, root: str) -> None:
    from famchain.storage.embedded import EmbeddedStore

    KeystreamFile(0)  # import the generator's dependencies before taking the baseline
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store = EmbeddedStore(root)
    start = time.perf_counter()
    cid = store.put(KeystreamFile(size), pin=True)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    blocks, stored = store.blocks.count()
    print(
        json.dumps(
            {
                "cid": cid,
                "seconds": elapsed,
                "baseline_kb": baseline,
                "peak_kb": peak,
                "vm_hwm_kb": _vm_hwm_kb(),
                "blocks": blocks,
                "bytes": stored,
            }
        )
    )


def _peak_rss(size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="famchain-bench-") as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child-add", str(size), tmp],
            check=True,
            capture_output=True,
            text=True,
        )
    report = json.loads(out.stdout)
    peak_mb = report["peak_kb"] / 1024
    print(
        f"streamed add {size / 2**30:.2f} GiB        {report['seconds']:7.1f} s"
        f"  ({_rate(size, report['seconds']):.1f} MB/s, {report['blocks']} blocks)"
    )
    print(
        f"peak RSS of the adding process: {peak_mb:.1f} MiB"
        f" (interpreter + imports before the add: {report['baseline_kb'] / 1024:.1f} MiB)"
        f" -> {'under' if peak_mb < 100 else 'OVER'} the 100 MB target"
    )
    print(f"  cross-check, VmHWM of the child: {report['vm_hwm_kb'] / 1024:.1f} MiB")
    print(f"root {report['cid']}")


def main() -> None:
    """Runs the benchmark and prints one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (10 MB and 64 MiB)")
    parser.add_argument("--child-add", nargs=2, metavar=("SIZE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_add:
        _child_add(int(args.child_add[0]), args.child_add[1])
        return

    big = 10 * MB if args.quick else 100 * MB
    stream_size = 64 * 2**20 if args.quick else 2**30
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    # First, while this process is still small: on Linux a child's ru_maxrss starts from the RSS of the
    # forked parent image it replaced at exec, so a big parent would inflate the child's figure.
    _peak_rss(stream_size)
    with tempfile.TemporaryDirectory(prefix="famchain-bench-") as tmp:
        _bench_store("embedded", 1 * MB, 20, Path(tmp) / "a", use_rpc=False)
        _bench_store("embedded", big, 3, Path(tmp) / "b", use_rpc=False)
        _bench_store("KuboStore -> embedded RPC", 1 * MB, 10, Path(tmp) / "c", use_rpc=True)
        _bench_store("KuboStore -> embedded RPC", big, 3, Path(tmp) / "d", use_rpc=True)


if __name__ == "__main__":
    main()
