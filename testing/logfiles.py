"""Helpers for tests that build logs and commit them in real git repositories."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from testing.util import HEADER, git, row_line


def row(number: int, notes: str | None = None) -> str:
    """A distinct valid, canonical row line (with its newline), told apart by its duration."""
    text = f"task {number}" if notes is None else notes
    if "," in text or '"' in text:
        text = '"' + text.replace('"', '""') + '"'
    return row_line(
        timestamp=f"2026-02-{1 + number % 28:02d}T10:00:00Z",
        duration=str(1000 + number),
        notes=text,
    )


def rows(*numbers: int) -> str:
    return "".join(row(number) for number in numbers)


def write_log(path: Path, body: str = "", *, header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((header + body).encode("utf-8"))
    return path


def commit_all(repo: Path, message: str) -> str:
    """Stage everything and commit; the new commit's id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def temporaries(log: Path) -> list[Path]:
    """The temporary files beside a log (`.NAME.RANDOM.tmp`), as a crash can leave them."""
    from telemetry_csv import fs

    return sorted(log.parent.glob(fs.temporary_glob(log)))


def realistic() -> ModuleType:
    """`benchmarks/realistic_log.py`, the generator of logs shaped like a real team's."""
    spec = importlib.util.spec_from_file_location(
        "realistic_log", Path(__file__).resolve().parents[1] / "benchmarks" / "realistic_log.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("realistic_log", module)
    spec.loader.exec_module(module)
    return module
