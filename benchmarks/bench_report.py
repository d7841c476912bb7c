"""Speed and memory of `telemetry-csv report`, as ratios measured side by side in one run.

    .venv/bin/python benchmarks/bench_report.py [--rounds N] [--big-rounds N] [--skip-big]
        [--gib] [--baseline EXE] [--eight-columns]

pandas is raced against but is not a dependency of telemetry-csv; install it into the same
environment for the benchmark only:

    .venv/bin/pip install pandas

The data is `realistic_log`'s (a team's two years: bursts, holidays, eleven offsets with summer
time interleaved, notes with commas and leading quotes, non-ASCII). Prints (every command a
fresh process, start-up included, interleaved round by round, medians):

- on a 10 MiB log of 8-column rows: `report` (Markdown) against a bare `csv.reader` pass over
  the same file, with and without costs (costs need the `cost` extra, genai-prices), and
  against pandas `read_csv` + groupby computing the same tables (the run also checks that both
  agree on every group's runs, tokens, p50 and p95);
- on 100 MiB of log and backups (`realistic_log.write_history`: 8-column backups, then
  extended ones with imported slices): `report --no-costs` against a `csv.reader` pass over
  every file;
- peak memory (max RSS) of `report` on the 100 MiB set, and with `--gib` on 1 GiB (ten
  histories of 100 MiB, seeds 15 to 24, as the backups of one log), and what importing the
  price data costs on its own.

Then, in one process (CPU time, best of the rounds), where the report's time goes.

`--baseline EXE` times another telemetry-csv executable (say, an older version installed in
another virtual environment) in the same rounds, so a change is measured side by side (on
100 MiB too). `--eight-columns` adds, on 100 MiB, the same rows with the extended files written
in the 8-column shape (their last four fields left out) against a `csv.reader` pass over those
files: what the report costs without the extended header's work (ids, cache parts).

They run without PYTHONDONTWRITEBYTECODE, so that telemetry-csv's modules load from .pyc
files as an installed package's do.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from realistic_log import MIB, write_history, write_realistic_log  # noqa: E402

from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE  # noqa: E402

PYTHON = sys.executable
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
TOOL = str(Path(sys.executable).parent / "telemetry-csv")
CSV_PASS = (
    "import csv, sys\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, newline='', encoding='utf-8') as file:\n"
    "        for _ in csv.reader(file):\n"
    "            pass\n"
)
PRICE_DATA = "from telemetry_csv.report.costs import load_pricer; load_pricer()"
WITHOUT_PRICE_DATA = "import telemetry_csv.report.costs"
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def peak_rss_mb(command: list[str]) -> float:
    """Max RSS of `command`, measured in a fresh parent so no earlier child counts."""
    done = subprocess.run(
        [PYTHON, "-c", PEAK_RSS, *command], check=True, capture_output=True, text=True, env=ENV
    )
    return int(done.stdout) / 1024  # Linux reports KiB


def cpu_time(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def breakdown(logs: dict[str, Path], rounds: int) -> dict[str, float]:
    """Best CPU time of each stage of a report, in this process, as `report` runs them."""
    from telemetry_csv.logfile.schema import Schema
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.markdown import render_markdown
    from telemetry_csv.report.sources import ValidRows, open_source

    schema = Schema()

    def csv_pass(log: Path) -> None:
        with open(log, newline="", encoding="utf-8") as file:
            for _ in csv.reader(file):
                pass

    def read(log: Path) -> list:
        return list(ValidRows(open_source(schema, files=[str(log)], log_path=log).items))

    def read_and_aggregate(log: Path, costs: bool = False):
        rows = ValidRows(open_source(schema, files=[str(log)], log_path=log).items)
        return build_report(rows, ReportOptions(costs=costs))

    log = logs["10 MiB log"]
    report = read_and_aggregate(log)
    stages = {
        "csv.reader": lambda: csv_pass(log),
        "read and validate (scan_runs)": lambda: read(log),
        "... and aggregate (build_report)": lambda: read_and_aggregate(log),
        "... with costs": lambda: read_and_aggregate(log, costs=True),
        "render Markdown": lambda: render_markdown(report),
    }
    for name, other in logs.items():
        if other != log:
            stages[f"csv.reader, {name}"] = lambda other=other: csv_pass(other)
            stages[f"read and aggregate, {name}"] = lambda other=other: read_and_aggregate(other)
    cpu_time(stages["... with costs"])  # the price data's import, once, outside the timings
    return {name: min(cpu_time(stage) for _ in range(rounds)) for name, stage in stages.items()}


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_against_pandas(log: Path) -> str:
    """Compare the report's JSON with pandas on the same file; returns a one-line verdict."""
    sys.path.insert(0, str(HERE))
    from pandas_summary import summarise

    done = subprocess.run(
        [TOOL, "report", "--format", "json", "--no-costs", str(log)],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout)
    tables = summarise(str(log))
    compared = 0
    for name, keys in (
        ("by_model", ["model"]),
        ("by_task_type", ["task_type"]),
        ("by_model_task_type", ["model", "task_type"]),
        ("by_day", ["day"]),
        ("by_week", ["week"]),
    ):
        table = tables[name]
        assert len(table) == len(report[name]), f"{name}: {len(table)} vs {len(report[name])}"
        for group in report[name]:
            key = tuple(group[k] for k in keys)
            expected = table.loc[key if len(key) > 1 else key[0]]
            for field in ("runs", "successes", "prompt_tokens", "completion_tokens"):
                assert int(expected[field]) == group[field], (name, key, field)
            for field in ("p50", "p95"):
                assert abs(float(expected[field]) - group["duration_ms"][field]) < 1e-3, (
                    name,
                    key,
                    field,
                )
            compared += 1
    return f"report and pandas agree on all {compared} groups (runs, tokens, p50, p95)"


