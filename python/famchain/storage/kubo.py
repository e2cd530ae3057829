"""A :class:`~famchain.storage.api.ContentStore` over the Kubo RPC API (``/api/v0``), with plain ``requests``.

Works against a Kubo node and against famchain's own :class:`~famchain.storage.gateway.GatewayServer`, which
speaks the same subset. Adds use ``cid-version=1`` (which implies raw leaves), so CIDs equal the embedded
store's. Reads go block by block through ``block/get`` and every block is checked against its CID: a node
that returns altered bytes raises :class:`~famchain.errors.BlockIntegrityError`.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from hashlib import sha256
from typing import IO, Any, BinaryIO, Final, cast

import requests

from famchain.errors import (
    BlockIntegrityError,
    InputError,
    NotPinnedError,
    StorageError,
    StoreUnavailableError,
    UnknownCidError,
)
from famchain.i18n import _
from famchain.storage.api import Progress
from famchain.storage.blockstore import GcResult
from famchain.storage.car import CarReader, iter_car
from famchain.storage.cid import CidInfo, parse_cid
from famchain.storage.unixfs import iter_file
from famchain.types import Cid

DEFAULT_TIMEOUT: Final = (3.05, 120.0)
_NOT_FOUND_MARKERS: Final = ("not found", "could not find", "no link named", "is not in the store")


class _MultipartBody:
    """A ``multipart/form-data`` body with one file part, streamed from a file object with a known size.

    ``requests`` sends a file-like body with a ``Content-Length`` taken from ``len()``, reading it in
    pieces, so gigabyte files go out without being loaded into memory.
    """

    def __init__(self, payload: IO[bytes], size: int, filename: str = "file") -> None:
        self._pos = 0
        self.boundary = uuid.uuid4().hex
        head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._parts: list[IO[bytes]] = [io.BytesIO(head), payload, io.BytesIO(tail)]
        self._len = len(head) + size + len(tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._len

    def tell(self) -> int:
        # requests sizes the body as len() - tell(); see requests.utils.super_len.
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        want = (1 << 62) if n is None or n < 0 else n
        out = bytearray()
        while self._parts and len(out) < want:
            piece = self._parts[0].read(min(want - len(out), 1 << 20))
            if piece:
                out += piece
            else:
                self._parts.pop(0)
        self._pos += len(out)
        return bytes(out)


def _seekable_size(stream: BinaryIO) -> int | None:
    try:
        if not stream.seekable():
            return None
        pos = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(pos)
        return end - pos
    except (OSError, ValueError, AttributeError):
        return None


class _Counting:
    def __init__(self, stream: IO[bytes], progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if data:
            self._progress(len(data))
        return data


class KuboStore:
    """Content store backed by a Kubo node's RPC API (or a famchain gateway's RPC subset).

    Args:
        api_url: RPC base URL, e.g. ``http://127.0.0.1:5001``.
        timeout: ``(connect, read)`` seconds, or one number for both.
        session: A ``requests.Session`` to reuse.
    """

    backend = "kubo"

    def __init__(
        self,
        api_url: str,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    @property
    def location(self) -> str:
        """The RPC URL."""
        return self.api_url

    # --- transport --------------------------------------------------------------------------------------

    def _post(
        self,
        command: str,
        params: dict[str, Any] | None = None,
        body: _MultipartBody | None = None,
        *,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
    ) -> requests.Response:
        headers = {"Content-Type": body.content_type} if body is not None else {}
        try:
            resp = self._session.post(
                f"{self.api_url}/api/v0/{command}",
                params=params,
                data=body,
                headers=headers,
                stream=stream,
                timeout=timeout or self.timeout,
            )
        except requests.Timeout:
            raise StoreUnavailableError(
                self.api_url, _("{command} timed out").format(command=command)
            ) from None
        except requests.ConnectionError as exc:
            raise StoreUnavailableError(self.api_url, _connection_reason(exc)) from None
        except requests.RequestException as exc:
            # The store went away while answering (a truncated chunked body, say): unavailable, not a bug.
            raise StoreUnavailableError(
                self.api_url,
                _("the connection broke during {command} ({type})").format(
                    command=command, type=type(exc).__name__
                ),
            ) from None
        if resp.status_code != 200:
            self._raise(resp, command, params)
        return resp

    def _raise(self, resp: requests.Response, command: str, params: dict[str, Any] | None) -> None:
        try:
            message = str(resp.json().get("Message", "")) or resp.reason
        except ValueError:
            message = resp.text.strip()[:200] or resp.reason
        arg = str((params or {}).get("arg", ""))
        lowered = message.lower()
        if resp.status_code == 404 and not message:
            raise StoreUnavailableError(self.api_url, _("no RPC command {command!r}").format(command=command))
        if arg and any(m in lowered for m in _NOT_FOUND_MARKERS):
            raise UnknownCidError(arg)
        if command == "pin/rm" and "not pinned" in lowered:
            raise NotPinnedError(arg)
        if resp.status_code == 400 or "invalid" in lowered:
            raise InputError(_("{command}: {message}").format(command=command, message=message))
        raise StorageError(
            _("Kubo RPC {command} failed (HTTP {status_code}): {message}").format(
                command=command, status_code=resp.status_code, message=message
            )
        )

    def _upload(self, data: bytes | BinaryIO, progress: Progress | None) -> _MultipartBody:
        if isinstance(data, bytes | bytearray):
            if progress is not None:
                progress(len(data))
            return _MultipartBody(io.BytesIO(data), len(data))
        size = _seekable_size(data)
        if size is None:
            # Unknown length: spool to a temporary file so the request can carry a Content-Length.
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the response
            while piece := data.read(1 << 20):
                spool.write(piece)
            size = spool.tell()
            spool.seek(0)
            data = spool
        stream: IO[bytes] = _Counting(data, progress) if progress is not None else data  # type: ignore[assignment]
        return _MultipartBody(stream, size)

    # --- ContentStore -----------------------------------------------------------------------------------

    def put(
        self,
        data: bytes | BinaryIO,
        *,
        pin: bool = True,
        only_hash: bool = False,
        progress: Progress | None = None,
    ) -> Cid:
        """Add a file with ``cid-version=1`` and raw leaves; see :meth:`ContentStore.put`."""
        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "pin": str(pin).lower(),
            "only-hash": str(only_hash).lower(),
            "progress": "false",
            "quieter": "true",
        }
        resp = self._post("add", params, self._upload(data, progress))
        lines = [line for line in resp.text.splitlines() if line.strip()]
        try:
            last = json.loads(lines[-1])
            return parse_cid(last["Hash"]).cid
        except (IndexError, KeyError, ValueError, TypeError) as exc:
            raise StorageError(
                _("Kubo RPC add returned an unexpected answer: {exc}").format(exc=exc)
            ) from None

    def get_block(self, cid: str | Cid | CidInfo) -> bytes:
        """Fetch one block with ``block/get`` and check it against its CID.

        Raises:
            UnknownCidError: If the node does not have it.
            BlockIntegrityError: If the returned bytes do not hash to ``cid``.
        """
        info = cid if isinstance(cid, CidInfo) else parse_cid(cid)
        resp = self._post("block/get", {"arg": info.cid})
        if sha256(resp.content).digest() != info.digest:
            raise BlockIntegrityError(info.cid, _("Kubo RPC {api_url}").format(api_url=self.api_url))
        return resp.content

    def get(self, cid: str | Cid) -> bytes:
        """The whole file, each block verified."""
        return b"".join(self.stream(cid))

    def stream(self, cid: str | Cid) -> Iterator[bytes]:
        """Yield the file block by block, each verified."""
        return iter_file(parse_cid(cid), self.get_block)

    def pin(self, cid: str | Cid) -> None:
        """``pin/add`` (recursive)."""
        self._post("pin/add", {"arg": parse_cid(cid).cid, "recursive": "true"})

    def unpin(self, cid: str | Cid) -> None:
        """``pin/rm``; ``NotPinnedError`` if there was no pin."""
        self._post("pin/rm", {"arg": parse_cid(cid).cid})

    def pins(self) -> list[Cid]:
        """``pin/ls --type=recursive``, as canonical CIDv1 strings."""
        resp = self._post("pin/ls", {"type": "recursive"})
        keys = resp.json().get("Keys") or {}
        return sorted(parse_cid(k).cid for k in keys)

    def has(self, cid: str | Cid) -> bool:
        """``block/stat`` without network lookups."""
        try:
            self._post("block/stat", {"arg": parse_cid(cid).cid, "offline": "true"})
        except UnknownCidError:
            return False
        return True

    def gc(self) -> GcResult:
        """``repo/gc``: the node deletes every block no pin reaches. Kubo reports the removed blocks, not their
        sizes nor what it kept (both 0 here)."""
        resp = self._post("repo/gc", {"quiet": "true"}, timeout=(self._connect_timeout(), 600.0))
        removed = 0
        for line in resp.text.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise StorageError(
                    _("Kubo RPC repo/gc returned an unexpected answer: {line!r}").format(line=line[:80])
                ) from None
            if isinstance(entry, dict) and entry.get("Error"):
                raise StorageError(_("Kubo RPC repo/gc failed: {entry}").format(entry=entry["Error"]))
            removed += 1
        return GcResult(removed, 0, 0)

    def export_car(self, cid: str | Cid, out: BinaryIO) -> None:
        """``dag/export``, re-checking every block before writing it to ``out``."""
        info = parse_cid(cid)
        resp = self._post("dag/export", {"arg": info.cid}, stream=True)
        with resp:
            resp.raw.decode_content = True
            reader = CarReader(cast(BinaryIO, resp.raw), f"Kubo RPC {self.api_url}")
            for piece in iter_car(reader.roots, reader):
                out.write(piece)

    def import_car(self, inp: BinaryIO, *, pin: bool = True) -> list[Cid]:
        """``dag/import`` of a CAR stream; returns its roots."""
        resp = self._post("dag/import", {"pin-roots": str(pin).lower()}, self._upload(inp, None))
        roots = []
        for line in resp.text.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line).get("Root")
            if entry:
                if entry.get("PinErrorMsg"):
                    raise StorageError(
                        _("Kubo could not pin a CAR root: {entry}").format(entry=entry["PinErrorMsg"])
                    )
                roots.append(parse_cid(entry["Cid"]["/"]).cid)
        return roots

    def healthy(self) -> bool:
        """True if ``version`` answers within the connect timeout."""
        try:
            self._post("version", timeout=(self._connect_timeout(), 5.0))
        except StorageError:
            return False
        return True

    def status(self) -> dict[str, Any]:
        """Backend, URL and the node's version (or why it is unreachable)."""
        out: dict[str, Any] = {"backend": self.backend, "location": self.api_url}
        try:
            version = self._post("version", timeout=(self._connect_timeout(), 5.0)).json()
            out.update(healthy=True, version=version.get("Version"))
        except StorageError as exc:
            out.update(healthy=False, error=str(exc))
        return out

    def _connect_timeout(self) -> float:
        return self.timeout[0] if isinstance(self.timeout, tuple) else self.timeout


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "Connection reset"):
        if marker in text:
            return marker.lower()
    return "connection failed"
