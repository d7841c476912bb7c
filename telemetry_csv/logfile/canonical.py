"""Each line of a log file in its canonical form, however the file was saved.

A spreadsheet or an editor may re-save a valid log with CRLF line endings, a byte order mark or
quotes around every field. The values are the same; only the bytes differ. `fmt` writes the
canonical form back, and the append-only check and the merge driver compare lines by it, so a
re-saved file is not mistaken for rewritten history.
"""

from __future__ import annotations

import csv
from typing import NamedTuple

from telemetry_csv.logfile import fastpath
from telemetry_csv.logfile.reading import split_lines
from telemetry_csv.logfile.schema import (
    EXTENDED_HEADER,
    EXTENDED_HEADER_LINE,
    HEADER,
    HEADER_LINE,
    HEADER_SHAPES,
    Row,
    Schema,
)

_HEADER_BYTES = f"{HEADER_LINE}\n".encode()
_EXTENDED_HEADER_BYTES = f"{EXTENDED_HEADER_LINE}\n".encode()
_NO_EXTRAS = ",,,,"  # the end of an extended line whose four extra fields are empty


class Line(NamedTuple):
    number: int  # 1-based
    text: str  # as stored, without its line ending (and without a BOM on line 1)
    canonical: str | None  # the canonical form, or None when the line cannot be read as one


def canonical_line(text: str, schema: Schema, *, first: bool, extended: bool = False) -> str | None:
    """The canonical form of one line: the header on line 1, a row elsewhere, in the shape of
    its file (`extended`); None if neither."""
    if not text.isascii() and not _is_utf8(text):
        return None
    if first:
        if text in HEADER_SHAPES:
            return text
        try:
            fields = tuple(next(csv.reader([text], strict=True)))
        except (csv.Error, StopIteration):
            return None
        return {HEADER: HEADER_LINE, EXTENDED_HEADER: EXTENDED_HEADER_LINE}.get(fields)
    if fastpath.for_schema(schema, extended=extended).lines_problems((text,))[0] is None:
        return text  # valid lines are canonical: the common case, without building a Row
    row = schema.read_fields(text, formulas_as_text=True, extended=extended)
    return schema.format_line(row, extended=extended) if type(row) is Row else None


def header_shape(text: str) -> bool:
    """Whether a file whose first line is `text` is read in the extended shape: its header
    says so, or, without a header, the number of its fields does (as `check` reads it)."""
    found = HEADER_SHAPES.get(text)
    if found is not None:
        return found
    canonical = canonical_line(text, Schema(), first=True)
    if canonical is not None:
        return HEADER_SHAPES[canonical]
    try:
        return len(next(csv.reader([text]))) >= len(EXTENDED_HEADER)
    except (csv.Error, StopIteration):
        return False


def canonical_text(data: bytes, schema: Schema) -> str | None:
    """`data` as text if it is a canonical log already (the header, then valid rows, each line
    ending in a newline), else None. The common case, so it is checked the fast way: one regex
    pass over the rows and the secret screen (`FastPath.clean_end`), not line by line."""
    extended = data.startswith(_EXTENDED_HEADER_BYTES)
    if not (extended or data.startswith(_HEADER_BYTES)) or not data.endswith(b"\n"):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = len(_EXTENDED_HEADER_BYTES if extended else _HEADER_BYTES)
    fast = fastpath.for_schema(schema, extended=extended)
    return text if fast.clean_end(text, start) == len(text) else None


def canonical_after(data: bytes, start: int, schema: Schema) -> bool:
    """Whether the bytes of a file after its first `start` (whole lines that start with the
    header, known to be canonical: as they were committed) are canonical rows too, each ending
    in a newline: then `fmt` would leave the file as it is. The fast way, as `canonical_text`."""
    head = data[: data.find(b"\n") + 1]
    extended = head == _EXTENDED_HEADER_BYTES
    if not (extended or head == _HEADER_BYTES) or not data.endswith(b"\n"):
        return False
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return fastpath.for_schema(schema, extended=extended).clean_end(text) == len(text)


def read_lines(data: bytes, schema: Schema) -> list[Line]:
    """Every line of a file with its canonical form, in the shape its first line decides."""
    text = canonical_text(data, schema)
    if text is not None:
        return [Line(number, line, line) for number, line in enumerate(text[:-1].split("\n"), 1)]
    lines = split_lines(data)
    extended = header_shape(lines[0]) if lines else False
    return [
        Line(number, text, canonical_line(text, schema, first=number == 1, extended=extended))
        for number, text in enumerate(lines, start=1)
    ]


def line_key(line: Line) -> str:
    """What two versions of a line are compared by: the canonical form, or the text as stored.
    A row of the extended shape without extra values is keyed by its 8-column form (only
    such a line ends in four empty fields), so a row is keyed alike in files of both shapes."""
    canonical = line.canonical
    if canonical is None:
        return line.text
    return canonical[: -len(_NO_EXTRAS)] if canonical.endswith(_NO_EXTRAS) else canonical


def line_in_shape(key: str, extended: bool) -> str:
    """The canonical line of a row keyed `key` (of the 8-column shape, `line_key`) in a file of
    the extended shape: its four extra fields empty."""
    return key + _NO_EXTRAS if extended else key


def _is_utf8(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (kept by `split_lines` as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def row_keys(data: bytes, schema: Schema) -> list[str]:
    """The keys of a file's rows: every line's, but the header's (when line 1 is a header)."""
    lines = read_lines(data, schema)
    if lines and lines[0].canonical in HEADER_SHAPES:
        lines = lines[1:]
    return [line_key(line) for line in lines]
