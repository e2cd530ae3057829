"""Serving and fetching blocks over HTTP: the IPFS trustless gateway plus a Kubo-RPC-compatible subset.

:class:`GatewayServer` serves an :class:`EmbeddedStore`:

* Trustless gateway (``GET``/``HEAD``): ``/ipfs/{cid}?format=raw`` (or ``Accept: application/vnd.ipld.raw``)
  returns one block, ``/ipfs/{cid}?format=car`` (or ``Accept: application/vnd.ipld.car``) a CARv1 of the
  DAG; without a format, the file bytes. 400 for a malformed CID, 404 for an unknown one.
* Kubo RPC subset (``POST /api/v0/...``): ``add``, ``cat``, ``block/get``, ``block/stat``, ``pin/add``,
  ``pin/rm``, ``pin/ls``, ``dag/import``, ``dag/export``, ``repo/gc``, ``id``, ``version``, so the same client
  (:class:`~famchain.storage.kubo.KuboStore`) writes to a famchain store or to a Kubo node.

:class:`GatewayFetcher` pulls a DAG from any trustless gateway (a famchain store or Kubo), block by block,
checking every block against its CID before anything is stored.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, Final
from urllib.parse import parse_qs, quote, urlsplit

import requests

from famchain import __version__
from famchain.errors import (
    BlockIntegrityError,
    FamchainError,
    GatewayRefusedError,
    InputError,
    NotPinnedError,
    StoreUnavailableError,
    UnknownCidError,
)
from famchain.i18n import _
from famchain.storage.access import HEADER as AUTH_HEADER
from famchain.storage.access import AccessGate, AccessSigner
from famchain.storage.car import CONTENT_TYPE as CAR_TYPE
from famchain.storage.car import CarReader, iter_car
from famchain.storage.cid import CidInfo, parse_cid
from famchain.storage.embedded import EmbeddedStore
from famchain.storage.unixfs import CHUNK_SIZE, Block, DagBuilder, walk_dag

_log = logging.getLogger(__name__)

RAW_TYPE: Final = "application/vnd.ipld.raw"
AGENT: Final = f"famchain/{__version__}"
_READ_SIZE: Final = 1 << 16
_IMMUTABLE: Final = "public, max-age=29030400, immutable"
_PRIVATE: Final = "private, no-store"
AUTH_PATH: Final = "/famchain/auth"
"""Where a gated gateway answers a reverse proxy's access sub-request (``GET``, 204 or 403)."""
ORIGINAL_URI_HEADER: Final = "X-Original-URI"
"""The header carrying the request the proxy asks about (nginx: ``proxy_set_header X-Original-URI $request_uri``)."""


# --- multipart --------------------------------------------------------------------------------------------


