"""Appending and rotation on real files: what lands, what is refused, what is never touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout, writing
from telemetry_csv.logfile.reading import read_rows
from testing.util import EXTENDED_HEADER, HEADER, append_line, extended, row_line

LINE = row_line().rstrip("\n")
NEW_LINE = extended(LINE)  # as a new log, which has the extended header, stores it


def append(path: Path, line: str = LINE, max_bytes: int = 10 * 1024 * 1024) -> writing.AppendResult:
    return append_line(path, line, max_bytes=max_bytes)


def test_first_append_creates_folder_log_and_gitignore(tmp_path: Path) -> None:
    log = tmp_path / ".telemetry" / "usage.csv"
    result = append(log)
    assert result.created and result.backup is None
    assert log.read_bytes() == (EXTENDED_HEADER + NEW_LINE + "\n").encode()
    assert "*.lock" in (log.parent / ".gitignore").read_text()
    assert not list(log.parent.glob(".*.tmp"))


def test_appends_go_to_the_end_in_order(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    lines = [row_line(notes=f"row {i}").rstrip("\n") for i in range(5)]
    for line in lines:
        append(log, line)
    assert log.read_text() == EXTENDED_HEADER + "".join(extended(line) + "\n" for line in lines)


def test_an_empty_file_gets_the_header(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.touch()
    append(log)
    assert log.read_text() == EXTENDED_HEADER + NEW_LINE + "\n"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (HEADER + LINE, "last line is torn"),
        (HEADER.replace("notes", "note") + LINE + "\n", "not the expected header"),
        ("\ufeff" + HEADER + LINE + "\n", "not the expected header"),
        (LINE + "\n", "not the expected header"),
        (HEADER[:20], "not the expected header"),
    ],
)
def test_refuses_a_damaged_log_and_leaves_it_byte_for_byte(
    tmp_path: Path, content: str, fragment: str
) -> None:
    log = tmp_path / "usage.csv"
    log.write_bytes(content.encode())
    with pytest.raises(LogFileError, match=fragment) as raised:
        append(log)
    assert "\n" not in str(raised.value)
    assert log.read_bytes() == content.encode()


def test_refuses_a_row_that_can_never_fit(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    with pytest.raises(LogFileError, match="too long"):
        append(log, row_line(notes="x" * 1000).rstrip("\n"), max_bytes=1024)
    assert not log.exists()


def test_refuses_a_log_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "usage.csv").mkdir()
    with pytest.raises(LogFileError, match="not a regular file"):
        append(tmp_path / "usage.csv")


def test_rotation_keeps_every_row_and_never_reuses_a_name(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    max_bytes = 1024
    lines = [row_line(notes=f"row {i:04d}").rstrip("\n") for i in range(120)]
    backups_seen = []
    for line in lines:
        result = append(log, line, max_bytes=max_bytes)
        if result.backup is not None:
            backups_seen.append(result.backup)
    # 120 rows of ~80 bytes into 1 KiB files: many rotations within the same second.
    assert len(backups_seen) >= 8
    assert len(set(backups_seen)) == len(backups_seen)
    files = layout.log_files(log)
    assert files[:-1] == backups_seen  # oldest first, including -1, -2… suffixes
    assert files[-1] == log
    for path in files:
        assert path.stat().st_size <= max_bytes
        assert path.read_text().startswith(EXTENDED_HEADER)
    rows = list(read_rows(files))
    assert [row.notes for row in rows] == [f"row {i:04d}" for i in range(120)]


def test_a_rotation_happens_exactly_when_the_next_row_would_pass_the_limit(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    line_bytes = len(NEW_LINE) + 1
    max_bytes = len(EXTENDED_HEADER) + 3 * line_bytes  # room for exactly three rows
    results = [append(log, LINE, max_bytes=max_bytes) for _ in range(4)]
    assert [r.backup is not None for r in results] == [False, False, False, True]
    backup = results[3].backup
    assert backup is not None
    assert backup.stat().st_size == max_bytes
    assert log.stat().st_size == len(EXTENDED_HEADER) + line_bytes


def test_backup_names_follow_the_documented_pattern(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    for _ in range(3):
        append(log, LINE, max_bytes=len(EXTENDED_HEADER) + len(NEW_LINE) + 1)
    names = [path.name for path in layout.backup_paths(log)]
    assert len(names) == 2
    stamp = names[0][len("usage-") : -len(".csv")]
    assert len(stamp) == 16 and stamp[8] == "T" and stamp.endswith("Z")
    # Unrelated files that merely start with usage- are not backups.
    (tmp_path / "usage-notes.csv").write_text("x")
    (tmp_path / ".usage.csv.tmp").write_text("x")
    assert [path.name for path in layout.backup_paths(log)] == names


def test_an_existing_backup_name_is_never_overwritten(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    append(log)
    # Take every name the next few seconds could produce without a suffix (and the first
    # suffix), so the rotation below must find a name of its own even on a slow machine.
    import time

    now = time.time()
    taken = []
    for offset in range(10):
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + offset))
        for name in (f"usage-{stamp}.csv", f"usage-{stamp}-1.csv"):
            (tmp_path / name).write_text("precious\n")
            taken.append(tmp_path / name)
    result = append(log, LINE, max_bytes=len(EXTENDED_HEADER) + len(NEW_LINE) + 1)
    for path in taken:
        assert path.read_text() == "precious\n"
    assert result.backup is not None and result.backup not in taken
    assert result.backup.name.endswith("-2.csv")
    assert result.backup.read_text() == EXTENDED_HEADER + NEW_LINE + "\n"


def test_lock_file_sits_beside_the_log(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    append(log)
    assert layout.lock_path(log).exists()
    assert layout.lock_path(log).name == "usage.csv.lock"


def test_append_does_not_read_the_whole_log(tmp_path: Path) -> None:
    # A log whose middle is not even UTF-8 still takes appends: only the header and the last
    # byte are read. (check, not log, is where the middle is examined.)
    log = tmp_path / "usage.csv"
    log.write_bytes(HEADER.encode() + b"\xff\xfe garbage in the middle\n" + (LINE + "\n").encode())
    append(log)
    assert log.read_bytes().endswith((LINE + "\n").encode() * 2)


def test_create_log_never_overwrites(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    assert writing.create_log(log, lock_timeout=5) is True
    log.write_text(HEADER + LINE + "\n")
    assert writing.create_log(log, lock_timeout=5) is False
    assert log.read_text() == HEADER + LINE + "\n"


def test_missing_folder_is_created_with_parents(tmp_path: Path) -> None:
    log = tmp_path / "a" / "b" / "usage.csv"
    append(log)
    assert log.exists()
    assert os.path.exists(tmp_path / "a" / "b" / ".gitignore")
