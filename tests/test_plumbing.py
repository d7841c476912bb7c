"""git/plumbing.py's `work_tree`: one git call for the top folder, the git folder and HEAD, the
same answers as asking for each on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.git import plumbing
from testing.util import git


def separately(cwd: Path) -> plumbing.WorkTree:
    return plumbing.WorkTree(
        plumbing.toplevel(cwd), plumbing.git_dir(cwd), plumbing.commit_id("HEAD", cwd)
    )


@pytest.mark.parametrize(
    "case",
    [
        "no commit yet",
        "a commit",
        "a subfolder",
        "a linked worktree",
        "a folder with a line break in its name",
    ],
)
def test_one_call_answers_as_three_do(tmp_path: Path, case: str) -> None:
    root = tmp_path / ("re\npo" if "line break" in case else "repo")
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    if case != "no commit yet":
        git(root, "commit", "-q", "--allow-empty", "-m", "first")
    where = root
    if case == "a subfolder":
        where = root / "sub" / "folder"
        where.mkdir(parents=True)
    elif case == "a linked worktree":
        where = tmp_path / "linked"
        git(root, "worktree", "add", "-q", "-b", "other", str(where))
    found = plumbing.work_tree(where)
    assert found == separately(where)
    assert (found.head is None) == (case == "no commit yet")


def test_outside_a_repository_it_says_so(tmp_path: Path) -> None:
    with pytest.raises(plumbing.GitError, match="not inside a git repository"):
        plumbing.work_tree(tmp_path)
