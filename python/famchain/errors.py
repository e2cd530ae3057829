"""The famchain exception hierarchy.

Every error famchain raises on purpose derives from :class:`FamchainError`. The CLI turns these into a
one-line message and a non-zero exit; anything else is a bug. Each subclass builds its own message from its
arguments, so callers raise ``UnknownCidError(cid)`` rather than formatting strings. Messages are in the
language famchain speaks when the error is raised (:func:`famchain.i18n._`, values formatted in after
translation); the library reads no environment, the command line picks the language.
"""

from __future__ import annotations

import time

from famchain.i18n import _, ngettext


def shown(value: object) -> str:
    """A value as an error message quotes it: ``nothing`` for a missing one, never Python's ``None``."""
    return _("nothing") if value is None else repr(value)


class FamchainError(Exception):
    """Root of every error famchain raises on purpose."""

    exit_code: int = 1


class ConfigError(FamchainError, ValueError):
    """A setting, path or command-line value is missing or malformed."""


class InputError(FamchainError, ValueError):
    """User-supplied data (a record file, an address, a CID) is malformed."""


class IntegrityError(FamchainError, ValueError):
    """Bytes do not match what they claim to be: a bad tag, a bad hash, a truncated or altered envelope."""


class CryptoError(FamchainError):
    """A cryptographic operation cannot be done (no key for this reader, unsupported algorithm)."""


class NotARecipientError(CryptoError, PermissionError):
    """The reader holds no wrapped key in this envelope."""

    def __init__(self, reader: str, what: str = "this envelope") -> None:
        self.reader = reader
        super().__init__(
            _("{reader} is not a recipient of {what}").format(
                reader=reader, what=_("this envelope") if what == "this envelope" else what
            )
        )


class WalletError(FamchainError):
    """A keystore cannot be created, found or opened."""


class WrongPasswordError(WalletError, PermissionError):
    """The password does not open the keystore."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        text = (
            _("wrong password for {address}: the keystore MAC does not match").format(address=address)
            if address
            else _("wrong password: the keystore MAC does not match")
        )
        super().__init__(text)


class StorageError(FamchainError):
    """The content store failed or is unreachable."""


class StoreUnavailableError(StorageError, ConnectionError):
    """The content store (embedded gateway or Kubo RPC) cannot be reached."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        super().__init__(
            _(
                "content store at {endpoint} is unreachable: {reason}; start it (a local one: `famchain devnet up`) "
                "or point FAMCHAIN_IPFS_API at a running one"
            ).format(endpoint=endpoint, reason=reason)
        )


class UnknownCidError(StorageError, LookupError):
    """The content store does not hold this CID."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(_("content {cid} is not in the store").format(cid=cid))


class ChainError(FamchainError):
    """The chain rejected a call or cannot be reached."""


class RpcUnavailableError(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            _(
                "RPC endpoint {url} is unreachable: {reason}; start a local chain with `famchain devnet up`, or "
                "pass --rpc-url (FAMCHAIN_RPC_URL) of a running node"
            ).format(url=url, reason=reason)
        )


class InsufficientFundsError(ChainError):
    """The sending account cannot pay for the transaction's gas."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            _(
                "{account} has not enough ether to pay for this transaction, so nothing was sent: fund it from an "
                "account that has some (on a devnet: `famchain devnet fund {account}`)"
            ).format(account=account)
        )


class ContractRevertError(ChainError):
    """A contract call reverted; ``message`` is the decoded custom error in plain words."""

    def __init__(self, message: str, error_name: str | None = None) -> None:
        self.error_name = error_name
        super().__init__(message)


class AccessDeniedError(FamchainError, PermissionError):
    """The caller has no consent or role for what it asked."""


class GatewayRefusedError(AccessDeniedError):
    """A store gateway refused to serve sealed bytes: the request was unsigned, its signature bad, expired or
    made for another gateway, or the chain does not let the signer read what the block belongs to now."""

    def __init__(self, reason: str, gateway: str | None = None) -> None:
        self.reason = reason
        self.gateway = gateway
        super().__init__(
            _("the gateway {gateway} refused: {reason}").format(gateway=gateway, reason=reason)
            if gateway
            else reason
        )


