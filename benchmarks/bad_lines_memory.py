"""Peak memory of `report --skip-invalid` and `fmt` on logs full of bad lines, before and after.

A log that a spreadsheet, a bad merge or a careless script has mangled: valid rows (irregular
gaps over months, many offsets, notes with quotes and non-ASCII) interleaved with the damage
real files show: rows cut short, dates re-typed by a spreadsheet, unquoted commas in notes,
unknown task types, CRLF line endings, blank lines, Latin-1 bytes, and a few very long lines
of garbage (a binary pasted in). Each file is written once; each command then runs in a fresh
process, and its peak RSS is read from the kernel (`wait4`). "Before" is the package as of
REF (default: the commit before issue 12's work), unpacked from git into a temporary folder;
"after" is this working tree. Rounds are interleaved; the table shows medians and the ratio.

    .venv/bin/python benchmarks/bad_lines_memory.py [--before REF] [--rounds N] [--sizes 8,64]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,notes"
MODELS = ("claude-sonnet-4-20250514", "openai/gpt-4o", "gemini-2.5-pro", "llama3.1:70b")
TYPES = ("plan", "execute", "verify", "discuss", "quick")
OFFSETS = ("Z", "+01:00", "-05:00", "+05:30", "+09:00", "-03:00", "+02:00")
NOTES = ("", "Phase 6 tests", '"quoted, with comma"', "Überprüfung der Zeitzonen", "retry once")
ROOT = Path(__file__).resolve().parent.parent


def valid(rng: random.Random, stamp: int) -> str:
    offset = rng.choice(OFFSETS)
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp))
    return (
        f"{when}{offset},{rng.choice(MODELS)},{rng.randrange(100, 60_000)},"
        f"{rng.randrange(10, 20_000)},{'true' if rng.random() < 0.85 else 'false'},"
        f"{rng.choice(TYPES)},{rng.randrange(500, 900_000)},{rng.choice(NOTES)}"
    )


def damaged(rng: random.Random, line: str) -> bytes:
    """One of the ways real files go wrong."""
    kind = rng.randrange(9)
    if kind == 0:
        return line[: rng.randrange(5, len(line))].encode() + b"\n"  # cut short
    if kind == 1:
        fields = line.split(",", 1)
        return f"23/02/2026 22:19,{fields[1]}\n".encode()  # a spreadsheet's date
    if kind == 2:
        return (line + ", and an unquoted comma\n").encode()
    if kind == 3:
        return line.replace(",plan,", ",deploy,").replace(",quick,", ",ship,").encode() + b"\n"
    if kind == 4:
        return line.encode() + b"\r\n"
    if kind == 5:
        return b"\n"
    if kind == 6:
        return line.encode("utf-8").replace(b"Phase", b"Ph\xe4se") + b"\xe9\n"  # Latin-1
    if kind == 7:
        return (line.replace(",", ";") + "\n").encode()
    return b"x" * rng.randrange(1, 40) + b"\n"


def write_bad_log(path: Path, size: int, seed: int = 12) -> None:
    """`size` bytes: a third valid rows, the rest bad lines, and a few huge ones."""
    rng = random.Random(seed)
    stamp = 1_767_225_600
    with open(path, "wb") as out:
        out.write(HEADER.encode() + b"\n")
        written = 0
        while written < size:
            stamp += rng.choice((7, 40, 300, 3_600, 86_400 * rng.randrange(1, 9)))
            line = valid(rng, stamp)
            if rng.random() < 0.002:
                data = (
                    bytes(rng.randrange(32, 127) for _ in range(64)) * rng.randrange(1_000, 16_000)
                    + b"\n"
                )  # a pasted blob: up to 1 MiB on one line
            elif rng.random() < 0.34:
                data = line.encode() + b"\n"
            else:
                data = damaged(rng, line)
            out.write(data)
            written += len(data)


def write_spreadsheet_export(path: Path, size: int, seed: int = 13) -> None:
    """What a spreadsheet saves: the valid rows re-saved with CRLF, then row after row of empty
    cells (`,,,,,,,`) and blank lines down to the sheet's last formatted row: `size` bytes of
    them, more than a million tiny bad lines for 8 MiB."""
    rng = random.Random(seed)
    stamp = 1_767_225_600
    with open(path, "wb") as out:
        out.write(HEADER.encode() + b"\r\n")
        for _ in range(2_000):
            stamp += rng.choice((7, 40, 300, 3_600, 86_400 * rng.randrange(1, 9)))
            out.write(valid(rng, stamp).encode() + b"\r\n")
        written = 0
        while written < size:
            data = b",,,,,,,\r\n" if rng.random() < 0.9 else b"\r\n"
            out.write(data)
            written += len(data)


LIMIT_GIB = 3  # address space per run: a command that would need more fails (MemoryError)


def peak_rss_mib(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float]:
    """The exit status and peak RSS of one run; the status is -1 when it ran out of the
    address space it was given (so that this shared machine is never run out of memory)."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_GIB << 30, LIMIT_GIB << 30))

    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=limit,
    )  # fmt: skip
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if b"MemoryError" in errors:
        return -1, float("inf")
    return code, usage.ru_maxrss / 1024  # KiB on Linux


def unpack(ref: str, folder: Path) -> Path:
    folder.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "telemetry_csv"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="816e273", help="git ref of the 'before' package")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="8,64", help="MiB, comma-separated")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bad-lines-"))
    try:
        trees = {"before": unpack(args.before, work / "before"), "after": ROOT}
        results: dict[tuple[str, str, int], list[float]] = {}
        files = []
        for size in (int(text) for text in args.sizes.split(",")):
            for kind, write in (("mangled", write_bad_log), ("export", write_spreadsheet_export)):
                source = work / f"{kind}-{size}.csv"
                write(source, size << 20)
                files.append((f"{size} MiB {kind}", source))
        for _ in range(args.rounds):
            for name, source in files:
                for command in ("report", "fmt"):
                    for label, tree in trees.items():
                        env = {**os.environ, "PYTHONPATH": str(tree)}
                        target = work / "usage.csv"
                        shutil.copyfile(source, target)
                        argv = [sys.executable, "-m", "telemetry_csv", command]
                        argv += ["--skip-invalid", "--no-costs"] if command == "report" else []
                        status, mib = peak_rss_mib([*argv, target.name], env, work)
                        if status not in (-1, 0, 1):
                            raise SystemExit(f"{label} {command} exited {status}")
                        results.setdefault((command, label, name), []).append(mib)
                        print(f"# {command} {label} {name}: {mib:.0f} MiB", flush=True)
        baseline = peak_rss_mib(
            [sys.executable, "-c", "import telemetry_csv"], dict(os.environ), work
        )[1]
        print(
            f"peak RSS, MiB (median of {args.rounds}); `python -c 'import telemetry_csv'`: {baseline:.0f}"
        )
        print("| command | file | before | after | after/before |")
        print("| --- | --- | ---: | ---: | ---: |")
        for command in ("report --skip-invalid", "fmt"):
            key = command.split()[0]
            for name, _ in files:
                before = statistics.median(results[(key, "before", name)])
                after = statistics.median(results[(key, "after", name)])
                shown = f"> {LIMIT_GIB << 10}" if before == float("inf") else f"{before:.0f}"
                ratio = "" if before == float("inf") else f"{after / before:.2f}"
                print(f"| {command} | {name} | {shown} | {after:.0f} | {ratio} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
