"""A bare "origin" that merges pull requests the way GitHub does, and clones that log rows.

Nothing registers a merge driver here: clones are plain `git clone`s and `Origin` merges with
git alone, as a hosting service does. `Origin.merge` merges a branch into main on the server's
side, in one of four ways:

- "merge-tree": `git merge-tree --write-tree`, then `commit-tree` and `update-ref`, in the bare
  repository itself (how GitHub's merge button and its merge preview work);
- "merge": a plain `git merge --no-ff` in a fresh clone with no configuration, then a push;
- "squash": the merge's tree committed with main as its only parent (GitHub's squash merge);
- "rebase": the branch's commits replayed onto main (GitHub's rebase merge).

Each asserts that git reported no conflict. Rows carry their identity in their notes, so a test
can assert exactly which rows a revision holds, each once.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from testing.util import BIN, git, git_env, notes_of, run_cli

METHODS = ("merge-tree", "merge", "squash", "rebase")


class Origin:
    def __init__(self, root: Path):
        self.root = root
        self.path = root / "origin.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.path))
        self._scratch = 0

    def clone(self, name: str) -> Clone:
        path = self.root / name
        git(self.root, "clone", "-q", str(self.path), str(path))
        return Clone(path, self)

    def head(self, branch: str = "main") -> str:
        return git(self.path, "rev-parse", f"refs/heads/{branch}").strip()

    def merge(self, branch: str, how: str, into: str = "main") -> str:
        """Merge `branch` into `into` on the server; the new commit of `into`."""
        if how in ("merge-tree", "squash"):
            done = subprocess.run(
                ["git", "merge-tree", "--write-tree", into, branch],
                cwd=self.path, capture_output=True, text=True, env=git_env(), check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"merge-tree found a conflict:\n{done.stdout}"
            tree = done.stdout.split()[0]
            parents = ["-p", into] + (["-p", branch] if how == "merge-tree" else [])
            message = f"{'Squash' if how == 'squash' else 'Merge'} {branch}"
            commit = git(self.path, "commit-tree", tree, *parents, "-m", message).strip()
            git(self.path, "update-ref", f"refs/heads/{into}", commit, self.head(into))
            return commit
        self._scratch += 1
        scratch = self.root / f"server-{self._scratch}"
        git(self.root, "clone", "-q", "-b", into, str(self.path), str(scratch))
        git(scratch, "fetch", "-q", "origin", branch)
        if how == "merge":
            done = subprocess.run(
                ["git", "merge", "--no-ff", "--no-edit", "FETCH_HEAD"],
                cwd=scratch, capture_output=True, text=True, env=git_env(), check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"git merge conflicted:\n{done.stdout}{done.stderr}"
        elif how == "rebase":
            base = git(scratch, "merge-base", "HEAD", "FETCH_HEAD").strip()
            commits = git(scratch, "rev-list", "--reverse", f"{base}..FETCH_HEAD").split()
            for commit in commits:
                done = subprocess.run(
                    ["git", "cherry-pick", "--allow-empty", commit],
                    cwd=scratch, capture_output=True, text=True, env=git_env(), check=False,
                )  # fmt: skip
                assert done.returncode == 0, f"rebase conflicted:\n{done.stdout}{done.stderr}"
        else:
            raise ValueError(how)
        git(scratch, "push", "-q", "origin", f"HEAD:{into}")
        return self.head(into)

    def rows(self, branch: str = "main") -> Counter[str]:
        """The notes of every row the branch holds, counted as `cat` (and so `report`) counts
        them, in a fresh clone; `check` must pass there too."""
        self._scratch += 1
        reader = self.root / f"reader-{self._scratch}"
        git(self.root, "clone", "-q", "-b", branch, str(self.path), str(reader))
        checked = run_cli("check", cwd=reader)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = run_cli("report", "--format", "json", "--no-costs", cwd=reader)
        assert report.returncode == 0, report.stderr
        import json

        counted = json.loads(report.stdout)["rows"]
        lines = run_cli("cat", cwd=reader).stdout.splitlines()[1:]
        notes = Counter(notes_of(line) for line in lines)
        assert counted == sum(notes.values()), (counted, notes)
        return notes


class Clone:
    def __init__(self, path: Path, origin: Origin):
        self.path = path
        self.origin = origin

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def log(self, note: str, *extra: str, via: str = "cli") -> None:
        """One row whose notes are `note`, through the CLI, `run`, or the Python API."""
        if via == "cli":
            done = run_cli(
                "log", "m", "1", "2", "true", "plan", "3", note, "-q", *extra, cwd=self.path
            )
        elif via == "run":
            done = run_cli(
                "run", "--model", "m", "--task-type", "verify", "--notes", note, "-q", *extra,
                "--", "true", cwd=self.path,
            )  # fmt: skip
        elif via == "api":
            code = (
                "import sys, telemetry_csv; telemetry_csv.log_row(model='m', prompt_tokens=1, "
                "completion_tokens=2, task_success=True, task_type='execute', duration_ms=3, "
                "notes=sys.argv[1])"
            )
            done = subprocess.run(
                [sys.executable, "-c", code, note], cwd=self.path, capture_output=True,
                text=True, env=git_env(), check=False,
            )  # fmt: skip
        else:
            raise ValueError(via)
        assert done.returncode == 0, done.stderr

    def log_many(self, notes: list[str], max_bytes: int) -> None:
        """Rows with these notes from one Python process (`log_row` in a loop, as an agent logs),
        each file at most `max_bytes`."""
        code = (
            "import sys, telemetry_csv\n"
            "for note in sys.argv[2:]:\n"
            "    telemetry_csv.log_row(model='m', prompt_tokens=1, completion_tokens=2,\n"
            "        task_success=True, task_type='execute', duration_ms=3, notes=note,\n"
            "        max_bytes=int(sys.argv[1]))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(max_bytes), *notes], cwd=self.path,
            capture_output=True, text=True, env=git_env(), check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def push(self, branch: str, *, force: bool = False) -> None:
        self.git("push", "-q", *(["--force"] if force else []), "origin", f"HEAD:{branch}")

    def pull(self, branch: str = "main") -> None:
        """Bring the server's branch into this one with a plain merge (no driver anywhere)."""
        self.git("fetch", "-q", "origin")
        done = subprocess.run(
            ["git", "merge", "--no-edit", f"origin/{branch}"],
            cwd=self.path, capture_output=True, text=True, env=git_env(), check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"git merge conflicted:\n{done.stdout}{done.stderr}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=self.path)


def telemetry_csv_on_path() -> dict[str, str]:
    """The environment with this installation's commands on PATH."""
    env = git_env()
    env["PATH"] = f"{BIN}:{env['PATH']}"
    return env
