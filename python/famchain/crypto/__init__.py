"""Cryptography: sealed record envelopes, secp256k1 key wrap, V3 keystores and EIP-712 typed data.

Modules: :mod:`~famchain.crypto.aead` (algorithm registry), :mod:`~famchain.crypto.keywrap` (ECIES),
:mod:`~famchain.crypto.envelope` (seal / open / key-release bundles), :mod:`~famchain.crypto.keystore` and
:mod:`~famchain.crypto.wallet` (accounts), :mod:`~famchain.crypto.typed_data` (EIP-712 messages).
"""
