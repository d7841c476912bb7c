"""`fmt`: rewrite a log in its canonical bytes without changing a single value.

What it changes: CRLF line endings to LF, a UTF-8 byte order mark removed, blank lines after
the last row removed, fields re-quoted the canonical way (only notes holding a comma or a quote
are quoted). A line it cannot read as the header or a valid row is left exactly as it is and
reported, for a person to fix. It never changes a file's shape: a log with the 8-column header
stays one (docs/format.md).

A last line without a newline is left exactly as it is too, newline still missing, and
reported with the words `check` uses: it may be a row torn by an interrupted write, and adding
the newline would pass the fragment off as a complete row. `telemetry-csv repair` moves it
aside; a person who knows the row is whole adds the newline.
"""

from __future__ import annotations

from codecs import BOM_UTF8
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout, writing
from telemetry_csv.logfile.canonical import canonical_line, canonical_text, header_shape
from telemetry_csv.logfile.reading import Problem, scan_bytes, split_lines
from telemetry_csv.logfile.schema import Schema
from telemetry_csv.logfile.writing import DEFAULT_LOCK_TIMEOUT


class Formatted(NamedTuple):
    data: bytes
    problems: list[Problem]  # lines left as they were


@dataclass(frozen=True)
class FormatResult:
    """What `fmt` did to one file."""

    path: Path
    changed: bool
    problems: list[Problem]


def format_bytes(data: bytes, schema: Schema, display: str) -> Formatted:
    """The canonical bytes of a log's content, and the lines that had to be left alone."""
    # A valid log re-saved with CRLF and a byte order mark (what spreadsheets do) differs from
    # its canonical bytes only there: such a file, the common case, takes the fast path too.
    plain = data.removeprefix(BOM_UTF8).replace(b"\r\n", b"\n")
    if canonical_text(plain, schema) is not None:
        return Formatted(plain, [])
    lines = split_lines(data)
    torn = b""
    if data and not data.endswith(b"\n"):
        lines.pop()
        torn = data[data.rfind(b"\n") + 1 :]  # its bytes as they are, a byte order mark too
    else:
        while lines and lines[-1] == "":
            lines.pop()
    left = {len(lines) + 1} if torn else set()
    out = []
    extended = header_shape(lines[0]) if lines else False
    for number, text in enumerate(lines, start=1):
        canonical = canonical_line(text, schema, first=number == 1, extended=extended)
        if canonical is None:
            left.add(number)
            canonical = text
        out.append(canonical)
    return Formatted(
        "".join(f"{line}\n" for line in out).encode("utf-8", "surrogateescape") + torn,
        _problems(data, schema, display, left) if left else [],
    )


def format_file(
    path: Path,
    schema: Schema,
    display: str | None = None,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> FormatResult:
    """Rewrite one file in place if its canonical form differs, keeping its permissions.

    A log is rewritten under its lock, whether or not anything has locked it before (a fresh
    clone has no lock file), so an append cannot land between the read and the rename and be
    lost, and the temporary file is not one a rotation is writing. The lock file is covered by
    the folder's .gitignore, which taking the lock completes if needed. A backup or a fold is
    never appended to, so it is rewritten without a lock; a shard is appended to under its
    log's lock, which it is rewritten under too.
    """
    name = display if display is not None else str(path)
    if not path.is_file():
        raise LogFileError(f"{name}: no such file")
    writing.current_size(path)  # a symbolic link is refused before the lock is taken
    owner = layout.log_of_shard(path)
    if layout.is_backup_name(path.name) or layout.is_fold_name(path.name):
        return _format_unlocked(path, schema, name)
    with writing.locked(owner or path, lock_timeout):
        return _format_unlocked(path, schema, name)


def _format_unlocked(path: Path, schema: Schema, name: str) -> FormatResult:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise fs.cannot("read", name, error) from None
    formatted = format_bytes(data, schema, name)
    changed = formatted.data != data
    if changed:
        writing.replace_file(path, formatted.data)
    return FormatResult(path, changed, formatted.problems)


def _problems(data: bytes, schema: Schema, display: str, left: set[int]) -> list[Problem]:
    """Why each line in `left` was left as it is, in the words `check` uses. Problems that fmt
    fixes (a byte order mark, line endings) are not among them."""
    return [
        Problem(item.path, item.line, item.field, f"{item.message}; left as it is")
        for item in scan_bytes(data, schema, display)
        if type(item) is Problem and item.line in left and item.field != "file"
    ]
