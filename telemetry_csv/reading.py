"""Reading log files strictly, one physical line at a time, in constant memory.

`scan_file` yields each valid row as a `Row` and each problem as a `Problem` carrying its path
and line, so `check` can list problems and `report` can refuse (or skip) them with the same
words. A line longer than any valid row is skipped without being held in memory.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from telemetry_csv.errors import describe_value
from telemetry_csv.schema import HEADER_LINE, MAX_LINE_BYTES, FieldProblem, Row, Schema

_HEADER_BYTES = (HEADER_LINE + "\n").encode()
_BLOCK_BYTES = 256 * 1024  # the fast path's unit: big enough to amortise, small in memory
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
    name = display if display is not None else str(path)
    try:
        # O_NONBLOCK so that a FIFO given by mistake is reported instead of waited on forever;
        # it changes nothing for regular files.
        file = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
        return
    try:
        yield from _scan_open_file(file, name, schema, rows, max_bytes)
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
    finally:
        file.close()


def scan_files(
    paths: Iterable[Path | str], schema: Schema, *, max_bytes: int | None = None
) -> Iterator[Row | Problem]:
    for path in paths:
        yield from scan_file(path, schema, max_bytes=max_bytes)  # type: ignore[misc]


# Lines are parsed in batches (see `Schema.parse_lines`); a batch holds at most this many
# items (rows, problems, lines to parse), or about this many characters of lines, so memory
# stays bounded whatever the file.
_BATCH_LINES = 4096
_BATCH_CHARS = 1 << 20


def _scan_open_file(
    file: BinaryIO, name: str, schema: Schema, rows: bool, max_bytes: int | None
) -> Iterator[Row | Problem | None]:
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
    limit = MAX_LINE_BYTES + 2
    readline = file.readline
    parse_line = schema.parse_line if rows else schema.line_problems
    parse_batch = schema.parse_lines if rows else schema.lines_problems
    # Lines are parsed a batch at a time (see `Schema.parse_lines`): their texts and numbers,
    # and the rows and problems found without parsing, each with how many texts came before it.
    texts: list[str] = []
    numbers: list[int] = []
    others: list[tuple[int, Row | Problem]] = []
    pending_chars = 0

    def add(item: Row | Problem) -> None:
        others.append((len(texts), item))

    line_no = 0
    crlf_lines = lf_lines = 0
    first_crlf = first_lf = 0
    parse_block = schema.parse_block if rows else _valid_lines_as_none(schema)
    if file.read(len(_HEADER_BYTES)) == _HEADER_BYTES:
        line_no = lf_lines = first_lf = 1
        for block in _clean_blocks(file, parse_block):
            line_no += len(block)
            lf_lines += len(block)
            yield from block
    else:
        file.seek(0)
    while True:
        if len(texts) + len(others) >= _BATCH_LINES or pending_chars >= _BATCH_CHARS:
            yield from _parse_batch(texts, numbers, others, parse_batch, name)
            texts, numbers, others = [], [], []
            pending_chars = 0
        raw = readline(limit)
        if not raw:
            break
        line_no += 1
        if raw[-1:] == b"\n":
            body = raw[:-1]
            if body[-1:] == b"\r":
                body = body[:-1]
                crlf_lines += 1
                first_crlf = first_crlf or line_no
            else:
                lf_lines += 1
                first_lf = first_lf or line_no
        elif len(raw) == limit:
            while raw and raw[-1:] != b"\n":
                raw = readline(1 << 16)
            add(
                Problem(
                    name,
                    line_no,
                    "line",
                    f"longer than {MAX_LINE_BYTES:,} bytes, far beyond any valid row; delete or repair it",
                )
            )
            continue
        else:
            body = raw
            add(
                Problem(
                    name,
                    line_no,
                    "line",
                    "no newline at the end of the file: the last line may be torn by an interrupted "
                    "write; if the row is complete add the newline, otherwise move it aside with "
                    "`telemetry-csv repair`",
                )
            )
        if line_no == 1 and body.startswith(codecs.BOM_UTF8):
            body = body[len(codecs.BOM_UTF8) :]
            add(
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
            add(
                Problem(
                    name,
                    line_no,
                    "line",
                    f"bytes that are not UTF-8 at byte {error.start + 1} ({bad!r}); "
                    "re-save the file as UTF-8",
                )
            )
            continue
        if line_no == 1:
            if text == HEADER_LINE:
                continue
            result = parse_line(text)
            if type(result) is not list:
                add(
                    Problem(
                        name, 1, "header", f"the header is missing; add {HEADER_LINE} as line 1"
                    )
                )
                add(result)
            else:
                add(
                    Problem(
                        name,
                        1,
                        "header",
                        f"expected {HEADER_LINE}, found {describe_value(text, 100)}",
                    )
                )
            continue
        if not text:
            add(Problem(name, line_no, "line", "blank line; delete it"))
            continue
        texts.append(text)
        numbers.append(line_no)
        pending_chars += len(text)
    yield from _parse_batch(texts, numbers, others, parse_batch, name)
    if line_no == 0:
        yield Problem(name, 0, "file", f"empty file: the header is missing; add {HEADER_LINE}")
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


def _parse_batch(
    texts: list[str],
    numbers: list[int],
    others: list[tuple[int, Row | Problem]],
    parse_batch: Callable[[list[str]], list[Row | list[FieldProblem] | None]],
    name: str,
) -> Iterator[Row | Problem | None]:
    """The batch's items in line order: parsed lines, with the others put back in place."""
    results = parse_batch(texts) if texts else []
    pending = iter(others)
    other = next(pending, None)
    for index, result in enumerate(results):
        while other is not None and other[0] == index:
            yield other[1]
            other = next(pending, None)
        if type(result) is not list:
            yield result
        else:
            for problem in result:
                yield Problem(name, numbers[index], problem.field, problem.message)
    while other is not None:
        yield other[1]
        other = next(pending, None)


def _valid_lines_as_none(schema: Schema) -> Callable[[str], list[None] | None]:
    """`parse_block` for `rows=False`: a None per valid line, without building rows."""

    def count(text: str) -> list[None] | None:
        lines = schema.count_block(text)
        return None if lines is None else [None] * lines

    return count


def _clean_blocks(
    file: BinaryIO, parse_block: Callable[[str], list[Row] | list[None] | None]
) -> Iterator[list[Row] | list[None]]:
    """Blocks of rows, as long as each block of whole lines holds only canonical, valid rows.

    Stops at the first block that does not, leaving the file at that block's first line for the
    line-by-line path, which then reports exactly what it always would. Blocks are whole lines, so
    a block decodes as UTF-8 exactly when each of its lines does, and a line the row pattern
    matches has no carriage return and is far shorter than MAX_LINE_BYTES.
    """
    while True:
        start = file.tell()
        data = file.read(_BLOCK_BYTES)
        end = data.rfind(b"\n") + 1
        if not end:
            file.seek(start)
            return
        try:
            block = parse_block(data[:end].decode("utf-8"))
        except UnicodeDecodeError:
            block = None
        if block is None:
            file.seek(start)
            return
        if end < len(data):
            file.seek(start + end)
        yield block


def read_rows(paths: Iterable[Path | str], schema: Schema | None = None) -> Iterator[Row]:
    """The rows of `paths` in order; raises InvalidLogError (`PATH:LINE: field: message`) at the
    first problem, so a caller never computes anything from a log that `check` would refuse."""
    from telemetry_csv.errors import InvalidLogError

    for item in scan_files(paths, schema or Schema()):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
        yield item
