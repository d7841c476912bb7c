"""The installed command end to end, as a subprocess, in a real repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.errors import COMMAND_EXITS, EXIT_STATUSES
from testing.util import EXTENDED_HEADER, logged_text, run_cli


def test_init_log_check_from_a_subfolder(repo: Path) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    assert run_cli("init", cwd=sub).returncode == 0
    done = run_cli(
        "log", "claude-3-opus", "1500", "3200", "true", "execute", "45000", "Phase 6 tests", cwd=sub
    )
    assert done.returncode == 0, done.stderr
    text = logged_text(repo / ".telemetry" / "usage.csv")
    assert text.startswith(EXTENDED_HEADER)
    assert text.endswith(",claude-3-opus,1500,3200,true,execute,45000,Phase 6 tests,,,,\n")
    checked = run_cli("check", cwd=sub)
    assert checked.returncode == 0, checked.stdout
    assert "1 valid row" in checked.stdout


def test_the_docs_list_every_exit_status_from_the_one_table() -> None:
    from telemetry_csv.errors import exit_status_markdown

    page = Path(__file__).parent.parent / "docs" / "exit-statuses.md"
    assert exit_status_markdown() in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(name for name, exits in COMMAND_EXITS.items() if exits))
def test_each_commands_help_ends_with_its_exit_statuses(command: str) -> None:
    done = run_cli(command, "--help", cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    statuses = done.stdout.split("exit status:\n")[1]
    flat = " ".join(statuses.split())
    for status, meaning in COMMAND_EXITS[command].items():
        assert f"{status} {meaning or EXIT_STATUSES[status]}" in flat
