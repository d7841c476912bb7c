"""`fmt`: rewrite a log in its canonical bytes without changing a single value.

What it changes: CRLF line endings to LF, a UTF-8 byte order mark removed, a missing final
newline added (and blank lines after the last row removed), fields re-quoted the canonical way
(only notes holding a comma or a quote are quoted). A line it cannot read as the header or a
valid row is left exactly as it is and reported, for a person to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from telemetry_csv import store
from telemetry_csv.canonical import canonical_line, split_lines
from telemetry_csv.errors import LogFileError, describe_value
from telemetry_csv.reading import Problem
from telemetry_csv.schema import HEADER_LINE, Schema

LOCK_TIMEOUT = 10.0


class Formatted(NamedTuple):
    data: bytes
    problems: list[Problem]  # lines left as they were


@dataclass(frozen=True)
class FormatResult:
    path: Path
    changed: bool
    problems: list[Problem]


def format_bytes(data: bytes, schema: Schema, display: str) -> Formatted:
    """The canonical bytes of a log's content, and the lines that had to be left alone."""
    lines = split_lines(data)
    while lines and lines[-1] == "":
        lines.pop()
    problems = []
    out = []
    for number, text in enumerate(lines, start=1):
        canonical = canonical_line(text, schema, first=number == 1)
        if canonical is None:
            problems.append(_why_not(text, number, schema, display))
            canonical = text
        out.append(canonical)
    return Formatted(
        "".join(f"{line}\n" for line in out).encode("utf-8", "surrogateescape"), problems
    )


def format_file(path: Path, schema: Schema, display: str | None = None) -> FormatResult:
    """Rewrite one file in place if its canonical form differs.

    A log that `telemetry-csv log` writes to (its lock file exists) is rewritten under that
    lock, so an append cannot land between the read and the rename and be lost. Without a
    lock file nothing here has ever appended to it, and creating one would leave a stray file
    beside a log that no .gitignore covers (a hook must not add files to a commit).
    """
    name = display if display is not None else str(path)
    if not path.is_file():
        raise LogFileError(f"{name}: no such file")
    if store.is_backup_name(path.name) or not store.lock_path(path).exists():
        return _format_unlocked(path, schema, name)
    with store.locked(path, LOCK_TIMEOUT):
        return _format_unlocked(path, schema, name)


def _format_unlocked(path: Path, schema: Schema, name: str) -> FormatResult:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LogFileError(f"cannot read {name}: {error.strerror or error}") from None
    formatted = format_bytes(data, schema, name)
    changed = formatted.data != data
    if changed:
        store.replace_file(path, formatted.data)
    return FormatResult(path, changed, formatted.problems)


def _why_not(text: str, number: int, schema: Schema, display: str) -> Problem:
    left = "left as it is"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Problem(display, number, "line", f"bytes that are not UTF-8; {left}")
    if number == 1:
        return Problem(
            display,
            1,
            "header",
            f"expected {HEADER_LINE}, found {describe_value(text, 100)}; {left}",
        )
    if not text:
        return Problem(display, number, "line", f"blank line; {left}")
    problems = schema.read_fields(text)
    assert isinstance(problems, list)  # canonical_line found no row here
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Problem(display, number, first.field, f"{first.message}{more}; {left}")
