"""EIP-1559 transactions: one nonce source per key, receipts awaited with timeouts, reverts decoded.

A receipt that does not arrive in time is not treated as a failure: the same signed bytes are broadcast again
(so a dropped transaction comes back without a second nonce), and if the chain still has not decided the
caller gets :class:`TransactionUnknownError` carrying the hash to reconcile against later.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.datastructures import AttributeDict
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from famchain.chain.codec import encode_call
from famchain.chain.revert import decode_revert, revert_from_exception
from famchain.chain.rpc import CountingProvider
from famchain.errors import ChainError, ContractRevertError, InsufficientFundsError
from famchain.i18n import _

GWEI = 10**9

Call = ContractFunction | ContractConstructor | TxParams
"""Something to send: a bound contract function, a constructor, or plain transaction fields."""


class TransactionUnknownError(ChainError, TimeoutError):
    """No receipt arrived in time; the transaction may still be mined. Reconcile by its hash."""

    def __init__(self, tx_hash: str, waited: float) -> None:
        self.tx_hash = tx_hash
        super().__init__(f"transaction {tx_hash} has no receipt after {waited:.0f}s; its outcome is unknown")


@dataclass(frozen=True)
class TxInfo:
    """A mined transaction: its hash, block and the gas it was charged."""

    tx_hash: str
    block: int
    gas_used: int

    @classmethod
    def from_receipt(cls, receipt: TxReceipt) -> TxInfo:
        """From a web3 receipt."""
        return cls(
            receipt["transactionHash"].to_0x_hex(), int(receipt["blockNumber"]), int(receipt["gasUsed"])
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"tx": self.tx_hash, "block": self.block, "gas_used": self.gas_used}


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction ready to (re)broadcast."""

    tx_hash: HexBytes
    raw: HexBytes
    nonce: int
    description: str


