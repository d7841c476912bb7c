"""Folds: `telemetry-csv fold`, what append-only accepts of a fold (and nothing else that deletes
files), and how check and the readers treat folds, manifests and shards found twice."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.hooks import append_only_hook, check_hook
from telemetry_csv.logfile import folds, layout
from testing.logfiles import commit_all
from testing.util import (
    EXTENDED_HEADER,
    HEADER,
    extended,
    git,
    logged_lines,
    notes_of,
    row_line,
    run_cli,
)

FOLDER = ".telemetry/usage.rows"


def shard_name(number: int) -> str:
    return f"20260101T0000{number:02d}Z-{number:016x}.csv"


def shard(number: int, rows: int = 2) -> bytes:
    return (HEADER + "".join(row_line(notes=f"s{number}-{row}") for row in range(rows))).encode()


def extended_shard(data: bytes) -> bytes:
    """An 8-column shard's rows in a shard with the extended header (as `log` writes them now)."""
    return EXTENDED_HEADER.encode() + extended(data.decode()[len(HEADER) :]).encode()


@pytest.fixture(autouse=True)
def _no_range_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    monkeypatch.delenv("TELEMETRY_CSV_RETIRE_BACKUPS", raising=False)


@pytest.fixture
def shards(repo: Path) -> Path:
    """main holds three committed shards."""
    folder = repo / FOLDER
    folder.mkdir(parents=True)
    for number in range(3):
        (folder / shard_name(number)).write_bytes(shard(number))
    commit_all(repo, "three shards")
    return folder


def staged_hook(repo: Path) -> int:
    git(repo, "add", "-A")
    return append_only_hook.main([])


