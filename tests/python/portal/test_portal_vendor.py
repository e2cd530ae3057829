"""The vendored third-party JavaScript is exactly what the pinned npm packages build, with its licences."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from famchain.portal import STATIC_DIR

ROOT = Path(__file__).resolve().parents[3]
VENDOR = STATIC_DIR / "vendor"
MANIFEST: dict[str, Any] = json.loads((VENDOR / "VENDOR.json").read_text(encoding="utf-8"))
LOCK: dict[str, Any] = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
PACKAGE: dict[str, Any] = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
VENDORED = ["@noble/curves", "@noble/hashes", "@noble/ciphers", "sm-crypto-v2", "esbuild"]


def test_rebuilding_from_the_pinned_packages_gives_the_vendored_bytes() -> None:
    if not (ROOT / "node_modules" / "esbuild").is_dir() or shutil.which("node") is None:
        pytest.fail("node and node_modules are needed: run 'make install'")
    result = subprocess.run(
        ["node", "tools/portal-vendor/vendor.mjs", "--check", str(VENDOR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(MANIFEST["bundles"]))
def test_manifest_records_each_bundle_sha256(name: str) -> None:
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == MANIFEST["bundles"][name]["sha256"]


def test_bundled_package_versions_are_the_locked_ones() -> None:
    locked: dict[str, set[str]] = {}
    for path, entry in LOCK["packages"].items():
        if "node_modules/" in path:
            locked.setdefault(path.rsplit("node_modules/", 1)[1], set()).add(entry["version"])
    for bundle in MANIFEST["bundles"].values():
        for name, version in bundle["packages"].items():
            assert version in locked.get(name, set()), f"{name}@{version} is not in package-lock.json"
    assert MANIFEST["esbuild"] == LOCK["packages"]["node_modules/esbuild"]["version"]


@pytest.mark.parametrize("name", VENDORED)
def test_vendored_packages_are_pinned_exactly(name: str) -> None:
    pinned = PACKAGE["devDependencies"][name]
    assert pinned == LOCK["packages"][f"node_modules/{name}"]["version"], f"{name} is pinned as {pinned!r}"


def test_every_bundled_package_ships_its_licence() -> None:
    bundled = {f"{n}@{v}" for b in MANIFEST["bundles"].values() for n, v in b["packages"].items()}
    assert set(MANIFEST["licenses"]) == bundled
    for file in MANIFEST["licenses"].values():
        text = (VENDOR / file).read_text(encoding="utf-8")
        assert "Permission is hereby granted" in text, file  # all of them are MIT
