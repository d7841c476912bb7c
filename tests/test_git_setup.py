"""`init` writes .gitattributes and registers the merge driver; `init --git` in a fresh clone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from testing.logfiles import commit_all, rows, write_log
from testing.util import BIN, git, git_env, run_cli

ATTRIBUTE = ".telemetry/*.csv merge=telemetry-csv text eol=lf"
SHARDS_ATTRIBUTE = ".telemetry/usage.rows/* text eol=lf"
LOG = ".telemetry/usage.csv"
SHARD = ".telemetry/usage.rows/20261120T091405Z-3f9c1e7a5b2d8f4c.csv"


def test_init_writes_gitattributes_and_registers_the_driver(repo: Path) -> None:
    done = run_cli("init", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert f"created  .gitattributes: {ATTRIBUTE}; {SHARDS_ATTRIBUTE}\n" in done.stdout
    driver = git(repo, "config", "--local", "merge.telemetry-csv.driver").strip()
    assert f"added    merge driver to .git/config: {driver}\n" in done.stdout
    assert " merge-driver %O %A %B %P || " in driver
    assert "git merge-file -L ours -L base -L theirs %A %O %B" in driver
    lines = (repo / ".gitattributes").read_text().splitlines()
    assert ATTRIBUTE in lines and SHARDS_ATTRIBUTE in lines
    attributes = git(repo, "check-attr", "merge", "text", "eol", "--", LOG, SHARD)
    assert attributes.splitlines() == [
        f"{LOG}: merge: telemetry-csv",
        f"{LOG}: text: set",
        f"{LOG}: eol: lf",
        f"{SHARD}: merge: unspecified",  # shards never conflict: git's own merge is right
        f"{SHARD}: text: set",
        f"{SHARD}: eol: lf",
    ]


def test_init_appends_to_an_existing_gitattributes_once(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.png binary")  # no final newline
    assert run_cli("init", cwd=repo).returncode == 0
    again = run_cli("init", cwd=repo)
    assert "kept     .gitattributes\n" in again.stdout
    assert "kept     merge driver in .git/config" in again.stdout
    text = (repo / ".gitattributes").read_text()
    assert text.startswith("*.png binary\n# telemetry-csv:")
    assert text.splitlines().count(ATTRIBUTE) == 1


def test_init_outside_a_repository_writes_attributes_and_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "init"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**git_env(), "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "skipped  merge driver: not a git repository; run `telemetry-csv init --git`" in (
        done.stdout
    )
    assert ATTRIBUTE in (tmp_path / ".gitattributes").read_text()


def test_init_git_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "init", "--git"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**git_env(), "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)},
        check=False,
    )
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr == (
        "telemetry-csv init: error: not inside a git repository, so there is no git config to "
        "register the merge driver in; run `git init` first\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_clone_merges_cleanly_once_init_git_has_run(repo: Path, tmp_path: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    write_log(repo / LOG, rows(1))
    commit_all(repo, "base")
    git(repo, "branch", "feature")
    write_log(repo / LOG, rows(1, 2))
    commit_all(repo, "main work")
    git(repo, "checkout", "-q", "feature")
    write_log(repo / LOG, rows(1, 3))
    commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "branch", "feature", "origin/feature")
    unregistered = subprocess.run(
        ["git", "config", "--local", "--get", "merge.telemetry-csv.driver"],
        cwd=clone,
        capture_output=True,
        env=git_env(),
        check=False,
    )
    assert unregistered.returncode == 1  # .git/config is not cloned
    without = subprocess.run(
        ["git", "merge", "--no-edit", "feature"],
        cwd=clone,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert without.returncode == 1  # .gitattributes came along; the driver's command did not
    git(clone, "merge", "--abort")

    done = run_cli("init", "--git", cwd=clone)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("kept     .gitattributes\nadded    merge driver to .git/config")
    assert "usage.csv" not in done.stdout  # --git touches only the git set-up
    git(clone, "merge", "-q", "--no-edit", "feature")
    assert (clone / LOG).read_text().endswith(rows(1, 2, 3))


def test_a_log_at_the_top_level_marks_only_the_log_and_its_backups(repo: Path) -> None:
    """`*.csv` at the top of .gitattributes would match every CSV file in the repository."""
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "usage.csv"\n')
    done = run_cli("init", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (
        "created  .gitattributes: /usage.csv merge=telemetry-csv text eol=lf; "
        "/usage-*.csv merge=telemetry-csv text eol=lf; /usage.rows/* text eol=lf\n"
    ) in done.stdout
    paths = ["usage.csv", "usage-20260301T120000Z.csv", "other.csv", "data/usage.csv"]
    merge = git(repo, "check-attr", "merge", "--", *paths)
    assert merge.splitlines() == [
        "usage.csv: merge: telemetry-csv",
        "usage-20260301T120000Z.csv: merge: telemetry-csv",
        "other.csv: merge: unspecified",
        "data/usage.csv: merge: unspecified",
    ]
    assert "kept     .gitattributes\n" in run_cli("init", "--git", cwd=repo).stdout
