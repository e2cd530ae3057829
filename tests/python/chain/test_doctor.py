"""`famchain doctor` against the real devnet: all checks pass, and each broken setting fails with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _cli_support import Cli, closed_port

from _world import ANVIL, World
from famchain.chain.deployment import Deployment

CHECKS = ["rpc", "chain-id", "eip-1559", "evm", "finality", "deployment", "contracts", "ipfs", "keystore"]


def _doctor(cli: Cli, world: World, **env: str | None) -> tuple[int, dict[str, Any], str]:
    result = cli.invoke(world.patient, "doctor", "--json", **env)
    data = json.loads(result.stdout)
    return result.exit_code, {c["name"]: c for c in data["checks"]}, result.stderr


def test_doctor_all_ok_on_devnet(cli: Cli, world: World) -> None:
    result = cli.ok(world.patient, "doctor")
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == CHECKS
    assert all(line.startswith("ok ") for line in lines), result.stdout
    assert result.stderr == ""

    code, checks, _ = _doctor(cli, world)
    assert code == 0
    assert list(checks) == CHECKS
    assert "chain 31337" in checks["chain-id"]["detail"]
    assert "base fee" in checks["eip-1559"]["detail"]
    assert "4 contracts deployed and wired, 4 active members" in checks["contracts"]["detail"]
    assert world.patient.address in checks["keystore"]["detail"]


def test_doctor_closed_rpc_port_fails_with_reason(cli: Cli, world: World) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, checks, stderr = _doctor(cli, world, FAMCHAIN_RPC_URL=url)
    assert code == 1
    assert checks["rpc"]["status"] == "fail"
    assert checks["rpc"]["detail"].startswith(f"RPC endpoint {url} is unreachable")
    assert {checks[n]["status"] for n in ("chain-id", "eip-1559", "evm", "finality", "contracts")} == {"skip"}
    assert checks["ipfs"]["status"] == "ok"
    assert checks["keystore"]["status"] == "ok"
    assert stderr == "error: 1 check failed: rpc\n"


def test_doctor_missing_deployment_fails(cli: Cli, world: World, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = cli.invoke(world.patient, "doctor", FAMCHAIN_DEPLOYMENT=str(missing))
    assert result.exit_code == 1
    line = next(x for x in result.stdout.splitlines() if x.split()[1] == "deployment")
    assert line.startswith("fail")
    assert f"no deployment file {missing}" in line
    assert "\n" not in line
    contracts = next(x for x in result.stdout.splitlines() if x.split()[1] == "contracts")
    assert contracts.startswith("skip")
    assert result.stderr == "error: 1 check failed: deployment\n"


def test_doctor_stale_deployment_and_wrong_chain_fail(cli: Cli, world: World, tmp_path: Path) -> None:
    dep = world.deployment
    empty = dict(dep.addresses, RecordRegistry="0x" + "11" * 20)
    stale = tmp_path / "stale.json"
    Deployment(dep.chain_id, empty, dep.start_block, dep.founders).save(stale)
    code, checks, _ = _doctor(cli, world, FAMCHAIN_DEPLOYMENT=str(stale))
    assert code == 1
    assert checks["contracts"]["status"] == "fail"
    assert "no RecordRegistry contract at" in checks["contracts"]["detail"]

    other = tmp_path / "other.json"
    Deployment(5, dep.addresses, dep.start_block, dep.founders).save(other)
    code, checks, _ = _doctor(cli, world, FAMCHAIN_DEPLOYMENT=str(other))
    assert code == 1
    assert checks["chain-id"] == {
        "name": "chain-id",
        "status": "fail",
        "detail": "the node is chain 31337 but the deployment file is for chain 5",
    }

    swapped = tmp_path / "swapped.json"
    mixed = dict(dep.addresses, ConsentRegistry=dep.addresses["ResidentRegistry"])
    Deployment(dep.chain_id, mixed, dep.start_block, dep.founders).save(swapped)
    code, checks, _ = _doctor(cli, world, FAMCHAIN_DEPLOYMENT=str(swapped))
    assert code == 1
    assert checks["contracts"]["status"] == "fail"


def test_doctor_store_and_keystore_failures(cli: Cli, world: World) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, checks, stderr = _doctor(cli, world, FAMCHAIN_IPFS_API=url, FAMCHAIN_KEYSTORE="0x" + "22" * 20)
    assert code == 1
    assert checks["ipfs"]["status"] == "fail"
    assert url in checks["ipfs"]["detail"]
    assert checks["keystore"]["status"] == "fail"
    assert checks["keystore"]["detail"].startswith("no keystore for 0x2222")
    assert stderr == "error: 2 checks failed: ipfs, keystore\n"

    # No keystore set, chain and store healthy: a note, not a failure (public lookups need no keystore).
    code, checks, stderr = _doctor(cli, world, FAMCHAIN_KEYSTORE=None)
    assert code == 0, checks
    assert stderr == ""
    assert checks["keystore"]["status"] == "note"
    assert "set FAMCHAIN_KEYSTORE" in checks["keystore"]["detail"]
    assert {c["status"] for n, c in checks.items() if n != "keystore"} == {"ok"}
    # No password is needed: a wrong one changes nothing.
    code, _, _ = _doctor(cli, world, FAMCHAIN_PASSWORD="wrong")
    assert code == 0


def test_doctor_pre_london_chain_fails_eip1559_and_evm(cli: Cli, world: World) -> None:
    port = closed_port()
    proc = subprocess.Popen(
        [ANVIL, "--host", "127.0.0.1", "--port", str(port), "--hardfork", "berlin", "--silent"]
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            code, checks, _ = _doctor(cli, world, FAMCHAIN_RPC_URL=url)
            if checks["rpc"]["status"] == "ok":
                break
            time.sleep(0.2)
        assert code == 1
        assert checks["eip-1559"]["status"] == "fail"
        assert "has no baseFeePerGas: enable London" in checks["eip-1559"]["detail"]
        assert checks["evm"]["status"] == "fail"
        assert "activate Shanghai and Cancun" in checks["evm"]["detail"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_ape_deploy_script_writes_a_deployment_doctor_accepts(cli: Cli, world: World, tmp_path: Path) -> None:
    """`ape run deploy` (scripts/deploy.py) against a running anvil writes famchain's deployment format."""
    repo = Path(__file__).resolve().parents[3]
    ape = Path(sys.executable).parent / "ape"
    port = closed_port()
    proc = subprocess.Popen([ANVIL, "--host", "127.0.0.1", "--port", str(port), "--silent"])
    try:
        url = f"http://127.0.0.1:{port}"
        out = tmp_path / "ape-deployment.json"
        founders = [world.consortium.address, world.specialist.address]
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and _doctor(cli, world, FAMCHAIN_RPC_URL=url)[1]["rpc"]["status"] != "ok"
        ):
            time.sleep(0.2)
        result = subprocess.run(
            [str(ape), "run", "deploy", "--network", url, "-o", str(out)],
            cwd=repo,
            env={**os.environ, "FAMCHAIN_FOUNDERS": f"primary-care:{founders[0]},hospital:{founders[1]}"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        deployment = Deployment.load(out)
        assert deployment.founders == [
            {"admin": founders[0], "kind": "primary_care"},
            {"admin": founders[1], "kind": "hospital"},
        ]
        code, checks, _ = _doctor(cli, world, FAMCHAIN_RPC_URL=url, FAMCHAIN_DEPLOYMENT=str(out))
        assert code == 0, checks
        assert checks["contracts"]["detail"] == "4 contracts deployed and wired, 2 active members"
    finally:
        proc.terminate()
        proc.wait(10)


def test_doctor_speaks_chinese(cli: Cli, world: World) -> None:
    from famchain import i18n

    url = f"http://127.0.0.1:{closed_port()}"
    i18n.use_language("zh_CN")
    try:
        healthy = cli.ok(world.patient, "doctor").stdout.splitlines()
        failed = cli.invoke(world.patient, "doctor", FAMCHAIN_IPFS_API=url)
    finally:
        i18n.use_language("en")
    rows = {line.split()[1]: line for line in healthy}
    assert list(rows) == CHECKS
    assert all(line.startswith("正常 ") for line in healthy), healthy
    assert rows["chain-id"].endswith("链 31337")
    assert rows["contracts"].endswith("已部署并连接 4 个合约，4 个有效成员")  # noqa: RUF001
    assert failed.exit_code == 1
    assert failed.stderr == "error: 1 项检查失败：ipfs\n"  # noqa: RUF001
    ipfs = next(line for line in failed.stdout.splitlines() if line.split()[1] == "ipfs")
    assert ipfs.startswith("失败 ")