class _Bounded:
    """Reads at most ``length`` bytes from a socket file."""

    def __init__(self, raw: io.BufferedIOBase, length: int) -> None:
        self._raw = raw
        self._left = length

    def read(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        data = self._raw.read(min(n, self._left))
        self._left -= len(data)
        return data


class MultipartFile:
    """The body of the first part of a ``multipart/form-data`` stream, read incrementally.

    Args:
        src: The request body.
        boundary: The multipart boundary.

    Raises:
        InputError: If the body is not well-formed multipart.
    """

    def __init__(self, src: _Bounded | BinaryIO, boundary: bytes) -> None:
        self._src = src
        self._delim = b"\r\n--" + boundary
        self._buf = bytearray()
        self._done = False
        self.filename = ""
        opening = b"--" + boundary
        head = self._fill_until(b"\r\n\r\n", 65536)
        start = head.find(opening)
        if start < 0:
            raise InputError(_("multipart body does not start with its boundary"))
        headers = bytes(head[start + len(opening) :]).decode("latin-1")
        match = re.search(r'filename="([^"]*)"', headers)
        self.filename = match.group(1) if match else ""
        # Content starts after the blank line; the closing delimiter is searched with its leading CRLF.

    def _fill_until(self, marker: bytes, limit: int) -> bytes:
        while True:
            idx = self._buf.find(marker)
            if idx >= 0:
                head = bytes(self._buf[:idx])
                del self._buf[: idx + len(marker)]
                return head
            if len(self._buf) > limit:
                raise InputError(_("multipart part headers are too long"))
            more = self._src.read(_READ_SIZE)
            if not more:
                raise InputError(_("multipart body ended inside the part headers"))
            self._buf += more

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes of the part (all remaining if ``n < 0``)."""
        if n < 0:
            n = 1 << 62
        while not self._done:
            idx = self._buf.find(self._delim)
            if idx >= 0:
                del self._buf[idx:]
                self._done = True
                break
            if len(self._buf) >= n + len(self._delim):
                break
            more = self._src.read(max(_READ_SIZE, n - len(self._buf) + len(self._delim)))
            if not more:
                raise InputError(_("multipart body ended before its closing boundary"))
            self._buf += more
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


# --- server -----------------------------------------------------------------------------------------------


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _status_for(exc: FamchainError) -> int:
    if isinstance(exc, GatewayRefusedError):
        return HTTPStatus.FORBIDDEN
    if isinstance(exc, UnknownCidError):
        return HTTPStatus.NOT_FOUND
    if isinstance(exc, InputError):
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.INTERNAL_SERVER_ERROR


def _make_handler(store: EmbeddedStore, rpc: bool, gate: AccessGate | None) -> type[BaseHTTPRequestHandler]:
    # A gated answer is for its signer only: no shared cache may keep it and hand it to someone else.
    caching = _IMMUTABLE if gate is None else _PRIVATE

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits for the
        # delayed ACK (~40 ms) on every request.
        disable_nagle_algorithm = True

        def version_string(self) -> str:
            return AGENT

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: domain code never prints."""

        # --- helpers ------------------------------------------------------------------------------

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _stream(self, ctype: str, chunks: Iterator[bytes], extra: dict[str, str]) -> None:
            # Length unknown up front: close the connection to delimit the body. A failure mid-stream
            # truncates the response, which every verifying client (CAR reader, UnixFS reader) rejects.
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", ctype)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Connection", "close")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
            except (FamchainError, OSError):
                return

        def _json(self, obj: object, status: int = HTTPStatus.OK) -> None:
            self._send(status, json.dumps(obj).encode() + b"\n", "application/json")

        def _rpc_error(self, status: int, message: str) -> None:
            self._json({"Message": message, "Code": 0, "Type": "error"}, status)

        def _drain(self) -> None:
            # Consume what is left of the request body so the connection stays in sync.
            body = getattr(self, "body", None)
            if body is not None:
                while body.read(_READ_SIZE):
                    pass

        # --- trustless gateway --------------------------------------------------------------------

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/api/v0/"):
                self._rpc_error(HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} not allowed")
                return
            if url.path == AUTH_PATH and gate is not None:
                self._auth(gate)
                return
            if not url.path.startswith("/ipfs/"):
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
                return
            target = url.path[len("/ipfs/") :].rstrip("/")
            query = parse_qs(url.query)
            fmt = (query.get("format") or [""])[0]
            accept = self.headers.get("Accept", "")
            if not fmt:
                if RAW_TYPE in accept:
                    fmt = "raw"
                elif CAR_TYPE in accept:
                    fmt = "car"
            try:
                if "/" in target:
                    raise InputError(_("paths below a CID are not served by this gateway"))
                cid = parse_cid(target)
                if gate is not None:
                    # Before anything about the block (even whether it is held) is told.
                    gate.admit(self.headers.get(AUTH_HEADER), cid)
                if fmt == "raw":
                    block = store.get_block(cid)
                    etag = f'"{cid.cid}.raw"'
                    self._send(HTTPStatus.OK, block, RAW_TYPE, {"Etag": etag, "Cache-Control": caching})
                elif fmt == "car":
                    store.get_block(cid)  # 404 before the 200 header goes out
                    self._stream(
                        f"{CAR_TYPE}; version=1",
                        _car_chunks(store, cid),
                        {"Etag": f'"{cid.cid}.car"', "Cache-Control": caching},
                    )
                elif fmt:
                    raise InputError(_("unsupported format {fmt!r}: use raw or car").format(fmt=fmt))
                else:
                    store.get_block(cid)
                    self._stream("application/octet-stream", store.stream(cid.cid), {"Etag": f'"{cid.cid}"'})
            except FamchainError as exc:
                self._send(_status_for(exc), f"{exc}\n".encode(), "text/plain; charset=utf-8")

        def _auth(self, gate: AccessGate) -> None:
            # A reverse proxy's sub-request (nginx auth_request) for a request to a Kubo gateway behind it:
            # 204 lets it through, 403 (with the reason) refuses it.
            original = urlsplit(self.headers.get(ORIGINAL_URI_HEADER, "")).path
            try:
                if not original.startswith("/ipfs/"):
                    raise GatewayRefusedError(
                        _("only /ipfs/CID is served through this gateway, not {original!r}").format(
                            original=original
                        )
                    )
                target = original[len("/ipfs/") :].rstrip("/")
                if "/" in target:
                    raise GatewayRefusedError(_("paths below a CID are not served through this gateway"))
                gate.admit(self.headers.get(AUTH_HEADER), parse_cid(target))
            except FamchainError as exc:
                status = HTTPStatus.FORBIDDEN if isinstance(exc, GatewayRefusedError | InputError) else 500
                self._send(status, f"{exc}\n".encode(), "text/plain; charset=utf-8")
                return
            self.send_response(HTTPStatus.NO_CONTENT)
            self.send_header("Content-Length", "0")
            self.end_headers()

        # --- Kubo RPC subset ----------------------------------------------------------------------

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            command = url.path.removeprefix("/api/v0/")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._rpc_error(HTTPStatus.BAD_REQUEST, "malformed Content-Length")
                return
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                # Not supported; the unread body would desynchronise a kept-alive connection.
                self.close_connection = True
                self._rpc_error(HTTPStatus.LENGTH_REQUIRED, "chunked request bodies are not supported")
                return
            self.body = _Bounded(self.rfile, length)
            handler = _RPC.get(command) if rpc and url.path.startswith("/api/v0/") else None
            if handler is None:
                self._drain()
                self._rpc_error(HTTPStatus.NOT_FOUND, f"unknown command {url.path!r}")
                return
            try:
                handler(self, store, query)
            except _HttpError as exc:
                self._drain()
                self._rpc_error(exc.status, str(exc))
            except FamchainError as exc:
                self._drain()
                self._rpc_error(_status_for(exc), str(exc))
            except OSError as exc:
                _log.warning("RPC %s failed", command, exc_info=True)
                self.close_connection = True
                self._rpc_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{command} failed: {exc}")

        def body_part(self) -> MultipartFile:
            """The uploaded file of a multipart request."""
            ctype = self.headers.get("Content-Type", "")
            match = re.search(r'boundary="?([^";]+)"?', ctype)
            if not ctype.startswith("multipart/form-data") or match is None:
                raise _HttpError(HTTPStatus.BAD_REQUEST, _("expected a multipart/form-data body"))
            if self.headers.get("Content-Length") is None:
                self.close_connection = True
                raise _HttpError(HTTPStatus.LENGTH_REQUIRED, _("Content-Length is required"))
            return MultipartFile(self.body, match.group(1).encode())

    return Handler


