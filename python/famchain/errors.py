"""The famchain exception hierarchy.

Every error famchain raises on purpose derives from :class:`FamchainError`. The CLI turns these into a
one-line message and a non-zero exit; anything else is a bug. Each subclass builds its own message from its
arguments, so callers raise ``UnknownCidError(cid)`` rather than formatting strings.
"""

from __future__ import annotations

import time


def shown(value: object) -> str:
    """A value as an error message quotes it: ``nothing`` for a missing one, never Python's ``None``."""
    return "nothing" if value is None else repr(value)


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
        super().__init__(f"{reader} is not a recipient of {what}")


class WalletError(FamchainError):
    """A keystore cannot be created, found or opened."""


class WrongPasswordError(WalletError, PermissionError):
    """The password does not open the keystore."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        who = f" for {address}" if address else ""
        super().__init__(f"wrong password{who}: the keystore MAC does not match")


class StorageError(FamchainError):
    """The content store failed or is unreachable."""


class StoreUnavailableError(StorageError, ConnectionError):
    """The content store (embedded gateway or Kubo RPC) cannot be reached."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        super().__init__(
            f"content store at {endpoint} is unreachable: {reason}; start it (a local one: `famchain devnet up`) "
            "or point FAMCHAIN_IPFS_API at a running one"
        )


class UnknownCidError(StorageError, LookupError):
    """The content store does not hold this CID."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(f"content {cid} is not in the store")


class ChainError(FamchainError):
    """The chain rejected a call or cannot be reached."""


class RpcUnavailableError(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            f"RPC endpoint {url} is unreachable: {reason}; start a local chain with `famchain devnet up`, or "
            "pass --rpc-url (FAMCHAIN_RPC_URL) of a running node"
        )


class InsufficientFundsError(ChainError):
    """The sending account cannot pay for the transaction's gas."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            f"{account} has not enough ether to pay for this transaction, so nothing was sent: fund it from an "
            f"account that has some (on a devnet: `famchain devnet fund {account}`)"
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
        super().__init__(f"the gateway {gateway} refused: {reason}" if gateway else reason)


class KeyNotReleasedError(AccessDeniedError):
    """The chain lets the reader read a record, but no key to it has been released to the reader yet (the
    record was anchored after the consent was signed, say): the patient or the record's author can release it."""

    def __init__(self, reader: str, patient: str, author: str, record_id: object) -> None:
        self.reader = reader
        self.patient = patient
        self.author = author
        self.record_id = record_id
        super().__init__(
            f"{reader} may read record {record_id}, but {self.why(reader, patient, author, record_id)}"
        )

    @staticmethod
    def why(reader: str, patient: str, author: str, record_id: object) -> str:
        """Why nothing opens yet, and who can release it (also the withheld reason of each such section)."""
        return (
            f"no key to it has been released to {reader} yet: the patient {patient} can release it "
            f"(`famchain consent sync {reader}`), or its author {author} "
            f"(`famchain record share {record_id} --to {reader}`)"
        )


# --- crypto ---


class MalformedError(IntegrityError):
    """Serialized bytes (an envelope, a key bundle) do not parse as the canonical format."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"malformed {what}: {reason}")


class AuthenticationError(IntegrityError):
    """An authenticated encryption tag or MAC does not verify: the bytes were altered or belong elsewhere."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} failed authentication: altered bytes, or sealed for another context")


class ContextMismatchError(IntegrityError):
    """An envelope is bound to another record, patient, chain or registry than the one expected."""

    def __init__(self, field: str, expected: str, found: str) -> None:
        self.field = field
        super().__init__(f"envelope {field} is {found}, expected {expected}")


class UnsupportedAlgorithmError(CryptoError, ValueError):
    """The AEAD algorithm is not in the registry."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        super().__init__(f"unsupported AEAD algorithm {name!r} (known: {', '.join(known)})")


class AlgorithmUnavailableError(UnsupportedAlgorithmError):
    """The AEAD algorithm is registered but the linked OpenSSL cannot run it (e.g. a build without SM4)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        CryptoError.__init__(self, f"AEAD algorithm {name!r} is not available here: {reason}")


