"""Helpers for the storage tests: Kubo's deterministic test data, a tampering HTTP proxy and a garbage collector
running alongside a test."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms


class KuboDeterministicReader:
    """Byte-for-byte Kubo's ``testutils.DeterministicRandomReaderBytes(size, seed)``.

    Kubo's CLI tests (``test/cli/testutils/random_deterministic.go``) generate test files as the ChaCha20
    keystream under key ``sha256(seed)`` with an all-zero 12-byte nonce and counter 0; the CIDs in
    ``test/cli/cid_profiles_test.go`` are what ``ipfs add`` gives for those bytes.
    """

    def __init__(self, size: int, seed: str) -> None:
        key = hashlib.sha256(seed.encode()).digest()
        # cryptography's ChaCha20 nonce is the 4-byte little-endian counter followed by the 12-byte nonce.
        self._enc = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
        self._left = size

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self._left
        n = min(n, self._left)
        self._left -= n
        return self._enc.update(bytes(n)) if n else b""


class PatternReader:
    """A fast deterministic stream: ``size`` bytes of a repeating 251-byte pattern (a prime, so chunks differ)."""

    _PATTERN = bytes(range(251)) * 1100

    def __init__(self, size: int) -> None:
        self._left = size
        self._offset = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self._left
        n = min(n, self._left)
        out = bytearray()
        while len(out) < n:
            start = self._offset % 251
            take = min(n - len(out), len(self._PATTERN) - start)
            out += self._PATTERN[start : start + take]
            self._offset += take
        self._left -= n
        return bytes(out)


def flip_first_byte(body: bytes) -> bytes:
    return bytes([body[0] ^ 0xFF]) + body[1:] if body else b"\x00"


@contextmanager
def tampering_proxy(upstream: str, victim: str) -> Iterator[str]:
    """An HTTP proxy in front of ``upstream`` that alters the body of any response about CID ``victim``.

    Yields:
        The proxy's base URL.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            resp = requests.request(
                self.command, upstream + self.path, data=body, headers=headers, timeout=10
            )
            content = resp.content
            if victim in self.path and resp.status_code == 200 and self.command != "HEAD":
                content = flip_first_byte(content)
            self.send_response(resp.status_code)
            self.send_header("Content-Type", resp.headers.get("Content-Type", "application/octet-stream"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_HEAD = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gc_running(store: Any) -> Iterator[list[BaseException]]:
    """Run ``store.gc()`` in a loop on another thread while the block runs; yields the list of the errors the
    collector hit (empty unless one did), complete once the block has left."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def collect() -> None:
        try:
            while not stop.is_set():
                store.gc()
        except BaseException as exc:  # pragma: no cover - reported to the test
            errors.append(exc)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        yield errors
    finally:
        stop.set()
        collector.join()


def kill_at_checkpoint(script: str) -> None:
    """Run ``script`` in a child Python and SIGKILL it as soon as it prints ``CHECKPOINT`` (a crash at a chosen
    point of a write)."""
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "CHECKPOINT", line
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
