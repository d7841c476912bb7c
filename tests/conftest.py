"""Shared fixtures: real git repositories in tmp_path, huge files built once per session, and
this working tree as a pre-commit hook repository (installed by pre-commit once per session).
Helpers that tests import live in the `testing` package, as in pre-commit's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
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


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this working tree as one commit: (its path, the commit)."""
    snapshot = tmp_path_factory.mktemp("hook-source")
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
    return snapshot, git(snapshot, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="session")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = git_env()
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_ALLOW_NO_CONFIG"):
        env.pop(name, None)
    return env