class KeyNotReleasedError(AccessDeniedError):
    """The chain lets the reader read a record, but no key to it has been released to the reader yet (the
    record was anchored after the consent was signed, say): the patient or the record's author can release it."""

    def __init__(self, reader: str, patient: str, author: str, record_id: object) -> None:
        self.reader = reader
        self.patient = patient
        self.author = author
        self.record_id = record_id
        super().__init__(
            _("{reader} may read record {record}, but {why}").format(
                reader=reader, record=record_id, why=self.why(reader, patient, author, record_id)
            )
        )

    @staticmethod
    def why(reader: str, patient: str, author: str, record_id: object) -> str:
        """Why nothing opens yet, and who can release it (also the withheld reason of each such section)."""
        return _(
            "no key to it has been released to {reader} yet: the patient {patient} can release it "
            "(`famchain consent sync {reader}`), or its author {author} "
            "(`famchain record share {record} --to {reader}`)"
        ).format(reader=reader, patient=patient, author=author, record=record_id)


# --- crypto ---


class MalformedError(IntegrityError):
    """Serialized bytes (an envelope, a key bundle) do not parse as the canonical format."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(_("malformed {what}: {reason}").format(what=what, reason=reason))


class AuthenticationError(IntegrityError):
    """An authenticated encryption tag or MAC does not verify: the bytes were altered or belong elsewhere."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            _("{what} failed authentication: altered bytes, or sealed for another context").format(what=what)
        )


class ContextMismatchError(IntegrityError):
    """An envelope is bound to another record, patient, chain or registry than the one expected."""

    def __init__(self, field: str, expected: str, found: str) -> None:
        self.field = field
        super().__init__(
            _("envelope {field} is {found}, expected {expected}").format(
                field=field, found=found, expected=expected
            )
        )


class UnsupportedAlgorithmError(CryptoError, ValueError):
    """The AEAD algorithm is not in the registry."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        super().__init__(
            _("unsupported AEAD algorithm {name} (known: {known})").format(
                name=repr(name), known=", ".join(known)
            )
        )


class AlgorithmUnavailableError(UnsupportedAlgorithmError):
    """The AEAD algorithm is registered but the linked OpenSSL cannot run it (e.g. a build without SM4)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        CryptoError.__init__(
            self,
            _("AEAD algorithm {name} is not available here: {reason}").format(name=repr(name), reason=reason),
        )


class KeyCommitmentError(AuthenticationError):
    """A key does not match the commitment the envelope carries for it.

    Raised before anything is decrypted: the sealer handed this reader a key other than the one committed (so
    that one ciphertext could open to different plaintexts for different readers), or the bytes were altered.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        IntegrityError.__init__(
            self,
            _(
                "the key for {what} does not match its commitment: altered bytes, or a key other than the sealed "
                "one was handed out"
            ).format(what=what),
        )


class InsufficientSharesError(CryptoError, PermissionError):
    """Fewer emergency shares than the threshold: nothing is reconstructed or opened."""

    def __init__(self, have: int, need: int, what: str = "the emergency sections") -> None:
        self.have = have
        self.need = need
        super().__init__(
            _(
                "{have} of the {need} shares needed for {what}: nothing can be opened below the threshold"
            ).format(
                have=have,
                need=need,
                what=_("the emergency sections") if what == "the emergency sections" else what,
            )
        )


class InconsistentSharesError(IntegrityError):
    """Secret shares that cannot belong to one sharing (mixed thresholds or lengths, or contradicting points)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(_("inconsistent secret shares: {reason}").format(reason=reason))