class _NonceSource:
    """Hands out consecutive nonces for one key; resynchronises from the chain after an error."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next: int | None = None


_SOURCES: dict[tuple[bytes, str], _NonceSource] = {}
_SOURCES_LOCK = threading.Lock()


def _source_for(chain: bytes, address: str) -> _NonceSource:
    # Keyed by the genesis hash, not the chain id: two devnets share chain id 31337 but not their nonces.
    with _SOURCES_LOCK:
        return _SOURCES.setdefault((chain, address.lower()), _NonceSource())


class TransactionSender:
    """Signs and sends transactions for one account.

    Args:
        w3: connection.
        account: the signing key.
        receipt_timeout: seconds to wait for a receipt before rebroadcasting and, after a second wait,
            reporting the outcome as unknown.
        priority_fee: tip per gas in wei.
        poll_interval: seconds between receipt polls.
        fee_cache_seconds: reuse the latest block's base fee for this long instead of asking for it before
            every transaction (0, the default, asks every time). The fee cap is twice the base fee, which
            still covers the +12.5%-per-full-block rise for five blocks; for senders that sign many
            transactions back to back (benchmarks, bulk setup).
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        receipt_timeout: float = 60.0,
        priority_fee: int = 1 * GWEI,
        poll_interval: float = 0.01,
        fee_cache_seconds: float = 0.0,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.receipt_timeout = receipt_timeout
        self.priority_fee = priority_fee
        self.poll_interval = poll_interval
        self.fee_cache_seconds = fee_cache_seconds
        self._base_fee: tuple[float, int] | None = None
        # Signing with the parsed key skips re-deriving the public key from the raw bytes on every transaction.
        self._signing_key = PrivateKey(bytes(account.key))
        self.chain_id = w3.eth.chain_id
        self._nonces = _source_for(bytes(w3.eth.get_block(0)["hash"]), account.address)
        self._fetched: dict[bytes, TxReceipt] = {}

    @property
    def address(self) -> str:
        """The sending account."""
        return str(self.account.address)

    def _fees(self) -> dict[str, int]:
        now = time.monotonic()
        if self._base_fee is not None and now - self._base_fee[0] < self.fee_cache_seconds:
            base = self._base_fee[1]
        else:
            block = self.w3.eth.get_block("latest")
            base = int(block.get("baseFeePerGas", 0) or 0)
            self._base_fee = (now, base)
        return {"maxFeePerGas": 2 * base + self.priority_fee, "maxPriorityFeePerGas": self.priority_fee}

    @contextlib.contextmanager
    def one_fee_lookup(self) -> Iterator[None]:
        """Sign the transactions of a burst with a single base-fee lookup (the cap covers five full blocks)."""
        saved, self.fee_cache_seconds, self._base_fee = self.fee_cache_seconds, float("inf"), None
        try:
            yield
        finally:
            self.fee_cache_seconds = saved

    def _reserve_nonce(self) -> int:
        if self._nonces.next is None:
            self._nonces.next = self.w3.eth.get_transaction_count(self.account.address, "pending")
        nonce = self._nonces.next
        self._nonces.next += 1
        return nonce

    def resync(self) -> None:
        """Forget the cached nonce; the next transaction asks the chain."""
        with self._nonces.lock:
            self._nonces.next = None

    def sign(self, call: Call, description: str = "", gas: int | None = None) -> SignedTx:
        """Build, estimate and sign a transaction without sending it.

        Raises:
            ContractRevertError: the call would revert (decoded custom error).
        """
        params: dict[str, Any] = {"from": self.account.address, "chainId": self.chain_id, **self._fees()}
        if gas is not None:
            params["gas"] = gas
        with self._nonces.lock:
            try:
                if isinstance(call, ContractFunction) and (data := encode_call(call)) is not None:
                    call = TxParams({"to": call.address, "data": HexBytes(data)})
                if isinstance(call, ContractFunction | ContractConstructor):
                    tx = call.build_transaction(params)  # type: ignore[arg-type]
                else:
                    tx = {**params, **call}
                    if "gas" not in tx:
                        tx["gas"] = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
            except ContractLogicError as exc:
                raise revert_from_exception(exc) from None
            except Web3RPCError as exc:
                raise _refused(exc, self.account.address) from None
            if gas is None:
                tx["gas"] = int(tx["gas"]) * 6 // 5 + 5_000
            tx["nonce"] = Nonce(self._reserve_nonce())
        signed = Account.sign_transaction(tx, self._signing_key)
        return SignedTx(
            HexBytes(signed.hash), HexBytes(signed.raw_transaction), int(tx["nonce"]), description
        )

    def broadcast(self, signed: SignedTx) -> None:
        """Send the signed bytes; a node that already has them (or mined them) is not an error."""
        try:
            self.w3.eth.send_raw_transaction(signed.raw)
        except Web3RPCError as exc:
            text = str(exc).lower()
            if "already known" in text or "already imported" in text:
                return
            if "nonce too low" in text:
                # Either this very transaction is mined or waiting in the pool already (a node may answer
                # "nonce too low" for its own pending bytes), or the cached nonce went stale.
                if self._receipt(signed.tx_hash) is None and not self._known(signed.tx_hash):
                    self.resync()
                    raise ChainError(
                        _("nonce {nonce} already used by another transaction").format(nonce=signed.nonce)
                    ) from None
                return
            if "insufficient funds" in text:
                raise InsufficientFundsError(self.account.address) from None
            raise ChainError(_("node refused transaction: {exc}").format(exc=exc)) from None

    def broadcast_all(self, signed: list[SignedTx]) -> None:
        """:meth:`broadcast` each, in one JSON-RPC batch request where the connection can.

        A node may take a batch's requests in any order (JSON-RPC 2.0 allows it), and one that cannot queue a
        transaction whose nonce is ahead (Hardhat's automining node) then refuses a later nonce that came
        before an earlier one: every transaction the batch refused is sent again on its own, in nonce order,
        and only that answer counts, judged as :meth:`broadcast` judges it.
        """
        provider = self._batching(signed)
        if provider is None:
            for tx in signed:
                self.broadcast(tx)
            return
        method = RPCEndpoint("eth_sendRawTransaction")
        answers = provider.batch([(method, [tx.raw.to_0x_hex()]) for tx in signed])
        refused = [tx for tx, answer in zip(signed, answers, strict=True) if "error" in answer]
        for tx in sorted(refused, key=lambda t: t.nonce):
            self.broadcast(tx)

    def _batching(self, signed: list[SignedTx]) -> CountingProvider | None:
        """The provider to send a batch request for ``signed`` through; None for one transaction or a connection
        that is not famchain's own (the caller then asks one by one)."""
        provider = self.w3.provider
        return provider if len(signed) > 1 and isinstance(provider, CountingProvider) else None

    def _known(self, tx_hash: HexBytes) -> bool:
        """Whether the node has these very bytes (pending or mined)."""
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def fetch_receipts(self, signed: list[SignedTx]) -> None:
        """Ask for the receipts of several transactions in JSON-RPC batch requests, again every poll interval
        for those not mined yet (up to the receipt timeout); :meth:`wait` then takes each from there instead of
        asking the node one by one (and handles whatever is still missing as usual)."""
        provider = self._batching(signed)
        if provider is None:
            return
        method = RPCEndpoint("eth_getTransactionReceipt")
        missing = list(signed)
        deadline = time.monotonic() + self.receipt_timeout
        while True:
            answers = provider.batch([(method, [tx.tx_hash.to_0x_hex()]) for tx in missing])
            for tx, answer in zip(missing, answers, strict=True):
                if answer.get("result") is not None:
                    self._fetched[bytes(tx.tx_hash)] = format_receipt(answer["result"])
            missing = [tx for tx in missing if bytes(tx.tx_hash) not in self._fetched]
            if not missing or time.monotonic() >= deadline:
                return
            time.sleep(self.poll_interval)

    def _receipt(self, tx_hash: HexBytes) -> TxReceipt | None:
        fetched = self._fetched.pop(bytes(tx_hash), None)
        if fetched is not None:
            return fetched
        # Asked of the provider and formatted here: web3's generic formatters and attribute wrapping cost
        # about 0.6 ms per log, and an anchorBatch receipt carries a log per record.
        response = self.w3.provider.make_request(
            RPCEndpoint("eth_getTransactionReceipt"), [tx_hash.to_0x_hex()]
        )
        if "error" in response:
            message = _rpc_error_text(response["error"])
            raise ChainError(_("the node refused to give a receipt: {message}").format(message=message))
        result = response.get("result")
        return None if result is None else format_receipt(result)

    def wait(self, signed: SignedTx, timeout: float | None = None) -> TxReceipt:
        """Wait for the receipt; rebroadcast once on timeout; raise if the chain still has not decided.

        Raises:
            ContractRevertError: mined but reverted.
            TransactionUnknownError: no receipt after two waits.
        """
        limit = self.receipt_timeout if timeout is None else timeout
        for attempt in range(2):
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                receipt = self._receipt(signed.tx_hash)
                if receipt is not None:
                    if receipt["status"] != 1:
                        raise self._explain_failure(signed, receipt)
                    return receipt
                time.sleep(self.poll_interval)
            if attempt == 0:
                self.broadcast(signed)
        raise TransactionUnknownError(signed.tx_hash.to_0x_hex(), 2 * limit)

    def transact(self, call: Call, description: str = "", gas: int | None = None) -> TxReceipt:
        """Sign, send and wait: the usual way to run one transaction."""
        signed = self.sign(call, description, gas)
        self.broadcast(signed)
        return self.wait(signed)

    def simulate(self, call: ContractFunction) -> None:
        """Run ``call`` as this account against the latest block without sending it: the chain's refusal comes
        before any work the transaction would announce (a bundle built and stored, say).

        Raises:
            ContractRevertError: the call would revert (decoded custom error).
        """
        try:
            call.call({"from": self.account.address})
        except ContractLogicError as exc:
            raise revert_from_exception(exc) from None

    def send_value(self, to: str, wei: int) -> TxReceipt:
        """A plain value transfer (funding a devnet account; the benchmark's baseline transaction)."""
        return self.transact({"to": to_checksum_address(to), "value": Wei(wei)}, "transfer", gas=21_000)

    def _explain_failure(self, signed: SignedTx, receipt: TxReceipt) -> ChainError:
        tx = self.w3.eth.get_transaction(signed.tx_hash)
        call: dict[str, Any] = {"from": tx["from"], "to": tx.get("to"), "value": tx.get("value", 0)}
        call["data"] = tx.get("input")
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return revert_from_exception(exc)
        return ContractRevertError(
            _("transaction {tx_hash} reverted (out of gas?)").format(tx_hash=signed.tx_hash.to_0x_hex())
        )


