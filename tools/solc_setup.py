"""Points py-solc-x and ape-solidity at the project's solc-js wrapper (``tools/solc``).

Both look for ``$SOLCX_BINARY_PATH/solc-v<version>`` (``~/.solcx`` by default; the Makefile points it into this
checkout's ``.venv``, so two checkouts on one machine never share a launcher); no native solc can be downloaded on these machines, so this
installs a two-line launcher there that runs the repository's wrapper. Run by ``make install`` (development
tooling: it lives in the repository, not in the installed package).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRAPPER = REPO / "tools" / "solc"


def wrapper_version() -> str:
    """Return the bare version (``0.8.28``) that the wrapper's compiler reports."""
    out = subprocess.run([str(WRAPPER), "--version"], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("Version:"))
    return line.split()[1].split("+")[0]


def install_launcher(home: Path | None = None) -> Path:
    """Write ``solc-v<version>`` into the solcx folder and return its path."""
    folder = Path(os.environ.get("SOLCX_BINARY_PATH", (home or Path.home()) / ".solcx"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"solc-v{wrapper_version()}"
    target.write_text(f'#!/bin/sh\nexec {shlex.quote(str(WRAPPER))} "$@"\n')
    target.chmod(0o755)
    return target


if __name__ == "__main__":
    print(install_launcher())
