"""Speed of the hooks and the merge driver on a 10 MiB log, as ratios measured side by side.

    .venv/bin/python benchmarks/bench_hooks.py [--rounds N] [--baseline BIN] [--commits-only]

Every command runs as the subprocess git or pre-commit would start, start-up included, in a
real repository whose HEAD holds `realistic_log`'s 10 MiB log (8-column rows). Prints, as
medians over the rounds (commands interleaved round by round, so a noisy neighbour slows all of
them alike):

- one `git commit` of one appended row through pre-commit with the three hooks (fmt, check,
  append-only, as `language: system` hooks of this environment), against a commit through
  pre-commit with one hook that does nothing (`true`, given the same file); with `--baseline
  BIN` (the `bin` folder of another environment, such as main's), the same commit with that
  environment's hooks in the same rounds;
- the same in the team layout (the default): HEAD holds `realistic_log.write_team`'s 10 MiB of
  backups, folds and shards, and each commit adds one shard of one row;
- the check and fmt hooks on that staged append (HEAD's bytes trusted, `git/committed.py`),
  against `check`;

- append-only when the log and its backups did not change (it runs at every commit), against
  `python -c "import filelock"`;
- append-only on an ordinary append, against `git cat-file` reading the two versions it must
  compare (its floor);
- append-only on a rotation in the same commit (every line compared by its canonical form),
  against `check` on the same log;
- fmt on a canonical log (nothing to do) and on the same log saved with CRLF and a BOM, against
  `check`;
- the merge driver on three 10 MiB versions, against `git merge-file` on the same files (which
  conflicts, where the driver merges).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_log_check import TEN_MIB
from processes import bench_env, git
from realistic_log import write_realistic_log, write_team

BIN = Path(sys.executable).parent
LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260301T120000Z.csv"
ROW = "2026-11-20T10:00:00Z,claude-3-opus,1500,3200,true,execute,45000,benchmark row {n}\n"
SHARD = ".telemetry/usage.rows/20261120T{n:06d}Z-{n:016x}.csv"
HEADER = (
    "timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,notes\n"
)
SINGLE_FILES = "^\\.telemetry/[^/]+\\.csv$"
TEAM_FILES = "^\\.telemetry/(usage\\.rows/)?[^/]+\\.(csv|manifest)$"
THREE_HOOKS = (
    "telemetry-csv-fmt-hook",
    "telemetry-csv-check-hook",
    "telemetry-csv-append-only-hook",
)


def timed(command: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, env=bench_env(), check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in expect:
        raise SystemExit(
            f"{' '.join(command)} exited {done.returncode}: {done.stdout!r} {done.stderr!r}"
        )
    return elapsed


def repository(folder: Path, change: str) -> Path:
    """A repository whose HEAD has the 10 MiB log, with a change staged: one row appended
    ("appended"), the same after a rotation ("rotated"), or only a file elsewhere ("untouched")."""
    repo = folder / change
    (repo / ".telemetry").mkdir(parents=True)
    git(repo, "init", "-q")
    shutil.copy(folder / "usage.csv", repo / LOG)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "10 MiB log")
    if change == "rotated":
        git(repo, "mv", LOG, BACKUP)
        (repo / LOG).write_text(
            (folder / "usage.csv").read_text().split("\n", 1)[0] + "\n" + ROW.format(n=1)
        )
    elif change == "appended":
        with open(repo / LOG, "a") as file:
            file.write(ROW.format(n=1))
    else:
        (repo / "README.md").write_text("a change outside the log's folder\n")
    git(repo, "add", "-A")
    return repo


def hooked(folder: Path, name: str, hooks: list[str], team: bool = False) -> Path:
    """A repository whose HEAD has the 10 MiB log (`team`: 10 MiB of the team layout), with
    `hooks` (entries of `language: system` hooks: the log's files passed, except to append-only)
    installed through pre-commit."""
    repo = folder / name
    (repo / ".telemetry").mkdir(parents=True)
    git(repo, "init", "-q")
    if team:
        shutil.copytree(folder / "team", repo / ".telemetry", dirs_exist_ok=True)
    else:
        shutil.copy(folder / "usage.csv", repo / LOG)
    entries = "".join(
        f"      - id: hook-{index}\n        name: hook {index}\n        entry: '{entry}'\n"
        "        language: system\n"
        + (
            "        always_run: true\n        pass_filenames: false\n"
            if entry.endswith("append-only-hook")
            else f"        files: {TEAM_FILES if team else SINGLE_FILES}\n"
        )
        for index, entry in enumerate(hooks)
    )
    if not team:
        # Room for the rows the rounds append (the log starts at 10 MiB), in the single layout.
        # The team layout is the default and its shards are small: that repository has no
        # settings, as most have none, and its hooks do not import the TOML parser (about 5 ms
        # each; the single log's commit shows what a table of settings costs).
        (repo / "pyproject.toml").write_text(
            f'[tool.telemetry-csv]\nmax_bytes = {2 * TEN_MIB}\nlayout = "single"\n'
        )
    (repo / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: local\n    hooks:\n{entries}")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "10 MiB log")
    subprocess.run(
        [str(BIN / "pre-commit"), "install"],
        cwd=repo,
        check=True,
        capture_output=True,
        env=bench_env(),
    )
    return repo


def commit_one_row(repo: Path, number: int) -> float:
    """Append a row, stage it, and time the `git commit` (its hooks included)."""
    with open(repo / LOG, "a") as file:
        file.write(ROW.format(n=number))
    git(repo, "add", LOG)
    return timed(["git", "commit", "-q", "-m", f"row {number}"], repo)


def commit_one_shard(repo: Path, number: int) -> float:
    """Add a shard of one row, stage it, and time the `git commit` (its hooks included)."""
    shard = repo / SHARD.format(n=number)
    shard.write_text(HEADER + ROW.format(n=number))
    git(repo, "add", str(shard.relative_to(repo)))
    return timed(["git", "commit", "-q", "-m", f"shard {number}"], repo)


def merge_versions(folder: Path) -> tuple[Path, Path, Path]:
    text = (folder / "usage.csv").read_text()
    base, ours, theirs = (folder / name for name in ("base.csv", "ours.csv", "theirs.csv"))
    base.write_text(text)
    ours.write_text(text + "".join(ROW.format(n=n) for n in range(0, 200, 2)))
    theirs.write_text(text + "".join(ROW.format(n=n) for n in range(1, 200, 2)))
    return base, ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--baseline", type=Path, metavar="BIN", help="another environment's bin folder"
    )
    parser.add_argument("--commits-only", action="store_true", help="time the commits alone")
    args = parser.parse_args()
    order = random.Random(14)

    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as name:
        folder = Path(name)
        rows = write_realistic_log(folder / "usage.csv", TEN_MIB, shape="legacy")
        write_team(folder / "team", TEN_MIB)
        three = hooked(folder, "three-hooks", [str(BIN / hook) for hook in THREE_HOOKS])
        no_op = hooked(folder, "no-op-hook", ["true"])
        team_three = hooked(
            folder, "team-three-hooks", [str(BIN / hook) for hook in THREE_HOOKS], team=True
        )
        team_no_op = hooked(folder, "team-no-op-hook", ["true"], team=True)
        baseline = args.baseline
        if baseline is not None:
            before = hooked(folder, "baseline", [str(baseline / hook) for hook in THREE_HOOKS])
            team_before = hooked(
                folder, "team-baseline", [str(baseline / hook) for hook in THREE_HOOKS], team=True
            )
        commits = iter(range(10**6))
        appended = repository(folder, "appended")
        rotated = repository(folder, "rotated")
        untouched = repository(folder, "untouched")
        canonical = (folder / "usage.csv").read_bytes()
        resaved = b"\xef\xbb\xbf" + canonical.replace(b"\n", b"\r\n")
        fmt_file = folder / "fmt.csv"
        base, ours, theirs = merge_versions(folder)
        result = folder / "result.csv"

        def fmt_resaved() -> float:
            fmt_file.write_bytes(resaved)
            return timed([str(BIN / "telemetry-csv-fmt-hook"), str(fmt_file)], folder, (1,))

        def merge_driver() -> float:
            shutil.copy(ours, result)
            return timed(
                [str(BIN / "telemetry-csv"), "merge-driver", str(base), str(result), str(theirs)],
                folder,
            )

        def merge_file() -> float:
            shutil.copy(ours, result)
            return timed(["git", "merge-file", str(result), str(base), str(theirs)], folder, (0, 1))

        measures: dict[str, Callable[[], float]] = {
            "commit, three hooks": lambda: commit_one_row(three, next(commits)),
            "commit, one no-op hook": lambda: commit_one_row(no_op, next(commits)),
            "team commit, three hooks": lambda: commit_one_shard(team_three, next(commits)),
            "team commit, one no-op hook": lambda: commit_one_shard(team_no_op, next(commits)),
            "check hook, append": lambda: timed(
                [str(BIN / "telemetry-csv-check-hook"), LOG], appended
            ),
            "fmt hook, append": lambda: timed([str(BIN / "telemetry-csv-fmt-hook"), LOG], appended),
            "git cat-file HEAD + index": lambda: (
                timed(["git", "cat-file", "blob", f"HEAD:{LOG}"], appended)
                + timed(["git", "cat-file", "blob", f":{LOG}"], appended)
            ),
            "python -c 'import filelock'": lambda: timed(
                [sys.executable, "-c", "import filelock"], folder
            ),
            "append-only, nothing changed": lambda: timed(
                [str(BIN / "telemetry-csv-append-only-hook")], untouched
            ),
            "append-only, append": lambda: timed(
                [str(BIN / "telemetry-csv-append-only-hook"), LOG], appended
            ),
            "append-only, rotation": lambda: timed(
                [str(BIN / "telemetry-csv-append-only-hook"), LOG, BACKUP], rotated
            ),
            "check (CLI)": lambda: timed(
                [str(BIN / "telemetry-csv"), "check", "--max-bytes", str(2 * TEN_MIB), LOG],
                appended,
            ),
            "fmt, canonical": lambda: timed(
                [str(BIN / "telemetry-csv-fmt-hook"), str(folder / "usage.csv")], folder
            ),
            "fmt, CRLF + BOM": fmt_resaved,
            "merge-driver": merge_driver,
            "git merge-file": merge_file,
        }
        if baseline is not None:
            measures["commit, baseline"] = lambda: commit_one_row(before, next(commits))
            measures["team commit, baseline"] = lambda: commit_one_shard(team_before, next(commits))
        if args.commits_only:
            measures = {key: value for key, value in measures.items() if "commit" in key}
        times: dict[str, list[float]] = {key: [] for key in measures}
        for _ in range(args.rounds):
            keys = list(measures)
            order.shuffle(keys)
            for key in keys:
                times[key].append(measures[key]())
        median = {key: statistics.median(values) for key, values in times.items()}

    print(f"10 MiB log, {rows:,} rows, {args.rounds} rounds, medians as ratios:\n")
    pairs = [
        (
            "commit of one row, three hooks / one no-op hook (pre-commit)",
            "commit, three hooks",
            "commit, one no-op hook",
        ),
        (
            "team layout: commit of one shard, three hooks / one no-op hook",
            "team commit, three hooks",
            "team commit, one no-op hook",
        ),
    ]
    if baseline is not None:
        pairs += [
            (
                "commit of one row, baseline's three hooks / one no-op hook",
                "commit, baseline",
                "commit, one no-op hook",
            ),
            (
                "team layout: commit, baseline's three hooks / one no-op hook",
                "team commit, baseline",
                "team commit, one no-op hook",
            ),
        ]
    pairs += [
        ("check hook on a staged append / check", "check hook, append", "check (CLI)"),
        ("fmt hook on a staged append / check", "fmt hook, append", "check (CLI)"),
        (
            "append-only, no change to the log / python -c 'import filelock'",
            "append-only, nothing changed",
            "python -c 'import filelock'",
        ),
        (
            "append-only on an append / git cat-file of both versions",
            "append-only, append",
            "git cat-file HEAD + index",
        ),
        ("append-only on a rotation / check", "append-only, rotation", "check (CLI)"),
        ("fmt on a canonical log, no git / check", "fmt, canonical", "check (CLI)"),
        ("fmt on a CRLF + BOM save / check", "fmt, CRLF + BOM", "check (CLI)"),
        ("merge-driver / git merge-file", "merge-driver", "git merge-file"),
    ]
    for label, measure, floor in pairs:
        if measure in median:
            print(f"  {label:<66} {median[measure] / median[floor]:6.2f}x")
    print(
        "\nmedians, ms: " + ", ".join(f"{key} {value * 1000:.0f}" for key, value in median.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
