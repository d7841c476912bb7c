"""Merges that would lose rows, stopped by the real pre-commit hooks; rows logged while a commit
and its hooks run are kept.

The issue's reproduction: a merge driver that cannot start left our side of `usage.csv` without
conflict markers, and `git add` + `git commit` passed every hook. Now the team layout never
needs the driver, `init` registers one that falls back to conflict markers, and append-only
compares a merge with each parent (MERGE_HEAD in the pre-commit stage, GITHEAD_<id> in
pre-merge-commit), whichever way the rows were lost.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testing.logfiles import commit_all
from testing.util import BIN, git, logged_lines, notes_of, run_cli

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs

HOOKS = ("telemetry-csv-fmt", "telemetry-csv-check", "telemetry-csv-append-only")
LOG = ".telemetry/usage.csv"
PLAIN_PATH = "/usr/local/bin:/usr/bin:/bin"  # no telemetry-csv on it


def install(
    repo: Path, hook_source: tuple[Path, str], env: dict[str, str], extra: str = ""
) -> None:
    source, rev = hook_source
    hooks = "".join(f"      - id: {hook}\n" for hook in HOOKS)
    (repo / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, pre-merge-commit]\n"
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n{hooks}{extra}"
    )
    done = subprocess.run(
        [str(BIN / "pre-commit"), "install"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def sh(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=repo, env=env, capture_output=True, text=True)


def two_branches(repo: Path, env: dict[str, str]) -> None:
    """Branches a and main each logged a row (a committed first), as in the issue."""
    git(repo, "checkout", "-q", "-b", "a")
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", "row of a", cwd=repo).returncode == 0
    assert sh(repo, env, "git", "add", "-A").returncode == 0
    assert sh(repo, env, "git", "commit", "-q", "-m", "a").returncode == 0
    git(repo, "checkout", "-q", "main")
    assert (
        run_cli("log", "m", "1", "2", "true", "plan", "4", "row of main", cwd=repo).returncode == 0
    )
    assert sh(repo, env, "git", "add", "-A").returncode == 0
    assert sh(repo, env, "git", "commit", "-q", "-m", "main").returncode == 0


@pytest.fixture
def hooked(repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]) -> Path:
    install(repo, hook_source, pre_commit_env)
    assert run_cli("init", cwd=repo).returncode == 0
    done = sh(repo, pre_commit_env, "git", "add", "-A")
    done = sh(repo, pre_commit_env, "git", "commit", "-q", "-m", "init")
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def test_the_issues_reproduction_cannot_lose_a_row_any_more(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    """`init` set up the team layout: the branches' rows are in files of their own, so the
    merge without the driver on PATH has nothing to conflict on, and keeps both."""
    two_branches(hooked, pre_commit_env)
    plain = {**pre_commit_env, "PATH": PLAIN_PATH}
    merged = sh(hooked, plain, "git", "merge", "--no-edit", "a")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "CONFLICT" not in merged.stdout
    notes = sorted(notes_of(line) for line in logged_lines(hooked / LOG))
    assert notes == ["row of a", "row of main"]
    assert run_cli("check", cwd=hooked).returncode == 0


@pytest.fixture
def single(hooked: Path, pre_commit_env: dict[str, str]) -> Path:
    """The same repository, its rows in the one file (older tools, or layout = "single")."""
    (hooked / ".telemetry" / "config.toml").write_text('layout = "single"\n')
    # Run as a user would, with this installation on PATH: the driver is registered by name.
    assert sh(hooked, pre_commit_env, str(BIN / "telemetry-csv"), "init").returncode == 0
    done = sh(hooked, pre_commit_env, "git", "add", "-A")
    done = sh(hooked, pre_commit_env, "git", "commit", "-q", "-m", "single")
    assert done.returncode == 0, done.stdout + done.stderr
    return hooked


def test_a_driver_that_cannot_start_leaves_conflict_markers_and_check_names_them(
    single: Path, pre_commit_env: dict[str, str]
) -> None:
    two_branches(single, pre_commit_env)
    driver = git(single, "config", "merge.telemetry-csv.driver").strip()
    assert driver.startswith("telemetry-csv merge-driver ")  # by name: on PATH at init
    plain = {**pre_commit_env, "PATH": PLAIN_PATH}
    merged = sh(single, plain, "git", "merge", "--no-edit", "a")
    assert merged.returncode == 1
    assert "telemetry-csv merge driver could not run (exit status 127)" in merged.stderr
    text = (single / LOG).read_text()
    assert text.count("<<<<<<< ") == 1 and "row of a" in text and "row of main" in text
    checked = run_cli("check", cwd=single)
    assert checked.returncode == 1
    assert "line: a merge conflict marker: this merge was never resolved" in checked.stdout
    sh(single, pre_commit_env, "git", "add", "-A")
    committed = sh(single, plain, "git", "commit", "--no-edit")
    assert committed.returncode == 1
    assert "a merge conflict marker" in committed.stdout + committed.stderr
    assert git(single, "rev-list", "--count", "--merges", "HEAD").strip() == "0"


def test_the_issues_silent_loss_through_an_old_registration_fails_the_commit(
    single: Path, pre_commit_env: dict[str, str]
) -> None:
    """A clone whose driver was registered by an older version, as a bare command, and is not
    on PATH: git keeps our side without markers. `git commit` then runs the pre-commit stage,
    where append-only reads MERGE_HEAD and finds the other side's row gone."""
    git(single, "config", "merge.telemetry-csv.driver", "telemetry-csv merge-driver %O %A %B %P")
    two_branches(single, pre_commit_env)
    plain = {**pre_commit_env, "PATH": PLAIN_PATH}
    merged = sh(single, plain, "git", "merge", "--no-edit", "a")
    assert merged.returncode == 1 and "telemetry-csv: not found" in merged.stderr
    assert (single / LOG).read_text().count("<<<<<<<") == 0
    assert "row of a" not in (single / LOG).read_text()  # git kept our side, silently
    sh(single, pre_commit_env, "git", "add", LOG)
    committed = sh(single, plain, "git", "commit", "--no-edit")
    output = committed.stdout + committed.stderr
    assert committed.returncode == 1, output
    merge_head = git(single, "rev-parse", "MERGE_HEAD").strip()
    assert (
        f"{LOG}: the merge drops 1 row(s) that MERGE_HEAD ({merge_head[:12]}) has in the log"
    ) in output
    assert "first missing, MERGE_HEAD" in output and "row of a" in output
    assert git(single, "rev-list", "--count", "--merges", "HEAD").strip() == "0"