class InvalidKeyError(CryptoError, ValueError):
    """A private or public key is not a valid secp256k1 key."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        super().__init__(_("invalid {kind}: {reason}").format(kind=kind, reason=reason))


class UnknownSectionError(InputError, LookupError):
    """A section name is not present in the envelope."""

    def __init__(self, section: str, present: tuple[str, ...]) -> None:
        self.section = section
        super().__init__(
            _("no section {section} in this envelope (present: {present})").format(
                section=repr(section), present=", ".join(present) or _("none")
            )
        )


class KeystoreNotFoundError(WalletError, LookupError):
    """No keystore file holds this address."""

    def __init__(self, address: str, directory: str) -> None:
        self.address = address
        super().__init__(
            _(
                "no keystore for {address} in {directory}: `famchain account list` shows the keystores there, "
                "`famchain account import` adds one (or pass --keystore-dir)"
            ).format(address=address, directory=directory)
        )


# --- storage ---


class BlockIntegrityError(IntegrityError):
    """A block's bytes do not hash to its CID: corrupted on disk or served altered by a peer."""

    def __init__(self, cid: str, source: str = "the local store") -> None:
        self.cid = cid
        self.source = source
        super().__init__(
            _("block {cid} from {source} does not match its CID (corrupted or altered)").format(
                cid=cid, source=_("the local store") if source == "the local store" else source
            )
        )


class NotPinnedError(StorageError, LookupError):
    """Unpin was asked for content that holds no recursive pin."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(_("content {cid} is not pinned").format(cid=cid))


# --- records ---


class QueuedError(FamchainError):
    """Records are safe in the outbox but could not all be anchored now; a later flush will finish.

    ``queued`` counts the records a flush can anchor (``sealed``: not stored yet, ``stored``: stored and pinned,
    not anchored); ``awaiting_approval`` counts the updates that wait for the patient's signature, which no
    flush anchors before the patient approves.
    """

    def __init__(
        self,
        queued: int,
        reason: str,
        *,
        sealed: int | None = None,
        stored: int = 0,
        awaiting_approval: int = 0,
    ) -> None:
        self.queued = queued
        self.reason = reason
        self.sealed = queued - stored if sealed is None else sealed
        self.stored = stored
        self.awaiting_approval = awaiting_approval
        parts = [
            _("{n} not stored yet").format(n=self.sealed) if self.sealed else "",
            _("{n} stored, not anchored yet").format(n=stored) if stored else "",
        ]
        what = ngettext("{n} record queued in the outbox", "{n} records queued in the outbox", queued).format(
            n=queued
        )
        if any(parts):
            what = _("{what} ({parts})").format(what=what, parts=_(", ").join(p for p in parts if p))
        todo = (
            _("they will be anchored exactly once by `famchain outbox flush`")
            if queued
            else _("nothing to flush")
        )
        if awaiting_approval:
            what = ngettext(
                "{what}, and {n} update awaiting the patient's approval",
                "{what}, and {n} updates awaiting the patient's approval",
                awaiting_approval,
            ).format(what=what, n=awaiting_approval)
            todo = _(
                "{todo}; an update awaiting approval goes once the patient signs it (`famchain record approve`)"
            ).format(todo=todo)
        super().__init__(_("{what}: {reason}; {todo}").format(what=what, reason=reason, todo=todo))


class UnknownRecordError(InputError, LookupError):
    """No record with this id is anchored on this deployment."""

    def __init__(self, record_id: object) -> None:
        self.record_id = record_id
        super().__init__(_("no record {record} on this deployment").format(record=record_id))


def _utc_day(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


class RecordLockedError(AccessDeniedError):
    """The resident asked for the record's deletion (PIPL art. 47): until it is erased, no new grant, key release,
    emergency opening or amendment covers it, and only the patient reads it."""

    def __init__(self, record_id: object, requested_at: int, refused: str) -> None:
        self.record_id = record_id
        self.requested_at = requested_at
        super().__init__(
            _("record {record} is locked by the resident's deletion request of {day}: {refused}").format(
                record=record_id, day=_utc_day(requested_at), refused=refused
            )
        )


class RecordErasedError(FamchainError, LookupError):
    """The record was erased after the resident's deletion request and its retention period: its sealed bytes
    are deleted from every member store."""

    def __init__(self, record_id: object, erased_at: int) -> None:
        self.record_id = record_id
        self.erased_at = erased_at
        super().__init__(
            _("record {record} was {phrase}").format(record=record_id, phrase=self.phrase(erased_at))
        )

    @staticmethod
    def phrase(erased_at: int) -> str:
        """``erased on <date> at the resident's request`` (also what a card listing shows)."""
        return _("erased on {day} at the resident's request").format(day=_utc_day(erased_at))


