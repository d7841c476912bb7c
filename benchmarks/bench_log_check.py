"""Speed of `log` and `check`, as ratios measured side by side in one run.

    .venv/bin/python benchmarks/bench_log_check.py [--rounds N] [--baseline TELEMETRY_CSV]

Prints, on `realistic_log`'s 10 MiB logs (a team's two years: eleven offsets interleaved,
notes with commas, quotes and leading quotes, non-ASCII), every command a fresh process:
- `telemetry-csv log` as a user runs it, in a git repository with the default settings (the
  team layout: the row goes to the current shard, `.telemetry/usage.rows/<stamp>-<hex>.csv`,
  found without starting git), against `python -c "import filelock"`, the floor for any tool
  that must take a file lock from a fresh interpreter (aim: within 1.2x); and `log --file` on
  the 10 MiB log against the same floor;
- `log` in a team-layout repository whose `pyproject.toml` configures the tool (task types and
  a size limit), against the same floor: the settings are parsed once, then read from the
  cache in `.git/telemetry-csv/` (aim: within 1.2x);
- `log` appending to the 10 MiB log against `log` appending to an empty one (aim: within 1.2x);
- `check` against a bare `csv.reader` pass over the same file (aim: within 2x), on the
  8-column log and on the extended one (imported slices with ids and cache parts); with
  `--baseline`, another telemetry-csv's `check` on both in the same rounds.

Commands are interleaved round by round, so a noisy neighbour slows all of them alike; each
figure is the median over the rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from realistic_log import MIB, write_realistic_log

from telemetry_csv.logfile.schema import HEADER_LINE

TEN_MIB = 10 * MIB


# As on a user's machine, modules are loaded from bytecode: some sandboxes set
# PYTHONDONTWRITEBYTECODE, which would make every run recompile this package from source.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV, cwd=cwd)
    return time.perf_counter() - start


def team_repository(folder: Path, settings: str = "") -> Path:
    """A repository with a first commit and no settings (or `settings`, as its pyproject.toml):
    `log` writes shards there."""
    repo = folder / ("team-with-settings" if settings else "team")
    repo.mkdir()
    if settings:
        (repo / "pyproject.toml").write_text(settings)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q"], [*identity, "commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=ENV)
    return repo


SETTINGS = (
    '[project]\nname = "an-app"\ndependencies = ["telemetry-csv"]\n\n'
    '[tool.telemetry-csv]\ntask_types = ["plan", "execute", "review", "discuss", "deploy"]\n'
    f"max_bytes = {20 * 1024 * 1024}\n"
)
CSV_PASS = (
    "import csv, sys\n"
    "with open(sys.argv[1], newline='', encoding='utf-8') as file:\n"
    "    for _ in csv.reader(file):\n"
    "        pass\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument(
        "--baseline",
        metavar="TELEMETRY_CSV",
        help="another telemetry-csv executable (an older version) whose check to time alongside",
    )
    args = parser.parse_args()
    tool = str(Path(sys.executable).parent / "telemetry-csv")
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big" / "usage.csv"
        rows = write_realistic_log(big, TEN_MIB, shape="legacy")
        extended = Path(folder) / "extended" / "usage.csv"
        extended_rows = write_realistic_log(extended, TEN_MIB, shape="extended")
        # `log` appends to a copy: the logs `check` reads stay as generated.
        appended = Path(folder) / "appended" / "usage.csv"
        appended.parent.mkdir()
        shutil.copy(big, appended)
        empty = Path(folder) / "empty" / "usage.csv"
        empty.parent.mkdir()
        empty.write_text(HEADER_LINE + "\n")
        team = team_repository(Path(folder))
        configured = team_repository(Path(folder), SETTINGS)
        print(f"8-column log: {big.stat().st_size:,} bytes, {rows:,} rows")
        print(f"extended log: {extended.stat().st_size:,} bytes, {extended_rows:,} rows")

        row = ["claude-3-opus", "1500", "3200", "true", "execute", "45000", "bench"]
        # Large enough that the benchmark's own appends never trigger a rotation.
        limit = ["--max-bytes", str(2 * TEN_MIB)]
        commands = {
            "floor": [sys.executable, "-c", "import filelock"],
            "log, team layout": [tool, "log", *row, "-q"],
            "log, with settings": [tool, "log", *row, "-q"],
            "log, 10 MiB": [tool, "log", *row, "--file", str(appended), *limit, "-q"],
            "log, empty": [tool, "log", *row, "--file", str(empty), "-q"],
            "csv.reader": [sys.executable, "-c", CSV_PASS, str(big)],
            "check": [tool, "check", *limit, str(big)],
            "csv.reader, extended": [sys.executable, "-c", CSV_PASS, str(extended)],
            "check, extended": [tool, "check", *limit, str(extended)],
        }
        if args.baseline:
            commands["check, baseline"] = [args.baseline, "check", *limit, str(big)]
            commands["check, extended, baseline"] = [args.baseline, "check", *limit, str(extended)]
        times: dict[str, list[float]] = {name: [] for name in commands}
        # `log` in the team layout runs in its repository (the first run starts the shard and
        # the state that lets the next ones find it without git: the steady state).
        where = {name: None for name in commands}
        where.update({"log, team layout": team, "log, with settings": configured})
        for name, command in commands.items():
            timed(command, where[name])  # warm the page cache and .pyc files
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command, where[name]))
        median = {name: statistics.median(values) for name, values in times.items()}

    def ratio(name: str, base: str) -> str:
        return f"{median[name] / median[base]:.2f}x"

    print(f"rounds: {args.rounds} (medians; ratios are what to compare across machines)")
    print(
        f"log (team layout) vs python -c 'import filelock': {ratio('log, team layout', 'floor')} (aim: within 1.2x)"
    )
    print(
        f"log with settings vs python -c 'import filelock': {ratio('log, with settings', 'floor')} (aim: within 1.2x)"
    )
    print(
        f"log --file on 10 MiB vs python -c 'import filelock': {ratio('log, 10 MiB', 'floor')} (aim: within 1.2x)"
    )
    print(
        f"medians: floor {median['floor'] * 1000:.1f} ms, log (team layout) {median['log, team layout'] * 1000:.1f} ms"
    )
    print(
        f"log on 10 MiB vs log on an empty log:         {ratio('log, 10 MiB', 'log, empty')} (aim: within 1.2x)"
    )
    print(
        f"check vs csv.reader pass, 8-column 10 MiB:    {ratio('check', 'csv.reader')} (aim: within 2x)"
    )
    print(
        f"check vs csv.reader pass, extended 10 MiB:    {ratio('check, extended', 'csv.reader, extended')} (aim: within 2x)"
    )
    if args.baseline:
        print(
            f"baseline's check, 8-column 10 MiB:            {ratio('check, baseline', 'csv.reader')}"
        )
        print(
            f"baseline's check, extended 10 MiB:            {ratio('check, extended, baseline', 'csv.reader, extended')}"
        )


if __name__ == "__main__":
    main()
