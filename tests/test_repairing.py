"""repair: it moves aside only what an interrupted append leaves, and refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile.repairing import repair_log
from telemetry_csv.logfile.schema import MAX_LINE_BYTES
from testing.util import HEADER, git, run_cli

LINE = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,x"
TORN = "2026-02-23T22:19:12+01:00,claude-3-opus,15"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            HEADER[:22],
            "has no complete line, not even the header, so it is no log with a torn last line; "
            "nothing was moved. Look at it: move it away, then `telemetry-csv init` starts a new "
            "log",
        ),
        (
            (HEADER + LINE + "\n" + LINE).replace("\n", "\r"),
            "has no newline at all but carriage returns: its lines end in CR only; nothing was "
            "moved. Convert them to LF",
        ),
        (
            HEADER.replace("notes", "note") + LINE + "\n" + TORN,
            "the first line is not the header, so this may be no log; nothing was moved. Run "
            "`telemetry-csv check",
        ),
        (
            LINE + "\n" + TORN,
            "the first line is not the header",
        ),
        (
            HEADER + "x" * 200_000,  # longer than the backwards search's read size, too
            f"the 200,000 bytes after the last newline are longer than any row (at most "
            f"{MAX_LINE_BYTES:,} bytes), so they are no torn write; nothing was moved",
        ),
        (
            HEADER + LINE + "\r" + LINE + "\r" + TORN,
            "the last line holds a carriage return, so it is more than one line with CR "
            "endings, not a torn write; nothing was moved",
        ),
    ],
    ids=["only a fragment", "CR only", "damaged header", "no header", "overlong", "CR inside"],
)
def test_what_no_append_leaves_is_refused_and_left_alone(
    content: str, message: str, tmp_path: Path
) -> None:
    """The old repair moved a whole file without a newline aside (a CR-only log: every row)
    and put a bare header in its place; it cut any tail, however long, from any file."""
    log = tmp_path / "usage.csv"
    log.write_bytes(content.encode())
    with pytest.raises(LogFileError) as refused:
        repair_log(log, lock_timeout=5)
    assert message in str(refused.value)
    assert log.read_bytes() == content.encode()
    assert not list(tmp_path.glob("*.torn-*"))


def test_the_command_refuses_in_one_line_and_exits_4(repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_bytes(b"timestamp,model,pro")
    done = run_cli("repair", cwd=repo)
    assert done.returncode == 4 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "has no complete line" in done.stderr
    assert log.read_bytes() == b"timestamp,model,pro"


@pytest.mark.parametrize(
    ("kept", "torn"),
    [
        (HEADER + LINE + "\n", "x" * MAX_LINE_BYTES),
        ((HEADER + LINE + "\n").replace("\n", "\r\n"), TORN + "\r"),
        ("\ufeff" + HEADER, TORN),
    ],
    ids=["a tail as long as a row", "CRLF log cut before its LF", "byte order mark"],
)
def test_a_torn_append_is_moved_aside(kept: str, torn: str, tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_bytes((kept + torn).encode())
    result = repair_log(log, lock_timeout=5)
    assert result.torn_path is not None and result.torn_path.read_bytes() == torn.encode()
    assert log.read_bytes() == kept.encode()


def test_two_repairs_in_one_second_never_share_a_file(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_bytes((HEADER + TORN).encode())
    first = repair_log(log)
    log.write_bytes((HEADER + "torn again").encode())
    second = repair_log(log)
    assert second.torn_path != first.torn_path
    assert first.torn_path.read_bytes() == TORN.encode()  # never overwritten
    assert second.torn_path.read_bytes() == b"torn again"
    assert log.read_text() == HEADER


def test_without_a_folder_nothing_is_created(repo: Path) -> None:
    """Locking first made filelock create .telemetry and a lock file, with no .gitignore, so
    `git status` showed the lock file."""
    done = run_cli("repair", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "nothing to repair: there is no .telemetry/usage.csv" in done.stdout
    assert not (repo / ".telemetry").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "-inf", "soon"])
def test_lock_timeout_is_checked_like_everywhere_else(value: str, repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_bytes((HEADER + TORN).encode())
    done = run_cli("repair", f"--lock-timeout={value}", cwd=repo)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"telemetry-csv repair: error: argument --lock-timeout: {value!r} is not allowed; "
        "expected a number of seconds, 0 or more, not infinite (see --help)\n"
    )
    assert log.read_bytes() == (HEADER + TORN).encode()
