"""Ape fixtures: the project's five contracts deployed on ape-foundry's local anvil, in the deploy order."""

from __future__ import annotations

from typing import Any

import pytest

YEAR = 365 * 24 * 3600
OUTPATIENT_RETENTION = 15 * YEAR
INPATIENT_RETENTION = 30 * YEAR


@pytest.fixture
def founders(accounts: Any) -> list[Any]:
    """Three founding institution admins."""
    return [accounts[0], accounts[1], accounts[2]]


@pytest.fixture
def consortium(project: Any, founders: list[Any]) -> Any:
    """A consortium of a primary-care centre, a hospital and an insurer (kinds 1, 2, 3)."""
    return founders[0].deploy(project.Consortium, [f.address for f in founders], [1, 2, 3], 0, 7 * 86400)


@pytest.fixture
def residents(project: Any, founders: list[Any], consortium: Any) -> Any:
    return founders[0].deploy(project.ResidentRegistry, consortium.address)


@pytest.fixture
def consents(project: Any, founders: list[Any], consortium: Any, residents: Any) -> Any:
    return founders[0].deploy(project.ConsentRegistry, consortium.address, residents.address)


@pytest.fixture
def records(project: Any, founders: list[Any], consents: Any, residents: Any) -> Any:
    return founders[0].deploy(
        project.RecordRegistry, consents.address, residents.address, OUTPATIENT_RETENTION, INPATIENT_RETENTION
    )


@pytest.fixture
def emergency(project: Any, founders: list[Any], consortium: Any, residents: Any, records: Any) -> Any:
    return founders[0].deploy(project.EmergencyAccess, consortium.address, residents.address, records.address)
