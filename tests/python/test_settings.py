"""Settings are read once, at the edge: the environment and the options into one object; the library reads
no environment variable, no current directory, and nothing outside ``famchain/chain/`` touches a contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from famchain import KdfParams, Settings
from famchain.errors import ConfigError
from famchain.storage.config import open_store
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.kubo import KuboStore

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "famchain"


def test_environment_fills_every_setting(tmp_path: Path) -> None:
    env = {
        "FAMCHAIN_RPC_URL": "http://node:8545",
        "FAMCHAIN_DEPLOYMENT": str(tmp_path / "d.json"),
        "FAMCHAIN_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "FAMCHAIN_KEYSTORE": "0x" + "12" * 20,
        "FAMCHAIN_KEYSTORE_DIR": str(tmp_path / "keys"),
        "FAMCHAIN_PASSWORD_FILE": str(tmp_path / "pw"),
        "FAMCHAIN_PASSWORD": "secret",
        "FAMCHAIN_HOME": str(tmp_path / "home"),
        "FAMCHAIN_IPFS_BACKEND": "Kubo",
        "FAMCHAIN_IPFS_DIR": str(tmp_path / "ipfs"),
        "FAMCHAIN_IPFS_API": "http://ipfs:5001",
        "FAMCHAIN_IPFS_TIMEOUT": "9",
        "FAMCHAIN_INSECURE_TEST_KEYSTORES": "1",
    }
    s = Settings.from_env(env)
    assert s.rpc_url == "http://node:8545"
    assert s.deployment_path(1) == tmp_path / "d.json"
    assert s.keystore == "0x" + "12" * 20
    assert s.keystore_dir == tmp_path / "keys"
    assert s.password_file == tmp_path / "pw"
    assert s.password == "secret"
    assert s.home == tmp_path / "home"
    config = s.store.config()
    assert (config.backend, config.root, config.api_url, config.timeout) == (
        "kubo",
        tmp_path / "ipfs",
        "http://ipfs:5001",
        9.0,
    )
    assert s.insecure_test_keystores
    assert s.kdf == KdfParams.light()
    assert "secret" not in repr(s)


def test_defaults_and_options_override_the_environment(tmp_path: Path) -> None:
    s = Settings.from_env({})
    assert s.rpc_url == "http://127.0.0.1:8545"
    assert s.deployment_path(31337) == Path("deployments") / "31337.json"
    assert s.keystore_dir == Path.home() / ".famchain" / "keystores"
    assert s.home == Path.home() / ".famchain"
    assert s.kdf == KdfParams.default()
    assert s.store.config().backend == "embedded"
    given = Settings.from_env(
        {"FAMCHAIN_RPC_URL": "http://env", "FAMCHAIN_KEYSTORE_DIR": "/env"},
        rpc_url="http://option",
        keystore_dir=tmp_path,
        keystore=None,  # not given: the environment's stays
        store_backend="kubo",
    )
    assert given.rpc_url == "http://option"
    assert given.keystore_dir == tmp_path
    assert given.store.backend == "kubo"


def test_store_directory_comes_from_the_environment(tmp_path: Path) -> None:
    store = open_store(Settings.from_env({"FAMCHAIN_IPFS_DIR": str(tmp_path / "from-env")}).store.config())
    assert isinstance(store, EmbeddedStore)
    assert store.location == str(tmp_path / "from-env")
    remote = open_store(
        Settings.from_env(
            {"FAMCHAIN_IPFS_BACKEND": "kubo", "FAMCHAIN_IPFS_API": "http://127.0.0.1:1"}
        ).store.config()
    )
    assert isinstance(remote, KuboStore)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FAMCHAIN_IPFS_BACKEND": "s3"}, "unknown FAMCHAIN_IPFS_BACKEND 's3'"),
        ({"FAMCHAIN_IPFS_TIMEOUT": "soon"}, "FAMCHAIN_IPFS_TIMEOUT must be a number of seconds"),
        ({"FAMCHAIN_IPFS_BACKEND": "kubo", "FAMCHAIN_IPFS_API": "x"}, "is not an http:// or https:// URL"),
    ],
)
def test_bad_store_settings_fail_where_the_store_is_opened(env: dict[str, str], message: str) -> None:
    settings = Settings.from_env(env)  # a command that never opens the store is not stopped
    with pytest.raises(ConfigError, match=message):
        settings.store.config()


def _library_sources() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts]


def test_the_library_reads_no_environment_and_assumes_no_checkout() -> None:
    allowed = {
        PACKAGE / "settings.py",
        PACKAGE / "soak.py",
    }  # the settings object; the soak's own command line
    offenders = []
    for path in _library_sources():
        text = path.read_text()
        if path not in allowed and re.search(r"os\.environ(?!\})|getenv\(", text.replace("**os.environ", "")):
            offenders.append(f"{path.name}: environment")
        if re.search(r"parents\[|Path\(__file__\)|Path\.cwd\(\)", text):
            offenders.append(f"{path.name}: source checkout or current folder")
    assert offenders == []


def test_only_the_chain_layer_touches_contract_functions() -> None:
    outside = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "chain" not in p.relative_to(PACKAGE).parts[:1] and ".functions." in p.read_text()
    ]
    assert outside == []
