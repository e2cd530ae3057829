"""``client.emergency``: emergency access (break-glass, issue #14).

A resident (or a guardian with the EMERGENCY scope) chooses the sections an emergency may open, or opts out;
records sealed while a choice is in force carry those sections' keys split ``t`` of ``n`` among the consortium's
custodians. A hospital physician declares an emergency with a reason code; each custodian's client releases its
shares of the records anchored before the declaration, re-wrapped to the physician, and approves on chain; with
``t`` approvals the physician opens exactly the emergency sections of those records, until the emergency
expires. The patient, a guardian or the family doctor reviews (accepts or contests) it afterwards. The flows are
in :mod:`famchain.records.emergency`; this service is their typed entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from famchain.chain.nonces import NonceDomain
from famchain.chain.structs import DEFAULT_EMERGENCY_SECTIONS, Emergency, InstitutionKind, Parameter
from famchain.crypto import typed_data
from famchain.errors import ContractRevertError, InputError
from famchain.i18n import _
from famchain.records import emergency as flows
from famchain.records.emergency import EmergencyInfo, EmergencyRead, EmergencyReason, ShareRelease
from famchain.records.sections import ALL_SECTIONS
from famchain.services._base import Service
from famchain.services.results import TxInfo

CHOICE_KIND = "famchain.emergency-choice"
REVIEW_KIND = "famchain.emergency-review"
DEFAULT_SIGNATURE_TTL = 7 * 86_400


@dataclass(frozen=True)
class Declared:
    """An emergency just declared: what the chain stored (id, covered card, expiry) and the transaction."""

    emergency: EmergencyInfo
    tx: TxInfo

    @property
    def emergency_id(self) -> int:
        """The emergency's id."""
        return self.emergency.emergency_id


@dataclass(frozen=True)
class CustodianInfo:
    """An emergency custodian now: its kind and whether its member key is published (shares are wrapped to it)."""

    institution: str
    kind: InstitutionKind
    key_published: bool


@dataclass(frozen=True)
class EmergencySettings:
    """The consortium's emergency parameters now (each changed by vote) and its custodians."""

    threshold: int
    duration: int
    physician_daily_limit: int
    institution_daily_limit: int
    custodians: tuple[CustodianInfo, ...]

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        return {
            "threshold": self.threshold,
            "duration": self.duration,
            "physician_daily_limit": self.physician_daily_limit,
            "institution_daily_limit": self.institution_daily_limit,
            "custodians": [
                {"institution": c.institution, "kind": c.kind.label, "key_published": c.key_published}
                for c in self.custodians
            ],
        }


def _check_sections(sections: int) -> int:
    if isinstance(sections, bool) or not isinstance(sections, int) or not 0 <= sections <= ALL_SECTIONS:
        raise InputError(
            _("emergency sections must be in 0x00..0x{all_sections:02x}").format(all_sections=ALL_SECTIONS)
        )
    return int(sections)


def _document(kind: str, doc: dict[str, Any], primary: str) -> tuple[dict[str, Any], bytes]:
    if (
        not isinstance(doc, dict)
        or doc.get("kind") != kind
        or "typed_data" not in doc
        or "signature" not in doc
    ):
        raise InputError(
            _("not a signed famchain {kind}").format(kind=kind.removeprefix("famchain.").replace("-", " "))
        )
    data = doc["typed_data"]
    if not isinstance(data, dict) or data.get("primaryType") != primary:
        raise InputError(_("a signed {kind} carries an {primary} message").format(kind=kind, primary=primary))
    try:
        signature = bytes.fromhex(str(doc["signature"]).removeprefix("0x"))
    except ValueError:
        raise InputError(_("the signature is not hex")) from None
    return data, signature


