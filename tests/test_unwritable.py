"""Logs that cannot be written: read-only file or folder, a directory for a path, a full disk.
Each gives one clear line and exit status 4, and leaves every file as it was.

The suite usually runs as root, which ignores permission bits, so the writer runs in a forked
child that has dropped to the unprivileged uid 65534 first. A full disk is made real twice:
RLIMIT_FSIZE in the writer (writes fail with EFBIG part-way) and, where the machine allows a
private mount namespace, a tiny tmpfs (writes fail with ENOSPC).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import telemetry_csv.capture.appending
import telemetry_csv.cli.log
import telemetry_csv.cli.main
import telemetry_csv.durations
from telemetry_csv.logfile.layout import backup_paths
from testing.logfiles import temporaries
from testing.platforms import FILE_SIZE_LIMIT, FORK, MODES, posix_only
from testing.util import HEADER, git_env

pytestmark = posix_only(f"{FORK} and setuid, {MODES}, or {FILE_SIZE_LIMIT}")

NOBODY = 65534
ROW = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,old row\n"
LOG_ARGS = ["log", "m", "1", "2", "true", "plan", "3", "new row"]
CLI = str(Path(sys.executable).parent / "telemetry-csv")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged writer can reach (pytest's own tmp folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="telemetry-unwritable-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_as_nobody(argv: list[str], cwd: Path) -> tuple[int, str]:
    """`telemetry-csv ARGV` in a real child process without root's privileges."""
    import filelock  # noqa: F401 - the child may not be able to read the interpreter's files

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            sys.stderr = os.fdopen(write_fd, "w", buffering=1)
            os.chdir(cwd)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            code = telemetry_csv.cli.main.main(argv)
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as stderr:
        message = stderr.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


def state(folder: Path) -> dict[str, bytes | None]:
    return {p.name: (p.read_bytes() if p.is_file() else None) for p in folder.iterdir()}


