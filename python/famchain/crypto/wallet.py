"""An unlocked account: one secp256k1 key that signs (EIP-712) and decrypts (envelopes, key bundles)."""

from __future__ import annotations

from dataclasses import dataclass, field

from famchain.crypto.keywrap import address_from_private_key, public_key_from_private
from famchain.crypto.typed_data import TypedData, sign_typed_data
from famchain.types import Address


@dataclass(frozen=True)
class Wallet:
    """A private key held in memory, with the address and encryption public key derived from it.

    Attributes:
        private_key: 32 bytes (not shown by ``repr``).
    """

    private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        public_key_from_private(self.private_key)

    @property
    def address(self) -> Address:
        """The checksummed account address."""
        return address_from_private_key(self.private_key)

    @property
    def encryption_public_key(self) -> bytes:
        """The 64-byte public key to register on chain and to seal records for."""
        return public_key_from_private(self.private_key)

    def sign_typed_data(self, data: TypedData) -> bytes:
        """Signs an EIP-712 message; returns the 65-byte signature."""
        return sign_typed_data(self.private_key, data)
