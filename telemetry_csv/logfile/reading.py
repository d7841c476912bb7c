"""Reading log files strictly, in constant memory.

`scan_file` yields each valid row as a `Row` and each problem as a `Problem` carrying its path
and line, so `check` can list problems and `report` can refuse (or skip) them with the same
words. A line longer than any valid row is skipped without being held in memory.

Runs of lines that the row pattern accepts and the secret screen passes (`FastPath.clean_end`)
are checked by one regex call each (`scan_runs` hands them on as runs of text); every other
line goes through the line-by-line path, which alone decides problems and line numbers, and
the runs resume right after it.

The line-by-line path splits lines with `_physical_lines`, the one splitter that `split_lines`
(for `fmt`, the append-only check and the merge driver) uses too, so every command agrees on
what a line, its ending and a byte order mark are.

A file's header decides its shape (`schema.HEADER_SHAPES`): every line of a file with the
extended header is read as a 12-column row, and its runs come as `ExtendedRun`s. A file whose
first line is no header is read in the shape its first line has.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import BinaryIO, NamedTuple, cast

from telemetry_csv import fs
from telemetry_csv.errors import describe_value
from telemetry_csv.logfile import fastpath
from telemetry_csv.logfile.schema import (
    EXTENDED_HEADER,
    EXTENDED_HEADER_LINE,
    HEADER_LINE,
    HEADER_SHAPES,
    MAX_LINE_BYTES,
    FieldProblem,
    Row,
    Schema,
)

_HEADER_BYTES = (HEADER_LINE + "\n").encode()
_EXTENDED_HEADER_BYTES = (EXTENDED_HEADER_LINE + "\n").encode()
_HEADERS = (_HEADER_BYTES, _EXTENDED_HEADER_BYTES)
_BLOCK_BYTES = 256 * 1024  # the fast path's unit: big enough to amortise, small in memory
_LINE_LIMIT = MAX_LINE_BYTES + 2  # what the line-by-line path reads of a line at most
# The line-by-line path parses lines in batches (see `FastPath.parse_lines`); a batch holds at most
# this many items (rows, problems, lines to parse), or about this many characters of lines, so
# memory stays bounded whatever the file.
_BATCH_LINES = 4096
_BATCH_CHARS = 1 << 20
_HOW_TO_FIX_ENDINGS = "convert them to LF with `telemetry-csv fmt` (or dos2unix)"
NO_FINAL_NEWLINE = (
    "no newline at the end of the file: the last line may be torn by an interrupted write; if "
    "the row is complete add the newline, otherwise move it aside with `telemetry-csv repair`"
)
LF, CRLF = b"\n", b"\r\n"
# A clone may hold a link at a log's name (to a file outside the repository, a device): its
# target is never read, so that nothing of it can reach a message or a report.
NOT_READ = (
    "a log, backup, shard or fold must be a regular file and was not read; replace it by "
    "the file itself, or remove it"
)
# What git writes into a file it could not merge (`merge-file`; `|||||||` with diff3), and what
# a merge driver that could not run leaves behind when git falls back to a line merge.
_CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ", "||||||| ")
CONFLICT_MARKER = (
    "a merge conflict marker: this merge was never resolved. While the merge is in progress, "
    "let telemetry-csv merge the file: `telemetry-csv init --git`, then `git checkout -m -- "
    "{path}` and `git add {path}`; otherwise keep the rows of both sides, delete the marker "
    "lines (<<<<<<<, |||||||, =======, >>>>>>>) and run `telemetry-csv check` again"
)


class Problem(NamedTuple):
    # A record, not a dataclass: the hooks import this module, and `dataclasses` brings
    # `inspect` and its own imports into every hook's start-up.
    path: str
    line: int  # 1-based; 0 for the file as a whole
    field: str  # a column name, "header", "line" or "file"
    message: str
    # A valid row that breaks only a rule newer than rows committed before it (`check` counts
    # it apart and still passes; the hooks fail only if the row is being added).
    warning: bool = False
    text: str = ""  # a warning's line, for the hooks to judge; not compared

    def __eq__(self, other: object) -> bool:
        return type(other) is Problem and self[:5] == other[:5]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:5])

    def __str__(self) -> str:
        if self.warning:
            return f"{self.path}:{self.line}: {self.field}: warning: {self.message}; {WARNING}"
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


WARNING = (
    "rows committed before this rule stay valid, new rows are refused (docs/security.md says "
    "how to clean history on purpose)"
)


# What `scan_items` yields. A `Run` is whole lines the fast path accepted, each a canonical,
# valid row ending in a newline (`FastPath.rows_of` makes them rows); it is a plain str, so
# that thousands of rows cost one object. None stands for one valid line when rows are not
# wanted (`rows=False`): enough to count it, and cheaper, since its values are never built.
Run = str


class ExtendedRun(str):
    """A run of lines of a file with the extended header: 12 fields each. A plain `Run` is
    always of the 8-column shape, so a reader tells the shapes apart by the type alone.

    `lines`: the run split into its lines (without newlines), when the fast path had to split
    it already (to compare cache parts with prompt tokens), so that readers need not split it
    again; None otherwise (`lines_of`)."""

    lines: list[str] | None = None


def lines_of(run: str) -> list[str]:
    """The lines of a run (see `ExtendedRun.lines`), without their newlines."""
    found = run.lines if type(run) is ExtendedRun else None
    return run[:-1].split("\n") if found is None else found


ScanItem = Run | Row | Problem | None


def run_fast_path(schema: Schema, run: str) -> fastpath.FastPath:
    """The fast path of the shape `run` is in."""
    return fastpath.for_schema(schema, extended=type(run) is ExtendedRun)


def scan_file(
    path: Path | str, schema: Schema, *, max_bytes: int | None = None, display: str | None = None
) -> Iterator[Row | Problem]:
    """Every valid row and every problem of one log file, in line order (file-wide ones last)."""
    items = scan_items(path, schema, max_bytes=max_bytes, display=display)
    return cast(Iterator[Row | Problem], _runs_as_rows(items, schema, True))


def scan_lines(
    path: Path | str, schema: Schema, *, max_bytes: int | None = None, display: str | None = None
) -> Iterator[Problem | None]:
    """`scan_file` with None for each valid line instead of its row (`check` counts them)."""
    items = scan_items(path, schema, max_bytes=max_bytes, display=display, rows=False)
    return cast(Iterator[Problem | None], _runs_as_rows(items, schema, False))


def scan_runs(
    path: Path | str, schema: Schema, *, max_bytes: int | None = None, display: str | None = None
) -> Iterator[Run | Row | Problem]:
    """`scan_file`, except that a run of consecutive lines the block fast path accepted comes
    as one `Run`, thousands of lines at a time, for callers that would rather not build a Row
    per line (the report)."""
    items = scan_items(path, schema, max_bytes=max_bytes, display=display)
    return cast(Iterator[Run | Row | Problem], items)


def _runs_as_rows(
    items: Iterable[ScanItem], schema: Schema, rows: bool
) -> Iterator[Row | Problem | None]:
    for item in items:
        if isinstance(item, str):
            if rows:
                yield from run_fast_path(schema, item).rows_of(item)
            else:
                yield from repeat(None, item.count("\n"))
        else:
            yield item


def scan_items(
    path: Path | str,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    display: str | None = None,
    rows: bool = True,
    block_bytes: int = _BLOCK_BYTES,
    warnings: bool = False,
    trusted: int = 0,
) -> Iterator[ScanItem]:
    """What the readers above are views of: runs of valid lines, rows (or None for a valid line
    when not `rows`) and problems, in line order. `block_bytes` (0: none) is the fast path's
    unit; `warnings`: see `scan_opened`. `trusted`: how many bytes at the start of the file were
    checked already (a file as it was committed, whole lines starting with the header): only
    the lines after them are read, numbered as in the file; the file as a whole is still judged
    (its size, its line endings)."""
    name = display if display is not None else str(path)
    try:
        # Never through a link, never blocking: a FIFO given by mistake is refused, not waited on.
        file = fs.open_regular(path)
    except fs.LinkError as error:
        yield Problem(name, 0, "file", f"a symbolic link (to {error.target}); {NOT_READ}")
        return
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {fs.reason(error)}")
        return
    except fs.NotRegularError as error:
        yield Problem(name, 0, "file", f"not a regular file ({error.kind}); {NOT_READ}")
        return
    yield from scan_opened(
        file,
        name,
        schema,
        max_bytes=max_bytes,
        rows=rows,
        block_bytes=block_bytes,
        warnings=warnings,
        trusted=trusted,
    )


def scan_opened(
    file: BinaryIO,
    name: str,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    rows: bool = True,
    block_bytes: int = _BLOCK_BYTES,
    limit: int | None = None,
    warnings: bool = False,
    trusted: int = 0,
) -> Iterator[ScanItem]:
    """`scan_items` over a file already open (it is closed at the end). With a `limit`, only
    its first `limit` bytes are read, less a last line that the bytes after them continue:
    what a reader listed, while a writer may be appending (`snapshot.py`). With `warnings`
    (`check`), a valid row that breaks a newer rule comes as its warnings instead of a Row.
    `trusted`: see `scan_items`."""
    try:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            yield Problem(
                name, 0, "file", f"not a regular file ({fs.kind(info.st_mode)}); {NOT_READ}"
            )
            return
        size = info.st_size if limit is None else min(limit, info.st_size)
        if max_bytes is not None and size > max_bytes:
            yield Problem(
                name,
                0,
                "file",
                f"{size:,} bytes, over max_bytes ({max_bytes:,}); split it: move it to "
                "a usage-YYYYMMDDTHHMMSSZ.csv backup and start a new log with `telemetry-csv init`",
            )
        stream: BinaryIO = file
        if limit is not None and limit < info.st_size:
            stream = cast(BinaryIO, _Bounded(file, _whole_lines_end(file, limit)))
        # Where a bounded stream ends depends on more than the file: its count is not kept.
        identity = _identity(info) if stream is file else None
        start = _trusted_start(stream, trusted, identity) if trusted else None
        if start is None:
            yield from _scan_stream(stream, name, schema, rows, block_bytes, warnings=warnings)
        else:
            line, extended = start
            yield from _scan_stream(
                stream, name, schema, rows, block_bytes, line, extended, True, warnings=warnings
            )
    except OSError as error:
        yield Problem(name, 0, "file", f"cannot read: {fs.reason(error)}")
    finally:
        file.close()


# The number of lines in a file's trusted start, by the file's identity and state and how many
# bytes are trusted: `check` reads a trusted file twice (its new ids first), and counting the
# lines of the committed bytes is most of what reading past them costs. A file changed since has
# another size or time (a change within the clock's resolution could only misnumber lines:
# what is validated is read again).
_TRUSTED_LINES: dict[tuple[int, ...], int] = {}


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _trusted_start(
    file: BinaryIO, trusted: int, identity: tuple[int, ...] | None
) -> tuple[int, bool] | None:
    """For a file whose first `trusted` bytes were checked already: the number of the first
    line after them and whether the file has the extended header, the file left there; None
    (the file at its start) when they are not whole lines after a header. Read in parts."""
    header = file.readline(len(_EXTENDED_HEADER_BYTES))
    key = (*identity, trusted) if identity is not None else None
    known = _TRUSTED_LINES.get(key) if key is not None else None
    if known is not None and header in _HEADERS and len(header) <= trusted:
        file.seek(trusted)
        return known, header == _EXTENDED_HEADER_BYTES
    lines = 1
    if header in _HEADERS and len(header) <= trusted:
        left = trusted - len(header)
        part = b"\n"
        while left > 0:
            part = file.read(min(_BLOCK_BYTES, left))
            if not part:
                break
            lines += part.count(b"\n")
            left -= len(part)
        if left == 0 and part.endswith(b"\n"):
            if key is not None:
                if len(_TRUSTED_LINES) > 1024:  # a long-lived process checks many files
                    _TRUSTED_LINES.clear()
                _TRUSTED_LINES[key] = lines + 1
            return lines + 1, header == _EXTENDED_HEADER_BYTES
    file.seek(0)
    return None


def _whole_lines_end(file: BinaryIO, limit: int) -> int:
    """Where the last whole line before `limit` ends: the file goes on past `limit`, so a line
    that `limit` cuts is one a writer is still appending (a write of many pages can be seen
    half done), not a torn one."""
    start = max(0, limit - _LINE_LIMIT)
    file.seek(start)
    newline = file.read(limit - start).rfind(b"\n")
    file.seek(0)
    return start + newline + 1 if newline >= 0 else limit


class _Bounded:
    """A file, read as if it ended at `end`: the calls `_scan_stream` makes."""

    def __init__(self, file: BinaryIO, end: int):
        self.file, self.end = file, end

    def tell(self) -> int:
        return self.file.tell()

    def seek(self, position: int) -> int:
        return self.file.seek(min(position, self.end))

    def _left(self, size: int) -> int:
        left = max(0, self.end - self.file.tell())
        return left if size < 0 else min(size, left)

    def read(self, size: int = -1) -> bytes:
        left = self._left(size)
        return self.file.read(left) if left else b""

    def readline(self, size: int = -1) -> bytes:
        left = self._left(size)
        return self.file.readline(left) if left else b""


def scan_bytes(data: bytes, schema: Schema, display: str) -> Iterator[Row | Problem]:
    """`scan_file` over a file's content already in memory."""
    items = _scan_stream(io.BytesIO(data), display, schema, True, _BLOCK_BYTES)
    return cast(Iterator[Row | Problem], _runs_as_rows(items, schema, True))


