# ruff: noqa: RUF001
"""Errors in the user's language: famchain's own errors, the contracts' refusals and click's usage errors (with
the "did you mean" that follows a mistyped command) read in Chinese under zh_CN and stay English otherwise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from famchain import i18n
from famchain.chain.revert import decode_revert
from famchain.errors import (
    KeyNotReleasedError,
    QueuedError,
    RpcUnavailableError,
    StoreUnavailableError,
    UnknownSectionError,
)

FAMCHAIN = [sys.executable, "-m", "famchain"]
PATIENT = to_checksum_address("0x" + "aa" * 20)
GRANTEE = to_checksum_address("0x" + "bb" * 20)


def _han(text: str) -> int:
    """How many Chinese characters ``text`` holds."""
    return sum("\u4e00" <= c <= "\u9fff" for c in text)


def _revert(name: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(f"{name}({','.join(types)})") + abi_encode(types, values)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _famchain(*args: str, lang: str | None = "zh_CN", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FAMCHAIN_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    env.update(extra)
    if lang:
        env["FAMCHAIN_LANG"] = lang
    return subprocess.run([*FAMCHAIN, *args], env=env, capture_output=True, text=True, check=False)


@pytest.mark.usefixtures("chinese")
def test_a_contract_refusal_reads_in_chinese_with_its_values() -> None:
    error = decode_revert(_revert("ConsentRegistryNotGranted", ["address", "address"], [PATIENT, GRANTEE]))
    assert error.error_name == "ConsentRegistryNotGranted"
    assert (
        str(error) == f"{PATIENT} 对 {GRANTEE} 没有生效中的授权：没有可撤销的内容（`famchain consent list`）"
    )
    whole_card = decode_revert(
        _revert("RecordRegistryNoDeletionRequest", ["address", "bytes32"], [PATIENT, bytes(32)])
    )
    assert "未申请删除整张就诊卡" in str(whole_card)  # the helper's own words are translated too
    panic = decode_revert(bytes.fromhex("4e487b71") + abi_encode(["uint256"], [0x11]))
    assert str(panic) == "合约异常：算术溢出"


@pytest.mark.usefixtures("chinese")
def test_famchain_errors_read_in_chinese() -> None:
    rpc = RpcUnavailableError("http://127.0.0.1:9", "connection refused")
    assert str(rpc).startswith("无法连接 RPC 端点 http://127.0.0.1:9：connection refused；")
    assert "`famchain devnet up`" in str(rpc)
    store = StoreUnavailableError("http://127.0.0.1:5001", "timeout")
    assert str(store).startswith("无法连接位于 http://127.0.0.1:5001 的内容存储")
    queued = QueuedError(2, "the chain is down", stored=1, awaiting_approval=1)
    assert str(queued) == (
        "发件箱中有 2 份病历排队（1 份尚未存储、1 份已存储、尚未锚定），另有 1 项更新等待患者批准：the chain is down；"
        "`famchain outbox flush` 会将它们恰好锚定一次；待批准的更新在患者签署后发出（`famchain record approve`）"
    )
    no_key = KeyNotReleasedError(GRANTEE, PATIENT, PATIENT, "0x01")
    assert str(no_key).startswith(f"{GRANTEE} 可以读取病历 0x01，但尚未向 {GRANTEE} 发放它的密钥")
    assert str(UnknownSectionError("x", ())) == "此信封中没有部分 'x'（现有：无）"


def test_errors_stay_english_by_default() -> None:
    assert i18n.language() == "en"
    queued = QueuedError(1, "the chain is down")
    assert str(queued) == (
        "1 record queued in the outbox (1 not stored yet): the chain is down; they will be anchored exactly once "
        "by `famchain outbox flush`"
    )
    two = QueuedError(2, "down", stored=2)
    assert str(two).startswith("2 records queued in the outbox (2 stored, not anchored yet): down;")
    refusal = decode_revert(_revert("ConsentRegistryNotGranted", ["address", "address"], [PATIENT, GRANTEE]))
    assert str(refusal).startswith(f"{PATIENT} has no consent in force for {GRANTEE}: nothing to revoke")
    assert _han(str(refusal)) == 0


def test_an_unreachable_rpc_is_one_chinese_line_on_the_command_line() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = _famchain("audit", "--patient", PATIENT, "--rpc-url", url)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: 无法连接 RPC 端点 {url}：连接被拒绝或主机不可达；")
    assert "Traceback" not in result.stderr


def test_a_bad_address_is_one_chinese_line_on_the_command_line() -> None:
    result = _famchain("audit", "--patient", "0x12", "--rpc-url", f"http://127.0.0.1:{_closed_port()}")
    assert result.returncode == 1
    assert result.stderr == "error: 患者 '0x12' 不是以太坊地址（0x 后跟 40 位十六进制数）\n"
    english = _famchain("audit", "--patient", "0x12", lang=None)
    assert english.stderr == (
        "error: patient '0x12' is not an Ethereum address (0x followed by 40 hex digits)\n"
    )


def test_a_usage_error_is_one_chinese_line_on_the_command_line() -> None:
    result = _famchain("audit", "--patient")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "--patient" in lines[0]
    assert _han(lines[0]) > 4, lines[0]


def test_did_you_mean_follows_a_mistyped_command_in_chinese() -> None:
    root = _famchain("consnet")
    assert root.returncode == 2
    assert (
        root.stderr.strip() == "error: 没有命令 'consnet'。您是不是要输入 'consent'？（参见 'famchain -h'）"
    )
    sub = _famchain("consortium", "propse")
    assert "您是不是要输入 'propose' 或 'proposals'？" in sub.stderr
    english = _famchain("consnet", lang=None)
    assert (
        english.stderr.strip()
        == "error: No such command 'consnet'. Did you mean 'consent'? (see 'famchain -h')"
    )


def test_devnet_status_speaks_chinese(tmp_path: Path) -> None:
    empty = tmp_path / "devnet"
    env = {"FAMCHAIN_HOME": str(tmp_path / "home")}
    result = _famchain("devnet", "status", "--dir", str(empty), **env)
    assert result.returncode == 1
    assert result.stdout == f"{empty} 中没有开发链\n"
    english = _famchain("devnet", "status", "--dir", str(empty), lang=None, **env)
    assert english.stdout == f"no devnet in {empty}\n"
    fund = _famchain("devnet", "fund", "0x" + "11" * 20, "--eth", "-1", **env)
    assert fund.stderr == "error: --eth 必须是非负数额，而不是 -1.0\n"


@pytest.mark.usefixtures("chinese")
def test_keystore_errors_read_in_chinese(tmp_path: Path) -> None:
    from famchain.crypto import keystore
    from famchain.errors import InputError, WalletError, WrongPasswordError

    assert str(WrongPasswordError(PATIENT)) == f"{PATIENT} 的密码错误：密钥库 MAC 不匹配"
    with pytest.raises(InputError, match=r"^既不是地址也不是密钥库文件：nonsense$"):
        keystore.find_keystore("nonsense", tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(WalletError, match=r"^不是 V3 密钥库："):
        keystore.find_keystore(str(broken), tmp_path)


@pytest.mark.usefixtures("chinese")
def test_a_malformed_record_reads_in_chinese(tmp_path: Path) -> None:
    from famchain.errors import InputError
    from famchain.records.model import load_record, parse_record

    broken = tmp_path / "visit.json"
    broken.write_text("{oops")
    with pytest.raises(InputError, match=r"visit\.json：第 1 行第 2 列 JSON 无效："):
        load_record(broken)
    with pytest.raises(InputError, match=r"^sections：一份病历至少需要一个部分$"):
        parse_record({"sections": {}}, [])
    with pytest.raises(InputError, match=r"^sections：应为“部分名称 -> 内容”的对象$"):
        parse_record({}, [])


@pytest.mark.usefixtures("chinese")
def test_a_bad_envelope_reads_in_chinese() -> None:
    from famchain.crypto.envelope import SealedEnvelope
    from famchain.errors import MalformedError

    with pytest.raises(MalformedError) as empty:
        SealedEnvelope.from_bytes(b"")
    assert str(empty.value) == "格式错误的信封：magic 需要 4 字节，只剩 0 字节（在第 0 字节处）"
    with pytest.raises(MalformedError) as garbage:
        SealedEnvelope.from_bytes(b"\x00" * 64)
    assert str(garbage.value) == "格式错误的信封：magic 错误（在第 4 字节处）"


@pytest.mark.usefixtures("chinese")
def test_a_bad_cid_reads_in_chinese() -> None:
    from famchain.errors import InputError
    from famchain.storage.cid import parse_cid

    with pytest.raises(InputError) as short:
        parse_cid("bafkrei")
    assert str(short.value) == "无效的 CID 'bafkrei'：CID 的 base32 正文长度不可能成立（6 个字符）"
    with pytest.raises(InputError, match=r"^无效的 CID 'bafyBAD'：CID 的 base32 正文必须是非空的小写"):
        parse_cid("bafyBAD")


@pytest.mark.usefixtures("chinese")
def test_a_bad_fhir_bundle_reads_in_chinese() -> None:
    from famchain.errors import InputError
    from famchain.fhir.importing import import_bundle

    with pytest.raises(InputError) as patient:
        import_bundle({"resourceType": "Patient"})
    assert str(patient.value) == "应为 FHIR Bundle，实际为 'Patient'"
    with pytest.raises(
        InputError, match=r"^Bundle 中没有 famchain 可记入病历的内容（.*）；famchain 映射的是 Encounter, "
    ):
        import_bundle({"resourceType": "Bundle", "type": "collection", "entry": []})


def test_the_same_library_errors_stay_english_by_default(tmp_path: Path) -> None:
    from famchain.crypto.envelope import SealedEnvelope
    from famchain.errors import InputError, MalformedError
    from famchain.fhir.importing import import_bundle
    from famchain.records.model import parse_record
    from famchain.storage.cid import parse_cid

    assert i18n.language() == "en"
    with pytest.raises(InputError, match=r"^sections: a record needs at least one section$"):
        parse_record({"sections": {}}, [])
    with pytest.raises(
        MalformedError, match=r"^malformed envelope: magic needs 4 bytes, only 0 left \(at byte 0\)$"
    ):
        SealedEnvelope.from_bytes(b"")
    with pytest.raises(InputError, match=r"impossible length \(6 characters\)$"):
        parse_cid("bafkrei")
    with pytest.raises(InputError, match=r"^expected a FHIR Bundle, got 'Patient'$"):
        import_bundle({"resourceType": "Patient"})


PACKAGE = Path(__file__).resolve().parents[2] / "python" / "famchain"
_NOT_LIBRARY = ("cli", "bench", "devnet")  # the command line (its own _() checks) and the developer tools
_NOT_LIBRARY_FILES = ("settings.py", "soak.py")


def _untranslated(source: str) -> list[int]:
    """Lines where an error is built from a bare string or f-string literal instead of ``_()``.

    An error is a call to a name ending in ``Error`` that is not a Python built-in (those mark programming
    errors, never shown to users), or a reason given to ``_fail(where, reason)`` / ``reader.fail(reason)``.
    """
    import ast
    import builtins

    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name.endswith("Error") and not hasattr(builtins, name):
            args = (
                node.args[:1] if name == "ContractRevertError" else node.args
            )  # its second is an error name
        elif name in ("_fail", "fail"):
            args = node.args[1:] if name == "_fail" else node.args  # _fail's first is the field's path
        else:
            continue
        if any(
            isinstance(a, ast.JoinedStr) or (isinstance(a, ast.Constant) and isinstance(a.value, str))
            for a in args
        ):
            lines.append(node.lineno)
    return lines


def test_the_untranslated_error_check_finds_bare_strings() -> None:
    source = (
        'raise InputError(f"bad {x}")\n'
        'raise MalformedError(_("envelope"), "bad magic")\n'
        'raise rd.fail("truncated")\n'
        'raise InputError(_("bad {x}").format(x=x))\n'
        'raise _fail("sections", _("must not be empty"))\n'
        'raise ValueError("a programming error")\n'
    )
    assert _untranslated(source) == [1, 2, 3]


def test_every_library_error_is_built_through_gettext() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in _NOT_LIBRARY or relative.name in _NOT_LIBRARY_FILES:
            continue
        offenders += [f"{relative}:{line}" for line in _untranslated(path.read_text(encoding="utf-8"))]
    assert offenders == [], "errors built from a bare string instead of _(): " + ", ".join(offenders)
