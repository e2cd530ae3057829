"""The chain layer: the only code that touches contract functions.

- :mod:`~famchain.chain.contracts`: typed wrappers of the four contracts; maps the ABI to
  :mod:`~famchain.chain.structs` by name (adapting to a new ABI happens here).
- :mod:`~famchain.chain.structs`: the contracts' enums and structs, with the Solidity field names.
- :mod:`~famchain.chain.history`: events, the verified visit card.
- :mod:`~famchain.chain.tx`: signing, sending, receipts; :mod:`~famchain.chain.revert`: revert reasons.
- :mod:`~famchain.chain.deploy`, :mod:`~famchain.chain.deployment`, :mod:`~famchain.chain.artifacts`,
  :mod:`~famchain.chain.rpc`, :mod:`~famchain.chain.baseline` (the benchmark's naive contract).
"""
