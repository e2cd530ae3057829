"""Start a child service, wait for the line that announces its URL, and stop it again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from famchain.errors import FamchainError


class ServiceStartError(FamchainError, RuntimeError):
    """A devnet service did not come up."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} did not start: {reason}")


_URL = re.compile(r"(?:https?://)?(127\.0\.0\.1|localhost|\[::1\]):(\d+)")


def spawn(
    name: str, argv: list[str], log: Path, timeout: float = 30.0, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``argv``, return the process and the ``http://host:port`` it announced on stdout.

    The child gets its own session so that stopping it never signals the caller. Its output is copied to
    ``log`` by a daemon thread for as long as it runs.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    found: list[str] = []
    tail: deque[str] = deque(maxlen=5)
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        with log.open("ab") as sink:
            for raw in iter(proc.stdout.readline, b""):
                sink.write(raw)
                sink.flush()
                line = raw.decode(errors="replace").strip()
                tail.append(line)
                match = _URL.search(line)
                if match and not found:
                    found.append(f"http://{match.group(1)}:{match.group(2)}")
                    ready.set()
        ready.set()

    threading.Thread(target=pump, name=f"{name}-log", daemon=True).start()
    if not ready.wait(timeout) or not found:
        stop(proc.pid)
        reason = "exited" if proc.poll() is not None else f"no URL announced within {timeout:.0f}s"
        last = " / ".join(tail) or "no output"
        raise ServiceStartError(name, f"{reason} ({last}); log: {log}")
    return proc, found[0]


def alive(pid: int) -> bool:
    """True when ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``pid``, then SIGKILL after ``grace`` seconds. Idempotent."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            if not alive(pid):
                return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
