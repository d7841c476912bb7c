"""The JSON of the shell script telemetry-csv replaces (`telemetry-report.sh json`), from the
report's data: `summary` and `by_task_type`, with the old keys and the old number formats, so
that scripts reading it keep working (`report --format legacy-json`, and the compatibility
wrapper `scripts/telemetry-report.sh json`). docs/migrate.md lists how it differs: which rows
are counted (the log, its backups and shards, each row once, not the lines of one file) and
what an empty log gives."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_csv.report.data import Report


def render_legacy_json(report: Report, task_types: Sequence[str]) -> str:
    """The old script's document, laid out as it printed it. Its numbers were printed with C's
    `%.1f` and `%.0f` (round half to even on the binary value), which Python's formatting of a
    float does alike; without rows, the rate and the mean are null (the old script printed no
    JSON at all then)."""
    totals = report.totals
    runs = totals.runs
    rate = f"{totals.successes / runs * 100:.1f}" if runs else "null"
    mean = f"{totals.durations.total / runs:.0f}" if runs else "null"
    counts = {group.key: group.stats.runs for group in report.by_task_type}
    kinds = [*task_types, *(kind for kind in counts if kind not in task_types)]
    by_type = ",\n".join(f'    "{kind}": {counts.get(kind, 0)}' for kind in kinds)
    return (
        "{\n"
        '  "summary": {\n'
        f'    "total_entries": {runs},\n'
        f'    "total_prompt_tokens": {totals.prompt_tokens},\n'
        f'    "total_completion_tokens": {totals.completion_tokens},\n'
        f'    "total_tokens": {totals.prompt_tokens + totals.completion_tokens},\n'
        f'    "success_rate_percent": {rate},\n'
        f'    "average_duration_ms": {mean}\n'
        "  },\n"
        '  "by_task_type": {\n'
        f"{by_type}\n"
        "  }\n"
        "}\n"
    )
