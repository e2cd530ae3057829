"""The encryption key a resident derives from one wallet signature (the portal's browser key), in Python.

A browser wallet never reveals its private key and cannot do ECDH, so a resident who reads records in the
portal registers a separate encryption key, derived from a signature of a fixed EIP-712 message. The portal
(``famchain/portal/static/js/keys.js``) and this module implement the same derivation, so the CLI, the tests
and the browser agree on the key:

1. The wallet signs (``eth_signTypedData_v4``) :func:`derivation_typed_data`::

       domain      {name: "famchain", version: "1", chainId}        (no verifyingContract)
       primaryType EncryptionKeyDerivation
       type        EncryptionKeyDerivation(string purpose,address account,address registry)
       message     {purpose: PURPOSE, account, registry}            registry = the ResidentRegistry address

   The signature must recover to ``account``; otherwise nothing is derived.
2. ``ikm`` = the 64 bytes ``r ‖ s`` of the signature with ``s`` in its low form (``s <= n/2``: a wallet that
   returns the mirrored high-s twin of the same signature gets the same key). ``v`` is not used.
3. ``okm = HKDF-SHA256(ikm, salt="famchain encryption key v1" (ASCII), info=account's 20 address bytes, L=48)``.
4. ``private key = (int.from_bytes(okm, "big") mod (n - 1)) + 1``, ``n`` the secp256k1 order: a scalar in
   ``1 .. n-1`` whose bias is below 2^-128. The public key is the 64-byte uncompressed point without ``0x04``,
   the form ``setEncryptionKeyWithSig`` registers.

Deterministic (RFC 6979) wallets — MetaMask, hardware wallets, ethers, eth-account — give the same signature
for the same message, hence the same key on every device. Who holds the account key can always re-derive
the encryption key; nobody else can, since the signature is over the account's own address, this chain and
this registry (a portal on another deployment asks for a different signature).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_keys.exceptions import BadSignature
from eth_utils.address import is_address, to_checksum_address
from eth_utils.exceptions import ValidationError

from famchain.crypto.keywrap import address_from_private_key, public_key_from_private
from famchain.crypto.typed_data import TypedData, recover_typed_data_signer, sign_typed_data
from famchain.errors import InputError
from famchain.i18n import _
from famchain.types import Address

DOMAIN_NAME: Final = "famchain"
DOMAIN_VERSION: Final = "1"
PRIMARY_TYPE: Final = "EncryptionKeyDerivation"
TYPE_STRING: Final = "EncryptionKeyDerivation(string purpose,address account,address registry)"
PURPOSE: Final = "famchain: derive my record encryption key. Sign only on a famchain portal you trust."
"""What the wallet shows the resident; part of the signed message, so it cannot change without new keys."""
SALT: Final = b"famchain encryption key v1"
OKM_SIZE: Final = 48
SIGNATURE_SIZE: Final = 65

_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N: Final = _N // 2


@dataclass(frozen=True)
class DerivedKey:
    """A resident's derived encryption key.

    Attributes:
        account: The account whose signature derived it (checksummed).
        private_key: The 32-byte secp256k1 scalar (keep it in memory only).
        public_key: The 64-byte public key to register on chain.
    """

    account: Address
    private_key: bytes = field(repr=False)
    public_key: bytes


def _address(value: str, name: str) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise InputError(_("{name} is not an Ethereum address: {value!r}").format(name=name, value=value))
    return Address(to_checksum_address(value))


def derivation_typed_data(*, account: str, registry: str, chain_id: int) -> TypedData:
    """The exact ``eth_signTypedData_v4`` message the wallet signs (step 1 of the module docstring).

    Args:
        account: The resident's address.
        registry: The ResidentRegistry address.
        chain_id: The chain id.

    Raises:
        InputError: A bad address or chain id.
    """
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id < 2**256:
        raise InputError(_("chain id must be a positive uint256, got {chain_id!r}").format(chain_id=chain_id))
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            PRIMARY_TYPE: [
                {"name": "purpose", "type": "string"},
                {"name": "account", "type": "address"},
                {"name": "registry", "type": "address"},
            ],
        },
        "primaryType": PRIMARY_TYPE,
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id},
        "message": {
            "purpose": PURPOSE,
            "account": _address(account, "account"),
            "registry": _address(registry, "registry"),
        },
    }


def key_from_signature(signature: bytes, *, account: str, registry: str, chain_id: int) -> DerivedKey:
    """Derives the encryption key from the wallet's derivation signature (steps 2-4 of the module docstring).

    Args:
        signature: The 65-byte ``r ‖ s ‖ v`` signature of :func:`derivation_typed_data`.
        account: The resident's address (the signature must recover to it).
        registry: The ResidentRegistry address.
        chain_id: The chain id.

    Raises:
        InputError: Not a 65-byte signature, or made by another account than ``account``.
    """
    if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_SIZE:
        raise InputError(
            _("a derivation signature is {signature_size} bytes (r ‖ s ‖ v)").format(
                signature_size=SIGNATURE_SIZE
            )
        )
    if signature[64] not in (0, 1, 27, 28):
        raise InputError(_("signature v must be 27 or 28, got {signature}").format(signature=signature[64]))
    data = derivation_typed_data(account=account, registry=registry, chain_id=chain_id)
    expected = Address(data["message"]["account"])
    try:
        signer = recover_typed_data_signer(data, bytes(signature))
    except (BadSignature, ValidationError, ValueError, TypeError) as exc:
        raise InputError(
            _("the derivation signature does not recover to an account: {exc}").format(exc=exc)
        ) from None
    if signer != expected:
        raise InputError(
            _("the derivation signature was made by {signer}, not by account {expected}").format(
                signer=signer, expected=expected
            )
        )
    s = int.from_bytes(signature[32:64], "big")
    ikm = bytes(signature[:32]) + min(s, _N - s).to_bytes(32, "big")
    okm = HKDF(
        algorithm=hashes.SHA256(), length=OKM_SIZE, salt=SALT, info=bytes.fromhex(expected[2:])
    ).derive(ikm)
    private_key = (int.from_bytes(okm, "big") % (_N - 1) + 1).to_bytes(32, "big")
    return DerivedKey(expected, private_key, public_key_from_private(private_key))


def derive_encryption_key(account_private_key: bytes, *, registry: str, chain_id: int) -> DerivedKey:
    """Signs the derivation message with an account key (as its wallet would) and derives the key.

    eth-account signs deterministically (RFC 6979, low s), as browser wallets do, so this gives the key the
    portal derives in the browser for the same account, registry and chain.

    Args:
        account_private_key: The account's 32-byte signing key (a keystore's key, not an encryption key).
        registry: The ResidentRegistry address.
        chain_id: The chain id.

    Raises:
        InputError: A bad address or chain id.
        InvalidKeyError: The account key is not a valid secp256k1 key.
    """
    account = address_from_private_key(account_private_key)
    data = derivation_typed_data(account=account, registry=registry, chain_id=chain_id)
    signature = sign_typed_data(account_private_key, data)
    return key_from_signature(signature, account=account, registry=registry, chain_id=chain_id)


__all__ = [
    "PURPOSE",
    "SALT",
    "TYPE_STRING",
    "DerivedKey",
    "derivation_typed_data",
    "derive_encryption_key",
    "key_from_signature",
]
