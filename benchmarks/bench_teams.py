"""The team layout's costs, as ratios measured side by side in one run (issue 11).

    .venv/bin/python benchmarks/bench_teams.py [--rounds N]

Every command runs as a user (or git, or pre-commit) would start it, start-up included, in real
repositories. The same 10 MiB of rows (`teams_data.py`: bursts and idle days over months, many
UTC offsets interleaved, notes with commas and quotes, some starting with a quote, non-ASCII)
are held either in one file (`layout = "single"`) or in 1,000 shards of about 10 KiB. Printed,
as medians over interleaved rounds (each round runs every command once, so a noisy neighbour
slows all of them alike):

- `log` in the team layout, steady state (HEAD and the index unchanged since the last row),
  against `python -c "import filelock"` (goal: within 1.2x), and against `log` in the single
  layout;
- `report` and `check` over the 1,000 shards against the one file (goal: within 1.3x);
- `report --range BASE..HEAD` where the range added every row, 1,000 shards against one file
  (goal: within 2x);
- the append-only hook on a commit that adds a shard (team) against one that appends a row to
  the 10 MiB file (single), and on a fold of the 1,000 shards against a rotation of the file
  (goal: within 2x).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from processes import bench_env, git
from teams_data import MIB, lines, write_one_file, write_shards

from telemetry_csv.logfile import folds

BIN = Path(sys.executable).parent
TOOL = str(BIN / "telemetry-csv")
HOOK = str(BIN / "telemetry-csv-append-only-hook")
ROW = ["claude-3-opus", "1500", "3200", "true", "execute", "45000", "bench, with a comma", "-q"]


ENV = bench_env()


def timed(command: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, env=ENV, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stdout[-500:]!r}")
    return elapsed


def repository(folder: Path, name: str, layout: str, rows: list[str]) -> Path:
    """A repository whose HEAD holds `rows` (the commit before it holds none), in a layout."""
    repo = folder / name
    (repo / ".telemetry").mkdir(parents=True)
    (repo / ".telemetry" / "config.toml").write_text(f'layout = "{layout}"\n')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no rows yet")
    if layout == "single":
        write_one_file(repo / ".telemetry" / "usage.csv", rows)
    else:
        write_shards(repo / ".telemetry" / "usage.rows", rows, 1000)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "10 MiB of rows")
    return repo


def staged_copy(source: Path, folder: Path, name: str, change: Callable[[Path], None]) -> Path:
    """A clone of `source` with `change` made and staged, for the append-only hook."""
    repo = folder / name
    git(folder, "clone", "-q", str(source), str(repo))
    change(repo)
    git(repo, "add", "-A")
    return repo


def add_shard(repo: Path) -> None:
    path = repo / ".telemetry" / "usage.rows" / "20991231T000000Z-00000000000000aa.csv"
    header = (repo / ".telemetry" / "usage.rows").iterdir().__next__().read_text().split("\n")[0]
    path.write_text(f"{header}\n2099-12-31T00:00:00Z,m,1,2,true,plan,3,new\n")


def append_row(repo: Path) -> None:
    with open(repo / ".telemetry" / "usage.csv", "a") as file:
        file.write("2099-12-31T00:00:00Z,m,1,2,true,plan,3,new\n")


def fold_all(repo: Path) -> None:
    folder = repo / ".telemetry" / "usage.rows"
    shards = sorted(folder.iterdir())
    made = folds.build([(path.name, path.read_bytes()) for path in shards])
    (folder / made.manifest_name).write_bytes(made.manifest)
    (folder / made.name).write_bytes(made.data)
    git(repo, "rm", "-q", "--cached", *[str(path) for path in shards])
    for path in shards:
        path.unlink()


def rotate(repo: Path) -> None:
    git(repo, "mv", ".telemetry/usage.csv", ".telemetry/usage-20991231T000000Z.csv")
    header = (repo / ".telemetry" / "usage-20991231T000000Z.csv").read_text().split("\n")[0]
    (repo / ".telemetry" / "usage.csv").write_text(
        f"{header}\n2099-12-31T00:00:00Z,m,1,2,true,plan,3,new\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-teams-") as name:
        folder = Path(name)
        rows = lines(10 * MIB - 1024)  # the one file, header included, within max_bytes
        single = repository(folder, "single", "single", rows)
        team = repository(folder, "team", "team", rows)
        shard_sizes = [p.stat().st_size for p in (team / ".telemetry" / "usage.rows").iterdir()]
        print(
            f"{len(rows):,} rows, {sum(shard_sizes):,} bytes in {len(shard_sizes)} shards of "
            f"{min(shard_sizes):,}-{max(shard_sizes):,} bytes, or one file of "
            f"{(single / '.telemetry' / 'usage.csv').stat().st_size:,} bytes"
        )
        logger = folder / "logger"
        (logger / ".telemetry").mkdir(parents=True)
        git(logger, "init", "-q", "-b", "main")
        single_logger = folder / "single-logger"
        (single_logger / ".telemetry").mkdir(parents=True)
        (single_logger / ".telemetry" / "config.toml").write_text('layout = "single"\n')
        git(single_logger, "init", "-q", "-b", "main")
        hooks = {
            "team add": staged_copy(team, folder, "team-add", add_shard),
            "single append": staged_copy(single, folder, "single-append", append_row),
            "team fold": staged_copy(team, folder, "team-fold", fold_all),
            "single rotation": staged_copy(single, folder, "single-rotation", rotate),
        }
        report = [TOOL, "report", "--format", "json", "--no-costs"]
        commands: dict[str, tuple[list[str], Path, tuple[int, ...]]] = {
            "floor": ([sys.executable, "-c", "import filelock"], folder, (0,)),
            "log team": ([TOOL, "log", *ROW], logger, (0,)),
            "log single": ([TOOL, "log", *ROW], single_logger, (0,)),
            "report team": (report, team, (0,)),
            "report single": (report, single, (0,)),
            "check team": ([TOOL, "check"], team, (0,)),
            "check single": ([TOOL, "check"], single, (0,)),
            "range team": ([*report, "--range", "HEAD~1..HEAD"], team, (0,)),
            "range single": ([*report, "--range", "HEAD~1..HEAD"], single, (0,)),
            **{f"hook {key}": ([HOOK], repo, (0,)) for key, repo in hooks.items()},
        }
        times: dict[str, list[float]] = {key: [] for key in commands}
        for command, cwd, expect in commands.values():
            timed(command, cwd, expect)  # warm the page cache and .pyc files; the first shard
        for _ in range(args.rounds):
            for key, (command, cwd, expect) in commands.items():
                times[key].append(timed(command, cwd, expect))
        median = {key: statistics.median(values) for key, values in times.items()}

    def ratio(first: str, second: str) -> str:
        return f"{median[first] / median[second]:.2f}x"

    print(f"rounds: {args.rounds} (medians; ratios are what to compare across machines)")
    print(
        f"log (team, steady) vs python -c 'import filelock':  {ratio('log team', 'floor')} (goal: within 1.2x)"
    )
    print(f"log (team, steady) vs log (single):                 {ratio('log team', 'log single')}")
    print(
        f"report, 1,000 shards vs one file:                   {ratio('report team', 'report single')} (goal: within 1.3x)"
    )
    print(
        f"check, 1,000 shards vs one file:                    {ratio('check team', 'check single')} (goal: within 1.3x)"
    )
    print(
        f"report --range, 1,000 shards vs one file:           {ratio('range team', 'range single')} (goal: within 2x)"
    )
    print(
        f"append-only, a new shard vs a row appended:         {ratio('hook team add', 'hook single append')} (goal: within 2x)"
    )
    print(
        f"append-only, a fold vs a rotation:                  {ratio('hook team fold', 'hook single rotation')} (goal: within 2x)"
    )
    for key, value in median.items():
        print(f"  {key:<22} {value * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
