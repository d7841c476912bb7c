"""The extended format in the team layout: where the two features meet.

Every new shard has the extended header; a shard an older version started keeps its shape; a
batch fills the current shard and then new ones; a tail moved out of an 8-column shard takes the
extended shape; a fold of shards of both shapes has the extended header and a manifest that
still names each shard's own bytes; every reader (check, cat, report, report --range, rows_at,
export, the import's id look-up) counts each shard once and each source_id once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from otlp_receiver import Receiver, running

from telemetry_csv.capture.appending import log_rows
from telemetry_csv.config import load_settings
from telemetry_csv.git.ranges import rows_at
from telemetry_csv.git.worktree import Worktree
from telemetry_csv.hooks import append_only_hook
from telemetry_csv.importing.recording import ids_in_log, log_token
from telemetry_csv.logfile import folds, layout, sharding
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.snapshot import read_log
from testing.logfiles import commit_all
from testing.util import (
    BIN,
    EXTENDED_HEADER,
    HEADER,
    extended,
    git,
    git_env,
    notes_of,
    row_line,
    run_cli,
    shards,
)

SCHEMA = Schema()
FOLDER = ".telemetry/usage.rows"
LOG = ".telemetry/usage.csv"


@pytest.fixture(autouse=True)
def _no_range_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "TELEMETRY_CSV_RETIRE_BACKUPS"):
        monkeypatch.delenv(name, raising=False)


def imported(
    number: int, source_id: str | None = None, *, prompt: int = 1000, kind: str = "execute"
) -> Row:
    """A row as `import` writes it: a source, an id (by default one of its own), cache parts."""
    return Row(
        f"2026-03-{1 + number % 28:02d}T10:{number % 60:02d}:00Z",
        "claude-sonnet-4-5",
        prompt,
        20,
        True,
        kind,
        1000 + number,
        f"claude-code session {number:08x}",
        "claude-code",
        source_id or f"20260301T10Z-{number:016x}",
        prompt // 2,
        10,
    )


def hand_row(number: int) -> Row:
    """A row typed by hand: no source, no cache parts."""
    return Row(
        f"2026-02-{1 + number % 28:02d}T09:00:00Z",
        "m",
        1,
        2,
        True,
        "plan",
        number,
        f"hand {number}",
    )


def shard_file(folder: Path, name: str, header: str, rows: list[Row]) -> Path:
    """A shard written by hand in the shape `header` says (an older version's 8 columns)."""
    folder.mkdir(parents=True, exist_ok=True)
    wide = header == EXTENDED_HEADER
    path = folder / name
    lines = "".join(SCHEMA.format_line(row, extended=wide) + "\n" for row in rows)
    path.write_text(header + lines)
    return path


def report_json(repo: Path, *args: str) -> dict[str, object]:
    done = run_cli("report", "--format", "json", "--no-costs", *args, cwd=repo)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert isinstance(found, dict)
    return found


def cat_lines(repo: Path) -> list[str]:
    done = run_cli("cat", cwd=repo)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


# Writing: the header of each shard, batches, the moved tail.


def test_new_shards_are_extended_and_an_older_8_column_shard_keeps_its_shape(
    tmp_path: Path,
) -> None:
    """Outside git the newest shard takes rows while it can: an older version's 8-column shard
    takes a typed row in its own shape, and a row with source or cache values starts a new
    shard with the extended header, leaving the old one as it was."""
    log = tmp_path / ".telemetry" / "usage.csv"
    folder = layout.shard_folder(log)
    old = shard_file(folder, "20260101T000000Z-0000000000000001.csv", HEADER, [hand_row(1)])

    def append(row: Row) -> Path:
        return sharding.append_rows(
            log, [row], SCHEMA, max_bytes=1 << 20, lock_timeout=5, repository=None
        ).path

    assert append(hand_row(2)) == old
    assert old.read_text().splitlines() == [
        HEADER.strip(),
        SCHEMA.format_line(hand_row(1)),
        SCHEMA.format_line(hand_row(2)),
    ]
    before = old.read_bytes()
    new = append(imported(3))
    assert new != old and old.read_bytes() == before
    assert new.read_text() == EXTENDED_HEADER + SCHEMA.format_line(imported(3)) + "\n"
    assert list(read_log(log, SCHEMA)) == [hand_row(1), hand_row(2), imported(3)]


@pytest.mark.parametrize("in_git", [True, False], ids=["in git", "outside git"])
def test_a_batch_fills_the_current_shard_then_new_ones_each_within_max_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_git: bool
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    if in_git:
        git(root, "init", "-q", "-b", "main")
    else:
        monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (root / ".telemetry").mkdir()
    (root / ".telemetry" / "config.toml").write_text("max_bytes = 1500\n")
    settings = load_settings(root)
    first = log_rows([hand_row(0)], settings=settings)
    batch = [imported(n) for n in range(30)]
    result = log_rows(batch, settings=settings)
    assert result.created and result.lines == tuple(
        SCHEMA.format_line(row, extended=True) for row in batch
    )
    files = shards(settings.log_path)
    assert len(files) > 2 and first.path in files and result.path in files
    pieces = {}
    for path in files:
        text = path.read_text()
        assert text.startswith(EXTENDED_HEADER) and path.stat().st_size <= 1500
        pieces[path] = [SCHEMA.parse_line(line, extended=True) for line in text.splitlines()[1:]]
    # The current shard took rows first; each shard holds a stretch of the batch, in order
    # (shards started in the same second are read in the order of their random names).
    assert pieces[first.path][0] == hand_row(0) and len(pieces[first.path]) > 1
    assert pieces[result.path][-1] == batch[-1]
    stretches = sorted(
        (rows if path != first.path else rows[1:] for path, rows in pieces.items()),
        key=lambda rows: batch.index(rows[0]),  # type: ignore[arg-type]
    )
    assert [row for rows in stretches for row in rows] == batch
    assert sorted(read_log(settings.log_path, SCHEMA)) == sorted([hand_row(0), *batch])
    assert run_cli("check", cwd=root).returncode == 0


def test_rows_git_missed_move_out_of_an_8_column_shard_in_the_extended_shape(
    repo: Path, log: Path
) -> None:
    """An older version's current shard, staged while a row was being appended (git's copy is
    its start): the next `log` moves the rows after git's copy to a new shard, with the
    extended header, and cuts the old one back to exactly what git has."""
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", "first", cwd=repo).returncode == 0
    [shard] = shards(log)
    # As an older version wrote it: the 8-column header (the state still names this shard).
    shard.write_text(HEADER + row_line(notes="first"))
    git(repo, "add", "-A")
    staged = shard.read_bytes()
    with shard.open("a") as file:
        file.write(row_line(notes="landed after git add"))
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "next", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert shard.read_bytes() == staged
    [moved] = [path for path in shards(log) if path != shard]
    header, tail, new = moved.read_text().splitlines()
    assert header + "\n" == EXTENDED_HEADER
    assert tail + "\n" == extended(row_line(notes="landed after git add"))
    assert new.endswith(",m,1,2,true,plan,3,next,,,,")
    assert run_cli("check", cwd=repo).returncode == 0
    assert sorted(notes_of(line) for line in cat_lines(repo)[1:]) == [
        "first",
        "landed after git add",
        "next",
    ]
    git(repo, "add", "-A")
    assert append_only_hook.main([]) == 0


# Folds of shards of both shapes.


@pytest.fixture
def mixed(repo: Path) -> tuple[Path, Path]:
    """main holds an 8-column shard an older version wrote, and two extended ones `log` wrote;
    (the 8-column shard, the log)."""
    log = repo / LOG
    assert run_cli("init", cwd=repo).returncode == 0
    commit_all(repo, "init")
    old = shard_file(
        repo / FOLDER, "20260101T000000Z-0000000000000001.csv", HEADER, [hand_row(1), hand_row(2)]
    )
    commit_all(repo, "an older version's shard")
    for number in (3, 4):
        args = ["log", "claude-sonnet-4-5", "100", "2", "true", "execute", str(number)]
        done = run_cli(*args, "--cache-read-tokens", "60", "--notes", f"run {number}", cwd=repo)
        assert done.returncode == 0, done.stderr
        commit_all(repo, f"row {number}")
    return old, log


def test_a_fold_of_shards_of_both_shapes_has_the_extended_header_and_true_hashes(
    repo: Path, mixed: tuple[Path, Path]
) -> None:
    old, log = mixed
    originals = {path.name: path.read_bytes() for path in shards(log)}
    totals = report_json(repo)["totals"]
    lines = cat_lines(repo)
    assert lines[0] == EXTENDED_HEADER.strip()  # rows with cache parts: the extended shape

    done = run_cli("fold", "--no-commit", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert append_only_hook.main([]) == 0  # a fold that changed only the shape of some rows
    [fold] = (repo / FOLDER).glob("fold-*.csv")
    data = fold.read_bytes()
    assert data.startswith(EXTENDED_HEADER.encode())
    assert (SCHEMA.format_line(hand_row(1)) + ",,,,\n").encode() in data
    manifest = folds.parse_manifest(fold.with_suffix(".manifest").read_bytes())
    assert {entry.shard: entry.sha256 for entry in manifest} == {
        name: hashlib.sha256(content).hexdigest() for name, content in originals.items()
    }
    assert folds.verify(data, manifest) is None
    assert not shards(log)
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 0 and "5 valid rows" not in checked.stdout, checked.stdout
    assert "4 valid rows: no problems" in checked.stdout
    assert report_json(repo)["totals"] == totals
    assert cat_lines(repo) == lines
    commit_all(repo, "fold")
    # The fold read from git (each segment in the fold's shape): every row is new since init.
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert report_json(repo, "--range", f"{root}..HEAD")["totals"] == totals
    assert report_json(repo, "--range", "HEAD~1..HEAD")["rows"] == 0  # the fold adds none

    # A merge brings the older shard back beside the fold: it counts once, and check finds it
    # is the very shard the fold holds, though the fold stores its rows in the other shape.
    git(repo, "checkout", "HEAD~1", "--", old.relative_to(repo).as_posix())
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 0 and "4 valid rows: no problems" in checked.stdout
    assert report_json(repo)["totals"] == totals
    assert cat_lines(repo) == lines
    old.write_text(HEADER + SCHEMA.format_line(hand_row(1)) + "\n" + row_line(notes="edited"))
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1 and "differs from the copy of" in checked.stdout


def test_append_only_refuses_a_fold_that_changed_a_value_of_an_8_column_shard(
    repo: Path, mixed: tuple[Path, Path]
) -> None:
    assert run_cli("fold", "--no-commit", cwd=repo).returncode == 0
    [fold] = (repo / FOLDER).glob("fold-*.csv")
    text = fold.read_text()
    fold.write_text(text.replace(",hand 1,,,,", ",hand one,,,,"))
    git(repo, "add", "-A")
    assert append_only_hook.main([]) == 1


def test_a_fold_of_8_column_shards_only_keeps_the_8_columns(repo: Path) -> None:
    for number in (1, 2):
        name = f"2026010{number}T000000Z-000000000000000{number}.csv"
        shard_file(repo / FOLDER, name, HEADER, [hand_row(number)])
    commit_all(repo, "two shards of an older version")
    assert run_cli("fold", cwd=repo).returncode == 0
    [fold] = (repo / FOLDER).glob("fold-*.csv")
    assert fold.read_text() == HEADER + "".join(
        SCHEMA.format_line(hand_row(n)) + "\n" for n in (1, 2)
    )


# Readers: each shard once, each source_id once.


def test_cat_and_report_count_an_id_in_two_shards_once(repo: Path, log: Path) -> None:
    """Two clones imported the same slice, each into a shard of its own; the merge keeps both
    shards. Every reader counts the slice once; check is content (same numbers)."""
    folder = repo / FOLDER
    shard_file(folder, "20260301T000000Z-000000000000000a.csv", EXTENDED_HEADER, [imported(1)])
    shard_file(
        folder,
        "20260301T000000Z-000000000000000b.csv",
        EXTENDED_HEADER,
        [imported(1, kind="plan"), imported(2)],  # the same slice, another task type setting
    )
    assert report_json(repo)["rows"] == 2
    lines = cat_lines(repo)
    assert lines[0] == EXTENDED_HEADER.strip()
    assert lines[1:] == [SCHEMA.format_line(imported(n), extended=True) for n in (1, 2)]
    assert run_cli("check", cwd=repo).returncode == 0
    assert ids_in_log(log, SCHEMA, {"claude-code"}) == {
        ("claude-code", imported(n).source_id) for n in (1, 2)
    }


def test_cat_prints_the_8_column_header_when_no_row_needs_more(repo: Path) -> None:
    folder = repo / FOLDER
    shard_file(folder, "20260101T000000Z-0000000000000001.csv", HEADER, [hand_row(1)])
    shard_file(folder, "20260101T000000Z-0000000000000002.csv", EXTENDED_HEADER, [hand_row(2)])
    assert cat_lines(repo) == [HEADER.strip(), *(SCHEMA.format_line(hand_row(n)) for n in (1, 2))]


def test_check_names_one_id_with_other_numbers_in_two_shards(repo: Path) -> None:
    folder = repo / FOLDER
    first = shard_file(
        folder, "20260301T000000Z-000000000000000a.csv", EXTENDED_HEADER, [imported(1)]
    )
    second = shard_file(
        folder,
        "20260301T000000Z-000000000000000b.csv",
        EXTENDED_HEADER,
        [imported(2), imported(1, prompt=1200)],
    )
    done = run_cli("check", cwd=repo)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"{second.relative_to(repo).as_posix()}:3: source_id: claude-code "
        f"{imported(1).source_id} is also on line 2 of {first.relative_to(repo).as_posix()} "
        "with other numbers (prompt_tokens 1200 here, 1000 there, cache_read_tokens 600 here, "
        "500 there); rows with one source_id are the same usage and are counted once, so one "
        "of them is wrong"
    )


@pytest.mark.parametrize("folded", [False, True], ids=["loose at the base", "folded at the base"])
def test_report_range_leaves_out_ids_the_base_holds(repo: Path, log: Path, folded: bool) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    settings = load_settings(repo)
    log_rows([imported(1), imported(2)], settings=settings)
    commit_all(repo, "an import")
    if folded:
        assert run_cli("fold", cwd=repo).returncode == 0
    base = git(repo, "rev-parse", "HEAD").strip()
    # Another clone's shard, merged in: slice 1 again (its own task type), a new slice, a row.
    shard_file(
        repo / FOLDER,
        "29990101T000000Z-00000000000000ff.csv",
        EXTENDED_HEADER,
        [imported(1, kind="plan"), imported(3), hand_row(4)],
    )
    commit_all(repo, "the other clone's rows")
    found = report_json(repo, "--range", f"{base}..HEAD")
    assert found["rows"] == 2
    whole = list(rows_at(git(repo, "rev-parse", "HEAD").strip(), settings, repo))
    assert sorted(row.duration_ms for row in whole) == [4, 1001, 1002, 1003]
    assert {row.source_id for row in whole if row.source_id} == {
        imported(n).source_id for n in (1, 2, 3)
    }
    assert next(row for row in whole if row.duration_ms == 1003).cache_read_tokens == 500


def test_the_import_token_changes_when_shards_arrive_or_are_folded(repo: Path, log: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    settings = load_settings(repo)
    log_rows([imported(1)], settings=settings)
    commit_all(repo, "an import")
    token = log_token(log)
    assert log_token(log) == token
    shard_file(repo / FOLDER, "29990101T000000Z-00000000000000ff.csv", EXTENDED_HEADER, [])
    commit_all(repo, "a pull brought a shard")
    pulled = log_token(log)
    assert pulled != token
    assert run_cli("fold", cwd=repo).returncode == 0
    assert log_token(log) not in (token, pulled)


def test_an_import_after_a_commit_starts_a_new_shard(repo: Path, log: Path) -> None:
    """The import's batch goes where `log` would put a row: the shard git has is never
    appended to again."""
    settings = load_settings(repo)
    repository = Worktree.at(repo)
    assert repository is not None
    first = log_rows([imported(1)], settings=settings).path
    commit_all(repo, "an import")
    committed = first.read_bytes()
    from telemetry_csv.capture.appending import append_rows_held
    from telemetry_csv.logfile.writing import locked

    with locked(log, 5):
        result = append_rows_held([imported(2), imported(3)], settings=settings)
    assert result.path != first and first.read_bytes() == committed
    assert result.path.read_text().startswith(EXTENDED_HEADER)
    assert sorted(row.duration_ms for row in read_log(log, SCHEMA)) == [1001, 1002, 1003]


# export: the log's files as a snapshot lists them.


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running() as found:
        yield found


def test_export_sends_a_shard_beside_its_fold_once_and_an_id_once(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    import subprocess

    assert run_cli("init", cwd=repo).returncode == 0
    settings = load_settings(repo)
    first = log_rows([imported(1), hand_row(2)], settings=settings).path
    commit_all(repo, "rows")
    assert run_cli("fold", cwd=repo).returncode == 0
    git(repo, "checkout", "HEAD~1", "--", first.relative_to(repo).as_posix())  # back, loose
    shard_file(repo / FOLDER, "29990101T000000Z-00000000000000ff.csv", EXTENDED_HEADER, [
        imported(1), imported(3)
    ])  # fmt: skip
    assert report_json(repo)["rows"] == 3
    environ = {name: value for name, value in git_env().items() if not name.startswith("OTEL_")}
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "export", "otlp", "--endpoint", receiver.url, "--all"],
        cwd=repo, capture_output=True, text=True, env=environ, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    spans = [span for item in receiver.received for span in item.spans]
    assert len(spans) == 3  # rows 1 (once, whichever copy), 2 (once, whichever file) and 3
    assert len({(span.trace_id, span.span_id) for span in spans}) == 3
