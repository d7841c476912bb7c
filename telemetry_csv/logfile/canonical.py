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
from telemetry_csv.logfile.schema import HEADER, HEADER_LINE, Row, Schema

_HEADER_BYTES = f"{HEADER_LINE}\n".encode()


class Line(NamedTuple):
    number: int  # 1-based
    text: str  # as stored, without its line ending (and without a BOM on line 1)
    canonical: str | None  # the canonical form, or None when the line cannot be read as one


def canonical_line(text: str, schema: Schema, *, first: bool) -> str | None:
    """The canonical form of one line: the header on line 1, a row elsewhere; None if neither."""
    if not text.isascii() and not _is_utf8(text):
        return None
    if first:
        if text == HEADER_LINE:
            return text
        try:
            fields = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration):
            return None
        return HEADER_LINE if tuple(fields) == HEADER else None
    fast = fastpath.for_schema(schema)
    match = fast.line_screened.fullmatch(text)
    if match is not None and not fast.screen([match[1]], [match[2]]):
        return text  # valid lines are canonical: the common case, without building a Row
    # Anything else is read once, field by field (a damaged file has many such lines).
    row = schema.read_fields(text, formulas_as_text=True)
    return schema.format_line(row) if type(row) is Row else None


def canonical_text(data: bytes, schema: Schema) -> str | None:
    """`data` as text if it is a canonical log already (the header, then valid rows, each line
    ending in a newline), else None. The common case, so it is checked the fast way: one regex
    pass over the rows and the secret screen (`FastPath.clean_end`), not line by line."""
    if not data.startswith(_HEADER_BYTES) or not data.endswith(b"\n"):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return (
        text
        if fastpath.for_schema(schema).clean_end(text, len(_HEADER_BYTES)) == len(text)
        else None
    )


def read_lines(data: bytes, schema: Schema) -> list[Line]:
    """Every line of a file with its canonical form."""
    text = canonical_text(data, schema)
    if text is not None:
        return [Line(number, line, line) for number, line in enumerate(text[:-1].split("\n"), 1)]
    return [
        Line(number, text, canonical_line(text, schema, first=number == 1))
        for number, text in enumerate(split_lines(data), start=1)
    ]


def line_key(line: Line) -> str:
    """What two versions of a line are compared by: the canonical form, or the text as stored."""
    return line.canonical if line.canonical is not None else line.text


def _is_utf8(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (kept by `split_lines` as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def row_keys(data: bytes, schema: Schema) -> list[str]:
    """The keys of a file's rows: every line's, but the header's (when line 1 is the header)."""
    lines = read_lines(data, schema)
    if lines and lines[0].canonical == HEADER_LINE:
        lines = lines[1:]
    return [line_key(line) for line in lines]
