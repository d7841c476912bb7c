"""The hooks through the real `pre-commit` executable, in temporary git repositories.

pre-commit installs the hooks the way a consumer's `repo:`/`rev:` would: it clones a snapshot
of this working tree (committed or not) and pip-installs it into a virtualenv. That happens
once per test session, in a session-wide PRE_COMMIT_HOME.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from testing.agentfixtures import Layout
from testing.logfiles import row, rows, write_log
from testing.util import BIN, HEADER, git, run_cli, shards

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs


SOURCE = Path(__file__).resolve().parents[1]
LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260301T120000Z.csv"
HOOKS = ("telemetry-csv-fmt", "telemetry-csv-check", "telemetry-csv-append-only")


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pre-commit"), *args, "--color=never"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit`, which runs the installed pre-commit hook."""
    git(repo, "add", "-A")
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def hooked(repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]) -> Path:
    """A repository using the three hooks, installed as its git pre-commit hook, with a first
    commit of a valid two-row log (made through the hooks)."""
    source, rev = hook_source
    hooks = "".join(f"      - id: {hook}\n" for hook in HOOKS)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n{hooks}"
    )
    installed = pre_commit(repo, pre_commit_env, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write_log(repo / LOG, rows(1, 2))
    done = commit(repo, pre_commit_env, "first commit")
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def test_a_good_log_passes_every_hook(hooked: Path, pre_commit_env: dict[str, str]) -> None:
    done = pre_commit(hooked, pre_commit_env, "run", "--all-files")
    assert done.returncode == 0, output(done)
    for name in ("telemetry-csv fmt", "telemetry-csv check", "telemetry-csv append-only"):
        assert f"{name}." in done.stdout and "Passed" in done.stdout


def test_a_bad_row_fails_naming_its_line(hooked: Path, pre_commit_env: dict[str, str]) -> None:
    write_log(hooked / LOG, rows(1, 2) + row(3).replace("3200", "3,200"))
    done = commit(hooked, pre_commit_env, "a bad row")
    assert done.returncode == 1
    assert f"{LOG}:4: line: expected 8 fields, found 9 (an unquoted comma in notes?)" in output(
        done
    )
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"


def test_an_edited_history_row_fails(hooked: Path, pre_commit_env: dict[str, str]) -> None:
    edited = row(1).replace("task 1", "task one")
    write_log(hooked / LOG, edited + rows(2, 3))
    done = commit(hooked, pre_commit_env, "rewrite history")
    assert done.returncode == 1
    assert f"{LOG}:2: a history row was changed; rows may only be added at the end" in output(done)
    assert f"staged line 2: {edited.strip()}" in output(done)


def test_an_append_and_a_rotation_pass(hooked: Path, pre_commit_env: dict[str, str]) -> None:
    write_log(hooked / LOG, rows(1, 2, 3))
    appended = commit(hooked, pre_commit_env, "append")
    assert appended.returncode == 0, output(appended)
    git(hooked, "mv", LOG, BACKUP)
    write_log(hooked / LOG, rows(4))
    rotated = commit(hooked, pre_commit_env, "rotate")
    assert rotated.returncode == 0, output(rotated)
    assert git(hooked, "ls-files", ".telemetry/*.csv").split() == [BACKUP, LOG]


def test_deleting_a_backup_fails_unless_retired_on_purpose(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    """pre-commit passes no deleted file to a hook; append-only finds the deletion itself."""
    git(hooked, "mv", LOG, BACKUP)
    write_log(hooked / LOG, rows(3))
    assert commit(hooked, pre_commit_env, "rotate").returncode == 0
    git(hooked, "rm", "-q", BACKUP)
    deleted = commit(hooked, pre_commit_env, "delete the backup")
    assert deleted.returncode == 1
    assert f"{BACKUP}: a committed backup was deleted; committed rows are never" in output(deleted)
    retired = commit(
        hooked, {**pre_commit_env, "TELEMETRY_CSV_RETIRE_BACKUPS": "1"}, "retire the backup"
    )
    assert retired.returncode == 0, output(retired)
    assert git(hooked, "ls-files", ".telemetry/*.csv").split() == [LOG]


def test_the_fixer_fixes_a_spreadsheet_save_and_fails_once(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    saved = ("\ufeff" + HEADER + rows(1, 2, 3)).replace("\n", "\r\n")
    (hooked / LOG).write_bytes(saved.encode())
    first = commit(hooked, pre_commit_env, "re-saved by a spreadsheet")
    assert first.returncode == 1
    assert f"Fixing {LOG}" in output(first)
    assert "files were modified by this hook" in output(first)
    assert (hooked / LOG).read_bytes() == (HEADER + rows(1, 2, 3)).encode()
    second = commit(hooked, pre_commit_env, "re-saved by a spreadsheet")
    assert second.returncode == 0, output(second)


def test_try_repo_as_a_consumer_would(
    repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    source, _ = hook_source
    write_log(repo / LOG, rows(1) + row(2).replace("true", "yes"))
    git(repo, "add", "-A")
    done = pre_commit(repo, pre_commit_env, "try-repo", str(source), "telemetry-csv-check")
    assert done.returncode == 1
    assert f"{LOG}:3: task_success: 'yes' is not allowed; expected true or false" in output(done)


def test_this_repository_passes_its_own_telemetry_hooks(
    hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    """`pre-commit run --all-files` with this repository's config, on a copy of its tree, for
    the three telemetry hooks only: the others (ruff, pre-commit-hooks) would be pip-installed
    from PyPI on every run, and pre-commit does not install a skipped hook's environment. ruff
    runs in the suite's own pre-commit run, not here."""
    source, _ = hook_source
    config = yaml.safe_load((source / ".pre-commit-config.yaml").read_text())
    ids = [hook["id"] for repo in config["repos"] for hook in repo["hooks"]]
    assert set(HOOKS) <= set(ids)
    skip = ",".join(hook for hook in ids if hook not in HOOKS)
    done = pre_commit(source, {**pre_commit_env, "SKIP": skip}, "run", "--all-files")
    assert done.returncode == 0, output(done)
    for name in ("telemetry-csv fmt", "telemetry-csv check", "telemetry-csv append-only"):
        assert re.search(rf"^{name}\.+Passed$", done.stdout, re.MULTILINE), done.stdout


def test_the_size_hook_lets_a_full_log_and_its_backups_through() -> None:
    """check-added-large-files stops files over 500 KB; a log is backed up at 10 MiB."""
    config = yaml.safe_load((SOURCE / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    for path in (LOG, BACKUP):
        assert re.search(hooks["check-added-large-files"].get("exclude", "^$"), path), path
        assert re.search(hooks["telemetry-csv-check"]["files"], path), path


def test_a_merge_of_two_logging_branches_passes_the_hooks(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    """`git merge` with the driver registered and the hooks installed for merge commits."""
    installed = pre_commit(hooked, pre_commit_env, "install", "--hook-type", "pre-merge-commit")
    assert installed.returncode == 0, output(installed)
    assert run_cli("init", "--git", cwd=hooked).returncode == 0
    git(hooked, "add", "-A")
    git(hooked, "commit", "-q", "--no-verify", "-m", ".gitattributes")
    git(hooked, "checkout", "-q", "-b", "feature")
    write_log(hooked / LOG, rows(1, 2, 3))
    assert commit(hooked, pre_commit_env, "feature: row 3").returncode == 0
    git(hooked, "checkout", "-q", "main")
    write_log(hooked / LOG, rows(1, 2, 4))
    assert commit(hooked, pre_commit_env, "main: row 4").returncode == 0

    merged = subprocess.run(
        ["git", "merge", "--no-edit", "feature"],
        cwd=hooked,
        capture_output=True,
        text=True,
        env=pre_commit_env,
        check=False,
    )
    assert merged.returncode == 0, output(merged)
    assert "telemetry-csv append-only" in output(merged) and "Failed" not in output(merged)
    assert (hooked / LOG).read_text() == HEADER + rows(1, 2, 4, 3)
    assert git(hooked, "rev-list", "--count", "--merges", "HEAD").strip() == "1"


FAKE_KEY = "ghp_" + "Z7Q3X9K2M4N8P6R1Z7Q3X9K2M4N8P6R1"


def test_a_committed_link_at_a_backups_name_is_reported_not_followed(
    hooked: Path, pre_commit_env: dict[str, str], tmp_path: Path
) -> None:
    """pre-commit's default `types: [file]` would skip the link, and a later `report` would
    have printed its target's first line."""
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "bashrc").write_text(f"export TOKEN={FAKE_KEY}\n")
    (hooked / BACKUP).symlink_to(decoy / "bashrc")
    done = commit(hooked, pre_commit_env, "a linked backup")
    assert done.returncode == 1
    assert f"{BACKUP}:0: file: a symbolic link (to {decoy / 'bashrc'})" in output(done)
    assert FAKE_KEY not in output(done) and "export" not in output(done)
    assert (decoy / "bashrc").read_text() == f"export TOKEN={FAKE_KEY}\n"
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"


def test_rows_committed_before_the_invisible_character_rule_are_no_dead_end(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    """A soft hyphen in a model name, committed before it was refused (here: without the
    hooks): appending after it passes, and only a new such row fails."""
    legacy = row(3).replace("claude-3-opus", "claude\u00ad-3-opus")
    write_log(hooked / LOG, rows(1, 2) + legacy)
    git(hooked, "add", "-A")
    git(hooked, "commit", "-q", "--no-verify", "-m", "committed before the rule")
    write_log(hooked / LOG, rows(1, 2) + legacy + row(4))
    appended = commit(hooked, pre_commit_env, "append after a legacy row")
    assert appended.returncode == 0, output(appended)
    write_log(hooked / LOG, rows(1, 2) + legacy + row(4) + row(5).replace("claude", "clau\u2066de"))
    added = commit(hooked, pre_commit_env, "a new row with an isolate")
    assert added.returncode == 1
    assert f"{LOG}:6: model: invisible character U+2066 (LEFT-TO-RIGHT ISOLATE)" in output(added)
    assert "this row is being added" in output(added)
    assert f"{LOG}:4:" not in output(added).replace(f"{LOG}:4: model: warning", "")
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "3"


def test_the_advice_for_a_merged_log_over_max_bytes_passes_the_hooks(
    hooked: Path, pre_commit_env: dict[str, str]
) -> None:
    """The merge driver says: back the merged log up with `git mv`, start a new one with
    `telemetry-csv init`, `git add` it. Doing exactly that must pass every hook."""
    installed = pre_commit(hooked, pre_commit_env, "install", "--hook-type", "pre-merge-commit")
    assert installed.returncode == 0, output(installed)
    size = len(HEADER) + len(rows(1, 2, 3)) + 10  # room for three rows, not four
    (hooked / "pyproject.toml").write_text(f"[tool.telemetry-csv]\nmax_bytes = {max(size, 1024)}\n")
    assert run_cli("init", "--git", cwd=hooked).returncode == 0
    git(hooked, "add", "-A")
    git(hooked, "commit", "-q", "--no-verify", "-m", "settings")
    many = range(10, 10 + (max(size, 1024) - len(HEADER)) // len(row(10)) - 2)
    git(hooked, "checkout", "-q", "-b", "feature")
    write_log(hooked / LOG, rows(1, 2, *many))
    assert commit(hooked, pre_commit_env, "feature rows").returncode == 0
    git(hooked, "checkout", "-q", "main")
    write_log(hooked / LOG, rows(1, 2, 3, 4))
    assert commit(hooked, pre_commit_env, "main rows").returncode == 0
    merged = subprocess.run(
        ["git", "merge", "--no-edit", "feature"],
        cwd=hooked, capture_output=True, text=True, env=pre_commit_env, check=False,
    )  # fmt: skip
    advice = re.search(r"back it up: `git mv (\S+) (\S+)`", output(merged))
    assert advice, output(merged)
    assert merged.returncode != 0 and "over max_bytes" in output(merged)  # check refused it
    git(hooked, "mv", advice.group(1), advice.group(2))
    assert run_cli("init", cwd=hooked).returncode == 0
    done = commit(hooked, pre_commit_env, "merge feature, the merged log backed up")
    assert done.returncode == 0, output(done)
    assert git(hooked, "rev-list", "--count", "--merges", "HEAD").strip() == "1"
    assert run_cli("check", cwd=hooked).returncode == 0


def test_the_import_hook_imports_after_each_commit(
    tmp_path: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    """telemetry-csv-import at its default stage, post-commit: each commit imports what closed
    since the last one; the rows go in with the next commit; with nothing new it is silent."""
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    repo = layout.root
    git(repo, "init", "-q", "-b", "main")
    env = {**pre_commit_env, "HOME": str(layout.home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    source, rev = hook_source
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n"
        "      - id: telemetry-csv-import\n      - id: telemetry-csv-check\n"
    )
    for kind in ("pre-commit", "post-commit"):
        installed = pre_commit(repo, env, "install", "--hook-type", kind)
        assert installed.returncode == 0, output(installed)
    (repo / "README").write_text("work\n")
    first = commit(repo, env, "some work")
    assert first.returncode == 0, output(first)
    assert "telemetry-csv import" in output(first) and "Passed" in output(first)
    # The rows are in a shard of the team layout: the extended header and the three slices.
    [shard] = shards(repo / LOG)
    assert shard.read_text().count("\n") == 4
    assert git(repo, "status", "--porcelain").split() == ["??", ".telemetry/"]
    second = commit(repo, env, "the imported rows")  # `git add -A`: the rows go in now
    assert second.returncode == 0, output(second)
    assert git(repo, "ls-files", ".telemetry").split() == [
        ".telemetry/.gitignore",
        shard.relative_to(repo).as_posix(),
    ]
    assert git(repo, "status", "--porcelain") == ""  # nothing new: nothing written
    assert shards(repo / LOG) == [shard] and shard.read_text().count("\n") == 4
    assert run_cli("check", cwd=repo).returncode == 0
