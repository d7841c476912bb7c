"""The team layout on a server that runs no merge driver, as GitHub: every case of issue 11.

A bare "origin" and several clones, none with a driver configured; branches are pushed and
merged on the server with git alone (`testing/github.py`: merge-tree as GitHub's button, a
plain `git merge`, squash and rebase merges). Each case asserts that git saw no conflict and
that main then holds exactly the rows logged, each once: `check` passes and `report` and `cat`
count each row once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from testing.github import Clone, Origin
from testing.util import git, notes_of

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs

MERGES = ["merge-tree", "merge"]


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    """An origin whose main holds an initialised log with one row."""
    server = Origin(tmp_path)
    first = server.clone("first")
    assert first.cli("init").returncode == 0
    first.log("base")
    first.commit("init")
    first.push("main")
    return server


def branch(origin: Origin, name: str, clone: str | None = None) -> Clone:
    """A fresh clone of main on a new branch `name`."""
    worker = origin.clone(clone or f"clone-{name}")
    worker.git("checkout", "-q", "-b", name)
    return worker


@pytest.mark.parametrize("how", MERGES)
def test_branches_from_one_commit_logging_every_way_merge_one_after_another(
    origin: Origin, how: str
) -> None:
    ways = ["cli", "run", "api", "cli"]
    expected = Counter({"base": 1})
    workers = []
    for number, via in enumerate(ways):
        worker = branch(origin, f"b{number}")
        for row in range(3):
            worker.log(f"b{number}-{row}", via=via)
            expected[f"b{number}-{row}"] += 1
        worker.commit(f"b{number}")
        worker.push(f"b{number}")
        workers.append(worker)
    for number in range(len(ways)):
        origin.merge(f"b{number}", how)
    assert origin.rows() == expected


@pytest.mark.parametrize("how", MERGES)
def test_a_branch_rebased_onto_a_main_that_gained_rows(origin: Origin, how: str) -> None:
    feature = branch(origin, "feature")
    feature.log("feature-1")
    feature.commit("feature 1")
    main = origin.clone("main-worker")
    main.log("main-1")
    main.commit("main 1")
    main.push("main")
    feature.git("fetch", "-q", "origin")
    feature.git("rebase", "-q", "origin/main")
    feature.log("feature-2")  # the rebased shard is committed: this starts a new one
    feature.commit("feature 2")
    feature.push("feature", force=True)
    origin.merge("feature", how)
    assert origin.rows() == Counter(["base", "main-1", "feature-1", "feature-2"])


def test_the_same_branch_squash_merged_twice_with_rows_between(origin: Origin) -> None:
    feature = branch(origin, "feature")
    feature.log("first-1")
    feature.log("first-2")
    feature.commit("first")
    feature.push("feature")
    origin.merge("feature", "squash")
    feature.log("second-1")  # the squashed shard is frozen: a new one starts
    feature.commit("second")
    feature.push("feature")
    origin.merge("feature", "squash")  # both sides added the first shard, identically
    assert origin.rows() == Counter(["base", "first-1", "first-2", "second-1"])


@pytest.mark.parametrize("how", MERGES)
def test_the_same_branch_merged_twice_with_rows_between(origin: Origin, how: str) -> None:
    feature = branch(origin, "feature")
    feature.log("first")
    feature.commit("first")
    feature.push("feature")
    origin.merge("feature", how)
    other = origin.clone("other")
    other.log("main-between")
    other.commit("main between")
    other.push("main")
    feature.log("second")
    feature.commit("second")
    feature.push("feature")
    origin.merge("feature", how)
    assert origin.rows() == Counter(["base", "first", "main-between", "second"])


@pytest.mark.parametrize("how", MERGES)
def test_a_cherry_picked_commit_that_logged_a_row_then_both_branches_merged(
    origin: Origin, how: str
) -> None:
    feature = branch(origin, "feature")
    feature.log("picked")
    picked = feature.commit("the row to pick")
    feature.log("feature-more")
    feature.commit("more")
    feature.push("feature")
    hotfix = branch(origin, "hotfix")
    hotfix.git("fetch", "-q", "origin", "feature")
    hotfix.git("cherry-pick", picked)
    hotfix.log("hotfix-own")
    hotfix.commit("hotfix")
    hotfix.push("hotfix")
    origin.merge("hotfix", how)
    origin.merge("feature", how)  # the picked shard: the same path, the same bytes, both sides
    assert origin.rows() == Counter(["base", "picked", "feature-more", "hotfix-own"])


@pytest.mark.parametrize("how", ["merge-tree", "merge", "squash", "rebase"])
def test_new_files_on_both_sides(origin: Origin, how: str) -> None:
    """A small max_bytes: both sides start shard after shard (the team layout's rotation)."""
    left, right = branch(origin, "left"), branch(origin, "right")
    expected = Counter({"base": 1})
    for worker, name in ((left, "left"), (right, "right")):
        notes = [
            f"{name}-{row:02d}-padded-so-that-a-shard-fills-after-a-few-rows" for row in range(25)
        ]
        worker.log_many(notes, 1024)
        expected.update(notes)
        worker.commit(name)
        worker.push(name)
        shards = list((worker.path / ".telemetry" / "usage.rows").iterdir())
        assert len(shards) >= 3
    origin.merge("left", how)
    origin.merge("right", how)
    assert origin.rows() == expected


@pytest.mark.parametrize("how", MERGES)
def test_a_fold_on_main_with_open_branches(origin: Origin, how: str) -> None:
    feature = branch(origin, "feature")  # forked before the fold, holds the shards it folds
    feature.log("feature-1")
    feature.commit("feature")
    feature.push("feature")
    main = origin.clone("main-worker")
    for row in range(3):
        main.log(f"main-{row}")
        main.commit(f"main {row}")
    folded = main.cli("fold")
    assert folded.returncode == 0, folded.stdout + folded.stderr
    assert "folded 4 shard(s)" in folded.stdout
    main.push("main")
    feature.log("feature-2")
    feature.commit("feature 2")
    feature.push("feature")
    origin.merge("feature", how)  # deletions on main, untouched shards on the branch: clean
    expected = Counter(["base", "main-0", "main-1", "main-2", "feature-1", "feature-2"])
    assert origin.rows() == expected
    # The branch, merged again with main, gets the fold too, and still counts every row once.
    feature.pull()
    assert (
        Counter(notes_of(line) for line in feature.cli("cat").stdout.splitlines()[1:]) == expected
    )


def test_two_clones_folding_overlapping_shards(origin: Origin) -> None:
    setup = origin.clone("setup")
    for row in range(4):
        setup.log(f"row-{row}")
        setup.commit(f"row {row}")
    setup.push("main")
    one = origin.clone("one")
    two = origin.clone("two")
    two.log("row-two")  # two has one more committed shard to fold
    two.commit("two's row")
    assert one.cli("fold").returncode == 0
    assert two.cli("fold").returncode == 0
    folds_one = sorted(p.name for p in (one.path / ".telemetry" / "usage.rows").glob("fold-*"))
    folds_two = sorted(p.name for p in (two.path / ".telemetry" / "usage.rows").glob("fold-*"))
    assert folds_one != folds_two  # different sets, different names
    one.push("main")
    two.pull()  # two's fold and one's fold, side by side: no conflict
    two.push("main")
    expected = Counter(["base", "row-0", "row-1", "row-2", "row-3", "row-two"])
    assert origin.rows() == expected
    # Folding the same shards twice gives the same files: identical additions merge cleanly.
    three = origin.clone("three")
    assert "nothing to fold" in three.cli("fold").stdout


def test_two_clones_folding_the_same_shards_write_the_same_fold(origin: Origin) -> None:
    setup = origin.clone("setup")
    for row in range(3):
        setup.log(f"row-{row}")
        setup.commit(f"row {row}")
    setup.push("main")
    one, two = origin.clone("one"), origin.clone("two")
    assert one.cli("fold").returncode == 0 and two.cli("fold").returncode == 0
    assert sorted(p.name for p in (one.path / ".telemetry" / "usage.rows").iterdir()) == sorted(
        p.name for p in (two.path / ".telemetry" / "usage.rows").iterdir()
    )
    one.push("main")
    two.pull()
    two.push("main")
    assert origin.rows() == Counter(["base", "row-0", "row-1", "row-2"])


def test_a_shard_a_merge_brings_back_beside_its_fold_counts_once(origin: Origin) -> None:
    """A branch forked before a shard existed cherry-picks it after main folded it: the loose
    shard comes back beside the fold that holds it; readers count it once, and `fold` deletes
    the loose copy."""
    main = origin.clone("main-worker")
    main.log("picked")
    picked = main.commit("the row")
    main.push("main")
    old = origin.clone("old")
    old.git("checkout", "-q", "-b", "old", "HEAD~1")  # before the shard existed
    old.log("old-own")
    old.commit("old's own row")
    assert main.cli("fold").returncode == 0
    main.push("main")
    old.git("fetch", "-q", "origin")
    old.git("cherry-pick", picked)
    old.push("old")
    origin.merge("old", "merge-tree")
    assert origin.rows() == Counter(["base", "picked", "old-own"])
    main.pull()
    shards = list((main.path / ".telemetry" / "usage.rows").glob("2*.csv"))
    assert shards, "the cherry-picked shard is back, loose"
    folded = main.cli("fold")
    assert "deleted 1 loose copy(ies)" in folded.stdout, folded.stdout
    main.push("main")
    assert origin.rows() == Counter(["base", "picked", "old-own"])
    assert [p.name for p in (main.path / ".telemetry" / "usage.rows").glob("2*.csv")] == []


def test_no_committed_shard_ever_changes(origin: Origin) -> None:
    """Every case above relies on it; checked over a whole history with rows logged while
    staging and committing: no commit modifies a shard, only adds or (folding) deletes."""
    worker = origin.clone("worker")
    for step in range(4):
        worker.log(f"step-{step}-a")
        worker.git("add", "-A")
        worker.log(f"step-{step}-b")  # staged meanwhile: a new shard, never the staged one
        worker.git("commit", "-q", "-m", f"step {step}")
    worker.commit("the rest")
    assert worker.cli("fold").returncode == 0
    modified = git(worker.path, "log", "--diff-filter=M", "--name-only", "--format=")
    assert [name for name in modified.split() if "usage.rows" in name] == []
    worker.push("main")
    expected = Counter(["base"] + [f"step-{n}-{x}" for n in range(4) for x in "ab"])
    assert origin.rows() == expected
