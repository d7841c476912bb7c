"""Reading log files strictly, one physical line at a time, in constant memory.

`scan_file` yields each valid row as a `Row` and each problem as a `Problem` carrying its path
and line, so `check` can list problems and `report` can refuse (or skip) them with the same
words. A line longer than any valid row is skipped without being held in memory.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv.errors import describe_value
from telemetry_csv.schema import HEADER_LINE, MAX_LINE_BYTES, FieldProblem, Row, Schema

_HOW_TO_FIX_ENDINGS = "convert them to LF with `telemetry-csv fmt` (or dos2unix)"
NO_FINAL_NEWLINE = (
    "no newline at the end of the file: the last line may be torn by an interrupted write; if "
    "the row is complete add the newline, otherwise move it aside with `telemetry-csv repair`"
)
LF, CRLF = b"\n", b"\r\n"


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
        file = open(path, "rb")  # noqa: SIM115 - closed in the finally below, across yields
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
        return
    try:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            yield Problem(name, 0, "file", "not a regular file")
            return
        if max_bytes is not None and info.st_size > max_bytes:
            yield Problem(
                name,
                0,
                "file",
                f"{info.st_size:,} bytes, over max_bytes ({max_bytes:,}); split it: move it to "
                "a usage-YYYYMMDDTHHMMSSZ.csv backup and start a new log with `telemetry-csv init`",
            )
        parse = schema.parse_line if rows else schema.line_problems
        yield from _scan_lines(file.readline, name, parse)
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {error.strerror or error}")
    finally:
        file.close()


def scan_bytes(data: bytes, schema: Schema, display: str) -> Iterator[Row | Problem]:
    """`scan_file` over a file's content already in memory."""
    return _scan_lines(io.BytesIO(data).readline, display, schema.parse_line)  # type: ignore[return-value]


def scan_files(
    paths: Iterable[Path | str], schema: Schema, *, max_bytes: int | None = None
) -> Iterator[Row | Problem]:
    for path in paths:
        yield from scan_file(path, schema, max_bytes=max_bytes)  # type: ignore[misc]


def split_lines(data: bytes) -> list[str]:
    """The lines of a file's content, as `scan_file` reads them: without their line endings (LF
    or CRLF), without a byte order mark on line 1, and no empty line after the final newline.

    Bytes that are not UTF-8 are kept as surrogate escapes, so such a line still compares
    equal to itself and can be written back unchanged.
    """
    return [
        body.decode("utf-8", "surrogateescape")
        for body, _, _ in _physical_lines(io.BytesIO(data).readline)
    ]


def _physical_lines(
    readline: Callable[[int], bytes], limit: int = -1
) -> Iterator[tuple[bytes | None, bytes, bool]]:
    """Each line as (body, ending, bom): the body without its line ending, and on line 1 without
    a UTF-8 byte order mark (`bom` says there was one); the ending LF, CRLF, or b"" for a last
    line without a newline. With a `limit`, a longer line is read past without being held in
    memory: its body is None.
    """
    raw = readline(limit)
    bom = raw.startswith(codecs.BOM_UTF8)
    while raw:
        body: bytes | None
        if raw[-1:] == b"\n":
            if raw[-2:-1] == b"\r":
                body, ending = raw[:-2], CRLF
            else:
                body, ending = raw[:-1], LF
        elif len(raw) == limit:
            while raw and raw[-1:] != b"\n":
                raw = readline(1 << 16)
            body, ending = None, raw[-1:]
        else:
            body, ending = raw, b""
        if bom and body is not None:
            body = body[len(codecs.BOM_UTF8) :]
        yield body, ending, bom
        bom = False
        raw = readline(limit)


def _scan_lines(
    readline: Callable[[int], bytes],
    name: str,
    parse: Callable[[str], Row | list[FieldProblem] | None],
) -> Iterator[Row | Problem | None]:
    line_no = 0
    crlf_lines = lf_lines = 0
    first_crlf = first_lf = 0
    for body, ending, bom in _physical_lines(readline, MAX_LINE_BYTES + 2):
        line_no += 1
        if body is None:
            yield Problem(
                name,
                line_no,
                "line",
                f"longer than {MAX_LINE_BYTES:,} bytes, far beyond any valid row; delete or repair it",
            )
            continue
        if ending is LF:
            lf_lines += 1
            first_lf = first_lf or line_no
        elif ending is CRLF:
            crlf_lines += 1
            first_crlf = first_crlf or line_no
        else:
            yield Problem(name, line_no, "line", NO_FINAL_NEWLINE)
        if bom:
            yield Problem(
                name,
                1,
                "file",
                "starts with a UTF-8 byte order mark; remove it (`telemetry-csv fmt`)",
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = body[error.start : error.end]
            yield Problem(
                name,
                line_no,
                "line",
                f"bytes that are not UTF-8 at byte {error.start + 1} ({bad!r}); "
                "re-save the file as UTF-8",
            )
            continue
        if line_no == 1:
            if text == HEADER_LINE:
                continue
            result = parse(text)
            if type(result) is not list:
                yield Problem(
                    name, 1, "header", f"the header is missing; add {HEADER_LINE} as line 1"
                )
                yield result
            else:
                yield Problem(
                    name,
                    1,
                    "header",
                    f"expected {HEADER_LINE}, found {describe_value(text, 100)}",
                )
            continue
        if not text:
            yield Problem(name, line_no, "line", "blank line; delete it")
            continue
        result = parse(text)
        if type(result) is not list:
            yield result
        else:
            for problem in result:
                yield Problem(name, line_no, problem.field, problem.message)
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


def read_rows(paths: Iterable[Path | str], schema: Schema | None = None) -> Iterator[Row]:
    """The rows of `paths` in order; raises InvalidLogError (`PATH:LINE: field: message`) at the
    first problem, so a caller never computes anything from a log that `check` would refuse."""
    from telemetry_csv.errors import InvalidLogError

    for item in scan_files(paths, schema or Schema()):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
        yield item
