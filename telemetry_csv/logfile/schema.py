"""The one definition of a usage row: its columns, each field's rule, the limits, the line format.

Everything that reads or writes the log (`log`, `check`, `report`, the hooks, the merge driver)
goes through `Schema`, so a rule changes here or nowhere. A row has exactly one stored form in a
file of each shape: the canonical line `format_line` writes. `check` accepts a line only if it is
that form.

Two shapes of file, told apart by their header (docs/format.md): the original eight columns
(`HEADER`), valid forever, and the extended header (`EXTENDED_HEADER`), which adds four optional
trailing columns (`EXTRA_COLUMNS`: `source`, `source_id`, `cache_read_tokens`,
`cache_write_tokens`). Every row of a file has its header's columns. A `Row` always carries the
four extra values (empty by default), so code that reads rows works on both shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Required, TypedDict, Unpack, cast

from telemetry_csv import characters, rfc3339, secrets_scan
from telemetry_csv.errors import InvalidValueError, describe_value

if TYPE_CHECKING:
    from datetime import datetime

HEADER = (
    "timestamp",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "task_success",
    "task_type",
    "duration_ms",
    "notes",
)
HEADER_LINE = ",".join(HEADER)
EXTRA_COLUMNS = ("source", "source_id", "cache_read_tokens", "cache_write_tokens")
EXTENDED_HEADER = (*HEADER, *EXTRA_COLUMNS)
EXTENDED_HEADER_LINE = ",".join(EXTENDED_HEADER)
# The header line of each shape, and whether it is the extended one.
HEADER_SHAPES = {HEADER_LINE: False, EXTENDED_HEADER_LINE: True}
DEFAULT_TASK_TYPES = ("plan", "execute", "verify", "discuss", "quick")

MODEL_MAX_CHARS = 128
NOTES_MAX_CHARS = 1000
COUNT_MAX_DIGITS = (
    15  # a quadrillion tokens or 31,000 years of milliseconds: anything longer is a typo
)
# Patterns are kept as text and compiled on first use (`_compiled`): compiling them all would
# cost `log` a large part of its start-up, and most are needed only for unusual values.
TASK_TYPE_NAME = r"[a-z][a-z0-9_-]{0,31}"
# `source`: what wrote the row (`run`, `usage-json`, `claude-code`…), a name like a task type.
SOURCE_NAME = TASK_TYPE_NAME
SOURCE_ID_MAX_CHARS = 128
# `source_id`: letters, digits and `._:-`, starting with a letter or digit (so never a formula).
SOURCE_ID = rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{SOURCE_ID_MAX_CHARS - 1}}}"
# Far above the longest canonical row (about 9 KiB with 1,000 four-byte characters of quoted
# notes), so a longer line is damage, and readers can refuse it without holding it in memory.
MAX_LINE_BYTES = 16 * 1024

TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0"})

# What `log` folds into a single space in notes: line breaks of every kind Python's
# `str.splitlines` knows, and tabs. Anything else below U+0020 is refused.
# Every character either class holds is one `str.isprintable` refuses, so printable text is
# decided without them (tests/test_schema.py checks every code point).
_FOLDED = r"[\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]+"
# Lone surrogates are no text (Python makes them from bytes that are not UTF-8, or from a JSON
# escape such as "\\ud800"); a file read as UTF-8 never holds one, so they are refused outright.
_NOTES_FORBIDDEN = r"[\x00-\x1f\x7f-\x9f\u2028\u2029" + characters.SURROGATES + "]"
# Also every character this class holds, but for the three printable ones named here.
_MODEL_FORBIDDEN = (
    r"[\s\x00-\x1f\x7f-\x9f,\"\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
    + characters.SURROGATES
    + "]"
)
_MODEL_FORBIDDEN_PRINTABLE = ' ,"'
# Newer rules (issue 12): every invisible character in a model name, and the bidirectional
# controls in notes, which reorder how a line shows in a terminal, a diff or a pull request
# (notes keep zero-width joiners and variation selectors: emoji are made of them). `log`
# refuses them; in a stored row they are warnings (`Schema.row_warnings`), because rows
# committed before the rule must not become a dead end: append-only forbids editing them.
_MODEL_INVISIBLE = characters.first_invisible
_NOTES_INVISIBLE = characters.first_bidi_control
_COUNT = re.compile(r"0|[1-9][0-9]*")

# Spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with one of these
# is run as a formula by Excel, LibreOffice and Google Sheets. Notes that start with them are
# stored behind one apostrophe, which spreadsheets show as text; a note that already starts
# with apostrophes followed by one of them gets one more, so reading strips exactly one and
# every note comes back exactly as given. Model names follow the same rule: Cloudflare's are
# named `@cf/…`.
# FORMULA_STARTS is the one list of these characters: neutralising, the line pattern and the
# report's CSV export all derive theirs from it.
FORMULA_STARTS = "=+-@\t\r"
_FORMULA_CLASS = f"[{re.escape(FORMULA_STARTS)}]"
_NEEDS_NEUTRALISING = re.compile(f"'*{_FORMULA_CLASS}")
_NEUTRALISED = re.compile(f"'+{_FORMULA_CLASS}")

COUNT_FIELDS = ("prompt_tokens", "completion_tokens", "duration_ms")
CACHE_FIELDS = ("cache_read_tokens", "cache_write_tokens")


class RowInput(TypedDict, total=False):
    """The values `Schema.normalise` (and so `log_row` and `log`) takes, by column name: every
    column; the timestamp defaults to now and the notes to none."""

    timestamp: object
    model: Required[object]
    prompt_tokens: Required[object]
    completion_tokens: Required[object]
    task_success: Required[object]
    task_type: Required[object]
    duration_ms: Required[object]
    notes: object
    source: object  # empty or None: a row typed by hand
    source_id: object
    cache_read_tokens: object  # None or empty: unknown
    cache_write_tokens: object


REQUIRED_INPUT = tuple(sorted(RowInput.__required_keys__, key=HEADER.index))


class Row(NamedTuple):
    """One usage row, with typed values."""

    timestamp: str  # RFC 3339, exactly as stored
    model: str
    prompt_tokens: int
    completion_tokens: int
    task_success: bool
    task_type: str
    duration_ms: int
    notes: str = ""
    # The extended header's columns; a row of an 8-column file has them empty.
    source: str = ""
    source_id: str = ""
    cache_read_tokens: int | None = None  # the part of prompt_tokens read from a cache
    cache_write_tokens: int | None = None  # the part of prompt_tokens written to a cache

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def has_extras(self) -> bool:
        """Whether any of the extended header's columns is set: such a row needs that header."""
        return bool(
            self.source
            or self.source_id
            or self.cache_read_tokens is not None
            or self.cache_write_tokens is not None
        )

    def when(self) -> datetime:
        return rfc3339.parse(self.timestamp)


