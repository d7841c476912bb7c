"""Readers see a consistent set of files while writers rotate, start shards, commit and fold:
every row logged before they started, exactly once, or an error; without write access, and with
more files than the open-file limit allows open at once."""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main as cli_main
from telemetry_csv.logfile import layout, snapshot
from telemetry_csv.logfile.schema import Schema
from testing.logfiles import commit_all
from testing.util import HEADER, git, git_env, row_line, run_cli

WRITER_SCRIPT = Path(__file__).parent.parent / "testing" / "writer_process.py"
SCHEMA = Schema()


def ids_of(lines: list[str]) -> Counter[str]:
    return Counter(line.split("id=")[1].split(" ")[0] for line in lines if "id=" in line)


def rows_read(snap: snapshot.Snapshot) -> list[str]:
    lines = []
    for item in snap.items(SCHEMA):
        if isinstance(item, str):
            lines += item.splitlines()
        else:
            assert not hasattr(item, "message"), item
            lines.append(SCHEMA.format_line(item))  # type: ignore[arg-type]
    return lines


def test_a_rotation_between_listing_and_reading_is_followed(tmp_path: Path) -> None:
    """The log listed, then renamed to a backup (a rotation) before it is read: the reader
    follows it by its inode, and reads the new log's rows not at all (they are newer)."""
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(notes="id=a:0 "))
    snap = snapshot.take(log)
    os.rename(log, tmp_path / "usage-20260101T000000Z.csv")
    log.write_text(HEADER + row_line(notes="id=a:1 "))
    assert ids_of(rows_read(snap)) == Counter({"a:0": 1})


def test_a_file_deleted_or_cut_under_the_reader_starts_it_again(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(notes="id=a:0 ") + row_line(notes="id=a:1 "))
    snap = snapshot.take(log)
    with open(log, "r+") as file:
        file.truncate(len(HEADER) + len(row_line(notes="id=a:0 ")))
    with pytest.raises(snapshot.LogChanged):
        rows_read(snap)
    attempts = []

    def read(snap: snapshot.Snapshot) -> list[str]:
        attempts.append(1)
        if len(attempts) == 1:
            log.write_text(HEADER)  # replaced: another inode
        return rows_read(snap)

    assert snapshot.read_consistently(read, log) == []
    assert len(attempts) == 2


def test_a_row_being_appended_past_the_listed_size_is_not_read_half(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(notes="id=a:0 "))
    snap = snapshot.take(log)
    with open(log, "a") as file:
        file.write(row_line(notes="id=a:1 ")[:20])  # a write of many pages, seen half done
    assert ids_of(rows_read(snap)) == Counter({"a:0": 1})


def test_a_move_journal_caps_its_source(tmp_path: Path) -> None:
    """Between the target of a tail move appearing and the source being cut back, both hold
    the rows moved: the journal says which copy counts."""
    log = tmp_path / ".telemetry" / "usage.csv"
    folder = layout.shard_folder(log)
    folder.mkdir(parents=True)
    source = folder / "20260101T000000Z-00000000000000aa.csv"
    target = folder / "20260101T000001Z-00000000000000bb.csv"
    kept = HEADER + row_line(notes="id=s:0 ")
    source.write_text(kept + row_line(notes="id=s:1 "))
    target.write_text(HEADER + row_line(notes="id=s:1 ") + row_line(notes="id=s:2 "))
    (folder / layout.move_name(source.name, len(kept), target.name)).write_text("")
    assert ids_of(rows_read(snapshot.take(log))) == Counter(["s:0", "s:1", "s:2"])
    target.unlink()  # the move never got as far as the target: the source's rows count
    assert ids_of(rows_read(snapshot.take(log))) == Counter(["s:0", "s:1"])


def as_nobody_with_64_descriptors(argv: list[str], cwd: Path) -> tuple[int, str]:
    """`telemetry-csv ARGV` in a forked child that may open 64 files at most and, as the
    unprivileged uid 65534, may only read the folder."""
    from telemetry_csv.cli.main import main

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.dup2(write_fd, 1)
            os.close(read_fd)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            os.chdir(cwd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
            if os.geteuid() == 0:  # root would write whatever the permissions say
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            code = main(argv)
            sys.stdout.flush()
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as out:
        text = out.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text


def test_thousands_of_files_under_a_small_open_file_limit_without_write_access() -> None:
    """One file open at a time: 3,000 shards are read with at most 64 descriptors, by a user
    who may only read the folder (no lock can be taken, none is needed)."""
    shared = Path(tempfile.mkdtemp(prefix="telemetry-readonly-"))
    try:
        folder = layout.shard_folder(shared / ".telemetry" / "usage.csv")
        folder.mkdir(parents=True)
        for number in range(3000):
            name = f"20260101T{number // 60 % 24:02d}{number % 60:02d}00Z-{number:016x}.csv"
            (folder / name).write_text(HEADER + row_line(notes=f"id=f:{number} "))
        commands = [["check"], ["report", "--format", "json", "--no-costs"], ["cat"]]
        with contextlib.redirect_stdout(io.StringIO()):  # load every module before dropping
            for command in commands:
                assert cli_main(command) == 0
        for path in (shared, shared / ".telemetry", folder):
            path.chmod(0o555)
        for command in commands:
            code, out = as_nobody_with_64_descriptors(command, shared)
            assert code == 0, out[-500:]
            if command == ["check"]:
                assert "3,000 valid rows: no problems" in out
            elif command[0] == "report":
                assert json.loads(out)["rows"] == 3000
            else:
                assert ids_of(out.splitlines()[1:]) == Counter(f"f:{n}" for n in range(3000))
    finally:
        for path in (shared, shared / ".telemetry"):
            path.chmod(0o755)
        shutil.rmtree(shared, ignore_errors=True)


class Writers:
    """Real writer processes reporting each row once `log_row` returned (testing/writer_process)."""

    def __init__(self, repo: Path, log: str, count: int, max_bytes: int):
        self.done: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(WRITER_SCRIPT), log, str(max_bytes), f"w{n}", "-1"],
                cwd=repo,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**git_env(), "PYTHONPATH": str(Path(__file__).parent.parent)},
            )
            for n in range(count)
        ]
        self.threads = [
            threading.Thread(target=self._read, args=(process,), daemon=True)
            for process in self.processes
        ]
        for thread in self.threads:
            thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("done "):
                with self.lock:
                    self.done.append((time.monotonic(), line.split()[1]))

    def logged_before(self, instant: float) -> Counter[str]:
        with self.lock:
            return Counter(row for when, row in self.done if when < instant)

    def stop(self) -> Counter[str]:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        for thread in self.threads:
            thread.join(timeout=30)
        with self.lock:
            return Counter(row for _, row in self.done)