class KeyCommitmentError(AuthenticationError):
    """A key does not match the commitment the envelope carries for it.

    Raised before anything is decrypted: the sealer handed this reader a key other than the one committed (so
    that one ciphertext could open to different plaintexts for different readers), or the bytes were altered.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        IntegrityError.__init__(
            self,
            f"the key for {what} does not match its commitment: altered bytes, or a key other than the sealed "
            "one was handed out",
        )


class InsufficientSharesError(CryptoError, PermissionError):
    """Fewer emergency shares than the threshold: nothing is reconstructed or opened."""

    def __init__(self, have: int, need: int, what: str = "the emergency sections") -> None:
        self.have = have
        self.need = need
        super().__init__(
            f"{have} of the {need} shares needed for {what}: nothing can be opened below the threshold"
        )


class InconsistentSharesError(IntegrityError):
    """Secret shares that cannot belong to one sharing (mixed thresholds or lengths, or contradicting points)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"inconsistent secret shares: {reason}")


class InvalidKeyError(CryptoError, ValueError):
    """A private or public key is not a valid secp256k1 key."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        super().__init__(f"invalid {kind}: {reason}")


class UnknownSectionError(InputError, LookupError):
    """A section name is not present in the envelope."""

    def __init__(self, section: str, present: tuple[str, ...]) -> None:
        self.section = section
        super().__init__(f"no section {section!r} in this envelope (present: {', '.join(present) or 'none'})")


class KeystoreNotFoundError(WalletError, LookupError):
    """No keystore file holds this address."""

    def __init__(self, address: str, directory: str) -> None:
        self.address = address
        super().__init__(
            f"no keystore for {address} in {directory}: `famchain account list` shows the keystores there, "
            "`famchain account import` adds one (or pass --keystore-dir)"
        )


# --- storage ---


class BlockIntegrityError(IntegrityError):
    """A block's bytes do not hash to its CID: corrupted on disk or served altered by a peer."""

    def __init__(self, cid: str, source: str = "the local store") -> None:
        self.cid = cid
        self.source = source
        super().__init__(f"block {cid} from {source} does not match its CID (corrupted or altered)")


class NotPinnedError(StorageError, LookupError):
    """Unpin was asked for content that holds no recursive pin."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        super().__init__(f"content {cid} is not pinned")


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
            f"{self.sealed} not stored yet" if self.sealed else "",
            f"{stored} stored, not anchored yet" if stored else "",
        ]
        what = f"{queued} record(s) queued in the outbox"
        if any(parts):
            what += f" ({', '.join(p for p in parts if p)})"
        todo = (
            "they will be anchored exactly once by `famchain outbox flush`" if queued else "nothing to flush"
        )
        if awaiting_approval:
            what += f", and {awaiting_approval} update(s) awaiting the patient's approval"
            todo += "; an update awaiting approval goes once the patient signs it (`famchain record approve`)"
        super().__init__(f"{what}: {reason}; {todo}")


class UnknownRecordError(InputError, LookupError):
    """No record with this id is anchored on this deployment."""

    def __init__(self, record_id: object) -> None:
        self.record_id = record_id
        super().__init__(f"no record {record_id} on this deployment")


def _utc_day(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


class RecordLockedError(AccessDeniedError):
    """The resident asked for the record's deletion (PIPL art. 47): until it is erased, no new grant, key release,
    emergency opening or amendment covers it, and only the patient reads it."""

    def __init__(self, record_id: object, requested_at: int, refused: str) -> None:
        self.record_id = record_id
        self.requested_at = requested_at
        super().__init__(
            f"record {record_id} is locked by the resident's deletion request of {_utc_day(requested_at)}: "
            f"{refused}"
        )


class RecordErasedError(FamchainError, LookupError):
    """The record was erased after the resident's deletion request and its retention period: its sealed bytes
    are deleted from every member store."""

    def __init__(self, record_id: object, erased_at: int) -> None:
        self.record_id = record_id
        self.erased_at = erased_at
        super().__init__(f"record {record_id} was {self.phrase(erased_at)}")

    @staticmethod
    def phrase(erased_at: int) -> str:
        """``erased on <date> at the resident's request`` (also what a card listing shows)."""
        return f"erased on {_utc_day(erased_at)} at the resident's request"


class ErasureRefusedError(AccessDeniedError):
    """A record cannot be erased (yet): no deletion request, or its retention period is not over."""

    def __init__(self, record_id: object, reason: str) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"record {record_id} cannot be erased: {reason}")

    @classmethod
    def retention(cls, record_id: object, kind: str, ends_at: int, period: int) -> ErasureRefusedError:
        """The retention period (``period`` seconds) of the record's kind is not over."""
        year, day = 365 * 86400, 86400
        kept = (
            f"{period / year:g} year(s)"
            if period >= year
            else f"{period / day:g} day(s)"
            if period >= day
            else f"{period} second(s)"
        )
        return cls(
            record_id,
            f"{kind} records are kept {kept} after anchoring; this one until "
            f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(ends_at))}",
        )