def prepared(folder: Path, rows: int = 1) -> Path:
    """A repository with a log of `rows` rows, owned by the unprivileged user."""
    (folder / ".git").mkdir()
    logs = folder / ".telemetry"
    logs.mkdir()
    (logs / ".gitignore").write_text("*.lock\n.*.tmp\n")
    (logs / "config.toml").write_text('layout = "single"\n')  # these are the one file's cases
    log = logs / "usage.csv"
    log.write_text(HEADER + ROW * rows)
    (logs / "usage.csv.lock").touch()
    for path in (folder, logs, *logs.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    return log


def assert_refused(code: int, message: str, *words: str) -> None:
    assert code == 4, message
    assert message.count("\n") == 1 and "Traceback" not in message
    for word in words:
        assert word in message


def test_read_only_log_file(shared_dir: Path) -> None:
    log = prepared(shared_dir)
    log.chmod(0o444)
    before = state(log.parent)
    code, message = run_as_nobody(LOG_ARGS, shared_dir)
    assert_refused(code, message, "cannot write", "Permission denied")
    assert state(log.parent) == before


def test_read_only_log_file_that_is_full_is_not_rotated_away(shared_dir: Path) -> None:
    log = prepared(shared_dir, rows=12)
    log.chmod(0o444)
    before = state(log.parent)
    code, message = run_as_nobody([*LOG_ARGS, "--max-bytes", "1024"], shared_dir)
    assert_refused(code, message, "Permission denied", "left as it was")
    assert state(log.parent) == before and backup_paths(log) == []


def test_read_only_folder_without_a_lock_file(shared_dir: Path) -> None:
    log = prepared(shared_dir)
    (log.parent / "usage.csv.lock").unlink()
    log.parent.chmod(0o555)
    before = state(log.parent)
    code, message = run_as_nobody(LOG_ARGS, shared_dir)
    assert_refused(code, message, "cannot create lock file", "Permission denied")
    assert state(log.parent) == before


def test_read_only_folder_when_the_log_must_rotate(shared_dir: Path) -> None:
    log = prepared(shared_dir, rows=12)
    log.parent.chmod(0o555)
    before = state(log.parent)
    code, message = run_as_nobody([*LOG_ARGS, "--max-bytes", "1024"], shared_dir)
    assert_refused(code, message, "cannot write in", "Permission denied")
    assert state(log.parent) == before
    assert not temporaries(log) and backup_paths(log) == []


def test_read_only_folder_still_takes_appends_to_a_writable_log(shared_dir: Path) -> None:
    log = prepared(shared_dir)
    log.parent.chmod(0o555)
    code, message = run_as_nobody(LOG_ARGS, shared_dir)
    assert code == 0, message
    assert log.read_text().startswith(HEADER + ROW) and log.read_text().endswith(",new row\n")


def test_a_directory_given_as_the_log(shared_dir: Path) -> None:
    log = prepared(shared_dir)
    before = {"root": state(shared_dir), "logs": state(log.parent)}
    code, message = run_as_nobody([*LOG_ARGS, "--file", ".telemetry"], shared_dir)
    assert_refused(code, message, ".telemetry is not a regular file")
    assert {"root": state(shared_dir), "logs": state(log.parent)} == before


def test_a_file_where_the_folder_should_be(shared_dir: Path) -> None:
    prepared(shared_dir)
    (shared_dir / "notes.txt").write_text("a file, not a folder\n")
    os.chown(shared_dir / "notes.txt", NOBODY, NOBODY)
    code, message = run_as_nobody([*LOG_ARGS, "--file", "notes.txt/usage.csv"], shared_dir)
    assert_refused(code, message, "notes.txt")
    assert (shared_dir / "notes.txt").read_text() == "a file, not a folder\n"


def limited(size: int):
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


@pytest.mark.parametrize("room", [0, 10, 40])
def test_disk_full_part_way_through_an_append_is_undone(tmp_path: Path, room: int) -> None:
    log = prepared(tmp_path)
    before = state(log.parent)
    done = subprocess.run(
        [CLI, *LOG_ARGS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=git_env(),
        preexec_fn=limited(log.stat().st_size + room),
        check=False,
    )
    assert_refused(done.returncode, done.stderr, "File too large", "the log was left as it was")
    assert state(log.parent) == before


def test_disk_full_while_rotating_leaves_no_backup_and_no_temporary_file(tmp_path: Path) -> None:
    log = prepared(tmp_path, rows=12)
    before = state(log.parent)
    done = subprocess.run(
        [CLI, *LOG_ARGS, "--max-bytes", "1024"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=git_env(),
        preexec_fn=limited(50),
        check=False,
    )
    assert_refused(done.returncode, done.stderr, "File too large")
    assert state(log.parent) == before
    assert not temporaries(log) and backup_paths(log) == []


TMPFS = r"""
import json, os, subprocess, sys
from pathlib import Path
cli, mount, case = sys.argv[1:4]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount], check=True)
header = b"timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,notes\n"
root = Path(mount)
(root / ".git").mkdir()
logs = root / ".telemetry"
logs.mkdir()
(logs / ".gitignore").write_text("*.lock\n.*.tmp\n")
(logs / "config.toml").write_text('layout = "single"\n')
(logs / "usage.csv.lock").touch()
start = b"2026-02-23T22:19:12+01:00,m,1,2,true,plan,3,"
row = start + b"x" * (4096 - len(header) - len(start) - 1) + b"\n"
(logs / "usage.csv").write_bytes(header + row)  # exactly one page: any append needs another
with open(root / "filler", "wb", buffering=0) as filler:
    try:
        while True:
            filler.write(b"\0" * 4096)
    except OSError:
        pass
os.sync()
before = {p.name: p.read_bytes().hex() for p in logs.iterdir()}
args = [cli, "log", "m", "1", "2", "true", "plan", "3", "new row"]
if case == "rotate":
    args += ["--max-bytes", "4096"]
done = subprocess.run(args, cwd=root, capture_output=True, text=True)
after = {p.name: p.read_bytes().hex() for p in logs.iterdir()}
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "same": before == after,
                  "size": (logs / "usage.csv").stat().st_size, "names": sorted(after)}))
"""


@pytest.mark.parametrize("case", ["append", "rotate"])
def test_a_really_full_disk(tmp_path: Path, case: str) -> None:
    unshare = shutil.which("unshare")
    mount = tmp_path / "disk"
    mount.mkdir()
    probe = (
        subprocess.run(
            [unshare or "unshare", "--mount", "--propagation", "private", "true"],
            capture_output=True,
            check=False,
        )
        if unshare
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip(
            "no private mount namespace here: the full disk is covered by RLIMIT_FSIZE only"
        )
    done = subprocess.run(
        [
            unshare,
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            "-c",
            TMPFS,
            CLI,
            str(mount),
            case,
        ],
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    if done.returncode != 0 and "mount" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip().splitlines()[-1]}")
    result = json.loads(done.stdout)
    assert_refused(result["code"], result["stderr"], "No space left on device")
    assert result["same"] and result["size"] == 4096
    assert result["names"] == [".gitignore", "config.toml", "usage.csv", "usage.csv.lock"]