def scan_data(
    data: bytes,
    schema: Schema,
    display: str,
    *,
    rows: bool = True,
    first_line: int = 1,
    extended: bool = False,
    lf_before: bool = False,
    warnings: bool = False,
) -> Iterator[ScanItem]:
    """`scan_items` over bytes in memory: a whole file, or, with `first_line` > 1, the lines of
    a file from that line on (a fold's segment), numbered as in the file and read in the shape
    `extended` says (the file's header decides it); with `lf_before`, the lines before count,
    as LF lines, in the file-wide problems (the rest of a file whose start was checked)."""
    return _scan_stream(
        io.BytesIO(data),
        display,
        schema,
        rows,
        _BLOCK_BYTES,
        first_line,
        extended,
        lf_before,
        warnings=warnings,
    )


def scan_files(
    paths: Iterable[Path | str], schema: Schema, *, max_bytes: int | None = None
) -> Iterator[Row | Problem]:
    for path in paths:
        yield from scan_file(path, schema, max_bytes=max_bytes)


def split_lines(data: bytes) -> list[str]:
    """The lines of a file's content, as `scan_file` reads them: without their line endings (LF
    or CRLF), without a byte order mark on line 1, and no empty line after the final newline.

    Bytes that are not UTF-8 are kept as surrogate escapes, so such a line still compares
    equal to itself and can be written back unchanged.
    """
    return [
        body.decode("utf-8", "surrogateescape")  # type: ignore[union-attr]
        for body, _, _ in _physical_lines(io.BytesIO(data).readline)
    ]


