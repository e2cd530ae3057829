"""The portal's mailbox of amendments waiting for a patient's approval.

A doctor's system prepares an amendment (``client.records.prepare_update``: the new version sealed and
stored) and posts its approval request here instead of handing the patient a file. The request holds no
plaintext: the ``RecordUpdate`` typed data (ids, digests, masks). The patient sees it in the portal's inbox,
signs it in the wallet, the portal relays ``approveUpdateWithSig``, and the author's next flush anchors the new
version against the stored approval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from famchain._files import private_dir, write_private
from famchain.chain.history import record_id_of
from famchain.chain.nonces import NonceDomain
from famchain.client import Client
from famchain.errors import InputError
from famchain.i18n import _
from famchain.records.sections import section_names
from famchain.records.updates import APPROVAL_KIND
from famchain.storage.cid import cid_from_digest
from famchain.types import RecordId


@dataclass(frozen=True)
class Amendment:
    """One waiting amendment: the new version's fields and the record it amends."""

    record_id: RecordId
    previous: RecordId
    patient: str
    author: str
    salt: bytes
    cid_digest: bytes
    cid_codec: int
    sections: int
    kind: int
    nonce: int

    def params(self) -> dict[str, Any]:
        """The ``approve-update`` parameters (the relay rebuilds the message from them)."""
        return {
            "patient": self.patient,
            "author": self.author,
            "previous": self.previous.to_0x_hex(),
            "salt": "0x" + self.salt.hex(),
            "cidDigest": "0x" + self.cid_digest.hex(),
            "cidCodec": self.cid_codec,
            "sections": self.sections,
            "kind": self.kind,
        }


def parse_request(client: Client, request: Any) -> Amendment:
    """A posted approval request, checked against this deployment.

    Raises:
        InputError: not an approval request of this chain and RecordRegistry, or its record id is not the one
            its fields give.
    """
    if not isinstance(request, dict) or request.get("kind") != APPROVAL_KIND:
        raise InputError(
            _("not a record-update approval request (expected kind {approval_kind!r})").format(
                approval_kind=APPROVAL_KIND
            )
        )
    try:
        data = request["typed_data"]
        domain, m = data["domain"], data["message"]
        if data["primaryType"] != "RecordUpdate":
            raise InputError(_("an approval request carries a RecordUpdate message"))
        if int(domain["chainId"]) != client.chain_id:
            raise InputError(
                _("the approval request is for chain {domain}, not {chain_id}").format(
                    domain=domain["chainId"], chain_id=client.chain_id
                )
            )
        if str(domain["verifyingContract"]).lower() != client.chain.records.address.lower():
            raise InputError(_("the approval request is for another RecordRegistry"))
        for who in ("patient", "author"):
            if not is_address(m[who]):
                raise InputError(_("the approval request's {who} is not an address").format(who=who))
        amendment = Amendment(
            RecordId.from_hex(str(request["record"])),
            RecordId.from_hex(str(m["previous"])),
            to_checksum_address(m["patient"]),
            to_checksum_address(m["author"]),
            bytes.fromhex(str(m["salt"]).removeprefix("0x")),
            bytes.fromhex(str(m["cidDigest"]).removeprefix("0x")),
            int(m["cidCodec"]),
            int(m["sections"]),
            int(m["kind"]),
            int(m["nonce"]),
        )
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            _("the approval request is malformed ({type}: {exc})").format(type=type(exc).__name__, exc=exc)
        ) from None
    derived = record_id_of(
        amendment.patient, amendment.author, amendment.salt, amendment.cid_digest, amendment.cid_codec
    )
    if derived != amendment.record_id:
        raise InputError(_("the approval request's record id is not the one its fields give"))
    return amendment


class AmendmentBox:
    """Approval requests kept under ``folder`` (one JSON file per new version)."""

    def __init__(self, client: Client, folder: Path) -> None:
        self._client = client
        self.folder = folder

    def post(self, request: Any) -> Amendment:
        """Keep a doctor's approval request for its patient (checked first; the same request twice is kept once).

        Raises:
            InputError: malformed, for another deployment, the amended record is not on the patient's card, or
                the new version is not in the store.
        """
        amendment = parse_request(self._client, request)
        history = self._client.history
        if history.anchors(amendment.patient, [amendment.previous]).get(amendment.previous) is None:
            raise InputError(
                _("record {previous} is not on the card of {patient}").format(
                    previous=amendment.previous, patient=amendment.patient
                )
            )
        store = self._client.store
        if store is not None and not store.has(cid_from_digest(amendment.cid_digest, amendment.cid_codec)):
            raise InputError(_("the new version is not in the store: store it first (prepare_update does)"))
        private_dir(self.folder)
        write_private(self.folder / f"{amendment.record_id.to_0x_hex()}.json", json.dumps(request).encode())
        return amendment

    def waiting(self, patient: str) -> list[dict[str, Any]]:
        """The patient's amendments still waiting: not anchored, not approved on chain, not refused."""
        client = self._client
        out = []
        for path in sorted(self.folder.glob("0x*.json")) if self.folder.is_dir() else []:
            try:
                amendment = parse_request(client, json.loads(path.read_text(encoding="utf-8")))
            except (InputError, OSError, json.JSONDecodeError):
                continue
            if amendment.patient.lower() != patient.lower():
                continue
            records = client.chain.records
            approved = records.approval_of(amendment.patient, amendment.record_id, amendment.previous)
            current = records.nonce(amendment.patient, NonceDomain.UPDATE, bytes(amendment.previous))
            if approved.deadline or current != amendment.nonce:
                continue  # approved, refused, or replaced since
            if client.history.anchors(amendment.patient, [amendment.record_id]):
                continue
            previous = client.history.anchors(amendment.patient, [amendment.previous])[amendment.previous]
            before, after = set(section_names(previous.sections)), set(section_names(amendment.sections))
            out.append(
                {
                    "record": amendment.record_id.to_0x_hex(),
                    "previous": amendment.previous.to_0x_hex(),
                    "author": amendment.author,
                    "previousAnchoredAt": previous.anchored_at,
                    "added": sorted(after - before),
                    "removed": sorted(before - after),
                    "kept": sorted(after & before),
                    "cid": str(cid_from_digest(amendment.cid_digest, amendment.cid_codec)),
                    "previousCid": str(previous.cid),
                    "salt": "0x" + amendment.salt.hex(),
                    "previousSalt": "0x" + previous.salt.hex(),
                    "previousAuthor": previous.author,
                    "params": amendment.params(),
                }
            )
        return out


def default_folder(client: Client) -> Path:
    """Where a portal relaying as ``client`` keeps amendment requests: under its home, per deployment."""
    if client.home is None:
        raise InputError(_("the portal's client needs a home folder"))
    return client.home / "portal" / "amendments" / f"{client.chain_id}-{client.chain.records.address}"
