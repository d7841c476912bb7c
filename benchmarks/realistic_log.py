"""Usage logs shaped like a real team's: for benchmarks that must not flatter the code.

    .venv/bin/python benchmarks/realistic_log.py OUT.csv [--size BYTES] [--seed N]

What a team of developers produces over two years, as far as a report can tell:

- irregular gaps: work comes in sessions (a few to dozens of tasks minutes apart), mostly on
  weekdays and in each developer's working hours, with quiet weekends, holidays of one to three
  weeks, and more activity as the team adopts the tool;
- twelve models whose use changes over time (new models arrive, old ones fade), two of them
  local models that no price list knows;
- eleven UTC offsets, one per developer, interleaved in one file as merged branches leave them
  (and a few rows out of order, from branches merged late);
- tokens and durations spread log-normally by task type; success rates differing by model;
- notes: about 45% empty, a fifth with commas and quotes (some starting with a quote), some
  non-ASCII, a few starting with a formula character (stored neutralised).

Lines are written with the schema's own `format_line`, so every one is canonical and `check`
passes. The same seed and size give the same bytes.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
from pathlib import Path
from typing import NamedTuple

from telemetry_csv.logfile.schema import HEADER_LINE, Row, Schema
from telemetry_csv.report.dates import SECONDS_PER_DAY, civil_from_days, days_from_civil

MIB = 1024 * 1024
FIRST_DAY = days_from_civil(2024, 12, 2)
DAYS = 730


class Model(NamedTuple):
    name: str
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
    Model("mistral-large-latest", 0.7, 0, 300, 0.74),
    Model("llama3.1:70b", 1.2, 0, DAYS, 0.7),  # local (ollama): unpriced
    Model("qwen2.5-coder:32b", 0.6, 200, DAYS, 0.73),  # local: unpriced
)
# One offset per developer; some developers share a zone.
OFFSETS = (
    "Z",
    "+01:00",
    "+02:00",
    "-05:00",
    "-04:00",
    "-08:00",
    "-07:00",
    "+05:30",
    "+09:00",
    "+05:45",
    "-03:30",
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
)
CSV_NOTES = (
    'review: "looks good", ship it',
    "split parser, lexer and printer",
    '"quick" fix, needs follow-up',
    '"no", said the linter',
    "retry #{n}, then give up",
    'renamed "foo" to "bar", kept API',
    "tests: 12 passed, 1 skipped",
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


def write_realistic_log(path: Path, size: int = 10 * MIB, *, seed: int = 15) -> int:
    """A valid log of at most `size` bytes spanning two years; returns the rows written."""
    rng = random.Random(seed)
    schema = Schema()
    estimate = max(1, size // 80)  # bytes per line, about, for this mix of notes
    lines = [
        schema.format_line(_row(rng, moment, developer))
        for moment, developer in _instants(rng, estimate + estimate // 10)
    ]
    total = len(HEADER_LINE) + 1 + sum(len(line.encode()) + 1 for line in lines)
    # Too many: leave out rows spread over the whole time, not the last weeks.
    while total > size and lines:
        excess = -(-(total - size) * len(lines) // total) + 1
        dropped = set(rng.sample(range(len(lines)), min(excess, len(lines))))
        total -= sum(len(lines[index].encode()) + 1 for index in dropped)
        lines = [line for index, line in enumerate(lines) if index not in dropped]
    lines.insert(0, HEADER_LINE)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _instants(rng: random.Random, count: int) -> list[tuple[float, int]]:
    """`count` (Unix time, developer) pairs over two years: sessions of work, sorted by time
    except for a few rows that a late merge put after later ones."""
    holidays: set[int] = set()
    for _ in range(8):
        start = rng.randrange(DAYS)
        holidays.update(range(start, start + rng.choice((7, 10, 14, 21))))
    day_weights = []
    for offset in range(DAYS):
        weekday = (FIRST_DAY + offset + 3) % 7  # 0 is Monday
        weight = 0.0 if offset in holidays else (1.0 if weekday < 5 else 0.12)
        weight *= 0.25 + 0.75 * offset / DAYS  # the team adopts the tool over time
        weight *= rng.uniform(0.3, 1.7)  # busy and quiet days
        day_weights.append(weight)
    cumulative = list(itertools.accumulate(day_weights))
    found: list[tuple[float, int]] = []
    while len(found) < count:
        offset = rng.choices(range(DAYS), cum_weights=cumulative)[0]
        developer = rng.randrange(len(OFFSETS))
        local_start = rng.gauss(14, 3) * 3600
        moment = (FIRST_DAY + offset) * SECONDS_PER_DAY + local_start - _offset(developer)
        for _ in range(max(1, int(rng.expovariate(1 / 9)))):
            found.append((moment, developer))
            moment += rng.expovariate(1 / 150) + rng.random() * 20
            if rng.random() < 0.04:
                moment += rng.lognormvariate(8, 1)  # a long pause inside the session
    found.sort()
    for _ in range(len(found) // 100):  # late merges
        index = rng.randrange(len(found) - 1)
        found[index], found[index + 1] = found[index + 1], found[index]
    return found[:count]


def _offset(developer: int) -> int:
    text = OFFSETS[developer]
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[4:6]) * 60)


def _row(rng: random.Random, moment: float, developer: int) -> Row:
    day = min(max(int(moment // SECONDS_PER_DAY) - FIRST_DAY, 0), DAYS - 1)
    models = [model for model in MODELS if model.first <= day <= model.last]
    model = rng.choices(models, [model.weight for model in models])[0]
    kind, _, prompt, completion, seconds = rng.choices(TASKS, [task[1] for task in TASKS])[0]
    success_rate = model.success - (0.08 if kind == "execute" else 0) + (0.08 * (kind == "quick"))
    return Row(
        _timestamp(rng, moment, developer),
        model.name,
        int(rng.lognormvariate(math.log(prompt), 0.9)),
        int(rng.lognormvariate(math.log(completion), 0.8)),
        rng.random() < success_rate,
        kind,
        max(1, int(rng.lognormvariate(math.log(seconds * 1000), 0.7))),
        _notes(rng),
    )


def _timestamp(rng: random.Random, moment: float, developer: int) -> str:
    offset = _offset(developer)
    local = int(moment) + offset
    days, second = divmod(local, SECONDS_PER_DAY)
    year, month, day = civil_from_days(days)
    text = f"{year:04d}-{month:02d}-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}"
    text += f":{second % 60:02d}"
    fraction = rng.random()
    if fraction < 0.2:
        text += f".{int(moment % 1 * 1000):03d}"  # milliseconds, as JavaScript writes them
    elif fraction < 0.3:
        text += f".{int(moment % 1 * 1_000_000):06d}"  # microseconds, as Python writes them
    return text + OFFSETS[developer]


def _notes(rng: random.Random) -> str:
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
    parser.add_argument("output", type=Path)
    parser.add_argument("--size", type=int, default=10 * MIB)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rows = write_realistic_log(args.output, args.size, seed=args.seed)
    print(f"{args.output}: {rows:,} rows, {args.output.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