def test_an_automatic_merge_that_drops_rows_is_stopped_in_pre_merge_commit(
    single: Path, pre_commit_env: dict[str, str]
) -> None:
    """A driver that exits 0 keeping our side (`true`, as `merge=ours` does) merges without a
    conflict; git runs pre-merge-commit before it writes MERGE_HEAD, and the hook finds the
    other parent in GITHEAD_<id>."""
    git(single, "config", "merge.telemetry-csv.driver", "true")
    two_branches(single, pre_commit_env)
    merged = sh(single, pre_commit_env, "git", "merge", "--no-edit", "a")
    assert merged.returncode == 1, merged.stdout + merged.stderr
    a = git(single, "rev-parse", "a").strip()
    assert f"the merge drops 1 row(s) that a ({a[:12]}) has in the log" in (
        merged.stdout + merged.stderr
    )
    assert git(single, "rev-list", "--count", "--merges", "HEAD").strip() == "0"


def test_rows_logged_during_the_hooks_of_a_commit_are_kept(
    repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    """A hook logs a row while pre-commit runs, with unstaged changes that pre-commit stashes
    and restores around the hooks: the row goes to a new shard, never to the staged one, and
    is there once afterwards."""
    logger = (
        "  - repo: local\n    hooks:\n      - id: log-a-row\n        name: log a row\n"
        f"        entry: {BIN / 'telemetry-csv'} log m 1 2 true plan 5 during-hooks\n"
        "        language: system\n        always_run: true\n        pass_filenames: false\n"
    )
    install(repo, hook_source, pre_commit_env, logger)
    assert run_cli("init", cwd=repo).returncode == 0
    (repo / "notes.txt").write_text("one\n")
    commit_all(repo, "init")
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", "staged", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    (repo / "notes.txt").write_text("one\ntwo, not staged\n")  # pre-commit stashes this
    done = sh(repo, pre_commit_env, "git", "commit", "-q", "-m", "with hooks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "notes.txt").read_text() == "one\ntwo, not staged\n"
    notes = sorted(notes_of(line) for line in logged_lines(repo / LOG))
    assert notes == ["during-hooks", "staged"]
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").split()
    assert len([n for n in committed if "usage.rows" in n]) == 1  # the staged shard alone
    assert len([n for n in untracked if "usage.rows" in n]) == 1  # the row logged meanwhile
    assert run_cli("check", cwd=repo).returncode == 0
