"""The check and fmt hooks trust a file's start only when it is byte for byte HEAD's blob
(git/committed.py): that start is not read again, everything after it is checked in full, and
`telemetry-csv check` still reads everything. Real git repositories; the committed history
that the hooks must skip is made bad on purpose (a commit with `--no-verify`), so that a test
can tell whether it was read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from telemetry_csv.git.committed import committed_starts
from telemetry_csv.hooks import check_hook, fmt_hook
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import EXTENDED_HEADER, HEADER, extended, run_cli

# A committed row that `check` rejects: the hooks must not see it while it is HEAD's.
BAD = row(2).replace("1500", "-1")
BAD_MESSAGE = "a.csv:3: prompt_tokens: '-1' is not allowed"


def id_line(number: int, source_id: str, prompt: int = 1000) -> str:
    """An extended row with an id (an imported slice's shape)."""
    return (
        f"2026-03-{number:02d}T10:40:00Z,claude-sonnet-4-5,{prompt},20,true,execute,60000,,"
        f"claude-code,20260311T10Z-{source_id},600,0\n"
    )


def commit_bad_history(repo: Path) -> Path:
    """a.csv committed with a bad row in the middle; the working tree left as committed."""
    path = write_log(repo / "a.csv", row(1) + BAD + row(3))
    commit_all(repo, "history with a bad row")
    return path


# Which starts are trusted: only bytes identical to HEAD's blob, as whole lines.

WORKING_TREES: dict[str, tuple[Callable[[bytes], bytes], bool]] = {
    "unchanged": (lambda data: data, True),
    "a row appended": (lambda data: data + row(9).encode(), True),
    "a committed byte changed, same size": (lambda data: data.replace(b"task 1", b"task 7"), False),
    "a committed byte changed, rows appended": (
        lambda data: data.replace(b"task 1", b"task 7") + row(9).encode(),
        False,
    ),
    "a committed row removed": (lambda data: data.replace(row(3).encode(), b""), False),
    "the last newline replaced": (lambda data: data[:-1] + b" x\n", False),
    "CRLF line endings": (lambda data: data.replace(b"\n", b"\r\n"), False),
    "emptied": (lambda data: b"", False),
}


@pytest.mark.parametrize("change", WORKING_TREES, ids=list(WORKING_TREES))
def test_a_start_is_trusted_only_when_it_is_heads_blob(repo: Path, change: str) -> None:
    path = write_log(repo / "a.csv", rows(1, 2, 3))
    commit_all(repo, "three rows")
    committed = path.read_bytes()
    edit, trusted = WORKING_TREES[change]
    path.write_bytes(edit(committed))
    expected = {path: len(committed)} if trusted else {}
    assert committed_starts([path], repo) == expected


def test_nothing_is_trusted_without_a_committed_copy(repo: Path) -> None:
    write_log(repo / "a.csv", rows(1))
    assert committed_starts([repo / "a.csv"], repo) == {}  # no HEAD yet
    commit_all(repo, "one row")
    write_log(repo / "b.csv", rows(1))
    outside = write_log(repo.parent / "elsewhere.csv", rows(1))
    assert committed_starts([repo / "b.csv", outside], repo) == {}


def test_a_committed_last_line_without_a_newline_is_not_trusted(repo: Path) -> None:
    path = repo / "a.csv"
    path.write_bytes((HEADER + rows(1) + row(2).rstrip("\n")).encode())
    commit_all(repo, "a torn last line")
    path.write_bytes(path.read_bytes() + b"\n" + row(3).encode())
    assert committed_starts([path], repo) == {}


def test_a_symlink_to_the_committed_copy_is_not_trusted(repo: Path) -> None:
    write_log(repo / "a.csv", rows(1, 2))
    commit_all(repo, "two rows")
    os.rename(repo / "a.csv", repo / "real.csv")
    os.symlink(repo / "real.csv", repo / "a.csv")
    assert committed_starts([repo / "a.csv"], repo) == {}


# The check hook: skips HEAD's bytes, checks all that follows.


def test_the_check_hook_skips_heads_bytes_but_check_reads_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = commit_bad_history(repo)
    path.write_bytes(path.read_bytes() + row(4).encode())
    assert check_hook.main(["a.csv"]) == 0
    assert capsys.readouterr().out == ""
    done = run_cli("check", "a.csv", cwd=repo)
    assert done.returncode == 1
    assert done.stdout.startswith(BAD_MESSAGE)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda data: data.replace(b"task 1", b"task 7"), id="a byte changed"),
        pytest.param(lambda data: data.replace(row(3).encode(), b""), id="a row removed"),
        pytest.param(lambda data: data.replace(b"\n", b"\r\n", 1), id="the header in CRLF"),
    ],
)
def test_the_check_hook_reads_everything_when_the_start_differs_from_head(
    repo: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[bytes], bytes]
) -> None:
    path = commit_bad_history(repo)
    path.write_bytes(edit(path.read_bytes()) + row(4).encode())
    assert check_hook.main(["a.csv"]) == 1
    assert BAD_MESSAGE in capsys.readouterr().out