class EmergencyService(Service):
    """Emergency choices, declarations, custodians' share releases, the physician's opening, and reviews."""

    # --- the resident's choice (or a guardian's for the resident) ---

    def sections(self, resident: str | None = None) -> int:
        """The sections an emergency may open for ``resident`` (you by default); 0 means opted out."""
        return self._client.chain.emergency.emergency_sections(resident or self._client.address)

    def choose(self, sections: int, *, resident: str | None = None) -> TxInfo:
        """The sections an emergency may open (0 opts out): widen, narrow or opt out. As the resident by
        transaction; with ``resident`` (not you), as its guardian with the EMERGENCY scope: you sign the
        resident's ``EmergencyChoice`` and send it.

        Raises:
            InputError: bits outside the sections.
            ContractRevertError: not registered, or not a guardian with the EMERGENCY scope.
        """
        sections = _check_sections(sections)
        me = self._client.address
        if resident is None or resident.lower() == me.lower():
            return self._send(
                self._client.chain.emergency.set_emergency_sections(sections), "set emergency sections"
            )
        return self.relay_choice(self.sign_choice(sections, resident=resident))

    def opt_in(self, sections: int = DEFAULT_EMERGENCY_SECTIONS, *, resident: str | None = None) -> TxInfo:
        """Let an emergency open ``sections`` (default: past history, diagnosis, prescriptions, allergies)."""
        if not sections:
            raise InputError(_("opting in needs at least one section (use opt_out to opt out)"))
        return self.choose(sections, resident=resident)

    def opt_out(self, *, resident: str | None = None) -> TxInfo:
        """No emergency may be declared for the resident; records sealed from now on carry no emergency shares."""
        return self.choose(0, resident=resident)

    def sign_choice(
        self, sections: int, *, resident: str | None = None, ttl: int = DEFAULT_SIGNATURE_TTL
    ) -> dict[str, Any]:
        """Sign an ``EmergencyChoice`` for anyone to relay (as the resident, or as its EMERGENCY guardian with
        ``resident``); sends nothing. Returns the signed document (``relay_choice`` sends it)."""
        fc = self._client.chain
        who = resident or self._client.address
        message = typed_data.emergency_choice(
            resident=who,
            sections=_check_sections(sections),
            nonce=fc.emergency.nonce(who, NonceDomain.EMERGENCY),
            deadline=fc.latest_timestamp() + ttl,
            chain_id=fc.chain_id,
            verifying_contract=fc.emergency.address,
        )
        signature = typed_data.sign_typed_data(self._client.account_key(), message)
        return {"kind": CHOICE_KIND, "typed_data": message, "signature": "0x" + signature.hex()}

    def relay_choice(self, document: dict[str, Any]) -> TxInfo:
        """Send a signed emergency choice (the relayer pays the gas).

        Raises:
            InputError: not a signed emergency choice.
            ContractRevertError: the chain refuses the signature.
        """
        data, signature = _document(CHOICE_KIND, document, "EmergencyChoice")
        try:
            call = self._client.chain.emergency.set_emergency_sections_with_sig(
                str(data["message"]["resident"]),
                typed_data.message_int(data, "sections"),
                typed_data.message_int(data, "nonce"),
                typed_data.message_int(data, "deadline"),
                signature,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                _("the signed emergency choice is malformed ({type}: {exc})").format(
                    type=type(exc).__name__, exc=exc
                )
            ) from None
        return self._send(call, "relay emergency choice")

    # --- the consortium's side ---

    def settings(self) -> EmergencySettings:
        """Custodians (with whether their member key is published) and the emergency parameters now."""
        fc = self._client.chain
        custodians = tuple(
            CustodianInfo(c, fc.member(c).kind, fc.member_key(c) is not None)
            for c in fc.consortium.custodians()
        )
        return EmergencySettings(
            fc.consortium.parameter(Parameter.CUSTODIAN_THRESHOLD),
            fc.consortium.parameter(Parameter.EMERGENCY_DURATION),
            fc.consortium.parameter(Parameter.PHYSICIAN_DAILY_LIMIT),
            fc.consortium.parameter(Parameter.INSTITUTION_DAILY_LIMIT),
            custodians,
        )

    def custodians(self) -> list[str]:
        """The custodians now (active members with the flag), in the contract's order."""
        return self._client.chain.consortium.custodians()

    # --- the physician ---

    def declare(self, patient: str, reason: EmergencyReason | int = EmergencyReason.UNCONSCIOUS) -> Declared:
        """As an active hospital physician: declare an emergency for ``patient``. The declaration pins the card
        as it is now: only records anchored before it can open.

        Raises:
            NotHospitalPhysicianError, InstitutionSuspendedError, EmergencyOptedOutError, PhysicianLimitError,
            InstitutionLimitError, TooFewCustodiansError: the chain refuses, each with its own sentence.
            EmergencyCardLockedError: the resident asked for the deletion of the whole card.
            ContractRevertError: another refusal (patient not registered, reason 0).
        """
        fc, me = self._client.chain, self._client.address
        try:
            receipt = self._client.sender.transact(
                fc.emergency.declare(patient, int(reason)), "declare emergency"
            )
        except ContractRevertError as exc:
            raise flows.refusal(fc, exc, account=me, patient=patient) from None
        emergency_id = fc.emergency.declared(receipt)
        return Declared(self.info(emergency_id), TxInfo.from_receipt(receipt))

    def read(self, emergency_id: int) -> EmergencyRead:
        """As the declaring physician, while the emergency is open: the emergency sections of the records anchored
        before the declaration, opened with the custodians' shares (see
        :func:`famchain.records.emergency.read_emergency`)."""
        return flows.read_emergency(self._client.actor, emergency_id)

    # --- custodians ---

    def approve(self, emergency_id: int) -> ShareRelease:
        """As a custodian: release your shares of the covered records to the physician and approve on chain (see
        :func:`famchain.records.emergency.release_for_emergency`)."""
        return flows.release_for_emergency(self._client.actor, emergency_id)

    def announce(self, emergency_id: int, bundle_digest: bytes, bundle_codec: int) -> TxInfo:
        """As a custodian: the bare ``approve`` transaction naming a bundle you built yourself."""
        fc = self._client.chain
        try:
            return self._send(
                fc.emergency.approve(emergency_id, bundle_digest, bundle_codec), "approve emergency"
            )
        except ContractRevertError as exc:
            raise flows.refusal(fc, exc, account=self._client.address, emergency_id=emergency_id) from None

    def pending(self, custodian: str | None = None) -> list[EmergencyInfo]:
        """Emergencies still running that ``custodian`` (you by default) has not approved yet."""
        me = custodian or self._client.address
        now = self._client.now()
        return [
            e
            for e in self.list()
            if now < e.expires_at and all(a.custodian.lower() != me.lower() for a in e.approvals)
        ]

    # --- reviews ---

    def review(self, emergency_id: int, *, contested: bool) -> TxInfo:
        """As the patient, a guardian with the EMERGENCY scope, or the family doctor in force: accept or contest
        it (a contest is final).

        Raises:
            NotReviewerError: anybody else.
            UnknownEmergencyError: no such emergency.
        """
        fc = self._client.chain
        try:
            return self._send(fc.emergency.review(emergency_id, contested), "review emergency")
        except ContractRevertError as exc:
            raise flows.refusal(fc, exc, account=self._client.address, emergency_id=emergency_id) from None

    def sign_review(
        self, emergency_id: int, *, contested: bool, ttl: int = DEFAULT_SIGNATURE_TTL
    ) -> dict[str, Any]:
        """As the patient (or its EMERGENCY guardian): sign an ``EmergencyReview`` for anyone to relay."""
        fc = self._client.chain
        patient = self.info(emergency_id).patient
        message = typed_data.emergency_review(
            patient=patient,
            emergency_id=emergency_id,
            contested=contested,
            nonce=fc.emergency.nonce(patient, NonceDomain.EMERGENCY),
            deadline=fc.latest_timestamp() + ttl,
            chain_id=fc.chain_id,
            verifying_contract=fc.emergency.address,
        )
        signature = typed_data.sign_typed_data(self._client.account_key(), message)
        return {"kind": REVIEW_KIND, "typed_data": message, "signature": "0x" + signature.hex()}

    def relay_review(self, document: dict[str, Any]) -> TxInfo:
        """Send a signed emergency review (the relayer pays the gas)."""
        data, signature = _document(REVIEW_KIND, document, "EmergencyReview")
        try:
            m = data["message"]
            call = self._client.chain.emergency.review_with_sig(
                str(m["patient"]),
                typed_data.message_int(data, "id"),
                bool(m["contested"]),
                typed_data.message_int(data, "nonce"),
                typed_data.message_int(data, "deadline"),
                signature,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                _("the signed emergency review is malformed ({type}: {exc})").format(
                    type=type(exc).__name__, exc=exc
                )
            ) from None
        return self._send(call, "relay emergency review")

    # --- what the chain says ---

    def info(self, emergency_id: int) -> EmergencyInfo:
        """An emergency with its approvals, opening and reviews (from its events).

        Raises:
            UnknownEmergencyError: no such emergency.
        """
        return flows.emergency_info(self._client.chain, self._client.history, emergency_id)

    def list(self, *, patient: str | None = None, physician: str | None = None) -> list[EmergencyInfo]:
        """Emergencies in declaration order: of one patient, declared by one physician, or all of them."""
        c = self._client
        events = flows.emergency_events(c.chain, c.history, patient=patient, physician=physician)
        return flows.emergencies_from(c.chain, events)

    def get(self, emergency_id: int) -> Emergency:
        """An emergency as stored (all zero when unknown)."""
        return self._client.chain.emergency.emergency(emergency_id)

    def is_open(self, emergency_id: int) -> bool:
        """True while it has its approvals and has not expired."""
        return self._client.chain.emergency.is_open(emergency_id)

    def count(self) -> int:
        """Emergencies ever declared."""
        return self._client.chain.emergency.emergency_count()

    def declarations_today(self, physician: str | None = None) -> tuple[int, int]:
        """(the physician's declarations today, its institution's): against the daily limits."""
        fc = self._client.chain
        who = physician or self._client.address
        institution = fc.practitioner(who).institution
        return (
            fc.emergency.declarations_today(who),
            fc.emergency.institution_declarations_today(institution),
        )
