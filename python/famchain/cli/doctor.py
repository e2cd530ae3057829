"""`famchain doctor`: check that the chain, the deployment, the content store and the keystore are usable.

Each check reports ``ok`` or ``fail`` with a one-line reason (``skip`` when an earlier check it depends on
failed, ``note`` for what is fine but worth knowing, such as no keystore set: public lookups need none); the
command exits non-zero when any check fails or is skipped. Nothing is signed or sent, and no password
is asked for.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import typer
from web3 import Web3

from famchain.chain.contracts import Famchain
from famchain.chain.deployment import Deployment
from famchain.chain.rpc import connect
from famchain.cli._context import DeploymentFile, Json, KeystoreDir, KeystoreOpt, RpcUrl, settings
from famchain.crypto import keystore
from famchain.errors import FamchainError
from famchain.i18n import N_, _, ngettext
from famchain.settings import Settings
from famchain.storage.config import open_store

Status = Literal["ok", "note", "fail", "skip"]
STATUS_WORDS: dict[str, str] = {"ok": N_("ok"), "note": N_("note"), "fail": N_("fail"), "skip": N_("skip")}
"""A check's status as the human output shows it (a msgid; ``--json`` keeps the status itself)."""

app = typer.Typer()


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    detail: str

    def to_json(self) -> dict[str, str]:
        """The check as a JSON object."""
        return asdict(self)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def check_rpc(rpc_url: str) -> tuple[Check, Web3 | None]:
    """The endpoint answers ``eth_chainId``."""
    try:
        w3 = connect(rpc_url, timeout=5.0)
        client = str(w3.client_version)
    except FamchainError as exc:
        return Check("rpc", "fail", _reason(exc)), None
    except Exception as exc:  # a non-JSON-RPC answer (an HTML page, a proxy error)
        return Check(
            "rpc",
            "fail",
            _("{url} is not a JSON-RPC endpoint: {reason}").format(url=rpc_url, reason=_reason(exc)),
        ), None
    return Check("rpc", "ok", _("{url} answers ({client})").format(url=rpc_url, client=client)), w3


def check_chain_id(w3: Web3, deployment: Deployment | None) -> Check:
    """The node's chain id, and that it is the deployment's."""
    chain_id = w3.eth.chain_id
    if deployment is not None and deployment.chain_id != chain_id:
        return Check(
            "chain-id",
            "fail",
            _("the node is chain {node} but the deployment file is for chain {file}").format(
                node=chain_id, file=deployment.chain_id
            ),
        )
    return Check("chain-id", "ok", _("chain {id}").format(id=chain_id))


def check_eip1559(w3: Web3) -> Check:
    """The latest block carries ``baseFeePerGas`` (London active), which famchain's type-2 transactions need."""
    block = w3.eth.get_block("latest")
    if "baseFeePerGas" not in block or block["baseFeePerGas"] is None:
        return Check(
            "eip-1559",
            "fail",
            _(
                "block {number} has no baseFeePerGas: enable London (EIP-1559) in the genesis, "
                "famchain sends type-2 transactions only"
            ).format(number=block["number"]),
        )
    return Check(
        "eip-1559",
        "ok",
        _("block {number} base fee {fee} wei").format(number=block["number"], fee=block["baseFeePerGas"]),
    )


# PUSH0 PUSH0 PUSH0 MCOPY STOP: the contracts are compiled for Cancun (PUSH0 is Shanghai's, MCOPY Cancun's).
_CANCUN_PROBE = "0x5f5f5f5e00"


def check_evm(w3: Web3) -> Check:
    """The EVM runs Shanghai's PUSH0 and Cancun's MCOPY, which the compiled contracts use."""
    try:
        w3.eth.call({"data": _CANCUN_PROBE})  # type: ignore[typeddict-item]
    except FamchainError:
        raise
    except Exception as exc:
        return Check(
            "evm",
            "fail",
            _(
                "the EVM rejects PUSH0/MCOPY: activate Shanghai and Cancun in the genesis (the contracts are "
                "compiled for evmVersion cancun): {reason}"
            ).format(reason=_reason(exc)),
        )
    return Check("evm", "ok", _("Cancun opcodes (PUSH0, MCOPY) available"))


