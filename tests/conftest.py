"""Shared fixtures: real git repositories in tmp_path, and huge files built once per session.
Helpers that tests import live in the `testing` package, as in pre-commit's own tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testing.util import HUGE_FILES, git


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