class FieldProblem(NamedTuple):
    field: str  # a column name, or "line" for the line as a whole
    message: str
    warning: bool = False  # breaks only a rule newer than rows committed before it


class NormalisedRow(NamedTuple):
    row: Row
    notices: tuple[str, ...]  # what normalisation changed that the user should hear about


def count_allowed() -> str:
    return f"expected a non-negative whole number, digits only, at most {COUNT_MAX_DIGITS} digits, e.g. 1500"


def neutralise(value: str) -> str:
    """The stored form of a note: one apostrophe in front if a spreadsheet would see a formula."""
    return "'" + value if _NEEDS_NEUTRALISING.match(value) else value


def restore(stored: str) -> str:
    """The note as given, from its stored form (the inverse of `neutralise`)."""
    return stored[1:] if _NEUTRALISED.match(stored) else stored


def fold_notes(notes: str) -> tuple[str, int]:
    """Notes with each run of line breaks and tabs folded to one space, and how many runs there were."""
    if notes.isprintable():
        return notes, 0
    return _compiled(_FOLDED).subn(" ", notes)


def is_task_type_name(value: str) -> bool:
    """Whether `value` may name a task type (or a source): what a configured list is held to."""
    return _compiled(TASK_TYPE_NAME).fullmatch(value) is not None


@cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def parse_success(value: object) -> bool | None:
    """Friendly true/false input (`yes`, `no`, `1`, `0`…), or None when it is neither."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


class Schema:
    """The row rules for one repository: the fixed columns plus its configured task types."""

    def __init__(self, task_types: Iterable[str] = DEFAULT_TASK_TYPES):
        self.task_types = tuple(task_types)
        self._task_type_set = frozenset(self.task_types)

    # Stored values: strict. Each returns why a stored string is wrong, or None.

    def field_problem(self, field: str, value: str) -> str | None:
        if field == "timestamp":
            return rfc3339.problem(value)
        if field == "model":
            return model_problem(value)
        if field in COUNT_FIELDS:
            return count_problem(value)
        if field == "task_success":
            return None if value in ("true", "false") else "expected true or false"
        if field == "task_type":
            return self.task_type_problem(value)
        if field == "notes":
            return notes_problem(value)
        if field == "source":
            return source_problem(value)
        if field == "source_id":
            return source_id_problem(value)
        if field in CACHE_FIELDS:
            return None if value == "" else count_problem(value)
        raise KeyError(field)

    def task_type_problem(self, value: str) -> str | None:
        if value in self._task_type_set:
            return None
        return f"expected one of {'|'.join(self.task_types)}"

    # Input: friendly where unambiguous, then held to the stored rules.

    def normalise(self, **values: Unpack[RowInput]) -> NormalisedRow:
        """The canonical row for user-given values; raises InvalidValueError naming the first bad field."""
        unknown = sorted(set(values) - set(EXTENDED_HEADER))
        missing = [field for field in REQUIRED_INPUT if field not in values]
        if unknown or missing:  # what Python says of a call with wrong keyword arguments
            raise TypeError(
                f"unexpected keyword argument {unknown[0]!r}"
                if unknown
                else f"missing required keyword argument {missing[0]!r}"
            )
        model, task_success, task_type = (
            values["model"],
            values["task_success"],
            values["task_type"],
        )
        timestamp, notes = values.get("timestamp"), values.get("notes", "")
        notices: list[str] = []
        stamp = _normalise_timestamp(timestamp)
        self._require("timestamp", stamp, timestamp)

        model_text = str(model).strip() if model is not None else ""
        self._require("model", neutralise(model_text), model if model is not None else "")
        if neutralise(model_text) != model_text:
            notices.append(
                "model: stored with an apostrophe in front so that spreadsheets do not run it "
                "as a formula; reports show it as given"
            )

        given = cast(Mapping[str, object], values)
        counts = {field: normalise_count(field, given[field]) for field in COUNT_FIELDS}

        success = parse_success(task_success) if task_success is not None else None
        if success is None:
            raise InvalidValueError(
                "task_success", task_success, "expected true or false (also yes/no, y/n, 1/0)"
            )

        kind = str(task_type).strip().lower() if task_type is not None else ""
        problem = self.task_type_problem(kind)
        if problem:
            raise InvalidValueError("task_type", task_type, problem)

        note_text = "" if notes is None else str(notes)
        note_text, folds = fold_notes(note_text)
        if folds:
            notices.append(f"notes: folded {folds} line break(s) or tab(s) into spaces")
        stored_notes = neutralise(note_text)
        self._require("notes", stored_notes, notes)
        if stored_notes != note_text:
            notices.append(
                "notes: stored with an apostrophe in front so that spreadsheets do not run it "
                "as a formula; reports show it as given"
            )

        source = _optional_text(values.get("source"))
        self._require("source", source, values.get("source"))
        source_id = _optional_text(values.get("source_id"))
        self._require("source_id", source_id, values.get("source_id"))
        cache = [_normalise_cache(field, given.get(field)) for field in CACHE_FIELDS]
        row = Row(
            stamp,
            model_text,
            counts["prompt_tokens"],
            counts["completion_tokens"],
            success,
            kind,
            counts["duration_ms"],
            note_text,
            source,
            source_id,
            cache[0],
            cache[1],
        )
        mismatch = row_problem(row)
        if mismatch:
            raise InvalidValueError(mismatch.field, getattr(row, mismatch.field), mismatch.message)
        return NormalisedRow(row, tuple(notices))

    def _require(self, field: str, stored: str, given: object) -> None:
        problem = self.field_problem(field, stored) or invisible_problem(field, restore(stored))
        if problem:
            raise InvalidValueError(field, given, problem)

    def row_warnings(self, row: Row) -> list[FieldProblem]:
        """What a valid stored row breaks of the newer rules: warnings, for `check` to count."""
        found = []
        for field, value in (("model", row.model), ("notes", row.notes)):
            problem = invisible_problem(field, value)
            if problem:
                found.append(FieldProblem(field, problem, warning=True))
        return found

    # The line format.

    def format_line(self, row: Row, *, extended: bool | None = None) -> str:
        """The canonical CSV line for a row, without its newline. The row must be valid.

        `extended`: the shape of the file the line is for (its header decides). None: the
        shortest shape that holds the row, eight columns unless it has extra values, which is
        also what identifies a row whatever the shape of its file (`canonical.line_key`).
        ValueError for a row with extra values in an 8-column line: a writer starts a new file
        with the extended header instead.
        """
        notes = neutralise(row.notes)
        if "," in notes or '"' in notes:
            notes = '"' + notes.replace('"', '""') + '"'
        line = (
            f"{row.timestamp},{neutralise(row.model)},{row.prompt_tokens},{row.completion_tokens},"
            f"{'true' if row.task_success else 'false'},{row.task_type},{row.duration_ms},{notes}"
        )
        if extended is None:
            extended = row.has_extras
        elif not extended and row.has_extras:
            raise ValueError("a row with source or cache values needs the extended header")
        if not extended:
            return line
        read, write = row.cache_read_tokens, row.cache_write_tokens
        return (
            f"{line},{row.source},{row.source_id},{'' if read is None else read},"
            f"{'' if write is None else write}"
        )

    def parse_line(self, text: str, *, extended: bool = False) -> Row | list[FieldProblem]:
        """The row stored on one line (without its line ending) of a file of the given shape,
        or every problem with it: the authoritative, field-by-field reading, against which
        `fastpath` is tested."""
        row = self.read_fields(text, extended=extended)
        if isinstance(row, list):
            return row
        canonical = self.format_line(row, extended=extended)
        if canonical != text:
            return [
                FieldProblem(
                    "line",
                    "the values are valid but the quoting is not canonical "
                    f"(expected {describe_value(canonical, 80)}); rewrite it with `telemetry-csv fmt`",
                )
            ]
        return row

    def line_problems(self, text: str, *, extended: bool = False) -> list[FieldProblem] | None:
        """None for a valid line without warnings, else its problems (or its warnings)."""
        result = self.parse_line(text, extended=extended)
        if isinstance(result, Row):
            return self.row_warnings(result) or None
        return result

    def read_fields(
        self, text: str, *, formulas_as_text: bool = False, extended: bool = False
    ) -> Row | list[FieldProblem]:
        """The row a line holds however its fields are quoted (what `fmt` rewrites), or its problems.

        With `formulas_as_text`, a note or model name that a spreadsheet would run as a formula
        is read as the text it shows, so that `fmt` can store it neutralised; the value does not
        change. `extended`: the line is in a file with the extended header (12 fields).
        """
        import csv

        columns = EXTENDED_HEADER if extended else HEADER
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as error:
            return [
                FieldProblem(
                    "line",
                    f"malformed CSV ({error}); a row must be one line of {len(columns)} fields",
                )
            ]
        if len(fields) != len(columns):
            hint = " (an unquoted comma in notes?)" if len(fields) > len(columns) else ""
            if not extended and len(fields) == len(EXTENDED_HEADER):
                hint = " (a row of the extended header's shape in a file with the 8-column header)"
            elif extended and len(fields) == len(HEADER):
                hint = " (every row of a file with the extended header has its 12 columns)"
            return [
                FieldProblem("line", f"expected {len(columns)} fields, found {len(fields)}{hint}")
            ]
        if formulas_as_text:
            for index in (1, 7):
                if fields[index][:1] and fields[index][0] in FORMULA_STARTS:
                    fields[index] = neutralise(fields[index])
        problems = []
        for field, value in zip(columns, fields, strict=True):
            problem = self.field_problem(field, value)
            if problem:
                problems.append(
                    FieldProblem(field, f"{describe_value(value)} is not allowed; {problem}")
                )
        if problems:
            return problems
        row = Row(
            fields[0],
            restore(fields[1]),
            int(fields[2]),
            int(fields[3]),
            fields[4] == "true",
            fields[5],
            int(fields[6]),
            restore(fields[7]),
        )
        if not extended:
            return row
        row = row._replace(
            source=fields[8],
            source_id=fields[9],
            cache_read_tokens=int(fields[10]) if fields[10] else None,
            cache_write_tokens=int(fields[11]) if fields[11] else None,
        )
        mismatch = row_problem(row)
        return [mismatch] if mismatch else row


def row_problem(row: Row) -> FieldProblem | None:
    """What is wrong between a row's fields, each valid on its own: a `source_id` without a
    `source`, or cache parts larger than the `prompt_tokens` they are part of."""
    if row.source_id and not row.source:
        return FieldProblem(
            "source_id", "a source_id needs a source (what wrote the row, e.g. claude-code)"
        )
    cached = (row.cache_read_tokens or 0) + (row.cache_write_tokens or 0)
    if cached > row.prompt_tokens:
        return FieldProblem(
            "cache_read_tokens" if row.cache_read_tokens else "cache_write_tokens",
            f"cache_read_tokens + cache_write_tokens ({cached:,}) exceed prompt_tokens "
            f"({row.prompt_tokens:,}); the cache parts are parts of prompt_tokens, which "
            "counts every input token",
        )
    return None


def source_problem(value: str) -> str | None:
    if value == "" or _compiled(SOURCE_NAME).fullmatch(value):
        return None
    return (
        "expected empty (a row typed by hand) or a name such as run or claude-code "
        "(lower-case letters, digits, - and _, starting with a letter, at most 32 characters)"
    )


def source_id_problem(value: str) -> str | None:
    if value == "":
        return None
    if not _compiled(SOURCE_ID).fullmatch(value):
        return (
            f"expected empty or an id of at most {SOURCE_ID_MAX_CHARS} letters, digits and . _ : -, "
            "starting with a letter or digit"
        )
    secret = secrets_scan.find_secret(value)
    if secret:
        return secret.describe()
    return None


def model_problem(stored: str) -> str | None:
    """Why a stored model name is wrong; judged, like notes, without a neutralising apostrophe."""
    return _text_problem(
        stored,
        MODEL_MAX_CHARS,
        _MODEL_FORBIDDEN,
        _MODEL_FORBIDDEN_PRINTABLE,
        "character {char} at position {position}: a model name has no whitespace, control "
        "characters, commas or quotes",
        empty="expected a model name such as claude-3-opus; it must not be empty",
    )


def notes_problem(stored: str) -> str | None:
    """Why a stored note is wrong; length, characters and secrets are judged on the note as
    given, that is without the apostrophe that neutralises a formula."""
    return _text_problem(
        stored,
        NOTES_MAX_CHARS,
        _NOTES_FORBIDDEN,
        "",
        "control character {char} at position {position}; notes are one line of printable "
        "text (UTF-8)",
    )


def _text_problem(
    stored: str,
    most: int,
    forbidden: str,
    forbidden_printable: str,
    bad_character: str,
    *,
    empty: str | None = None,
) -> str | None:
    """Why a stored text field is wrong: a bare formula, empty (when `empty` says why), too
    long, a forbidden character (`forbidden`, a character class, whose printable characters are
    `forbidden_printable`; `bad_character` says which), or a credential, in that order."""
    if stored[:1] and stored[0] in FORMULA_STARTS:
        return _formula_problem(stored)
    value = restore(stored)
    if empty is not None and not value:
        return empty
    if len(value) > most:
        return f"at most {most} characters, found {len(value)}"
    if value.isprintable() and not any(char in value for char in forbidden_printable):
        bad = None  # `forbidden` holds no other printable character
    else:
        bad = _compiled(forbidden).search(value)
    if bad:
        return bad_character.format(char=repr(bad.group()), position=bad.start() + 1)
    secret = secrets_scan.find_secret(value)
    if secret:
        return secret.describe()
    return None


def invisible_problem(field: str, value: str) -> str | None:
    """Why `value` breaks the newer rule on invisible characters in `field`, or None."""
    first = _MODEL_INVISIBLE if field == "model" else _NOTES_INVISIBLE if field == "notes" else None
    found = first(value) if first is not None else None
    if found is None:
        return None
    import unicodedata  # only when a value is refused

    char = found.group()
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    if field == "model":
        why = (
            "a model name has no character that cannot be seen, so that two names that look "
            "the same are the same model"
        )
    else:
        why = "notes have no bidirectional control, which reorders how the text around it shows"
    return f"invisible character U+{ord(char):04X} ({name}) at position {found.start() + 1}: {why}"


def _formula_problem(stored: str) -> str:
    return (
        f"it starts with {stored[0]!r}, which a spreadsheet would run as a formula; store it "
        f"as {describe_value(neutralise(stored), 30)}, with an apostrophe in front, as "
        "`telemetry-csv log` does (reports show it without)"
    )


def count_problem(value: str) -> str | None:
    if not _COUNT.fullmatch(value):
        if value.isascii() and value.isdigit():
            return f"leading zeros are not canonical; write {int(value)}"
        return count_allowed()
    if len(value) > COUNT_MAX_DIGITS:
        return count_allowed()
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _normalise_timestamp(value: object) -> str:
    if value is None:
        return rfc3339.format_now()
    if isinstance(value, str):
        return rfc3339.normalise(value)
    from datetime import datetime  # only for callers passing datetimes; keeps start-up light

    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidValueError(
                "timestamp", value.isoformat(), "the offset is missing; " + rfc3339.ALLOWED
            )
        return value.isoformat()
    return rfc3339.normalise(str(value))


def _optional_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _normalise_cache(field: str, value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # unknown
    return normalise_count(field, value)


def normalise_count(field: str, value: object) -> int:
    """A count given as input (an int, or digits), or InvalidValueError naming `field`."""
    if _is_count(value):
        text = str(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        text = str(int(value))  # leading zeros are unambiguous in input, not in the file
    else:
        raise InvalidValueError(field, value, count_allowed())
    if count_problem(text):
        raise InvalidValueError(field, value, count_allowed())
    return int(text)