def _bft_validators(w3: Web3) -> tuple[str, int] | None:
    """The BFT engine and validator count, from Besu's QBFT or GoQuorum's istanbul RPC API (if enabled)."""
    for method, params, engine in (
        ("qbft_getValidatorsByBlockNumber", ["latest"], "QBFT (Besu)"),
        ("istanbul_getValidators", ["latest"], "IBFT/QBFT (GoQuorum)"),
    ):
        try:
            response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        except FamchainError:
            raise
        except Exception:  # noqa: S112 - an unknown method is an answer too: try the next engine
            continue
        result = response.get("result")
        if isinstance(result, list) and result:
            return engine, len(result)
    return None


def check_finality(w3: Web3) -> Check:
    """Blocks become final: a BFT engine (validators answer) or a node that answers the ``finalized`` tag.

    famchain treats a mined receipt as settled (it never waits for confirmations), which is only sound when
    blocks are final once imported: QBFT / IBFT 2.0, or a single-node devnet.
    """
    bft = _bft_validators(w3)
    if bft is not None:
        engine, validators = bft
        return Check(
            "finality",
            "ok",
            ngettext(
                "{engine} with {n} validator: blocks are final once imported",
                "{engine} with {n} validators: blocks are final once imported",
                validators,
            ).format(engine=engine, n=validators),
        )
    latest = w3.eth.block_number
    try:
        final = int(w3.eth.get_block("finalized")["number"])
    except FamchainError:
        raise
    except Exception as exc:
        return Check(
            "finality",
            "fail",
            _(
                "cannot tell whether blocks are final: the node answers neither the QBFT/istanbul validator API "
                "nor the 'finalized' block tag ({reason}); enable the QBFT (Besu) or ISTANBUL (GoQuorum) "
                "RPC API"
            ).format(reason=_reason(exc)),
        )
    lag = latest - final
    note = (
        _("the head is final")
        if lag == 0
        else ngettext("{n} block behind the head", "{n} blocks behind the head", lag).format(n=lag)
    )
    return Check("finality", "ok", _("finalized block {number}, {note}").format(number=final, note=note))


def load_deployment(w3: Web3 | None, config: Settings) -> tuple[Check, Deployment | None]:
    """The deployment file (``--deployment``, else ``deployments/<chainId>.json``) parses."""
    path = config.deployment_file
    if path is None:
        if w3 is None:
            return Check(
                "deployment", "skip", _("no --deployment and no chain id to find the default file")
            ), None
        path = config.deployment_path(w3.eth.chain_id)
    try:
        deployment = Deployment.load(path)
    except FamchainError as exc:
        return Check("deployment", "fail", _reason(exc)), None
    return Check(
        "deployment",
        "ok",
        _("{path} (chain {id}, from block {block})").format(
            path=path, id=deployment.chain_id, block=deployment.start_block
        ),
    ), (deployment)


def check_contracts(w3: Web3, deployment: Deployment) -> Check:
    """Each contract has code at its address and the four point at each other."""
    try:
        fc = Famchain(w3, deployment)
        wiring = fc.wiring()
        members = fc.consortium.active_member_count()
    except FamchainError as exc:
        return Check("contracts", "fail", _reason(exc))
    except Exception as exc:  # code that is not famchain's answers the views with garbage or a revert
        return Check(
            "contracts",
            "fail",
            _("the deployed code does not answer famchain's views: {reason}").format(reason=_reason(exc)),
        )
    for what, (found, expected) in wiring.items():
        if Web3.to_checksum_address(found) != expected:
            return Check(
                "contracts",
                "fail",
                _("{what} is {found}, expected {expected}: mixed deployments?").format(
                    what=what, found=found, expected=expected
                ),
            )
    return Check(
        "contracts",
        "ok",
        ngettext(
            "4 contracts deployed and wired, {n} active member",
            "4 contracts deployed and wired, {n} active members",
            members,
        ).format(n=members),
    )


