"""Cryptography: sealed record envelopes, key bundles, emergency shares, secp256k1 keys, keystores, EIP-712.

Modules: :mod:`~famchain.crypto.envelope` (seal / open / release keys; the v2 byte format),
:mod:`~famchain.crypto.bundle` (key bundles), :mod:`~famchain.crypto.emergency` (custodians' shares),
:mod:`~famchain.crypto.shamir` (threshold sharing), :mod:`~famchain.crypto.policy` (which AEAD per section),
:mod:`~famchain.crypto.aead` (algorithm registry), :mod:`~famchain.crypto.padding` (size classes),
:mod:`~famchain.crypto.keywrap` (secp256k1 keys, ECDH), :mod:`~famchain.crypto.keystore` and
:mod:`~famchain.crypto.wallet` (accounts), :mod:`~famchain.crypto.typed_data` (EIP-712 messages),
:mod:`~famchain.crypto.derived_key` (the encryption key a browser derives from a wallet signature).
"""
