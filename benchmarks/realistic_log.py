"""Usage logs shaped like a real team's, for every benchmark (and a few tests): seeded, fast.

    .venv/bin/python benchmarks/realistic_log.py OUT [--size BYTES] [--seed N]
        [--shape extended|legacy] [--layout single|history|team]

What a team of eleven developers produces over two years, as far as the readers can tell:

- irregular gaps: work comes in sessions (a few to dozens of tasks minutes apart), mostly on
  weekdays and in each developer's working hours, with quiet weekends, holidays of one to three
  weeks, and more activity as the team adopts the tool;
- eleven UTC offsets interleaved in one file as merged branches leave them: each developer
  writes in their own zone, and the zones with summer time change offset twice a year (`Z`,
  `+00:00`, `+01:00`, `+02:00`, `+05:30`, `+05:45`, `+09:00`, `-04:00`, `-05:00`, `-07:00`,
  `-08:00`); a few rows out of order, from branches merged late; some timestamps with
  milliseconds or microseconds;
- twelve models whose use changes over time, two of them local models no price list knows and
  one (Cloudflare's `@cf/…`) stored behind an apostrophe; five task types; tokens and durations
  spread log-normally by task type; success rates differing by model;
- notes: about 45% empty, a fifth with commas or quotes (some starting with a quote), a few
  non-ASCII, about 1% starting with a formula character (stored neutralised);
- in the extended shape (`--shape extended`, what every new file has), rows as each writer
  writes them: typed with `log` (no source), `run` (source `run`, cache parts sometimes known),
  `log --usage-json` (cache parts), and `import` slices of Claude Code, Codex and Gemini CLI
  sessions (UTC timestamps, a `source_id`, cache parts, `… session 3f2a9c1e, branch main`
  notes); about one imported slice in a hundred is there twice, as when two clones imported
  the same session and merged. The legacy shape (`--shape legacy`) has the 8-column rows of
  before.

Layouts: `single` is one file; `history` is a log and its backups as rotation leaves them
(`usage-YYYYMMDDTHHMMSSZ.csv`, 10 MiB each by default), the older ones in the 8-column shape,
the rotation where the header changed, the newer ones extended; `team` is the team layout: an
old `usage.csv` with its backups, then shards (`usage.rows/*.csv`, one per branch and commit,
a few to a few hundred rows) of which the older ones are folded (`fold-*.csv` and manifests,
as `telemetry-csv fold` writes them).

Every line is canonical (the generator's own formatting is held to `Schema.format_line` on a
sample), so `check` passes. The same seed and size give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from telemetry_csv.logfile import folds
from telemetry_csv.logfile.schema import (
    EXTENDED_HEADER_LINE,
    HEADER_LINE,
    Row,
    Schema,
    neutralise,
)

MIB = 1024 * 1024
SECONDS_PER_DAY = 86_400
FIRST_DAY = 20_059  # 2024-12-02, a Monday (days since 1970-01-01)
DAYS = 730
FIRST_INSTANT = FIRST_DAY * SECONDS_PER_DAY
# In the history and team layouts, rows from this day on have the extended header's shape.
EXTENDED_FROM_DAY = 400


class Model(NamedTuple):
    name: str  # as given; stored neutralised where a spreadsheet would run it
    weight: float
    first: int  # days after FIRST_DAY the team starts using it
    last: int  # days after FIRST_DAY it is last used
    success: float  # base probability of a successful task


MODELS = (
    Model("claude-3-5-sonnet-20241022", 9, 0, 420, 0.86),
    Model("claude-sonnet-4-20250514", 12, 170, DAYS, 0.9),
    Model("claude-3-5-haiku-20241022", 4, 0, DAYS, 0.78),
    Model("openai/gpt-4o", 6, 0, 600, 0.82),
    Model("gpt-4o-mini", 3, 0, 500, 0.72),
    Model("o3-mini", 2, 60, DAYS, 0.84),
    Model("gemini-2.5-pro", 4, 120, DAYS, 0.85),
    Model("gemini-2.0-flash", 2, 30, DAYS, 0.76),
    Model("deepseek-chat", 1.5, 50, DAYS, 0.8),
    Model("gpt-5-codex", 3, 300, DAYS, 0.87),
    Model("llama3.1:70b", 1.2, 0, DAYS, 0.7),  # local (ollama): unpriced
    Model("@cf/meta/llama-3.1-8b-instruct", 0.6, 200, DAYS, 0.73),  # stored as '@cf/…
)
# Which models each importer's agent runs.
IMPORT_MODELS = {
    "claude-code": ("claude-sonnet-4-20250514", "claude-3-5-sonnet-20241022"),
    "codex": ("gpt-5-codex", "o3-mini", "gpt-4o-mini"),
    "gemini": ("gemini-2.5-pro", "gemini-2.0-flash"),
}
# One zone per developer: eleven offsets between them over a year.
ZONES = (
    "UTC",  # writes `Z` (a CI runner's clock)
    "Europe/London",  # +00:00 / +01:00
    "Europe/Berlin",  # +01:00 / +02:00
    "Europe/Berlin",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Tokyo",  # +09:00
    "America/New_York",  # -05:00 / -04:00
    "America/New_York",
    "America/Los_Angeles",  # -08:00 / -07:00
    "Europe/London",
)
# (task type, weight, median prompt tokens, median completion tokens, median seconds)
TASKS = (
    ("execute", 40, 18_000, 4_000, 240),
    ("plan", 15, 9_000, 2_500, 60),
    ("verify", 20, 12_000, 1_200, 120),
    ("discuss", 10, 5_000, 1_500, 45),
    ("quick", 15, 1_500, 300, 8),
)
PLAIN_NOTES = (
    "fix flaky login test",
    "refactor store module",
    "add retries to upload",
    "PR #{n}",
    "bump dependencies",
    "write docs for report",
    "investigate slow CI job {n}",
    "'tis the season: freeze",
)
CSV_NOTES = (
    'review: "looks good", ship it',
    "split parser, lexer and printer",
    '"quick" fix, needs follow-up',
    '"no", said the linter',
    "retry #{n}, then give up",
    'renamed "foo" to "bar", kept API',
    "tests: 12 passed, 1 skipped",
    '"flaky" again',
)
UNICODE_NOTES = (
    "überprüfe die Tests",
    "修复登录页面",
    "naïve café fix — résumé page",
    "🚀 deploy staging",
    "исправить ошибку {n}",
    "「レビュー」対応",
)
FORMULA_NOTES = ("-v flag removed", "=SUM was in a fixture", "+1 from review", "@team see PR")
BRANCHES = ("main", "fix/login", "feature/report-range", "deps/bump", "docs", "perf/{n}")
# Each developer's habits: weights of (typed with `log`, `run`, `log --usage-json`, import).
HABITS = ((5, 2, 1, 0), (3, 1, 1, 5), (3, 3, 2, 2), (2, 1, 0, 6), (4, 1, 1, 3))


def write_realistic_log(
    path: Path, size: int = 10 * MIB, *, seed: int = 15, shape: str = "legacy"
) -> int:
    """One log file of at most `size` bytes over two years, in `shape` ("legacy": the 8-column
    header; "extended": the 12-column one); returns the number of rows."""
    lines = _lines(size, seed, shape)
    header = EXTENDED_HEADER_LINE if shape == "extended" else HEADER_LINE
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, header, lines)
    return len(lines)


def write_history(
    folder: Path, size: int, *, seed: int = 15, file_size: int = 10 * MIB
) -> tuple[Path, int]:
    """`usage.csv` and its backups in `folder`, about `size` bytes in all: the rows of the
    first EXTENDED_FROM_DAY days in the 8-column shape, then extended ones, rotated into a
    backup every `file_size` bytes and where the header changed. Returns the log's path and
    the number of rows."""
    folder.mkdir(parents=True, exist_ok=True)
    files = _rotated(_lines(size, seed, "history"), file_size)
    for number, (header, lines) in enumerate(files):
        name = "usage.csv" if number == len(files) - 1 else f"usage-{_backup_stamp(number)}.csv"
        _write(folder / name, header, lines)
    return folder / "usage.csv", sum(len(lines) for _, lines in files)


def write_team(
    folder: Path,
    size: int,
    *,
    seed: int = 15,
    legacy_share: float = 0.3,
    folded_share: float = 0.6,
    file_size: int = 10 * MIB,
) -> tuple[Path, int, int]:
    """The team layout in `folder` (a `.telemetry` folder), about `size` bytes in all: the
    first `legacy_share` of the rows in `usage.csv` and its backups, the rest in shards of a
    few to a few hundred rows, the oldest `folded_share` of the shards folded into folds of at
    most `file_size` bytes. Returns the log's path, the rows and the number of shard files
    (loose or folded)."""
    rng = random.Random(seed * 7 + 1)
    lines = _lines(size, seed, "history")
    cut = int(len(lines) * legacy_share)
    folder.mkdir(parents=True, exist_ok=True)
    files = _rotated(lines[:cut], file_size)
    for number, (header, part) in enumerate(files):
        name = "usage.csv" if number == len(files) - 1 else f"usage-{_backup_stamp(number)}.csv"
        _write(folder / name, header, part)
    shards: list[tuple[str, bytes]] = []
    position = cut
    while position < len(lines):
        count = max(1, min(int(rng.lognormvariate(math.log(60), 1.1)), 600))
        chunk = lines[position : position + count]
        # A shard a version before the extended header started keeps its 8-column header.
        extended = any(line.shape for line in chunk)
        header = EXTENDED_HEADER_LINE if extended else HEADER_LINE
        body = "".join(line.text(extended) + "\n" for line in chunk)
        name = f"{_stamp(chunk[0].instant)}-{rng.getrandbits(64):016x}.csv"
        shards.append((name, (header + "\n" + body).encode()))
        position += count
    rows_folder = folder / "usage.rows"
    rows_folder.mkdir(exist_ok=True)
    folded = int(len(shards) * folded_share)
    for group in folds.plan(shards[:folded], file_size):
        made = folds.build([(name, dict(shards)[name]) for name in group])
        (rows_folder / made.manifest_name).write_bytes(made.manifest)
        (rows_folder / made.name).write_bytes(made.data)
    for name, data in shards[folded:]:
        (rows_folder / name).write_bytes(data)
    return folder / "usage.csv", len(lines), len(shards)


class Line(NamedTuple):
    instant: float
    shape: bool  # True: a row of the extended header's era (it may have extra values)
    head: str  # the canonical 8-column line
    extras: str  # ",source,source_id,read,write", or "" for none

    def text(self, extended: bool) -> str:
        if not extended:
            return self.head
        return self.head + (self.extras or ",,,,")


def _lines(size: int, seed: int, shape: str) -> list[Line]:
    """Lines of about `size` bytes in all (headers aside), in file order."""
    rng = random.Random(seed)
    extended = shape != "legacy"
    probe = random.Random(seed + 1)
    sample = [line for _, line in zip(range(3000), _rows(probe, 3000, shape), strict=False)]
    average = sum(len(line.text(extended).encode()) + 1 for line in sample) / len(sample)
    count = int(size / average * 1.03) + 10
    found: list[Line] = []
    total = 0
    for line in _rows(rng, count, shape):
        length = len(line.text(extended and line.shape).encode()) + 1
        if total + length > size - 200:
            break
        found.append(line)
        total += length
    return found


def _rotated(lines: list[Line], file_size: int) -> list[tuple[str, list[Line]]]:
    """Files as rotation cuts `lines`: at `file_size`, and where the header changes."""
    files: list[tuple[str, list[Line]]] = []
    current: list[Line] = []
    size = 0
    extended = False
    for line in lines:
        length = len(line.text(line.shape).encode()) + 1
        if current and (size + length > file_size - 200 or line.shape != extended):
            files.append(_file(current, extended))
            current, size = [], 0
        extended = line.shape
        current.append(line)
        size += length
    files.append(_file(current, extended))
    return files


def _file(lines: list[Line], extended: bool) -> tuple[str, list[Line]]:
    return (EXTENDED_HEADER_LINE if extended else HEADER_LINE), lines


def _write(path: Path, header: str, lines: list[Line]) -> None:
    extended = header == EXTENDED_HEADER_LINE
    body = "".join(line.text(extended) + "\n" for line in lines)
    path.write_text(header + "\n" + body, encoding="utf-8")


def _backup_stamp(number: int) -> str:
    return f"2025{number // 28 + 1:02d}{number % 28 + 1:02d}T120000Z"


def _stamp(instant: float) -> str:
    return datetime.fromtimestamp(int(instant), UTC).strftime("%Y%m%dT%H%M%SZ")


def _rows(rng: random.Random, count: int, shape: str) -> Iterator[Line]:
    """`count` lines (shape "legacy": all of the 8-column era; "extended": all of the extended
    one; "history": the era by date), in file order: by time, a few out of order."""
    writer = _Writer(rng, shape)
    pending: list[Line] = []
    for moment, developer in _instants(rng, count):
        pending.extend(writer.lines(moment, developer))
        if len(pending) > 400:
            yield from _merged_late(rng, pending[:200])
            del pending[:200]
    yield from _merged_late(rng, pending)


def _merged_late(rng: random.Random, lines: list[Line]) -> list[Line]:
    """Now and then a block of rows comes after later ones (a branch merged late)."""
    if len(lines) > 20 and rng.random() < 0.5:
        start = rng.randrange(len(lines) - 10)
        block = lines[start : start + rng.randrange(1, 6)]
        del lines[start : start + len(block)]
        at = min(len(lines), start + rng.randrange(5, 60))
        lines[at:at] = block
    return lines


def _instants(rng: random.Random, count: int) -> list[tuple[float, int]]:
    """`count` (Unix time, developer) pairs over two years, in sessions of work, sorted."""
    holidays: set[int] = set()
    for _ in range(8):
        start = rng.randrange(DAYS)
        holidays.update(range(start, start + rng.choice((7, 10, 14, 21))))
    weights = []
    for offset in range(DAYS):
        weekday = (FIRST_DAY + offset + 3) % 7  # 0 is Monday
        weight = 0.0 if offset in holidays else (1.0 if weekday < 5 else 0.12)
        weight *= 0.25 + 0.75 * offset / DAYS  # the team adopts the tool over time
        weight *= rng.uniform(0.3, 1.7)  # busy and quiet days
        weights.append(weight)
    cumulative = list(itertools.accumulate(weights))
    found: list[tuple[float, int]] = []
    days = range(DAYS)
    while len(found) < count:
        offset = rng.choices(days, cum_weights=cumulative)[0]
        developer = rng.randrange(len(ZONES))
        local_start = rng.gauss(14, 3) * 3600
        moment = FIRST_INSTANT + offset * SECONDS_PER_DAY + local_start
        moment -= _zone_offset(ZONES[developer], moment)
        for _ in range(max(1, int(rng.expovariate(1 / 9)))):
            found.append((moment + rng.random(), developer))
            moment += rng.expovariate(1 / 150) + rng.random() * 20
            if rng.random() < 0.04:
                moment += rng.lognormvariate(8, 1)  # a long pause inside the session
    found.sort()
    return found[:count]


_OFFSETS: dict[tuple[str, int], int] = {}


def _zone_offset(zone: str, moment: float) -> int:
    """Seconds east of UTC of `zone` at `moment` (cached per hour)."""
    hour = int(moment // 3600)
    key = (zone, hour)
    found = _OFFSETS.get(key)
    if found is None:
        offset = datetime.fromtimestamp(hour * 3600, ZoneInfo(zone)).utcoffset()
        found = _OFFSETS[key] = int(offset.total_seconds()) if offset else 0
    return found


class _Writer:
    """Turns an instant and a developer into the row(s) that developer's tools write."""

    def __init__(self, rng: random.Random, shape: str):
        self.rng = rng
        self.shape = shape
        self.schema = Schema()
        self.sessions: dict[tuple[int, str], tuple[str, str]] = {}  # (developer, source) ->
        self.recent_imports: list[Line] = []
        self.checked = 0

    def lines(self, moment: float, developer: int) -> list[Line]:
        rng = self.rng
        day = min(max(int(moment // SECONDS_PER_DAY) - FIRST_DAY, 0), DAYS - 1)
        extended = self.shape == "extended" or (
            self.shape == "history" and day >= EXTENDED_FROM_DAY
        )
        writer = 0
        if extended:
            writer = rng.choices(range(4), HABITS[developer % len(HABITS)])[0]
        if writer == 3:
            return self._imported(moment, day, developer)
        models = [model for model in MODELS if model.first <= day <= model.last]
        model = rng.choices(models, [model.weight for model in models])[0]
        kind, _, prompt, completion, seconds = rng.choices(TASKS, [task[1] for task in TASKS])[0]
        success = model.success - (0.08 if kind == "execute" else 0) + 0.08 * (kind == "quick")
        row = Row(
            self._timestamp(moment, developer, fraction=writer == 0),
            model.name,
            int(rng.lognormvariate(math.log(prompt), 0.9)),
            int(rng.lognormvariate(math.log(completion), 0.8)),
            rng.random() < success,
            kind,
            max(1, int(rng.lognormvariate(math.log(seconds * 1000), 0.7))),
            self._notes(),
        )
        extras = ""
        if writer == 1 or writer == 2:
            cached = writer == 2 or rng.random() < 0.4
            read = int(row.prompt_tokens * rng.uniform(0.3, 0.95)) if cached else None
            write = int((row.prompt_tokens - (read or 0)) * rng.uniform(0, 0.2)) if cached else None
            row = row._replace(
                source="run" if writer == 1 else "usage-json",
                cache_read_tokens=read,
                cache_write_tokens=write,
            )
            extras = (
                f",{row.source},,{'' if read is None else read},{'' if write is None else write}"
            )
        return [self._line(moment, extended, row, extras)]

    def _imported(self, moment: float, day: int, developer: int) -> list[Line]:
        """One imported slice (UTC, an id, cache parts), now and then again: a clone that
        imported the same session, merged."""
        rng = self.rng
        source = rng.choices(("claude-code", "codex", "gemini"), (5, 3, 1))[0]
        session = self.sessions.get((developer, source))
        if session is None or rng.random() < 0.15:
            branch = rng.choice(BRANCHES).replace("{n}", str(rng.randrange(1, 900)))
            session = self.sessions[developer, source] = (f"{rng.getrandbits(32):08x}", branch)
        names = IMPORT_MODELS[source]
        available = [m for m in MODELS if m.name in names and m.first <= day <= m.last]
        model = rng.choice(available or MODELS[:1])
        kind = rng.choices(("execute", "plan", "verify", "discuss"), (6, 2, 2, 1))[0]
        prompt = int(rng.lognormvariate(math.log(350_000), 1.0))
        read = int(prompt * rng.uniform(0.8, 0.97))
        write = int((prompt - read) * rng.uniform(0.1, 0.6))
        stamp = datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        window = stamp[:4] + stamp[5:7] + stamp[8:10] + "T" + stamp[11:13] + "Z"
        digest = hashlib.sha256(f"{source}{session}{moment}".encode()).hexdigest()[:16]
        row = Row(
            stamp,
            model.name,
            prompt,
            int(rng.lognormvariate(math.log(6_000), 0.9)),
            rng.random() < model.success + 0.05,
            kind,
            min(3_600_000, max(1_000, int(rng.lognormvariate(math.log(600_000), 0.8)))),
            f"{source} session {session[0]}, branch {session[1]}",
            source,
            f"{window}-{digest}",
            read,
            write,
        )
        line = self._line(moment, True, row, f",{source},{row.source_id},{read},{write}")
        found = [line]
        self.recent_imports.append(line)
        if len(self.recent_imports) > 50:
            del self.recent_imports[:25]
        if rng.random() < 0.01:
            found.append(rng.choice(self.recent_imports))  # imported again, merged
        return found

    def _line(self, moment: float, extended: bool, row: Row, extras: str) -> Line:
        head = self._head(row)
        if self.checked < 200:  # the generator's lines are what the schema writes
            self.checked += 1
            assert self.schema.format_line(row, extended=True) == head + (extras or ",,,,"), row
            if not extras:
                assert self.schema.format_line(row, extended=False) == head, row
        return Line(moment, extended, head, extras)

    def _head(self, row: Row) -> str:
        notes = neutralise(row.notes)
        if "," in notes or '"' in notes:
            notes = '"' + notes.replace('"', '""') + '"'
        return (
            f"{row.timestamp},{neutralise(row.model)},{row.prompt_tokens},"
            f"{row.completion_tokens},{'true' if row.task_success else 'false'},"
            f"{row.task_type},{row.duration_ms},{notes}"
        )

    def _timestamp(self, moment: float, developer: int, *, fraction: bool) -> str:
        zone = ZONES[developer]
        offset = _zone_offset(zone, moment)
        local = int(moment) + offset
        text = datetime.fromtimestamp(local, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if fraction:
            kind = self.rng.random()
            if kind < 0.2:
                text += f".{int(moment % 1 * 1000):03d}"  # milliseconds, as JavaScript writes
            elif kind < 0.3:
                text += f".{int(moment % 1 * 1_000_000):06d}"  # microseconds, as Python writes
        if zone == "UTC":
            return text + "Z"
        sign = "-" if offset < 0 else "+"
        hours, minutes = divmod(abs(offset) // 60, 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"

    def _notes(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.45:
            return ""
        if kind < 0.69:
            pool: tuple[str, ...] = PLAIN_NOTES
        elif kind < 0.89:
            pool = CSV_NOTES
        elif kind < 0.99:
            pool = UNICODE_NOTES
        else:
            pool = FORMULA_NOTES
        return rng.choice(pool).replace("{n}", str(rng.randrange(1, 5000)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="a file (single), or a folder (history, team)")
    parser.add_argument("--size", type=int, default=10 * MIB)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--shape", choices=("extended", "legacy"), default="extended")
    parser.add_argument("--layout", choices=("single", "history", "team"), default="single")
    args = parser.parse_args()
    if args.layout == "single":
        rows = write_realistic_log(args.output, args.size, seed=args.seed, shape=args.shape)
        print(f"{args.output}: {rows:,} rows, {args.output.stat().st_size:,} bytes")
    elif args.layout == "history":
        log, rows = write_history(args.output, args.size, seed=args.seed)
        print(f"{log.parent}: {rows:,} rows in {len(list(log.parent.glob('usage*.csv')))} files")
    else:
        log, rows, shards = write_team(args.output, args.size, seed=args.seed)
        print(f"{log.parent}: {rows:,} rows, {shards:,} shards")


if __name__ == "__main__":
    main()
