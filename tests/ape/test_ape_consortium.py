"""`ape test`: the contracts compile, deploy in order and behave under ape-foundry too."""

from __future__ import annotations

from typing import Any

import ape
from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak

ADMIT, SUSPEND = 0, 1
RESEARCH = 4
NO_PARAMETER = 0
ZERO = "0x" + "00" * 20
YEAR = 365 * 24 * 3600


def _public_key(account: Any) -> bytes:
    """The 64-byte uncompressed public key of an ape test account (a valid secp256k1 point)."""
    return keys.PrivateKey(bytes.fromhex(account.private_key.removeprefix("0x"))).public_key.to_bytes()


def test_founders_are_active_members(consortium: Any, founders: list[Any]) -> None:
    assert consortium.activeMemberCount() == 3
    for founder in founders:
        assert consortium.isActiveMember(founder.address)
        assert consortium.memberEpoch(founder.address) == 1


def test_admission_needs_a_majority_not_one_key(consortium: Any, founders: list[Any], accounts: Any) -> None:
    newcomer = accounts[5]
    consortium.propose(ADMIT, newcomer.address, ZERO, RESEARCH, NO_PARAMETER, 0, sender=founders[0])
    proposal = consortium.proposalCount()
    assert not consortium.isActiveMember(newcomer.address)
    assert consortium.activeApprovals(proposal) == 1
    assert consortium.requiredApprovals(proposal) == 2

    consortium.vote(proposal, sender=founders[1])

    assert consortium.isActiveMember(newcomer.address)


def test_removal_does_not_need_the_targets_vote(consortium: Any, founders: list[Any]) -> None:
    consortium.propose(SUSPEND, founders[2].address, ZERO, 0, NO_PARAMETER, 0, sender=founders[0])
    proposal = consortium.proposalCount()
    consortium.vote(proposal, sender=founders[1])
    assert not consortium.isActiveMember(founders[2].address)


def test_a_stranger_cannot_propose(consortium: Any, accounts: Any) -> None:
    with ape.reverts():
        consortium.propose(ADMIT, accounts[6].address, ZERO, 2, NO_PARAMETER, 0, sender=accounts[6])


def test_deploy_order_links_the_five_contracts(
    consortium: Any, residents: Any, consents: Any, records: Any, emergency: Any
) -> None:
    assert residents.consortium() == consortium.address
    assert consents.consortium() == consortium.address
    assert consents.residentRegistry() == residents.address
    assert records.consentRegistry() == consents.address
    assert records.residentRegistry() == residents.address
    assert records.retention(0) == 15 * YEAR
    assert records.retention(1) == 30 * YEAR
    assert emergency.recordRegistry() == records.address
    assert consortium.parameter(1) == 2  # CustodianThreshold


def test_patient_anchors_on_own_card_with_a_derived_record_id(
    accounts: Any, residents: Any, records: Any
) -> None:
    patient = accounts[7]
    residents.register(_public_key(accounts[8]), keccak(b"profile"), sender=patient)
    salt, digest = keccak(b"salt"), keccak(b"sealed record")
    anchor = (salt, b"\x00" * 32, digest, 0x08, 0x55, 0)

    receipt = records.anchor(patient.address, b"\x00" * 24, anchor, sender=patient)

    fields = [patient.address, patient.address, salt, digest, 0x55]
    expected = keccak(encode(["address", "address", "bytes32", "bytes32", "uint8"], fields))
    assert records.recordIdOf(patient.address, patient.address, salt, digest, 0x55) == expected
    [event] = receipt.decode_logs(records.RecordAnchored)
    assert event.recordId == expected
    assert records.card(patient.address)[1] == 1


def test_a_stranger_cannot_anchor_on_an_unregistered_card(accounts: Any, records: Any) -> None:
    stranger = accounts[9]
    anchor = (keccak(b"s"), b"\x00" * 32, keccak(b"c"), 0x08, 0x55, 0)
    with ape.reverts():
        records.anchor(stranger.address, b"\x00" * 24, anchor, sender=stranger)
