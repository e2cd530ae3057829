"""A throwaway local network: anvil (from node_modules) plus the embedded IPFS store and gateway.

Both listen on loopback ports chosen by the OS. The running set is described by ``<state_dir>/devnet.json``,
so ``down`` stops exactly the processes that ``up`` started, even from another process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from famchain.devnet._process import ServiceStartError, alive, spawn, stop
from famchain.errors import ConfigError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["DEV_FUNDER_KEY", "Devnet", "DevnetInfo", "ServiceStartError", "dev_account"]

DEV_FUNDER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""Account 0 of anvil's well-known test mnemonic: public, funded, for the devnet only."""
DEV_CHAIN_ID = 31337


def dev_account() -> LocalAccount:
    """anvil's public, funded account 0 (devnets only: its key is in every anvil's documentation)."""
    from eth_account import Account

    account: LocalAccount = Account.from_key(DEV_FUNDER_KEY)
    return account


@dataclass
class DevnetInfo:
    """Where the devnet's services listen and which processes they are."""

    state_dir: str
    rpc_url: str
    ipfs_url: str
    chain_id: int
    anvil_pid: int
    store_pid: int
    persist: bool = False

    @property
    def running(self) -> bool:
        """True when both processes are still alive."""
        return alive(self.anvil_pid) and alive(self.store_pid)


class Devnet:
    """Start, inspect and stop one devnet whose files live in ``state_dir``.

    Args:
        state_dir: where the devnet keeps its description, logs and data.
        anvil: the anvil binary (``famchain.settings.Settings.anvil_binary`` finds one); only ``up`` and
            ``restart`` need it.
        chain_id: the devnet's chain id.
    """

    def __init__(self, state_dir: Path, *, anvil: str | None = None, chain_id: int = DEV_CHAIN_ID) -> None:
        self.state_dir = state_dir
        self.anvil = anvil
        self.chain_id = chain_id
        self._info_path = state_dir / "devnet.json"

    def info(self) -> DevnetInfo | None:
        """The recorded devnet, or None when none was started here."""
        if not self._info_path.exists():
            return None
        return DevnetInfo(**json.loads(self._info_path.read_text()))

    def up(self, *, persist: bool = False, block_time: float | None = None) -> DevnetInfo:
        """Start anvil and the store; return their URLs. Reuses a devnet that is already running.

        Args:
            persist: keep chain state in ``state_dir/anvil-state.json`` across restarts.
            block_time: seconds per block instead of mining each transaction at once.
        """
        current = self.info()
        if current and current.running:
            return current
        if current:
            self.down()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        anvil, rpc_url = self._start_chain(persist, block_time)
        try:
            store, ipfs_url = self._start_store()
        except BaseException:
            stop(anvil.pid)
            raise
        info = DevnetInfo(
            str(self.state_dir), rpc_url, ipfs_url, self.chain_id, anvil.pid, store.pid, persist
        )
        self._save(info)
        return info

    def _save(self, info: DevnetInfo) -> None:
        self._info_path.write_text(json.dumps(asdict(info), indent=2) + "\n")

    def _start_chain(
        self, persist: bool, block_time: float | None = None
    ) -> tuple[subprocess.Popen[bytes], str]:
        if self.anvil is None:
            raise ConfigError("starting a devnet needs the anvil binary: pass Devnet(..., anvil=PATH)")
        argv = [self.anvil, "--host", "127.0.0.1", "--port", "0", "--chain-id", str(self.chain_id)]
        argv += ["--accounts", "10", "--balance", "1000000", "--no-request-size-limit"]
        # Keep recent states in memory only: by default anvil also writes every historical state under
        # ~/.foundry/anvil/tmp, which a long run (soak, bench) grows to tens of GB and a killed anvil leaves behind.
        argv += ["--prune-history", "1024"]
        if persist:
            argv += ["--state", str(self.state_dir / "anvil-state.json"), "--state-interval", "1"]
        if block_time:
            argv += ["--block-time", str(block_time)]
        return spawn("anvil", argv, self.state_dir / "anvil.log")

    def _start_store(self) -> tuple[subprocess.Popen[bytes], str]:
        # The devnet's store is always its own embedded folder, whatever FAMCHAIN_IPFS_* the caller's
        # environment says (after `eval "$(famchain devnet up)"` they point at another devnet's store).
        argv = [sys.executable, "-m", "famchain", "ipfs", "serve", "--port", "0"]
        argv += ["--backend", "embedded", "--store-dir", str(self.state_dir / "ipfs")]
        return spawn("ipfs store", argv, self.state_dir / "store.log")

    def restart(self, service: str, *, stopped_for: float = 0.0) -> DevnetInfo:
        """Stop one service (``chain`` or ``store``) and start it again on a new port, keeping its data.

        The chain keeps its state only when the devnet was started with ``persist``. Used by fault tests.
        """
        info = self.info()
        if info is None:
            raise ConfigError(f"no devnet in {self.state_dir}")
        if service == "chain":
            stop(info.anvil_pid)
            time.sleep(stopped_for)
            proc, info.rpc_url = self._start_chain(info.persist)
            info.anvil_pid = proc.pid
        elif service == "store":
            stop(info.store_pid)
            time.sleep(stopped_for)
            proc, info.ipfs_url = self._start_store()
            info.store_pid = proc.pid
        else:
            raise ConfigError(f"unknown devnet service {service!r}: use chain or store")
        self._save(info)
        return info

    def down(self) -> DevnetInfo | None:
        """Stop the processes recorded by ``up`` (and only those); return what was stopped."""
        info = self.info()
        if info is None:
            return None
        for pid, marker in ((info.store_pid, "ipfs"), (info.anvil_pid, "anvil")):
            if _is_ours(pid, marker):
                stop(pid)
        self._info_path.unlink(missing_ok=True)
        return info


def _is_ours(pid: int, marker: str) -> bool:
    """True when ``pid`` still runs the service we started (not a later process that reused the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return marker.encode() in cmdline
