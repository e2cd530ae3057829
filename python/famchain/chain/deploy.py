"""Deploy the four contracts from the packaged artifacts and bootstrap the founding members."""

from __future__ import annotations

from collections.abc import Sequence

from web3 import Web3

from famchain.chain import artifacts
from famchain.chain.deployment import Deployment
from famchain.chain.structs import InstitutionKind
from famchain.chain.tx import TransactionSender
from famchain.errors import ChainError, InputError

DEFAULT_VOTING_PERIOD = 7 * 24 * 3600


def check_founders(founders: Sequence[tuple[str, InstitutionKind]]) -> None:
    """Refuse, before anything is sent, founders the Consortium constructor would refuse.

    Raises:
        InputError: fewer than two founders, or a founder listed twice.
    """
    if len(founders) < 2:
        raise InputError("a consortium needs at least two founding institutions (--founder KIND:ADDRESS)")
    if len({a.lower() for a, _ in founders}) != len(founders):
        raise InputError("a founding institution is listed twice")


def deploy(
    w3: Web3,
    sender: TransactionSender,
    founders: Sequence[tuple[str, InstitutionKind]],
    *,
    threshold_bps: int = 0,
    voting_period: int = DEFAULT_VOTING_PERIOD,
) -> Deployment:
    """Deploy Consortium, ResidentRegistry, ConsentRegistry and RecordRegistry, in that order.

    Args:
        w3: connection.
        sender: pays for the deployment; needs no role afterwards.
        founders: admin address and kind of each founding institution (at least two).
        threshold_bps: share of active members whose votes carry a proposal; 0 means a strict majority.
        voting_period: seconds a proposal stays open.

    Raises:
        InputError: fewer than two founders, or a founder listed twice.
        ContractRevertError: a constructor refused its arguments.
    """
    check_founders(founders)
    start = w3.eth.block_number
    addresses: dict[str, str] = {}

    def create(name: str, *args: object) -> str:
        art = artifacts.load(name)
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = sender.transact(factory.constructor(*args), f"deploy {name}")
        address = receipt.get("contractAddress")
        if not address:
            raise ChainError(f"deploying {name} produced no contract address")
        addresses[name] = str(address)
        return str(address)

    consortium = create(
        "Consortium", [a for a, _ in founders], [int(k) for _, k in founders], threshold_bps, voting_period
    )
    residents = create("ResidentRegistry", consortium)
    consents = create("ConsentRegistry", consortium, residents)
    create("RecordRegistry", consents)
    return Deployment(
        chain_id=w3.eth.chain_id,
        addresses=addresses,
        start_block=start,
        founders=[{"admin": a, "kind": InstitutionKind(k).name.lower()} for a, k in founders],
    )


def is_live(w3: Web3, deployment: Deployment) -> bool:
    """True when the node is the deployment's chain and any of its contract addresses holds code.

    Such a deployment file is the only record of where every visit card lives: overwriting it orphans them.
    """
    if w3.eth.chain_id != deployment.chain_id:
        return False
    return any(w3.eth.get_code(address) for address in deployment.addresses.values())  # type: ignore[arg-type]