class NoAccountError(ConfigError):
    """The operation signs or decrypts, but the client was built without an account."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs an account: build the client with an account (a LocalAccount)")


class InsecureKeystoreError(WalletError, PermissionError):
    """A keystore was written with the light test KDF and the caller did not allow test keystores."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"keystore {path} uses the insecure test-only KDF; re-create or import it without the test setting "
            "(or set FAMCHAIN_INSECURE_TEST_KEYSTORES=1 in a test)"
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
            f"the signed message is not the {action} this portal prepared ({field} differs), so nothing was "
            "sent: reload the page, check what your wallet shows and sign again"
        )


class WrongChainIdError(SignatureRefusedError):
    """The message was signed for another chain than the relayer's."""

    code = "wrong-chain"

    def __init__(self, expected: int, found: object) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            f"the message was signed for chain {found}, but this portal works on chain {expected}, so nothing "
            f"was sent: switch your wallet to chain {expected} and sign again"
        )


class SignatureExpiredError(SignatureRefusedError):
    """The signature's deadline has passed (or lies further ahead than the relayer accepts)."""

    code = "expired"

    def __init__(self, deadline: int, now: int, *, too_far: bool = False) -> None:
        self.deadline = deadline
        self.now = now
        if too_far:
            text = (
                f"the signature stays valid until {deadline}, longer than this portal accepts (now {now}), so "
                "nothing was sent: reload the page and sign the message it prepares"
            )
        else:
            text = (
                f"the signature expired {now - deadline} s ago (deadline {deadline}), so nothing was sent: "
                "reload the page and sign again"
            )
        super().__init__(text)


class NonceUsedError(SignatureRefusedError):
    """The signature's keyed nonce is not the current one: it was used already, or a later signature or a
    state change (a revocation, a termination, a cancel) replaced it."""

    code = "replayed"

    def __init__(self, nonce: int, current: int) -> None:
        self.nonce = nonce
        self.current = current
        super().__init__(
            f"this signature was already used, or something signed or done since replaced it (nonce "
            f"{nonce & (2**64 - 1)}, now {current & (2**64 - 1)}), so nothing was sent: reload the page to see "
            "what is in force"
        )


class WrongSignerError(SignatureRefusedError):
    """The signature recovers to an account that is neither the resident nor a guardian in scope."""

    code = "wrong-account"

    def __init__(self, signer: str, resident: str, what: str) -> None:
        self.signer = signer
        self.resident = resident
        super().__init__(
            f"the signature was made by {signer}, who is neither {resident} nor their guardian for {what}, so "
            f"nothing was sent: select account {resident} (or your guardian account) in your wallet and sign again"
        )


class RateLimitedError(FamchainError):
    """Too many relayed actions for one resident in a short time."""

    code = "rate-limited"

    def __init__(self, resident: str, retry_after: int) -> None:
        self.resident = resident
        self.retry_after = retry_after
        super().__init__(
            f"too many actions for {resident} in the last minute, so nothing was sent: try again in "
            f"{retry_after} s"
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
            f"{account} cannot declare an emergency: {detail}; only an active practitioner of an active hospital "
            "member can",
            "EmergencyAccessNotHospitalPhysician",
        )


class InstitutionSuspendedError(EmergencyRefusedError):
    """The physician's hospital is suspended or removed from the consortium."""

    def __init__(self, account: str, institution: str, status: str) -> None:
        self.account = account
        self.institution = institution
        super().__init__(
            f"{account} cannot declare an emergency: its hospital {institution} is {status} in the consortium",
            "EmergencyAccessNotHospitalPhysician",
        )


class EmergencyOptedOutError(EmergencyRefusedError):
    """The patient opted out of emergency access (``EmergencyAccessOptedOut``)."""

    def __init__(self, patient: str) -> None:
        self.patient = patient
        super().__init__(
            f"{patient} has opted out of emergency access: no emergency can be declared or served for them",
            "EmergencyAccessOptedOut",
        )


class EmergencyCardLockedError(EmergencyRefusedError):
    """The resident asked for the deletion of the whole card (``EmergencyAccessCardLocked``): no emergency is
    declared or approved for it any more."""

    def __init__(self, patient: str, locked_at: int) -> None:
        self.patient = patient
        self.locked_at = locked_at
        super().__init__(
            f"the card of {patient} is locked by the resident's deletion request of {_utc_day(locked_at)}: no "
            "emergency can be declared or approved for it",
            "EmergencyAccessCardLocked",
        )


