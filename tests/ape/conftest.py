"""Ape fixtures: the project's contracts deployed on ape-foundry's local anvil."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def founders(accounts: Any) -> list[Any]:
    """Three founding institution admins."""
    return [accounts[0], accounts[1], accounts[2]]


@pytest.fixture
def consortium(project: Any, founders: list[Any]) -> Any:
    """A consortium of a primary-care centre, a hospital and an insurer (kinds 1, 2, 3)."""
    return founders[0].deploy(project.Consortium, [f.address for f in founders], [1, 2, 3], 0, 7 * 86400)
