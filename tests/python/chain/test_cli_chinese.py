# ruff: noqa: RUF001 - the expected Chinese text has full-width punctuation
"""The consent, agreement, record and guardian commands under ``FAMCHAIN_LANG=zh_CN`` on the devnet: what
people read is Simplified Chinese (names, local dates, section labels), ``--json`` is the same as in English."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _cli_support import AMENDED, VISIT, Cli

from _world import World
from famchain import i18n

pytestmark = pytest.mark.usefixtures("light_keystores")


def _english(text: str) -> list[str]:
    """The English words left in ``text`` (addresses, ids and commands aside)."""
    import re

    text = re.sub(
        r"\bbaf[a-z2-7]+|0x[0-9a-fA-F…]+|`[^`]*`|famchain [a-z -]+|--[a-z-]+|\b[A-Z]{2,}\b", "", text
    )
    return re.findall(r"[A-Za-z]{3,}", text)


def test_guardians_in_chinese(cli: Cli, world: World, chinese: None) -> None:
    guardian = world.outsider.address
    appointed = cli.tx(
        world.patient, "guardian", "appoint", guardian, "--scope", "consent,records", "--days", "10"
    ).stdout
    (info,) = world.chain.guardians.list(world.patient.address)
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.expires_at))
    assert f"{guardian} 现为您的监护人，负责授权、病历，至 {day}（还剩 10 天）" in appointed
    listed = cli.ok(world.patient, "guardian", "list").stdout.splitlines()
    assert listed[0].split() == ["监护人", "状态", "范围", "有效期"]
    assert listed[1].split()[:4] == [guardian, "有效", "授权、病历", "至"]
    assert f"至 {day}（还剩 10 天）" in listed[1]
    assert cli.json(world.patient, "guardian", "list")["guardians"][0]["scope"] == ["consent", "records"]
    removed = cli.tx(world.patient, "guardian", "remove", guardian).stdout
    mine = f"我的密钥 ({world.patient.address[:6]}…{world.patient.address[-4:]})"  # the user's own keystore
    assert f"{guardian} 不再是 {mine} 的监护人" in removed
    assert not _english(removed + appointed)
    nobody = cli.ok(world.outsider, "guardian", "list").stdout.strip()
    assert nobody == f"我的密钥 ({world.outsider.address[:6]}…{world.outsider.address[-4:]}) 没有监护人"


def test_registration_and_agreement_in_chinese(cli: Cli, world: World, tmp_path: Path, chinese: None) -> None:
    import json

    from _world import PROFILE

    resident, doctor = world.outsider, world.family_doctor
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    registered = cli.tx(resident, "resident", "register", "--profile", str(profile)).stdout
    assert registered.startswith("已登记 我的密钥 (")
    assert "；加密的基本信息 " in registered
    shown = cli.ok(resident, "resident", "show").stdout
    assert "\n家庭医生：无\n就诊卡：  未锁定\n" in shown

    proposed = cli.tx(doctor, "agreement", "propose", resident.address, "--sections", "diagnosis,present_illness",
                      "--actions", "read", "--term-days", "90").stdout  # fmt: skip
    assert (
        f"已向 {resident.address} 提出签约：现病史、诊断；读取；为期 90 天；对方以 `famchain agreement accept "
        in (proposed)
    )
    waiting = cli.ok(resident, "agreement", "show").stdout.splitlines()
    assert waiting[0] == f"{resident.address}：没有生效的签约"
    assert (
        waiting[1] == f"医生 {doctor.address} 提出的签约：居民 {resident.address}，家庭医生 {doctor.address}"
    )
    assert waiting[2:5] == ["  病历部分：现病史、诊断", "  操作：    读取", "  期限：    90 天"]
    assert waiting[5].startswith("  已开启：  至 ")
    assert waiting[5].endswith("内可接受")
    incoming = cli.ok(resident, "agreement", "list", "--incoming").stdout
    assert (
        f"  接受：famchain agreement accept {doctor.address}   （拒绝：famchain agreement withdraw"
        in incoming
    )
    pending = cli.json(resident, "agreement", "show")["pending"][0]
    assert (pending["sections"], pending["actions"]) == (["present_illness", "diagnosis"], ["read"])

    accepted = cli.tx(resident, "agreement", "accept", doctor.address).stdout
    assert "  期限：    90 天（生效后至 " in accepted
    assert "的签约已生效" in accepted
    assert "与医生" in accepted
    active = cli.ok(resident, "agreement", "show").stdout
    assert f"{resident.address}：家庭医生 {doctor.address}（现病史、诊断；读取），至 " in active
    assert not _english(active + accepted + registered + proposed)
    assert cli.ok(doctor, "agreement", "list").stdout.strip() == "没有涉及您的签约提议"
    terminated = cli.tx(doctor, "agreement", "terminate", resident.address).stdout
    assert terminated.strip().endswith("的签约已解除")


def test_a_request_answered_and_revoked_in_chinese(cli: Cli, world: World, chinese: None) -> None:
    patient, specialist = world.patient.address, world.specialist.address
    asked = cli.tx(
        world.specialist, "consent", "request", patient, "--sections", "diagnosis,past_history",
        "--purpose", "referral", "--days", "14", "--contact", "ward 3",
    ).stdout  # fmt: skip
    assert asked.startswith("授权条款：\n  被授权方：")
    assert "\n  目的：     转诊\n" in asked
    assert "（既往史、诊断）；全部病历，包括以后锚定的病历\n" in asked
    assert (
        f"已向 {patient} 申请 既往史、诊断（转诊），为期 14 天；患者以 `famchain consent answer {specialist} --grant`"
        in (asked)
    )

    listed = cli.ok(world.patient, "consent", "list").stdout
    block = listed[listed.index(specialist) :].splitlines()
    institution = world.chain.consortium.practitioner(specialist).institution
    assert block[0] == f"{specialist}（{institution} 的医务人员）"
    assert block[1:4] == [
        "  没有生效的授权",
        "  申请：既往史、诊断（读取），为期 14 天",
        "    目的：     转诊",
    ]
    assert "    联系方式： ward 3" in block
    assert f"    答复：famchain consent answer {specialist} --grant   （或 --refuse）" in block
    in_english = cli.json(world.patient, "consent", "list")
    i18n.use_language("en")
    assert cli.json(world.patient, "consent", "list") == in_english  # --json is the same in every language
    i18n.use_language("zh_CN")

    granted = cli.tx(world.patient, "consent", "answer", specialist, "--grant").stdout
    assert "已授权 " + specialist + "：既往史、诊断；读取；转诊；至 " in granted
    assert "（还剩 14 天）" in granted
    assert "  处理方式： read through famchain（读取）" in granted
    now_in_force = cli.ok(world.patient, "consent", "list").stdout
    assert "  生效中的授权：既往史、诊断；读取；目的：转诊；至 " in now_in_force
    revoked = cli.tx(world.patient, "consent", "revoke", specialist).stdout
    assert revoked.strip() == f"已撤销对 {specialist} 的授权"
    # the terms' recipient, data and method are the committed text of the consent (default_terms): not translated
    assert not _english(asked.splitlines()[-1] + revoked)
    refused = cli.fail(world.patient, "consent", "answer", specialist, "--grant", "--yes")
    assert refused == f"{specialist} 没有向您提出待处理的访问申请：见 `famchain consent list`"


def test_records_and_an_amendment_in_chinese(cli: Cli, world: World, tmp_path: Path, chinese: None) -> None:
    import json

    p, d = world.patient, world.family_doctor
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(VISIT))
    submitted = cli.tx(d, "record", "submit", "--patient", p.address, "--file", str(visit)).stdout
    record = cli.json(p, "record", "list", "--patient", p.address)["records"][0]["record"]
    assert submitted.startswith(f"病历 {record} 已锚定于区块 ")

    listed = cli.ok(p, "record", "list", "--patient", p.address).stdout
    assert f"   0  {record}  作者 {d.address}  现病史、诊断、处方" in listed
    cli.tx(
        p,
        "consent",
        "grant",
        world.insurer.address,
        "--sections",
        "diagnosis",
        "--purpose",
        "insurance-claim",
    )
    read = cli.ok(world.insurer, "record", "read", record).stdout.splitlines()
    assert read[0] == f"病历 {record}，作者 {d.address}，患者 {p.address}"
    assert read[1] == '  诊断：[{"code": "J02.9", "text": "Pharyngitis"}]'
    assert any(line.startswith("  现病史：不可查看（") for line in read)

    amended = tmp_path / "amended.json"
    amended.write_text(json.dumps(AMENDED))
    approval = tmp_path / "approval.json"
    prepared = cli.ok(d, "record", "update", record, "--file", str(amended), "-o", str(approval))
    assert f"；批准请求已写入 {approval}" in prepared.stdout
    pending = cli.ok(p, "record", "pending", str(approval)).stdout
    assert f"{approval}：{d.address} 对病历 {record} 的修改 " in pending
    assert "（现病史、诊断、检查检验结果）：等待您批准，签署期限至 " in pending
    change = cli.ok(p, "record", "approve", str(approval), "--yes").stdout.splitlines()
    assert change[0].startswith(f"病历 {record} 的修改 ")
    assert change[0].endswith(" 改动如下：")
    assert any(line.startswith("  + 检查检验结果（新增）：") for line in change)
    assert any(line.startswith("  - 处方（删除）：") for line in change)
    assert "  ~ 诊断（改动）" in change
    assert "  = 未改动：现病史" in change
    assert change[-1].startswith("已批准病历 ")
    relayed = cli.tx(d, "record", "update", "--approval", str(approval)).stdout
    assert relayed.strip().endswith(f"已锚定（{record} 的新版本）")
    assert cli.ok(d, "record", "pending").stdout.strip() == "没有等待批准的修改"
    assert cli.ok(d, "outbox", "list").stdout.strip() == "发件箱为空"
