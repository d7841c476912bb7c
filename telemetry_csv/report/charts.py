"""Mermaid charts, which GitHub draws from a ```mermaid block in Markdown.

`xychart-beta` (the name GitHub's Mermaid knows): daily tokens as bars, weekly success rate as a
line. Labels are days and ISO weeks, quoted; values are plain numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_csv.report.data import Group
from telemetry_csv.report.numbers import percent_number


def daily_tokens_chart(days: Sequence[Group[str]]) -> str:
    labels = ", ".join(f'"{group.key}"' for group in days)
    values = ", ".join(str(group.stats.total_tokens) for group in days)
    return _block(
        "xychart-beta",
        '    title "Tokens per day"',
        f"    x-axis [{labels}]",
        '    y-axis "Tokens"',
        f"    bar [{values}]",
    )


def weekly_success_chart(weeks: Sequence[Group[str]]) -> str:
    labels = ", ".join(f'"{group.key}"' for group in weeks)
    values = ", ".join(percent_number(group.stats.successes, group.stats.runs) for group in weeks)
    return _block(
        "xychart-beta",
        '    title "Success rate per ISO week (%)"',
        f"    x-axis [{labels}]",
        '    y-axis "Success rate (%)" 0 --> 100',
        f"    line [{values}]",
    )


def _block(*lines: str) -> str:
    return "```mermaid\n" + "\n".join(lines) + "\n```"
