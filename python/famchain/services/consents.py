"""``client.consents``: who may read or append which sections of a patient's records, why, until when.

A grant by the patient's transaction, or an EIP-712 signature that anyone relays. Its terms (recipient,
contact, purpose, data, method, records' dates: PIPL's consent content) are committed on chain as a salted hash;
their opening is kept by the patient's client (and travels in the signed consent file). Granting stores the key
bundle of the existing covered records first and names it in the consent, so grant and key release are one
transaction. Revocation takes effect on the next check, kills every outstanding consent signature for that
grantee, and a revoked grantee is wrapped into no new record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from famchain.chain.deployment import Deployment
from famchain.chain.nonces import NonceDomain, keyed_nonce, nonce_key
from famchain.chain.structs import Grant, Request
from famchain.crypto.typed_data import ConsentTerms
from famchain.errors import ConfigError, InputError
from famchain.i18n import _
from famchain.records import sharing
from famchain.records.sections import Action, Purpose
from famchain.records.sharing import ConsentSummary, Granted, Relayed, Release, SignedConsent
from famchain.records.terms import (
    TermsBook,
    default_terms,
    open_request_terms,
    seal_request_terms,
    terms_fields,
    terms_from_request,
)
from famchain.services._base import Service
from famchain.services.results import TxInfo


@dataclass(frozen=True)
class TermsOptions:
    """What a caller says of the consent terms; the rest is said plainly from the grant's scope."""

    purpose: str | None = None
    recipient: str | None = None
    contact: str = ""
    data: str | None = None
    method: str | None = None
    records_from: int = 0
    records_until: int = 0

    @property
    def given(self) -> bool:
        """True when the caller said anything about the terms."""
        return self != TermsOptions()

    def terms(
        self,
        grantee: str,
        institution: str | None,
        sections: int,
        actions: int,
        *,
        purpose: str = Purpose.TREATMENT.value,
    ) -> ConsentTerms:
        """These options as terms with a fresh salt; what is not given is said plainly from the scope
        (``purpose`` when the options name none)."""
        return default_terms(
            grantee=grantee,
            institution=institution,
            sections=sections,
            actions=actions,
            purpose=self.purpose or purpose,
            recipient=self.recipient,
            contact=self.contact,
            data=self.data,
            method=self.method,
            records_from=self.records_from,
            records_until=self.records_until,
        )


