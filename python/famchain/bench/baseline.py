"""The naive baseline contract (``bench/baseline/NaiveHealthRecords.sol``), compiled and packaged.

The benchmark deploys the packaged ``baseline.json`` so that a run needs no compiler; ``tools/artifacts.py
--write`` (development only) refreshes it with the project's solc wrapper and the same compiler settings as the
famchain contracts, and the tests fail when it differs from a fresh compile.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from famchain.chain.artifacts import Artifact

NAME = "NaiveHealthRecords"
SOURCE = f"bench/baseline/{NAME}.sol"


@cache
def load() -> Artifact:
    """The packaged baseline artifact."""
    text = resources.files("famchain.bench").joinpath("baseline.json").read_text()
    data = json.loads(text)
    return Artifact(NAME, data["abi"], data["bytecode"], data["deployedBytecode"])
