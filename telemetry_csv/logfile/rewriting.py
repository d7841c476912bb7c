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

The file is streamed, in constant memory whatever it holds (millions of bad lines, a line of
gigabytes): blocks of valid lines are checked with one regex pass (`FastPath.clean_end`), the
other lines one by one, and the new file is started only at the first byte that changes, with
the bytes before it copied. The lines left are reported in `check`'s words, read from `check`'s
own scan run alongside; the first `max_problems` are kept and all of them counted.
"""

from __future__ import annotations

import io
import os
from codecs import BOM_UTF8
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import fastpath, layout, writing
from telemetry_csv.logfile.canonical import canonical_line, header_shape
from telemetry_csv.logfile.reading import Problem, Run, scan_bytes, scan_lines
from telemetry_csv.logfile.schema import MAX_LINE_BYTES, Row, Schema
from telemetry_csv.logfile.writing import DEFAULT_LOCK_TIMEOUT

DEFAULT_MAX_PROBLEMS = 100
_BLOCK_BYTES = 256 * 1024
_LINE_LIMIT = MAX_LINE_BYTES + 2  # as `check` reads a line: longer ones are never held
_COPY_BYTES = 1 << 16
LF, CRLF = b"\n", b"\r\n"


class Formatted(NamedTuple):
    data: bytes
    problems: list[Problem]  # lines left as they were


class FormatResult(NamedTuple):
    """What `fmt` did to one file."""

    path: Path
    changed: bool
    problems: list[Problem]  # the first `max_problems` of the lines left
    left: int = 0  # how many lines were left as they were


def format_bytes(
    data: bytes, schema: Schema, display: str, *, block_bytes: int = _BLOCK_BYTES
) -> Formatted:
    """The canonical bytes of a log's content in memory, and why each line left was left.
    `block_bytes`: the unit of the fast path (tests make it small to cross its edges)."""
    out = io.BytesIO()
    source = io.BytesIO(data)
    sink = _Sink(lambda start, end: iter((data[start:end],)), lambda: out)
    problems = _problems(scan_bytes(data, schema, display))
    rewrite = _Rewrite(source, schema, sink, problems, None, block_bytes)
    rewrite.run()
    return Formatted(out.getvalue() if sink.changed else data, rewrite.problems)


def format_file(
    path: Path,
    schema: Schema,
    display: str | None = None,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> FormatResult:
    """Rewrite one file in place if its canonical form differs, keeping its permissions.

    A log is rewritten under its lock, whether or not anything has locked it before (a fresh
    clone has no lock file), so an append cannot land between the read and the rename and be
    lost. The lock file is covered by the folder's .gitignore, which taking the lock completes
    if needed. A backup or a fold is never appended to, so it is rewritten without a lock; a
    shard is appended to under its log's lock, which it is rewritten under too.
    """
    name = display if display is not None else str(path)
    if writing.current_size(path) is None:  # a link, a FIFO or a folder is refused here
        raise LogFileError(f"{name}: no such file")
    owner = layout.log_of_shard(path)
    if layout.is_backup_name(path.name) or layout.is_fold_name(path.name):
        return _format_unlocked(path, schema, name, max_problems)
    with writing.locked(owner or path, lock_timeout):
        return _format_unlocked(path, schema, name, max_problems)


def _format_unlocked(path: Path, schema: Schema, name: str, max_problems: int) -> FormatResult:
    try:
        source = fs.open_regular(path)
    except OSError as error:
        raise fs.cannot("read", name, error) from None
    with source:
        keep = os.fstat(source.fileno())
        new: list[fs.NewFile] = []

        def output() -> fs.NewFile:
            new.append(fs.NewFile(path, keep=keep, shown=name))
            return new[0]

        sink = _Sink(lambda start, end: _read_range(source.fileno(), start, end), output)
        problems = _problems(scan_lines(path, schema, display=name))
        rewrite = _Rewrite(source, schema, sink, problems, max_problems, _BLOCK_BYTES)
        try:
            rewrite.run()
            if new:
                new[0].commit()
        except OSError as error:
            raise fs.cannot("read", name, error) from None
        finally:
            for file in new:
                file.discard()  # nothing once committed
    return FormatResult(path, sink.changed, rewrite.problems, rewrite.left)


def _read_range(fd: int, start: int, end: int) -> Iterator[bytes]:
    while start < end:
        chunk = os.pread(fd, min(_COPY_BYTES, end - start), start)
        if not chunk:
            raise LogFileError("the file changed while it was rewritten")
        yield chunk
        start += len(chunk)


def _problems(items: Iterator[Row | Run | Problem | None]) -> Iterator[Problem]:
    """The problems of lines (not of the file as a whole, nor warnings), in line order."""
    for item in items:
        if type(item) is Problem and item.field != "file" and item.line and not item.warning:
            yield item


class _Sink:
    """Where the new bytes go: nowhere while they equal the old ones, so an unchanged file is
    never written; at the first difference, `output()` is opened and the bytes before it are
    copied from `read_range(start, end)`."""

    def __init__(
        self,
        read_range: Callable[[int, int], Iterator[bytes]],
        output: Callable[[], fs.NewFile | io.BytesIO],
    ):
        self.read_range = read_range
        self.open_output = output
        self.out: fs.NewFile | io.BytesIO | None = None
        self.done = 0  # the input bytes handled so far
        self.changed = False

    def same(self, length: int) -> None:
        """The next `length` input bytes stay as they are."""
        if self.out is not None:
            for chunk in self.read_range(self.done, self.done + length):
                self.out.write(chunk)
        self.done += length

    def new(self, length: int, data: bytes) -> None:
        """The next `length` input bytes become `data` (which differs from them)."""
        if self.out is None:
            self.changed = True
            self.out = self.open_output()
            for chunk in self.read_range(0, self.done):
                self.out.write(chunk)
        self.out.write(data)
        self.done += length

    def piece(self, raw: bytes, data: bytes) -> None:
        if data == raw:
            self.same(len(raw))
        else:
            self.new(len(raw), data)


class _Rewrite:
    """One pass over a log's bytes, feeding `sink` the canonical bytes line by line (or run by
    run), and keeping why each line left was left."""

    def __init__(
        self,
        source: BinaryIO,
        schema: Schema,
        sink: _Sink,
        problems: Iterator[Problem],
        max_problems: int | None,
        block_bytes: int,
    ):
        self.source = source
        self.block_bytes = block_bytes
        self.schema = schema
        self.sink = sink
        self.scan = problems
        self.pending: Problem | None = None  # read from `scan`, for a later line
        self.max_problems = max_problems
        self.problems: list[Problem] = []
        self.left = 0
        self.line_no = 0
        self.blank: list[bytes] = []  # blank lines not yet known to be followed by a row
        self.extended = False  # the file's shape, which its first line decides

    def run(self) -> None:
        self._one_line(first=True)
        clean_end = fastpath.for_schema(self.schema, extended=self.extended).clean_end
        while True:
            start = self.source.tell()
            data = self.source.read(self.block_bytes)
            if not data:
                break
            end = data.rfind(LF) + 1
            if end == 0:  # a line longer than a block, or the unterminated end
                self.source.seek(start)
                self._one_line(first=False)
                continue
            self.source.seek(start + end)
            whole = data[:end]
            try:
                text = whole.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and not self.blank:
                plain = text.replace("\r\n", "\n") if "\r" in text else text
                if clean_end(plain) == len(plain):  # valid rows only: the common case
                    self.sink.piece(whole, whole if plain is text else plain.encode())
                    self.line_no += plain.count("\n")
                    continue
            for raw in whole.split(LF)[:-1]:
                self._line(raw + LF, first=False)
        if self.blank:  # blank lines after the last row go (only a torn line keeps them)
            self.sink.new(sum(map(len, self.blank)), b"")
            self.blank = []

    def _one_line(self, *, first: bool) -> None:
        """Reads one line from the file, never holding more than a row's worth of it."""
        start = self.source.tell()
        raw = self.source.readline(_LINE_LIMIT)
        if not raw:
            return
        if len(raw) == _LINE_LIMIT and not raw.endswith(LF):
            bom = first and raw.startswith(BOM_UTF8)
            last = raw
            while raw and not raw.endswith(LF):
                last, raw = raw, self.source.readline(_COPY_BYTES)
            # Its CR may end one read and its LF start the next.
            crlf = raw.endswith(CRLF) or (raw == LF and last.endswith(b"\r"))
            self._long_line(start, self.source.tell(), torn=not raw, crlf=crlf, bom=bom)
        else:
            self._line(raw, first=first)

    def _long_line(self, start: int, end: int, *, torn: bool, crlf: bool, bom: bool) -> None:
        """A line longer than any row: left as it is (bytes copied, not held), LF-ended, and
        without the byte order mark it starts with as line 1, as any other first line (a torn
        one, the file's last, keeps its bytes as they are, a byte order mark too)."""
        self._flush_blank()
        self.line_no += 1
        if bom and not torn:
            self.sink.new(len(BOM_UTF8), b"")
            start += len(BOM_UTF8)
        if crlf:
            self.sink.same(end - start - 2)
            self.sink.new(2, LF)
        else:
            self.sink.same(end - start)
        self._leave()

    def _line(self, raw: bytes, *, first: bool) -> None:
        """One whole line with its ending (or the last line without one)."""
        body = raw[:-2] if raw.endswith(CRLF) else raw[:-1] if raw.endswith(LF) else raw
        if not raw.endswith(LF):  # torn: its bytes as they are, a byte order mark too
            self._flush_blank()
            self.line_no += 1
            self.sink.same(len(raw))
            self._leave()
            return
        if first and body.startswith(BOM_UTF8):
            body = body[len(BOM_UTF8) :]
        if not body:
            self.blank.append(raw)
            return
        self._flush_blank()
        self.line_no += 1
        text = body.decode("utf-8", "surrogateescape")
        if self.line_no == 1:
            self.extended = header_shape(text)
        canonical = canonical_line(
            text, self.schema, first=self.line_no == 1, extended=self.extended
        )
        if canonical is None:
            self.sink.piece(raw, body + LF)
            self._leave()
        else:
            self.sink.piece(raw, canonical.encode("utf-8") + LF)

    def _flush_blank(self) -> None:
        """Blank lines followed by more: left as they are (LF-ended), as `check` reports them."""
        blank, self.blank = self.blank, []
        for raw in blank:
            self.line_no += 1
            self.sink.piece(raw, LF)
            self._leave()

    def _leave(self) -> None:
        """The line just read is left as it was: count it, keep `check`'s words for it."""
        self.left += 1
        number = self.line_no
        item = self.pending
        while item is None or item.line < number:
            item = next(self.scan, None)
            if item is None:
                return
        while item is not None and item.line == number:
            if self.max_problems is None or len(self.problems) < self.max_problems:
                self.problems.append(
                    Problem(item.path, item.line, item.field, f"{item.message}; left as it is")
                )
            item = next(self.scan, None)
        self.pending = item
