"""`ape test`: the contracts compile and behave under ape-foundry too."""

from __future__ import annotations

from typing import Any

import ape


def test_founders_are_active_members(consortium: Any, founders: list[Any]) -> None:
    assert consortium.activeMemberCount() == 3
    for founder in founders:
        assert consortium.isActiveMember(founder.address)


def test_admission_needs_a_majority_not_one_key(consortium: Any, founders: list[Any], accounts: Any) -> None:
    newcomer = accounts[5]
    consortium.propose(0, newcomer.address, 4, 0, sender=founders[0])
    proposal = consortium.proposalCount()
    assert not consortium.isActiveMember(newcomer.address)

    consortium.vote(proposal, sender=founders[1])

    assert consortium.isActiveMember(newcomer.address)


def test_a_stranger_cannot_propose(consortium: Any, accounts: Any) -> None:
    with ape.reverts():
        consortium.propose(0, accounts[6].address, 2, 0, sender=accounts[6])