def _physical_lines(
    readline: Callable[[int], bytes], limit: int = -1, *, first: bool = True
) -> Iterator[tuple[bytes | None, bytes, bool]]:
    """Each line as (body, ending, bom): the body without its line ending, and on line 1 without
    a UTF-8 byte order mark (`bom` says there was one); the ending LF, CRLF, or b"" for a last
    line without a newline. With a `limit`, a longer line is read past without being held in
    memory: its body is None. `first`: whether the first line read is line 1 of the file.

    Lines are read one at a time, when asked for, so the caller may read blocks of whole lines
    from the same file in between.
    """
    raw = readline(limit)
    bom = first and raw.startswith(codecs.BOM_UTF8)
    while raw:
        if len(raw) == limit and raw[-1:] != LF:
            while raw and raw[-1:] != LF:
                raw = readline(1 << 16)
            yield None, raw[-1:], bom
        else:
            body, ending = _body_and_ending(raw)
            yield (body[len(codecs.BOM_UTF8) :] if bom else body), ending, bom
        bom = False
        raw = readline(limit)


def _body_and_ending(raw: bytes) -> tuple[bytes, bytes]:
    """A whole line as `readline` returns it: its body, and its ending (LF, CRLF or b"")."""
    if raw[-1:] == LF:
        if raw[-2:-1] == b"\r":
            return raw[:-2], CRLF
        return raw[:-1], LF
    return raw, b""


