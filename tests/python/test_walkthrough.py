"""The README walkthrough is true: it runs as pasted in a fresh shell, and scripts/walkthrough.sh is its text."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "walkthrough.sh"


def _body(text: str) -> str:
    start = text.index("# --- setup")
    return text[start:].strip()


def test_readme_shows_the_walkthrough_script_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```", readme, re.S)
    assert block is not None, "README.md lost its walkthrough block"
    assert _body(block.group(1)) == _body(SCRIPT.read_text())


def _readme_block() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```", readme, re.S)
    assert block is not None, "README.md lost its walkthrough block"
    return block.group(1)


def test_the_walkthrough_sets_up_what_it_uses_and_ends_by_stopping_the_devnet() -> None:
    lines = [line for line in _readme_block().splitlines() if line and not line.startswith("#")]
    assert lines[0].startswith('export PATH="$PWD/.venv/bin:$PATH"')  # `make install` puts famchain there
    assert lines[1].startswith("work=$(mktemp -d)")
    assert lines[-2:] == ["famchain devnet down", 'rm -rf "$work"']


@pytest.mark.slow
def test_walkthrough_runs_as_pasted_in_a_fresh_shell(tmp_path: Path) -> None:
    # A fresh login's environment: no famchain on PATH, no $work, nothing exported. The light test KDF only makes
    # the keystores faster to open.
    home = tmp_path / "home"
    home.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "PATH": os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir()),
        "HOME": str(home),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "FAMCHAIN_INSECURE_TEST_KEYSTORES": "1",
    }
    # Test hygiene only, not part of what is pasted: a block that fails half-way still stops its devnet.
    cleanup = 'trap \'[ -z "${work:-}" ] || famchain devnet down --dir "$work/devnet" >/dev/null 2>&1 || true\' EXIT\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", cleanup + _readme_block()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-1500:], result.stderr[-3000:])
    out = result.stdout
    assert "withheld (no key released to this reader)" in out  # the insurer sees only its two sections
    assert "anchored (new version of" in out  # the approved amendment
    assert "ConsentRevoked" in out  # the audit trail
    assert "EMERGENCY ACCESS (1), most recent first" in out  # the emergency comes first in the audit
    assert "withheld (not an emergency section of this emergency)" in out  # the physician's emergency read
    assert "emergency     " in out  # the accounting of disclosures names the emergency physician
    # the teardown found the devnet without --dir, stopped it and removed the scratch folder
    stopped = [line for line in out.splitlines() if line.startswith("devnet stopped (")]
    assert len(stopped) == 1, out[-2000:]
    assert stopped[0].endswith("/devnet)")
    assert list(scratch.iterdir()) == []
