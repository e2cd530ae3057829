"""Deploy the five contracts from the packaged artifacts and bootstrap the founding members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3

from famchain.chain import artifacts
from famchain.chain.deployment import Deployment
from famchain.chain.structs import InstitutionKind
from famchain.chain.tx import TransactionSender
from famchain.crypto.policy import CipherPolicy
from famchain.errors import ChainError, InputError
from famchain.i18n import _

DEFAULT_VOTING_PERIOD = 7 * 24 * 3600
YEAR = 365 * 24 * 3600
DEFAULT_OUTPATIENT_RETENTION = 15 * YEAR
"""Seconds an outpatient record is kept before it may be erased (15 years of 365 days)."""
DEFAULT_INPATIENT_RETENTION = 30 * YEAR
"""Seconds an inpatient record is kept (30 years of 365 days)."""


def check_founders(founders: Sequence[tuple[str, InstitutionKind]]) -> None:
    """Refuse, before anything is sent, founders the Consortium constructor would refuse.

    Raises:
        InputError: fewer than two founders, or a founder listed twice.
    """
    if len(founders) < 2:
        raise InputError(_("a consortium needs at least two founding institutions (--founder KIND:ADDRESS)"))
    if len({a.lower() for a, _ in founders}) != len(founders):
        raise InputError(_("a founding institution is listed twice"))


def deploy(
    w3: Web3,
    sender: TransactionSender,
    founders: Sequence[tuple[str, InstitutionKind]],
    *,
    threshold_bps: int = 0,
    voting_period: int = DEFAULT_VOTING_PERIOD,
    outpatient_retention: int = DEFAULT_OUTPATIENT_RETENTION,
    inpatient_retention: int = DEFAULT_INPATIENT_RETENTION,
    cipher_policy: dict[str, Any] | None = None,
) -> Deployment:
    """Deploy Consortium, ResidentRegistry, ConsentRegistry, RecordRegistry and EmergencyAccess, in that order.

    Args:
        w3: connection.
        sender: pays for the deployment; needs no role afterwards.
        founders: admin address and kind of each founding institution (at least two).
        threshold_bps: share of active members whose votes carry a proposal; 0 means a strict majority.
        voting_period: seconds a proposal stays open.
        outpatient_retention: seconds an outpatient record is kept before a deletion request may erase it.
        inpatient_retention: the same for inpatient records.
        cipher_policy: the deployment's section cipher policy (``CipherPolicy.to_dict()``), written to the
            deployment file; None seals every section with AES-256-GCM.

    Raises:
        InputError: fewer than two founders, or a founder listed twice.
        ContractRevertError: a constructor refused its arguments.
    """
    check_founders(founders)
    for name, value in (("outpatient", outpatient_retention), ("inpatient", inpatient_retention)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise InputError(
                _("{name} retention must be a number of seconds that fits a uint64, not {value!r}").format(
                    name=name, value=value
                )
            )
    if cipher_policy is not None:
        CipherPolicy.from_dict(cipher_policy)  # refuse a bad policy before anything is sent
    start = w3.eth.block_number
    addresses: dict[str, str] = {}

    def create(name: str, *args: object) -> str:
        art = artifacts.load(name)
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = sender.transact(factory.constructor(*args), f"deploy {name}")
        address = receipt.get("contractAddress")
        if not address:
            raise ChainError(_("deploying {name} produced no contract address").format(name=name))
        addresses[name] = str(address)
        return str(address)

    consortium = create(
        "Consortium", [a for a, _ in founders], [int(k) for _, k in founders], threshold_bps, voting_period
    )
    residents = create("ResidentRegistry", consortium)
    consents = create("ConsentRegistry", consortium, residents)
    records = create("RecordRegistry", consents, residents, outpatient_retention, inpatient_retention)
    create("EmergencyAccess", consortium, residents, records)
    return Deployment(
        chain_id=w3.eth.chain_id,
        addresses=addresses,
        start_block=start,
        founders=[{"admin": a, "kind": InstitutionKind(k).name.lower()} for a, k in founders],
        cipher_policy=cipher_policy,
    )


def is_live(w3: Web3, deployment: Deployment) -> bool:
    """True when the node is the deployment's chain and any of its contract addresses holds code.

    Such a deployment file is the only record of where every visit card lives: overwriting it orphans them.
    """
    if w3.eth.chain_id != deployment.chain_id:
        return False
    return any(w3.eth.get_code(address) for address in deployment.addresses.values())  # type: ignore[arg-type]
