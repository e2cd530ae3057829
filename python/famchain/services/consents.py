"""``client.consents``: who may read or append which sections of a patient's records, why, until when.

A grant by the patient's transaction, or an EIP-712 signature that anyone relays; granting re-wraps the keys
of the existing covered records for the grantee (announced on chain). Revocation takes effect on the next
check, and a revoked grantee is wrapped into no new record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from famchain.chain.structs import Grant, Request
from famchain.records import sharing
from famchain.records.sections import Action, Purpose
from famchain.records.sharing import ConsentSummary, Relayed, Release
from famchain.services._base import Service
from famchain.services.results import TxInfo


@dataclass(frozen=True)
class Granted:
    """A consent just granted, and the key release of the existing records it covers (if any)."""

    grantee: str
    sections: int
    actions: int
    purpose: Purpose
    expires_at: int
    release: Release | None


class ConsentService(Service):
    """Consents, from the patient's side (grant, sign, revoke) and the grantee's (request, relay)."""

    def grant(
        self,
        grantee: str,
        sections: int,
        *,
        actions: int = Action.READ,
        purpose: Purpose = Purpose.TREATMENT,
        expires_at: int,
    ) -> Granted:
        """As the patient: grant consent, then re-wrap the keys of the existing covered records for the grantee.

        Raises:
            ContractRevertError: the chain refuses the grant (not a practitioner, expiry in the past, ...).
            StorageError: the store is unreachable (nothing is sent).
        """
        release = sharing.grant(self._client.actor, grantee, sections, actions, purpose, expires_at)
        return Granted(grantee, sections, actions, purpose, expires_at, release)

    def sign(
        self,
        grantee: str,
        sections: int,
        *,
        actions: int = Action.READ,
        purpose: Purpose = Purpose.TREATMENT,
        expires_at: int,
        ttl: int = sharing.DEFAULT_SIGNATURE_TTL,
    ) -> dict[str, Any]:
        """As the patient: sign a consent and its key release for anyone to relay; sends nothing.

        Returns:
            The signed consent document (JSON): give it to the grantee or a relayer.
        """
        return sharing.sign_consent(
            self._client.actor, grantee, sections, actions, purpose, expires_at, ttl=ttl
        )

    def relay(self, signed: dict[str, Any]) -> Relayed:
        """Send a signed consent (and its key release): grants exactly what the patient signed.

        Raises:
            InputError: not a signed consent, or its bundle is not the one the patient signed.
            ContractRevertError: the chain refuses a signature (expired, reused nonce, wrong signer, ...).
        """
        return sharing.relay_consent(self._client.actor, signed)

    def revoke(self, grantee: str) -> TxInfo:
        """As the patient: revoke a consent; the grantee is wrapped into no new record from now on."""
        return self._send(self._client.chain.consents.revoke(grantee), "revoke consent")

    def request(self, patient: str, sections: int, *, actions: int = Action.READ, purpose: Purpose) -> TxInfo:
        """As a practitioner: ask a patient for access (the patient sees it in :meth:`list`)."""
        return self._send(
            self._client.chain.consents.request_access(patient, sections, actions, purpose), "request access"
        )

    def withdraw_request(self, patient: str) -> TxInfo:
        """As a practitioner: withdraw your open access request to ``patient``."""
        return self._send(self._client.chain.consents.withdraw_request(patient), "withdraw request")

    def list(self, patient: str | None = None) -> list[ConsentSummary]:
        """Every grantee and requester of a patient (you by default), with what is in force now."""
        return sharing.consents_of(self._client.chain, self._client.history, patient or self._client.address)

    def grant_of(self, patient: str, grantee: str) -> Grant:
        """The consent stored from ``patient`` to ``grantee`` (all zero when none)."""
        return self._client.chain.grant(patient, grantee)

    def request_of(self, patient: str, grantee: str) -> Request:
        """The grantee's open access request (all zero when none)."""
        return self._client.chain.consents.request_of(patient, grantee)

    def is_authorized(self, patient: str, accessor: str, sections: int, action: Action = Action.READ) -> bool:
        """The chain's own answer: may ``accessor`` do ``action`` on all of ``sections`` of ``patient`` now?"""
        return self._client.chain.is_authorized(patient, accessor, sections, action)
