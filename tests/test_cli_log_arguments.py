"""`log`'s arguments read without argparse (`parse_plain`) are exactly what argparse reads, and
every other command line goes to argparse."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv.cli import log
from telemetry_csv.cli.main import main
from testing.util import git_env

ROW = ["claude-3-opus", "1500", "3200", "true", "execute", "45000"]


def by_argparse(argv: Sequence[str]) -> dict[str, object] | None:
    """argparse's reading as a dict, or None where it refuses the command line."""
    try:
        args, seventh = log.parse_with_argparse(argv)
    except Exception:  # its errors are ArgumentsError; `--help` ends in SystemExit
        return None
    return None if seventh else vars(args)


@pytest.mark.parametrize(
    "argv",
    [
        ROW,
        [*ROW, "Phase 6 tests"],
        [*ROW, "notes", "-q"],
        ["-q", *ROW],
        [*ROW[:3], "--quiet", *ROW[3:]],
        [*ROW, "--file", "logs/usage.csv", "--max-bytes", "20971520", "-q"],
        [*ROW, "--file=logs/usage.csv", "--max-bytes=4096", "--lock-timeout", "2.5"],
        [*ROW, "--lock-timeout=0"],
        ["--model", "gpt-4o", "--prompt-tokens", "9", "--completion-tokens", "1",
         "--task-success", "no", "--task-type", "plan", "--duration", "1m30s",
         "--notes", "a, \"quoted\" note", "--timestamp", "2026-02-23T22:19:12+01:00"],
        ["--usage-json", "-", "--task-success", "true", "--task-type", "execute",
         "--duration", "40s"],
        [*ROW, "--cache-read-tokens", "100", "--cache-write-tokens", "0"],
        [*ROW, "--notes", "first", "--notes", "second"],
        [*ROW, "--max-bytes", "1_000", "--max-bytes", " 2048 "],
        ["", "", "", "", "", "", ""],
        ["naïve", "1", "2", "y", "quick", "3", "=SUM(A1)"],
        [],
    ],
)  # fmt: skip
def test_plain_command_lines_read_as_argparse_reads_them(argv: list[str]) -> None:
    plain = log.parse_plain(argv)
    assert plain is not None
    assert vars(plain) == by_argparse(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        [*ROW, "-x"],  # an unknown option, or notes the old script stored
        [*ROW, "--", "-notes"],
        [*ROW, "--notes=--"],
        [*ROW, "--notes", "-starts with a dash"],
        [*ROW, "--notes="],
        [*ROW, "--notes"],
        [*ROW, "--mod", "abbreviated"],
        [*ROW, "--max-bytes", "10k"],
        [*ROW, "--lock-timeout", "-1"],
        [*ROW, "--lock-timeout", "soon"],
        [*ROW, "--lock-timeout", "-5"],
        [*ROW[:5], "-5"],
        [*ROW, "-qq"],
        [*ROW, "-"],
    ],
)
def test_other_command_lines_go_to_argparse(argv: list[str]) -> None:
    assert log.parse_plain(argv) is None


OPTION = st.sampled_from([*log.VALUE_OPTIONS, *log.FLAGS])
TOKEN = st.one_of(
    OPTION,
    OPTION.map(lambda option: option + "="),
    st.sampled_from(["-", "--", "-x", "-5", "", "12", "2.5", "0", "1_0", "true", "a b", "é"]),
    st.text(alphabet="-=a1 .,\"'é", max_size=6),
)


@given(st.lists(TOKEN, max_size=12), st.lists(TOKEN, max_size=12))
def test_argparse_agrees_on_every_command_line_read_plainly(
    tokens: list[str], suffixes: list[str]
) -> None:
    # `--opt=` tokens glued to what comes next, as a shell passes `--opt=value`.
    argv = [token + suffix for token, suffix in zip(tokens, suffixes, strict=False)]
    argv += tokens[len(suffixes) :]
    plain = log.parse_plain(argv)
    if plain is not None:
        assert vars(plain) == by_argparse(argv)


def test_the_option_table_is_the_parser_s() -> None:
    parser = log.build_parser()
    values: dict[str, str] = {}
    flags: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        table = flags if isinstance(action, argparse._StoreTrueAction) else values
        assert isinstance(action, argparse._StoreTrueAction | argparse._StoreAction)
        assert action.nargs == (0 if table is flags else None)
        assert action.default is None if table is values else action.default is False
        for option in action.option_strings:
            table[option] = action.dest
    assert values == log.VALUE_OPTIONS
    assert flags == log.FLAGS
    # The converted options convert as the plain reading does.
    types = {action.dest: action.type for action in parser._actions if action.type}
    assert types.keys() == {"max_bytes", "lock_timeout"}
    assert types["max_bytes"] is int


def test_log_imports_no_argparse_for_a_plain_row(tmp_path: Path) -> None:
    """The point of the plain reading: a usual `log` never imports argparse (nor the modules
    it pulls in)."""
    code = (
        "import sys\n"
        "from telemetry_csv.cli.main import main\n"
        "status = main(['log', *sys.argv[1:]])\n"
        "assert status == 0, status\n"
        "print(' '.join(name for name in ('argparse', 'shutil', 'gettext')"
        " if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *ROW, "notes", "-q"],
        cwd=tmp_path, capture_output=True, text=True, env=git_env(), check=True,
    )  # fmt: skip
    assert result.stdout.strip() == ""


def test_refusals_still_come_from_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", *ROW, "--max-bytes", "10k"]) == 2
    assert "argument --max-bytes: invalid int value: '10k'" in capsys.readouterr().err
