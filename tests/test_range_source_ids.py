"""`report --range` leaves out a row whose source_id BASE already has, searching BASE by time
(git/ranges.py): the count a range gives is what a report of HEAD counts beyond a report of
BASE, wherever BASE holds the id that it can (the log that only grew, a backup rotated at BASE,
a log rotated inside the range), and for ids of any shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from telemetry_csv.config import load_settings
from telemetry_csv.git.ranges import parse_range, rows_added, rows_at
from telemetry_csv.logfile import source_ids
from telemetry_csv.logfile.schema import Row
from telemetry_csv.logfile.source_ids import WINDOW_HOURS, SeenIds
from testing.logfiles import commit_all, rows
from testing.util import EXTENDED_HEADER, extended, run_cli

HOUR = "20261201T03"  # the hour the slices a range adds are of
LOG = "usage.csv"
# A backup rotated when no slice of HOUR had been imported yet, by clocks that agree.
EARLY_BACKUP = "usage-20250101T000000Z.csv"


def slice_line(hour: str, digest: str, task_type: str = "execute") -> str:
    """An importer's slice: its id starts with the UTC hour (`YYYYMMDDTHH`) its usage began."""
    stamp = f"{hour[:4]}-{hour[4:6]}-{hour[6:8]}T{hour[9:11]}:40:00Z"
    return (
        f"{stamp},claude-sonnet-4-5,1000,20,true,{task_type},60000,,claude-code,"
        f"{hour}Z-{digest:0>16},600,0\n"
    )


def usage_json_line(response_id: str) -> str:
    """A row from `log --usage-json`: its id is the response's, with no time in it."""
    return f"2026-12-01T03:10:00Z,gpt-5,900,30,true,plan,2000,,usage-json,{response_id},,\n"


def hours_after(hour: str, hours: int) -> str:
    from datetime import UTC, datetime, timedelta

    moment = datetime.strptime(hour, "%Y%m%dT%H").replace(tzinfo=UTC) + timedelta(hours=hours)
    return moment.strftime("%Y%m%dT%H")


OLDER = [slice_line(hours_after(HOUR, -24 * day), f"d{day}") for day in range(60, 0, -1)]
SAME_DAY = [slice_line(hours_after(HOUR, hour), f"s{hour}") for hour in (-3, -1, 0, 5)]
MANY_DAYS = [slice_line(hours_after(HOUR, -24 * day), f"m{day}") for day in range(70)]


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    """Commit `.telemetry` holding exactly `files` (name -> rows, under the extended header)."""
    folder = repo / ".telemetry"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_text(EXTENDED_HEADER + body)
    return commit_all(repo, message)


def counted(found: list[Row]) -> int:
    """How many of a range's rows a report counts (each id once among them)."""
    seen = SeenIds()
    return sum(1 for row in found if seen.counts(row))


def range_and_difference(repo: Path, base: dict[str, str], head: dict[str, str]) -> list[int]:
    """[rows the range BASE..HEAD counts, rows a report of HEAD counts less those of BASE]."""
    base_id = commit_files(repo, base, "base")
    head_id = commit_files(repo, head, "head")
    settings = load_settings(repo)
    added = rows_added(parse_range(f"{base_id}..{head_id}", repo), settings, repo)
    totals = [len(list(rows_at(commit, settings, repo))) for commit in (head_id, base_id)]
    return [counted(added), totals[0] - totals[1]]


A, A_AGAIN, B = slice_line(HOUR, "a"), slice_line(HOUR, "a", "plan"), slice_line(HOUR, "b")
PLAIN = extended(rows(1, 2))
# A slice more than the window before now, and the last of the window after it, both past.
OLD_HOUR = "20240101T03"
OLD, OLD_AGAIN = slice_line(OLD_HOUR, "o"), slice_line(OLD_HOUR, "o", "plan")
OLD_BACKUP = "usage-20240102T000000Z.csv"

