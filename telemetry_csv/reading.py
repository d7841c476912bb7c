"""Reading log files strictly, in constant memory.

`scan_file` yields each valid row as a `Row` and each problem as a `Problem` carrying its path
and line, so `check` can list problems and `report` can refuse (or skip) them with the same
words. A line longer than any valid row is skipped without being held in memory.

Blocks of lines that the row pattern accepts are checked by one regex call each (`scan_runs`
hands them on as runs of text); every other line goes through the line-by-line path, which
alone decides problems and line numbers, and the blocks resume right after it.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

from telemetry_csv.errors import describe_value
from telemetry_csv.schema import HEADER_LINE, MAX_LINE_BYTES, FieldProblem, Row, Schema

_HEADER_BYTES = (HEADER_LINE + "\n").encode()
_BLOCK_BYTES = 256 * 1024  # the fast path's unit: big enough to amortise, small in memory
_LINE_LIMIT = MAX_LINE_BYTES + 2  # what the line-by-line path reads of a line at most
_HOW_TO_FIX_ENDINGS = "convert them to LF with `telemetry-csv fmt` (or dos2unix)"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 1-based; 0 for the file as a whole
    field: str  # a column name, "header", "line" or "file"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


def scan_file(
    path: Path | str,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    display: str | None = None,
    rows: bool = True,
) -> Iterator[Row | Problem | None]:
    """Every valid row and every problem of one log file, in line order (file-wide ones last).

    With `rows=False` a valid line yields None instead of its Row: enough to count it, and
    cheaper, since the typed values are never built.
    """
    for item in scan_runs(path, schema, max_bytes=max_bytes, display=display, rows=rows):
        if type(item) is str:
            if rows:
                yield from schema.rows_of(item)
            else:
                yield from repeat(None, item.count("\n"))
        else:
            yield item


def scan_runs(
    path: Path | str,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    display: str | None = None,
    rows: bool = True,
    block_bytes: int = _BLOCK_BYTES,
) -> Iterator[str | Row | Problem | None]:
    """`scan_file`, except that a run of consecutive lines the block fast path accepted comes
    as one string: those whole lines, each a canonical, valid row ending in a newline
    (`Schema.rows_of` makes them rows). Thousands of lines at a time, for callers that would
    rather not build a Row per line. `block_bytes` (0: none) is the fast path's unit."""
    name = display if display is not None else str(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed in the finally below, across yields
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
        return
    try:
        yield from _scan_open_file(file, name, schema, rows, max_bytes, block_bytes)
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
    finally:
        file.close()


def scan_files(
    paths: Iterable[Path | str], schema: Schema, *, max_bytes: int | None = None
) -> Iterator[Row | Problem]:
    for path in paths:
        yield from scan_file(path, schema, max_bytes=max_bytes)  # type: ignore[misc]


def _scan_open_file(
    file: BinaryIO,
    name: str,
    schema: Schema,
    rows: bool,
    max_bytes: int | None,
    block_bytes: int,
) -> Iterator[str | Row | Problem | None]:
    info = os.fstat(file.fileno())
    if not stat.S_ISREG(info.st_mode):
        yield Problem(name, 0, "file", "not a regular file")
        return
    if max_bytes is not None and info.st_size > max_bytes:
        yield Problem(
            name,
            0,
            "file",
            f"{info.st_size:,} bytes, over max_bytes ({max_bytes:,}); split it: move it to a "
            "usage-YYYYMMDDTHHMMSSZ.csv backup and start a new log with `telemetry-csv init`",
        )
    lines = _Lines(name, schema.parse_line if rows else schema.line_problems)
    if file.read(len(_HEADER_BYTES)) == _HEADER_BYTES:
        lines.count_lf(1)
    else:
        file.seek(0)
        yield from lines.next_line(file) or ()  # the header, or what stands in its place
    if block_bytes:
        yield from _blocks(file, schema, lines, block_bytes)
    while True:
        found = lines.next_line(file)
        if found is None:
            break
        yield from found
    yield from lines.file_problems()


def _blocks(
    file: BinaryIO, schema: Schema, lines: _Lines, block_bytes: int
) -> Iterator[str | Row | Problem | None]:
    """Block after block of whole lines to the end of the file. In each, runs of lines the row
    pattern accepts come as one string; a line it does not accept goes through the
    line-by-line path alone, which reports exactly what it always would, and the next run
    starts right after it. A block that is not UTF-8, or holds no whole line (a line longer
    than a block; the unterminated end), goes line by line, and blocks resume after it."""
    clean_end = schema.clean_end
    while True:
        start = file.tell()
        data = file.read(block_bytes)
        if not data:
            return
        end = data.rfind(b"\n") + 1
        try:
            text = data[:end].decode("utf-8") if end else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            file.seek(start)
            stop = start + max(end, 1)
            while file.tell() < stop:
                found = lines.next_line(file)
                if found is None:
                    return
                yield from found
            continue
        if end < len(data):
            file.seek(start + end)
        position, length = 0, len(text)
        while position < length:
            clean = clean_end(text, position)
            if clean > position:
                run = text[position:clean]
                lines.count_lf(run.count("\n"))
                yield run
                position = clean
            if position < length:
                newline = text.index("\n", position)
                yield from lines.line_in_block(text[position:newline])
                position = newline + 1


class _Lines:
    """The line-by-line path: the number of the line read last, the line endings seen, and
    every problem of a line, as `check` reports them."""

    def __init__(self, name: str, parse: Callable[[str], Row | list[FieldProblem] | None]):
        self.name = name
        self.parse = parse
        self.line_no = 0
        self.crlf_lines = self.lf_lines = 0
        self.first_crlf = self.first_lf = 0

    def count_lf(self, count: int) -> None:
        """`count` more lines, each valid and ending in a bare LF."""
        if count:
            self.first_lf = self.first_lf or self.line_no + 1
            self.line_no += count
            self.lf_lines += count

    def next_line(self, file: BinaryIO) -> list[Row | Problem | None] | None:
        """The items of the next line of `file` (read at most a valid line's length at a time,
        the rest of a longer one skipped), or None at the end of the file."""
        raw = file.readline(_LINE_LIMIT)
        if not raw:
            return None
        items = self._items(raw)
        if len(raw) == _LINE_LIMIT and raw[-1:] != b"\n":
            while raw and raw[-1:] != b"\n":  # the rest of a line too long to hold
                raw = file.readline(1 << 16)
        return items

    def line_in_block(self, text: str) -> list[Row | Problem | None]:
        """The items of one line of a decoded block (without its newline), as `next_line` would
        give them for the same bytes."""
        raw = text.encode("utf-8") + b"\n"
        return self._items(raw[:_LINE_LIMIT] if len(raw) > _LINE_LIMIT else raw)

    def _items(self, raw: bytes) -> list[Row | Problem | None]:
        """The items of a line as `readline(_LINE_LIMIT)` returns it: whole with its newline, the
        unterminated last line, or the first _LINE_LIMIT bytes of a longer line."""
        self.line_no += 1
        line_no, name = self.line_no, self.name
        items: list[Row | Problem | None] = []
        if raw[-1:] == b"\n":
            body = raw[:-1]
            if body[-1:] == b"\r":
                body = body[:-1]
                self.crlf_lines += 1
                self.first_crlf = self.first_crlf or line_no
            else:
                self.lf_lines += 1
                self.first_lf = self.first_lf or line_no
        elif len(raw) == _LINE_LIMIT:
            message = f"longer than {MAX_LINE_BYTES:,} bytes, far beyond any valid row; delete or repair it"
            return [Problem(name, line_no, "line", message)]
        else:
            body = raw
            items.append(
                Problem(
                    name,
                    line_no,
                    "line",
                    "no newline at the end of the file: the last line may be torn by an "
                    "interrupted write; if the row is complete add the newline, otherwise move "
                    "it aside with `telemetry-csv repair`",
                )
            )
        if line_no == 1 and body.startswith(codecs.BOM_UTF8):
            body = body[len(codecs.BOM_UTF8) :]
            items.append(
                Problem(
                    name,
                    1,
                    "file",
                    "starts with a UTF-8 byte order mark; remove it (`telemetry-csv fmt`)",
                )
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = body[error.start : error.end]
            items.append(
                Problem(
                    name,
                    line_no,
                    "line",
                    f"bytes that are not UTF-8 at byte {error.start + 1} ({bad!r}); "
                    "re-save the file as UTF-8",
                )
            )
            return items
        if line_no == 1:
            if text == HEADER_LINE:
                return items
            result = self.parse(text)
            if type(result) is not list:
                items.append(
                    Problem(
                        name, 1, "header", f"the header is missing; add {HEADER_LINE} as line 1"
                    )
                )
                items.append(result)  # type: ignore[arg-type]
            else:
                items.append(
                    Problem(
                        name,
                        1,
                        "header",
                        f"expected {HEADER_LINE}, found {describe_value(text, 100)}",
                    )
                )
            return items
        if not text:
            items.append(Problem(name, line_no, "line", "blank line; delete it"))
            return items
        result = self.parse(text)
        if type(result) is not list:
            items.append(result)  # type: ignore[arg-type]
        else:
            items += [Problem(name, line_no, problem.field, problem.message) for problem in result]  # type: ignore[union-attr]
        return items

    def file_problems(self) -> Iterator[Problem]:
        name = self.name
        if self.line_no == 0:
            yield Problem(name, 0, "file", f"empty file: the header is missing; add {HEADER_LINE}")
        crlf_lines, lf_lines = self.crlf_lines, self.lf_lines
        first_crlf, first_lf = self.first_crlf, self.first_lf
        if crlf_lines and lf_lines:
            yield Problem(
                name,
                first_crlf if first_lf < first_crlf else first_lf,
                "file",
                f"mixed line endings: {crlf_lines:,} CRLF and {lf_lines:,} LF lines "
                f"(first CRLF on line {first_crlf}); {_HOW_TO_FIX_ENDINGS}",
            )
        elif crlf_lines:
            yield Problem(
                name,
                first_crlf,
                "file",
                f"CRLF line endings ({crlf_lines:,} lines); {_HOW_TO_FIX_ENDINGS}",
            )


def read_rows(paths: Iterable[Path | str], schema: Schema | None = None) -> Iterator[Row]:
    """The rows of `paths` in order; raises InvalidLogError (`PATH:LINE: field: message`) at the
    first problem, so a caller never computes anything from a log that `check` would refuse."""
    from telemetry_csv.errors import InvalidLogError

    for item in scan_files(paths, schema or Schema()):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
        yield item
