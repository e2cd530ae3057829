"""Headless Chromium for the portal tests: a static server on 127.0.0.1 and the browser launch settings.

Debian's ``chromium`` (``make install`` installs it) is driven by Python Playwright without any browser
download. Playwright starts it with ``--headless`` and a fresh temporary ``--user-data-dir``; the flags below
keep it from calling home (without them it floods the closed network).
"""

from __future__ import annotations

import functools
import http.server
import os
import posixpath
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from famchain.portal import STATIC_DIR

PAGES_DIR = Path(__file__).with_name("pages")
CHROMIUM = os.environ.get("FAMCHAIN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEST_PREFIX = "/test/"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the portal's static files at ``/`` and the test pages at ``/test/``, never cached."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def translate_path(self, path: str) -> str:
        if path.startswith(TEST_PREFIX):
            name = posixpath.normpath(path[len(TEST_PREFIX) :].split("?", maxsplit=1)[0]).lstrip("/")
            return str(PAGES_DIR / name) if not name.startswith("..") else str(PAGES_DIR / "missing")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # quiet: the tests assert on behaviour, not on access logs


@contextmanager
def static_server() -> Iterator[str]:
    """Serves the static files on a free port of 127.0.0.1; yields the base URL."""
    handler = functools.partial(_Handler, directory=str(STATIC_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="portal-static", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def chromium_path() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
