"""The portal under test: its server in a thread, behind switchable loopback proxies for the RPC and the store.

:class:`Switch` is a TCP proxy on 127.0.0.1 that forwards to a local service until it is turned off; then it
drops every open connection and refuses new ones, which is what a portal sees when its node or its store goes
down. :class:`PortalServer` runs :func:`famchain.portal.server.create_app` under uvicorn on a free port.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import uvicorn

from famchain.portal.server import create_app

ROOT = Path(__file__).resolve().parents[3]
OUTPUT = Path(os.environ.get("FAMCHAIN_TEST_OUTPUT", ROOT / "test-output")) / "portal"
"""Where the browser tests save their screenshots."""


class Switch:
    """A loopback TCP proxy to ``target`` (``http://127.0.0.1:PORT``) that can be turned off and on."""

    def __init__(self, target: str) -> None:
        parsed = urlparse(target)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.up = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, name="switch", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if not self.up:
                conn.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._open |= {conn, upstream}
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._drop(s)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def off(self) -> None:
        """The service is gone: open connections drop, new ones are refused."""
        self.up = False
        with self._lock:
            held = list(self._open)
        for sock in held:
            self._drop(sock)

    def on(self) -> None:
        """The service is back."""
        self.up = True

    def close(self) -> None:
        self._stopped = True
        self.off()
        self._listener.close()


@contextmanager
def portal_server(client: Any, **options: Any) -> Iterator[str]:
    """Serves the portal for ``client`` on a free port of 127.0.0.1; yields its base URL."""
    app = create_app(client, **options)
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="portal", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app.state.gate.add_origin(url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def screenshot(page: Any, name: str) -> Path:
    """Saves a full-page screenshot of the current screen as ``test-output/portal/<name>.png``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
