"""The README walkthrough is true: it is scripts/walkthrough.sh verbatim, and the script runs green."""

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


@pytest.mark.slow
def test_walkthrough_script_runs_every_actor_command(tmp_path: Path) -> None:
    env = {**os.environ, "FAMCHAIN_INSECURE_TEST_KEYSTORES": "1", "TMPDIR": str(tmp_path)}
    env.pop("FAMCHAIN_RPC_URL", None)
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "withheld (no key released to this reader)" in out  # the insurer sees only its two sections
    assert "anchored (new version of" in out  # the approved amendment
    assert "ConsentRevoked" in out  # the audit trail
    assert "EMERGENCY ACCESS (1), most recent first" in out  # the emergency comes first in the audit
    assert "withheld (not an emergency section of this emergency)" in out  # the physician's emergency read
    assert "emergency     " in out  # the accounting of disclosures names the emergency physician
