"""Property: whatever text is given where the CLI expects a record id or an address, the command either
succeeds or fails with exactly one ``error: ...`` line on stderr and a non-zero exit, never a traceback.

Transaction commands run without ``--yes``, so they parse their arguments and then stop at the confirmation:
nothing is sent whatever hypothesis draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _cli_support import Cli, one_error_line
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from _world import PROFILE, World

COMMANDS: list[tuple[str, ...]] = [
    ("record", "read", "{}"),
    ("record", "list", "--patient", "{}"),
    ("record", "update", "{}", "--file", "{visit}"),
    ("resident", "show", "{}"),
    ("agreement", "show", "{}"),
    ("agreement", "terminate", "{}"),
    ("consent", "list", "--patient", "{}"),
    ("consent", "revoke", "{}"),
    ("consent", "grant", "{}", "--sections", "diagnosis"),
    ("institution", "doctors", "{}"),
    ("audit", "--patient", "{}"),
    ("consortium", "vote", "{}"),
    ("deploy", "--dev", "--founder", "primary-care:{}", "--founder", "hospital:{hospital}"),
]


pytestmark = pytest.mark.usefixtures("light_keystores")


def _addressish(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=42))
    prefix = draw(st.sampled_from(["0x", "0X", "", " 0x", "0x0x"]))
    return prefix + digits + draw(st.sampled_from(["", " ", "\n", "g"]))


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Arbitrary text, hex of about the right lengths, and near-miss addresses and record ids."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(max_size=80))
    if kind == 1:
        return "0x" + draw(st.text(alphabet="0123456789abcdef", min_size=60, max_size=68))
    if kind == 2:
        return _addressish(draw)
    return draw(st.from_regex(r"-{0,2}[a-zA-Z0-9_:=. ]{0,20}", fullmatch=True))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), text=texts())
@example(command=COMMANDS[0], text="--help")
@example(command=COMMANDS[0], text="-")
@example(command=COMMANDS[1], text="")
@example(command=COMMANDS[3], text="0x" + "0" * 40)
@example(command=COMMANDS[0], text="0x" + "0" * 64)
@example(command=COMMANDS[11], text="-1")
@example(command=COMMANDS[11], text="1" * 90)
def test_arbitrary_ids_and_addresses_never_traceback(
    cli: Cli, world: World, tmp_path: Path, command: tuple[str, ...], text: str
) -> None:
    visit = tmp_path / "visit.json"
    visit.write_text('{"sections": {"present_illness": "x"}}')
    args = [a.format(text, visit=visit, hospital=world.hospital.address) for a in command]
    who = world.consortium if command[0] == "consortium" else world.patient
    nonce = world.chain.w3.eth.get_transaction_count(who.address)

    result = cli.invoke(who, *args)

    if result.exit_code != 0:
        message = one_error_line(result)
        assert not message.startswith("unexpected"), message  # an exception famchain did not mean to raise
    else:
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "error" not in result.stderr.lower()
    assert world.chain.w3.eth.get_transaction_count(who.address) == nonce


NUMERIC: list[tuple[str, ...]] = [
    ("consortium", "vote", "{}"),
    ("consortium", "propose", "set-threshold", "{consortium}", "--threshold-bps", "{}"),
    ("agreement", "propose", "{doctor}", "--term-days", "{}"),
    ("agreement", "renew", "--term-days", "{}"),
    ("consent", "grant", "{doctor}", "--days", "{}"),
    ("consent", "sign", "{doctor}", "--days", "{}", "-o", "{out}"),
    (
        "deploy",
        "--dev",
        "--founder",
        "primary-care:{consortium}",
        "--founder",
        "hospital:{doctor}",
        "--threshold-bps",
        "{}",
    ),
    (
        "deploy",
        "--dev",
        "--founder",
        "primary-care:{consortium}",
        "--founder",
        "hospital:{doctor}",
        "--voting-period-days",
        "{}",
    ),
]

numbers = st.one_of(
    st.integers(min_value=-(2**300), max_value=2**300).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["0", "-0", "1e30", "1e-30", "nan", "-inf", "0x10", "", "1_000", "٣"]),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(NUMERIC), number=numbers)
@example(command=NUMERIC[0], number=str(2**256))
@example(command=NUMERIC[1], number="70000")
@example(command=NUMERIC[2], number="-1")
@example(command=NUMERIC[2], number="1e30")
@example(command=NUMERIC[4], number="nan")
@example(command=NUMERIC[4], number="1e308")
@example(command=NUMERIC[5], number="inf")
@example(command=NUMERIC[7], number="-1")
def test_arbitrary_numbers_in_options_never_traceback(
    cli: Cli, world: World, tmp_path: Path, command: tuple[str, ...], number: str
) -> None:
    names = {
        "consortium": world.consortium.address,
        "doctor": world.family_doctor.address,
        "out": str(tmp_path / "consent.json"),
    }
    args = [a.format(number, **names) for a in command]
    who = world.consortium if command[0] == "consortium" else world.patient
    nonce = world.chain.w3.eth.get_transaction_count(who.address)

    result = cli.invoke(who, *args)

    if result.exit_code != 0:
        message = one_error_line(result)
        assert not message.startswith("unexpected"), message
    assert world.chain.w3.eth.get_transaction_count(who.address) == nonce


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**300)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@pytest.fixture
def signed_files(cli: Cli, world: World, tmp_path: Path) -> dict[str, Any]:
    """A valid file for each command that reads one: record, signed consent, approval request, signed approval."""
    visit = tmp_path / "visit.json"
    visit.write_text('{"sections": {"present_illness": "x", "diagnosis": [{"text": "y", "code": "z"}]}}')
    p, d = world.patient, world.family_doctor
    record = cli.json(d, "record", "submit", "--patient", p.address, "--file", str(visit), "--yes")["record"]
    consent = tmp_path / "consent.json"
    cli.ok(p, "consent", "sign", world.insurer.address, "--sections", "diagnosis", "-o", str(consent))
    request = tmp_path / "request.json"
    cli.ok(d, "record", "update", record, "--file", str(visit), "-o", str(request))
    approved = tmp_path / "approved.json"
    cli.ok(p, "record", "approve", str(request), "-o", str(approved), "--yes")
    return {
        "profile": PROFILE,
        "record": json.loads(visit.read_text()),
        "consent": json.loads(consent.read_text()),
        "request": json.loads(request.read_text()),
        "approved": json.loads(approved.read_text()),
    }


FILE_COMMANDS = {
    "profile": ("patient", ("resident", "update-profile", "--profile", "{file}")),
    "record": ("family_doctor", ("record", "submit", "--patient", "{patient}", "--file", "{file}")),
    "consent": ("outsider", ("consent", "submit", "{file}", "--yes")),
    "request": ("patient", ("record", "approve", "{file}", "--yes")),
    "approved": ("family_doctor", ("record", "update", "--approval", "{file}", "--yes")),
}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(sorted(FILE_COMMANDS)), where=st.integers(min_value=0), new=json_values)
def test_mutated_input_files_never_traceback(
    cli: Cli, world: World, tmp_path: Path, signed_files: dict[str, Any], kind: str, where: int, new: Any
) -> None:
    document = signed_files[kind]
    paths = _paths(document)
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(_replaced(document, paths[where % len(paths)], new)))
    who, command = FILE_COMMANDS[kind]
    args = [a.format(patient=world.patient.address, file=path) for a in command]

    result = cli.invoke(getattr(world, who), *args)

    if result.exit_code != 0:
        message = one_error_line(result)
        assert not message.startswith("unexpected"), message