CASES = {
    # The log only grew: BASE's ids are searched in the bytes read for the range.
    "a repeat of a slice far back in the log, among others of its day": (
        {LOG: A + PLAIN + "".join(OLDER + SAME_DAY)},
        {LOG: A + PLAIN + "".join(OLDER + SAME_DAY) + A_AGAIN + SAME_DAY[1] + B},
        1,
    ),
    "a repeat of the log's first row, next to its header": ({LOG: A}, {LOG: A + A_AGAIN + B}, 1),
    "a repeat of the log's last row, with no other row": ({LOG: A}, {LOG: A + A_AGAIN}, 0),
    "a repeat of a slice whose fields BASE stores quoted": (
        {LOG: PLAIN + A.replace(",claude-code,", ',"claude-code","').replace("a,600", 'a",600')},
        {
            LOG: PLAIN
            + A.replace(",claude-code,", ',"claude-code","').replace("a,600", 'a",600')
            + A_AGAIN
            + B
        },
        1,
    ),
    "a slice repeated inside the range only": ({LOG: PLAIN}, {LOG: PLAIN + A + A_AGAIN + B}, 2),
    "slices of more days than are searched in memory": (
        {LOG: "".join(MANY_DAYS)},
        {LOG: "".join(MANY_DAYS) + "".join(reversed(MANY_DAYS)) + B},
        1,
    ),
    # Backups are searched when they may hold the ids: rotated after their hour began.
    "a repeat of a slice in a backup rotated at BASE": (
        {"usage-20261201T050000Z.csv": PLAIN + A, LOG: PLAIN},
        {"usage-20261201T050000Z.csv": PLAIN + A, LOG: PLAIN + A_AGAIN + B},
        1,
    ),
    "a backup rotated a day before the slice's hour, just inside the clocks' slack": (
        {"usage-20261130T030000Z.csv": A, LOG: PLAIN},
        {"usage-20261130T030000Z.csv": A, LOG: PLAIN + A_AGAIN + B},
        1,
    ),
    "the log rotated inside the range": (
        {LOG: PLAIN + A},
        {"usage-20261201T060000Z.csv": PLAIN + A, LOG: A_AGAIN + B},
        1,
    ),
    "a backup older than the slices, and a repeat in the log": (
        {EARLY_BACKUP: PLAIN, LOG: A},
        {EARLY_BACKUP: PLAIN, LOG: A + B + A_AGAIN},
        1,
    ),
    # An id with no time in it may be anywhere: every backup is searched.
    "a response's id repeated from an old backup": (
        {EARLY_BACKUP: usage_json_line("msg_01Xy"), LOG: PLAIN},
        {EARLY_BACKUP: usage_json_line("msg_01Xy"), LOG: PLAIN + usage_json_line("msg_01Xy") + B},
        1,
    ),
    "a response's id among the added rows makes even an old backup searched": (
        {EARLY_BACKUP: A, LOG: PLAIN},
        {EARLY_BACKUP: A, LOG: PLAIN + A_AGAIN + usage_json_line("resp_9") + B},
        2,
    ),
    # The readers' window: a slice read again within it after the newest of its source is
    # one row; past it, it counts again (`source_ids`), so BASE is read whole to know.
    "an old slice again, BASE's newest slice the window after it": (
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, WINDOW_HOURS), "n")},
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, WINDOW_HOURS), "n") + OLD_AGAIN},
        0,
    ),
    "an old slice again, BASE's newest slice an hour past the window after it": (
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, WINDOW_HOURS + 1), "n")},
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, WINDOW_HOURS + 1), "n") + OLD_AGAIN},
        1,
    ),
    "an old slice again, from a backup, BASE's newest slice past the window after it": (
        {OLD_BACKUP: OLD, LOG: slice_line(hours_after(OLD_HOUR, WINDOW_HOURS + 1), "n")},
        {
            OLD_BACKUP: OLD,
            LOG: slice_line(hours_after(OLD_HOUR, WINDOW_HOURS + 1), "n") + OLD_AGAIN,
        },
        1,
    ),
    "an old slice again, within the window of every slice BASE has": (
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, 24), "n")},
        {LOG: OLD + slice_line(hours_after(OLD_HOUR, 24), "n") + OLD_AGAIN + B},
        1,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_range_counts_what_head_counts_beyond_base(repo: Path, case: str) -> None:
    base, head, expected = CASES[case]
    assert range_and_difference(repo, base, head) == [expected, expected]


def test_a_backup_rotated_before_the_clocks_slack_is_not_searched(repo: Path) -> None:
    """The search's bound, shown by a backup whose name contradicts its rows (rotated a second
    before the day before the slice's hour began, yet holding the slice): it is not read, so
    the repeat counts; one second later, it is."""
    outside = "usage-20261130T025959Z.csv"
    found = range_and_difference(repo, {outside: A, LOG: PLAIN}, {outside: A, LOG: PLAIN + A_AGAIN})
    assert found == [1, 0]