def test_fold_folds_committed_shards_in_a_commit_of_its_own(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    (shards / "20260102T000000Z-00000000000000ff.csv").write_bytes(shard(9, 1))  # uncommitted
    assert main(["fold"]) == 0
    out = capsys.readouterr().out
    made = folds.build([(shard_name(n), shard(n)) for n in range(3)])
    assert f"wrote    {FOLDER}/{made.name} (and its manifest)\n" in out
    assert "folded 3 shard(s), 6 row(s), into 1 fold(s)" in out
    assert (shards / made.name).read_bytes() == made.data
    assert (shards / made.manifest_name).read_bytes() == made.manifest
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    changed = git(repo, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(line for line in changed if line) == sorted(
        [f"A\t{FOLDER}/{made.name}", f"A\t{FOLDER}/{made.manifest_name}"]
        + [f"D\t{FOLDER}/{shard_name(n)}" for n in range(3)]
    )
    assert (
        git(repo, "status", "--porcelain", "--", FOLDER)
        == f"?? {FOLDER}/20260102T000000Z-00000000000000ff.csv\n"
    )
    assert sorted(
        notes_of(line) for line in logged_lines(repo / ".telemetry" / "usage.csv")
    ) == sorted([f"s{n}-{row}" for n in range(3) for row in range(2)] + ["s9-0"])


@pytest.mark.parametrize("shapes", ["8-column", "extended", "mixed"])
def test_a_fold_holds_at_most_max_bytes_and_is_the_same_for_the_same_shards(shapes: str) -> None:
    def content(number: int) -> bytes:
        data = shard(number, rows=4)
        wide = shapes == "extended" or (shapes == "mixed" and number % 3 == 0)
        return extended_shard(data) if wide else data

    contents = [(shard_name(n), content(n)) for n in range(10)]
    groups = folds.plan(list(reversed(contents)), 1024)
    assert groups == folds.plan(contents, 1024)  # by name, whatever order they came in
    assert sorted(name for group in groups for name in group) == [n for n, _ in contents]
    assert len(groups) > 1
    by_name = dict(contents)
    for group in groups:
        made = folds.build([(name, by_name[name]) for name in group])
        assert len(made.data) <= 1024
        assert folds.verify(made.data, made.entries) is None


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (
            lambda repo: git(repo, "checkout", "-q", "-b", "feature"),
            "fold runs only on the default branch (main), not on feature",
        ),
        (
            lambda repo: [(repo / "x").write_text("x"), git(repo, "add", "x")],
            "something is staged already (x); a fold goes in a commit of its own",
        ),
    ],
    ids=["a pull request's branch", "something staged"],
)
def test_fold_refuses_where_it_could_conflict(
    repo: Path,
    shards: Path,
    capsys: pytest.CaptureFixture[str],
    prepare: Callable[[Path], object],
    message: str,
) -> None:
    prepare(repo)
    before = sorted(path.name for path in shards.iterdir())
    assert main(["fold"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(path.name for path in shards.iterdir()) == before


def test_nothing_to_fold(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "x").write_text("x")
    commit_all(repo, "no log yet")
    assert main(["fold"]) == 0
    assert "nothing to fold" in capsys.readouterr().out


def folded(
    repo: Path, shards: Path, names: list[str], data: Callable[[str], bytes] | None = None
) -> folds.Fold:
    """Stage a fold of `names` (their committed bytes, or `data`) made by hand, shards deleted."""
    made = folds.build(
        [(name, (data or (lambda n: (shards / n).read_bytes()))(name)) for name in names]
    )
    (shards / made.manifest_name).write_bytes(made.manifest)
    (shards / made.name).write_bytes(made.data)
    for name in names:
        (shards / name).unlink()
    return made


def test_append_only_accepts_a_fold(repo: Path, shards: Path) -> None:
    folded(repo, shards, [shard_name(0), shard_name(1)])
    assert staged_hook(repo) == 0


def test_append_only_refuses_deleting_a_shard_no_fold_holds(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folded(repo, shards, [shard_name(0)])
    (shards / shard_name(1)).unlink()
    assert staged_hook(repo) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"{FOLDER}/{shard_name(1)}: a committed shard was deleted, and no fold in staged holds "
        "it (with the same content); committed rows are never deleted"
    )


def test_append_only_refuses_a_fold_with_a_changed_row(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fold's rows are not the shards' (a row edited on the way): its segment no longer
    hashes as the manifest says, and, built anew, it holds other rows than HEAD's shard."""

    def edited(name: str) -> bytes:
        return (shards / name).read_bytes().replace(b"s0-1", b"s0-X")

    made = folded(repo, shards, [shard_name(0)], edited)
    assert staged_hook(repo) == 1
    assert (
        f"{FOLDER}/{made.name}: holds {shard_name(0)} with other rows than HEAD has for it; a "
        "fold moves shards whole and unchanged"
    ) in capsys.readouterr().out


def test_append_only_refuses_a_fold_whose_manifest_lies(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = folded(repo, shards, [shard_name(0)])
    (shards / made.name).write_bytes(made.data.replace(b"s0-1", b"s0-X"))
    assert staged_hook(repo) == 1
    out = capsys.readouterr().out
    assert (
        f"{FOLDER}/{made.name}: a fold whose manifest is not true: the rows of {shard_name(0)} in it do not hash as the manifest says"
        in out
    )
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1 and "the fold does not match its manifest" in checked.stdout


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (
            lambda path: path.write_bytes(path.read_bytes() + row_line(notes="appended").encode()),
            "a committed shard was changed",
        ),
        (
            lambda path: path.write_bytes(path.read_bytes().replace(b"s1-0", b"s1-X")),
            "a committed shard was changed",
        ),
    ],
    ids=["appended to", "a row edited"],
)
def test_append_only_refuses_changing_a_committed_shard(
    repo: Path,
    shards: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Path], object],
    what: str,
) -> None:
    change(shards / shard_name(1))
    assert staged_hook(repo) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == f"{FOLDER}/{shard_name(1)}: {what}; a file git has committed in the shard folder never changes"
    )
    assert out[1].startswith(f"    restore it with `git checkout HEAD -- {FOLDER}/{shard_name(1)}`")


def test_a_shard_re_saved_by_a_spreadsheet_and_formatted_is_no_change(
    repo: Path, shards: Path
) -> None:
    path = shards / shard_name(1)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert staged_hook(repo) == 0


