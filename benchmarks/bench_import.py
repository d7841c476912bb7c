"""Speed of `importing.collect` on about 200 MB of agent session files, as ratios in one run.

    .venv/bin/python benchmarks/bench_import.py [--rounds N] [--size MIB] [--keep FOLDER]

The session folders are generated once (`agent_sessions`: Claude Code, Codex and Gemini CLI,
many projects and sessions over three months, partial copies, replays, long tool outputs). Then,
round by round, interleaved so a noisy neighbour slows every measurement alike, medians of:

- a first import of all three sources (`all_projects`, so every file is read; no state, the
  state saved at the end), in this process, against a bare `json.loads` of every line of the
  same files, read the same way (goal: within 3x);
- an import with nothing new (the state of the first import, the same `now`), as the `import`
  command or the hook would run it: a fresh process running `import_once.py`, against
  `python -c "import filelock"` (goal: within 1.5x); five pairs per round;
- the same two as the command itself, `telemetry-csv import all --all-projects` in a git
  repository, as a whole process: a first import into a new repository (the rows appended to
  its log, the states saved) against the `json.loads` pass (goal: within 3x), and an import
  with nothing new (the states and the log of the first) against `python -c "import filelock"`
  (goal: within 1.5x), five pairs per round.

Also printed, once: the first import's peak memory in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import agent_sessions

from telemetry_csv import importing

HERE = Path(__file__).parent
NOW = agent_sessions.START + (agent_sessions.DAYS + 2) * 86_400  # every window closed


def _env() -> dict[str, str]:
    # Modules load from .pyc files, as an installed package's do.
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def json_pass(files: list[Path]) -> int:
    lines = 0
    loads = json.loads
    for path in files:
        for line in path.read_bytes().split(b"\n"):
            if line:
                loads(line)
                lines += 1
    return lines


def first_import(home: Path, states: Path) -> int:
    slices = 0
    for source in importing.SOURCES:
        state = importing.StateFile(states / f"import-state.{source}.json", "bench")
        result = importing.collect(
            source, root=home, all_projects=True, now=NOW, state=state, environ={"HOME": str(home)}
        )
        result.save_state()
        slices += len(result.slices)
    return slices


def timed(command: list[str], cwd: Path | None = None, home: Path | None = None) -> float:
    env = _env()
    if home is not None:
        env["HOME"] = str(home)
        for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_DATA_DIR", "XDG_CONFIG_HOME"):
            env.pop(name, None)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=cwd, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr!r}")
    return elapsed


def new_repository(path: Path) -> Path:
    """An empty git repository: where the command keeps its log and (in .git) its states."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def count_rows(repo: Path) -> int:
    log = repo / ".telemetry" / "usage.csv"
    return log.read_bytes().count(b"\n") - 1 if log.exists() else 0


def peak_memory(home: Path, states: Path) -> float:
    script = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from pathlib import Path\n"
        "import bench_import\n"
        f"bench_import.first_import(Path({str(home)!r}), Path({str(states)!r}))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_env(), check=True
    )
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=200, help="MiB of session files")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        home = folder / "home"
        if not home.exists():
            written = agent_sessions.generate(home, args.size * 1024 * 1024)
            print(
                "generated:",
                ", ".join(f"{name} {size / 1e6:.0f} MB" for name, size in written.items()),
            )
        files = agent_sessions.all_files(home)
        total = sum(path.stat().st_size for path in files)
        print(f"{len(files)} files, {total / 1e6:.0f} MB, {json_pass(files)} lines")
        noop_states = folder / "noop-states"
        for leftover in (noop_states, folder / "peak-states"):
            shutil.rmtree(leftover, ignore_errors=True)
        print(f"slices: {first_import(home, noop_states)}")
        noop = [
            sys.executable,
            str(HERE / "import_once.py"),
            str(home),
            str(home),
            str(NOW),
            str(noop_states),
        ]
        floor = [sys.executable, "-c", "import filelock"]
        command = [str(Path(sys.executable).parent / "telemetry-csv"), "import", "all"]
        command += ["--all-projects", "-q"]
        kept = new_repository(folder / "kept-repo")
        timed(command, kept, home)  # its first import: the state and the log the rounds reuse
        times: dict[str, list[float]] = {
            "json": [],
            "first": [],
            "noop": [],
            "filelock": [],
            "cli first": [],
            "cli noop": [],
        }
        for round_number in range(args.rounds):
            start = time.perf_counter()
            json_pass(files)
            times["json"].append(time.perf_counter() - start)
            states = folder / f"states-{round_number}"
            start = time.perf_counter()
            first_import(home, states)
            times["first"].append(time.perf_counter() - start)
            shutil.rmtree(states)
            fresh = new_repository(folder / f"repo-{round_number}")
            times["cli first"].append(timed(command, fresh, home))
            shutil.rmtree(fresh)
            for _ in range(5):  # start-up times are short: more of them
                times["noop"].append(timed(noop))
                times["filelock"].append(timed(floor))
                times["cli noop"].append(timed(command, kept, home))
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"rounds: {args.rounds} (medians; the ratios are what compare across machines)")
        print(
            f"first import vs json.loads pass:            {median['first'] / median['json']:.2f}x "
            f"({median['first']:.2f} s vs {median['json']:.2f} s)"
        )
        print(
            f"nothing new vs python -c 'import filelock': {median['noop'] / median['filelock']:.2f}x "
            f"({median['noop'] * 1000:.0f} ms vs {median['filelock'] * 1000:.0f} ms)"
        )
        print(
            f"telemetry-csv import, first, vs json.loads: {median['cli first'] / median['json']:.2f}x "
            f"({median['cli first']:.2f} s vs {median['json']:.2f} s)"
        )
        print(
            f"telemetry-csv import, nothing new, vs filelock: "
            f"{median['cli noop'] / median['filelock']:.2f}x "
            f"({median['cli noop'] * 1000:.0f} ms vs {median['filelock'] * 1000:.0f} ms)"
        )
        print(f"rows the command added: {count_rows(kept)}")
        print(
            f"first import, peak memory of the process:  {peak_memory(home, folder / 'peak-states'):.0f} MiB"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