_RECEIPT_INTEGERS = (
    "blockNumber",
    "transactionIndex",
    "cumulativeGasUsed",
    "status",
    "gasUsed",
    "effectiveGasPrice",
    "type",
    "blobGasPrice",
    "blobGasUsed",
)
_RECEIPT_BYTES = ("blockHash", "transactionHash", "logsBloom")
_ADDRESSES = ("address", "contractAddress", "from", "to")
_LOG_INTEGERS = ("blockNumber", "transactionIndex", "logIndex")
_LOG_BYTES = ("blockHash", "transactionHash", "data")


def _integer(value: Any) -> Any:
    return int(value, 16) if isinstance(value, str) else value


@functools.lru_cache(maxsize=64)
def _checksummed(address: str) -> str:
    return to_checksum_address(address)


def _formatted(
    raw: dict[str, Any], integers: tuple[str, ...], byte_fields: tuple[str, ...]
) -> dict[str, Any]:
    out = dict(raw)
    for keys, convert in ((integers, _integer), (byte_fields, HexBytes), (_ADDRESSES, _checksummed)):
        for key in keys:
            if out.get(key) is not None:
                out[key] = convert(out[key])
    return out


def format_receipt(raw: dict[str, Any]) -> TxReceipt:
    """A receipt as the node sends it (hex strings), in the form ``w3.eth.get_transaction_receipt`` gives it:
    integers, ``HexBytes``, checksummed addresses, attribute dicts."""
    receipt = _formatted(raw, _RECEIPT_INTEGERS, _RECEIPT_BYTES)
    logs = []
    for log in receipt.get("logs", []):
        entry = _formatted(log, _LOG_INTEGERS, _LOG_BYTES)
        entry["topics"] = [HexBytes(t) for t in entry["topics"]]
        logs.append(AttributeDict(entry))
    receipt["logs"] = logs
    return cast(TxReceipt, AttributeDict(receipt))


def send_all(sender: TransactionSender, calls: list[Call]) -> list[TxReceipt]:
    """Sign and broadcast every call first, then wait for all receipts: pipelines many transactions."""
    signed = [sender.sign(call) for call in calls]
    for tx in signed:
        sender.broadcast(tx)
    return [sender.wait(tx) for tx in signed]


def _rpc_error_text(error: Any) -> str:
    """The message of a JSON-RPC error object (or the object itself when it has none)."""
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


def _rpc_message(exc: Web3RPCError) -> str:
    response = exc.rpc_response if isinstance(exc.rpc_response, dict) else {}
    error = response.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(exc)


def _refused(exc: Web3RPCError, sender: str) -> ChainError:
    """The node's refusal to estimate a transaction, in words: no ether for gas, or the node's own reason."""
    text = _rpc_message(exc)
    lowered = text.lower()
    if "insufficient funds" in lowered or "exceeds allowance: 0" in lowered:
        return InsufficientFundsError(sender)
    return ChainError(_("the node refused the transaction: {text}").format(text=text))


__all__ = ["SignedTx", "TransactionSender", "TransactionUnknownError", "TxInfo", "decode_revert", "send_all"]
