"""The portal's web server: the single page, a small JSON API, and the sealed bytes the browser opens.

Run by an institution (``famchain portal``). It holds no patient key and never sees a plaintext record: it
reads the chain and the store through :class:`famchain.Client` and relays the messages residents sign in their
own wallets with the institution's relayer account (``client.relay``), so patients pay no gas.

API (JSON; an error is ``{"error": "<sentence saying what to do next>", "code": "<stable id>"}`` with a 4xx or
5xx status):

* ``GET /api/config`` — chain id, contracts, relayer, names of sections, purposes and guardian scopes.
* ``GET /api/residents/{address}`` (standing, family doctor, guardians, wards), ``.../card``, ``.../inbox``,
  ``.../audit``; ``GET /api/accounts/{address}`` (name and encryption key of anyone).
* ``POST /api/typed-data/{action}`` ``{params}`` — the exact typed data the wallet signs (POST: consent terms are
  text that must stay out of URLs and access logs).
* ``POST /api/relay`` ``{action, params, typedData, signature}`` — checked, rate-limited per resident, relayed.
* ``POST /api/bundles`` (the bytes of a key bundle the browser built) — stored and pinned; answers its CID.
* ``POST /api/amendments`` — a doctor's system posts an amendment's approval request for the patient's inbox.
* ``GET /ipfs/{cid}`` — sealed bytes, for the browser to verify and open: gated like ``famchain ipfs serve
  --gated`` (docs/protocol.md, "Gateway"); the page signs its access token with the resident's browser key.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from famchain import errors
from famchain.chain.deployment import checked_address
from famchain.client import Client
from famchain.i18n import _
from famchain.portal import STATIC_DIR, views
from famchain.portal.amendments import AmendmentBox, default_folder
from famchain.portal.directory import Directory
from famchain.portal.ratelimit import RateLimiter
from famchain.records.gatekeeping import ChainGuard
from famchain.services.relay import SPECS, action_of
from famchain.storage.access import AccessGate
from famchain.storage.cid import digest_and_codec, parse_cid
from famchain.storage.unixfs import build_dag

MAX_BUNDLE = 4 * 1024 * 1024
"""Largest key bundle the portal stores for a browser (bytes)."""

CHAIN_DOWN = (
    "the portal cannot reach the blockchain right now, so nothing was read or sent: try again in a few "
    "minutes, and tell the institution if it lasts"
)
STORE_DOWN = (
    "the portal cannot reach the record store right now, so nothing was sent: try again in a few minutes, "
    "and tell the institution if it lasts"
)


def _status(exc: errors.FamchainError) -> tuple[int, str, str]:
    """HTTP status, stable code and message of a famchain error."""
    if isinstance(exc, errors.RateLimitedError):
        return 429, exc.code, str(exc)
    if isinstance(exc, errors.GatewayRefusedError):
        return 403, "gateway-refused", str(exc)
    if isinstance(exc, errors.SignatureRefusedError):
        return (409 if exc.code == "replayed" else 400), exc.code, str(exc)
    if isinstance(exc, errors.RpcUnavailableError):
        return 503, "chain-down", CHAIN_DOWN
    if isinstance(exc, errors.StorageError) and isinstance(exc, errors.StoreUnavailableError):
        return 503, "store-down", STORE_DOWN
    if isinstance(exc, errors.UnknownCidError):
        return 404, "not-found", f"{exc}: the record may not be stored yet; try again later"
    if isinstance(exc, errors.StorageError):
        return 503, "store-down", STORE_DOWN
    if isinstance(exc, errors.ContractRevertError):
        return (
            409,
            "refused-by-contract",
            f"the blockchain refuses this action ({exc}), so nothing was sent: reload the page to see what is "
            "in force now",
        )
    if isinstance(exc, errors.IntegrityError):
        return 502, "integrity", f"{exc}; tell the institution"
    if isinstance(exc, errors.InputError | errors.ConfigError):
        return 400, "bad-input", f"{exc}; check it and try again"
    return 500, "error", f"{exc}; try again, and tell the institution if it lasts"


def _address(value: str, what: str = "address") -> str:
    try:
        return checked_address(value, what)
    except errors.FamchainError:
        raise errors.InputError(
            _("{value!r} is not an account address (0x and 40 hex digits)").format(value=value)
        ) from None


def create_app(
    client: Client,
    *,
    names: Directory | None = None,
    limiter: RateLimiter | None = None,
    amendments: Path | None = None,
    gate: AccessGate | None = None,
    public_urls: Sequence[str] = (),
) -> FastAPI:
    """The portal as an ASGI app.

    Args:
        client: the relayer's client (the institution's key pays the gas), with the store the records are in
            and a home folder (consent terms it relays, amendment requests).
        names: the directory of practitioners and institutions the institution knows.
        limiter: relayed actions per resident per minute [default: 10].
        amendments: where posted amendment requests are kept [default: ``<home>/portal/amendments``].
        gate: who gets sealed bytes from ``/ipfs/`` [default: the chain's answer, with a resident's registered
            browser key signing for the resident]; :func:`serve` adds the URL it listens on to its origins.
        public_urls: URLs browsers reach the portal at (behind a proxy); access tokens must name one.

    Raises:
        ConfigError: the client has no account, store or home.
    """
    if client.account is None or client.store is None or client.home is None:
        raise errors.ConfigError(
            _("the portal needs the relayer's account, a content store and a home folder")
        )
    directory = names or Directory()
    bucket = limiter or RateLimiter()
    box = AmendmentBox(client, amendments or default_folder(client))
    send_lock = threading.Lock()  # one relayed transaction at a time: one sender, one nonce sequence
    if gate is None:
        guard = ChainGuard(client.chain)
        gate = AccessGate(guard, public_urls, delegate=guard.delegate)
    access = gate
    app = FastAPI(title="famchain portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.gate = access

    @app.exception_handler(errors.FamchainError)
    async def _famchain_error(_: Request, exc: errors.FamchainError) -> JSONResponse:
        status, code, message = _status(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.RateLimitedError) else None
        return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        text = "no such page or API call" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            {"error": f"{text}; reload the portal", "code": "http"}, status_code=exc.status_code
        )

    def body(data: Any, fields: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(data, dict) or any(f not in data for f in fields):
            raise errors.InputError(
                _("the request needs a JSON object with {fields}").format(fields=", ".join(fields))
            )
        return data

    async def json_of(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            raise errors.InputError(_("the request body is not JSON")) from None

    def read(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        return fn(client, directory, *args)

    @app.get("/api/config")
    def get_config() -> dict[str, Any]:
        return views.config(client)

    @app.get("/api/accounts/{address}")
    def get_account(address: str) -> dict[str, Any]:
        who = _address(address)
        key = client.chain.encryption_key(who)
        return {**directory.describe(client, who), "encryptionKey": "0x" + key.hex() if key else None}

    @app.get("/api/residents/{address}")
    def get_resident(address: str) -> dict[str, Any]:
        return read(views.resident, _address(address))

    @app.get("/api/residents/{address}/card")
    def get_card(address: str) -> dict[str, Any]:
        return read(views.card, _address(address))

    @app.get("/api/residents/{address}/inbox")
    def get_inbox(address: str) -> dict[str, Any]:
        return views.inbox(client, directory, box, _address(address))

    @app.get("/api/residents/{address}/audit")
    def get_audit(address: str) -> dict[str, Any]:
        return read(views.audit, _address(address))

    @app.post("/api/typed-data/{action}")
    async def post_typed_data(action: str, request: Request) -> dict[str, Any]:
        data = body(await json_of(request), ("params",))
        which = action_of(action)
        prepared = await _threaded(lambda: client.relay.prepare(which, data["params"]))
        return {
            "action": str(which),
            "primaryType": SPECS[which].primary,
            "resident": prepared.resident,
            "deadline": prepared.deadline,
            "typedData": prepared.typed_data,
        }

    @app.post("/api/relay")
    async def post_relay(request: Request) -> dict[str, Any]:
        data = body(await json_of(request), ("action", "params", "typedData", "signature"))
        which = action_of(str(data["action"]))
        params = data["params"]
        resident = params.get(SPECS[which].signer) if isinstance(params, dict) else None
        bucket.take(_address(str(resident), SPECS[which].signer))

        def relay() -> dict[str, Any]:
            with send_lock:
                return client.relay.relay(which, params, data["typedData"], str(data["signature"])).to_json()

        answer: dict[str, Any] = await _threaded(relay)
        return answer

    @app.post("/api/bundles")
    async def post_bundle(request: Request) -> dict[str, Any]:
        data = await request.body()
        if not data or len(data) > MAX_BUNDLE:
            raise errors.InputError(
                _("a key bundle is 1 to {max_bundle} bytes").format(max_bundle=MAX_BUNDLE)
            )
        if not data.startswith(b"FCKB"):
            raise errors.InputError(_("these bytes are not a famchain key bundle"))
        local = str(build_dag(io.BytesIO(data)).cid)
        assert client.store is not None
        store = client.store
        stored = await _threaded(lambda: str(store.put(data, pin=True)))
        if stored != local:
            raise errors.IntegrityError(
                _("the store named the key bundle {stored}, expected {local}").format(
                    stored=stored, local=local
                )
            )
        digest, codec = digest_and_codec(local)
        return {"cid": local, "digest": "0x" + digest.hex(), "codec": codec}

    @app.post("/api/amendments")
    async def post_amendment(request: Request) -> dict[str, Any]:
        posted = await json_of(request)
        amendment = await _threaded(lambda: box.post(posted))
        return {"record": amendment.record_id.to_0x_hex(), "patient": amendment.patient}

    @app.get("/ipfs/{cid}")
    def get_block(cid: str, request: Request) -> Response:
        try:
            info = parse_cid(cid)
        except errors.InputError:
            raise errors.InputError(_("{cid!r} is not a content identifier").format(cid=cid)) from None
        access.admit(request.headers.get("authorization"), info)
        assert client.store is not None
        data = client.store.get(cid)
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": "no-store"})

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app


async def _threaded(fn: Callable[[], Any]) -> Any:
    """Run blocking chain or store work off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn)


def serve(app: FastAPI, host: str, port: int, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve ``app`` until interrupted (uvicorn); ``ready`` is told the URL once the socket listens."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    url = f"http://{host}:{port}"
    gate = getattr(app.state, "gate", None)
    if isinstance(gate, AccessGate):
        gate.add_origin(url)
        if host in ("127.0.0.1", "localhost"):
            gate.add_origin(f"http://localhost:{port}")
            gate.add_origin(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    if ready is not None:
        ready(url)
    server.run(sockets=[sock])
