"""`report --range BASE..HEAD`: only the rows a range of commits added, read from real git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from testing.util import BIN, git, git_env, run_cli


def log(cwd: Path, notes: str, *extra: str) -> None:
    assert (
        main(["log", "claude-3-opus", "100", "20", "true", "execute", "1000", notes, "-q", *extra])
        == 0
    )


def report_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main(["report", "--format", "json", "--no-costs", *args]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("layout", "new_files"),
    [("team", ".telemetry/usage.rows/*.csv"), ("single", ".telemetry/usage-*.csv")],
)
def test_range_counts_only_the_rows_the_branch_added_across_new_files(
    repo: Path, capsys: pytest.CaptureFixture[str], layout: str, new_files: str
) -> None:
    """A small limit makes the branch's rows spill into new files part-way: new shards in the
    team layout, backups of the rotated log in the single one."""
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text(f'layout = "{layout}"\n')
    assert main(["init"]) == 0
    for i in range(3):
        log(repo, f"base {i}")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "feature")
    before = set(repo.glob(new_files))
    for i in range(30):
        log(repo, f"feature {i}", "--max-bytes", "1024")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "feature work")
    assert len(set(repo.glob(new_files)) - before) >= 2, "the branch should have spilled"
    # Uncommitted rows are not part of any range.
    log(repo, "not committed")

    report = report_json(capsys, "--range", "main..feature")
    assert report["rows"] == 30
    assert report["totals"]["prompt_tokens"] == 3000
    everything = report_json(capsys)
    assert everything["rows"] == 34

    capsys.readouterr()
    assert main(["report", "--range", "main..feature", "--no-costs"]) == 0
    assert "rows added in main..feature" in capsys.readouterr().out


def test_range_errors_are_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    capsys.readouterr()
    assert main(["report", "--range", "main"]) == 2
    assert "expected BASE..HEAD" in capsys.readouterr().err
    assert main(["report", "--range", "nope..HEAD"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err
    assert main(["report", "--range", "main..HEAD", "some.csv"]) == 2
    assert "without FILES or --file" in capsys.readouterr().err


def test_installed_command_reports_a_range(repo: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    done = run_cli("log", "openai/gpt-4o", "5", "6", "false", "verify", "700", cwd=repo)
    assert done.returncode == 0, done.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one row")
    done = run_cli("report", "--range", "HEAD~1..HEAD", "--format", "json", "--no-costs", cwd=repo)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rows"] == 1
    assert data["by_model"][0]["model"] == "openai/gpt-4o"
    assert data["by_model"][0]["success_rate"] == 0


@pytest.mark.parametrize("layout", ["single", "team"])
def test_a_log_file_committed_as_a_link_is_refused_not_followed(repo: Path, layout: str) -> None:
    """A commit that makes the log (or a shard) a symbolic link to another committed file: the
    range names the link and stops, and never reports the rows of the file it points at (git
    names the link itself; resolving it in the work tree read `decoy.csv` instead)."""
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text(f'layout = "{layout}"\n')
    assert run_cli("init", cwd=repo).returncode == 0
    decoy = repo / ".telemetry" / "decoy.csv"
    decoy.write_text(
        "timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,"
        "notes\n2026-01-01T00:00:00Z,decoy-model,1,2,true,execute,5,\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    link = (
        repo / ".telemetry" / "usage.csv"
        if layout == "single"
        else repo / ".telemetry" / "usage.rows" / "20260101T000000Z-0123456789abcdef.csv"
    )
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to("../decoy.csv" if layout == "team" else "decoy.csv")
    with decoy.open("a") as file:
        file.write("2026-01-02T00:00:00Z,decoy-model,1,2,true,execute,5,\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the log as a link", "--no-verify")
    done = run_cli("report", "--range", "HEAD~1..HEAD", "--no-costs", cwd=repo)
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert done.stdout == "" and "decoy-model" not in done.stderr
    assert done.stderr.count("\n") == 1 and "is a symbolic link in" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_commit_that_replaces_a_committed_link_with_the_log_passes(repo: Path) -> None:
    """A link committed at the log's name (past the hooks) is refused where it is new, but it
    holds no rows: the commit that puts the real file back passes append-only, and a range
    from the link's commit reports the file's rows."""
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text('layout = "single"\n')
    assert run_cli("init", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    log_file = repo / ".telemetry" / "usage.csv"
    log_file.unlink(missing_ok=True)
    log_file.symlink_to("elsewhere.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a link at the log's name", "--no-verify")
    log_file.unlink()
    assert run_cli("log", "m", "1", "2", "true", "execute", "5", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    hook = subprocess.run(
        [str(BIN / "telemetry-csv-append-only-hook")],
        cwd=repo,
        capture_output=True,
        text=True,
        env=git_env(),
    )
    assert hook.returncode == 0, hook.stderr
    git(repo, "commit", "-qm", "the log again")
    done = run_cli("report", "--range", "HEAD~1..HEAD", "--no-costs", "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 1
    # Where the link is the new side, it is refused.
    done = run_cli("report", "--range", "HEAD~2..HEAD~1", "--no-costs", cwd=repo)
    assert done.returncode == 4 and "is a symbolic link in" in done.stderr
