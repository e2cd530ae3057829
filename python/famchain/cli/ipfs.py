"""`famchain ipfs`: add, read, pin and move content in the embedded store or on a Kubo node."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from famchain.cli._context import DeploymentFile, RpcUrl, Session, chain_command, settings
from famchain.errors import ConfigError, FamchainError, InputError, StorageError
from famchain.i18n import N_, _
from famchain.settings import DEFAULT_RPC
from famchain.storage.api import ContentStore
from famchain.storage.cid import normalize_cid
from famchain.storage.config import open_store
from famchain.storage.embedded import EmbeddedStore

if TYPE_CHECKING:
    from famchain.records.erasure import ErasureFollower, PurgeReport
    from famchain.storage.access import AccessGate

app = typer.Typer(
    help="Content storage: Kubo-identical CIDs, pins, CAR files, a trustless gateway.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_PROGRESS_MIN = 8 << 20

StoreDir = Annotated[
    Path | None,
    typer.Option(
        "--store-dir",
        envvar="FAMCHAIN_IPFS_DIR",
        show_default=False,
        help="Embedded store directory [default: ~/.famchain/ipfs].",
    ),
]
Backend = Annotated[
    str | None,
    typer.Option(
        "--backend", envvar="FAMCHAIN_IPFS_BACKEND", show_default=False, help="embedded (default) or kubo."
    ),
]
ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api",
        envvar="FAMCHAIN_IPFS_API",
        show_default=False,
        help="Kubo RPC URL for --backend kubo [default: http://127.0.0.1:5001].",
    ),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _folder_backend(backend: str | None) -> str | None:
    """``embedded`` when the command line names a store folder (``--store-dir``) and no backend: a folder is an
    embedded store, whatever ``FAMCHAIN_IPFS_BACKEND`` says (``devnet up``'s exports point it at a Kubo RPC)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return backend
    given = click.core.ParameterSource.COMMANDLINE
    if ctx.get_parameter_source("store_dir") is given and ctx.get_parameter_source("backend") is not given:
        return "embedded"
    return backend


def _store(store_dir: Path | None, backend: str | None, api: str | None) -> ContentStore:
    backend = _folder_backend(backend)
    return open_store(settings(store_backend=backend, store_dir=store_dir, store_api=api).store.config())


def _embedded(store_dir: Path | None, backend: str | None, command: str) -> EmbeddedStore:
    """The embedded store a folder command works on.

    A store folder given on the command line means the embedded store, whatever ``FAMCHAIN_IPFS_BACKEND`` says
    (a shell where ``devnet up``'s exports point clients at a Kubo RPC can still serve or check a folder);
    only ``--backend kubo`` on the command line, or a Kubo backend with no folder named, is refused.
    """
    backend = _folder_backend(backend)
    config = settings(store_backend=backend, store_dir=store_dir).store.config()
    if config.backend != "embedded":
        raise ConfigError(
            _(
                "`famchain ipfs {command}` works on an embedded store folder only (backend is {backend}): "
                "name the folder with --store-dir"
            ).format(command=command, backend=config.backend)
        )
    return EmbeddedStore(config.root)


STATUS_LABELS = {
    "backend": N_("backend"),
    "location": N_("location"),
    "healthy": N_("healthy"),
    "blocks": N_("blocks"),
    "bytes": N_("bytes"),
    "pins": N_("pins"),
    "version": N_("version"),
    "error": N_("error"),
}
"""The fields of `famchain ipfs status` as people read them (``--json`` keeps the keys)."""


def _human(value: object) -> str:
    """A status value for people: yes/no, ``none``; never Python's ``True``/``None``."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return _("none") if value is None else str(value)


def _emit(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, indent=None) if as_json else text)


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Any]:
    if total is None or total < _PROGRESS_MIN:
        yield None
        return
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _open_input(path: Path) -> Any:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)
        ) from None


@contextlib.contextmanager
def _atomic_output(output: Path) -> Iterator[BinaryIO]:
    """A file that appears at OUTPUT only once complete (written beside it, renamed on success)."""
    tmp = output.with_name(f".{output.name}.part")
    try:
        try:
            fh = open(tmp, "wb")  # noqa: SIM115 - closed below, before the rename
        except OSError as exc:
            raise InputError(
                _("cannot write {path}: {reason}").format(path=output, reason=exc.strerror or exc)
            ) from None
        with fh:
            yield fh
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


@app.command()
def add(
    file: Annotated[Path, typer.Argument(help="File to add ('-' for stdin).", allow_dash=True)],
    only_hash: Annotated[
        bool, typer.Option("--only-hash", "-n", help="Compute the CID, store nothing.")
    ] = False,
    pin: Annotated[bool, typer.Option("--pin/--no-pin", help="Pin the added content.")] = True,
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
    as_json: JsonOut = False,
) -> None:
    """Add a file and print its CID (identical to `ipfs add --cid-version=1`)."""
    store = _store(store_dir, backend, api)
    if str(file) == "-":
        cid = store.put(sys.stdin.buffer, pin=pin, only_hash=only_hash)
        size = None
    else:
        size = file.stat().st_size if file.is_file() else None
        with _open_input(file) as fh, _progress(size, _("adding {name}").format(name=file.name)) as advance:
            cid = store.put(fh, pin=pin and not only_hash, only_hash=only_hash, progress=advance)
    _emit({"cid": cid, "size": size, "pinned": pin and not only_hash}, as_json, cid)


@app.command()
def get(
    cid: Annotated[str, typer.Argument(help="CID of the file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the file.")],
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
) -> None:
    """Write a stored file to OUTPUT, verifying every block (nothing is left behind on failure)."""
    store = _store(store_dir, backend, api)
    with _atomic_output(output) as fh:
        for piece in store.stream(normalize_cid(cid)):
            fh.write(piece)


@app.command("pin")
def pin_cmd(
    cid: Annotated[str, typer.Argument(help="Root CID to pin recursively.")],
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
) -> None:
    """Pin a DAG recursively so gc keeps it."""
    normalized = normalize_cid(cid)
    _store(store_dir, backend, api).pin(normalized)
    typer.echo(_("pinned {cid}").format(cid=normalized))


@app.command()
def unpin(
    cid: Annotated[str, typer.Argument(help="Root CID to unpin.")],
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
) -> None:
    """Remove a recursive pin (the blocks go at the next gc)."""
    normalized = normalize_cid(cid)
    _store(store_dir, backend, api).unpin(normalized)
    typer.echo(_("unpinned {cid}").format(cid=normalized))


@app.command("ls")
def ls_cmd(
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
    as_json: JsonOut = False,
) -> None:
    """List the pinned roots."""
    pins = _store(store_dir, backend, api).pins()
    if as_json:
        typer.echo(json.dumps(pins))
    else:
        for cid in pins:
            typer.echo(cid)


@app.command()
def gc(store_dir: StoreDir = None, backend: Backend = None, as_json: JsonOut = False) -> None:
    """Delete every block no pin reaches (embedded store)."""
    result = _embedded(store_dir, backend, "gc").gc()
    data = {
        "removed": result.removed_blocks,
        "freed_bytes": result.freed_bytes,
        "kept": result.kept_blocks,
    }
    _emit(
        data,
        as_json,
        _("removed {removed} blocks ({bytes} bytes), kept {kept}").format(
            removed=result.removed_blocks, bytes=result.freed_bytes, kept=result.kept_blocks
        ),
    )


@app.command()
def verify(store_dir: StoreDir = None, backend: Backend = None, as_json: JsonOut = False) -> None:
    """Re-hash every stored block; exit 1 if any is corrupted (embedded store)."""
    store = _embedded(store_dir, backend, "verify")
    bad = store.verify()
    count, _size = store.blocks.count()
    if as_json:
        typer.echo(json.dumps({"blocks": count, "bad": [{"key": b.key, "path": str(b.path)} for b in bad]}))
    else:
        for block in bad:
            typer.echo(_("corrupted {key} ({path})").format(key=block.key, path=block.path))
        typer.echo(_("{count} blocks checked, {bad} corrupted").format(count=count, bad=len(bad)))
    if bad:
        raise typer.Exit(1)


@app.command("export-car")
def export_car(
    cid: Annotated[str, typer.Argument(help="Root CID.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CAR file to write.")],
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
) -> None:
    """Write the DAG under CID as a CARv1 file."""
    store = _store(store_dir, backend, api)
    with _atomic_output(output) as fh:
        store.export_car(normalize_cid(cid), fh)
    typer.echo(str(output))


@app.command("import-car")
def import_car(
    file: Annotated[Path, typer.Argument(help="CARv1 file.")],
    pin: Annotated[bool, typer.Option("--pin/--no-pin", help="Pin the CAR's roots.")] = True,
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
    as_json: JsonOut = False,
) -> None:
    """Import every block of a CAR file (each verified) and pin its roots."""
    store = _store(store_dir, backend, api)
    with _open_input(file) as fh:
        roots = store.import_car(fh, pin=pin)
    if as_json:
        typer.echo(json.dumps(roots))
    else:
        for root in roots:
            typer.echo(root)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 0,
    rpc: Annotated[
        bool, typer.Option("--rpc/--no-rpc", help="Also serve the unauthenticated Kubo RPC subset (writes).")
    ] = True,
    follow_erasures: Annotated[
        bool,
        typer.Option(
            "--follow-erasures",
            help="Delete the sealed bytes of each record erased on chain (RecordErased) as the events arrive.",
        ),
    ] = False,
    rpc_url: RpcUrl = DEFAULT_RPC,
    deployment: DeploymentFile = None,
    poll_seconds: Annotated[
        float,
        typer.Option("--poll-seconds", help="With --follow-erasures: seconds between chain reads.", min=0.1),
    ] = 5.0,
    gated: Annotated[
        bool,
        typer.Option(
            "--gated",
            help="Serve /ipfs/ only to signed requests from accounts the chain lets read the block now "
            "(patient, author, family doctor, grantee, guardian, emergency physician; member institutions "
            "for replication). Reads the chain at --rpc-url.",
        ),
    ] = False,
    public_url: Annotated[
        list[str] | None,
        typer.Option(
            "--public-url",
            help="With --gated: a URL clients reach this gateway at (repeatable); tokens must name one.",
        ),
    ] = None,
    member_replication: Annotated[
        bool,
        typer.Option(
            "--member-replication/--no-member-replication",
            help="With --gated: let active member institutions fetch everything (pinning, replication).",
        ),
    ] = True,
    recheck_seconds: Annotated[
        float,
        typer.Option(
            "--recheck-seconds",
            help="With --gated: how long a chain answer about an account is reused.",
            min=0,
        ),
    ] = 1.0,
    store_dir: StoreDir = None,
    backend: Backend = None,
) -> None:
    """Serve the store: trustless gateway (/ipfs/CID) and a Kubo RPC subset (/api/v0). Prints the URL."""
    from famchain.storage.gateway import GatewayServer

    store = _embedded(store_dir, backend, "serve")
    if gated and rpc and host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            _(
                "the Kubo RPC subset has no authentication: add --no-rpc to serve a gated gateway on {host}"
            ).format(host=host)
        )
    follower = _follower(rpc_url, deployment, store) if follow_erasures else None
    gate = (
        _gate(rpc_url, deployment, store, public_url or [], member_replication, recheck_seconds)
        if gated
        else None
    )
    try:
        server = GatewayServer(store, host=host, port=port, rpc=rpc, gate=gate)
    except OSError as exc:
        raise StorageError(
            _("cannot listen on {address}: {reason}").format(
                address=f"{host}:{port}", reason=exc.strerror or exc
            )
        ) from None

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    typer.echo(server.url)
    sys.stdout.flush()
    stopping = threading.Event()
    if follower is not None:
        threading.Thread(target=_follow, args=(follower, poll_seconds, stopping), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        server.stop()


def _gate(
    rpc_url: str,
    deployment: Path | None,
    store: EmbeddedStore,
    public_urls: list[str],
    member_replication: bool,
    recheck_seconds: float,
) -> AccessGate:
    """The access gate of ``serve --gated``: the chain is read now, so a wrong RPC URL or deployment fails at
    once."""
    from famchain.cli._context import Session
    from famchain.records.gatekeeping import ChainGuard
    from famchain.storage.access import AccessGate

    session = Session(settings(rpc_url=rpc_url, deployment_file=deployment))
    guard = ChainGuard(
        session.fc, store=store, members_replicate=member_replication, recheck_seconds=recheck_seconds
    )
    guard.refresh()
    return AccessGate(guard, public_urls)


def _follower(rpc_url: str, deployment: Path | None, store: ContentStore) -> ErasureFollower:
    """The erasure follower of ``serve``: the chain is read now, so a wrong RPC URL or deployment fails at once."""
    from famchain.cli._context import Session

    session = Session(settings(rpc_url=rpc_url, deployment_file=deployment))
    return session.reader.records.erasure_follower(store)


def _follow(follower: ErasureFollower, poll_seconds: float, stopping: threading.Event) -> None:
    """Purge erased records until ``stopping`` is set; a failure is reported and retried at the next poll."""
    while not stopping.is_set():
        try:
            report = follower.sync()
        except FamchainError as exc:
            typer.echo(_("warning: erasures not followed this time: {error}").format(error=exc), err=True)
        else:
            _report_purge(report)
        stopping.wait(poll_seconds)


def _report_purge(report: PurgeReport) -> None:
    for purged in report.deleted:
        typer.echo(
            _("erased record {record}: deleted {cid}").format(
                record=purged.record.record_id, cid=purged.record.cid
            ),
            err=True,
        )
    for purged in report.still_held:
        typer.echo(
            _("warning: erased record {record} is still held ({cid} is pinned under another root)").format(
                record=purged.record.record_id, cid=purged.record.cid
            ),
            err=True,
        )


@chain_command(app, "sync-erasures")
def sync_erasures(
    s: Session,
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
    as_json: JsonOut = False,
) -> None:
    """Delete from this store the sealed bytes of every record erased on chain (unpin, then garbage-collect).
    Idempotent: run it after each erasure, or from cron next to a Kubo node."""
    store = _store(store_dir, backend, api)
    report = s.reader.records.purge_erased(store)
    _report_purge(report)
    _emit(
        report.to_json(),
        as_json,
        (
            _("{checked} erased record(s) on chain; deleted {deleted} from this store; {held} still held")
            if report.still_held
            else _("{checked} erased record(s) on chain; deleted {deleted} from this store")
        ).format(checked=report.checked, deleted=len(report.deleted), held=len(report.still_held)),
    )
    if report.still_held:
        raise typer.Exit(1)


@app.command()
def fetch(
    cid: Annotated[str, typer.Argument(help="Root CID to fetch.")],
    source: Annotated[str, typer.Option("--from", help="Gateway URL (a famchain store or a Kubo gateway).")],
    pin: Annotated[bool, typer.Option("--pin/--no-pin", help="Pin once complete.")] = True,
    keystore: Annotated[
        str | None,
        typer.Option(
            "--keystore",
            help="Sign the requests with this account (a gated gateway serves member institutions and "
            "entitled readers only).",
        ),
    ] = None,
    store_dir: StoreDir = None,
    backend: Backend = None,
    as_json: JsonOut = False,
) -> None:
    """Pull a DAG from another gateway into the local store, verifying every block."""
    from famchain.cli._context import unlock
    from famchain.storage.access import AccessSigner
    from famchain.storage.gateway import GatewayFetcher

    store = _embedded(store_dir, backend, "fetch")
    signer = AccessSigner(bytes(unlock(settings(), keystore).key)) if keystore else None
    result = GatewayFetcher(source, signer=signer).fetch(normalize_cid(cid), store, pin=pin)
    data = {
        "cid": result.root,
        "blocks_fetched": result.blocks_fetched,
        "bytes_fetched": result.bytes_fetched,
        "blocks_present": result.blocks_present,
    }
    _emit(
        data,
        as_json,
        _("fetched {root}: {blocks} blocks ({bytes} bytes)").format(
            root=result.root, blocks=result.blocks_fetched, bytes=result.bytes_fetched
        ),
    )


@app.command()
def status(
    store_dir: StoreDir = None,
    backend: Backend = None,
    api: ApiUrl = None,
    as_json: JsonOut = False,
) -> None:
    """Show the configured store and whether it answers; exit 1 if it does not."""
    info = _store(store_dir, backend, api).status()
    _emit(
        info,
        as_json,
        "\n".join(
            _("{key}: {value}").format(key=_(STATUS_LABELS[k]) if k in STATUS_LABELS else k, value=_human(v))
            for k, v in info.items()
        ),
    )
    if not info.get("healthy"):
        raise typer.Exit(1)
