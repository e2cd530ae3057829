"""The CLI as a shell user meets it: pipes, help written to a pipe, mistyped commands, folder commands, make install."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from famchain.storage.embedded import EmbeddedStore


def famchain(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``famchain ARGS`` in a child process whose stdout and stderr are pipes (as in a shell pipeline)."""
    return subprocess.run(
        [sys.executable, "-m", "famchain", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "args",
    [["version"], ["--help"], ["consent", "grant", "--help"], ["ipfs", "--help"]],
)
def test_a_reader_that_went_away_ends_the_command_quietly(args: list[str]) -> None:
    # `famchain ... | head`: the reader closed its end before famchain wrote
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "famchain", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1


def test_help_written_to_a_pipe_is_plain_and_not_cut_at_80_columns() -> None:
    done = famchain("deploy", "--help")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # the long option help stays on one line, whatever the (absent) terminal's width
    policy = next(line for line in lines if line.lstrip().startswith("--cipher-policy"))
    assert policy.rstrip().endswith("[default: aes]."), policy
    assert max(len(line) for line in lines) > 80
    # plain text: no boxes, no markup escapes
    assert not {"╭", "│", "╰"} & set(done.stdout)
    assert "\\[" not in done.stdout


def _every_command() -> list[list[str]]:
    import click

    from famchain.cli import _lazy

    paths: list[list[str]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    for name in _lazy.COMMANDS:
        walk(_lazy.load(name), [name])
    return paths


@pytest.mark.parametrize("path", _every_command(), ids=" ".join)
def test_help_never_shows_a_python_none(path: list[str]) -> None:
    from typer.testing import CliRunner

    from famchain.cli import app

    result = CliRunner(mix_stderr=False).invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "None" not in result.stdout
    assert "\\[" not in result.stdout
    assert "--install-completion" not in result.stdout  # the root offers none: no sub-command does either


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["consnet"], "Did you mean 'consent'?"),  # a lazy top-level command
        (["consent", "grnt"], "Did you mean 'grant'?"),  # a command of a lazily loaded group
        (["devnet", "dwn"], "Did you mean 'down'?"),
        (["consortium", "proposal"], "Did you mean 'proposals' or 'propose'?"),
        (["consent", "grant", "--sectons", "all"], "--sections"),  # options: click's own suggestion
    ],
)
def test_a_mistyped_command_gets_the_closest_ones(args: list[str], suggestion: str) -> None:
    done = famchain(*args)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: No such ")
    assert suggestion in lines[0]


def test_an_unknown_command_far_from_any_gets_no_suggestion() -> None:
    done = famchain("zzzzqqq")
    assert done.stderr == "error: No such command 'zzzzqqq'. (see 'famchain -h')\n"


def test_a_transaction_prompt_defaults_to_no(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from famchain.cli import _context
    from famchain.settings import Settings

    asked: list[tuple[str, object]] = []

    def confirm(text: str, default: object = None, **_: object) -> bool:
        asked.append((text, default))
        return bool(default)  # the user pressed Enter

    monkeypatch.setattr(_context.typer, "confirm", confirm)
    monkeypatch.setattr(_context.sys.stdin, "isatty", lambda: True, raising=False)
    session = _context.Session(Settings())
    with pytest.raises(typer.Abort):
        session.confirm("propose admit 0xabc")
    assert asked == [("Send transaction: propose admit 0xabc?", False)]


def test_ipfs_serve_a_folder_in_a_shell_with_devnet_exports(tmp_path: Path) -> None:
    # `devnet up`'s exports point clients at a Kubo RPC; naming a folder still means the embedded store
    folder = tmp_path / "store"
    cid = EmbeddedStore(folder).put(b"sealed bytes")
    env = {**os.environ, "FAMCHAIN_IPFS_BACKEND": "kubo", "FAMCHAIN_IPFS_API": "http://127.0.0.1:9"}
    server = subprocess.Popen(
        [sys.executable, "-m", "famchain", "ipfs", "serve", "--store-dir", str(folder), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), server.stderr.read() if server.stderr else url
        request = urllib.request.Request(f"{url}/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.raw"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read() == b"sealed bytes"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("command", ["gc", "verify"])
def test_folder_commands_use_the_named_folder_under_a_kubo_backend(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from famchain.cli import app

    monkeypatch.setenv("FAMCHAIN_IPFS_BACKEND", "kubo")
    monkeypatch.setenv("FAMCHAIN_IPFS_API", "http://127.0.0.1:9")
    folder = tmp_path / "store"
    EmbeddedStore(folder).put(b"kept", pin=True)
    result = CliRunner(mix_stderr=False).invoke(app, ["ipfs", command, "--store-dir", str(folder), "--json"])
    assert result.exit_code == 0, result.stderr
    # without a folder, a Kubo backend is refused with the way out
    refused = CliRunner(mix_stderr=False).invoke(app, ["ipfs", command])
    assert refused.exit_code == 1
    assert refused.stderr.strip().endswith("name the folder with --store-dir")


def test_a_missing_value_is_named_nothing_never_python_none() -> None:
    from famchain.errors import InputError, shown
    from famchain.records.model import parse_kind

    assert shown(None) == "nothing"
    assert shown("x") == "'x'"
    with pytest.raises(InputError) as missing:
        parse_kind(None)
    assert "got nothing" in str(missing.value)
    assert "None" not in str(missing.value)


def test_make_install_announces_each_long_step() -> None:
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "install"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    steps = {
        "npm ci": "npm toolchain",
        '-e ".[dev]"': "famchain and its pinned",
        "solc_setup.py": "solc launcher",
    }
    for command, announcement in steps.items():
        at = next(i for i, line in enumerate(plan) if command in line)
        assert announcement in plan[at - 1], (command, plan[at - 1])
        assert plan[at - 1].startswith('echo "==> install ')
    big = next(line for line in plan if '-e ".[dev]"' in line)
    assert "--quiet" not in big  # one line per package instead of minutes of silence
    assert "set -o pipefail" in big  # and a failing pip still fails the install


def test_ipfs_status_reads_as_words(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from famchain.cli import app

    result = CliRunner(mix_stderr=False).invoke(app, ["ipfs", "status", "--store-dir", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    assert "healthy: yes" in result.stdout.splitlines()
    assert not {"True", "False", "None"} & set(result.stdout.replace(":", " ").split())
