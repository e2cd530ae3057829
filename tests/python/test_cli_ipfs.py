"""`famchain ipfs ...` through typer's CliRunner."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from famchain.cli import app
from famchain.storage.cid import make_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.gateway import GatewayServer

EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(mix_stderr=False)


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "store"
    monkeypatch.setenv("FAMCHAIN_IPFS_DIR", str(directory))
    monkeypatch.delenv("FAMCHAIN_IPFS_BACKEND", raising=False)
    monkeypatch.delenv("FAMCHAIN_IPFS_API", raising=False)
    return directory


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(251)) * 4000)  # 1,004,000 bytes: four distinct leaves
    return path


@pytest.fixture
def other_served(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, str]]:
    other = EmbeddedStore(tmp_path / "peer")
    with GatewayServer(other) as server:
        yield other, server.url


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, ["ipfs", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def _fails(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, ["ipfs", *args])
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_add_prints_the_cid_and_get_writes_the_file(
    runner: CliRunner, store_dir: Path, big_file: Path, tmp_path: Path
) -> None:
    cid = _ok(runner, "add", str(big_file)).strip()
    assert cid == EmbeddedStore(store_dir).put(big_file.read_bytes(), only_hash=True)
    out = tmp_path / "copy.bin"
    _ok(runner, "get", cid, "-o", str(out))
    assert out.read_bytes() == big_file.read_bytes()
    assert _ok(runner, "ls").split() == [cid]


def test_add_empty_file_and_json(runner: CliRunner, store_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    data = json.loads(_ok(runner, "add", "--json", str(empty)))
    assert data == {"cid": EMPTY, "size": 0, "pinned": True}
    assert json.loads(_ok(runner, "ls", "--json")) == [EMPTY]


def test_add_only_hash_stores_nothing(runner: CliRunner, store_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "hello"
    path.write_bytes(b"hello world")
    assert _ok(runner, "add", "--only-hash", str(path)).strip() == make_cid(b"hello world")
    assert _ok(runner, "ls") == ""
    assert EmbeddedStore(store_dir).blocks.count() == (0, 0)


def test_store_dir_option_overrides_env(runner: CliRunner, store_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    elsewhere = tmp_path / "elsewhere"
    cid = _ok(runner, "add", "--store-dir", str(elsewhere), str(path)).strip()
    assert EmbeddedStore(elsewhere).pins() == [cid]
    assert not store_dir.exists() or EmbeddedStore(store_dir).pins() == []


def test_pin_unpin_gc(runner: CliRunner, store_dir: Path, big_file: Path) -> None:
    cid = _ok(runner, "add", "--no-pin", str(big_file)).strip()
    assert _ok(runner, "ls") == ""
    _ok(runner, "pin", cid)
    assert _ok(runner, "ls").split() == [cid]
    gc = json.loads(_ok(runner, "gc", "--json"))
    assert gc["removed"] == 0
    _ok(runner, "unpin", cid)
    gc = json.loads(_ok(runner, "gc", "--json"))
    assert gc["removed"] == 5
    assert "not pinned" in _fails(runner, "unpin", cid)


def test_verify_reports_corruption_with_nonzero_exit(
    runner: CliRunner, store_dir: Path, big_file: Path
) -> None:
    _ok(runner, "add", str(big_file))
    assert "0 corrupted" in _ok(runner, "verify")
    store = EmbeddedStore(store_dir)
    leaf = make_cid(big_file.read_bytes()[:262144])
    from famchain.storage.cid import parse_cid

    path = store.blocks.path_of(parse_cid(leaf))
    path.write_bytes(b"rotten" + path.read_bytes()[6:])
    result = runner.invoke(app, ["ipfs", "verify", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["blocks"] == 5
    assert [b["path"] for b in report["bad"]] == [str(path)]


def test_car_export_import(runner: CliRunner, store_dir: Path, big_file: Path, tmp_path: Path) -> None:
    cid = _ok(runner, "add", str(big_file)).strip()
    car = tmp_path / "out.car"
    _ok(runner, "export-car", cid, "-o", str(car))
    other = tmp_path / "other"
    assert _ok(runner, "import-car", "--store-dir", str(other), str(car)).split() == [cid]
    assert EmbeddedStore(other).get(cid) == big_file.read_bytes()
    car.write_bytes(car.read_bytes()[:-7])
    assert "truncated" in _fails(runner, "import-car", "--store-dir", str(tmp_path / "third"), str(car))


def test_fetch_from_another_gateway(
    runner: CliRunner, store_dir: Path, other_served: tuple[EmbeddedStore, str], big_file: Path
) -> None:
    peer, url = other_served
    cid = peer.put(big_file.read_bytes())
    data = json.loads(_ok(runner, "fetch", cid, "--from", url, "--json"))
    assert data["blocks_fetched"] == 5
    assert EmbeddedStore(store_dir).get(cid) == big_file.read_bytes()


def test_kubo_backend_against_embedded_rpc(
    runner: CliRunner, store_dir: Path, other_served: tuple[EmbeddedStore, str], big_file: Path
) -> None:
    peer, url = other_served
    cid = _ok(runner, "add", "--backend", "kubo", "--api", url, str(big_file)).strip()
    assert peer.pins() == [cid]
    assert _ok(runner, "ls", "--backend", "kubo", "--api", url).split() == [cid]
    assert json.loads(_ok(runner, "status", "--json", "--backend", "kubo", "--api", url))["healthy"] is True


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_kubo_is_a_one_line_error(runner: CliRunner, store_dir: Path, big_file: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    line = _fails(runner, "add", "--backend", "kubo", "--api", url, str(big_file))
    assert line.startswith(f"error: content store at {url} is unreachable: connection refused; ")
    assert line.endswith(
        "start it (a local one: `famchain devnet up`) or point FAMCHAIN_IPFS_API at a running one"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["get", "not-a-cid", "-o", "/tmp/never"], "invalid CID"),
        (["get", EMPTY, "-o", "/tmp/never"], "not in the store"),
        (["pin", EMPTY], "not in the store"),
        (["gc", "--backend", "kubo"], "embedded store folder only"),
        (["ls", "--backend", "s3"], "unknown FAMCHAIN_IPFS_BACKEND"),
        (["add", "/nonexistent/file"], "cannot read"),
    ],
)
def test_errors_are_one_line(runner: CliRunner, store_dir: Path, args: list[str], fragment: str) -> None:
    assert fragment in _fails(runner, *args)


def test_get_leaves_nothing_behind_on_failure(runner: CliRunner, store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.bin"
    _fails(runner, "get", EMPTY, "-o", str(out))
    assert not out.exists()
    assert list(tmp_path.glob(".never.bin.part")) == []


def test_large_add_shows_progress_on_stderr_only(runner: CliRunner, store_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "large.bin"
    path.write_bytes(bytes(range(251)) * 40_000)  # ~10 MB, above the progress threshold
    result = runner.invoke(app, ["ipfs", "add", str(path)])
    assert result.exit_code == 0, result.output + result.stderr
    cid = result.stdout.strip()
    assert cid == EmbeddedStore(store_dir).put(path.read_bytes(), only_hash=True)
    assert result.stdout == cid + "\n"


def test_add_from_stdin(runner: CliRunner, store_dir: Path) -> None:
    result = runner.invoke(app, ["ipfs", "add", "-"], input=b"hello world")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip() == make_cid(b"hello world")


def test_a_gated_gateway_on_another_interface_refuses_to_expose_the_rpc(
    runner: CliRunner, store_dir: Path
) -> None:
    line = _fails(runner, "serve", "--gated", "--host", "0.0.0.0")

    assert line.endswith("add --no-rpc to serve a gated gateway on 0.0.0.0")


def test_a_gated_gateway_needs_a_chain_it_can_read(runner: CliRunner, store_dir: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"

    line = _fails(runner, "serve", "--gated", "--rpc-url", url)

    assert url in line


def test_the_store_commands_speak_chinese(runner: CliRunner, store_dir: Path, big_file: Path) -> None:
    from famchain import i18n

    i18n.use_language("zh_CN")
    try:
        cid = _ok(runner, "add", "--no-pin", str(big_file)).strip()  # a CID is a CID in every language
        pinned = _ok(runner, "pin", cid)
        checked = _ok(runner, "verify")
        unpinned = _ok(runner, "unpin", cid)
        gc = _ok(runner, "gc")
        missing = _fails(runner, "unpin", cid)
        status = _ok(runner, "status")
    finally:
        i18n.use_language("en")
    assert cid.startswith("bafy")
    assert pinned == f"已固定 {cid}\n"
    assert checked == "已检查 5 个数据块，0 个已损坏\n"  # noqa: RUF001
    assert unpinned == f"已取消固定 {cid}\n"
    assert gc.startswith("已移除 5 个数据块（")  # noqa: RUF001
    assert missing == f"error: 内容 {cid} 未被固定"
    assert status.splitlines()[0] == "后端：embedded"  # noqa: RUF001
    assert "True" not in status
    assert "None" not in status


def test_a_bad_cid_is_one_chinese_line(runner: CliRunner, store_dir: Path) -> None:
    from famchain import i18n

    i18n.use_language("zh_CN")
    try:
        message = _fails(runner, "pin", "zzz")
    finally:
        i18n.use_language("en")
    assert message == "error: 无效的 CID 'zzz'：应为 base32 编码的 CIDv1（'b...'）或 CIDv0（'Qm...'）"  # noqa: RUF001
    assert _fails(runner, "pin", "zzz").startswith("error: invalid CID 'zzz': expected a CIDv1")
