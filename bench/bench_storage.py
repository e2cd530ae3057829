"""Storage benchmark: put/get throughput of the embedded store (and through its Kubo RPC), peak memory of a
large streamed add.

Run: ``.venv/bin/python bench/bench_storage.py [--quick]``. Prints figures, asserts nothing about timing.
``--car-import [REF]`` instead times ``EmbeddedStore.import_car`` of one flush's CAR against the store code of
git revision REF (default ``main``) in the same run.

* put / get: MB/s for 1 MB and 100 MB files of fresh random bytes (so no block is deduplicated), put with
  pin and fsync, get re-hashing every block; the same through ``KuboStore`` against the embedded server.
* CAR import (``--car-import``): a CAR of 100 records of 4 KB sealed bytes (random, as ciphertext is), built as
  ``records.anchoring.store_entries`` builds it (``build_dag`` + ``write_car``), imported with its roots pinned
  into a store that already took one such CAR (so its shard directories exist, as in a store in use); REF's ``storage/blockstore.py`` and ``storage/embedded.py`` against this tree's, each
  import in its own child process, the two alternating, median ms per CAR and the fsync / syncfs calls counted.
* peak RSS: a child process adds a 1 GiB file streamed from a ChaCha20 generator (every leaf distinct) and
  reports ``getrusage(RUSAGE_SELF).ru_maxrss``, so the parent's buffers do not count. Target: < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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


REPO = Path(__file__).resolve().parents[1]
_CAR_FILES = ("python/famchain/storage/blockstore.py", "python/famchain/storage/embedded.py")


def _build_flush_car(path: Path, records: int, size: int) -> None:
    """A CAR as a flush stores it: each record's DAG built as ``add`` builds it, all roots in one header."""
    import io

    from famchain.storage.car import write_car
    from famchain.storage.cid import CidInfo
    from famchain.storage.unixfs import build_dag

    blocks: list[tuple[CidInfo, bytes]] = []
    roots = [
        build_dag(io.BytesIO(os.urandom(size)), lambda b: blocks.append((b.cid, b.data)))
        for _ in range(records)
    ]
    with open(path, "wb") as out:
        write_car(roots, blocks, out)


def _child_car(car: str, warm: str, work: str) -> None:
    """Import ``warm`` into a fresh store (untimed: its shard directories appear), then time ``car``."""
    import io

    from famchain.storage import blockstore
    from famchain.storage.embedded import EmbeddedStore

    store = EmbeddedStore(work)
    store.import_car(io.BytesIO(Path(warm).read_bytes()))
    data = Path(car).read_bytes()
    counts = {"fsync": 0, "syncfs": 0}
    real_fsync, real_syncfs = os.fsync, getattr(blockstore, "sync_filesystem", None)

    def fsync(fd: int) -> None:
        counts["fsync"] += 1
        real_fsync(fd)

    def syncfs(path: Path) -> bool:
        counts["syncfs"] += 1
        return bool(real_syncfs(path))  # type: ignore[misc]

    blockstore.os.fsync = fsync  # type: ignore[assignment]
    if real_syncfs is not None:
        blockstore.sync_filesystem = syncfs  # type: ignore[attr-defined]
    start = time.perf_counter()
    roots = store.import_car(io.BytesIO(data))
    elapsed = time.perf_counter() - start
    assert len(roots) == len(set(roots))
    assert set(roots) <= set(store.pins())
    print(json.dumps({"ms": elapsed * 1000, "module": blockstore.__file__, **counts}))


def _car_import(ref: str, records: int, size: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="famchain-bench-") as tmp:
        car, warm = Path(tmp) / "flush.car", Path(tmp) / "warm.car"
        _build_flush_car(car, records, size)
        _build_flush_car(warm, records, size)
        baseline = Path(tmp) / "baseline"
        shutil.copytree(REPO / "python", baseline / "python")
        for name in _CAR_FILES:
            text = subprocess.run(
                ["git", "-C", str(REPO), "show", f"{ref}:{name}"], check=True, capture_output=True
            )
            (baseline / name).write_bytes(text.stdout)
        trees = {f"{ref} (before)": baseline / "python", "this tree (after)": REPO / "python"}
        results: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for run in range(runs):
            for label, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree)}
                work = Path(tmp) / f"run-{run}-{len(results[label])}-{label[:4]}"
                out = subprocess.run(
                    [sys.executable, __file__, "--child-car", str(car), str(warm), str(work)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                )
                # The stores stay until the end: deleting one here would bill its journal commit (and the
                # discards of its freed blocks) to the next child's first flush.
                report = json.loads(out.stdout)
                assert report["module"].startswith(str(tree)), report["module"]
                results[label].append(report)
        print(
            f"import_car of one CAR: {records} records x {size} B, roots pinned, into a store holding one such CAR"
            f" (median of {runs})"
        )
        medians = {}
        for label, reports in results.items():
            medians[label] = statistics.median(r["ms"] for r in reports)
            each = " ".join(f"{r['ms']:.1f}" for r in reports)
            print(
                f"  {label:<22} {medians[label]:8.1f} ms/CAR  ({records / medians[label] * 1000:7.0f} records/s)"
                f"  fsync {reports[0]['fsync']:.0f}, syncfs {reports[0]['syncfs']:.0f} per CAR"
                f"  runs {each}"
            )
        before, after = medians.values()
        print(f"  ratio before/after: x{before / after:.1f}")


def main() -> None:
    """Runs the benchmark and prints one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (10 MB and 64 MiB)")
    parser.add_argument(
        "--car-import",
        nargs="?",
        const="main",
        metavar="REF",
        help="only time import_car of one flush's CAR, against REF's store code (default main)",
    )
    parser.add_argument("--runs", type=int, default=5, help="repetitions for --car-import")
    parser.add_argument("--child-add", nargs=2, metavar=("SIZE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--child-car", nargs=3, metavar=("CAR", "WARM", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_add:
        _child_add(int(args.child_add[0]), args.child_add[1])
        return
    if args.child_car:
        _child_car(*args.child_car)
        return
    if args.car_import:
        _car_import(args.car_import, records=100, size=4096, runs=args.runs)
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
