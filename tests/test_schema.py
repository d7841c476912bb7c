"""Each field's rule, as accepted and refused values, for input (`normalise`) and for the file."""

from __future__ import annotations

import csv
import io
import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv.errors import InvalidValueError
from telemetry_csv.logfile import schema
from telemetry_csv.logfile.schema import (
    HEADER,
    NOTES_MAX_CHARS,
    FieldProblem,
    Row,
    Schema,
    neutralise,
)

SCHEMA = Schema()
GOOD = dict(
    timestamp="2026-02-23T22:19:12+01:00",
    model="claude-3-opus",
    prompt_tokens="1500",
    completion_tokens="3200",
    task_success="true",
    task_type="execute",
    duration_ms="45000",
    notes="Phase 6 tests",
)


def normalise(**changes: object) -> Row:
    return SCHEMA.normalise(**{**GOOD, **changes}).row


@pytest.mark.parametrize(
    "model",
    ["claude-3-opus", "openai/gpt-4o", "llama3.1:70b", "claude-sonnet-4-20250514", "x", "m" * 128],
)
def test_real_model_names_pass(model: str) -> None:
    assert normalise(model=model).model == model


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("", "must not be empty"),
        ("claude 3", "whitespace"),
        ("claude\t3", "whitespace"),
        ("claude\u00a03", "whitespace"),  # no-break space
        ("gpt,4", "commas"),
        ('gpt"4', "quotes"),
        ("gpt\x07", "control"),
        ("gpt\u200b4", "control"),  # zero-width space hides in a name
        ("m" * 129, "at most 128"),
    ],
)
def test_bad_model_names_are_refused(model: str, reason: str) -> None:
    with pytest.raises(InvalidValueError) as raised:
        normalise(model=model)
    assert raised.value.field == "model"
    assert reason in str(raised.value)


def test_model_input_is_trimmed() -> None:
    assert normalise(model="  claude-3-opus \n").model == "claude-3-opus"


@pytest.mark.parametrize("field", ["prompt_tokens", "completion_tokens", "duration_ms"])
@pytest.mark.parametrize(
    ("given", "stored"),
    [("0", 0), ("1500", 1500), (" 42 ", 42), ("007", 7), (12, 12), ("9" * 15, int("9" * 15))],
)
def test_counts_accepted(field: str, given: object, stored: int) -> None:
    assert getattr(normalise(**{field: given}), field) == stored


@pytest.mark.parametrize("field", ["prompt_tokens", "completion_tokens", "duration_ms"])
@pytest.mark.parametrize(
    "given", ["-1", "1,500", "1.5", "1e3", "", "abc", "١٢", "²", "9" * 16, -1, 1.5, True, None]
)
def test_counts_refused(field: str, given: object) -> None:
    with pytest.raises(InvalidValueError) as raised:
        normalise(**{field: given})
    assert raised.value.field == field
    assert "non-negative whole number" in str(raised.value)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("y", True),
        ("1", True),
        (True, True),
        ("false", False),
        ("No", False),
        ("0", False),
        (False, False),
    ],
)
def test_success_accepted(given: object, stored: bool) -> None:
    assert normalise(task_success=given).task_success is stored


@pytest.mark.parametrize("given", ["maybe", "", "ok", "2", None])
def test_success_refused(given: object) -> None:
    with pytest.raises(InvalidValueError, match=r"task_success: .* expected true or false"):
        normalise(task_success=given)


@pytest.mark.parametrize(
    "given", ["plan", "execute", "verify", "discuss", "quick", "Plan", " quick "]
)
def test_default_task_types_accepted(given: str) -> None:
    assert normalise(task_type=given).task_type == given.strip().lower()


@pytest.mark.parametrize("given", ["deploy", "", "plan,execute", None])
def test_task_type_refused_lists_what_is_allowed(given: object) -> None:
    with pytest.raises(InvalidValueError, match=r"expected one of plan\|execute\|verify"):
        normalise(task_type=given)


def test_configured_task_types_replace_the_defaults() -> None:
    schema = Schema(["review", "deploy"])
    assert schema.normalise(**{**GOOD, "task_type": "deploy"}).row.task_type == "deploy"
    with pytest.raises(InvalidValueError, match=r"expected one of review\|deploy"):
        schema.normalise(**GOOD)


