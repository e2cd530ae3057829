"""A small soak (the full one is `python -m famchain.soak`): nothing lost, every record opens for exactly the
parties entitled to it when it was sealed."""

from __future__ import annotations

from pathlib import Path

from famchain.devnet import DevnetInfo
from famchain.soak import run_soak
from famchain.storage.kubo import KuboStore


def test_small_soak_loses_nothing_and_decrypts_exactly(devnet: DevnetInfo, tmp_path: Path) -> None:
    report = run_soak(
        devnet.rpc_url, KuboStore(devnet.ipfs_url), tmp_path, patients=8, records=40, grant_changes=16, seed=3
    )

    assert report.problems == []
    assert report.records_sealed == 40
    assert report.records_anchored == 40
    assert report.records_lost == 0
    assert report.duplicates == 0
    assert report.grants + report.revocations == 16
    assert report.revocations > 0
    assert report.decryption_checks >= 40 * 3
    assert report.wrong_decryptions == 0
