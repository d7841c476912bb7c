"""Start-up cost of `run` and `log --usage-json`, as ratios measured side by side.

Each round runs every command once, in a shuffled order, so a noisy machine slows all of them
alike; the report gives medians and their ratios to `python -c "import filelock"` (the budget
the project sets for `log`) and to plain `log`.

    .venv/bin/python benchmarks/run_and_usage_json.py [ROUNDS]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIXTURE = ROOT / "tests" / "fixtures" / "usage" / "anthropic-stream.sse"
FIELDS = ["--task-type", "execute", "-q"]
# As an installed package runs: from .pyc files, which this environment's
# PYTHONDONTWRITEBYTECODE would keep from being written.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def commands() -> dict[str, list[str]]:
    tool = str(BIN / "telemetry-csv")
    return {
        "import filelock": [sys.executable, "-c", "import filelock"],
        "log": [tool, "log", "m", "1", "2", "true", "execute", "3", "-q"],
        "log --usage-json": [tool, "log", "--usage-json", str(FIXTURE), "--task-success", "true",
                             "--duration-ms", "3", *FIELDS],
        "run -- true": [tool, "run", "--model", "m", *FIELDS, "--", "true"],
        "true": ["true"],
    }  # fmt: skip


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    timings: dict[str, list[float]] = {name: [] for name in commands()}
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["git", "init", "-q", folder], check=True)
        for _ in range(rounds):
            order = list(commands().items())
            random.shuffle(order)
            for name, argv in order:
                start = time.perf_counter()
                subprocess.run(
                    argv,
                    cwd=folder,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=ENV,
                )
                timings[name].append(time.perf_counter() - start)
        rows = len((Path(folder) / ".telemetry" / "usage.csv").read_text().splitlines()) - 1
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{rounds} rounds, {rows} rows appended; medians relative to each baseline\n")
    print(f"{'command':<20} {'/ import filelock':>18} {'/ log':>8}")
    for name, value in median.items():
        print(
            f"{name:<20} {value / median['import filelock']:>18.2f} {value / median['log']:>8.2f}"
        )
    overhead = median["run -- true"] - median["true"]
    print(f"\nrun's own cost around a command: {overhead / median['log']:.2f} x a plain log")


if __name__ == "__main__":
    main()
