"""fmt: canonical bytes, no value ever changed; the library, the hook's main and the command."""

from __future__ import annotations

import codecs
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from telemetry_csv.hooks import fmt_hook
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.canonical import read_lines
from telemetry_csv.logfile.reading import scan_file
from telemetry_csv.logfile.rewriting import format_bytes, format_file
from telemetry_csv.logfile.schema import Row, Schema
from testing.logfiles import row, rows, write_log
from testing.platforms import MODES, posix_only
from testing.util import BIN, HEADER, git_env, run_cli

SCHEMA = Schema()
CANONICAL = HEADER + rows(1, 2) + row(3, notes='"quoted", with comma')


def values(data: bytes, tmp_path: Path) -> list[Row]:
    path = tmp_path / "values.csv"
    path.write_bytes(data)
    found = list(scan_file(path, SCHEMA))
    assert all(type(item) is Row for item in found), found
    return found


@pytest.mark.parametrize(
    ("saved", "why"),
    [
        (CANONICAL.replace("\n", "\r\n"), "CRLF line endings"),
        ("\ufeff" + CANONICAL, "a byte order mark"),
        ("\ufeff" + CANONICAL.replace("\n", "\r\n"), "both, as a spreadsheet saves it"),
        (CANONICAL + "\n\n", "blank lines after the last row"),
        (CANONICAL.replace("\n", "\r\n", 2), "mixed line endings"),
        (
            '"timestamp","model","prompt_tokens","completion_tokens","task_success",'
            '"task_type","duration_ms","notes"\n' + CANONICAL.split("\n", 1)[1],
            "a quoted header",
        ),
        (
            HEADER
            + rows(1)
            + '"2026-02-03T10:00:00Z","claude-3-opus","1500","3200","true","execute","1002","task 2"\n'
            + row(3, notes='"quoted", with comma'),
            "every field quoted",
        ),
    ],
)
def test_fmt_restores_the_canonical_bytes(saved: str, why: str, tmp_path: Path) -> None:
    formatted = format_bytes(saved.encode("utf-8"), SCHEMA, "usage.csv")
    assert formatted.problems == []
    assert formatted.data == CANONICAL.encode(), why
    assert format_bytes(formatted.data, SCHEMA, "usage.csv").data == formatted.data


def test_fmt_never_changes_a_value(tmp_path: Path) -> None:
    saved = ("\ufeff" + CANONICAL).replace("\n", "\r\n").replace(",task 1", ',"task 1"')
    formatted = format_bytes(saved.encode(), SCHEMA, "usage.csv")
    assert values(formatted.data, tmp_path) == values(CANONICAL.encode(), tmp_path)


def test_a_line_it_cannot_read_is_left_alone_and_reported() -> None:
    bad = "2026-02-02T10:00:00Z,claude-3-opus,15OO,3200,true,execute,1,typo in tokens"
    not_utf8 = b"2026-02-02T10:00:00Z,claude-3-opus,1,2,true,execute,1,caf\xe9"
    saved = (HEADER + rows(1) + bad + "\r\n").encode() + not_utf8 + b"\r\n" + rows(2).encode()
    formatted = format_bytes(saved, SCHEMA, "usage.csv")
    assert (
        formatted.data
        == (HEADER + rows(1) + bad + "\n").encode() + not_utf8 + b"\n" + rows(2).encode()
    )
    assert [str(problem) for problem in formatted.problems] == [
        "usage.csv:3: prompt_tokens: '15OO' is not allowed; expected a non-negative whole number, "
        "digits only, at most 15 digits, e.g. 1500; left as it is",
        "usage.csv:4: line: bytes that are not UTF-8 at byte 58 (b'\\xe9'); re-save the file "
        "as UTF-8; left as it is",
    ]


def test_a_missing_header_is_reported_not_invented() -> None:
    formatted = format_bytes(rows(1, 2).encode(), SCHEMA, "usage.csv")
    assert formatted.data == rows(1, 2).encode()
    assert [str(problem) for problem in formatted.problems] == [
        f"usage.csv:1: header: the header is missing; add {HEADER.strip()} as line 1; left as it is"
    ]


@pytest.mark.parametrize(
    "saved",
    [
        (HEADER + rows(1) + "\n" + rows(2)).replace("\n", "\r\n"),
        "\ufeff" + HEADER + rows(1) + "\n" + rows(2),
    ],
    ids=["CRLF", "BOM"],
)
def test_fmt_reports_what_check_reports_for_a_line_it_leaves(saved: str, tmp_path: Path) -> None:
    """The same words as `check`, without the problems fmt fixes itself."""
    formatted = format_bytes(saved.encode(), SCHEMA, "usage.csv")
    assert formatted.data == (HEADER + rows(1) + "\n" + rows(2)).encode()
    assert [str(problem) for problem in formatted.problems] == [
        "usage.csv:3: line: blank line; delete it; left as it is"
    ]
    log = tmp_path / "usage.csv"
    log.write_bytes(saved.encode())
    checked = [str(item) for item in scan_file(log, SCHEMA) if type(item) is not Row]
    assert f"{log}:3: line: blank line; delete it" in checked