class ConsentService(Service):
    """Consents, from the patient's side (grant, sign, revoke, cancel, sync) and the grantee's (request,
    relay)."""

    @property
    def book(self) -> TermsBook | None:
        """The consent-terms openings this client keeps (None without a home folder or account)."""
        client = self._client
        if client.home is None or client.account is None:
            return None
        return TermsBook.of(client.home, client.chain_id, client.chain.consents.address, client.address)

    def terms_for(
        self, grantee: str, sections: int, actions: int, options: TermsOptions | None = None
    ) -> ConsentTerms:
        """The terms a grant to ``grantee`` will carry: the grantee's open request's terms when the caller
        gives none (granting a request reuses what it asked for), else the options with plain defaults; a
        fresh salt either way."""
        options = options or TermsOptions()
        client = self._client
        if not options.given and client.account is not None and client.store is not None:
            request = client.chain.consents.request_of(client.address, grantee)
            if request.is_open:
                fields = open_request_terms(client.actor, client.address, grantee, request.terms)
                if fields is not None:
                    return terms_from_request(fields)
        institution = (
            client.chain.practitioner(grantee).institution if self._is_practitioner(grantee) else None
        )
        return options.terms(grantee, institution, sections, actions)

    def _is_practitioner(self, account: str) -> bool:
        return self._client.chain.practitioner(account).active

    def grant(
        self,
        grantee: str,
        sections: int,
        *,
        actions: int = Action.READ,
        expires_at: int,
        purpose: str | None = None,
        terms: ConsentTerms | TermsOptions | None = None,
    ) -> Granted:
        """As the patient: grant consent; the key bundle of the existing covered records is stored first and
        named in the grant (one transaction grants and releases).

        Args:
            grantee: the practitioner.
            sections: the sections granted.
            actions: READ, APPEND or both.
            expires_at: when the grant ends (unix seconds).
            purpose: shorthand for ``TermsOptions(purpose=...)``.
            terms: the exact terms, or options for them [default: the grantee's request's, else plain].

        Raises:
            ContractRevertError: the chain refuses the grant (not a practitioner, expiry in the past, ...).
            StorageError: the store is unreachable (nothing is sent).
        """
        chosen = self._terms(grantee, sections, actions, purpose, terms)
        return sharing.grant(self._client.actor, grantee, sections, actions, expires_at, chosen, self.book)

    def _terms(
        self,
        grantee: str,
        sections: int,
        actions: int,
        purpose: str | None,
        terms: ConsentTerms | TermsOptions | None,
    ) -> ConsentTerms:
        if isinstance(terms, ConsentTerms):
            return terms
        options = terms or TermsOptions()
        if purpose is not None:
            options = TermsOptions(
                str(purpose),
                options.recipient,
                options.contact,
                options.data,
                options.method,
                options.records_from,
                options.records_until,
            )
        return self.terms_for(grantee, sections, actions, options)

    def sign(
        self,
        grantee: str,
        sections: int,
        *,
        actions: int = Action.READ,
        expires_at: int,
        purpose: str | None = None,
        terms: ConsentTerms | TermsOptions | None = None,
        ttl: int = sharing.DEFAULT_SIGNATURE_TTL,
    ) -> SignedConsent:
        """As the patient: store the key bundle, then sign a consent naming it for anyone to relay; sends
        nothing.

        Returns:
            The signed consent: ``document`` (JSON, no key in it) goes to the grantee or a relayer.
        """
        chosen = self._terms(grantee, sections, actions, purpose, terms)
        return sharing.sign_consent(
            self._client.actor, grantee, sections, actions, expires_at, chosen, ttl=ttl, book=self.book
        )

    def prepare(
        self,
        patient: str,
        grantee: str,
        sections: int,
        *,
        actions: int = Action.READ,
        expires_at: int,
        terms: ConsentTerms,
        ttl: int = sharing.DEFAULT_SIGNATURE_TTL,
    ) -> dict[str, Any]:
        """The ``Consent`` typed data for a patient whose key lives in a wallet (no key needed here): the
        patient's current keyed nonce and a deadline ``ttl`` seconds from the chain's now; no key bundle (the
        wallet's owner releases the keys of existing records afterwards). Complete it with
        :func:`famchain.records.sharing.with_signature` and :meth:`relay` it.
        """
        return sharing.consent_on_chain(
            self._client.chain, patient, grantee, sections, actions, expires_at, terms, release=None, ttl=ttl
        )

    def relay(self, signed: dict[str, Any]) -> Relayed:
        """Send a signed consent: grants exactly what the patient signed and announces its key bundle.

        Raises:
            InputError: not a signed consent.
            ContractRevertError: the chain refuses the signature (expired, reused or cancelled nonce, ...).
        """
        return sharing.relay_consent(self._client.actor, signed, self.book)

    def revoke(self, grantee: str) -> TxInfo:
        """As the patient: revoke a consent; the grantee is wrapped into no new record from now on, and every
        outstanding consent signature for it dies (the Consent/grantee nonce is consumed)."""
        return self._send(self._client.chain.consents.revoke(grantee), "revoke consent")

    def cancel(self, grantee: str) -> TxInfo:
        """As the patient: kill the outstanding consent signature for ``grantee`` (its keyed nonce is
        consumed: ``cancelNonce``), e.g. a signed consent file handed out that must never be relayed."""
        fc = self._client.chain
        nonce = fc.consents.nonce(self._client.address, NonceDomain.CONSENT, grantee)
        return self._send(fc.consents.cancel_nonce(nonce), "cancel consent signature")

    def sync(self, grantee: str) -> Release:
        """As the patient: release to ``grantee`` the keys of every record its consent in force covers (those
        anchored between signing and relaying a consent included); announced with ``releaseKeys``."""
        return sharing.sync_consent(self._client.actor, grantee, self.book)

    def proposed_terms(
        self,
        sections: int,
        actions: int = Action.READ,
        options: TermsOptions | None = None,
        *,
        purpose: str = Purpose.TREATMENT.value,
    ) -> ConsentTerms:
        """As a practitioner: the terms an access request of yours proposes (what is not given is said plainly
        from the scope; you and your institution are the recipient)."""
        options = options or TermsOptions(purpose=purpose)
        me = self._client.address
        return options.terms(
            me, self._client.chain.practitioner(me).institution, sections, actions, purpose=purpose
        )

    def request(
        self,
        patient: str,
        sections: int,
        *,
        actions: int = Action.READ,
        duration: int,
        purpose: str = Purpose.TREATMENT.value,
        terms: TermsOptions | ConsentTerms | None = None,
    ) -> TxInfo:
        """As a practitioner: ask a patient for access for ``duration`` seconds. The request's terms (exact, or
        options for :meth:`proposed_terms`) are sealed to the patient and you and stored; the chain gets only
        their digest.

        Raises:
            ContractRevertError: not a practitioner, patient not registered or card locked.
            StorageError: the store is unreachable (nothing is sent).
        """
        proposed = (
            terms
            if isinstance(terms, ConsentTerms)
            else self.proposed_terms(sections, actions, terms, purpose=purpose)
        )
        digest = seal_request_terms(self._client.actor, patient, terms_fields(proposed))
        call = self._client.chain.consents.request_access(patient, sections, actions, duration, digest)
        return self._send(call, "request access")

    def withdraw_request(self, patient: str) -> TxInfo:
        """As a practitioner: withdraw your open access request to ``patient``."""
        return self._send(self._client.chain.consents.withdraw_request(patient), "withdraw request")

    def refuse(self, grantee: str) -> TxInfo:
        """As the patient: refuse ``grantee``'s access request (kills its outstanding consent signatures too)."""
        return self._send(self._client.chain.consents.refuse_request(grantee), "refuse request")

    def request_terms(self, patient: str, grantee: str) -> dict[str, Any] | None:
        """The opened terms of ``grantee``'s open request to ``patient`` (None when none or they do not open).

        Raises:
            ConfigError: the client has no account or store.
        """
        client = self._client
        if client.account is None or client.store is None:
            raise ConfigError(_("opening request terms needs an account and a content store"))
        request = client.chain.consents.request_of(patient, grantee)
        if not request.is_open:
            return None
        return open_request_terms(client.actor, patient, grantee, request.terms)

    def list(self, patient: str | None = None) -> list[ConsentSummary]:
        """Every grantee and requester of a patient (you by default), with what is in force now; the purpose
        when this client holds the terms' opening (else ``committed``), requests with their opened terms."""
        client = self._client
        who = patient or client.address
        opener = (
            client.actor if client.account is not None and client.store is not None and client.home else None
        )
        return sharing.consents_of(client.chain, client.history, who, book=self.book, opener=opener)

    def grant_of(self, patient: str, grantee: str) -> Grant:
        """The consent stored from ``patient`` to ``grantee`` (all zero when none)."""
        return self._client.chain.grant(patient, grantee)

    def request_of(self, patient: str, grantee: str) -> Request:
        """The grantee's open access request (all zero when none)."""
        return self._client.chain.consents.request_of(patient, grantee)

    def is_authorized(self, patient: str, accessor: str, sections: int, action: Action = Action.READ) -> bool:
        """The chain's own answer: may ``accessor`` do ``action`` on all of ``sections`` of ``patient`` now?"""
        return self._client.chain.is_authorized(patient, accessor, sections, action)


