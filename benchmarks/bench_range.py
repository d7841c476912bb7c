"""`report --range` costs what the range added, not the history: ratios measured side by side.

    .venv/bin/python benchmarks/bench_range.py [--rounds N] [--skip-big] [--baseline EXE]

In real git repositories whose BASE commit holds `realistic_log`'s history (10 MiB in one log,
and 100 MiB of log and backups, `write_history`, each backup named for when it was rotated, as
`telemetry-csv` names them), HEAD appends 100 rows to the log, as a pull request would. Every command a fresh process, interleaved round by round, medians:

- `report --no-costs --range BASE..HEAD` against a report of the same 100 rows from a file
  plus the git calls a range needs at least (`git diff --raw BASE HEAD`, which says which files
  changed): aim within 2x;
- for scale, the same `report --range` against a report of the whole history.

`--baseline EXE` also times another telemetry-csv executable's `report --range` (say, main's
`.venv/bin/telemetry-csv`) in the same rounds, against the same floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from processes import bench_env, git
from realistic_log import MIB, write_history, write_realistic_log

TOOL = str(Path(sys.executable).parent / "telemetry-csv")
ADDED = 100


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=bench_env())
    return time.perf_counter() - start


def repository(folder: Path, size: int) -> tuple[Path, Path]:
    """A repository whose first commit has `size` bytes of history and whose second appends
    ADDED rows to the log; and a file of those rows alone (with the log's header)."""
    repo = folder / f"repo-{size // MIB}"
    telemetry = repo / ".telemetry"
    if size > 10 * MIB:
        log, _ = write_history(telemetry, size + 1 * MIB)
        name_backups_by_rotation(telemetry)
    else:
        log = telemetry / "usage.csv"
        write_realistic_log(log, size + 1 * MIB, shape="extended")
    # The last ADDED rows are what the pull request adds.
    data = log.read_bytes()
    header_end = data.index(b"\n") + 1
    cut = len(data)
    for _ in range(ADDED):
        cut = data.rindex(b"\n", 0, cut - 1) + 1
    log.write_bytes(data[:cut])
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "history")
    log.write_bytes(data)
    git(repo, "commit", "-q", "-am", f"{ADDED} rows")
    rows = folder / f"added-{size // MIB}.csv"
    rows.write_bytes(data[:header_end] + data[cut:])
    return repo, rows


def name_backups_by_rotation(folder: Path) -> None:
    """Rename each backup `write_history` wrote for the time a rotation gives its name: when
    it happened, after its newest row was written (a range's search for ids relies on it)."""
    backups = sorted(folder.glob("usage-*.csv"))
    stamps = []
    for path in backups:
        lines = path.read_bytes().split(b"\n")[1:]
        newest = max(
            datetime.fromisoformat(line.split(b",", 1)[0].decode()) for line in lines if line
        )
        stamps.append((newest.astimezone(UTC) + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ"))
    if stamps != sorted(stamps):
        raise SystemExit("the backups' rows are not in the order of their names")
    for path, stamp in zip(backups, stamps, strict=True):
        path.rename(path.with_name(f"usage-{stamp}.csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--skip-big", action="store_true", help="only the 10 MiB history")
    parser.add_argument("--baseline", help="another telemetry-csv executable, timed alike")
    args = parser.parse_args()
    sizes = [10 * MIB] if args.skip_big else [10 * MIB, 100 * MIB]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        commands: dict[str, tuple[list[str], Path]] = {}
        for size in sizes:
            repo, rows = repository(folder, size)
            label = f"{size // MIB} MiB"
            report = [TOOL, "report", "--no-costs"]
            commands[f"range, {label}"] = ([*report, "--range", "HEAD~1..HEAD"], repo)
            if args.baseline:
                baseline = [args.baseline, "report", "--no-costs", "--range", "HEAD~1..HEAD"]
                commands[f"baseline, {label}"] = (baseline, repo)
            commands[f"file, {label}"] = ([*report, str(rows)], repo)
            commands[f"git diff, {label}"] = (["git", "diff", "--raw", "HEAD~1", "HEAD"], repo)
            commands[f"whole, {label}"] = ([*report], repo)
        for command, cwd in commands.values():
            timed(command, cwd)  # warm the page cache and .pyc files
        times: dict[str, list[float]] = {key: [] for key in commands}
        for _ in range(args.rounds):
            for key, (command, cwd) in commands.items():
                times[key].append(timed(command, cwd))
        median = {key: statistics.median(values) for key, values in times.items()}

    print(f"{ADDED} rows added over each history; {args.rounds} rounds, medians as ratios:\n")
    for size in sizes:
        label = f"{size // MIB} MiB"
        floor = median[f"file, {label}"] + median[f"git diff, {label}"]
        print(
            f"  report --range over {label}: / a report of the same rows from a file + git diff: "
            f"{median[f'range, {label}'] / floor:.2f}x (aim: within 2x); "
            f"/ a report of the whole history: "
            f"{median[f'range, {label}'] / median[f'whole, {label}']:.2f}x"
        )
        if args.baseline:
            print(
                f"  baseline's report --range over {label}: / the same floor: "
                f"{median[f'baseline, {label}'] / floor:.2f}x"
            )


if __name__ == "__main__":
    main()
