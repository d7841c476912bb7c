"""`telemetry-csv init`: creates what is missing, keeps what exists, safe to run twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.logfile.initialising import PRE_COMMIT_SNIPPET, readme_text
from testing.util import EXTENDED_HEADER, HEADER, git, row_line

REPOSITORY = Path(__file__).resolve().parent.parent


def test_creates_readme_and_gitignore(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    folder = repo / ".telemetry"
    assert sorted(path.name for path in folder.iterdir()) == [".gitignore", "README.md"]
    assert (folder / "README.md").read_text() == readme_text()
    assert "*.lock" in (folder / ".gitignore").read_text()
    out = capsys.readouterr().out
    assert "created  .telemetry/README.md" in out
    assert "Rows go to .telemetry/usage.rows/, one small file per branch and commit" in out
    assert PRE_COMMIT_SNIPPET in out
    assert main(["check"]) == 0  # an empty log, not a missing one
    assert "checked 0 files, 0 valid rows: no problems" in capsys.readouterr().out


def test_single_layout_creates_the_log(
    single_layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    # Every new log's header (docs/format.md).
    assert (single_layout / ".telemetry" / "usage.csv").read_text() == EXTENDED_HEADER
    out = capsys.readouterr().out
    assert "created  .telemetry/usage.csv" in out and "Rows go to" not in out


def test_in_a_repository_with_a_log_it_says_what_changes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_text(HEADER + row_line())
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "kept     .telemetry/usage.csv" in out
    assert (
        "This repository already has .telemetry/usage.csv. From now on `telemetry-csv log` "
        "writes new rows to small files in .telemetry/usage.rows/"
    ) in out
    assert 'set layout = "single"' in out
    assert log.read_text() == HEADER + row_line()
    assert main(["log", "m", "1", "2", "true", "plan", "3", "-q"]) == 0
    assert log.read_text() == HEADER + row_line()  # kept as it was, and still read:
    capsys.readouterr()
    assert main(["check"]) == 0
    assert "checked 2 files, 2 valid rows: no problems" in capsys.readouterr().out


def test_never_overwrites_and_is_safe_twice(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    log = repo / ".telemetry" / "usage.csv"
    log.write_text(HEADER + row_line())
    (repo / ".telemetry" / "README.md").write_text("our own words\n")
    capsys.readouterr()
    assert main(["init"]) == 0
    assert log.read_text() == HEADER + row_line()
    assert (repo / ".telemetry" / "README.md").read_text() == "our own words\n"
    out = capsys.readouterr().out
    assert "kept     .telemetry/usage.csv" in out and "created" not in out


def test_lock_file_is_ignored_by_git(repo: Path) -> None:
    assert main(["init"]) == 0
    assert main(["log", "m", "1", "2", "true", "plan", "3", "-q"]) == 0
    assert (repo / ".telemetry" / "usage.csv.lock").exists()
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert [name for name in staged if name.startswith(".telemetry/usage.rows/")]
    assert ".telemetry/usage.csv.lock" not in staged


def test_this_repository_ships_the_readme_init_writes() -> None:
    assert (REPOSITORY / ".telemetry" / "README.md").read_text() == readme_text()


def test_this_repository_sample_log_passes_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPOSITORY)
    assert main(["check", ".telemetry/usage.csv"]) == 0
    rows = (REPOSITORY / ".telemetry" / "usage.csv").read_text().count("\n") - 1
    assert 3 <= rows <= 5


# The README the shell scripts' era kept in .telemetry/, in its shape (trimmed).
SCRIPT_ERA_README = """\
# Telemetry

LLM usage telemetry for the project.

## Usage

### Log a Task

```bash
./scripts/log-telemetry.sh "claude-3-opus" 1500 3200 true "execute" 45000 "Phase 6 tests"
```

### Generate Report

```bash
./scripts/telemetry-report.sh --format json
```
"""


def test_a_readme_of_the_scripts_era_is_kept_with_how_to_get_the_new_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = repo / ".telemetry" / "README.md"
    readme.parent.mkdir()
    readme.write_text(SCRIPT_ERA_README)
    assert main(["init"]) == 0
    assert (
        "kept     .telemetry/README.md: it is from the shell scripts' era (it tells to run "
        "log-telemetry.sh); a newer one comes with telemetry-csv: `telemetry-csv init "
        "--update-readme` replaces it, and git diff shows what changed\n"
    ) in capsys.readouterr().out
    assert readme.read_text() == SCRIPT_ERA_README
    assert main(["init", "--update-readme"]) == 0
    assert "replaced .telemetry/README.md\n" in capsys.readouterr().out
    assert readme.read_text() == readme_text()
    assert main(["init"]) == 0  # the current one: kept, nothing to say
    assert "kept     .telemetry/README.md\n" in capsys.readouterr().out


def test_a_readme_of_its_own_is_kept_without_a_word(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = repo / ".telemetry" / "README.md"
    readme.parent.mkdir()
    readme.write_text("# Our telemetry\n\nWe log with telemetry-csv (see log-telemetry.sh).\n")
    assert main(["init"]) == 0
    assert "kept     .telemetry/README.md\n" in capsys.readouterr().out
