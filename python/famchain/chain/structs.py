"""The contracts' enums, structs and multi-value returns as Python types, with the Solidity field names.

Each dataclass mirrors one Solidity struct (or the named return values of one view) field for field and name
for name, so :mod:`famchain.chain.contracts` builds them from the ABI's component names, never by position,
and encodes them back the same way. Nothing here imports web3: these types are cheap to import.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any

from famchain.types import RecordId

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_HEAD = b"\x00" * 24
ZERO_BYTES32 = b"\x00" * 32
CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
DEFAULT_EMERGENCY_SECTIONS = 0x9A
"""Past history, diagnosis, prescriptions, allergies: what EmergencyAccess opens until a resident chooses."""


def _label(name: str) -> str:
    return name.lower().replace("_", "-")


class InstitutionKind(IntEnum):
    """Kind of a consortium member (``IConsortium.InstitutionKind``)."""

    NONE = 0
    PRIMARY_CARE = 1
    HOSPITAL = 2
    INSURER = 3
    RESEARCH = 4
    REGULATOR = 5

    @property
    def label(self) -> str:
        """``primary-care``: the form the command line takes and prints."""
        return _label(self.name)


class MemberStatus(IntEnum):
    """Membership state (``IConsortium.MemberStatus``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class ProposalAction(IntEnum):
    """What a consortium proposal does (``IConsortium.ProposalAction``)."""

    ADMIT = 0
    SUSPEND = 1
    REINSTATE = 2
    REMOVE = 3
    SET_THRESHOLD = 4
    ADD_CUSTODIAN = 5
    REMOVE_CUSTODIAN = 6
    SET_PARAMETER = 7
    END_GUARDIANSHIP = 8

    @property
    def label(self) -> str:
        """``set-threshold``: the form the command line takes."""
        return _label(self.name)


class Parameter(IntEnum):
    """A consortium parameter set by vote (``IConsortium.Parameter``)."""

    NONE = 0
    CUSTODIAN_THRESHOLD = 1
    EMERGENCY_DURATION = 2
    PHYSICIAN_DAILY_LIMIT = 3
    INSTITUTION_DAILY_LIMIT = 4

    @property
    def label(self) -> str:
        """``custodian-threshold``: the form the command line takes."""
        return _label(self.name)


class RecordKind(IntEnum):
    """A record's kind, which chooses its retention period (``uint8 kind``)."""

    OUTPATIENT = 0
    INPATIENT = 1

    @property
    def label(self) -> str:
        """``outpatient``: the form record files and the command line use."""
        return _label(self.name)


class GuardianScope(IntFlag):
    """What a guardian may do for a resident (``uint8`` bitmask, ``Masks.GUARDIAN_*``)."""

    CONSENT = 0x01
    """Grant, revoke, refuse requests, key releases."""
    AGREEMENT = 0x02
    """Accept, withdraw and terminate agreements."""
    RECORDS = 0x04
    """Approve and refuse amendments, deletion requests."""
    EMERGENCY = 0x08
    """Emergency choice and reviews."""
    READ = 0x10
    """May read: clients wrap keys for it; ``isAuthorized`` answers READ on every section."""
    PROFILE = 0x20
    """Profile and encryption key."""


GUARDIAN_ALL = 0x3F


class Review(IntEnum):
    """The patient's review of an emergency (``Emergency.review``)."""

    NONE = 0
    ACCEPTED = 1
    CONTESTED = 2


@dataclass(frozen=True)
class _Abi:
    """A struct web3 encodes by component name."""

    def to_abi(self) -> dict[str, Any]:
        """The struct as web3 encodes it (by component name)."""
        return {f.name: _abi_value(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _abi_value(value: Any) -> Any:
    if isinstance(value, RecordId):
        return bytes(value)
    if isinstance(value, tuple):
        return [_abi_value(v) for v in value]
    if isinstance(value, IntEnum):
        return int(value)
    return value


@dataclass(frozen=True)
class Anchor(_Abi):
    """``IRecordRegistry.Anchor``: what the author anchors of one sealed record (the id is derived from it)."""

    salt: bytes
    previous: RecordId
    cidDigest: bytes
    sections: int
    cidCodec: int
    kind: RecordKind = RecordKind.OUTPATIENT

    @property
    def is_update(self) -> bool:
        """True when this record is a new version of an earlier one."""
        return not self.previous.is_zero


@dataclass(frozen=True)
class Card:
    """``IRecordRegistry.Card``: the running hash of a patient's visit card and its length."""

    head: bytes
    length: int


@dataclass(frozen=True)
class Approval:
    """``IRecordRegistry.Approval``: a stored update approval (all zero when none)."""

    deadline: int
    sections: int
    kind: RecordKind


@dataclass(frozen=True)
class ErasureProof(_Abi):
    """``IRecordRegistry.ErasureProof``: that a record is on the card, with its kind and anchoring time."""

    index: int
    headBefore: bytes
    recordId: RecordId
    previous: RecordId
    sections: int
    kind: RecordKind
    anchoredAt: int
    laterLeaves: tuple[bytes, ...]


@dataclass(frozen=True)
class Grant:
    """``IConsentRegistry.Grant``: a consent as stored (all zero when none)."""

    sections: int
    actions: int
    expiresAt: int
    enrollment: int

    def active_at(self, timestamp: int) -> bool:
        """True when the grant exists and has not expired at ``timestamp`` (the enrollment is checked apart)."""
        return self.expiresAt > timestamp and self.sections != 0


@dataclass(frozen=True)
class Request:
    """``IConsentRegistry.Request``: a grantee's open access request (all zero when none)."""

    sections: int
    actions: int
    duration: int
    terms: bytes

    @property
    def is_open(self) -> bool:
        """True when there is a request."""
        return self.sections != 0


@dataclass(frozen=True)
class Agreement:
    """``IResidentRegistry.Agreement``: the stored family-doctor agreement, in force or not."""

    doctor: str
    sections: int
    actions: int
    endsAt: int
    enrollment: int


@dataclass(frozen=True)
class FamilyDoctor:
    """``activeFamilyDoctor``'s named returns: the agreement in force (None is returned instead of zeros)."""

    doctor: str
    sections: int
    actions: int
    endsAt: int


@dataclass(frozen=True)
class PendingAgreement:
    """``IResidentRegistry.PendingAgreement``: a proposal of one (resident, doctor) pair (all zero when none)."""

    byResident: bool
    sections: int
    actions: int
    term: int
    expiresAt: int
    enrollment: int


@dataclass(frozen=True)
class Guardianship:
    """``IResidentRegistry.Guardianship``: a guardian's scope for a resident, until when, and whether the
    resident is a dependent (a minor: the resident cannot dismiss the guardian)."""

    scope: int
    expiresAt: int
    dependent: bool

    def active_at(self, timestamp: int) -> bool:
        """True when the guardianship exists and has not expired."""
        return self.scope != 0 and timestamp < self.expiresAt


@dataclass(frozen=True)
class ResidentStatus:
    """``residentStatus``'s named returns."""

    registered: bool
    locked: bool


@dataclass(frozen=True)
class CardAccess:
    """``cardAccessOf``'s named returns: the resident's status and, for the family doctor in force, the
    agreement's terms (zeros for anyone else: guardians only read)."""

    registered: bool
    locked: bool
    sections: int
    actions: int


@dataclass(frozen=True)
class Access:
    """``accessOf``'s named returns: what the agreement in force (or a READ guardianship) allows."""

    sections: int
    actions: int


@dataclass(frozen=True)
class Proposal:
    """``IConsortium.Proposal``: a consortium proposal (the tally is ``activeApprovals``)."""

    action: ProposalAction
    kind: InstitutionKind
    parameter: Parameter
    votes: int
    value: int
    expiresAt: int
    executed: bool
    institution: str
    subject: str
    proposer: str


@dataclass(frozen=True)
class Member:
    """``member``'s named returns: an institution's kind, status, admission epoch and custodian flag."""

    kind: InstitutionKind
    status: MemberStatus
    epoch: int
    custodian: bool


@dataclass(frozen=True)
class PractitionerStatus:
    """``IConsortium.PractitionerStatus``: a practitioner's institution, its kind, whether the practitioner counts
    now, and its enrollment (0 when it does not count)."""

    institution: str
    kind: InstitutionKind
    active: bool
    enrollment: int


@dataclass(frozen=True)
class Emergency:
    """``IEmergencyAccess.Emergency``: a declared emergency (records ``0 .. cardLength-1`` may open)."""

    patient: str
    declaredAt: int
    sections: int
    physician: str
    expiresAt: int
    reason: int
    threshold: int
    approvals: int
    review: Review
    institution: str
    cardLength: int


__all__ = [
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "DEFAULT_EMERGENCY_SECTIONS",
    "GUARDIAN_ALL",
    "ZERO_ADDRESS",
    "ZERO_BYTES32",
    "ZERO_HEAD",
    "Access",
    "Agreement",
    "Anchor",
    "Approval",
    "Card",
    "CardAccess",
    "Emergency",
    "ErasureProof",
    "FamilyDoctor",
    "Grant",
    "GuardianScope",
    "Guardianship",
    "InstitutionKind",
    "Member",
    "MemberStatus",
    "Parameter",
    "PendingAgreement",
    "PractitionerStatus",
    "Proposal",
    "ProposalAction",
    "RecordKind",
    "Request",
    "ResidentStatus",
    "Review",
]
