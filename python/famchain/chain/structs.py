"""The contracts' enums, structs and multi-value returns as Python types, with the Solidity field names.

Each dataclass mirrors one Solidity struct (or the named return values of one view) field for field and name
for name, so :mod:`famchain.chain.contracts` builds them from the ABI's component names, never by position,
and encodes them back the same way. Nothing here imports web3: these types are cheap to import.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from famchain.types import RecordId

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_HEAD = b"\x00" * 24
CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70


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
        return self.name.lower().replace("_", "-")


class MemberStatus(IntEnum):
    """Membership state (``IConsortium.MemberStatus``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class ProposalAction(IntEnum):
    """What a membership proposal does (``IConsortium.ProposalAction``)."""

    ADMIT = 0
    SUSPEND = 1
    REINSTATE = 2
    REMOVE = 3
    SET_THRESHOLD = 4

    @property
    def label(self) -> str:
        """``set-threshold``: the form the command line takes."""
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Anchor:
    """``IRecordRegistry.Anchor``: what the chain keeps of one sealed record."""

    recordId: RecordId
    previous: RecordId
    cidDigest: bytes
    sections: int
    cidCodec: int

    @property
    def is_update(self) -> bool:
        """True when this record is a new version of an earlier one."""
        return not self.previous.is_zero

    def to_abi(self) -> dict[str, Any]:
        """The struct as web3 encodes it (by component name)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Card:
    """``IRecordRegistry.Card``: the running hash of a patient's visit card and its length."""

    head: bytes
    length: int


@dataclass(frozen=True)
class Grant:
    """``IConsentRegistry.Grant``: a consent as stored (all zero when none)."""

    sections: int
    actions: int
    purpose: int
    expiresAt: int

    def active_at(self, timestamp: int) -> bool:
        """True when the grant exists and has not expired at ``timestamp``."""
        return self.expiresAt > timestamp and self.sections != 0


@dataclass(frozen=True)
class Request:
    """``IConsentRegistry.Request``: a grantee's open access request (all zero when none)."""

    sections: int
    actions: int
    purpose: int


@dataclass(frozen=True)
class Agreement:
    """``IResidentRegistry.Agreement``: the stored family-doctor agreement, in force or not."""

    doctor: str
    sections: int
    actions: int
    endsAt: int


@dataclass(frozen=True)
class FamilyDoctor:
    """``activeFamilyDoctor``'s named returns: the agreement in force (None is returned instead of zeros)."""

    doctor: str
    sections: int
    actions: int
    endsAt: int


@dataclass(frozen=True)
class PendingAgreement:
    """``IResidentRegistry.PendingAgreement``: a proposal waiting for the other side."""

    doctor: str
    proposer: str
    sections: int
    actions: int
    term: int


@dataclass(frozen=True)
class Proposal:
    """``IConsortium.Proposal``: a membership proposal and its tally."""

    action: ProposalAction
    kind: InstitutionKind
    newThresholdBps: int
    approvals: int
    expiresAt: int
    executed: bool
    institution: str
    proposer: str


@dataclass(frozen=True)
class Member:
    """``member``'s named returns: an institution's kind and status."""

    kind: InstitutionKind
    status: MemberStatus


@dataclass(frozen=True)
class Practitioner:
    """``practitioner``'s named returns: institution, its kind and whether the practitioner is active."""

    institution: str
    kind: InstitutionKind
    active: bool


__all__ = [
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "ZERO_ADDRESS",
    "ZERO_HEAD",
    "Agreement",
    "Anchor",
    "Card",
    "FamilyDoctor",
    "Grant",
    "InstitutionKind",
    "Member",
    "MemberStatus",
    "PendingAgreement",
    "Practitioner",
    "Proposal",
    "ProposalAction",
    "Request",
]
