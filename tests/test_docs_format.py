"""docs/format.md: its example rows are a valid log, and every column it documents exists."""

from __future__ import annotations

from pathlib import Path

from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.reading import read_rows
from telemetry_csv.logfile.schema import EXTENDED_HEADER, Schema

FORMAT = Path(__file__).parent.parent / "docs" / "format.md"


def test_the_example_is_a_valid_log(tmp_path: Path) -> None:
    text = FORMAT.read_text()
    section = text[text.index("An example of each kind of row") :].split("\n\n")[1]
    lines = [line.removeprefix("    ") for line in section.splitlines()]
    assert lines[0] == ",".join(EXTENDED_HEADER)
    path = tmp_path / "usage.csv"
    path.write_text("".join(f"{line}\n" for line in lines))
    assert check_files([path], Schema()).ok
    sources = [row.source for row in read_rows([path])]
    assert sources == ["", "usage-json", "run", "claude-code"]


def test_every_column_is_documented() -> None:
    text = FORMAT.read_text()
    for column in EXTENDED_HEADER:
        assert f"| `{column}` |" in text or f"`{column}`" in text, column
