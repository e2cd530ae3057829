"""TransactionSender's batched requests: several signed transactions broadcast in one JSON-RPC batch and their
receipts fetched in one, each refusal judged as a single broadcast judges it (issue #11, item 7: the pipelined
flush sends each round of anchors this way)."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from famchain.chain.rpc import rpc_calls
from famchain.chain.tx import TransactionSender
from famchain.devnet import dev_account
from famchain.errors import ChainError, InsufficientFundsError


@pytest.fixture
def sender(w3: Web3) -> TransactionSender:
    account = Account.create()
    funder = TransactionSender(w3, dev_account())
    funder.send_value(account.address, 10**18)
    return TransactionSender(w3, account)


def _transfers(sender: TransactionSender, count: int, wei: int = 1) -> list:  # type: ignore[type-arg]
    return [
        sender.sign({"to": Account.create().address, "value": wei}, f"transfer {n}", gas=21_000)
        for n in range(count)
    ]


def test_a_round_goes_out_in_one_request_and_its_receipts_come_back_in_one(
    sender: TransactionSender, w3: Web3
) -> None:
    signed = _transfers(sender, 5)

    before = rpc_calls(w3)
    sender.broadcast_all(signed)
    assert rpc_calls(w3) - before == 1
    for tx in signed:
        w3.eth.wait_for_transaction_receipt(tx.tx_hash, timeout=30, poll_latency=0.05)
    before = rpc_calls(w3)
    sender.fetch_receipts(signed)
    receipts = [sender.wait(tx) for tx in signed]

    assert rpc_calls(w3) - before == 1  # every receipt came with the batch
    assert [r["transactionHash"] for r in receipts] == [tx.tx_hash for tx in signed]
    assert all(r["status"] == 1 for r in receipts)
    assert receipts == [w3.eth.get_transaction_receipt(tx.tx_hash) for tx in signed]


def test_a_transaction_the_node_already_has_is_not_an_error(sender: TransactionSender) -> None:
    signed = _transfers(sender, 2)
    sender.broadcast_all(signed)
    sender.broadcast_all(signed)  # in the pool or mined already: not an error either way
    receipts = [sender.wait(tx) for tx in signed]

    sender.broadcast_all(signed)  # mined ("nonce too low" for the very bytes it mined): still not an error

    assert all(r["status"] == 1 for r in receipts)


def test_a_refusal_inside_a_batch_is_the_single_broadcasts_refusal(sender: TransactionSender) -> None:
    signed = _transfers(sender, 1) + _transfers(sender, 1, wei=10**24)  # the second cannot be paid for

    with pytest.raises(InsufficientFundsError):
        sender.broadcast_all(signed)
    assert sender.wait(signed[0])["status"] == 1
    sender.resync()


def test_a_nonce_used_by_another_transaction_is_named(sender: TransactionSender) -> None:
    first = _transfers(sender, 2)
    sender.broadcast_all(first)
    sender.resync()
    sender._nonces.next = first[0].nonce  # a stale cache: the next signature reuses a mined nonce
    again = _transfers(sender, 2)

    with pytest.raises(ChainError, match=f"nonce {first[0].nonce} already used"):
        sender.broadcast_all(again)