def read_while_writing(repo: Path, writers: Writers, rounds: int) -> list[str]:
    """Run cat, check and report in turn; each must count at least every row reported
    logged before it started, and no row twice (cat shows which rows)."""
    seen = []
    for round_ in range(rounds):
        command = ("cat", "check", "report")[round_ % 3]
        started = time.monotonic()
        before = writers.logged_before(started)
        args = {"cat": ["cat"], "check": ["check"], "report": ["report", "--format",
                "json", "--no-costs"]}[command]  # fmt: skip
        done = run_cli(*args, cwd=repo, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
        if command == "cat":
            ids = ids_of(done.stdout.splitlines()[1:])
            assert max(ids.values(), default=1) == 1, [i for i, n in ids.items() if n > 1][:5]
            missing = before - ids
            assert not missing, f"logged before cat started, not shown: {list(missing)[:5]}"
            count = sum(ids.values())
        elif command == "check":
            summary = done.stdout.splitlines()[-1]
            assert summary.endswith("valid rows: no problems"), done.stdout[-2000:]
            count = int(summary.split(", ")[1].split()[0].replace(",", ""))
        else:
            count = json.loads(done.stdout)["rows"]
        assert count >= sum(before.values()), (command, count, sum(before.values()))
        # No row twice: no more rows than were logged by the end, but for one a writer may
        # have written and not yet reported.
        after = writers.logged_before(time.monotonic())
        assert count <= sum(after.values()) + len(writers.processes), (command, count)
        seen.append(f"{command}:{count}")
    return seen


@pytest.mark.slow
def test_readers_during_constant_rotations(repo: Path, single_layout: Path) -> None:
    """The single layout: writers rotate a 1 KiB log every few rows."""
    writers = Writers(repo, str(repo / ".telemetry" / "usage.csv"), 4, 1024)
    try:
        time.sleep(0.5)
        seen = read_while_writing(repo, writers, rounds=24)
    finally:
        total = writers.stop()
    assert len(list((repo / ".telemetry").glob("usage-*.csv"))) > 50, "it rotated constantly"
    report = run_cli("report", "--format", "json", "--no-costs", cwd=repo)
    assert json.loads(report.stdout)["rows"] >= sum(total.values())
    print("\nreads during rotations:", " ".join(seen))


@pytest.mark.slow
def test_readers_during_new_shards_commits_and_folds(repo: Path) -> None:
    """The team layout: writers fill 1 KiB shards (a new one every few rows), while a committer
    stages and commits everything and folds now and then, which starts new shards (frozen
    ones), moves raced tails and deletes folded shards under the readers."""
    (repo / "README").write_text("x\n")
    commit_all(repo, "start")
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text("max_bytes = 1024\n")
    writers = Writers(repo, "-", 4, 1024)
    stop = threading.Event()
    folds = []

    def committer() -> None:
        while not stop.is_set():
            git(repo, "add", "-A")
            subprocess.run(["git", "commit", "-q", "-m", "rows"], cwd=repo, env=git_env(),
                           capture_output=True, check=False)  # fmt: skip
            if len(folds) < 4:
                done = run_cli("fold", cwd=repo)
                folds.append(done.returncode)
            time.sleep(0.3)

    thread = threading.Thread(target=committer, daemon=True)
    try:
        time.sleep(0.5)
        thread.start()
        seen = read_while_writing(repo, writers, rounds=24)
    finally:
        stop.set()
        thread.join(timeout=60)
        total = writers.stop()
    folder = layout.shard_folder(repo / ".telemetry" / "usage.csv")
    assert list(folder.glob("fold-*.csv")), f"no fold was made: {folds}"
    cat = run_cli("cat", cwd=repo)
    ids = ids_of(cat.stdout.splitlines()[1:])
    assert max(ids.values()) == 1 and not total - ids
    assert run_cli("check", cwd=repo).returncode == 0
    print("\nreads during shards, commits and folds:", " ".join(seen))
