"""Writes ``envelope-v2.json`` from :func:`famchain.crypto.vectors.generate`."""

from __future__ import annotations

import sys

from famchain.crypto.vectors import VECTORS_FILE, generate, render

if __name__ == "__main__":
    VECTORS_FILE.write_text(render(generate()), encoding="utf-8")
    sys.stdout.write(f"wrote {VECTORS_FILE}\n")
