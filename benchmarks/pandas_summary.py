"""The report's summary done the usual way with pandas, for the benchmark to race against.

    python benchmarks/pandas_summary.py LOG.csv

Reads with `read_csv`, then groups by model, task type, model x task type, UTC day and ISO week:
runs, successes, prompt / completion / total tokens, duration mean, p50, p95 and max. It does
not validate rows, price them or format anything, so it does less than `telemetry-csv report`.
"""

from __future__ import annotations

import sys

import pandas as pd


def summarise(path: str) -> dict[str, pd.DataFrame]:
    frame = pd.read_csv(
        path,
        dtype={
            "model": "string",
            "task_type": "string",
            "prompt_tokens": "int64",
            "completion_tokens": "int64",
            "duration_ms": "int64",
            "task_success": "bool",
        },
        keep_default_na=False,
    )
    # A model stored behind an apostrophe (a formula character first) is named without it.
    neutralised = frame["model"].str.match(r"'[=+\-@\t\r]")
    frame.loc[neutralised, "model"] = frame.loc[neutralised, "model"].str.slice(1)
    instants = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["day"] = instants.dt.strftime("%Y-%m-%d")
    calendar = instants.dt.isocalendar()
    frame["week"] = calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)
    frame["total_tokens"] = frame["prompt_tokens"] + frame["completion_tokens"]
    summaries = {}
    for name, keys in (
        ("by_model", ["model"]),
        ("by_task_type", ["task_type"]),
        ("by_model_task_type", ["model", "task_type"]),
        ("by_day", ["day"]),
        ("by_week", ["week"]),
    ):
        groups = frame.groupby(keys, sort=True)
        summary = groups.agg(
            runs=("task_success", "size"),
            successes=("task_success", "sum"),
            prompt_tokens=("prompt_tokens", "sum"),
            completion_tokens=("completion_tokens", "sum"),
            total_tokens=("total_tokens", "sum"),
            mean=("duration_ms", "mean"),
            p50=("duration_ms", "median"),
            max=("duration_ms", "max"),
        )
        summary["p95"] = groups["duration_ms"].quantile(0.95)
        summary["success_rate"] = summary["successes"] / summary["runs"]
        summaries[name] = summary
    durations = frame["duration_ms"]
    summaries["totals"] = pd.DataFrame(
        {
            "runs": [len(frame)],
            "successes": [int(frame["task_success"].sum())],
            "total_tokens": [int(frame["total_tokens"].sum())],
            "p50": [durations.median()],
            "p95": [durations.quantile(0.95)],
        }
    )
    return summaries


if __name__ == "__main__":
    result = summarise(sys.argv[1])
    print({name: len(table) for name, table in result.items()})
