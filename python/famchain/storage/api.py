"""The one content-store interface every backend implements (embedded block store, Kubo RPC)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from famchain.types import Cid

if TYPE_CHECKING:
    from famchain.storage.blockstore import GcResult

Progress = Callable[[int], None]
"""Called with the number of bytes just consumed."""


@runtime_checkable
class ContentStore(Protocol):
    """Stores files as UnixFS DAGs named by Kubo-identical CIDv1s; every read is verified against its CID."""

    def put(
        self,
        data: bytes | BinaryIO,
        *,
        pin: bool = True,
        only_hash: bool = False,
        progress: Progress | None = None,
    ) -> Cid:
        """Add a file (bytes or a binary stream, read to its end) and return its CID.

        Args:
            data: The file contents.
            pin: Pin the root recursively.
            only_hash: Compute the CID without storing anything.
            progress: Called with each chunk's size while reading.

        Returns:
            The CIDv1 ``ipfs add --cid-version=1`` gives for the same bytes.
        """
        ...

    def get(self, cid: str | Cid) -> bytes:
        """Return the whole file, every block verified."""
        ...

    def stream(self, cid: str | Cid) -> Iterator[bytes]:
        """Yield the file's bytes block by block, each verified before it is yielded."""
        ...

    def pin(self, cid: str | Cid) -> None:
        """Pin a DAG recursively."""
        ...

    def unpin(self, cid: str | Cid) -> None:
        """Remove a recursive pin."""
        ...

    def pins(self) -> list[Cid]:
        """The recursively pinned roots."""
        ...

    def has(self, cid: str | Cid) -> bool:
        """Whether the store holds the block named ``cid``."""
        ...

    def gc(self) -> GcResult:
        """Delete every block no pin reaches (how an unpinned record's bytes leave the store)."""
        ...

    def export_car(self, cid: str | Cid, out: BinaryIO) -> None:
        """Write the DAG under ``cid`` as a CARv1 with ``cid`` as its root."""
        ...

    def import_car(self, inp: BinaryIO, *, pin: bool = True) -> list[Cid]:
        """Store every (verified) block of a CARv1, pin its roots, and return them."""
        ...

    def healthy(self) -> bool:
        """Whether the store answers."""
        ...

    def status(self) -> dict[str, Any]:
        """Backend name, location and basic figures, for ``--json`` output."""
        ...