def test_format_file_rewrites_only_when_needed(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_bytes(codecs.BOM_UTF8 + CANONICAL.replace("\n", "\r\n").encode())
    assert format_file(log, SCHEMA).changed
    assert log.read_bytes() == CANONICAL.encode()
    before = log.stat().st_mtime_ns
    assert not format_file(log, SCHEMA).changed
    assert log.stat().st_mtime_ns == before


def test_the_hook_fixes_and_fails_once_then_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = write_log(tmp_path / "a.csv", rows(1, 2))
    second = tmp_path / "b.csv"
    second.write_bytes(("\ufeff" + CANONICAL).replace("\n", "\r\n").encode())
    assert fmt_hook.main([str(first), str(second)]) == 1
    assert capsys.readouterr().out == f"Fixing {second}\n"
    assert second.read_bytes() == CANONICAL.encode()
    assert fmt_hook.main([str(first), str(second)]) == 0
    assert capsys.readouterr().out == ""


def test_the_hook_fails_on_a_line_it_must_leave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = write_log(tmp_path / "usage.csv", rows(1) + "not,a,row\n")
    assert fmt_hook.main([str(log)]) == 1
    assert capsys.readouterr().out == (
        f"{log}:3: line: expected 8 fields, found 3; left as it is\n"
    )
    assert log.read_text() == HEADER + rows(1) + "not,a,row\n"


TORN = "2026-02-23T22:19:12+01:00,claude-3-opus,15"  # an append cut short


@pytest.mark.parametrize(
    ("saved", "expected", "why"),
    [
        (CANONICAL + TORN, CANONICAL + TORN, "a fragment after canonical rows"),
        (
            CANONICAL.replace("\n", "\r\n") + TORN,
            CANONICAL + TORN,
            "the lines before it are still formatted",
        ),
        (CANONICAL[:-1], CANONICAL[:-1], "a whole row without its newline: fmt cannot tell"),
        (HEADER[:20], HEADER[:20], "the whole file is one fragment"),
        ("\ufeff" + HEADER[:20], "\ufeff" + HEADER[:20], "its bytes are kept, a BOM too"),
    ],
)
def test_a_last_line_without_a_newline_is_left_torn_and_sent_to_repair(
    saved: str, expected: str, why: str
) -> None:
    formatted = format_bytes(saved.encode(), SCHEMA, "usage.csv")
    assert formatted.data == expected.encode(), why
    last = saved.count("\n") + 1
    assert formatted.problems, why
    assert all(problem.line == last for problem in formatted.problems)
    assert "`telemetry-csv repair`; left as it is" in str(formatted.problems[0])


def test_the_hook_and_the_command_leave_a_torn_line_and_fail(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(repo / ".telemetry" / "usage.csv", rows(1))
    with open(log, "a") as file:
        file.write(TORN)
    torn = log.read_bytes()
    assert fmt_hook.main([".telemetry/usage.csv"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(".telemetry/usage.csv:3: line: no newline at the end of the file")
    assert "telemetry-csv repair" in out and "Fixing" not in out
    done = run_cli("fmt", cwd=repo)
    assert done.returncode == 1
    assert "telemetry-csv repair" in done.stdout
    assert done.stdout.endswith("0 of 1 file reformatted, 1 line(s) left as they were\n")
    assert log.read_bytes() == torn
    assert run_cli("repair", cwd=repo).returncode == 0
    assert fmt_hook.main([".telemetry/usage.csv"]) == 0
    assert log.read_bytes() == torn[: -len(TORN)]


def test_the_command_formats_the_log_and_its_backups(repo: Path) -> None:
    folder = repo / ".telemetry"
    write_log(folder / "usage-20260101T000000Z.csv", rows(1)).write_bytes(
        (HEADER + rows(1)).replace("\n", "\r\n").encode()
    )
    write_log(folder / "usage.csv", rows(2), header="\ufeff" + HEADER)
    done = run_cli("fmt", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "reformatted .telemetry/usage-20260101T000000Z.csv\n"
        "reformatted .telemetry/usage.csv\n"
        "2 of 2 files reformatted, 0 line(s) left as they were\n"
    )
    assert run_cli("check", cwd=repo).returncode == 0


def test_fmt_locks_a_log_nothing_has_locked_yet(tmp_path: Path) -> None:
    """As in a fresh clone: no lock file and no .gitignore yet. fmt takes the lock anyway; the
    folder's .gitignore keeps the lock file out of git."""
    log = tmp_path / "usage.csv"
    log.write_bytes(CANONICAL.replace("\n", "\r\n").encode())
    assert format_file(log, SCHEMA).changed
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".gitignore",
        "usage.csv",
        "usage.csv.lock",
    ]
    assert "/usage.csv.lock" in (tmp_path / ".gitignore").read_text().splitlines()


def test_fmt_takes_the_lock_of_a_log_in_use(tmp_path: Path) -> None:
    from filelock import FileLock

    from telemetry_csv.errors import LockTimeoutError

    log = tmp_path / "usage.csv"
    log.write_bytes(CANONICAL.replace("\n", "\r\n").encode())
    with FileLock(str(tmp_path / "usage.csv.lock")), pytest.raises(LockTimeoutError):
        format_file(log, SCHEMA, lock_timeout=0.1)
    assert log.read_bytes() == CANONICAL.replace("\n", "\r\n").encode()
    assert format_file(log, SCHEMA, lock_timeout=0.1).changed


@posix_only(MODES)
def test_fmt_keeps_the_file_mode(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_bytes(CANONICAL.replace("\n", "\r\n").encode())
    log.chmod(0o664)
    umask = os.umask(0o077)
    try:
        assert format_file(log, SCHEMA).changed
    finally:
        os.umask(umask)
    assert stat.S_IMODE(log.stat().st_mode) == 0o664


@pytest.mark.slow
def test_a_row_logged_while_fmt_rewrites_a_fresh_clone_log_is_kept(
    repo: Path, single_layout: Path
) -> None:
    """A real `log` process appending while a real fmt rewrites a log that has no lock file
    yet. fmt canonicalises 60,000 needlessly quoted rows, which takes about a second; the row
    is logged meanwhile. Without fmt's lock it would be appended to the file fmt already read,
    and lost when fmt renames its rewrite into place."""
    log = repo / ".telemetry" / "usage.csv"
    quoted = [
        f'2026-02-01T10:00:00Z,claude-3-opus,1500,3200,true,execute,{n},"task {n}"\n'
        for n in range(60_000)
    ]
    write_log(log, "".join(quoted))
    fmt_hook = subprocess.Popen(
        [str(BIN / "telemetry-csv-fmt-hook"), ".telemetry/usage.csv"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
    )
    # Wait until fmt holds the lock (its lock file appears), or long enough for it to be busy
    # rewriting when it takes none.
    deadline = time.monotonic() + 0.5
    while not layout.lock_path(log).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    # The log waits for fmt's lock; on a loaded machine (the suite's workers share the cores)
    # fmt may hold it past the default 10 s, so the wait is as long as fmt's own limit here.
    logged = run_cli("log", "m", "1", "2", "true", "plan", "7", "--notes", "during fmt",
                     "--lock-timeout", "60", cwd=repo)  # fmt: skip
    out, err = fmt_hook.communicate(timeout=60)
    assert logged.returncode == 0, logged.stderr
    assert fmt_hook.returncode == 1 and out == b"Fixing .telemetry/usage.csv\n", err
    assert log.read_text().endswith(",plan,7,during fmt\n")
    assert log.read_text().count("\n") == 60_002


def test_a_canonical_looking_line_with_a_credential_is_still_reported() -> None:
    """A log whose bytes are canonical takes the fast path (one regex pass and the secret
    screen); a line holding a key must still be left and reported, as `check` does."""
    key = "ghp_" + "Z7Q3X9K2M4N8P6R1Z7Q3X9K2M4N8P6R1"
    data = (CANONICAL + row(4, notes=f"retry with {key}")).encode()
    formatted = format_bytes(data, SCHEMA, "usage.csv")
    assert formatted.data == data
    assert [(p.line, p.field) for p in formatted.problems] == [(5, "notes")]
    assert "github-token" in formatted.problems[0].message
    assert key not in formatted.problems[0].message
    lines = read_lines(data, SCHEMA)
    assert [line.canonical is None for line in lines] == [False] * 4 + [True]


def test_a_canonical_log_reads_back_line_for_line() -> None:
    data = CANONICAL.encode()
    assert format_bytes(data, SCHEMA, "usage.csv") == (data, [])
    lines = read_lines(data, SCHEMA)
    assert [(line.number, line.text, line.canonical) for line in lines] == [
        (number, text, text) for number, text in enumerate(CANONICAL.splitlines(), 1)
    ]