def check_ipfs(config: Settings) -> Check:
    """The content store chosen by ``FAMCHAIN_IPFS_*`` answers."""
    try:
        status = open_store(config.store.config()).status()
    except FamchainError as exc:
        return Check("ipfs", "fail", _reason(exc))
    where = _("{backend} at {location}").format(
        backend=status.get("backend"), location=status.get("location")
    )
    if not status.get("healthy"):
        return Check(
            "ipfs",
            "fail",
            _("{where} is not usable: {reason}").format(
                where=where, reason=status.get("error") or _("not writable or not answering")
            ),
        )
    if status.get("version"):
        return Check(
            "ipfs", "ok", _("{where} (Kubo {version})").format(where=where, version=status["version"])
        )
    return Check("ipfs", "ok", where)


def check_keystore(config: Settings) -> Check:
    """``--keystore`` / ``FAMCHAIN_KEYSTORE`` names a keystore that exists (not unlocked)."""
    ref, directory = config.keystore, config.keystore_dir
    if not ref:
        return Check(
            "keystore",
            "note",
            _(
                "none set: public lookups (`resident show`, `consortium members`, `audit`) need none; to sign or "
                "read records pass --keystore FILE_OR_ADDRESS or set FAMCHAIN_KEYSTORE"
            ),
        )
    try:
        found = keystore.find_keystore(ref, directory)
    except FamchainError as exc:
        return Check("keystore", "fail", _reason(exc))
    return Check("keystore", "ok", _("{address} in {path}").format(address=found.address, path=found.path))


def run_checks(config: Settings) -> list[Check]:
    """Every check, in order; those that need an earlier one that failed are skipped."""
    rpc, w3 = check_rpc(config.rpc_url)
    checks = [rpc]
    loaded, deployment = load_deployment(w3, config)
    if w3 is None:
        skipped = _("the RPC endpoint is unreachable")
        checks += [Check(n, "skip", skipped) for n in ("chain-id", "eip-1559", "evm", "finality")]
        checks.append(loaded)
        checks.append(Check("contracts", "skip", skipped))
    else:
        checks += [
            check_chain_id(w3, deployment),
            check_eip1559(w3),
            check_evm(w3),
            check_finality(w3),
            loaded,
        ]
        if deployment is None:
            checks.append(Check("contracts", "skip", _("no deployment file")))
        else:
            checks.append(check_contracts(w3, deployment))
    checks.append(check_ipfs(config))
    checks.append(check_keystore(config))
    return checks


@app.command("doctor")
def doctor(
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    deployment: DeploymentFile = None,
    keystore_ref: KeystoreOpt = None,
    keystore_dir: KeystoreDir = None,
    as_json: Json = False,
) -> None:
    """Check the RPC endpoint, chain id, EIP-1559, EVM version, finality, deployed contracts, IPFS store and keystore."""
    config = settings(
        rpc_url=rpc_url, deployment_file=deployment, keystore=keystore_ref, keystore_dir=keystore_dir
    )
    checks = run_checks(config)
    ok = all(c.status in ("ok", "note") for c in checks)
    if as_json:
        data: dict[str, Any] = {"ok": ok, "checks": [c.to_json() for c in checks]}
        typer.echo(json.dumps(data, indent=2))
    else:
        for c in checks:
            typer.echo(f"{_(STATUS_WORDS[c.status]):4}  {c.name:10}  {c.detail}")
    if not ok:
        failed = [c.name for c in checks if c.status == "fail"]
        typer.echo(
            "error: "
            + ngettext("{n} check failed: {names}", "{n} checks failed: {names}", len(failed)).format(
                n=len(failed), names=", ".join(failed)
            ),
            err=True,
        )
        raise typer.Exit(1)
