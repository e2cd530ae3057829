"""The benchmark's naive baseline contract (``bench/baseline/NaiveHealthRecords.sol``) as a typed wrapper.

Kept in ``chain/`` with the famchain contracts so that every contract call of the project lives here; the
baseline never changes with famchain's ABI.
"""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from famchain.bench import baseline
from famchain.chain.tx import TransactionSender
from famchain.errors import ChainError
from famchain.i18n import _


class NaiveBaseline:
    """A deployed ``NaiveHealthRecords``: what typical Ethereum + IPFS health-record projects do."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = address
        self._c: Contract = w3.eth.contract(address=address, abi=baseline.load().abi)  # type: ignore[call-overload]

    @classmethod
    def deploy(cls, w3: Web3, sender: TransactionSender) -> NaiveBaseline:
        """Deploy a fresh baseline contract."""
        art = baseline.load()
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = sender.transact(factory.constructor(), "deploy baseline")
        address = receipt.get("contractAddress")
        if not address:
            raise ChainError(_("deploying the baseline produced no contract address"))
        return cls(w3, str(address))

    def nonces(self, patient: str) -> int:
        """The patient's signature nonce."""
        return int(self._c.functions.nonces(patient).call())

    def register(self, encryption_key: bytes, cid: str) -> ContractFunction:
        """``register(key, cid string)``."""
        return self._c.functions.register(encryption_key, cid)

    def request_doctor(self, patient: str) -> ContractFunction:
        """``requestDoctor``."""
        return self._c.functions.requestDoctor(patient)

    def approve_doctor(self, doctor: str) -> ContractFunction:
        """``approveDoctor``."""
        return self._c.functions.approveDoctor(doctor)

    def add_record(self, patient: str, cid: str) -> ContractFunction:
        """``addRecord``: one record, one transaction, the CID as a string."""
        return self._c.functions.addRecord(patient, cid)

    def grant_access_with_sig(self, patient: str, accessor: str, signature: bytes) -> ContractFunction:
        """``grantAccessWithSig``."""
        return self._c.functions.grantAccessWithSig(patient, accessor, signature)

    def share_key(self, grantee: str, cid: str) -> ContractFunction:
        """``shareKey``."""
        return self._c.functions.shareKey(grantee, cid)

    def revoke_access(self, accessor: str) -> ContractFunction:
        """``revokeAccess``."""
        return self._c.functions.revokeAccess(accessor)

    def is_authorized_call(self, patient: str, accessor: str) -> ContractFunction:
        """The ``isAuthorized`` view as a call (to measure its gas)."""
        return self._c.functions.isAuthorized(patient, accessor)

    def calldata(self, call: ContractFunction) -> bytes:
        """ABI-encoded input of a call to this contract."""
        return bytes.fromhex(self._c.encode_abi(call.fn_name, args=list(call.args))[2:])
