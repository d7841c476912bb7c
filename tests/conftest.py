"""Shared fixtures: real git repositories in tmp_path, huge files built once per session, and
this working tree as a pre-commit hook repository (installed by pre-commit once per run).
Helpers that tests import live in the `testing` package, as in pre-commit's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.util import BIN, HUGE_FILES, git, git_env

SOURCE = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository, which is also the working directory."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def log(repo: Path) -> Path:
    """Where the repository's log goes by default (not created). In the team layout (the
    default) its rows go to shards beside it (`testing.util.rows` reads both)."""
    return repo / ".telemetry" / "usage.csv"


@pytest.fixture
def single_layout(repo: Path) -> Path:
    """The repository configured for the one-file layout (`layout = "single"`): `log` appends
    to `.telemetry/usage.csv` itself and rotates it into backups."""
    config = repo / ".telemetry" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text('layout = "single"\n')
    return repo


@pytest.fixture(scope="session")
def huge_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The HUGE_FILES entry of that name, written once for the whole session (never change it):
    the check and the report tests read the same files instead of building their own."""
    folder = tmp_path_factory.mktemp("huge")

    def build(name: str) -> Path:
        path = folder / (name.replace(" ", "-").replace(",", "") + ".csv")
        if not path.exists():
            path.write_bytes(HUGE_FILES[name]())
        return path

    return build


def _shared_by_workers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run that every pytest-xdist worker sees (each worker's own base
    temporary folder is a child of it); without xdist, the session's base folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this working tree as one commit: (its path, the commit). One
    for the whole run, shared by the xdist workers, so that pre-commit (whose cache they share
    too, `pre_commit_env`) installs the hooks' environment for it once, not once per worker.
    Never change it: a test that needs to build or write in it works in a clone."""
    from filelock import FileLock

    shared = _shared_by_workers(tmp_path_factory)
    snapshot = shared / "hook-source"
    with FileLock(str(shared / "hook-source.lock")):
        if not snapshot.exists():
            # Built aside and renamed into place: a worker that fails half-way leaves no
            # snapshot for the others to take as complete.
            building = Path(tempfile.mkdtemp(prefix="hook-source-", dir=shared))
            _commit_working_tree(building)
            building.rename(snapshot)
    return snapshot, git(snapshot, "rev-parse", "HEAD").strip()


def _commit_working_tree(snapshot: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=SOURCE,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = SOURCE / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git(snapshot, "init", "-q", "-b", "main")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")


@pytest.fixture(scope="session")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's environment, with a cache (PRE_COMMIT_HOME) that the xdist workers share:
    pre-commit takes its own lock there to clone or install, and one process reuses what
    another installed, as on a developer's machine."""
    env = git_env()
    env["PRE_COMMIT_HOME"] = str(_shared_by_workers(tmp_path_factory) / "pre-commit-home")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_ALLOW_NO_CONFIG"):
        env.pop(name, None)
    return env
