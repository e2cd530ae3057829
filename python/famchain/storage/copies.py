"""Does a store still hold a block? Asked of any trustless gateway (a famchain store or a Kubo node) without
letting it fetch the block from the network first.

The request is ``HEAD /ipfs/{cid}?format=raw`` with ``Cache-Control: only-if-cached`` (the IPFS gateway
specification: a gateway that does not hold the block locally answers 412 rather than looking for it). 200 means
the store holds it; 404, 410 and 412 that it does not; anything else, or no answer, that it cannot be told.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote

import requests

from famchain.storage.access import HEADER, AccessSigner
from famchain.storage.cid import parse_cid

RAW_TYPE = "application/vnd.ipld.raw"
_ABSENT = (HTTPStatus.NOT_FOUND, HTTPStatus.GONE, HTTPStatus.PRECONDITION_FAILED)


@dataclass(frozen=True)
class Holding:
    """One store's answer.

    Attributes:
        store: the gateway URL asked.
        holds: True (holds the block), False (does not), None (could not be told: ``detail`` says why).
    """

    store: str
    holds: bool | None
    detail: str

    def to_json(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {"store": self.store, "holds": self.holds, "detail": self.detail}


def holding(
    gateway: str,
    cid: str,
    *,
    session: requests.Session | None = None,
    timeout: float = 10.0,
    signer: AccessSigner | None = None,
) -> Holding:
    """Ask one gateway whether it holds the block ``cid`` locally (a gated gateway answers signed requests
    only: pass ``signer``).

    Raises:
        InputError: ``cid`` is not a CID.
    """
    info = parse_cid(cid)
    base = gateway.rstrip("/")
    headers = {"Accept": RAW_TYPE, "Cache-Control": "only-if-cached"}
    if signer is not None:
        headers[HEADER] = signer.header(base)
    try:
        resp = (session or requests).head(
            f"{base}/ipfs/{quote(info.cid)}?format=raw",
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return Holding(base, None, f"unreachable ({type(exc).__name__})")
    if resp.status_code == HTTPStatus.OK:
        return Holding(base, True, "holds a copy")
    if resp.status_code in _ABSENT:
        return Holding(base, False, "holds no copy")
    if resp.status_code == HTTPStatus.FORBIDDEN:
        return Holding(
            base, None, "cannot tell (the gateway does not answer this account: sign with --keystore)"
        )
    return Holding(base, None, f"cannot tell (HTTP {resp.status_code})")


__all__ = ["Holding", "holding"]
