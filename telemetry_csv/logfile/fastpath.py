"""The fast path: reading canonical lines of a schema in bulk, with regexes and one secret
screen per batch; `Schema.parse_line`, the field-by-field reading, alone decides what is valid.

`FastPath.clean_end` checks a whole run of lines with one regex call (`block_pattern`), and
the secret screen reads the run at once; `parse_lines` and `lines_problems` take a batch of
lines the same way. A line the patterns do not accept is handed to `Schema.parse_line`, which
says whether it is valid and why not; a credential ends a run so that the slow path reports
it. The tests hold every method here to the slow path's verdict (tests/test_properties.py,
tests/test_reading_blocks.py, tests/test_formula_injection.py).

Each shape of file has its own fast path (`for_schema(schema, extended=…)`): the extended
header's lines end in four more fields, and their cache parts must not exceed `prompt_tokens`,
which no pattern can compare, so lines with cache values are checked in Python after the pattern
(`_cache_excess`), and a line whose parts exceed it is left to the field-by-field reading.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from telemetry_csv import characters, compiled, rfc3339, secrets_scan
from telemetry_csv.logfile.schema import (
    COUNT_MAX_DIGITS,
    FORMULA_STARTS,
    MODEL_MAX_CHARS,
    NOTES_MAX_CHARS,
    SOURCE_ID_MAX_CHARS,
    FieldProblem,
    Row,
    Schema,
    restore,
)

_new_row = tuple.__new__
_NO_EXTRAS = ("", "", None, None)  # a row of an 8-column line
_CLEAN_MODELS_KEPT = 10_000  # distinct model names remembered as free of credentials
_BY_TASK_TYPES: dict[tuple[tuple[str, ...], bool], FastPath] = {}
# The extended header's last four fields, as `schema.source_problem`/`source_id_problem` and
# the count rule allow them; an id only after a source (the lookbehind sees a source's last
# character before the comma).
_SOURCE = "[a-z][a-z0-9_-]{0,31}+"
_ID = f"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{SOURCE_ID_MAX_CHARS - 1}}}+"
_SOURCE_ID = f"(?<=[a-z0-9_-],){_ID}"
# The shape of an importer's slice id (`YYYYMMDDTHHZ-` and 16 hex digits) in the source_id field.
_IMPORTER_ID = re.compile(r",[0-9]{8}T[0-9]{2}Z-[0-9a-f]{16},")
# The part of an importer's slice id in its own field that the secret screen would flag (its
# 16 hex digits, a run of token characters), with the `Z-` before it: the pattern starts with
# that literal and looks behind only once it is found, so one search over a run is cheap.
_IMPORTER_ID_TAIL = re.compile(rb"Z-[0-9a-f]{16}(?=,)(?<=,[0-9]{8}T[0-9]{2}Z-[0-9a-f]{16})")
# An importer's id, whole (see also `source_ids`, which packs ids of this shape).
IMPORTER_ID = re.compile(r"[0-9]{8}T[0-9]{2}Z-[0-9a-f]{16}")


def for_schema(schema: Schema, *, extended: bool = False) -> FastPath:
    """The fast path of a schema for one shape of file, made once per set of task types (which
    are part of the patterns), so every file read shares its compiled patterns and what the
    screen judged."""
    key = (schema.task_types, extended)
    found = _BY_TASK_TYPES.get(key)
    if found is None:
        found = _BY_TASK_TYPES[key] = FastPath(schema, extended=extended)
    return found


class FastPath:
    """The compiled patterns of one schema and shape of file, compiled on first use, and what
    the screen has already judged."""

    def __init__(self, schema: Schema, *, extended: bool = False):
        self.schema = schema
        self.extended = extended
        self._line_pattern: re.Pattern[str] | None = None
        self._line_screened: re.Pattern[str] | None = None
        self._clean_models: set[str] = set()  # model names the secret scan found nothing in
        self._block_pattern: re.Pattern[str] | None = None
        # The last run `clean_end` found a credential in: (text, start, end, starts of those lines).
        self._run_memo: tuple[str, int, int, list[int]] | None = None
        # The lines of the last extended run `clean_end` split: (text, start, end, lines).
        self._split: tuple[str, int, int, list[str]] | None = None

    def parse_lines(self, texts: Sequence[str]) -> list[Row | list[FieldProblem]]:
        """`Schema.parse_line` for many lines at once: the row pattern first, and the secret
        screen once over the whole batch, which is what keeps reading a large log fast."""
        results: list[Row | list[FieldProblem]] = []
        passed: list[int] = []  # lines the fast path accepted, to be screened for secrets
        models: list[str] = []
        notes: list[str] = []
        match_canonical = self.match_canonical
        extended = self.extended
        for index, text in enumerate(texts):
            row = match_canonical(text)
            if row is None:
                results.append(self.schema.parse_line(text, extended=extended))
            else:
                passed.append(index)
                results.append(row)
                models.append(row.model)
                # The source_id is screened with the notes (a space cannot be part of a key).
                notes.append(
                    f"{row.notes} {_screened_id(row.source_id)}" if extended else row.notes
                )
        for hit in self.screen(models, notes):
            results[passed[hit]] = self.schema.parse_line(texts[passed[hit]], extended=extended)
        return results

    def screen(self, models: list[str], notes: list[str]) -> set[int]:
        """Which of these lines might hold a credential in their model or notes. A log has few
        distinct models, each judged once and remembered; notes go through the cheap screen."""
        suspects = secrets_scan.screen(notes)
        unseen = set(models) - self._clean_models
        dirty = set()
        for model in unseen:
            if secrets_scan.find_secret(model):
                dirty.add(model)
            elif len(self._clean_models) < _CLEAN_MODELS_KEPT:
                self._clean_models.add(model)
        if dirty:
            suspects.update(index for index, model in enumerate(models) if model in dirty)
        return suspects

    def match_canonical(self, text: str) -> Row | None:
        """The row of a canonical, valid line, or None to ask `Schema.parse_line`."""
        match = self.line_pattern.fullmatch(text)
        if match is None:
            return None
        fields = match.groups()
        if self.extended and (fields[10] or fields[11]) and _cache_excess(fields):
            return None
        return stored_row(fields)

    def lines_problems(self, texts: Sequence[str]) -> list[list[FieldProblem] | None]:
        """`Schema.line_problems` for many lines, with one secret screen over the batch."""
        results: list[list[FieldProblem] | None] = [None] * len(texts)
        passed: list[int] = []  # lines the fast path accepted, to be screened for secrets
        models: list[str] = []
        notes: list[str] = []
        extended = self.extended
        for index, match in enumerate(map(self.line_screened.fullmatch, texts)):
            if match is None or (extended and _line_cache_excess(texts[index])):
                results[index] = self.schema.line_problems(texts[index], extended=extended)
            else:
                passed.append(index)
                models.append(match[1])
                notes.append(match[2] + _IMPORTER_ID.sub(",,", match[3]) if extended else match[2])
        for hit in self.screen(models, notes):
            results[passed[hit]] = self.schema.line_problems(texts[passed[hit]], extended=extended)
        return results

    @property
    def line_pattern(self) -> re.Pattern[str]:
        """A pattern that only canonical, valid lines match: the fast path of `parse_line`."""
        if self._line_pattern is None:
            self._line_pattern = re.compile(
                line_pattern_source(self.schema.task_types, extended=self.extended)
            )
        return self._line_pattern

    @property
    def line_screened(self) -> re.Pattern[str]:
        """`line_pattern` capturing only the model and the notes, for the secret screen."""
        if self._line_screened is None:
            self._line_screened = re.compile(
                line_pattern_source(
                    self.schema.task_types, capture=False, screened=True, extended=self.extended
                )
            )
        return self._line_screened

    @property
    def block_pattern(self) -> re.Pattern[str]:
        """Whole lines, each matching `line_pattern` without its groups (which the regex engine
        runs faster) and ending in a newline. Made from the source, not from a compiled line
        pattern: nothing else matches single lines without groups, and compiling one costs a
        hook a tenth of its own work."""
        if self._block_pattern is None:
            shape = line_pattern_source(
                self.schema.task_types, capture=False, extended=self.extended
            )
            self._block_pattern = re.compile(f"(?:{shape}\n)*+")
        return self._block_pattern

    def clean_end(self, text: str, start: int = 0, data: bytes | None = None) -> int:
        """Where the run of whole lines from `start` (a line's first character) that are all
        canonical, valid rows ends: just after the last of them, or `start` if there is none.
        `data`, if given, is `text` encoded (as read), which the secret screen then reads as it
        is rather than encoding the run again.

        The fast path for big logs: one regex call checks a run of thousands of lines, and the
        secret screen reads the whole run at once (see `_secret_lines`). A line it stops at may
        still be valid (`parse_line` says), only not in the pattern's reach; a line that holds a
        credential ends the run, so that `parse_line` reports it.
        """
        memo = self._run_memo
        if memo is not None and memo[0] is text and memo[1] <= start < memo[2]:
            # Lines after a credential, in a run already screened: neither the pattern nor the
            # screen reads the rest of the run again, so a file of such lines stays linear.
            end, secrets = memo[2], memo[3]
        else:
            end = self.block_pattern.match(text, start).end()  # type: ignore[union-attr]
            if end == start:
                return start
            whole = data is not None and start == 0 and end == len(text)
            secrets = self._secret_lines(text, start, end, data if whole else None)
            if self.extended:
                excess = _compiled_excess(text, start, end)
                if excess is None:
                    excess, lines = _cache_excess_lines(text, start, end)
                    self._split = (text, start, end, lines)
                if excess:
                    secrets = sorted({*secrets, *excess})
            if not secrets:
                return end
            self._run_memo = (text, start, end, secrets)
        index = bisect_left(secrets, start)
        return secrets[index] if index < len(secrets) else end

    def split_lines(self, text: str, start: int, end: int) -> list[str] | None:
        """The lines of `text[start:end]` (whole lines) if `clean_end` split exactly that run
        already, else None; handed over once."""
        split = self._split
        if split is None or split[0] is not text or split[1:3] != (start, end):
            return None
        self._split = None
        return split[3]

    def _secret_lines(self, text: str, start: int, end: int, data: bytes | None) -> list[int]:
        """Where the lines of the run `text[start:end]` (`data`: the run encoded, if at hand)
        that hold a credential start. The screen reads the whole run in C; the lines it flags
        have their model and notes (and id) screened on their own (a long task type or
        timestamp is no secret), and those left are judged field by field."""
        run = text[start:end].encode("utf-8", "surrogateescape") if data is None else data
        if self.extended:
            # An importer's slice id ends in 16 hex digits, which the screen would flag on every
            # line; that shape is no credential (every credential shape starts with a literal
            # prefix), so the screen reads the run without it: one search in C rather than a
            # Python call per id. Lines stay where they were (no line break is taken out).
            run = _IMPORTER_ID_TAIL.sub(b"", run)
        flagged = secrets_scan.screen_lines(run)
        if not flagged:
            return []
        lines = text[start:end].split("\n")
        starts: list[int] = []
        suspects: list[str] = []
        models: list[str] = []
        notes: list[str] = []
        position, index = start, 0
        for number in sorted(flagged):
            while index < number:
                position += len(lines[index]) + 1
                index += 1
            line = lines[number]
            if self.extended:
                head, _, source_id, _, _ = line.rsplit(",", 4)
                fields = head.split(",", 7)
                fields[7] += " " + _screened_id(source_id)  # a space is part of no key
            else:
                fields = line.split(",", 7)
            starts.append(position)
            suspects.append(line)
            models.append(fields[1])
            notes.append(fields[7])
        return [
            starts[hit]
            for hit in sorted(self.screen(models, notes))
            if type(self.schema.parse_line(suspects[hit], extended=self.extended)) is not Row
        ]

    def rows_of(self, text: str) -> list[Row]:
        """The rows of `text`, whole lines that `clean_end` accepted: each is split on its first
        seven commas, which canonical lines allow (and, in the extended shape, on its last four)."""
        if not text:
            return []
        if self.extended:
            return [extended_row(line) for line in text[:-1].split("\n")]
        return [stored_row(line.split(",", 7)) for line in text[:-1].split("\n")]

    def parse_block(self, text: str) -> list[Row] | None:
        """The rows of `text`, whole lines each ending in a newline, when every line is a
        canonical, valid row the fast path knows; None otherwise (`Schema.parse_line` then tells)."""
        return self.rows_of(text) if self.clean_end(text) == len(text) else None

    def count_block(self, text: str) -> int | None:
        """`parse_block`'s verdict as a number of lines, without building the rows (`check`)."""
        return text.count("\n") if self.clean_end(text) == len(text) else None


def stored_row(fields: Sequence[Any]) -> Row:
    """The Row of a canonical line's eight fields (or twelve, matched by the extended pattern,
    None for an empty one), as the fast paths split or matched them."""
    if len(fields) == 8:
        stamp, model, prompt, completion, success, kind, duration, notes = fields
        extras: tuple[object, ...] = _NO_EXTRAS
    else:
        stamp, model, prompt, completion, success, kind, duration, notes, *rest = fields
        source, source_id, read, write = rest
        extras = (
            source or "",
            source_id or "",
            int(read) if read else None,
            int(write) if write else None,
        )
    if model[0] == "'":
        model = model[1:]  # neutralised: the patterns only let one `'` before FORMULA_STARTS
    if notes[:1] == '"':  # quoted because it holds a comma or a quote (the patterns require it)
        notes = notes[1:-1].replace('""', '"')
    if notes[:1] == "'":
        notes = restore(notes)  # perhaps neutralised: `'=…` (the patterns let no bare `=…` in)
    # tuple.__new__ skips NamedTuple's Python-level __new__, a large part of the cost per row.
    return _new_row(
        Row,
        (
            stamp,
            model,
            int(prompt),
            int(completion),
            success == "true",
            kind,
            int(duration),
            notes,
            *extras,
        ),
    )


def _screened_id(source_id: str) -> str:
    """What of a source_id the secret screen reads: nothing of an importer's slice id."""
    return "" if IMPORTER_ID.fullmatch(source_id) else source_id


def extended_row(line: str) -> Row:
    """The Row of a canonical line of the extended shape: its last four fields hold no comma."""
    head, source, source_id, read, write = line.rsplit(",", 4)
    return stored_row((*head.split(",", 7), source, source_id, read, write))


def _cache_excess(fields: Sequence[str | None]) -> bool:
    """Whether a matched extended line's cache parts exceed its prompt tokens."""
    return int(fields[10] or 0) + int(fields[11] or 0) > int(fields[2])  # type: ignore[arg-type]


def _line_cache_excess(line: str) -> bool:
    """`_cache_excess` of a line that matched the extended shape."""
    _, read, write = line.rsplit(",", 2)
    return bool(read or write) and int(read or 0) + int(write or 0) > int(line.split(",", 3)[2])


def _compiled_excess(text: str, start: int, end: int) -> list[int] | None:
    """The first part of `_cache_excess_lines`, compiled (`_extended.c`), where it is built
    and wanted (`telemetry_csv.compiled`); None when it is not, or the run is not of the shape
    it reads (then the reference reads it)."""
    module = compiled.load("telemetry_csv.logfile._extended")
    return None if module is None else module.excess(text, start, end)


def _cache_excess_lines(text: str, start: int, end: int) -> tuple[list[int], list[str]]:
    """Where the lines of the run `text[start:end]` (whole extended lines) whose cache parts
    exceed their prompt tokens start, and the run's lines. A line without cache parts ends in
    two empty fields and is passed over at once; where a line starts is reckoned only for the
    rare line that exceeds."""
    lines = text[start : end - 1].split("\n")
    excess = []
    for line in lines:
        if line[-2:] != ",,":
            _, read, write = line.rsplit(",", 2)
            if int(read or 0) + int(write or 0) > int(line.split(",", 3)[2]):
                excess.append(line)
    if not excess:
        return [], lines
    wanted = {id(line) for line in excess}  # the very objects: equal lines may differ in place
    found = []
    position = start
    for line in lines:
        if id(line) in wanted:
            found.append(position)
        position += len(line) + 1
    return found, lines


def line_pattern_source(
    task_types: Iterable[str],
    *,
    capture: bool = True,
    screened: bool = False,
    extended: bool = False,
) -> str:
    """The whole-line pattern of a canonical, valid row (see the class docstrings).

    Every repetition is possessive (`*+`, `{m,n}+`) where what follows it cannot be what it
    repeats (a field ends at a comma, a line at a newline): the regex engine then never tries
    shorter matches, which makes the pattern about twice as fast and changes nothing it accepts.
    """
    group = "(" if capture else "(?:"
    text_group = "(" if capture or screened else "(?:"  # model and notes, for the secret screen
    count = rf"{group}0|[1-9][0-9]{{0,{COUNT_MAX_DIGITS - 1}}}+)"
    # A value whose first character a spreadsheet would read as a formula is left to the
    # field-by-field path (the model's neutralised form aside, below); excluding it with a
    # first-character class rather than a lookahead keeps this pattern fast.
    formula = "".join(c for c in FORMULA_STARTS if c >= " ")  # tab and CR are controls anyway
    # Model: printable ASCII without space, quote and comma.
    model_chars = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",')
    first = "".join(c for c in model_chars if c not in FORMULA_STARTS + "'")
    # A model name a spreadsheet would run is stored neutralised (`'@cf/meta/llama-3-8b`): that
    # exact form, one apostrophe and then the formula character, is let through here, so such
    # names keep the fast path. A name given with apostrophes of its own (`''=x` stored) is
    # left to the field-by-field path, which counts its length without the one added.
    model = (
        rf"{text_group}(?:[{re.escape(first)}]|'[{re.escape(formula)}])"
        rf"[{re.escape(model_chars)}]{{0,{MODEL_MAX_CHARS - 1}}}+)"
    )
    # Bidirectional controls are left to the field-by-field path, which warns about them.
    controls = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + characters.BIDI_CONTROLS
    plain = rf"\",{controls}"
    quoted = rf"\"{controls}"
    most = NOTES_MAX_CHARS - 1
    # Notes. Plain: no comma or quote, not starting with a formula character; one that starts
    # with apostrophes is its own stored form (`restore` takes one off only before a formula
    # character, which `neutralise` puts back), and is at most as long stored as given.
    # Quoted: canonical only when it holds a comma or a (doubled) quote, which the part before
    # the first of them must reach; any first character but a formula one (a doubled quote
    # too). Its length is bounded by the rest of the line: at most NOTES_MAX_CHARS stored
    # characters and the closing quote, the extended shape's last fields included (a longer
    # line is left to the field-by-field path).
    notes = (
        rf"{text_group}(?:[^{plain}{re.escape(formula)}][^{plain}]{{0,{most}}}+)?"
        rf"|\"(?![{re.escape(formula)}])(?=[^\n]{{0,{NOTES_MAX_CHARS + 1}}}+(?:\n|\Z))"
        rf"[^{plain}]*+(?:,|\"\")(?:[^{quoted}]++|\"\")*+\")"
    )
    kinds = "|".join(re.escape(kind) for kind in sorted(task_types, key=len, reverse=True))
    tail = ""
    if extended:
        # source, source_id, cache_read_tokens, cache_write_tokens; each may be empty. Captured
        # one by one for rows, or whole (the id is screened with the notes) for the screen.
        if capture:
            tail = rf",({_SOURCE})?,({_SOURCE_ID})?,(?:{count})?,(?:{count})?"
        else:
            # The same fields without the lookbehind: a source and its comma, then perhaps an
            # id; or no source, and no id.
            bare = rf"(?:0|[1-9][0-9]{{0,{COUNT_MAX_DIGITS - 1}}}+)"
            tail = rf",(?:{_SOURCE},(?:{_ID})?|,),{bare}?,{bare}?"
            if screened:
                tail = f"({tail})"
    return (
        rf"{group}{rfc3339.CANONICAL_PATTERN}),{model},{count},{count},"
        rf"{group}true|false),{group}{kinds}),{count},{notes}{tail}"
    )
