"""docs/python-api.md is true: its integrator example, extracted from the markdown, runs against a devnet
and does what it says, judged from the chain; and the public surface is importable and cheap."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from _world import World
from famchain import Purpose, Section
from famchain.crypto.keystore import KdfParams, create_keystore
from famchain.devnet import DevnetInfo

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "python-api.md"


def _example() -> str:
    found = re.search(r"<!-- example: integrator -->\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert found is not None, "docs/python-api.md lost its integrator example"
    return found.group(1)


def _run(namespace: dict[str, object]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_example(), str(DOC), "exec"), namespace)
    return out.getvalue()


@pytest.fixture
def configuration(world: World, devnet: DevnetInfo, tmp_path: Path) -> dict[str, object]:
    """What the hospital's configuration holds: the family doctor's keystore (default KDF) and the rest."""
    doctor = world.family_doctor.account
    assert doctor is not None
    keystore = create_keystore(
        "hospital pass", tmp_path / "keys", private_key=bytes(doctor.key), kdf=KdfParams.default()
    )
    deployment = tmp_path / "deployment.json"
    world.patient.deployment.save(deployment)
    return {
        "RPC_URL": devnet.rpc_url,
        "DEPLOYMENT_FILE": str(deployment),
        "KEYSTORE_FILE": str(keystore.path),
        "PASSWORD": "hospital pass",
        "STORE_URL": devnet.ipfs_url,
        "OUTBOX_HOME": str(tmp_path / "hospital"),
        "PATIENT": world.patient.address,
        "INSURER": world.insurer.address,
    }


def test_integrator_example_submits_reads_and_checks_a_consent(
    world: World, configuration: dict[str, object]
) -> None:
    printed = _run(dict(configuration)).splitlines()

    card = world.chain.records.card(world.patient.address)
    assert len(card) == 1
    assert card[0].author == world.family_doctor.address
    assert printed[0] == f"anchored {card[0].record_id} in block {card[0].block}"
    assert printed[1] == f"{card[0].record_id} ['diagnosis', 'prescriptions', 'present_illness'] withheld: []"
    assert printed[2] == "no consent covers the insurer"
    assert (Path(str(configuration["OUTBOX_HOME"])) / "outbox").stat().st_mode & 0o777 == 0o700

    world.patient.consents.grant(
        world.insurer.address,
        int(Section.DIAGNOSIS),
        purpose=Purpose.INSURANCE_CLAIM,
        expires_at=world.patient.now() + 86400,
    )
    again = _run(dict(configuration)).splitlines()

    assert again[-1] == "the insurer may read the diagnosis"
    assert len(world.chain.records.card(world.patient.address)) == 2


def test_import_famchain_is_cheap_and_exports_the_api() -> None:
    code = (
        "import sys, famchain\n"
        "assert 'web3' not in sys.modules and 'eth_account' not in sys.modules, sorted(sys.modules)\n"
        "famchain.RecordId, famchain.Section, famchain.FamchainError\n"
        "assert 'web3' not in sys.modules\n"
        "famchain.Client\n"
        "assert 'web3' in sys.modules\n"
        "print(sorted(n for n in famchain.__all__ if not n.startswith('_'))[:3])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