def _scan_stream(
    file: BinaryIO,
    name: str,
    schema: Schema,
    rows: bool,
    block_bytes: int,
    first_line: int = 1,
    extended: bool = False,
    lf_before: bool = False,
    warnings: bool = False,
) -> Iterator[ScanItem]:
    """`scan_runs` over an open file or a stream of bytes in memory; with `first_line` > 1,
    lines from the middle of a file, without its header, in the shape `extended` says (a fold's
    segment: the fold's header decides); `lf_before`: the lines before were checked already,
    each ending in a newline, and file-wide problems count them so."""
    head = b"" if first_line > 1 else file.read(len(_EXTENDED_HEADER_BYTES))
    if first_line > 1:
        physical = _physical_lines(file.readline, _LINE_LIMIT, first=False)
        lines = _Lines(name, schema, rows, physical, warnings)
        lines.set_shape(extended)
        if lf_before:
            lines.count_lf(first_line - 1)
        else:
            lines.line_no = first_line - 1
    elif head.startswith(_HEADER_BYTES) or head == _EXTENDED_HEADER_BYTES:
        extended = head == _EXTENDED_HEADER_BYTES
        file.seek(len(_EXTENDED_HEADER_BYTES if extended else _HEADER_BYTES))
        physical = _physical_lines(file.readline, _LINE_LIMIT, first=False)
        lines = _Lines(name, schema, rows, physical, warnings)
        lines.set_shape(extended)
        lines.count_lf(1)
    else:
        file.seek(0)
        lines = _Lines(name, schema, rows, _physical_lines(file.readline, _LINE_LIMIT), warnings)
        yield from lines.next_line() or ()  # the header, or what stands in its place
    if block_bytes:
        yield from _blocks(file, schema, lines, block_bytes)
    while True:
        found = lines.next_line()
        if found is None:
            break
        yield from found
    yield from lines.flush()
    yield from lines.file_problems()


