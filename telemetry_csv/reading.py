"""Reading log files strictly, in constant memory.

`scan_file` yields each valid row as a `Row` and each problem as a `Problem` carrying its path
and line, so `check` can list problems and `report` can refuse (or skip) them with the same
words. A line longer than any valid row is skipped without being held in memory.

Runs of lines that the row pattern accepts and the secret screen passes (`Schema.clean_end`)
are checked by one regex call each (`scan_runs` hands them on as runs of text); every other
line goes through the line-by-line path, which alone decides problems and line numbers, and
the runs resume right after it.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

from telemetry_csv.errors import describe_value
from telemetry_csv.schema import HEADER_LINE, MAX_LINE_BYTES, FieldProblem, Row, Schema

_HEADER_BYTES = (HEADER_LINE + "\n").encode()
_BLOCK_BYTES = 256 * 1024  # the fast path's unit: big enough to amortise, small in memory
_LINE_LIMIT = MAX_LINE_BYTES + 2  # what the line-by-line path reads of a line at most
# The line-by-line path parses lines in batches (see `Schema.parse_lines`); a batch holds at most
# this many items (rows, problems, lines to parse), or about this many characters of lines, so
# memory stays bounded whatever the file.
_BATCH_LINES = 4096
_BATCH_CHARS = 1 << 20
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
        # O_NONBLOCK so that a FIFO given by mistake is reported instead of waited on forever;
        # it changes nothing for regular files.
        file = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
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
    lines = _Lines(name, schema, rows)
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
    yield from lines.flush()
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
                yield from lines.flush()  # the lines before the run come before it
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
    every problem of a line, as `check` reports them.

    Lines are parsed a batch at a time (`Schema.parse_lines`), so that the secret screen reads
    many notes at once: the batch holds the texts to parse with their line numbers, and the
    items found without parsing, each with how many texts came before it. `next_line` and
    `line_in_block` hand back the batch's items once it is full, `flush` whatever is left.
    """

    def __init__(self, name: str, schema: Schema, rows: bool):
        self.name = name
        self.parse: Callable[[str], Row | list[FieldProblem] | None]
        self.parse = schema.parse_line if rows else schema.line_problems
        self.parse_batch: Callable[[list[str]], Sequence[Row | list[FieldProblem] | None]]
        self.parse_batch = schema.parse_lines if rows else schema.lines_problems
        self.line_no = 0
        self.crlf_lines = self.lf_lines = 0
        self.first_crlf = self.first_lf = 0
        self.texts: list[str] = []
        self.numbers: list[int] = []
        self.others: list[tuple[int, Row | Problem | None]] = []
        self.chars = 0

    def count_lf(self, count: int) -> None:
        """`count` more lines, each valid and ending in a bare LF."""
        if count:
            self.first_lf = self.first_lf or self.line_no + 1
            self.line_no += count
            self.lf_lines += count

    def next_line(self, file: BinaryIO) -> Iterable[Row | Problem | None] | None:
        """Reads the next line of `file` (at most a valid line's length at a time, the rest of a
        longer one skipped) into the batch; None at the end of the file, else the items ready."""
        raw = file.readline(_LINE_LIMIT)
        if not raw:
            return None
        self._add_line(raw)
        if len(raw) == _LINE_LIMIT and raw[-1:] != b"\n":
            while raw and raw[-1:] != b"\n":  # the rest of a line too long to hold
                raw = file.readline(1 << 16)
        return self._ready()

    def line_in_block(self, text: str) -> Iterable[Row | Problem | None]:
        """Takes one line of a decoded block (without its newline) as `next_line` would take the
        same bytes; the items ready."""
        raw = text.encode("utf-8") + b"\n"
        self._add_line(raw[:_LINE_LIMIT] if len(raw) > _LINE_LIMIT else raw)
        return self._ready()

    def _ready(self) -> Iterable[Row | Problem | None]:
        if len(self.texts) + len(self.others) >= _BATCH_LINES or self.chars >= _BATCH_CHARS:
            return self.flush()
        return ()

    def flush(self) -> Iterator[Row | Problem | None]:
        """Every item of the batch, in line order; the batch starts again empty."""
        texts, numbers, others = self.texts, self.numbers, self.others
        self.texts, self.numbers, self.others, self.chars = [], [], [], 0
        return _batch_items(texts, numbers, others, self.parse_batch, self.name)

    def _add_line(self, raw: bytes) -> None:
        """Adds a line as `readline(_LINE_LIMIT)` returns it to the batch: whole with its newline,
        the unterminated last line, or the first _LINE_LIMIT bytes of a longer line."""
        self.line_no += 1
        line_no, name = self.line_no, self.name
        add = self._add
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
            add(Problem(name, line_no, "line", message))
            return
        else:
            body = raw
            add(
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
            return
        if line_no == 1:
            if text == HEADER_LINE:
                return
            result = self.parse(text)
            if type(result) is not list:
                add(
                    Problem(
                        name, 1, "header", f"the header is missing; add {HEADER_LINE} as line 1"
                    )
                )
                add(result)  # type: ignore[arg-type]
            else:
                add(
                    Problem(
                        name,
                        1,
                        "header",
                        f"expected {HEADER_LINE}, found {describe_value(text, 100)}",
                    )
                )
            return
        if not text:
            add(Problem(name, line_no, "line", "blank line; delete it"))
            return
        self.texts.append(text)
        self.numbers.append(line_no)
        self.chars += len(text)

    def _add(self, item: Row | Problem | None) -> None:
        """An item found without parsing, after the texts already in the batch."""
        self.others.append((len(self.texts), item))

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


def _batch_items(
    texts: list[str],
    numbers: list[int],
    others: list[tuple[int, Row | Problem | None]],
    parse_batch: Callable[[list[str]], Sequence[Row | list[FieldProblem] | None]],
    name: str,
) -> Iterator[Row | Problem | None]:
    """A batch's items in line order: its lines parsed, with the other items put back in place."""
    results = parse_batch(texts) if texts else ()
    pending = iter(others)
    other = next(pending, None)
    for index, result in enumerate(results):
        while other is not None and other[0] == index:
            yield other[1]
            other = next(pending, None)
        if type(result) is not list:
            yield result  # type: ignore[misc]
        else:
            for problem in result:  # type: ignore[union-attr]
                yield Problem(name, numbers[index], problem.field, problem.message)
    while other is not None:
        yield other[1]
        other = next(pending, None)


def read_rows(paths: Iterable[Path | str], schema: Schema | None = None) -> Iterator[Row]:
    """The rows of `paths` in order; raises InvalidLogError (`PATH:LINE: field: message`) at the
    first problem, so a caller never computes anything from a log that `check` would refuse."""
    from telemetry_csv.errors import InvalidLogError

    for item in scan_files(paths, schema or Schema()):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
        yield item
