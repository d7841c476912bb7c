"""telemetry-csv-check as `main(argv)`: every file passed is checked, problems as PATH:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.hooks import check_hook
from testing.logfiles import row, rows, write_log


def test_good_files_pass_quietly(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(repo / "a.csv", rows(1, 2))
    write_log(repo / "b.csv", rows(3))
    assert check_hook.main(["a.csv", "b.csv"]) == 0
    assert capsys.readouterr().out == ""


def test_every_file_is_checked_not_only_the_first(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(repo / "a.csv", rows(1) + row(2).replace("1500", "-1"))
    write_log(repo / "b.csv", rows(3))
    write_log(repo / "c.csv", rows(4) + "\n")
    assert check_hook.main(["a.csv", "b.csv", "c.csv"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "a.csv:3: prompt_tokens: '-1' is not allowed; expected a non-negative whole number, "
        "digits only, at most 15 digits, e.g. 1500",
        "c.csv:3: line: blank line; delete it",
        "checked 3 files, 3 valid rows: 2 problem(s)",
    ]


def test_configured_task_types_apply(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\ntask_types = ["review"]\n')
    write_log(repo / "a.csv", row(1).replace("execute", "review"))
    assert check_hook.main(["a.csv"]) == 0
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\ntask_types = "review"\n')
    assert check_hook.main(["a.csv"]) == 1
    assert capsys.readouterr().err.startswith("telemetry-csv-check: error: pyproject.toml: ")


def test_no_files_no_work() -> None:
    assert check_hook.main([]) == 0