@pytest.mark.parametrize(
    ("given", "stored", "folds"),
    [
        ("", "", 0),
        ("a, b", "a, b", 0),
        ('say "hi"', 'say "hi"', 0),
        ("line one\nline two", "line one line two", 1),
        ("crlf\r\nand\ttab", "crlf and tab", 2),
        ("para\u2028sep\x85nel", "para sep nel", 2),
        ("é ü 漢字 🙂", "é ü 漢字 🙂", 0),
        ("x" * NOTES_MAX_CHARS, "x" * NOTES_MAX_CHARS, 0),
        (None, "", 0),
    ],
)
def test_notes_kept_exactly_except_line_breaks(given: object, stored: str, folds: int) -> None:
    normalised = SCHEMA.normalise(**{**GOOD, "notes": given})
    assert normalised.row.notes == stored
    assert len(normalised.notices) == (1 if folds else 0)
    if folds:
        assert f"folded {folds}" in normalised.notices[0]


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("x" * (NOTES_MAX_CHARS + 1), "at most 1000"),
        ("bell\x07", "control character"),
        ("nul\x00", "control"),
    ],
)
def test_notes_refused(given: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        normalise(notes=given)


def test_timestamp_input_is_friendly_but_stored_canonical() -> None:
    assert normalise(timestamp="2026-02-23t22:19:12z").timestamp == "2026-02-23T22:19:12Z"
    with pytest.raises(InvalidValueError, match="timestamp: '2026-02-23 22:19:12'"):
        normalise(timestamp="2026-02-23 22:19:12")


def test_timestamp_defaults_to_now() -> None:
    row = SCHEMA.normalise(**{**GOOD, "timestamp": None}).row
    assert SCHEMA.field_problem("timestamp", row.timestamp) is None


def test_error_is_one_line_naming_field_value_and_rule() -> None:
    with pytest.raises(InvalidValueError) as raised:
        normalise(prompt_tokens="1,500")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("prompt_tokens: '1,500' is not allowed; expected")


# The stored form.

LINE = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,Phase 6 tests"


def test_a_canonical_line_parses_to_its_row() -> None:
    assert SCHEMA.parse_line(LINE) == Row(
        "2026-02-23T22:19:12+01:00",
        "claude-3-opus",
        1500,
        3200,
        True,
        "execute",
        45000,
        "Phase 6 tests",
    )


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    [
        (LINE.replace(",1500,", ",01500,"), "prompt_tokens", "leading zeros"),
        (LINE.replace(",true,", ",True,"), "task_success", "true or false"),
        (LINE.replace(",true,", ",yes,"), "task_success", "true or false"),
        (LINE.replace("+01:00", ""), "timestamp", "offset is missing"),
        (LINE.replace(",execute,", ",deploy,"), "task_type", "expected one of"),
        (LINE + ",extra", "line", "found 9"),
        (LINE.rsplit(",", 1)[0], "line", "found 7"),
        (LINE.replace("Phase 6 tests", '"unterminated'), "line", "malformed CSV"),
        (LINE.replace("Phase 6 tests", '"no comma needs no quotes"'), "line", "not canonical"),
        (LINE.replace("Phase 6 tests", "tab\there"), "notes", "control character"),
    ],
)
def test_bad_stored_lines_name_the_field(line: str, field: str, fragment: str) -> None:
    problems = SCHEMA.parse_line(line)
    assert isinstance(problems, list)
    assert [p.field for p in problems] == [field]
    assert fragment in problems[0].message


def test_every_bad_field_is_reported() -> None:
    line = "2026-02-30T00:00:00Z,,x,y,maybe,deploy,-1,ok"
    problems = SCHEMA.parse_line(line)
    assert isinstance(problems, list)
    assert [p.field for p in problems] == list(HEADER[:7])
    assert all(isinstance(p, FieldProblem) for p in problems)


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)


@given(
    model=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,40}", fullmatch=True),
    prompt=st.integers(0, 10**15 - 1),
    completion=st.integers(0, 10**15 - 1),
    success=st.booleans(),
    task_type=st.sampled_from(["plan", "execute", "verify", "discuss", "quick"]),
    duration=st.integers(0, 10**15 - 1),
    notes=texts,
)
def test_round_trip_and_csv_module_agreement(
    model: str,
    prompt: int,
    completion: int,
    success: bool,
    task_type: str,
    duration: int,
    notes: str,
) -> None:
    try:
        normalised = SCHEMA.normalise(
            timestamp="2026-02-23T22:19:12.5-03:30",
            model=model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            task_success=success,
            task_type=task_type,
            duration_ms=duration,
            notes=notes,
        )
    except InvalidValueError as error:
        assert error.field == "notes"  # only notes can hold refused characters here
        return
    row = normalised.row
    line = SCHEMA.format_line(row)
    assert "\n" not in line and "\r" not in line
    assert SCHEMA.parse_line(line) == row
    # The hand-written formatter writes exactly what the csv module would write for the
    # stored values.
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [
            row.timestamp,
            neutralise(row.model),
            row.prompt_tokens,
            row.completion_tokens,
            "true" if row.task_success else "false",
            row.task_type,
            row.duration_ms,
            neutralise(row.notes),  # the stored form: formulas behind an apostrophe
        ]
    )
    assert buffer.getvalue() == line + "\n"


@pytest.mark.parametrize(
    ("character_class", "printable"),
    [
        (schema._FOLDED, ""),
        (schema._NOTES_FORBIDDEN, ""),
        (schema._MODEL_FORBIDDEN, schema._MODEL_FORBIDDEN_PRINTABLE),
    ],
)
def test_printable_text_needs_no_character_class(character_class: str, printable: str) -> None:
    """`fold_notes` and the notes and model rules skip their regex for printable text: that is
    exact only if every character the class holds is refused by `str.isprintable` or named."""
    pattern = re.compile(character_class)
    held = [
        character for character in map(chr, range(sys.maxunicode + 1)) if pattern.match(character)
    ]
    assert held
    assert [c for c in held if c.isprintable() and c not in printable] == []
    assert all(pattern.match(c) for c in printable)