def test_a_committed_fold_is_never_deleted_unless_retired(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = folded(repo, shards, [shard_name(0)])
    commit_all(repo, "fold")
    (shards / made.name).unlink()
    (shards / made.manifest_name).unlink()
    assert staged_hook(repo) == 1
    assert f"{FOLDER}/{made.name}: a committed fold was deleted" in capsys.readouterr().out
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    assert append_only_hook.main([]) == 0


def test_check_names_a_fold_without_its_manifest_and_a_manifest_alone(
    repo: Path, shards: Path
) -> None:
    made = folded(repo, shards, [shard_name(0)])
    (shards / made.manifest_name).unlink()
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1
    assert (
        f"{FOLDER}/{made.name}:0: file: its manifest {made.manifest_name} is missing: which shards this fold holds is unknown"
        in checked.stdout
    )
    (shards / made.manifest_name).write_bytes(made.manifest)
    (shards / made.name).unlink()
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1
    assert f"a manifest without its fold {made.name}" in checked.stdout


def test_check_reads_a_fold_in_the_address_space_it_holds(repo: Path, shards: Path) -> None:
    """A fold named to `check` (as the check hook names it) is read whole to be verified
    against its manifest, up to a gibibyte: the read asks for the file's size, not the
    limit's, so `check` runs under an address-space limit far below a gibibyte."""
    made = folded(repo, shards, [shard_name(0), shard_name(1)])
    limit = 512 << 20

    def address_space() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    checked = subprocess.run(
        [sys.executable, "-m", "telemetry_csv", "check", f"{FOLDER}/{made.name}"],
        cwd=repo,
        capture_output=True,
        text=True,
        preexec_fn=address_space,
    )
    assert (checked.returncode, checked.stderr) == (0, "")
    assert "4 valid rows" in checked.stdout


def test_the_check_hook_checks_folds_and_manifests_it_is_given(
    repo: Path, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = folded(repo, shards, [shard_name(0)])
    names = [f"{FOLDER}/{made.name}", f"{FOLDER}/{made.manifest_name}"]
    assert check_hook.main(names) == 0
    (shards / made.name).write_bytes(made.data + row_line(notes="smuggled").encode())
    assert check_hook.main(names) == 1
    out = capsys.readouterr().out
    assert f"{FOLDER}/{made.name}:0: file: the fold has more rows than its manifest lists" in out
    assert f"{FOLDER}/{made.manifest_name}:0: file: the fold has more rows" in out


def test_a_shard_in_two_folds_and_loose_counts_once_and_a_differing_copy_is_named(
    repo: Path, shards: Path
) -> None:
    """Two clones folded overlapping sets, and a merge brought a folded shard back: every
    reader counts each shard's rows once; check compares each copy with the one that counts."""
    zero, one, two = (
        (shards / shard_name(0)).read_bytes(),
        (shards / shard_name(1)).read_bytes(),
        (shards / shard_name(2)).read_bytes(),
    )
    first = folds.build([(shard_name(0), zero), (shard_name(1), one)])
    second = folds.build([(shard_name(1), one), (shard_name(2), two)])
    for made in (first, second):
        (shards / made.manifest_name).write_bytes(made.manifest)
        (shards / made.name).write_bytes(made.data)
    (shards / shard_name(2)).unlink()  # 0 and 1 stay loose too
    expected = sorted(f"s{n}-{row}" for n in range(3) for row in range(2))
    cat = run_cli("cat", cwd=repo)
    assert sorted(notes_of(line) for line in cat.stdout.splitlines()[1:]) == expected
    report = run_cli("report", "--format", "json", "--no-costs", cwd=repo)
    assert json.loads(report.stdout)["rows"] == 6
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 0 and "6 valid rows: no problems" in checked.stdout
    (shards / shard_name(0)).write_bytes(zero + row_line(notes="only loose").encode())
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1
    assert (
        f"{FOLDER}/{shard_name(0)}:0: file: differs from the copy of {shard_name(0)} in {first.name}"
        in checked.stdout
    )


def test_the_readers_order_and_names(tmp_path: Path) -> None:
    folder = layout.shard_folder(tmp_path / "usage.csv")
    folder.mkdir()
    for name in (
        "fold-0123456789abcdef.csv",
        "fold-0123456789abcdef.manifest",
        shard_name(1),
        "notes.txt",
        ".x.tmp",
    ):
        (folder / name).write_text("")
    found = layout.ShardFiles.of(folder)
    assert (found.folds, found.shards, found.manifests) == (
        ["fold-0123456789abcdef.csv"],
        [shard_name(1)],
        ["fold-0123456789abcdef.manifest"],
    )
