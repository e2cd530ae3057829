# ruff: noqa: RUF001
"""What `famchain audit` shows people: each event in a sentence with names, section labels and dates (not Unix
seconds), in English by default and in Chinese under zh_CN."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from famchain import i18n
from famchain.cli.audit import _describe, party_name

DOCTOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PATIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GRANTEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
NOW = 1_780_000_000  # 2026-05-29 04:26 in Shanghai
DIAGNOSIS_AND_PRESCRIPTIONS = 0x18


@pytest.fixture(autouse=True)
def shanghai(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    monkeypatch.setenv("FAMCHAIN_HOME", str(tmp_path))  # an empty address book: addresses shown in full
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _grant() -> dict[str, object]:
    return {
        "patient": PATIENT,
        "grantee": GRANTEE,
        "sections": DIAGNOSIS_AND_PRESCRIPTIONS,
        "expiresAt": NOW + 30 * 86400,
        "bundleDigest": b"\x01" * 32,
    }


def test_a_consent_shows_its_end_as_a_date_with_what_is_left() -> None:
    text = _describe("ConsentGranted", _grant(), NOW)
    assert text == (
        f"consent to {GRANTEE}: diagnosis, prescriptions until 2026-06-28 (30 days) with the keys of the "
        "existing records"
    )
    assert str(NOW + 30 * 86400) not in text


def test_an_agreement_that_ended_says_when() -> None:
    args = {"resident": PATIENT, "doctor": DOCTOR, "endsAt": NOW - 2 * 86400}
    assert _describe("AgreementAccepted", args, NOW) == (
        f"agreement in force with doctor {DOCTOR} ended 2026-05-27 (2 days ago)"
    )


@pytest.mark.usefixtures("chinese")
def test_the_audit_reads_in_chinese() -> None:
    assert _describe("ConsentGranted", _grant(), NOW) == (
        f"授权给 {GRANTEE}：诊断、处方，至 2026-06-28（还剩 30 天），附现有病历的密钥"
    )
    anchored = {
        "recordId": b"\xab" * 32,
        "previous": b"\x00" * 32,
        "sections": DIAGNOSIS_AND_PRESCRIPTIONS,
        "author": DOCTOR,
    }
    assert _describe("RecordAnchored", anchored, NOW) == (
        f"病历 0x{'ab' * 32}（新病历；诊断、处方），作者 {DOCTOR}"
    )
    proposed = {"resident": PATIENT, "doctor": DOCTOR, "proposer": PATIENT}
    assert _describe("AgreementProposed", proposed, NOW) == f"居民向医生 {DOCTOR} 提议家庭医生签约"
    terminated = {"resident": PATIENT, "doctor": DOCTOR, "by": PATIENT}
    assert _describe("AgreementTerminated", terminated, NOW) == f"与医生 {DOCTOR} 的签约被居民终止"
    assert _describe("ResidentRegistered", {"resident": PATIENT}, NOW) == "已登记，附加密密钥和加密的基本信息"


def test_an_address_the_user_named_keeps_its_full_form_beside_the_name(tmp_path: Path) -> None:
    (tmp_path / "contacts.json").write_text(json.dumps({"contacts": [{"address": DOCTOR, "name": "Dr Li"}]}))
    args = {"resident": PATIENT, "doctor": DOCTOR, "proposer": DOCTOR}
    assert _describe("AgreementProposed", args, NOW) == (
        f"doctor {DOCTOR} (Dr Li) proposed a family-doctor agreement to the resident"
    )
    i18n.use_language("zh_CN")
    try:
        assert _describe("AgreementProposed", args, NOW) == f"医生 {DOCTOR}（Dr Li） 向居民提议家庭医生签约"
    finally:
        i18n.use_language("en")
    assert party_name(PATIENT) == PATIENT  # no name given: the address alone