class ErasureRefusedError(AccessDeniedError):
    """A record cannot be erased (yet): no deletion request, or its retention period is not over."""

    def __init__(self, record_id: object, reason: str) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(
            _("record {record} cannot be erased: {reason}").format(record=record_id, reason=reason)
        )

    @classmethod
    def retention(cls, record_id: object, kind: str, ends_at: int, period: int) -> ErasureRefusedError:
        """The retention period (``period`` seconds) of the record's kind is not over."""
        year, day = 365 * 86400, 86400
        kept = (
            _("{n:g} year(s)").format(n=period / year)
            if period >= year
            else _("{n:g} day(s)").format(n=period / day)
            if period >= day
            else _("{n} second(s)").format(n=period)
        )
        return cls(
            record_id,
            _("{kind} records are kept {kept} after anchoring; this one until {until}").format(
                kind=kind, kept=kept, until=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ends_at))
            ),
        )


class NoAccountError(ConfigError):
    """The operation signs or decrypts, but the client was built without an account."""

    def __init__(self, what: str) -> None:
        super().__init__(
            _("{what} needs an account: build the client with an account (a LocalAccount)").format(what=what)
        )


class InsecureKeystoreError(WalletError, PermissionError):
    """A keystore was written with the light test KDF and the caller did not allow test keystores."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            _(
                "keystore {path} uses the insecure test-only KDF; re-create or import it without the test setting "
                "(or set FAMCHAIN_INSECURE_TEST_KEYSTORES=1 in a test)"
            ).format(path=path)
        )


# --- relayed signatures (the portal) ---


class SignatureRefusedError(InputError):
    """A signed message a relayer was asked to send is refused before anything is sent.

    ``code`` is a stable id for programs (the portal's JSON API returns it); the message says what to do next.
    """

    code: str = "refused"


class TamperedMessageError(SignatureRefusedError):
    """The signed typed data is not the message the relayer builds from the action's own parameters."""

    code = "tampered"

    def __init__(self, action: str, field: str) -> None:
        self.action = action
        self.field = field
        super().__init__(
            _(
                "the signed message is not the {action} this portal prepared ({field} differs), so nothing was "
                "sent: reload the page, check what your wallet shows and sign again"
            ).format(action=action, field=field)
        )


class WrongChainIdError(SignatureRefusedError):
    """The message was signed for another chain than the relayer's."""

    code = "wrong-chain"

    def __init__(self, expected: int, found: object) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            _(
                "the message was signed for chain {found}, but this portal works on chain {expected}, so nothing "
                "was sent: switch your wallet to chain {expected} and sign again"
            ).format(found=found, expected=expected)
        )


class SignatureExpiredError(SignatureRefusedError):
    """The signature's deadline has passed (or lies further ahead than the relayer accepts)."""

    code = "expired"

    def __init__(self, deadline: int, now: int, *, too_far: bool = False) -> None:
        self.deadline = deadline
        self.now = now
        if too_far:
            text = _(
                "the signature stays valid until {deadline}, longer than this portal accepts (now {now}), so "
                "nothing was sent: reload the page and sign the message it prepares"
            ).format(deadline=deadline, now=now)
        else:
            text = _(
                "the signature expired {ago} s ago (deadline {deadline}), so nothing was sent: "
                "reload the page and sign again"
            ).format(ago=now - deadline, deadline=deadline)
        super().__init__(text)


class NonceUsedError(SignatureRefusedError):
    """The signature's keyed nonce is not the current one: it was used already, or a later signature or a
    state change (a revocation, a termination, a cancel) replaced it."""

    code = "replayed"

    def __init__(self, nonce: int, current: int) -> None:
        self.nonce = nonce
        self.current = current
        super().__init__(
            _(
                "this signature was already used, or something signed or done since replaced it (nonce "
                "{nonce}, now {current}), so nothing was sent: reload the page to see what is in force"
            ).format(nonce=nonce & (2**64 - 1), current=current & (2**64 - 1))
        )


