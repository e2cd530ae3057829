"""A browser wallet for the portal tests: an EIP-1193 provider in the page, a real key in the test.

:class:`TestWallet` installs ``pages/test-wallet.js`` as an init script (before any page script runs). The
page sees a wallet that announces itself through EIP-6963 (``eip6963:announceProvider``; optionally also as
``window.ethereum``) and whose every request is answered here in Python through an exposed binding:
``eth_signTypedData_v4`` with famchain's typed-data signer and ``personal_sign`` with eth-account, both with
the key the test holds. Switches for the bad cases a portal must survive:

* ``chain_id`` — the chain the wallet is on (a wrong chain id); ``wallet_switchEthereumChain`` moves it to a
  chain in ``known_chains`` (others answer 4902) and emits ``chainChanged``;
* ``sign_with`` — a key other than the account's: the wallet still reports ``address`` but its signatures
  recover to another account (a signature from the wrong account);
* ``reject`` — methods the user rejects (``{"eth_signTypedData_v4"}``, or ``{"*"}`` for all): EIP-1193 error
  4001 ``User rejected the request.``;
* ``announce`` / ``legacy`` — how the page finds it (EIP-6963, ``window.ethereum``, or not at all).

Every request is logged in :attr:`TestWallet.requests` so a test can check what the page asked to sign.

Usage::

    wallet = TestWallet(private_key, chain_id=31337)
    wallet.install(browser_context)          # before page.goto
    page.goto(url)
    ...
    wallet.reject = {"eth_signTypedData_v4"}  # from now on the user says no
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import BrowserContext, Page

from famchain.crypto.keywrap import address_from_private_key
from famchain.crypto.typed_data import sign_typed_data
from famchain.types import Address

SCRIPT = Path(__file__).with_name("pages") / "test-wallet.js"
_STATE = ("private_key", "chain_id", "sign_with", "reject", "known_chains", "connected", "requests")
"""The fields :meth:`TestWallet.reset` restores."""
USER_REJECTED = 4001
UNAUTHORIZED = 4100
UNSUPPORTED_METHOD = 4200
UNRECOGNIZED_CHAIN = 4902
INTERNAL_ERROR = -32603


class WalletRpcError(Exception):
    """An EIP-1193 error the wallet answers with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WalletRequest:
    """One request the page made: method and params as the page sent them."""

    method: str
    params: list[Any]


