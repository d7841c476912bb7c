"""The HTML report against the Markdown report on the same realistic log, as ratios in one run.

    .venv/bin/python benchmarks/bench_html.py [--rounds N] [--size MIB] [--baseline EXE]

On a generated 10 MiB log shaped like a team's two years (`realistic_log`: bursty sessions,
12 models, 11 offsets interleaved, notes with commas and quotes, non-ASCII), every command a
fresh process, start-up included, output to /dev/null:

- `report` (Markdown), the reference;
- `report --format html` (aim: within 1.2x of it), which adds the charts' series (two more
  unions of cells), the recommendations and the SVG;
- `report --format json`, `report --group-by model,week`, `report --budgets`-style flags, and
  `report --no-costs` in both formats, for context.

`--baseline EXE` also times another telemetry-csv's Markdown report (say, the main branch
installed in another virtual environment), to see what this branch costs the default report.

Then, in one process (CPU time, best of the rounds, so other processes on the machine matter
less), where the difference goes: the pass with and without the charts' series, the
recommendations, and rendering each format.

Commands are interleaved round by round, so a noisy neighbour slows all of them alike; each
figure is the median over the rounds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from realistic_log import MIB, write_realistic_log  # noqa: E402

TOOL = str(Path(sys.executable).parent / "telemetry-csv")
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one run of `command`. On a machine
    shared with other work, the CPU seconds move less: waiting for a core is not counted."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", type=float, default=10, help="log size in MiB (default 10)")
    parser.add_argument("--baseline", metavar="EXE", help="another telemetry-csv to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "usage.csv"
        rows = write_realistic_log(log, int(args.size * MIB))
        print(f"log: {log.stat().st_size / MIB:.1f} MiB, {rows:,} rows (realistic_log, seed 15)")
        commands = {
            "markdown": [TOOL, "report", str(log)],
            "html": [TOOL, "report", "--format", "html", str(log)],
            "json": [TOOL, "report", "--format", "json", str(log)],
            "markdown --group-by model,week": [TOOL, "report", "--group-by", "model,week", str(log)],
            "markdown, 3 budgets that hold": [
                TOOL, "report", str(log), "--max-cost", "1000000", "--min-success-rate", "50%",
                "--max-p95", "model=openai/gpt-4o:1h", "--allow-unpriced",
            ],
            "markdown --recommend": [TOOL, "report", "--recommend", str(log)],
            "markdown --no-costs": [TOOL, "report", "--no-costs", str(log)],
            "html --no-costs": [TOOL, "report", "--format", "html", "--no-costs", str(log)],
        }  # fmt: skip
        if args.baseline:
            commands["baseline markdown"] = [args.baseline, "report", str(log)]
        for command in commands.values():  # warm the page cache and write the .pyc files
            timed(command)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command))
        stages = breakdown(log, args.rounds)
    walls = {name: statistics.median(wall for wall, _ in values) for name, values in times.items()}
    cpus = {name: statistics.median(cpu for _, cpu in values) for name, values in times.items()}
    print(f"{args.rounds} interleaved rounds, medians; ratios to `report` (Markdown)")
    print(f"  {'':<32} {'wall':>9}  {'ratio':>6}  {'CPU':>9}  {'ratio':>6}")
    for name in commands:
        print(
            f"  {name:<32} {walls[name]:7.3f} s  {walls[name] / walls['markdown']:5.2f}x"
            f"  {cpus[name]:7.3f} s  {cpus[name] / cpus['markdown']:5.2f}x"
        )
    for label, figures in (("wall", walls), ("CPU", cpus)):
        print(
            f"html / markdown ({label}): {figures['html'] / figures['markdown']:.2f}x (aim: 1.2x); "
            f"--no-costs: {figures['html --no-costs'] / figures['markdown --no-costs']:.2f}x"
        )
    print("in one process, CPU seconds, best of the rounds:")
    for name, value in stages.items():
        print(f"  {name:<44} {value:7.3f} s")
    markdown = stages["read and aggregate"] + stages["render Markdown"]
    html = (
        stages["read and aggregate, with the charts' series"]
        + stages["recommendations"]
        + stages["render HTML"]
    )
    print(f"html / markdown, CPU: {html / markdown:.2f}x")


def breakdown(log: Path, rounds: int) -> dict[str, float]:
    from telemetry_csv.logfile.schema import Schema
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.html_format import SERIES, render_html
    from telemetry_csv.report.markdown import render_markdown
    from telemetry_csv.report.recommendations import recommendations_for
    from telemetry_csv.report.sources import ValidRows, open_source

    def aggregate(series: int) -> Any:
        items = open_source(Schema(), files=[str(log)], log_path=log).items
        return build_report(ValidRows(items), ReportOptions(chart_series=series))

    plain = aggregate(0)
    charted = aggregate(SERIES)
    full = charted._replace(recommendations=recommendations_for(charted))
    stages: dict[str, Callable[[], object]] = {
        "read and aggregate": lambda: aggregate(0),
        "read and aggregate, with the charts' series": lambda: aggregate(SERIES),
        "recommendations": lambda: recommendations_for(charted),
        "render Markdown": lambda: render_markdown(plain),
        "render HTML": lambda: render_html(full),
    }
    return {name: min(_cpu(stage) for _ in range(rounds)) for name, stage in stages.items()}


def _cpu(function: Callable[[], object]) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


if __name__ == "__main__":
    main()
