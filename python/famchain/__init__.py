"""famchain: consent-gated, tamper-evident family-doctor medical records on an EVM consortium chain.

The public surface, loaded lazily so that ``import famchain`` stays cheap::

    from famchain import Client, Deployment, RecordId, Section, Action, Purpose

:class:`Client` is the entry point (see ``docs/python-api.md``); errors derive from :class:`FamchainError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # the client and what it is built from
    "Client": "famchain.client",
    "Deployment": "famchain.chain.deployment",
    "Settings": "famchain.settings",
    "KdfParams": "famchain.crypto.keystore",
    "load_account": "famchain.crypto.keystore",
    "StoreConfig": "famchain.storage.config",
    "open_store": "famchain.storage.config",
    # domain types
    "Address": "famchain.types",
    "Cid": "famchain.types",
    "RecordId": "famchain.types",
    "Section": "famchain.records.sections",
    "Action": "famchain.records.sections",
    "Purpose": "famchain.records.sections",
    "ALL_SECTIONS": "famchain.records.sections",
    "RecordContent": "famchain.records.model",
    "Attachment": "famchain.records.model",
    "parse_record": "famchain.records.model",
    "load_record": "famchain.records.model",
    "InstitutionKind": "famchain.chain.structs",
    "MemberStatus": "famchain.chain.structs",
    "ProposalAction": "famchain.chain.structs",
    "Anchor": "famchain.chain.structs",
    "Grant": "famchain.chain.structs",
    "RecordKind": "famchain.chain.structs",
    "GuardianScope": "famchain.chain.structs",
    "FamilyDoctor": "famchain.chain.structs",
    "EmergencyReason": "famchain.records.emergency",
    "DisclosureKind": "famchain.records.disclosures",
    "OutboxState": "famchain.records.outbox",
    "Strategy": "famchain.records.anchoring",
    # errors
    "FamchainError": "famchain.errors",
    "ConfigError": "famchain.errors",
    "InputError": "famchain.errors",
    "IntegrityError": "famchain.errors",
    "AccessDeniedError": "famchain.errors",
    "KeyNotReleasedError": "famchain.errors",
    "ChainError": "famchain.errors",
    "ContractRevertError": "famchain.errors",
    "RpcUnavailableError": "famchain.errors",
    "StorageError": "famchain.errors",
    "StoreUnavailableError": "famchain.errors",
    "WalletError": "famchain.errors",
    "WrongPasswordError": "famchain.errors",
    "QueuedError": "famchain.errors",
    "UnknownRecordError": "famchain.errors",
    "NoAccountError": "famchain.errors",
    "InsecureKeystoreError": "famchain.errors",
    "EmergencyRefusedError": "famchain.errors",
}

__all__ = [
    "ALL_SECTIONS",
    "AccessDeniedError",
    "Action",
    "Address",
    "Anchor",
    "Attachment",
    "ChainError",
    "Cid",
    "Client",
    "ConfigError",
    "ContractRevertError",
    "Deployment",
    "DisclosureKind",
    "EmergencyReason",
    "EmergencyRefusedError",
    "FamchainError",
    "FamilyDoctor",
    "Grant",
    "GuardianScope",
    "InputError",
    "InsecureKeystoreError",
    "InstitutionKind",
    "IntegrityError",
    "KdfParams",
    "KeyNotReleasedError",
    "MemberStatus",
    "NoAccountError",
    "OutboxState",
    "ProposalAction",
    "Purpose",
    "QueuedError",
    "RecordContent",
    "RecordId",
    "RecordKind",
    "RpcUnavailableError",
    "Section",
    "Settings",
    "StorageError",
    "StoreConfig",
    "StoreUnavailableError",
    "Strategy",
    "UnknownRecordError",
    "WalletError",
    "WrongPasswordError",
    "__version__",
    "load_account",
    "load_record",
    "open_store",
    "parse_record",
]

if TYPE_CHECKING:
    from famchain.chain.deployment import Deployment
    from famchain.chain.structs import (
        Anchor,
        FamilyDoctor,
        Grant,
        GuardianScope,
        InstitutionKind,
        MemberStatus,
        ProposalAction,
        RecordKind,
    )
    from famchain.client import Client
    from famchain.crypto.keystore import KdfParams, load_account
    from famchain.errors import (
        AccessDeniedError,
        ChainError,
        ConfigError,
        ContractRevertError,
        EmergencyRefusedError,
        FamchainError,
        InputError,
        InsecureKeystoreError,
        IntegrityError,
        KeyNotReleasedError,
        NoAccountError,
        QueuedError,
        RpcUnavailableError,
        StorageError,
        StoreUnavailableError,
        UnknownRecordError,
        WalletError,
        WrongPasswordError,
    )
    from famchain.records.anchoring import Strategy
    from famchain.records.disclosures import DisclosureKind
    from famchain.records.emergency import EmergencyReason
    from famchain.records.model import Attachment, RecordContent, load_record, parse_record
    from famchain.records.outbox import OutboxState
    from famchain.records.sections import ALL_SECTIONS, Action, Purpose, Section
    from famchain.settings import Settings
    from famchain.storage.config import StoreConfig, open_store
    from famchain.types import Address, Cid, RecordId


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'famchain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
