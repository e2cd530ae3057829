"""What `famchain emergency` shows people: names, local times, section labels and reasons in their language."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from famchain import i18n
from famchain.cli import emergency
from famchain.cli.contacts import AddressBook
from famchain.records.emergency import EmergencyInfo, EmergencyReason, EmergencyReview, ShareApproval
from famchain.storage.cid import Cid

PATIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PHYSICIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
HOSPITAL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
CUSTODIAN = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
DECLARED = 1_780_000_000  # 2026-05-29 04:26 in Shanghai


@pytest.fixture(autouse=True)
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def book(tmp_path: Path) -> AddressBook:
    return AddressBook(
        tmp_path / "contacts.json",
        {PATIENT: "Zhang Min", PHYSICIAN: "Dr Li", HOSPITAL: "Example Hospital"},
        frozenset({CUSTODIAN.lower()}),
    )


def _info(**changes: object) -> EmergencyInfo:
    fields: dict[str, object] = {
        "emergency_id": 7,
        "patient": PATIENT,
        "physician": PHYSICIAN,
        "institution": HOSPITAL,
        "reason": int(EmergencyReason.POISONING),
        "sections": 0x18,  # diagnosis, prescriptions
        "card_length": 3,
        "card_head": b"\x00" * 32,
        "declared_at": DECLARED,
        "expires_at": DECLARED + 86400,
        "threshold": 2,
        "declared_block": 40,
        "declared_tx": "0x" + "11" * 32,
        "approvals": (ShareApproval(CUSTODIAN, Cid("bafy"), 1, 41, "0x" + "22" * 32),),
        "reviews": (),
    }
    fields.update(changes)
    return EmergencyInfo(**fields)  # type: ignore[arg-type]


def test_an_emergency_is_described_with_names_local_times_and_dated_blocks(book: AddressBook) -> None:
    lines = emergency.describe(_info(), DECLARED + 3600, book, block_time=lambda block: DECLARED + 60)
    assert lines == [
        "emergency 7 for Zhang Min (0x7099…79C8): waiting for custodians (1 of 2)",
        "  declared 2026-05-29 04:26 CST by Dr Li (0x3C44…93BC) of Example Hospital (0x90F7…b906)",
        "  reason: poisoning (poisoning or overdose)",
        "  covers: diagnosis, prescriptions of the 3 records anchored before it; until 2026-05-30 (23 hours)",
        "  custodians: 1 of 2 approved",
        "    my key (0x15d3…6A65) released its shares in block 41 (2026-05-29 04:27 CST)",
        "  review: not reviewed",
    ]


def test_an_emergency_is_described_in_chinese(book: AddressBook) -> None:
    info = _info(
        approvals=(
            ShareApproval(CUSTODIAN, Cid("bafy"), 1, 41, "0x"),
            ShareApproval(HOSPITAL, Cid("bafy"), 2, 42, "0x"),
        ),
        opened_block=42,
        reviews=(EmergencyReview(PATIENT, True, 50, "0x"),),
    )
    before = i18n.language()
    i18n.use_language("zh_CN")
    try:
        lines = emergency.describe(info, DECLARED + 2 * 86400, book)
    finally:
        i18n.use_language(before)
    assert lines[0] == "Zhang Min (0x7099…79C8) 的紧急访问 7：已结束（曾开启）"  # noqa: RUF001
    assert (
        lines[2] == "  原因：poisoning（中毒或药物过量）" or lines[2] == "  原因：poisoning (中毒或药物过量)"  # noqa: RUF001
    )
    assert lines[3] == "  涵盖：在此之前锚定的 3 份病历中的诊断、处方；已于 2026-05-30 结束（1 天前）"  # noqa: RUF001
    assert "Example Hospital (0x90F7…b906) 已在区块 42发放其密钥份额" in lines[6]
    assert lines[-1] == "  复核：有异议；Zhang Min (0x7099…79C8) 有异议"  # noqa: RUF001


@pytest.mark.parametrize("reason", list(EmergencyReason))
def test_every_reason_has_its_description_for_people(reason: EmergencyReason) -> None:
    assert emergency.REASONS[int(reason)] == reason.description
    assert emergency.reason(int(reason)) == f"{reason.label} ({reason.description})"


def test_an_unknown_reason_and_the_states() -> None:
    assert emergency.reason(9) == "reason 9"
    assert emergency.state(_info(), DECLARED) == "waiting for custodians (1 of 2)"
    assert emergency.state(_info(threshold=1), DECLARED) == "open"
    assert emergency.state(_info(), DECLARED + 86400) == "expired (never opened)"
    assert emergency.state(_info(opened_block=41), DECLARED + 86400) == "over (was opened)"