def _car_chunks(store: EmbeddedStore, root: CidInfo) -> Iterator[bytes]:
    return iter_car([root], store.walk(root))


def _args(query: dict[str, list[str]]) -> list[CidInfo]:
    values = query.get("arg") or []
    if not values:
        raise _HttpError(HTTPStatus.BAD_REQUEST, _("argument 'arg' is required"))
    return [parse_cid(v.removeprefix("/ipfs/")) for v in values]


def _flag(query: dict[str, list[str]], name: str, default: bool) -> bool:
    values = query.get(name)
    if not values:
        return default
    return values[-1].lower() not in ("false", "0", "no")


RpcHandler = Callable[[Any, EmbeddedStore, dict[str, list[str]]], None]


def _rpc_add(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    version = (query.get("cid-version") or ["1"])[-1]
    chunker = (query.get("chunker") or [f"size-{CHUNK_SIZE}"])[-1]
    hashfn = (query.get("hash") or ["sha2-256"])[-1]
    if version != "1" or not _flag(query, "raw-leaves", True) or chunker != f"size-{CHUNK_SIZE}":
        raise _HttpError(
            HTTPStatus.BAD_REQUEST,
            _("this store only adds with cid-version=1, raw-leaves=true and chunker=size-262144"),
        )
    if _flag(query, "trickle", False) or _flag(query, "wrap-with-directory", False):
        raise _HttpError(HTTPStatus.BAD_REQUEST, _("this store only builds balanced single-file DAGs"))
    if hashfn != "sha2-256":
        raise _HttpError(HTTPStatus.BAD_REQUEST, _("this store only hashes with sha2-256"))
    part = h.body_part()
    only_hash = _flag(query, "only-hash", False)
    written: list[CidInfo] = []

    def sink(block: Block) -> None:
        if not only_hash and store.blocks.put(block.cid, block.data, sync_dir=False):
            written.append(block.cid)

    builder = DagBuilder(store.params, sink)
    with store.blocks.writing():
        root, _size = builder.build(part)
        if not only_hash:
            store.blocks.sync_dirs(written)
            if _flag(query, "pin", True):
                store.blocks.pin(root, check=False)
    h._json({"Name": part.filename or root.cid, "Hash": root.cid, "Size": str(builder.dag_size)})


def _rpc_block_get(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cid = _args(query)[0]
    h._send(HTTPStatus.OK, store.get_block(cid), "text/plain")


def _rpc_block_stat(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cid = _args(query)[0]
    h._json({"Key": cid.cid, "Size": store.blocks.size(cid)})


def _rpc_cat(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cid = _args(query)[0]
    store.get_block(cid)
    h._stream("text/plain", store.stream(cid.cid), {"X-Stream-Output": "1"})


def _rpc_pin_add(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cids = _args(query)
    for cid in cids:
        store.blocks.pin(cid)
    h._json({"Pins": [c.cid for c in cids]})


def _rpc_pin_rm(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cids = _args(query)
    for cid in cids:
        try:
            store.blocks.unpin(cid)
        except NotPinnedError:
            raise _HttpError(
                HTTPStatus.INTERNAL_SERVER_ERROR, _("{cid} is not pinned").format(cid=cid.cid)
            ) from None
    h._json({"Pins": [c.cid for c in cids]})


def _rpc_pin_ls(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    pinned = store.pins()
    if query.get("arg"):
        wanted = [c.cid for c in _args(query)]
        missing = [c for c in wanted if c not in pinned]
        if missing:
            raise _HttpError(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                _("path '{missing}' is not pinned").format(missing=missing[0]),
            )
        pinned = wanted
    h._json({"Keys": {c: {"Type": "recursive"} for c in pinned}})


def _rpc_dag_import(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    part = h.body_part()
    roots = store.import_car(part, pin=_flag(query, "pin-roots", True))
    body = "".join(json.dumps({"Root": {"Cid": {"/": r}, "PinErrorMsg": ""}}) + "\n" for r in roots)
    h._send(HTTPStatus.OK, body.encode(), "application/json")


def _rpc_dag_export(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    cid = _args(query)[0]
    store.get_block(cid)
    h._stream("application/vnd.ipld.car", _car_chunks(store, cid), {"X-Stream-Output": "1"})


def _rpc_repo_gc(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    # Kubo streams one {"Key": {"/": cid}} per removed block; the embedded store counts them.
    result = store.gc()
    body = "".join(json.dumps({"Key": {"/": f"removed-{n}"}}) + "\n" for n in range(result.removed_blocks))
    h._send(HTTPStatus.OK, body.encode(), "application/json")


def _rpc_version(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    h._json({"Version": __version__, "Commit": "", "Repo": "famchain-embedded", "System": "", "Golang": ""})


def _rpc_id(h: Any, store: EmbeddedStore, query: dict[str, list[str]]) -> None:
    h._json({"ID": "", "AgentVersion": AGENT, "Addresses": [], "Protocols": []})


_RPC: Final[dict[str, RpcHandler]] = {
    "add": _rpc_add,
    "cat": _rpc_cat,
    "block/get": _rpc_block_get,
    "block/stat": _rpc_block_stat,
    "pin/add": _rpc_pin_add,
    "pin/rm": _rpc_pin_rm,
    "pin/ls": _rpc_pin_ls,
    "dag/import": _rpc_dag_import,
    "dag/export": _rpc_dag_export,
    "repo/gc": _rpc_repo_gc,
    "version": _rpc_version,
    "id": _rpc_id,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is not an error worth printing; domain code never prints."""
        _log.debug("request from %s failed", client_address, exc_info=True)


class GatewayServer:
    """Serves a store over HTTP on a background thread.

    Args:
        store: The store to serve.
        host: Interface to bind; loopback by default.
        port: TCP port; 0 picks a free one.
        rpc: Also serve the Kubo RPC subset. Like Kubo's RPC it has no authentication: anyone who can
            reach the port can add, read and unpin, so keep it on loopback or turn it off (``rpc=False``) when
            binding another interface; the gated read-only gateway is what to expose.
        gate: Serve ``/ipfs/`` only to signed requests from accounts the gate admits
            (:mod:`famchain.storage.access`); refused requests get 403 and a one-line reason. None: ungated.

    Example:
        >>> with GatewayServer(store) as server:  # doctest: +SKIP
        ...     requests.get(f"{server.url}/ipfs/{cid}?format=raw")
    """

    def __init__(
        self,
        store: EmbeddedStore,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rpc: bool = True,
        gate: AccessGate | None = None,
    ) -> None:
        self.store = store
        self.gate = gate
        self._httpd = _Server((host, port), _make_handler(store, rpc, gate))
        self._thread: threading.Thread | None = None
        if gate is not None:
            gate.add_origin(self.url)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> str:
        """Start serving on a daemon thread; returns :attr:`url`."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.05,), name="famchain-gateway", daemon=True
            )
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Serve on the calling thread until :meth:`stop` is called from another thread or a signal."""
        self._httpd.serve_forever(0.2)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> GatewayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- fetcher ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch brought in."""

    root: str
    blocks_fetched: int
    bytes_fetched: int
    blocks_present: int


class GatewayFetcher:
    """Reads blocks from a trustless gateway (famchain or Kubo) and verifies each against its CID.

    Args:
        base_url: Gateway root, e.g. ``http://127.0.0.1:8080``.
        timeout: ``(connect, read)`` seconds.
        session: A ``requests.Session`` to reuse.
        signer: Signs the requests (a gated gateway serves only accounts the chain entitles: for replication,
            an active member institution's admin account).
    """

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float] = (3.05, 60.0),
        session: requests.Session | None = None,
        signer: AccessSigner | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        self.source = f"gateway {self.base_url}"
        self.signer = signer

    def headers(self, accept: str) -> dict[str, str]:
        """The request headers: ``Accept``, and the signed access token when there is a signer."""
        out = {"Accept": accept}
        if self.signer is not None:
            out[AUTH_HEADER] = self.signer.header(self.base_url)
        return out

    def get_block(self, cid: str | CidInfo) -> bytes:
        """Fetch one block with ``?format=raw`` and check its hash.

        Raises:
            UnknownCidError: If the gateway answers 404.
            GatewayRefusedError: If the gateway answers 403 (unsigned, or an account it does not serve).
            BlockIntegrityError: If the bytes do not hash to ``cid``.
            StoreUnavailableError: If the gateway cannot be reached or fails.
        """
        info = cid if isinstance(cid, CidInfo) else parse_cid(cid)
        content = self._fetch(info, "raw", RAW_TYPE)
        if sha256(content).digest() != info.digest:
            raise BlockIntegrityError(info.cid, self.source)
        return content

    def _fetch(self, info: CidInfo, fmt: str, media_type: str) -> bytes:
        """The body of ``GET /ipfs/<cid>?format=<fmt>``, the gateway's answer mapped to famchain's errors."""
        url = f"{self.base_url}/ipfs/{quote(info.cid)}?format={fmt}"
        try:
            resp = self._session.get(url, headers=self.headers(media_type), timeout=self.timeout)
        except requests.RequestException as exc:
            raise StoreUnavailableError(self.base_url, _reason(exc)) from None
        if resp.status_code == HTTPStatus.NOT_FOUND:
            raise UnknownCidError(info.cid)
        if resp.status_code == HTTPStatus.FORBIDDEN:
            raise GatewayRefusedError(refusal(resp), self.base_url)
        if resp.status_code != HTTPStatus.OK:
            raise StoreUnavailableError(
                self.base_url,
                _("HTTP {status_code} for {cid}").format(status_code=resp.status_code, cid=info.cid),
            )
        return resp.content

    def get_dag(self, cid: str | CidInfo) -> dict[bytes, bytes]:
        """The whole DAG under ``cid`` in one ``?format=car`` request, every block checked against its CID (a
        gate, or a proxy in front of Kubo, judges the request by its root alone).

        Returns:
            Multihash -> block bytes.

        Raises:
            UnknownCidError: If the gateway answers 404.
            GatewayRefusedError: If the gateway answers 403.
            BlockIntegrityError: If a block does not hash to its CID.
            InputError: If the CAR is malformed or has another root.
            StoreUnavailableError: If the gateway cannot be reached or fails.
        """
        info = cid if isinstance(cid, CidInfo) else parse_cid(cid)
        reader = CarReader(io.BytesIO(self._fetch(info, "car", CAR_TYPE)), self.source)
        if [r.multihash for r in reader.roots] != [info.multihash]:
            raise InputError(
                _("{source} answered a CAR of another root for {cid}").format(
                    source=self.source, cid=info.cid
                )
            )
        return {block.multihash: data for block, data in reader}

    def fetch(self, cid: str, store: EmbeddedStore, *, pin: bool = True) -> FetchResult:
        """Copy the DAG under ``cid`` into ``store``, verifying every block.

        Blocks already held intact locally are not fetched again; a corrupted local block is fetched and
        replaced (this is how a store repairs itself from another institution's gateway). If any block is missing upstream or fails
        verification, the blocks this fetch wrote are removed again and the error is raised.

        Args:
            cid: The root CID.
            store: The local store.
            pin: Pin the root once the whole DAG is in.

        Returns:
            Counts of fetched and already-present blocks.

        Raises:
            BlockIntegrityError: Naming the first block that did not match its CID.
            UnknownCidError: If the gateway does not have a block.
            StoreUnavailableError: If the gateway cannot be reached.
        """
        root = parse_cid(cid)
        counts = {"fetched": 0, "bytes": 0, "present": 0}

        def get(info: CidInfo) -> bytes:
            local = _intact_local(store, info)
            if local is not None:
                counts["present"] += 1
                return local
            data = self.get_block(info)
            counts["fetched"] += 1
            counts["bytes"] += len(data)
            return data

        # Blocks already intact on disk pass through add_blocks untouched (put() finds them and skips).
        store.add_blocks(walk_dag(root, get), source=self.source, pin=root if pin else None)
        return FetchResult(root.cid, counts["fetched"], counts["bytes"], counts["present"])


def _intact_local(store: EmbeddedStore, info: CidInfo) -> bytes | None:
    """The local copy of a block, or None when it is missing or corrupted (then the fetch replaces it)."""
    if not store.blocks.has(info):
        return None
    try:
        return store.blocks.get(info)
    except BlockIntegrityError:
        return None


def refusal(resp: requests.Response) -> str:
    """The one-line reason of a gateway's 403."""
    text = resp.text.strip().splitlines()
    return text[0][:300] if text else "forbidden"


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        for marker in ("Connection refused", "Name or service not known", "No route to host"):
            if marker in text:
                return marker.lower()
        return "connection failed"
    return type(exc).__name__