@dataclass
class TestWallet:
    """An EIP-1193 wallet held by the test (see the module docstring).

    Attributes:
        private_key: The account's key; :attr:`address` is its account.
        chain_id: The chain the wallet is on.
        sign_with: Signs with this key instead of ``private_key`` (while still reporting :attr:`address`).
        reject: Methods the user rejects with 4001 (``"*"`` rejects every prompt).
        known_chains: Chains ``wallet_switchEthereumChain`` accepts (the current one always).
        announce: Announce through EIP-6963.
        legacy: Also set ``window.ethereum``.
        name: The EIP-6963 display name.
        rdns: The EIP-6963 reverse-DNS id.
        connected: Whether the page connected (``eth_requestAccounts``).
        requests: Every request, in order.
    """

    __test__ = False  # not a test class, whatever its name

    private_key: bytes
    chain_id: int = 31337
    sign_with: bytes | None = None
    reject: set[str] = field(default_factory=set)
    known_chains: set[int] = field(default_factory=set)
    announce: bool = True
    legacy: bool = False
    name: str = "famchain test wallet"
    rdns: str = "org.famchain.test-wallet"
    connected: bool = False
    requests: list[WalletRequest] = field(default_factory=list)
    binding: str = "__famchainTestWallet"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        self._initial = {name: copy.copy(getattr(self, name)) for name in _STATE}

    def reset(self, **changes: Any) -> None:
        """Back to the state it was created in (not connected, no switches, empty log), then ``changes``.

        Lets one installed wallet (one browser context, one page) serve many tests. Only the wallet's state can
        change this way; how it is found (``announce``, ``legacy``, ``name``) is fixed once installed.
        """
        if unknown := set(changes) - set(_STATE):
            raise TypeError(f"cannot reset {sorted(unknown)}: only {sorted(_STATE)}")
        for name, value in {**self._initial, **changes}.items():
            setattr(self, name, copy.copy(value))

    @property
    def address(self) -> Address:
        """The account the wallet reports."""
        return address_from_private_key(self.private_key)

    def install(self, target: BrowserContext | Page) -> None:
        """Exposes the binding and adds the provider script; call before the page loads."""
        config = {
            "binding": self.binding,
            "info": {"uuid": self.uuid, "name": self.name, "icon": _ICON, "rdns": self.rdns},
            "announce": self.announce,
            "legacy": self.legacy,
        }
        target.expose_function(self.binding, self._dispatch)
        prelude = f"globalThis.__famchainTestWalletConfig = {json.dumps(config)};\n"
        target.add_init_script(prelude + SCRIPT.read_text(encoding="utf-8"))

    def emit(self, page: Page, event: str, value: Any) -> None:
        """Emits an EIP-1193 event in the page (``accountsChanged``, ``chainChanged``)."""
        page.evaluate("([e, v]) => globalThis.__famchainTestWalletProvider.emit(e, v)", [event, value])

    def switch_account(self, page: Page, private_key: bytes) -> None:
        """Switches the account as a user would in the wallet, and tells the page."""
        self.private_key = private_key
        self.emit(page, "accountsChanged", [self.address] if self.connected else [])

    def switch_chain(self, page: Page, chain_id: int) -> None:
        """Moves the wallet to another chain as a user would, and tells the page."""
        self.chain_id = chain_id
        self.emit(page, "chainChanged", hex(chain_id))

    # --- requests ----------------------------------------------------------------------------------------

    def _dispatch(self, method: str, params_json: str) -> dict[str, Any]:
        params = json.loads(params_json)
        self.requests.append(WalletRequest(method, params))
        events: list[tuple[str, Any]] = []
        try:
            result = self._answer(method, params, events)
        except WalletRpcError as exc:
            return {"error": {"code": exc.code, "message": str(exc)}, "events": events}
        return {"result": result, "events": events}

    def _rejects(self, method: str) -> bool:
        return "*" in self.reject or method in self.reject

    def _check_prompt(self, method: str) -> None:
        if self._rejects(method):
            raise WalletRpcError(USER_REJECTED, "User rejected the request.")

    def _check_account(self, account: Any) -> None:
        if not self.connected:
            raise WalletRpcError(UNAUTHORIZED, "The requested account and/or method has not been authorized.")
        if not isinstance(account, str) or account.lower() != self.address.lower():
            raise WalletRpcError(UNAUTHORIZED, f"The requested account {account} has not been authorized.")

    def _answer(self, method: str, params: list[Any], events: list[tuple[str, Any]]) -> Any:
        if method == "eth_requestAccounts":
            self._check_prompt(method)
            self.connected = True
            return [self.address]
        if method == "eth_accounts":
            return [self.address] if self.connected else []
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "net_version":
            return str(self.chain_id)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted != self.chain_id and wanted not in self.known_chains:
                raise WalletRpcError(UNRECOGNIZED_CHAIN, f"Unrecognized chain ID {hex(wanted)}.")
            self._check_prompt(method)
            if wanted != self.chain_id:
                self.chain_id = wanted
                events.append(("chainChanged", hex(wanted)))
            return None
        if method == "eth_signTypedData_v4":
            account, payload = params
            self._check_account(account)
            data = json.loads(payload) if isinstance(payload, str) else payload
            domain_chain = data.get("domain", {}).get("chainId")
            if domain_chain is not None and int(domain_chain) != self.chain_id:
                raise WalletRpcError(
                    INTERNAL_ERROR,
                    f'Provided chainId "{domain_chain}" must match the active chainId "{self.chain_id}"',
                )
            self._check_prompt(method)
            return "0x" + sign_typed_data(self._signing_key, data).hex()
        if method == "personal_sign":
            message, account = params
            self._check_account(account)
            self._check_prompt(method)
            signed = Account.sign_message(encode_defunct(hexstr=message), self._signing_key)
            return "0x" + bytes(signed.signature).hex()
        raise WalletRpcError(UNSUPPORTED_METHOD, f"The test wallet does not support {method}.")

    @property
    def _signing_key(self) -> bytes:
        return self.sign_with if self.sign_with is not None else self.private_key


_ICON = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="
"""An empty SVG: EIP-6963 requires an icon data URI."""