ADDED: dict[str, tuple[str, str]] = {
    "a bad number": (row(4).replace("3200", "x"), "a.csv:5: completion_tokens: 'x' is not"),
    "an unquoted comma": (row(4).replace("task 4", "a,b"), "a.csv:5: line: expected 8 fields"),
    "a blank line": (row(4) + "\n", "a.csv:6: line: blank line; delete it"),
    "a CRLF line": (
        row(4).replace("\n", "\r\n"),
        "a.csv:5: file: mixed line endings: 1 CRLF and 4 LF lines",
    ),
    "bytes not UTF-8": (
        row(4).replace("task", "t\udcffask"),
        "a.csv:5: line: bytes that are not UTF-8 at byte 65",
    ),
    "no final newline": (row(4).rstrip("\n"), "a.csv:5: line: no newline at the end"),
}


@pytest.mark.parametrize("added", ADDED, ids=list(ADDED))
def test_the_check_hook_checks_every_added_line(
    repo: Path, capsys: pytest.CaptureFixture[str], added: str
) -> None:
    path = write_log(repo / "a.csv", rows(1, 2, 3))
    commit_all(repo, "three good rows")
    text, message = ADDED[added]
    path.write_bytes(path.read_bytes() + text.encode("utf-8", "surrogateescape"))
    assert committed_starts([path], repo) == {path: len(HEADER) + len(rows(1, 2, 3))}
    assert check_hook.main(["a.csv"]) == 1
    out = capsys.readouterr().out
    assert message in out, out
    # The full check finds the same problem on the same line.
    assert message in run_cli("check", "a.csv", cwd=repo).stdout


def test_added_rows_are_compared_with_committed_rows_of_their_id(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = write_log(repo / "b.csv", id_line(1, "b") + extended(rows(5)), header=EXTENDED_HEADER)
    log = write_log(repo / "a.csv", id_line(2, "a") + extended(rows(1, 2)), header=EXTENDED_HEADER)
    commit_all(repo, "two logs with ids")
    log.write_bytes(log.read_bytes() + id_line(3, "c").encode())  # a new id: fine
    assert check_hook.main(["a.csv", "b.csv"]) == 0
    # One id, other numbers: against a committed row of the same file, and of the other file.
    log.write_bytes(log.read_bytes() + id_line(4, "a", prompt=1200).encode())
    backup.write_bytes(backup.read_bytes() + id_line(5, "a", prompt=1300).encode())
    assert set(committed_starts([log, backup], repo)) == {log, backup}
    assert check_hook.main(["a.csv", "b.csv"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("a.csv:6: source_id: claude-code 20260311T10Z-a is also on line 2 ")
    assert out[1].startswith("b.csv:4: source_id: claude-code 20260311T10Z-a is also on line 2 ")
    assert out[1].endswith(
        "1300 here, 1000 there); rows with one source_id are the same usage "
        "and are counted once, so one of them is wrong"
    )


def test_a_new_file_is_compared_with_the_committed_rows_of_the_others(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(repo / "a.csv", id_line(2, "a") + extended(rows(1)), header=EXTENDED_HEADER)
    commit_all(repo, "a log with an id")
    log.write_bytes(log.read_bytes() + extended(rows(3)).encode())
    write_log(repo / "new.csv", id_line(4, "a", prompt=1200), header=EXTENDED_HEADER)
    assert check_hook.main(["a.csv", "new.csv"]) == 1
    assert capsys.readouterr().out.startswith(
        "new.csv:2: source_id: claude-code 20260311T10Z-a is also on line 2 of a.csv "
    )


# The fmt hook: leaves a file alone when what follows HEAD's bytes is canonical.

NOT_CANONICAL = row(2).replace("task 2", '"task 2"')  # quoted without need


def test_the_fmt_hook_leaves_heads_bytes_alone(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(repo / "a.csv", rows(1) + NOT_CANONICAL)
    commit_all(repo, "a quoted note")
    grown = path.read_bytes() + row(3).encode()
    path.write_bytes(grown)
    assert fmt_hook.main(["a.csv"]) == 0
    assert path.read_bytes() == grown
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("start", "added"),
    [
        pytest.param("head", row(3).replace("\n", "\r\n"), id="a CRLF row added"),
        pytest.param("head", row(3).replace("task 3", '"task 3"'), id="a needless quote added"),
        pytest.param("edited", row(3), id="the committed start edited"),
    ],
)
def test_the_fmt_hook_formats_when_what_follows_is_not_canonical(
    repo: Path, capsys: pytest.CaptureFixture[str], start: str, added: str
) -> None:
    path = write_log(repo / "a.csv", rows(1) + NOT_CANONICAL)
    commit_all(repo, "a quoted note")
    data = path.read_bytes()
    if start == "edited":
        data = data.replace(b"task 1", b"task 7")
    path.write_bytes(data + added.encode())
    assert fmt_hook.main(["a.csv"]) == 1
    assert capsys.readouterr().out.startswith("Fixing a.csv")
    expected = HEADER + rows(1) + row(2) + row(3)
    if start == "edited":
        expected = expected.replace("task 1", "task 7")
    assert path.read_text() == expected