def test_report_range_leaves_out_a_slice_a_backup_rotated_at_base_holds(repo: Path) -> None:
    backup = "usage-20261201T050000Z.csv"
    commit_files(repo, {backup: PLAIN + A, LOG: PLAIN}, "base")
    commit_files(repo, {backup: PLAIN + A, LOG: PLAIN + A_AGAIN + B}, "head")
    done = run_cli("report", "--format", "json", "--no-costs", "--range", "HEAD~1..HEAD", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 1


@pytest.mark.parametrize(
    ("source_id", "expected"),
    [("20260101T00Z-kept", True), ("20260101T00Z-other", False), ("msg_01", True), ("x", False)],
)
def test_seen_ids_tell_what_they_hold_without_remembering_it(
    source_id: str, expected: bool
) -> None:
    seen = SeenIds()
    seen.first("claude-code", "20260101T00Z-kept")
    seen.first("claude-code", "msg_01")
    assert seen.holds("claude-code", source_id) is expected
    assert seen.holds("claude-code", source_id) is expected  # asking kept nothing
    assert not seen.holds("codex", source_id)
    assert seen.repeats == 0


def _generated_history(seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """BASE's and HEAD's files of a log written over a year and a half: rows in the order they
    were written, a third of them importers' slices (imported within two days of their hour,
    some imported again months later), some responses' ids, some without an id; rotated into
    backups named for when they were rotated; HEAD appends rows (the range's ids never repeat
    each other), now and then after a rotation inside the range."""
    import random
    from datetime import UTC, datetime, timedelta

    rng = random.Random(seed)
    moment = datetime(2024, 6, 1, tzinfo=UTC)
    written: list[tuple[datetime, str, str]] = []  # (when, line, its id or "")
    slices: list[tuple[str, str]] = []  # (hour, digest) imported so far
    for number in range(rng.randint(150, 400)):
        moment += timedelta(minutes=rng.choice([3, 40, 300, 3000, 20000]))
        draw = rng.random()
        if draw < 0.35 or (draw < 0.45 and not slices):
            hour = (moment - timedelta(hours=rng.randint(0, 48))).strftime("%Y%m%dT%H")
            slices.append((hour, f"{number:x}"))
            written.append((moment, slice_line(hour, f"{number:x}"), f"{hour}-{number:x}"))
        elif draw < 0.45:  # a slice imported again, by another clone, maybe long after
            hour, digest = rng.choice(slices)
            written.append((moment, slice_line(hour, digest, "plan"), f"{hour}-{digest}"))
        elif draw < 0.5:
            response = f"msg_{rng.randrange(40):02d}"
            written.append((moment, usage_json_line(response), response))
        else:
            written.append((moment, extended(rows(number % 90)), ""))
    cut = rng.randint(len(written) // 2, len(written) - 10)
    base_rows, added = written[:cut], written[cut:]
    ids_added: set[str] = set()
    kept = []
    for entry in added:
        if not entry[2] or entry[2] not in ids_added:
            ids_added.add(entry[2])
            kept.append(entry)

    def files(entries: list[tuple[datetime, str, str]], rotations: list[int]) -> dict[str, str]:
        found, start = {}, 0
        for end in rotations:
            stamp = (entries[end - 1][0] + timedelta(minutes=1)).strftime("%Y%m%dT%H%M%SZ")
            found[f"usage-{stamp}.csv"] = "".join(line for _, line, _ in entries[start:end])
            start = end
        found[LOG] = "".join(line for _, line, _ in entries[start:])
        return found

    rotations = sorted(rng.sample(range(1, cut), rng.randint(0, 4)))
    head_rotations = rotations + ([cut] if rng.random() < 0.3 else [])
    return files(base_rows, rotations), files(base_rows + kept, head_rotations)


@pytest.mark.parametrize("seed", range(12))
def test_a_range_counts_what_head_counts_beyond_base_on_generated_histories(
    repo: Path, seed: int
) -> None:
    base, head = _generated_history(seed)
    found, expected = range_and_difference(repo, base, head)
    assert found == expected


def test_seen_ids_tell_they_hold_an_id_they_packed() -> None:
    seen = SeenIds()
    count = source_ids.NAMED_KEPT + 10
    for number in range(count):
        assert seen.first("claude-code", f"20260101T00Z-{number:016x}")
    assert seen.holds("claude-code", f"20260101T00Z-{0:016x}")  # packed by now
    assert seen.holds("claude-code", f"20260101T00Z-{count - 1:016x}")
    assert not seen.holds("claude-code", f"20260101T00Z-{count:016x}")
    assert not seen.first("claude-code", f"20260101T00Z-{0:016x}")  # as `first` finds it
