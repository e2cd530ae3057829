"""``client.residents``: registration (by the resident's transaction, or relayed with an EIP-712 signature so
the resident pays no gas) and the basic information (基本信息), sealed for the resident and the family doctor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import CODEC_RAW, ResidentStatus
from famchain.crypto import typed_data
from famchain.crypto.keywrap import public_key_from_private
from famchain.errors import InputError
from famchain.i18n import _
from famchain.records import profile as profiles
from famchain.services._base import Service
from famchain.services.results import TxInfo
from famchain.storage.cid import cid_from_digest
from famchain.types import Cid, RecordId

DEFAULT_SIGNATURE_TTL = 86_400


@dataclass(frozen=True)
class Registration:
    """A registration or profile update: the resident and where their sealed basic information is."""

    resident: str
    profile_cid: Cid
    tx: TxInfo


@dataclass(frozen=True)
class SignedRegistration:
    """A resident's ``Registration`` signature, for anyone to relay (``registerWithSig``)."""

    resident: str
    encryption_key: bytes
    profile: bytes
    nonce: int
    deadline: int
    signature: bytes
    profile_cid: Cid | None = None
    """Where the sealed profile is (None for a signature made elsewhere, e.g. by a browser wallet)."""


@dataclass(frozen=True)
class ResidentInfo:
    """What the chain says of a resident."""

    resident: str
    registered: bool
    encryption_key: bytes
    profile_cid: Cid | None
    family_doctor: str | None
    locked: bool = False


@dataclass(frozen=True)
class DeletionRequest:
    """A deletion request on chain: the record (None: the whole card, which locks it) and when."""

    resident: str
    record_id: RecordId | None
    requested_at: int
    tx: TxInfo | None = None


class ResidentService(Service):
    """Residents: registration and basic information."""

    def is_registered(self, resident: str) -> bool:
        """True when the resident has registered."""
        return self._client.chain.is_registered(resident)

    def register(self, profile: Mapping[str, str]) -> Registration:
        """As the resident: seal the basic information, store it, and register key and commitment.

        Raises:
            InputError: already registered, or the profile is invalid.
            StorageError: the store is unreachable (nothing is sent).
        """
        data = profiles.parse_profile(dict(profile))
        actor = self._client.actor
        if self._client.chain.is_registered(actor.address):
            raise InputError(
                _("{address} is already registered; use `resident update-profile`").format(
                    address=actor.address
                )
            )
        digest, cid = profiles.seal_profile(actor, data)
        call = self._client.chain.residents.register(public_key_from_private(actor.private_key), digest)
        return Registration(actor.address, cid, self._send(call, "register"))

    def sign_registration(
        self, profile: Mapping[str, str], *, ttl: int = DEFAULT_SIGNATURE_TTL
    ) -> SignedRegistration:
        """As the resident: seal and store the basic information and sign the registration; sends nothing."""
        data = profiles.parse_profile(dict(profile))
        actor, fc = self._client.actor, self._client.chain
        digest, cid = profiles.seal_profile(actor, data)
        key = public_key_from_private(actor.private_key)
        nonce = fc.residents.nonce(actor.address, NonceDomain.REGISTRATION)
        deadline = fc.latest_timestamp() + ttl
        message = typed_data.registration(
            resident=actor.address,
            encryption_key=key,
            profile=digest,
            nonce=nonce,
            deadline=deadline,
            chain_id=fc.chain_id,
            verifying_contract=fc.residents.address,
        )
        signature = typed_data.sign_typed_data(actor.private_key, message)
        return SignedRegistration(actor.address, key, digest, nonce, deadline, signature, cid)

    def relay_registration(self, signed: SignedRegistration) -> TxInfo:
        """As anyone (an institution, say): send a resident's signed registration and pay its gas."""
        call = self._client.chain.residents.register_with_sig(
            signed.resident,
            signed.encryption_key,
            signed.profile,
            signed.nonce,
            signed.deadline,
            signed.signature,
        )
        return self._send(call, "relay registration")

    def update_profile(self, profile: Mapping[str, str]) -> Registration:
        """As the resident: replace the basic information (sealed anew for the resident and family doctor)."""
        data = profiles.parse_profile(dict(profile))
        actor = self._client.actor
        digest, cid = profiles.seal_profile(actor, data)
        return Registration(
            actor.address,
            cid,
            self._send(self._client.chain.residents.update_profile(digest), "update profile"),
        )

    def show(self, resident: str) -> ResidentInfo:
        """The resident's registration as the chain holds it (no decryption)."""
        fc = self._client.chain
        status = fc.residents.resident_status(resident)
        digest = fc.profile_digest(resident)
        doctor = fc.family_doctor(resident)
        return ResidentInfo(
            resident,
            status.registered,
            fc.residents.encryption_key_of(resident),
            cid_from_digest(digest, CODEC_RAW) if any(digest) else None,
            doctor.doctor if doctor else None,
            status.locked,
        )

    def status(self, resident: str) -> ResidentStatus:
        """Registered, and whether the card is locked by a whole-card deletion request."""
        return self._client.chain.residents.resident_status(resident)

    def request_deletion(self, record_id: RecordId | None = None) -> DeletionRequest:
        """As the resident: ask that a record (None: every record of your card) be erased once its retention
        period is over (PIPL art. 47). Irrevocable. A whole-card request also locks the card at once: the
        agreement ends, and no grant, request, anchor, key release or emergency is accepted any more.

        Raises:
            ContractRevertError: not registered, or already requested.
        """
        fc, me = self._client.chain, self._client.address
        target = record_id if record_id is not None else RecordId.zero()
        tx = self._send(fc.residents.request_deletion(target), "request deletion")
        return DeletionRequest(me, record_id, fc.residents.deletion_requested_at(me, target), tx)

    def request_record_deletion(self, record_id: RecordId) -> list[DeletionRequest]:
        """As the resident: ask that a record and every other version of it on your card (the versions it amends
        and those amending it: an amendment carries the content forward) be erased once their retention periods
        are over (PIPL art. 47). One transaction per version not yet requested; from the first, the record is
        locked: no new grant, key release or emergency opening covers it, and only you can read it.

        Returns:
            The requests sent (empty when every version was requested already).

        Raises:
            UnknownRecordError: no such record on your card.
        """
        from famchain.records.deletion import versions
        from famchain.records.reading import find_on_card

        me = self._client.address
        _, card = find_on_card(self._client.history, record_id, me)
        fc = self._client.chain
        out = []
        for version in versions(card, record_id):
            if fc.residents.deletion_requested_at(me, version.record_id):
                continue
            out.append(self.request_deletion(version.record_id))
        return out

    def deletion_requested_at(self, resident: str, record_id: RecordId | None = None) -> int:
        """When the deletion of ``record_id`` (None: the whole card) was requested, or 0."""
        target = record_id if record_id is not None else RecordId.zero()
        return self._client.chain.residents.deletion_requested_at(resident, target)

    def read_profile(self, resident: str | None = None) -> dict[str, Any]:
        """Decrypt a resident's basic information (yours by default; a family doctor reads their patient's).

        Raises:
            InputError: not registered.
            AccessDeniedError: the reader holds no key to it or is not the active family doctor.
        """
        actor = self._client.actor
        return profiles.read_profile(actor, resident or actor.address)
