"""Session files of coding agents, written by hand in the shapes the agents document.

`tests/fixtures/agents/<source>/<scenario>/` mirrors the agent's own folder (`~/.claude`,
`~/.codex`, `~/.gemini`). Placeholders make a scenario fit any temporary folder: `@ROOT@` (the
repository the import is for), `@OTHER@` (another repository), `@AMBIG@` (a folder whose
Claude Code project name is the same as the root's), `@PROJECT@`/`@OTHERPROJECT@` (Claude Code's
project folder names for them) and `@ROOTHASH@` (a legacy Gemini project folder name).
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "agents"
HOMES = {"claude-code": ".claude", "codex": ".codex", "gemini": ".gemini"}
FOLDERS = {"claude-code": "claude", "codex": "codex", "gemini": "gemini"}


def instant(text: str) -> float:
    """Unix seconds of a UTC `YYYY-MM-DDTHH:MM:SSZ`."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


NOW = instant("2026-03-11T13:00:00Z")  # every fixture window up to 11:00 is closed by then


def claude_project(folder: Path) -> str:
    """Claude Code's name for a working directory's project folder."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(folder))


class Layout:
    """A home folder, the repository being imported for, and two more folders."""

    def __init__(self, tmp_path: Path, root_name: str = "repo") -> None:
        self.home = tmp_path / "home"
        self.root = tmp_path / "work" / root_name
        self.other = tmp_path / "work" / "other"
        self.ambiguous = tmp_path / "work" / "a" / "b"
        for folder in (self.home, self.root, self.other):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def environ(self) -> dict[str, str]:
        return {"HOME": str(self.home)}

    def replacements(self) -> dict[str, str]:
        return {
            "@OTHERPROJECT@": claude_project(self.other),
            "@PROJECT@": claude_project(self.root),
            "@ROOTHASH@": hashlib.sha256(str(self.root).encode()).hexdigest(),
            "@ROOT@": str(self.root),
            "@OTHER@": str(self.other),
            "@AMBIG@": str(self.ambiguous),
        }

    def install(self, source: str, scenario: str) -> Path:
        """Copy a scenario into the agent's folder in the home; return that folder."""
        return self.copy(FIXTURES / FOLDERS[source] / scenario, self.home / HOMES[source])

    def copy(self, origin: Path, target: Path) -> Path:
        swaps = self.replacements()
        for path in sorted(origin.rglob("*")):
            relative = str(path.relative_to(origin))
            for placeholder, value in swaps.items():
                relative = relative.replace(placeholder, value)
            destination = target / relative
            if path.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            for placeholder, value in swaps.items():
                data = data.replace(placeholder.encode(), value.encode())
            destination.write_bytes(data)
        return target

    def files(self, source: str) -> list[Path]:
        return sorted(p for p in (self.home / HOMES[source]).rglob("*.json*") if p.is_file())


def rows(result: Any) -> list[tuple[object, ...]]:
    return [piece.fields() for piece in result.slices]
