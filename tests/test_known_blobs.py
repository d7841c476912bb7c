"""The hooks of one commit hash a log once (git/known_blobs.py): the first records the ids of
the file's committed start and of its whole, with the file's identity; the others trust the
record only while the file is exactly as it was read, with git's care for changes within the
clock's resolution. Real git repositories, the hooks' own `main`."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from telemetry_csv.git.known_blobs import FOLDER, NAME, KnownBlobs
from telemetry_csv.hooks import append_only_hook, check_hook, fmt_hook
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import BIN, HEADER, git

LOG = ".telemetry/usage.csv"
BAD = row(2).replace("1500", "-1")  # a row `check` rejects, as long as row(2)


def wait_for_the_clock(path: Path) -> None:
    """Until a file created now gets a modification time after `path`'s change time: only a
    file changed before the read is recorded (git's racy-clean rule)."""
    probe = path.parent / "clock-probe"
    for _ in range(2000):
        probe.write_bytes(b"")
        later = probe.stat().st_mtime_ns > path.stat().st_ctime_ns
        probe.unlink()
        if later:
            return
        time.sleep(0.001)
    raise AssertionError("the file system clock did not move")


def records(repo: Path) -> dict[int, str]:
    """The ids recorded for the log as it is now."""
    return KnownBlobs(repo).ids(LOG, os.stat(repo / LOG))


@pytest.fixture
def staged_append(repo: Path) -> Path:
    """Three rows committed in the single layout, a fourth appended and staged."""
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlayout = "single"\n')
    log = write_log(repo / LOG, rows(1, 2, 3))
    commit_all(repo, "three rows")
    with open(log, "a") as file:
        file.write(row(4))
    git(repo, "add", LOG)
    wait_for_the_clock(log)
    return log


def test_the_first_hook_records_the_ids_of_the_committed_start_and_of_the_whole(
    repo: Path, staged_append: Path
) -> None:
    committed = int(git(repo, "cat-file", "-s", f"HEAD:{LOG}"))
    assert fmt_hook.main([LOG]) == 0
    assert records(repo) == {
        committed: git(repo, "rev-parse", f"HEAD:{LOG}").strip(),
        staged_append.stat().st_size: git(repo, "rev-parse", f":{LOG}").strip(),
    }
    assert check_hook.main([LOG]) == 0
    assert append_only_hook.main([]) == 0


def restore_times(path: Path, change: Callable[[Path], None]) -> None:
    before = path.stat()
    change(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def replace_by_a_copy(path: Path) -> None:
    shutil.copy2(path, path.with_name("copy.csv"))
    os.replace(path.with_name("copy.csv"), path)


CHANGES: dict[str, Callable[[Path], None]] = {
    "a committed row edited, same size, times restored": lambda path: restore_times(
        path, lambda p: p.write_bytes(p.read_bytes().replace(row(2).encode(), BAD.encode()))
    ),
    "the same bytes written again, times restored": lambda path: restore_times(
        path, lambda p: p.write_bytes(p.read_bytes())
    ),
    "replaced by a copy (another inode)": replace_by_a_copy,
    "a row appended": lambda path: path.write_bytes(path.read_bytes() + row(5).encode()),
    "touched": lambda path: os.utime(path),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_record_is_forgotten_when_anything_about_the_file_differs(
    repo: Path, staged_append: Path, change: str
) -> None:
    assert fmt_hook.main([LOG]) == 0
    assert len(records(repo)) == 2
    CHANGES[change](staged_append)
    assert records(repo) == {}


def test_a_committed_row_edited_after_the_record_is_still_caught(
    repo: Path, staged_append: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fmt_hook.main([LOG]) == 0
    CHANGES["a committed row edited, same size, times restored"](staged_append)
    git(repo, "add", LOG)
    capsys.readouterr()
    assert check_hook.main([LOG]) == 1
    assert "prompt_tokens: '-1' is not allowed" in capsys.readouterr().out
    assert append_only_hook.main([]) == 1
    assert "a history row was changed" in capsys.readouterr().out


def test_a_file_changed_after_the_stamp_is_not_recorded(repo: Path, staged_append: Path) -> None:
    known = KnownBlobs(repo)
    new = known.stamp()
    assert new is not None
    with open(staged_append, "a") as file:  # a change while the hook reads
        file.write(row(5))
    info = staged_append.stat()
    known.record(new, LOG, info, info, {info.st_size: "0" * 40})
    assert records(repo) == {}
    assert not (repo / ".git" / FOLDER / NAME).exists()
    assert os.listdir(repo / ".git" / FOLDER) == []  # the new file was discarded


def test_a_file_read_while_it_changed_is_not_recorded(repo: Path, staged_append: Path) -> None:
    known = KnownBlobs(repo)
    before = staged_append.stat()
    new = known.stamp()
    assert new is not None
    wait_for_the_clock(staged_append)
    os.utime(staged_append)
    known.record(new, LOG, before, staged_append.stat(), {before.st_size: "0" * 40})
    assert records(repo) == {}


BROKEN = {
    "not this format": b"something else\n",
    "a field missing": b"telemetry-csv known-blobs 1\n2e 1 2 3 4 5 abc\n",
    "not hex": b"telemetry-csv known-blobs 1\nzz 1 2 3 4 5 6 " + b"0" * 40 + b"\n",
    "not an id": b"telemetry-csv known-blobs 1\n2e 1 2 3 4 5 6 xyz\n",
    "not ASCII": "telemetry-csv known-blobs 1\n\u00e9\n".encode(),
}


@pytest.mark.parametrize("content", BROKEN, ids=list(BROKEN))
def test_a_broken_records_file_is_ignored_and_replaced(
    repo: Path, staged_append: Path, content: str
) -> None:
    folder = repo / ".git" / FOLDER
    folder.mkdir()
    (folder / NAME).write_bytes(BROKEN[content])
    assert records(repo) == {}
    assert fmt_hook.main([LOG]) == 0
    assert len(records(repo)) == 2


def test_links_are_never_followed(repo: Path, staged_append: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    forged = outside / "forged"
    size = staged_append.stat().st_size
    # What a link could make the hooks believe: the edited file is the staged blob.
    forged.write_bytes(b"telemetry-csv known-blobs 1\n")
    folder = repo / ".git" / FOLDER
    folder.mkdir()
    (folder / NAME).symlink_to(forged)
    assert records(repo) == {}
    assert fmt_hook.main([LOG]) == 0
    assert not (folder / NAME).is_symlink()  # the link itself was replaced, not its target
    assert forged.read_bytes() == b"telemetry-csv known-blobs 1\n"
    assert records(repo)[size] == git(repo, "rev-parse", f":{LOG}").strip()

    shutil.rmtree(folder)
    (repo / ".git" / FOLDER).symlink_to(outside, target_is_directory=True)
    assert KnownBlobs(repo).stamp() is None
    assert check_hook.main([LOG]) == 0
    assert append_only_hook.main([]) == 0
    assert sorted(os.listdir(outside)) == ["forged"]


def test_a_linked_work_tree_keeps_no_records(repo: Path, staged_append: Path) -> None:
    git(repo, "commit", "-q", "--no-verify", "-m", "four rows")
    other = repo.parent / "other"
    git(repo, "worktree", "add", "-q", str(other))
    os.chdir(other)
    with open(other / LOG, "a") as file:
        file.write(row(5))
    git(other, "add", LOG)
    assert fmt_hook.main([LOG]) == 0
    assert check_hook.main([LOG]) == 0
    assert append_only_hook.main([]) == 0
    assert KnownBlobs(other).stamp() is None
    assert not (repo / ".git" / FOLDER).exists()


# A commit of new shards (the team layout's usual commit): check and fmt ask git nothing, and
# still refuse or fix what they always did.

SHARD = ".telemetry/usage.rows/20260301T100000Z-00000000000000aa.csv"
SHARDS: dict[str, tuple[str, bytes, int, str]] = {
    # what the shard holds, the hook, its exit status, what it prints
    "valid, check": ("check", (HEADER + rows(1, 2)).encode(), 0, ""),
    "a bad row, check": ("check", (HEADER + row(1) + BAD).encode(), 1, "prompt_tokens: '-1'"),
    "valid, fmt": ("fmt", (HEADER + rows(1, 2)).encode(), 0, ""),
    "CRLF, fmt": ("fmt", (HEADER + rows(1, 2)).replace("\n", "\r\n").encode(), 1, "Fixing"),
    "no final newline, fmt": ("fmt", (HEADER + rows(1, 2)).encode()[:-1], 1, "no newline"),
}


@pytest.mark.parametrize("case", SHARDS, ids=list(SHARDS))
def test_hooks_on_new_shards_ask_git_nothing(repo: Path, tmp_path: Path, case: str) -> None:
    hook, content, status, shown = SHARDS[case]
    write_log(repo / LOG, rows(3))
    commit_all(repo, "a log")
    (repo / SHARD).parent.mkdir(parents=True)
    (repo / SHARD).write_bytes(content)
    git(repo, "add", SHARD)
    trace = tmp_path / "git-trace"
    done = subprocess.run(
        [str(BIN / f"telemetry-csv-{hook}-hook"), SHARD],
        cwd=repo,
        env={**os.environ, "GIT_TRACE": str(trace)},
        capture_output=True,
        text=True,
    )
    assert (done.returncode, shown in done.stdout + done.stderr) == (status, True)
    assert not trace.exists() or "git" not in trace.read_text()
    if case == "CRLF, fmt":
        assert (repo / SHARD).read_bytes() == (HEADER + rows(1, 2)).encode()


def test_append_only_on_new_shards_does_not_diff_the_log(repo: Path, tmp_path: Path) -> None:
    write_log(repo / LOG, rows(3))
    commit_all(repo, "a log")
    (repo / SHARD).parent.mkdir(parents=True)
    (repo / SHARD).write_bytes((HEADER + rows(1)).encode())
    git(repo, "add", SHARD)
    trace = tmp_path / "git-trace"
    env = {**os.environ, "GIT_TRACE": str(trace)}
    hook = str(BIN / "telemetry-csv-append-only-hook")
    done = subprocess.run([hook], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "diff-index" not in trace.read_text()
    # The log's history is still compared as soon as it differs.
    (repo / LOG).write_bytes((HEADER + rows(4)).encode())
    git(repo, "add", LOG)
    done = subprocess.run([hook], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "a history row was changed" in done.stdout
