"""Results the services return: frozen dataclasses, never raw ABI tuples or receipts."""

from __future__ import annotations

from famchain.chain.tx import TxInfo

__all__ = ["TxInfo"]
