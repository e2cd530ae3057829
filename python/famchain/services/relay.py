"""``client.relay``: send what a resident (or their guardian) signed in a browser wallet, gasless for them.

A patient's wallet signs one EIP-712 message per action (``eth_signTypedData_v4``); a relayer (the portal of
an institution, say) pays the gas. This service is both halves of that exchange:

* :meth:`RelayService.prepare` builds the exact typed data of an action from its parameters, with the
  resident's current keyed nonce and a short deadline: what the wallet is asked to sign.
* :meth:`RelayService.relay` refuses anything it would not prepare itself, then sends it. Before any
  transaction it rebuilds the typed data from the action's parameters (the posted domain and types are never
  trusted) and checks, in this order: the chain id, that the signed message is the rebuilt one, the deadline,
  the keyed nonce (a used or replaced signature is refused), that the signature recovers to the resident or to
  a guardian whose scope covers the action now, and finally that the contract accepts the call (a simulation).
  Each refusal is its own :class:`~famchain.errors.SignatureRefusedError` with a stable ``code`` and a sentence
  saying what to do next; nothing is sent.

Actions (:class:`SignedAction`) and the guardian scope each admits: accept, refuse and terminate a
family-doctor agreement (AGREEMENT); grant, refuse a request, revoke, release keys (CONSENT); approve or refuse
an amendment (RECORDS); set the encryption key (PROFILE); cancel an outstanding signature (any guardian); appoint
and remove a guardian (the resident only).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from eth_keys.exceptions import BadSignature
from eth_utils.address import is_address, to_checksum_address
from eth_utils.exceptions import ValidationError
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError

from famchain.chain.history import ChainEvent
from famchain.chain.nonces import NonceDomain, key_of, nonce_key
from famchain.chain.revert import revert_from_exception
from famchain.chain.structs import Anchor, GuardianScope, RecordKind
from famchain.crypto import typed_data
from famchain.crypto.keywrap import PUBLIC_KEY_SIZE
from famchain.crypto.typed_data import ConsentTerms, ContractName, TypedData
from famchain.errors import (
    InputError,
    NonceUsedError,
    SignatureExpiredError,
    SignatureRefusedError,
    StorageError,
    TamperedMessageError,
    WrongChainIdError,
    WrongSignerError,
    shown,
)
from famchain.i18n import _
from famchain.services._base import Service
from famchain.services.results import TxInfo
from famchain.storage.cid import cid_from_digest
from famchain.types import Address, RecordId

DEFAULT_TTL: Final = 15 * 60
"""Seconds a prepared message stays valid: long enough to read it in the wallet, short enough to go stale."""
MAX_TTL: Final = 24 * 3600
"""The furthest deadline the relayer accepts (a longer-lived signature is refused, not relayed)."""
ANY_GUARDIAN: Final = -1
"""Guardian-scope marker of a cancel: any guardian with a non-zero scope may sign one (it can only kill)."""


class SignedAction(StrEnum):
    """What a resident can do with one signature."""

    ACCEPT_AGREEMENT = "accept-agreement"
    REFUSE_AGREEMENT = "refuse-agreement"
    TERMINATE_AGREEMENT = "terminate-agreement"
    GRANT = "grant"
    REFUSE_REQUEST = "refuse-request"
    REVOKE = "revoke"
    RELEASE_KEYS = "release-keys"
    APPROVE_UPDATE = "approve-update"
    REFUSE_UPDATE = "refuse-update"
    SET_ENCRYPTION_KEY = "set-encryption-key"
    CANCEL = "cancel"
    APPOINT_GUARDIAN = "appoint-guardian"
    REMOVE_GUARDIAN = "remove-guardian"


@dataclass(frozen=True)
class _Spec:
    primary: str
    signer: str
    """The message field naming the resident (``resident``, ``patient`` or ``owner``)."""
    scope: int | None
    """The guardian scope that may sign it (None: the resident's own signature only)."""


SPECS: Final[dict[SignedAction, _Spec]] = {
    SignedAction.ACCEPT_AGREEMENT: _Spec("Agreement", "resident", GuardianScope.AGREEMENT),
    SignedAction.REFUSE_AGREEMENT: _Spec("AgreementWithdrawal", "resident", GuardianScope.AGREEMENT),
    SignedAction.TERMINATE_AGREEMENT: _Spec("Termination", "resident", GuardianScope.AGREEMENT),
    SignedAction.GRANT: _Spec("Consent", "patient", GuardianScope.CONSENT),
    SignedAction.REFUSE_REQUEST: _Spec("Refusal", "patient", GuardianScope.CONSENT),
    SignedAction.REVOKE: _Spec("Revocation", "patient", GuardianScope.CONSENT),
    SignedAction.RELEASE_KEYS: _Spec("KeyRelease", "patient", GuardianScope.CONSENT),
    SignedAction.APPROVE_UPDATE: _Spec("RecordUpdate", "patient", GuardianScope.RECORDS),
    SignedAction.REFUSE_UPDATE: _Spec("UpdateRefusal", "patient", GuardianScope.RECORDS),
    SignedAction.SET_ENCRYPTION_KEY: _Spec("EncryptionKey", "resident", GuardianScope.PROFILE),
    SignedAction.CANCEL: _Spec("Cancel", "owner", ANY_GUARDIAN),
    SignedAction.APPOINT_GUARDIAN: _Spec("Guardian", "resident", None),
    SignedAction.REMOVE_GUARDIAN: _Spec("GuardianRemoval", "resident", None),
}

CANCELLABLE: Final[dict[str, tuple[ContractName, NonceDomain]]] = {
    "agreement": ("ResidentRegistry", NonceDomain.AGREEMENT),
    "guardian": ("ResidentRegistry", NonceDomain.GUARDIAN),
    "profile": ("ResidentRegistry", NonceDomain.PROFILE),
    "consent": ("ConsentRegistry", NonceDomain.CONSENT),
    "update": ("RecordRegistry", NonceDomain.UPDATE),
    "key-release": ("RecordRegistry", NonceDomain.KEY_RELEASE),
}
"""What a cancel may name: the kind of outstanding signature, its contract and its nonce domain."""


@dataclass(frozen=True)
class Prepared:
    """The message a wallet is asked to sign for one action.

    Attributes:
        resident: whose action it is (the guardian signs for them).
        typed_data: the ``eth_signTypedData_v4`` JSON.
        nonce: the keyed nonce it carries (a cancel: the nonce it kills).
        deadline: when the signature stops being accepted (unix seconds).
    """

    action: SignedAction
    resident: Address
    typed_data: TypedData
    nonce: int
    deadline: int


@dataclass(frozen=True)
class Checked:
    """A signature that passed every check: who signed, and as whom."""

    action: SignedAction
    resident: Address
    signer: Address
    guardian: Address | None
    """The guardian who signed for the resident (None: the resident signed)."""
    typed_data: TypedData


@dataclass(frozen=True)
class RelayOutcome:
    """A relayed action: the transaction and the events it emitted (decoded)."""

    action: SignedAction
    resident: Address
    signer: Address
    guardian: Address | None
    tx: TxInfo
    events: tuple[ChainEvent, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (the portal's relay answer)."""
        return {
            "action": str(self.action),
            "resident": self.resident,
            "signer": self.signer,
            "guardian": self.guardian,
            "tx": self.tx.to_json(),
            "events": [e.to_json() for e in self.events],
        }


# --- parameters ----------------------------------------------------------------------------------------------


def action_of(name: str) -> SignedAction:
    """The action named ``name``.

    Raises:
        InputError: no such action.
    """
    try:
        return SignedAction(name)
    except ValueError:
        known = ", ".join(a.value for a in SignedAction)
        raise InputError(
            _("unknown action {name!r}; the portal relays {known}").format(name=name, known=known)
        ) from None


def _get(params: Mapping[str, Any], name: str) -> Any:
    if not isinstance(params, Mapping) or name not in params or params[name] is None:
        raise InputError(_("the action needs a {name!r} parameter").format(name=name))
    return params[name]


def _address(params: Mapping[str, Any], name: str) -> Address:
    value = _get(params, name)
    if not isinstance(value, str) or not is_address(value):
        raise InputError(_("{name} is not an Ethereum address: {value!r}").format(name=name, value=value))
    return Address(to_checksum_address(value))


def _int(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    if default is not None and (name not in params or params[name] is None):
        return default
    value = _get(params, name)
    if isinstance(value, bool):
        raise InputError(
            _("{name} must be a whole number, got {shown}").format(name=name, shown=shown(value))
        )
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InputError(
            _("{name} must be a whole number, got {shown}").format(name=name, shown=shown(value))
        ) from None
    if number < 0 or number >= 2**256:
        raise InputError(_("{name} is out of range: {value!r}").format(name=name, value=value))
    return number


def _bytes(params: Mapping[str, Any], name: str, size: int) -> bytes:
    value = _get(params, name)
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise InputError(
            _("{name} must be {size} bytes of 0x hex, got {shown}").format(
                name=name, size=size, shown=shown(value)
            )
        )
    return raw


def _bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False) if isinstance(params, Mapping) else False
    if not isinstance(value, bool):
        raise InputError(_("{name} must be true or false, got {shown}").format(name=name, shown=shown(value)))
    return value


def _message_int(data: Any, field: str) -> int:
    try:
        value = data["message"][field]
        if isinstance(value, bool):
            raise TypeError(field)
        return int(value)
    except (KeyError, TypeError, ValueError):
        raise SignatureRefusedError(
            _(
                "the signed message has no whole-number {field!r}, so nothing was sent: reload the page and sign again"
            ).format(field=field)
        ) from None


def _signature(value: bytes | str) -> bytes:
    raw = value
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raw = b""
    if not isinstance(raw, bytes) or len(raw) != 65:
        raise SignatureRefusedError(
            _(
                "the signature is not 65 bytes of 0x hex (r, s, v), so nothing was sent: sign again with your wallet"
            )
        )
    return raw


def _differs(posted: Any, rebuilt: TypedData) -> str | None:
    """The first field where the posted typed data differs from the rebuilt one (None when equal)."""
    if not isinstance(posted, Mapping):
        return "the whole message"
    if posted.get("primaryType") != rebuilt["primaryType"]:
        return "primaryType"
    if posted.get("types") != rebuilt["types"]:
        return "types"
    for part in ("domain", "message"):
        mine = rebuilt[part]
        theirs = posted.get(part)
        if not isinstance(theirs, Mapping) or set(theirs) != set(mine):
            return part
        for key, value in mine.items():
            if _norm(theirs[key]) != _norm(value):
                return f"{part}.{key}"
    return None


def _norm(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else value
    return value


# --- the service -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Built:
    typed: TypedData
    call: Callable[[bytes], ContractFunction]
    resident: Address
    nonce: int


class RelayService(Service):
    """Prepares and relays actions residents sign in their own wallets (the relayer pays the gas)."""

    # --- preparing ---

    def prepare(
        self, action: SignedAction | str, params: Mapping[str, Any], *, ttl: int = DEFAULT_TTL
    ) -> Prepared:
        """The typed data the resident's (or guardian's) wallet signs for ``action``.

        Args:
            action: what to do (a :class:`SignedAction` or its name).
            params: the action's parameters (addresses, masks, ...; see :meth:`parameters`).
            ttl: seconds until the signature's deadline.

        Raises:
            InputError: an unknown action, a missing or malformed parameter, or nothing to act on (no proposal
                waiting, no agreement in force, ...).
        """
        which = action_of(str(action))
        if not 0 < ttl <= MAX_TTL:
            raise InputError(_("ttl must be in 1..{max_ttl} s, got {ttl}").format(max_ttl=MAX_TTL, ttl=ttl))
        deadline = self._client.now() + ttl
        built = self._build(which, params, None, deadline, None)
        return Prepared(which, built.resident, built.typed, built.nonce, deadline)

    @staticmethod
    def parameters(action: SignedAction | str) -> tuple[str, ...]:
        """The parameter names an action takes (beyond the nonce and deadline it is given)."""
        return _PARAMETERS[action_of(str(action))]

    # --- checking and relaying ---

    def check(
        self,
        action: SignedAction | str,
        params: Mapping[str, Any],
        signed: Mapping[str, Any],
        signature: bytes | str,
    ) -> Checked:
        """Every check :meth:`relay` makes before it sends, the contract's simulation included.

        Raises:
            InputError: a missing or malformed parameter.
            SignatureRefusedError: the message or signature is refused (its subclass and ``code`` say why).
            ContractRevertError: the contract would refuse the call.
        """
        checked, _ = self._check(action, params, signed, signature)
        return checked

    def relay(
        self,
        action: SignedAction | str,
        params: Mapping[str, Any],
        signed: Mapping[str, Any],
        signature: bytes | str,
    ) -> RelayOutcome:
        """Check a signed action (see :meth:`check`) and send it, the relayer paying the gas.

        Args:
            action: what the signature is for.
            params: the action's parameters, from which the typed data is rebuilt.
            signed: the typed data the wallet signed.
            signature: the wallet's 65-byte signature (bytes or 0x hex).

        Raises:
            InputError: a missing or malformed parameter.
            SignatureRefusedError: refused before sending (nothing was sent).
            ContractRevertError: the contract refuses the call (nothing was sent).
            RpcUnavailableError: the chain cannot be reached.
        """
        checked, call = self._check(action, params, signed, signature)
        receipt = self._client.sender.transact(call, f"relay {checked.action} for {checked.resident}")
        if checked.action is SignedAction.GRANT:
            self._keep_terms(checked.typed_data)
        events = tuple(self._client.history.receipt_events(receipt))
        return RelayOutcome(
            checked.action,
            checked.resident,
            checked.signer,
            checked.guardian,
            TxInfo.from_receipt(receipt),
            events,
        )

    def _check(
        self,
        action: SignedAction | str,
        params: Mapping[str, Any],
        signed: Mapping[str, Any],
        signature: bytes | str,
    ) -> tuple[Checked, ContractFunction]:
        which = action_of(str(action))
        spec = SPECS[which]
        client = self._client
        if not isinstance(signed, Mapping):
            raise TamperedMessageError(which.value, _("the whole message"))
        domain = signed.get("domain")
        chain = domain.get("chainId") if isinstance(domain, Mapping) else None
        try:
            chain_ok = chain is not None and not isinstance(chain, bool) and int(chain) == client.chain_id
        except (TypeError, ValueError):
            chain_ok = False
        if not chain_ok:
            raise WrongChainIdError(client.chain_id, chain)
        nonce = _message_int(signed, "keyNonce" if which is SignedAction.CANCEL else "nonce")
        deadline = _message_int(signed, "deadline")
        salt = _terms_salt(signed) if which is SignedAction.GRANT else None
        built = self._build(which, params, nonce, deadline, salt)
        field = _differs(signed, built.typed)
        if field is not None:
            raise TamperedMessageError(which.value, field)
        now = client.now()
        if now > deadline:
            raise SignatureExpiredError(deadline, now)
        if deadline > now + MAX_TTL:
            raise SignatureExpiredError(deadline, now, too_far=True)
        current = self._current_nonce(which, built.resident, nonce)
        if nonce != current:
            raise NonceUsedError(nonce, current)
        raw = _signature(signature)
        try:
            signer = typed_data.recover_typed_data_signer(built.typed, raw)
        except (BadSignature, ValidationError, ValueError, TypeError):
            raise SignatureRefusedError(
                _(
                    "the signature does not recover to any account, so nothing was sent: sign again with your wallet"
                )
            ) from None
        guardian = None
        if signer != built.resident:
            if not self._in_scope(spec, built.resident, signer):
                raise WrongSignerError(signer, built.resident, _scope_words(spec.scope))
            guardian = signer
        call = built.call(raw)
        try:
            call.call({"from": client.address})
        except ContractLogicError as exc:
            raise revert_from_exception(exc) from None
        return Checked(which, built.resident, signer, guardian, built.typed), call

    def _in_scope(self, spec: _Spec, resident: str, signer: str) -> bool:
        if spec.scope is None:
            return False
        have = self._client.chain.residents.guardian_scope(resident, signer)
        if spec.scope == ANY_GUARDIAN:
            return have != 0
        return have & spec.scope == spec.scope

    def _keep_terms(self, typed: TypedData) -> None:
        """A relayer keeps the openings of the consent terms it relays (the patient may look them up)."""
        book = self._client.consents.book
        if book is not None:
            book.save(ConsentTerms.from_message(typed["message"]["terms"]))

    # --- building ---

    def _current_nonce(self, which: SignedAction, resident: str, nonce: int) -> int:
        fc = self._client.chain
        contract = fc.signing(_verifier(which, self._cancel_contract_of(nonce)))
        return contract.nonce_of_key(resident, key_of(nonce))

    @staticmethod
    def _cancel_contract_of(nonce: int) -> ContractName | None:
        domain = key_of(nonce) >> 160
        for contract, kind in CANCELLABLE.values():
            if kind == domain:
                return contract
        return None

    def _build(
        self,
        which: SignedAction,
        params: Mapping[str, Any],
        nonce: int | None,
        deadline: int,
        salt: bytes | None,
    ) -> _Built:
        if not isinstance(params, Mapping):
            raise InputError(_("the action's parameters must be a JSON object"))
        builder = getattr(self, "_build_" + which.value.replace("-", "_"))
        built: _Built = builder(params, nonce, deadline, salt)
        return built

    def _nonce(
        self,
        contract: ContractName,
        owner: str,
        domain: NonceDomain,
        subject: str | bytes | int,
        given: int | None,
    ) -> int:
        if given is not None:
            if key_of(given) != nonce_key(domain, subject):
                raise TamperedMessageError(_("signed action"), _("message.nonce"))
            return given
        return self._client.chain.signing(contract).nonce(owner, domain, subject)

    def _common(self, contract: ContractName) -> dict[str, Any]:
        fc = self._client.chain
        return {"chain_id": fc.chain_id, "verifying_contract": fc.signing(contract).address}

    def _build_accept_agreement(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident, doctor = _address(p, "resident"), _address(p, "doctor")
        pending = self._client.agreements.pending(resident, doctor)
        if pending is None or pending.byResident:
            raise InputError(
                _("no agreement proposed by {doctor} is waiting for {resident}").format(
                    doctor=doctor, resident=resident
                )
            )
        n = self._nonce("ResidentRegistry", resident, NonceDomain.AGREEMENT, doctor, nonce)
        typed = typed_data.agreement(
            resident=resident,
            doctor=doctor,
            sections=pending.sections,
            actions=pending.actions,
            term=pending.term,
            nonce=n,
            deadline=deadline,
            **self._common("ResidentRegistry"),
        )
        residents = self._client.chain.residents
        return _Built(
            typed,
            lambda sig: residents.accept_agreement_with_sig(
                resident, doctor, pending.sections, pending.actions, pending.term, n, deadline, sig
            ),
            resident,
            n,
        )

    def _build_refuse_agreement(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident, doctor = _address(p, "resident"), _address(p, "doctor")
        n = self._nonce("ResidentRegistry", resident, NonceDomain.AGREEMENT, doctor, nonce)
        typed = typed_data.agreement_withdrawal(
            resident=resident, doctor=doctor, nonce=n, deadline=deadline, **self._common("ResidentRegistry")
        )
        residents = self._client.chain.residents
        return _Built(
            typed,
            lambda sig: residents.withdraw_proposal_with_sig(resident, doctor, n, deadline, sig),
            resident,
            n,
        )

    def _build_terminate_agreement(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident = _address(p, "resident")
        residents = self._client.chain.residents
        stored = residents.agreement(resident)
        if not int(stored.doctor, 16):
            raise InputError(
                _("{resident} has no family-doctor agreement to terminate").format(resident=resident)
            )
        doctor = Address(to_checksum_address(stored.doctor))
        n = self._nonce("ResidentRegistry", resident, NonceDomain.AGREEMENT, doctor, nonce)
        typed = typed_data.termination(
            resident=resident, doctor=doctor, nonce=n, deadline=deadline, **self._common("ResidentRegistry")
        )
        return _Built(
            typed,
            lambda sig: residents.terminate_agreement_with_sig(resident, n, deadline, sig),
            resident,
            n,
        )

    def _build_grant(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, salt: bytes | None
    ) -> _Built:
        patient, grantee = _address(p, "patient"), _address(p, "grantee")
        sections, actions = _int(p, "sections"), _int(p, "actions", 1)
        expires_at = _int(p, "expiresAt")
        fields = _get(p, "terms")
        if not isinstance(fields, Mapping):
            raise InputError(_("terms must be an object (recipient, contact, purpose, data, method)"))
        terms = ConsentTerms(
            str(fields.get("recipient", "")),
            str(fields.get("contact", "")),
            str(fields.get("purpose", "")),
            str(fields.get("data", "")),
            str(fields.get("method", "")),
            _int(fields, "recordsFrom", 0),
            _int(fields, "recordsUntil", 0),
            salt if salt is not None else os.urandom(32),
        )
        if not terms.purpose:
            raise InputError(_("the consent terms need a purpose"))
        digest = _bytes(p, "bundleDigest", 32) if p.get("bundleDigest") else b"\x00" * 32
        codec = _int(p, "bundleCodec", 0) if any(digest) else 0
        if any(digest):
            self._require_stored(digest, codec, "key bundle")
        n = self._nonce("ConsentRegistry", patient, NonceDomain.CONSENT, grantee, nonce)
        typed = typed_data.consent(
            patient=patient,
            grantee=grantee,
            sections=sections,
            actions=actions,
            expires_at=expires_at,
            terms=terms,
            bundle_digest=digest,
            bundle_codec=codec,
            nonce=n,
            deadline=deadline,
            **self._common("ConsentRegistry"),
        )
        consents = self._client.chain.consents
        committed = terms.hash_struct()
        return _Built(
            typed,
            lambda sig: consents.grant_with_sig(
                patient, grantee, sections, actions, expires_at, committed, digest, codec, n, deadline, sig
            ),
            patient,
            n,
        )

    def _build_refuse_request(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        patient, grantee = _address(p, "patient"), _address(p, "grantee")
        n = self._nonce("ConsentRegistry", patient, NonceDomain.CONSENT, grantee, nonce)
        typed = typed_data.refusal(
            patient=patient, grantee=grantee, nonce=n, deadline=deadline, **self._common("ConsentRegistry")
        )
        consents = self._client.chain.consents
        return _Built(
            typed,
            lambda sig: consents.refuse_request_with_sig(patient, grantee, n, deadline, sig),
            patient,
            n,
        )

    def _build_revoke(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        patient, grantee = _address(p, "patient"), _address(p, "grantee")
        n = self._nonce("ConsentRegistry", patient, NonceDomain.CONSENT, grantee, nonce)
        typed = typed_data.revocation(
            patient=patient, grantee=grantee, nonce=n, deadline=deadline, **self._common("ConsentRegistry")
        )
        consents = self._client.chain.consents
        return _Built(
            typed, lambda sig: consents.revoke_with_sig(patient, grantee, n, deadline, sig), patient, n
        )

    def _build_release_keys(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        patient, grantee = _address(p, "patient"), _address(p, "grantee")
        digest, codec = _bytes(p, "bundleDigest", 32), _int(p, "bundleCodec", 0x55)
        sections = _int(p, "sections")
        self._require_stored(digest, codec, "key bundle")
        n = self._nonce("RecordRegistry", patient, NonceDomain.KEY_RELEASE, grantee, nonce)
        typed = typed_data.key_release(
            patient=patient,
            grantee=grantee,
            bundle_digest=digest,
            bundle_codec=codec,
            sections=sections,
            nonce=n,
            deadline=deadline,
            **self._common("RecordRegistry"),
        )
        records = self._client.chain.records
        return _Built(
            typed,
            lambda sig: records.release_keys_with_sig(
                patient, grantee, digest, codec, sections, n, deadline, sig
            ),
            patient,
            n,
        )

    def _update_anchor(self, p: Mapping[str, Any]) -> tuple[Address, Address, Anchor]:
        patient, author = _address(p, "patient"), _address(p, "author")
        previous = _bytes(p, "previous", 32)
        try:
            kind = RecordKind(_int(p, "kind", 0))
        except ValueError:
            raise InputError(
                _("kind must be 0 (outpatient) or 1 (inpatient), got {shown}").format(
                    shown=shown(p.get("kind"))
                )
            ) from None
        anchor = Anchor(
            salt=_bytes(p, "salt", 32),
            previous=RecordId(previous),
            cidDigest=_bytes(p, "cidDigest", 32),
            sections=_int(p, "sections"),
            cidCodec=_int(p, "cidCodec", 0x55),
            kind=kind,
        )
        on_card = self._client.history.anchors(patient, [previous]).get(RecordId(previous))
        if on_card is None:
            raise InputError(
                _("record 0x{previous} is not on the card of {patient}: nothing to amend").format(
                    previous=previous.hex(), patient=patient
                )
            )
        return patient, author, anchor

    def _build_approve_update(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        patient, author, anchor = self._update_anchor(p)
        self._require_stored(anchor.cidDigest, anchor.cidCodec, "new version")
        n = self._nonce("RecordRegistry", patient, NonceDomain.UPDATE, bytes(anchor.previous), nonce)
        typed = typed_data.record_update(
            patient=patient,
            author=author,
            previous=bytes(anchor.previous),
            salt=anchor.salt,
            cid_digest=anchor.cidDigest,
            cid_codec=anchor.cidCodec,
            sections=anchor.sections,
            kind=int(anchor.kind),
            nonce=n,
            deadline=deadline,
            **self._common("RecordRegistry"),
        )
        records = self._client.chain.records
        return _Built(
            typed,
            lambda sig: records.approve_update_with_sig(patient, author, anchor, n, deadline, sig),
            patient,
            n,
        )

    def _build_refuse_update(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        patient = _address(p, "patient")
        previous, record_id = _bytes(p, "previous", 32), _bytes(p, "recordId", 32)
        n = self._nonce("RecordRegistry", patient, NonceDomain.UPDATE, previous, nonce)
        typed = typed_data.update_refusal(
            patient=patient,
            previous=previous,
            record_id=record_id,
            nonce=n,
            deadline=deadline,
            **self._common("RecordRegistry"),
        )
        records = self._client.chain.records
        return _Built(
            typed,
            lambda sig: records.refuse_update_with_sig(patient, previous, record_id, n, deadline, sig),
            patient,
            n,
        )

    def _build_set_encryption_key(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident = _address(p, "resident")
        key = _bytes(p, "encryptionKey", PUBLIC_KEY_SIZE)
        n = self._nonce("ResidentRegistry", resident, NonceDomain.PROFILE, 0, nonce)
        typed = typed_data.encryption_key(
            resident=resident,
            encryption_key=key,
            nonce=n,
            deadline=deadline,
            **self._common("ResidentRegistry"),
        )
        residents = self._client.chain.residents
        return _Built(
            typed,
            lambda sig: residents.set_encryption_key_with_sig(resident, key, n, deadline, sig),
            resident,
            n,
        )

    def _build_cancel(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        owner = _address(p, "owner")
        kind = str(_get(p, "kind"))
        if kind not in CANCELLABLE:
            raise InputError(
                _("cannot cancel a {kind!r} signature; cancel one of {cancellable}").format(
                    kind=kind, cancellable=", ".join(CANCELLABLE)
                )
            )
        contract, domain = CANCELLABLE[kind]
        subject: str | bytes | int
        if domain is NonceDomain.UPDATE:
            subject = _bytes(p, "subject", 32)
        elif domain is NonceDomain.PROFILE:
            subject = 0
        else:
            subject = _address(p, "subject")
        n = self._nonce(contract, owner, domain, subject, nonce)
        typed = typed_data.cancel(
            owner=owner, key_nonce=n, deadline=deadline, contract=contract, **self._common(contract)
        )
        signing = self._client.chain.signing(contract)
        return _Built(typed, lambda sig: signing.cancel_nonce_with_sig(owner, n, deadline, sig), owner, n)

    def _build_appoint_guardian(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident, guardian = _address(p, "resident"), _address(p, "guardian")
        scope, expires_at, dependent = _int(p, "scope"), _int(p, "expiresAt"), _bool(p, "dependent")
        n = self._nonce("ResidentRegistry", resident, NonceDomain.GUARDIAN, guardian, nonce)
        typed = typed_data.guardian(
            resident=resident,
            guardian=guardian,
            scope=scope,
            expires_at=expires_at,
            dependent=dependent,
            nonce=n,
            deadline=deadline,
            **self._common("ResidentRegistry"),
        )
        residents = self._client.chain.residents
        return _Built(
            typed,
            lambda sig: residents.appoint_guardian_with_sig(
                resident, guardian, scope, expires_at, dependent, n, deadline, sig
            ),
            resident,
            n,
        )

    def _build_remove_guardian(
        self, p: Mapping[str, Any], nonce: int | None, deadline: int, _signature: bytes | None
    ) -> _Built:
        resident, guardian = _address(p, "resident"), _address(p, "guardian")
        n = self._nonce("ResidentRegistry", resident, NonceDomain.GUARDIAN, guardian, nonce)
        typed = typed_data.guardian_removal(
            resident=resident,
            guardian=guardian,
            nonce=n,
            deadline=deadline,
            **self._common("ResidentRegistry"),
        )
        residents = self._client.chain.residents
        return _Built(
            typed,
            lambda sig: residents.remove_guardian_with_sig(resident, guardian, n, deadline, sig),
            resident,
            n,
        )

    def _require_stored(self, digest: bytes, codec: int, what: str) -> None:
        """A bundle or a new version the signature names must be in the relayer's store (else nobody could
        use it)."""
        store = self._client.store
        if store is None:
            return
        try:
            cid = cid_from_digest(digest, codec)
        except InputError:
            raise InputError(
                _("the {what} is named by a malformed digest or codec").format(what=what)
            ) from None
        try:
            held = store.has(cid)
        except StorageError:
            raise
        if not held:
            raise InputError(
                _("the {what} {cid} is not in the store: store it first, then sign").format(
                    what=what, cid=cid
                )
            )


_PARAMETERS: Final[dict[SignedAction, tuple[str, ...]]] = {
    SignedAction.ACCEPT_AGREEMENT: ("resident", "doctor"),
    SignedAction.REFUSE_AGREEMENT: ("resident", "doctor"),
    SignedAction.TERMINATE_AGREEMENT: ("resident",),
    SignedAction.GRANT: (
        "patient",
        "grantee",
        "sections",
        "actions",
        "expiresAt",
        "terms",
        "bundleDigest",
        "bundleCodec",
    ),
    SignedAction.REFUSE_REQUEST: ("patient", "grantee"),
    SignedAction.REVOKE: ("patient", "grantee"),
    SignedAction.RELEASE_KEYS: ("patient", "grantee", "bundleDigest", "bundleCodec", "sections"),
    SignedAction.APPROVE_UPDATE: (
        "patient",
        "author",
        "previous",
        "salt",
        "cidDigest",
        "cidCodec",
        "sections",
        "kind",
    ),
    SignedAction.REFUSE_UPDATE: ("patient", "previous", "recordId"),
    SignedAction.SET_ENCRYPTION_KEY: ("resident", "encryptionKey"),
    SignedAction.CANCEL: ("owner", "kind", "subject"),
    SignedAction.APPOINT_GUARDIAN: ("resident", "guardian", "scope", "expiresAt", "dependent"),
    SignedAction.REMOVE_GUARDIAN: ("resident", "guardian"),
}


def _verifier(which: SignedAction, cancel_contract: ContractName | None) -> ContractName:
    if which is SignedAction.CANCEL:
        if cancel_contract is None:
            raise SignatureRefusedError(
                _(
                    "the cancel names a nonce of no known kind, so nothing was sent: reload the page and sign again"
                )
            )
        return cancel_contract
    return typed_data.VERIFIER[SPECS[which].primary]


def _terms_salt(signed: Mapping[str, Any]) -> bytes:
    try:
        salt = bytes.fromhex(str(signed["message"]["terms"]["salt"]).removeprefix("0x"))
    except (KeyError, TypeError, ValueError):
        salt = b""
    if len(salt) != 32:
        raise TamperedMessageError(_("grant"), _("message.terms.salt"))
    return salt


def _scope_words(scope: int | None) -> str:
    if scope is None:
        return "this (only the resident may sign it)"
    if scope == ANY_GUARDIAN:
        return "anything"
    return ", ".join(s.name.lower() for s in GuardianScope if s.name and scope & s) or "this"


__all__ = [
    "CANCELLABLE",
    "DEFAULT_TTL",
    "MAX_TTL",
    "SPECS",
    "Checked",
    "Prepared",
    "RelayOutcome",
    "RelayService",
    "SignedAction",
    "action_of",
]