def offline_consent(
    deployment: Deployment,
    patient: str,
    grantee: str,
    sections: int,
    *,
    actions: int,
    expires_at: int,
    terms: ConsentTerms,
    sequence: int,
    deadline: int,
) -> dict[str, Any]:
    """The ``Consent`` typed data built from the deployment file alone (chain id and ConsentRegistry address),
    without asking the chain: the nonce is the patient's ``sequence``-th Consent signature for ``grantee`` (0
    when the patient never granted, revoked, refused or cancelled one for it), and no key bundle is named.

    Raises:
        InputError: a value out of range.
    """
    if not 0 <= sequence < 2**64:
        raise InputError(_("nonce {sequence} is out of range (0 .. 2**64 - 1)").format(sequence=sequence))
    return sharing.consent_typed_data(
        patient=patient,
        grantee=grantee,
        sections=sections,
        actions=actions,
        expires_at=expires_at,
        terms=terms,
        release=None,
        nonce=keyed_nonce(nonce_key(NonceDomain.CONSENT, grantee), sequence),
        deadline=deadline,
        chain_id=deployment.chain_id,
        registry=deployment.address("ConsentRegistry"),
    )


__all__ = ["ConsentService", "Granted", "Relayed", "SignedConsent", "TermsOptions", "offline_consent"]