class WrongSignerError(SignatureRefusedError):
    """The signature recovers to an account that is neither the resident nor a guardian in scope."""

    code = "wrong-account"

    def __init__(self, signer: str, resident: str, what: str) -> None:
        self.signer = signer
        self.resident = resident
        super().__init__(
            _(
                "the signature was made by {signer}, who is neither {resident} nor their guardian for {what}, so "
                "nothing was sent: select account {resident} (or your guardian account) in your wallet and sign again"
            ).format(signer=signer, resident=resident, what=what)
        )


class RateLimitedError(FamchainError):
    """Too many relayed actions for one resident in a short time."""

    code = "rate-limited"

    def __init__(self, resident: str, retry_after: int) -> None:
        self.resident = resident
        self.retry_after = retry_after
        super().__init__(
            _(
                "too many actions for {resident} in the last minute, so nothing was sent: try again in {retry_after} s"
            ).format(resident=resident, retry_after=retry_after)
        )


# --- emergency access ---


def _utc(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class EmergencyRefusedError(ContractRevertError, AccessDeniedError):
    """An emergency step (declaration, share release, opening, review) is refused; each cause has its own
    subclass and sentence. ``error_name`` is the contract's custom error when the chain refused it (the client
    checks first, with the same rule), None when only the client refuses (opening below the threshold)."""


class NotHospitalPhysicianError(EmergencyRefusedError):
    """The caller is not an active practitioner of a hospital member (``EmergencyAccessNotHospitalPhysician``)."""

    def __init__(self, account: str, detail: str) -> None:
        self.account = account
        super().__init__(
            _(
                "{account} cannot declare an emergency: {detail}; only an active practitioner of an active hospital "
                "member can"
            ).format(account=account, detail=detail),
            "EmergencyAccessNotHospitalPhysician",
        )


class InstitutionSuspendedError(EmergencyRefusedError):
    """The physician's hospital is suspended or removed from the consortium."""

    def __init__(self, account: str, institution: str, status: str) -> None:
        self.account = account
        self.institution = institution
        super().__init__(
            _(
                "{account} cannot declare an emergency: its hospital {institution} is {status} in the consortium"
            ).format(account=account, institution=institution, status=status),
            "EmergencyAccessNotHospitalPhysician",
        )


class EmergencyOptedOutError(EmergencyRefusedError):
    """The patient opted out of emergency access (``EmergencyAccessOptedOut``)."""

    def __init__(self, patient: str) -> None:
        self.patient = patient
        super().__init__(
            _(
                "{patient} has opted out of emergency access: no emergency can be declared or served for them"
            ).format(patient=patient),
            "EmergencyAccessOptedOut",
        )


class EmergencyCardLockedError(EmergencyRefusedError):
    """The resident asked for the deletion of the whole card (``EmergencyAccessCardLocked``): no emergency is
    declared or approved for it any more."""

    def __init__(self, patient: str, locked_at: int) -> None:
        self.patient = patient
        self.locked_at = locked_at
        super().__init__(
            _(
                "the card of {patient} is locked by the resident's deletion request of {day}: no "
                "emergency can be declared or approved for it"
            ).format(patient=patient, day=_utc_day(locked_at)),
            "EmergencyAccessCardLocked",
        )


class PhysicianLimitError(EmergencyRefusedError):
    """The physician reached its daily limit of declarations (``EmergencyAccessPhysicianLimit``)."""

    def __init__(self, physician: str, limit: int) -> None:
        self.physician = physician
        self.limit = limit
        super().__init__(
            _(
                "{physician} has declared {limit} emergencies today, the daily limit per physician; the count "
                "starts again at 00:00 UTC"
            ).format(physician=physician, limit=limit),
            "EmergencyAccessPhysicianLimit",
        )


class InstitutionLimitError(EmergencyRefusedError):
    """The physician's institution reached its daily limit of declarations (``EmergencyAccessInstitutionLimit``)."""

    def __init__(self, institution: str, limit: int) -> None:
        self.institution = institution
        self.limit = limit
        super().__init__(
            _(
                "the physicians of {institution} have declared {limit} emergencies today, the daily limit per "
                "institution; the count starts again at 00:00 UTC"
            ).format(institution=institution, limit=limit),
            "EmergencyAccessInstitutionLimit",
        )


class TooFewCustodiansError(EmergencyRefusedError):
    """Fewer custodians than the threshold (``EmergencyAccessTooFewCustodians``)."""

    def __init__(self, custodians: int, threshold: int) -> None:
        self.custodians = custodians
        self.threshold = threshold
        super().__init__(
            _(
                "the consortium has {custodians} emergency custodian(s) and an emergency needs {threshold}: "
                "members add custodians by vote (`famchain consortium propose add-custodian`)"
            ).format(custodians=custodians, threshold=threshold),
            "EmergencyAccessTooFewCustodians",
        )


class EmergencyExpiredError(EmergencyRefusedError):
    """The emergency is over (``EmergencyAccessExpired``): nothing more is released or opened."""

    def __init__(self, emergency_id: int, expires_at: int) -> None:
        self.emergency_id = emergency_id
        self.expires_at = expires_at
        super().__init__(
            _("emergency {id} ended at {end}: nothing more can be released or opened for it").format(
                id=emergency_id, end=_utc(expires_at)
            ),
            "EmergencyAccessExpired",
        )


class EmergencyNotOpenError(EmergencyRefusedError):
    """Fewer custodian approvals than the threshold: nothing can be opened."""

    def __init__(self, emergency_id: int, approvals: int, threshold: int) -> None:
        self.emergency_id = emergency_id
        self.approvals = approvals
        self.threshold = threshold
        super().__init__(
            _(
                "emergency {id} has {approvals} of the {threshold} custodian approvals it needs: nothing "
                "can be opened yet (fewer than {threshold} custodians' shares reveal nothing)"
            ).format(id=emergency_id, approvals=approvals, threshold=threshold),
            None,
        )


class UnknownEmergencyError(EmergencyRefusedError, LookupError):
    """No emergency with this id (``EmergencyAccessUnknown``)."""

    def __init__(self, emergency_id: int) -> None:
        self.emergency_id = emergency_id
        super().__init__(
            _("no emergency {id} on this deployment").format(id=emergency_id), "EmergencyAccessUnknown"
        )


class NotCustodianError(EmergencyRefusedError):
    """The caller is not a current emergency custodian (``EmergencyAccessNotCustodian``)."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            _(
                "{account} is not an emergency custodian now (custodians are added and removed by vote)"
            ).format(account=account),
            "EmergencyAccessNotCustodian",
        )


class AlreadyApprovedError(EmergencyRefusedError):
    """The custodian already released its shares for this emergency (``EmergencyAccessAlreadyApproved``)."""

    def __init__(self, emergency_id: int, custodian: str) -> None:
        self.emergency_id = emergency_id
        self.custodian = custodian
        super().__init__(
            _("custodian {custodian} already released its shares for emergency {id}").format(
                custodian=custodian, id=emergency_id
            ),
            "EmergencyAccessAlreadyApproved",
        )


class NotDeclaringPhysicianError(EmergencyRefusedError):
    """Only the physician who declared an emergency can open it."""

    def __init__(self, emergency_id: int, account: str, physician: str) -> None:
        self.emergency_id = emergency_id
        super().__init__(
            _(
                "{account} cannot open emergency {id}: it was declared by {physician}, and only that "
                "physician receives its shares"
            ).format(account=account, id=emergency_id, physician=physician),
            None,
        )


class NotReviewerError(EmergencyRefusedError):
    """The caller may not review this emergency (``EmergencyAccessNotReviewer``)."""

    def __init__(self, emergency_id: int, account: str) -> None:
        self.emergency_id = emergency_id
        super().__init__(
            _(
                "{account} cannot review emergency {id}: only the patient, a guardian with the emergency "
                "scope or the family doctor in force can"
            ).format(account=account, id=emergency_id),
            "EmergencyAccessNotReviewer",
        )


class NothingToReleaseError(FamchainError):
    """A custodian holds no share of any record an emergency covers."""

    def __init__(self, emergency_id: int, custodian: str, covered: int, reason: str) -> None:
        self.emergency_id = emergency_id
        self.custodian = custodian
        super().__init__(
            _(
                "custodian {custodian} holds no share of the {covered} record(s) emergency {id} covers "
                "({reason}): nothing to release, so nothing was sent"
            ).format(custodian=custodian, covered=covered, id=emergency_id, reason=reason)
        )
