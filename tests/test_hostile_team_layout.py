"""Issue 12's promises in the team layout and the commands that came with it: the shard folder,
shards, folds and their manifests, and the local states of `log`, `import` and `export` are never
read or written through a link, and each refusal is one line with a documented status.
(tests/test_hostile_repos.py runs every command on every such path; these say exactly what
each command answers.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.logfile import folds
from testing.hostile import DECOY_TEXT, FAKE_KEY, make_decoy, snapshot
from testing.logfiles import row, rows, write_log
from testing.platforms import posix_only
from testing.util import BIN, git, git_env, run_cli

pytestmark = posix_only("symbolic links and FIFOs")

LOG_ARGS = ("log", "m", "1", "2", "true", "plan", "3")
SHARDS = Path(".telemetry/usage.rows")
SHARD = SHARDS / "20260102T000000Z-0123456789abcdef.csv"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository in the team layout with one committed shard."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_log(root / SHARD, rows(1, 2))
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "rows")
    return root


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    return make_decoy(tmp_path / "decoy")


def said(done: subprocess.CompletedProcess[str]) -> str:
    """The one line on standard error, with nothing of the decoy in anything printed."""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "DECOY-CONTENT" not in done.stdout + done.stderr and FAKE_KEY not in done.stderr
    return done.stderr


def test_a_linked_shard_folder_is_refused_by_every_command(repo: Path, decoy: Path) -> None:
    os.rename(repo / SHARDS, repo / "elsewhere")
    (repo / SHARDS).symlink_to(decoy / "dir")
    before = snapshot(decoy)
    for args in (LOG_ARGS, ("check",), ("report", "--no-costs"), ("cat",), ("fold",)):
        done = run_cli(*args, cwd=repo, timeout=60)
        assert done.returncode == 4, (args, done.stderr)
        assert "usage.rows is a symbolic link (to " in said(done)
        assert "the shard folder must be a real folder inside the repository" in done.stderr
    assert snapshot(decoy) == before


@pytest.mark.parametrize(
    ("command", "status"),
    [(("report", "--no-costs"), 4), (("cat",), 4), (("check",), 1)],
)
def test_a_linked_shard_is_never_read(
    repo: Path, decoy: Path, command: tuple[str, ...], status: int
) -> None:
    linked = repo / SHARDS / "20260103T000000Z-fedcba9876543210.csv"
    linked.symlink_to(decoy / "bashrc")
    done = run_cli(*command, cwd=repo, timeout=60)
    assert done.returncode == status, done.stderr
    shown = done.stdout if status == 1 else said(done)
    assert f"{linked.name}" in shown and f"a symbolic link (to {decoy / 'bashrc'})" in shown
    assert "DECOY-CONTENT" not in done.stdout + done.stderr


def test_a_fold_whose_manifest_is_a_link_is_reported_not_read(repo: Path, decoy: Path) -> None:
    made = folds.build([(SHARD.name, (repo / SHARD).read_bytes())])
    (repo / SHARDS / made.name).write_bytes(made.data)
    (decoy / "manifest").write_bytes(made.manifest)  # a true manifest, but outside
    (repo / SHARDS / made.manifest_name).symlink_to(decoy / "manifest")
    checked = run_cli("check", cwd=repo, timeout=60)
    assert checked.returncode == 1
    assert f"its manifest {made.manifest_name} is a symbolic link (to " in checked.stdout
    hooked = _run(repo, {}, "telemetry-csv-check-hook", (SHARDS / made.manifest_name).as_posix())
    assert hooked.returncode == 1
    assert (
        f"{made.manifest_name}:0: file: a symbolic link (to {decoy / 'manifest'})" in hooked.stdout
    )
    assert "DECOY-CONTENT" not in checked.stdout + hooked.stdout
    assert (decoy / "manifest").read_bytes() == made.manifest


def test_log_never_reads_or_writes_its_state_through_a_link(repo: Path, decoy: Path) -> None:
    """The state naming the current shard lives in .git: a link there is replaced by a file
    of its own, never followed; a linked folder of states is left alone."""
    states = repo / ".git" / "telemetry-csv"
    states.mkdir()
    (states / "current").symlink_to(decoy / "bashrc")
    assert run_cli(*LOG_ARGS, cwd=repo, timeout=60).returncode == 0
    assert not (states / "current").is_symlink() and (states / "current").is_file()
    (states / "current").unlink()
    states.rmdir()
    states.symlink_to(decoy / "dir")
    before = snapshot(decoy)
    assert run_cli(*LOG_ARGS, cwd=repo, timeout=60).returncode == 0
    assert snapshot(decoy) == before
    assert (decoy / "bashrc").read_text() == DECOY_TEXT


def test_import_replaces_a_linked_state_and_refuses_a_linked_folder(
    repo: Path, decoy: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env_home = {"HOME": str(home)}
    states = repo / ".git" / "telemetry-csv"
    states.mkdir()
    state = states / "import-state.claude-code.json"
    state.symlink_to(decoy / "bashrc")
    done = _run(repo, env_home, "telemetry-csv", "import", "claude-code")
    assert done.returncode == 0, done.stderr
    assert (decoy / "bashrc").read_text() == DECOY_TEXT
    assert not state.is_symlink()
    state.unlink()
    states.rmdir()
    states.symlink_to(decoy / "dir")
    before = snapshot(decoy)
    done = _run(repo, env_home, "telemetry-csv", "import", "claude-code")
    assert done.returncode == 4 and "telemetry-csv is a symbolic link (to " in said(done)
    assert snapshot(decoy) == before


def test_export_refuses_a_linked_state(repo: Path, decoy: Path) -> None:
    pytest.importorskip("opentelemetry.proto")
    states = repo / ".git" / "telemetry-csv"
    states.mkdir()
    (states / "export-otlp.json").symlink_to(decoy / "bashrc")
    done = run_cli("export", "otlp", "--endpoint", "http://127.0.0.1:9", cwd=repo, timeout=60)
    assert done.returncode == 4
    assert "export-otlp.json is a symbolic link (to " in said(done)
    assert (decoy / "bashrc").read_text() == DECOY_TEXT


def test_fold_refuses_a_fifo_where_git_reads_its_rules(repo: Path) -> None:
    """git add would wait on it forever: fold says so instead, and folds nothing."""
    os.mkfifo(repo / ".gitattributes")
    done = run_cli("fold", cwd=repo, timeout=60)
    assert done.returncode == 4
    assert ".gitattributes is a FIFO, not a file of rules" in said(done)
    os.unlink(repo / ".gitattributes")
    assert git(repo, "status", "--porcelain") == ""  # nothing folded, staged or written


def test_committed_invisible_characters_in_a_shard_are_warnings(repo: Path) -> None:
    legacy = SHARDS / "20260104T000000Z-00112233445566aa.csv"
    write_log(repo / legacy, row(3).replace("claude-3-opus", "claude-3\u00ad-opus"))
    checked = run_cli("check", cwd=repo, timeout=60)
    assert checked.returncode == 0, checked.stdout
    assert f"{legacy.as_posix()}:2: model: warning: invisible character U+00AD" in checked.stdout
    assert "3 valid rows: no problems, 1 warning(s)" in checked.stdout


def _run(
    repo: Path, env: dict[str, str], program: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / program), *args],
        cwd=repo,
        env={**git_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
