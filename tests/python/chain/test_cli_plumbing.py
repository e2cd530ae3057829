"""The CLI's plumbing on a devnet: open proposals with their votes, public lookups without a keystore, contract
refusals in sentences, prompts that default to no, audit lines that name the right parties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli_support import Cli
from eth_account import Account

from _world import World

pytestmark = pytest.mark.usefixtures("light_keystores")


def test_consortium_proposals_lists_open_ones_with_their_votes(cli: Cli, world: World) -> None:
    newcomer = Account.create().address
    assert cli.ok(None, "consortium", "proposals").stdout.startswith("no proposal open for votes")
    made = cli.json(
        world.consortium, "consortium", "propose", "admit", newcomer, "--kind", "research", "--yes"
    )
    proposal = made["proposal"]
    assert made["executed"] is False
    cli.tx(world.hospital, "consortium", "vote", str(proposal))

    # a public lookup: no keystore needed
    listed = cli.json(None, "consortium", "proposals")["proposals"]
    assert [p["proposal"] for p in listed] == [proposal]
    row = listed[0]
    assert row["action"] == "admit"
    assert row["institution"] == newcomer
    assert row["kind"] == "research"
    assert row["proposer"] == world.consortium.address
    assert set(row["voters"]) == {world.consortium.address, world.hospital.address}
    tally = world.chain.consortium.tally(proposal)
    assert (row["approvals"], row["required"]) == tally
    assert row["state"] == "open"
    text = cli.ok(None, "consortium", "proposals").stdout
    assert f"proposal {proposal}: admit {newcomer} as research (open)" in text
    assert f"approvals of active members: {tally[0]} of {tally[1]} needed" in text
    assert f"voted: {world.hospital.address}" in text
    assert "None" not in text

    # a second vote by the same member is refused in a sentence, and sends nothing
    message = cli.fail(world.hospital, "consortium", "vote", str(proposal), "--yes")
    assert message.startswith(f"{world.hospital.address} has already voted on proposal {proposal}")

    cli.tx(world.insurer_admin, "consortium", "vote", str(proposal))
    assert world.chain.consortium.member(newcomer).status.name == "ACTIVE"
    assert cli.json(None, "consortium", "proposals")["proposals"] == []
    closed = cli.json(None, "consortium", "proposals", "--all")["proposals"]
    assert [(p["proposal"], p["state"]) for p in closed] == [(proposal, "carried")]
    message = cli.fail(world.research, "consortium", "execute", str(proposal), "--yes")
    assert message.startswith(f"proposal {proposal} has already passed and been carried out")


def test_public_lookups_need_no_keystore(cli: Cli, world: World) -> None:
    members = cli.json(None, "consortium", "members")
    assert world.consortium.address in {m["institution"] for m in members["members"]}
    audit = cli.json(None, "audit", "--patient", world.patient.address)
    assert audit["patient"] == world.patient.address
    assert audit["events"]
    shown = cli.json(None, "resident", "show", world.patient.address)
    assert shown["family_doctor"] == world.family_doctor.address
    assert shown["basic_information"] is None
    assert "pass --keystore" in shown["withheld"]


def test_resident_show_leaks_no_python_none(cli: Cli, world: World, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"name": "李四", "sex": "male", "birth_date": "1970-01-01"}))
    cli.tx(world.outsider, "resident", "register", "--profile", str(profile))
    text = cli.ok(None, "resident", "show", world.outsider.address).stdout
    assert ["family", "doctor:", "none"] in [line.split() for line in text.splitlines()]  # aligned fields
    assert "None" not in text
    own = cli.ok(world.outsider, "resident", "show").stdout
    assert ["family", "doctor:", "none"] in [line.split() for line in own.splitlines()]
    assert "name: 李四" in own
    assert "None" not in own


def _exports(stdout: str) -> dict[str, str]:
    """The variables `eval "$(famchain devnet up | grep '^export')"` would set."""
    import shlex

    found: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith("export "):
            for word in shlex.split(line.removeprefix("export ")):
                key, _, value = word.partition("=")
                found[key] = value
    return found


def test_devnet_up_again_in_the_shell_of_its_exports_and_down_without_dir(tmp_path: Path) -> None:
    from _cli_support import command
    from click.testing import CliRunner

    from famchain.devnet._process import alive

    runner = CliRunner(mix_stderr=False)
    home, first_dir, second_dir = tmp_path / "home", tmp_path / "first", tmp_path / "second"
    shell: dict[str, str | None] = {"FAMCHAIN_HOME": str(home), "FAMCHAIN_DEVNET_DIR": None}
    up = runner.invoke(command(), ["devnet", "up", "--dir", str(first_dir)], env=shell)
    assert up.exit_code == 0, up.stderr
    first = _exports(up.stdout)
    assert first["FAMCHAIN_IPFS_BACKEND"] == "kubo"
    assert first["FAMCHAIN_DEVNET_DIR"] == str(first_dir.resolve())
    shell.update(first)
    infos = []
    try:
        # the exported backend points at the first devnet's store: a second one still starts its own
        again = runner.invoke(command(), ["devnet", "up", "--dir", str(second_dir), "--json"], env=shell)
        assert again.exit_code == 0, again.stderr
        infos.append(json.loads(again.stdout))
        assert infos[0]["running"] is True
        assert infos[0]["ipfs_url"] != first["FAMCHAIN_IPFS_API"]
        stopped = runner.invoke(command(), ["devnet", "down", "--dir", str(second_dir)], env=shell)
        assert stopped.stdout.strip() == f"devnet stopped ({second_dir})"
    finally:
        # `devnet down` with no --dir, in the shell of the first `up`'s exports, finds the first devnet
        down = runner.invoke(command(), ["devnet", "down"], env=shell)
    assert down.exit_code == 0, down.stderr
    assert down.stdout.strip() == f"devnet stopped ({first_dir.resolve()})"
    assert not any(alive(i["store_pid"]) or alive(i["anvil_pid"]) for i in infos)

    # nothing left here, and nothing running elsewhere: `down` says where it looked
    shell["FAMCHAIN_DEVNET_DIR"] = None
    nothing = runner.invoke(command(), ["devnet", "down"], env=shell)
    assert nothing.stdout.strip() == f"no devnet was running in {home / 'devnet'}"


def test_devnet_down_elsewhere_names_the_running_devnet(tmp_path: Path) -> None:
    from _cli_support import command
    from click.testing import CliRunner

    runner = CliRunner(mix_stderr=False)
    home, state = tmp_path / "home", tmp_path / "mine"
    shell: dict[str, str | None] = {"FAMCHAIN_HOME": str(home), "FAMCHAIN_DEVNET_DIR": None}
    up = runner.invoke(command(), ["devnet", "up", "--dir", str(state)], env=shell)
    assert up.exit_code == 0, up.stderr
    try:
        # another shell, without the exports: `down` does not stop it silently, it says where it runs
        elsewhere = runner.invoke(command(), ["devnet", "down"], env=shell)
        assert elsewhere.exit_code == 0
        assert f"the last `famchain devnet up` started one in {state.resolve()}" in elsewhere.stdout
        assert f"`famchain devnet down --dir {state.resolve()}`" in elsewhere.stdout
    finally:
        down = runner.invoke(command(), ["devnet", "down", "--dir", str(state)], env=shell)
    assert down.stdout.strip() == f"devnet stopped ({state})"


VISIT = {
    "version": 1,
    "sections": {"diagnosis": [{"text": "Stable angina", "code": "I20.8", "system": "ICD-10"}]},
}


def test_the_outbox_error_counts_each_state_apart(cli: Cli, world: World, tmp_path: Path) -> None:
    from _cli_support import closed_port

    p, d = world.patient, world.family_doctor
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(VISIT))
    cli.tx(d, "record", "submit", "--patient", p.address, "--file", str(visit))
    record = cli.json(d, "record", "list", "--patient", p.address)["records"][0]["record"]
    # an amendment prepared and waiting for the patient's signature
    cli.ok(d, "record", "update", record, "--file", str(visit), "-o", str(tmp_path / "approval.json"))
    down = f"http://127.0.0.1:{closed_port()}"
    message = cli.fail(
        d, "record", "submit", "--patient", p.address, "--file", str(visit), "--yes", FAMCHAIN_IPFS_API=down
    )
    states = sorted(e["state"] for e in cli.json(d, "outbox", "list"))
    assert states == ["awaiting_approval", "sealed"]
    assert message.startswith(
        "1 record queued in the outbox (1 not stored yet), and 1 update awaiting the patient's approval: "
    )
    assert message.endswith("once the patient signs it (`famchain record approve`)")
    assert "2 records" not in message


def test_the_audit_names_each_party_from_the_event(cli: Cli, world: World, tmp_path: Path) -> None:
    p, d, insurer = world.patient, world.family_doctor, world.insurer
    visit = tmp_path / "visit.json"
    visit.write_text(json.dumps(VISIT))
    cli.tx(d, "record", "submit", "--patient", p.address, "--file", str(visit))
    record = cli.json(d, "record", "list", "--patient", p.address)["records"][0]["record"]
    # the patient grants the insurer one section
    cli.tx(p, "consent", "grant", insurer.address, "--sections", "diagnosis")
    # the author shares a record with the grantee: the author releases, the grantee receives
    cli.tx(d, "record", "share", record, "--to", insurer.address)
    text = cli.ok(None, "audit", "--patient", p.address).stdout
    proposed = next(line for line in text.splitlines() if "AgreementProposed" in line)
    # the world's doctor proposed: the audit says so, not "proposed by the doctor with the doctor"
    assert proposed.endswith(f"doctor {d.address} proposed a family-doctor agreement to the resident")
    released = [line for line in text.splitlines() if "KeysReleased" in line]
    assert released, text
    assert released[-1].endswith(f"released to {insurer.address} by {d.address}, a reader of those sections")
    assert f"by {insurer.address}" not in text


def test_no_consent_ends_with_the_next_step(cli: Cli, world: World) -> None:
    p, stranger = world.patient, world.stranger
    message = cli.fail(p, "consent", "sync", stranger.address, "--yes")
    assert message.startswith(f"no consent to read is in force from {p.address} to {stranger.address}: ")
    assert message.endswith(f"(`famchain consent request {p.address}`)")


def test_an_account_without_ether_is_told_to_fund_it(cli: Cli, world: World, tmp_path: Path) -> None:
    broke = Account.create()
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"name": "王五", "sex": "male", "birth_date": "1980-05-05"}))
    message = cli.fail(broke, "resident", "register", "--profile", str(profile), "--yes")
    assert not message.startswith("unexpected"), message
    assert message.startswith(f"{broke.address} has not enough ether to pay for this transaction"), message
    assert message.endswith(f"`famchain devnet fund {broke.address}`)")


def test_the_audit_and_a_contract_refusal_read_in_chinese(cli: Cli, world: World) -> None:
    import re

    from famchain import i18n

    p = world.patient
    events = cli.json(None, "audit", "--patient", p.address)["events"]
    i18n.use_language("zh_CN")
    try:
        text = cli.ok(None, "audit", "--patient", p.address).stdout
        refusal = cli.fail(world.research, "consortium", "execute", "999999", "--yes")
    finally:
        i18n.use_language("en")
    registered = next(line for line in text.splitlines() if "ResidentRegistered" in line)
    # the block with its date, then the event in Chinese
    assert re.match(r"区块 \d+（\d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+）", registered), registered  # noqa: RUF001
    assert registered.endswith("已登记，附加密密钥和加密的基本信息")  # noqa: RUF001
    accepted = next(line for line in text.splitlines() if "AgreementAccepted" in line)
    ends = next(e["args"]["endsAt"] for e in events if e["event"] == "AgreementAccepted")
    assert str(ends) not in accepted  # a date, not Unix seconds
    assert re.search(r"，至 \d{4}-\d{2}-\d{2}（还剩 \d+ 天）$", accepted), accepted  # noqa: RUF001
    assert refusal.startswith("没有提案 999999：")  # noqa: RUF001


def test_no_consent_is_one_chinese_line(cli: Cli, world: World) -> None:
    from famchain import i18n

    p, stranger = world.patient, world.stranger
    i18n.use_language("zh_CN")
    try:
        message = cli.fail(p, "consent", "sync", stranger.address, "--yes")
    finally:
        i18n.use_language("en")
    assert message == (
        f"{p.address} 对 {stranger.address} 没有生效中的读取授权：请先授权（`famchain consent grant "  # noqa: RUF001
        f"{stranger.address}`），或由 {stranger.address} 申请（`famchain consent request {p.address}`）"  # noqa: RUF001
    )
