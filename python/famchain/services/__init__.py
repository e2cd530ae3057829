"""The client's services, one per domain: ``client.consortium``, ``.residents``, ``.agreements``,
``.consents``, ``.records``, ``.guardians``, ``.emergency``, ``.audit``, ``.relay``. Each is built by
:class:`famchain.Client`; use them through it."""

from __future__ import annotations

from famchain.services.agreements import AgreementService
from famchain.services.audit import AuditService
from famchain.services.consents import ConsentService
from famchain.services.consortium import ConsortiumService
from famchain.services.emergency import EmergencyService
from famchain.services.guardians import GuardianService
from famchain.services.records import RecordService
from famchain.services.relay import RelayService
from famchain.services.residents import ResidentService
from famchain.services.results import TxInfo

__all__ = [
    "AgreementService",
    "AuditService",
    "ConsentService",
    "ConsortiumService",
    "EmergencyService",
    "GuardianService",
    "RecordService",
    "RelayService",
    "ResidentService",
    "TxInfo",
]
