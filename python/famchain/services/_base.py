"""What every service holds: the client it belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3.contract.contract import ContractFunction

from famchain.services.results import TxInfo

if TYPE_CHECKING:
    from famchain.client import Client


class Service:
    """Base of the client's services: access to the client's connection, account and store."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _send(self, call: ContractFunction, description: str) -> TxInfo:
        return TxInfo.from_receipt(self._client.sender.transact(call, description))