def interleaved(commands: dict[str, list[str]], rounds: int) -> dict[str, float]:
    """The median wall time of each command, run round by round after one warm-up run."""
    for command in commands.values():
        timed(command)  # warm the page cache and .pyc files
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            times[name].append(timed(command))
    return {name: statistics.median(values) for name, values in times.items()}


def write_gib(folder: Path) -> Path:
    """1 GiB: ten histories of 100 MiB (seeds 15 to 24) as the backups of one log."""
    folder.mkdir(parents=True)
    for number in range(10):
        part = folder.parent / f"part-{number}"
        write_history(part, 100 * MIB, seed=15 + number)
        for index, path in enumerate(sorted(part.glob("usage*.csv"))):
            if number == 9 and path.name == "usage.csv":
                name = "usage.csv"
            else:
                name = f"usage-{2001 + number:04d}{1 + index // 28:02d}{1 + index % 28:02d}T000000Z.csv"
            path.rename(folder / name)
        part.rmdir()
    return folder / "usage.csv"


def eight_columns(backups: Path, folder: Path) -> list[str]:
    """The files of a log and its backups with every extended file's rows in the 8-column
    shape (its last four fields left out): what the same rows cost without the extended
    header's work. The files in order, the log last."""
    folder.mkdir(parents=True)
    extended = EXTENDED_HEADER_LINE + "\n"
    for path in sorted(backups.glob("usage*.csv")):
        text = path.read_text(encoding="utf-8")
        if text.startswith(extended):
            lines = text[len(extended) :].splitlines()
            text = HEADER_LINE + "\n" + "".join(line.rsplit(",", 4)[0] + "\n" for line in lines)
        (folder / path.name).write_text(text, encoding="utf-8")
    names = sorted(str(path) for path in folder.glob("usage-*.csv"))
    return [*names, str(folder / "usage.csv")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--big-rounds", type=int, default=3, help="rounds on 100 MiB")
    parser.add_argument("--skip-big", action="store_true", help="skip the 100 MiB set")
    parser.add_argument("--gib", action="store_true", help="also peak memory on 1 GiB")
    parser.add_argument(
        "--eight-columns",
        action="store_true",
        help="also the 100 MiB set's rows with the extended files written in the 8-column shape",
    )
    parser.add_argument(
        "--baseline",
        metavar="TELEMETRY_CSV",
        help="another telemetry-csv executable (an older version) to time in the same rounds",
    )
    args = parser.parse_args()
    costs = has("genai_prices")
    pandas = has("pandas")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "ten" / "usage.csv"
        rows = write_realistic_log(log, 10 * MIB, shape="legacy")
        print(f"log file: {log.stat().st_size:,} bytes, {rows:,} rows (realistic_log, seed 15)")
        commands = {
            "csv.reader": [PYTHON, "-c", CSV_PASS, str(log)],
            "report --no-costs": [TOOL, "report", "--no-costs", str(log)],
        }
        if costs:
            commands["report (with costs)"] = [TOOL, "report", str(log)]
        if args.baseline:
            commands["report --no-costs, baseline"] = [
                args.baseline,
                "report",
                "--no-costs",
                str(log),
            ]
            if costs:
                commands["report (with costs), baseline"] = [args.baseline, "report", str(log)]
        if pandas:
            commands["pandas"] = [PYTHON, str(HERE / "pandas_summary.py"), str(log)]
        median = interleaved(commands, args.rounds)
        verdict = check_against_pandas(log) if pandas else None
        stages = breakdown({"10 MiB log": log}, max(3, args.rounds // 2))

        big: dict[str, float] = {}
        memory: dict[str, float] = {}
        if not args.skip_big:
            backups = Path(folder) / "hundred" / ".telemetry"
            big_log, big_rows = write_history(backups, 100 * MIB)
            files = sorted(str(path) for path in backups.glob("usage*.csv"))
            size = sum(Path(path).stat().st_size for path in files)
            print(f"log and backups: {len(files)} files, {size:,} bytes, {big_rows:,} rows")
            big_commands = {
                "csv.reader": [PYTHON, "-c", CSV_PASS, *files],
                "report --no-costs": [TOOL, "report", "--no-costs", "--file", str(big_log)],
            }
            if args.baseline:
                big_commands["report --no-costs, baseline"] = [
                    args.baseline,
                    "report",
                    "--no-costs",
                    "--file",
                    str(big_log),
                ]
            if args.eight_columns:
                narrow = eight_columns(backups, Path(folder) / "narrow" / ".telemetry")
                big_commands["csv.reader, 8 columns"] = [PYTHON, "-c", CSV_PASS, *narrow]
                big_commands["report --no-costs, 8 columns"] = [
                    TOOL,
                    "report",
                    "--no-costs",
                    "--file",
                    narrow[-1],
                ]
            big = interleaved(big_commands, args.big_rounds)
            memory["100 MiB, csv.reader (every file)"] = peak_rss_mb(
                [PYTHON, "-c", CSV_PASS, *files]
            )
            memory["100 MiB, report --no-costs"] = peak_rss_mb(
                [TOOL, "report", "--no-costs", "--file", str(big_log)]
            )
            if costs:
                memory["100 MiB, report (with costs)"] = peak_rss_mb(
                    [TOOL, "report", "--file", str(big_log)]
                )
                memory["the price data imported alone"] = peak_rss_mb(
                    [PYTHON, "-c", PRICE_DATA]
                ) - peak_rss_mb([PYTHON, "-c", WITHOUT_PRICE_DATA])
            shutil.rmtree(backups.parent)
        if args.gib:
            gib_log = write_gib(Path(folder) / "gib" / ".telemetry")
            files = list(gib_log.parent.glob("usage*.csv"))
            size = sum(path.stat().st_size for path in files)
            print(f"1 GiB set: {len(files)} files, {size:,} bytes")
            memory["1 GiB, report --no-costs"] = peak_rss_mb(
                [TOOL, "report", "--no-costs", "--file", str(gib_log)]
            )

    base = median["csv.reader"]
    print(f"rounds: {args.rounds} (medians; ratios are what to compare across machines)")
    width = max(len(name) for name in median)
    for name, value in median.items():
        if name.startswith("report"):
            aim = "3.5x" if "no-costs" in name else "4x"
            print(f"{name:{width}s} vs csv.reader pass: {value / base:5.2f}x (aim: within {aim})")
    if pandas:
        print(
            f"{'pandas':{width}s} vs csv.reader pass: {median['pandas'] / base:5.2f}x (for scale)"
        )
        for name in median:
            if name.startswith("report"):
                print(
                    f"{name:{width}s} vs pandas:           {median[name] / median['pandas']:5.2f}x "
                    "(aim: under 1x, faster)"
                )
        print(verdict)
    else:
        print("pandas is not installed: `.venv/bin/pip install pandas` to race against it")
    if not costs:
        print("genai-prices is not installed: `.venv/bin/pip install -e '.[cost]'` to time costs")
    if big:
        for name in big:
            if name.startswith("report"):
                base = "csv.reader, 8 columns" if "8 columns" in name else "csv.reader"
                ratio = big[name] / big[base]
                print(
                    f"100 MiB of log and backups, {name} vs csv.reader pass: {ratio:5.2f}x "
                    f"(aim: within 3x; {args.big_rounds} rounds)"
                )
    print("in one process, CPU time against the csv.reader pass over the same log:")
    for name, seconds in stages.items():
        if name.startswith("csv.reader"):
            continue
        print(f"  {name:48s} {seconds / stages['csv.reader']:5.2f}x")
    for name, megabytes in memory.items():
        aim = "for comparison" if "csv" in name or "price" in name else "aim: under 80 MB"
        print(f"peak RSS, {name}: {megabytes:.0f} MB ({aim})")


if __name__ == "__main__":
    main()
