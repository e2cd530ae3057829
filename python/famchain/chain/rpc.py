"""JSON-RPC connection: a web3 instance whose transport errors become :class:`RpcUnavailableError`."""

from __future__ import annotations

from typing import Any

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from famchain.errors import RpcUnavailableError
from famchain.i18n import _


class CountingProvider(HTTPProvider):
    """HTTP provider that fails fast with a one-line error and counts requests (benchmarks report it).

    The chain id is asked once: web3's validation middleware would otherwise ask for it twice per call.
    """

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.url = url
        self.calls = 0
        self._chain_id: RPCResponse | None = None

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_chainId" and self._chain_id is not None:
            return self._chain_id
        self.calls += 1
        response: RPCResponse = self._request(method, params)
        if method == "eth_chainId" and "result" in response:
            self._chain_id = response
        return response

    def batch(self, requests_: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """Several requests in one JSON-RPC batch (one HTTP request), answers in request order.

        Raises:
            RpcUnavailableError: the endpoint does not answer, or answers the batch with one error (a node that
                does not take batches).
        """
        if not requests_:
            return []
        self.calls += 1
        method = RPCEndpoint(f"a batch of {len(requests_)} {requests_[0][0]}")
        answer = self._request(method, requests_, batch=True)
        if not isinstance(answer, list) or len(answer) != len(requests_):
            raise RpcUnavailableError(self.url, _("the node did not answer a JSON-RPC batch request"))
        return answer

    def _request(self, method: RPCEndpoint, params: Any, *, batch: bool = False) -> Any:
        try:
            return super().make_batch_request(params) if batch else super().make_request(method, params)
        except requests.Timeout:
            raise RpcUnavailableError(
                self.url, _("no answer to {method} in time").format(method=method)
            ) from None
        except requests.ConnectionError:
            raise RpcUnavailableError(self.url, _("connection refused or host unreachable")) from None
        except requests.RequestException as exc:
            raise RpcUnavailableError(
                self.url,
                _("{error} while asking for {method}").format(error=type(exc).__name__, method=method),
            ) from None


def connect(url: str, timeout: float = 10.0, *, check: bool = True) -> Web3:
    """Open a web3 connection to ``url``.

    Args:
        url: HTTP JSON-RPC endpoint.
        timeout: seconds to wait for any single request.
        check: ask for the chain id once so an unreachable endpoint fails here, not later.

    Raises:
        RpcUnavailableError: the endpoint does not answer.
    """
    w3 = Web3(CountingProvider(url, timeout))
    if check:
        _ = w3.eth.chain_id
    return w3


def rpc_calls(w3: Web3) -> int:
    """Number of JSON-RPC requests this connection has made."""
    provider = w3.provider
    return provider.calls if isinstance(provider, CountingProvider) else 0