class PhysicianLimitError(EmergencyRefusedError):
    """The physician reached its daily limit of declarations (``EmergencyAccessPhysicianLimit``)."""

    def __init__(self, physician: str, limit: int) -> None:
        self.physician = physician
        self.limit = limit
        super().__init__(
            f"{physician} has declared {limit} emergencies today, the daily limit per physician; the count "
            "starts again at 00:00 UTC",
            "EmergencyAccessPhysicianLimit",
        )


class InstitutionLimitError(EmergencyRefusedError):
    """The physician's institution reached its daily limit of declarations (``EmergencyAccessInstitutionLimit``)."""

    def __init__(self, institution: str, limit: int) -> None:
        self.institution = institution
        self.limit = limit
        super().__init__(
            f"the physicians of {institution} have declared {limit} emergencies today, the daily limit per "
            "institution; the count starts again at 00:00 UTC",
            "EmergencyAccessInstitutionLimit",
        )


class TooFewCustodiansError(EmergencyRefusedError):
    """Fewer custodians than the threshold (``EmergencyAccessTooFewCustodians``)."""

    def __init__(self, custodians: int, threshold: int) -> None:
        self.custodians = custodians
        self.threshold = threshold
        super().__init__(
            f"the consortium has {custodians} emergency custodian(s) and an emergency needs {threshold}: "
            "members add custodians by vote (`famchain consortium propose add-custodian`)",
            "EmergencyAccessTooFewCustodians",
        )


class EmergencyExpiredError(EmergencyRefusedError):
    """The emergency is over (``EmergencyAccessExpired``): nothing more is released or opened."""

    def __init__(self, emergency_id: int, expires_at: int) -> None:
        self.emergency_id = emergency_id
        self.expires_at = expires_at
        super().__init__(
            f"emergency {emergency_id} ended at {_utc(expires_at)}: nothing more can be released or opened for it",
            "EmergencyAccessExpired",
        )


class EmergencyNotOpenError(EmergencyRefusedError):
    """Fewer custodian approvals than the threshold: nothing can be opened."""

    def __init__(self, emergency_id: int, approvals: int, threshold: int) -> None:
        self.emergency_id = emergency_id
        self.approvals = approvals
        self.threshold = threshold
        super().__init__(
            f"emergency {emergency_id} has {approvals} of the {threshold} custodian approvals it needs: nothing "
            f"can be opened yet (fewer than {threshold} custodians' shares reveal nothing)",
            None,
        )


class UnknownEmergencyError(EmergencyRefusedError, LookupError):
    """No emergency with this id (``EmergencyAccessUnknown``)."""

    def __init__(self, emergency_id: int) -> None:
        self.emergency_id = emergency_id
        super().__init__(f"no emergency {emergency_id} on this deployment", "EmergencyAccessUnknown")


class NotCustodianError(EmergencyRefusedError):
    """The caller is not a current emergency custodian (``EmergencyAccessNotCustodian``)."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(
            f"{account} is not an emergency custodian now (custodians are added and removed by vote)",
            "EmergencyAccessNotCustodian",
        )


class AlreadyApprovedError(EmergencyRefusedError):
    """The custodian already released its shares for this emergency (``EmergencyAccessAlreadyApproved``)."""

    def __init__(self, emergency_id: int, custodian: str) -> None:
        self.emergency_id = emergency_id
        self.custodian = custodian
        super().__init__(
            f"custodian {custodian} already released its shares for emergency {emergency_id}",
            "EmergencyAccessAlreadyApproved",
        )


class NotDeclaringPhysicianError(EmergencyRefusedError):
    """Only the physician who declared an emergency can open it."""

    def __init__(self, emergency_id: int, account: str, physician: str) -> None:
        self.emergency_id = emergency_id
        super().__init__(
            f"{account} cannot open emergency {emergency_id}: it was declared by {physician}, and only that "
            "physician receives its shares",
            None,
        )


class NotReviewerError(EmergencyRefusedError):
    """The caller may not review this emergency (``EmergencyAccessNotReviewer``)."""

    def __init__(self, emergency_id: int, account: str) -> None:
        self.emergency_id = emergency_id
        super().__init__(
            f"{account} cannot review emergency {emergency_id}: only the patient, a guardian with the emergency "
            "scope or the family doctor in force can",
            "EmergencyAccessNotReviewer",
        )


class NothingToReleaseError(FamchainError):
    """A custodian holds no share of any record an emergency covers."""

    def __init__(self, emergency_id: int, custodian: str, covered: int, reason: str) -> None:
        self.emergency_id = emergency_id
        self.custodian = custodian
        super().__init__(
            f"custodian {custodian} holds no share of the {covered} record(s) emergency {emergency_id} covers "
            f"({reason}): nothing to release, so nothing was sent"
        )