def _blocks(file: BinaryIO, schema: Schema, lines: _Lines, block_bytes: int) -> Iterator[ScanItem]:
    """Block after block of whole lines to the end of the file. In each, runs of lines the row
    pattern accepts come as one string; a line it does not accept goes through the
    line-by-line path alone, which reports exactly what it always would, and the next run
    starts right after it. A block that is not UTF-8, or holds no whole line (a line longer
    than a block; the unterminated end), goes line by line, and blocks resume after it."""
    fast = fastpath.for_schema(schema, extended=lines.extended)
    clean_end = fast.clean_end
    extended = lines.extended
    while True:
        start = file.tell()
        data = file.read(block_bytes)
        if not data:
            return
        end = data.rfind(b"\n") + 1
        whole = data[:end]
        try:
            text = whole.decode("utf-8") if end else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            file.seek(start)
            stop = start + max(end, 1)
            while file.tell() < stop:
                found = lines.next_line()
                if found is None:
                    return
                yield from found
            continue
        if end < len(data):
            file.seek(start + end)
        position, length = 0, len(text)
        while position < length:
            clean = clean_end(text, position, whole)
            if clean > position:
                yield from lines.flush()  # the lines before the run come before it
                run: str
                if extended:
                    run = extended_run = ExtendedRun(text[position:clean])
                    extended_run.lines = fast.split_lines(text, position, clean)
                else:
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

    Lines are parsed a batch at a time (`FastPath.parse_lines`), so that the secret screen reads
    many notes at once: the batch holds the texts to parse with their line numbers, and the
    items found without parsing, each with how many texts came before it. `next_line` and
    `line_in_block` hand back the batch's items once it is full, `flush` whatever is left.
    """

    def __init__(
        self,
        name: str,
        schema: Schema,
        rows: bool,
        physical: Iterator[tuple[bytes | None, bytes, bool]],
        warnings: bool = False,
    ):
        self.name = name
        self.physical = physical  # the file's lines, from `_physical_lines`
        self.schema = schema
        self.rows = rows
        self.warnings = warnings
        self.parse: Callable[[str], Row | list[FieldProblem] | None]
        self.parse_batch: Callable[[list[str]], Sequence[Row | list[FieldProblem] | None]]
        self.set_shape(False)
        self.line_no = 0
        self.crlf_lines = self.lf_lines = 0
        self.first_crlf = self.first_lf = 0
        self.texts: list[str] = []
        self.numbers: list[int] = []
        self.others: list[tuple[int, Row | Problem | None]] = []
        self.chars = 0

    def set_shape(self, extended: bool) -> None:
        """Read the lines as rows of a file with the extended header, or of the 8 columns."""
        self.extended = extended
        schema, fast = self.schema, fastpath.for_schema(self.schema, extended=extended)
        if self.rows and self.warnings:
            # A line the fast path took holds nothing a newer rule warns about (its patterns
            # leave such characters to this path), so only these lines are looked at.
            def warned(result: Row | list[FieldProblem]) -> Row | list[FieldProblem]:
                return (schema.row_warnings(result) or result) if type(result) is Row else result

            self.parse = lambda text: warned(schema.parse_line(text, extended=extended))
            self.parse_batch = lambda texts: [warned(item) for item in fast.parse_lines(texts)]
        elif self.rows:
            self.parse = lambda text: schema.parse_line(text, extended=extended)
            self.parse_batch = fast.parse_lines
        else:
            self.parse = lambda text: schema.line_problems(text, extended=extended)
            self.parse_batch = fast.lines_problems

    def count_lf(self, count: int) -> None:
        """`count` more lines, each valid and ending in a bare LF."""
        if count:
            self.first_lf = self.first_lf or self.line_no + 1
            self.line_no += count
            self.lf_lines += count

    def next_line(self) -> Iterable[Row | Problem | None] | None:
        """Reads the file's next line into the batch (a line longer than any valid row is read
        past, not held); None at the end of the file, else the items ready."""
        line = next(self.physical, None)
        if line is None:
            return None
        self._add_line(*line)
        return self._ready()

    def line_in_block(self, text: str) -> Iterable[Row | Problem | None]:
        """Takes one line of a decoded block (without its newline; never line 1) as `next_line`
        would take the same bytes; the items ready."""
        raw = text.encode("utf-8") + LF
        if len(raw) > _LINE_LIMIT:
            self._add_line(None, LF, False)  # as `_physical_lines` gives a line too long to hold
        else:
            self._add_line(*_body_and_ending(raw), False)
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

    def _add_line(self, body: bytes | None, ending: bytes, bom: bool) -> None:
        """Adds a line as `_physical_lines` gives it to the batch."""
        self.line_no += 1
        line_no, name = self.line_no, self.name
        add = self._add
        if body is None:
            message = f"longer than {MAX_LINE_BYTES:,} bytes, far beyond any valid row; delete or repair it"
            add(Problem(name, line_no, "line", message))
            return
        if ending == LF:
            self.lf_lines += 1
            self.first_lf = self.first_lf or line_no
        elif ending == CRLF:
            self.crlf_lines += 1
            self.first_crlf = self.first_crlf or line_no
        else:
            add(Problem(name, line_no, "line", NO_FINAL_NEWLINE))
        if bom:
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
        if text.startswith(_CONFLICT_MARKERS) or text == "=======":
            add(Problem(name, line_no, "line", CONFLICT_MARKER.format(path=name)))
            return
        if line_no == 1:
            if text in HEADER_SHAPES:
                self.set_shape(HEADER_SHAPES[text])
                return
            self.set_shape(_looks_extended(text))
            result = self.parse(text)
            header = EXTENDED_HEADER_LINE if self.extended else HEADER_LINE
            if type(result) is not list:
                add(Problem(name, 1, "header", f"the header is missing; add {header} as line 1"))
                add(result)  # type: ignore[arg-type]
            else:
                add(
                    Problem(
                        name,
                        1,
                        "header",
                        f"expected {HEADER_LINE} (or the extended header, {EXTENDED_HEADER_LINE}), "
                        f"found {describe_value(text, 100)}",
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


def _looks_extended(text: str) -> bool:
    """Whether a first line that is no header has the extended header's number of fields (or
    more): the shape its file is then read in."""
    import csv

    try:
        fields = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return False
    return len(fields) >= len(EXTENDED_HEADER)


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
        if not isinstance(result, list):
            yield result
        else:
            for problem in result:
                if problem.warning:
                    yield Problem(
                        name, numbers[index], problem.field, problem.message, True, texts[index]
                    )
                else:
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
