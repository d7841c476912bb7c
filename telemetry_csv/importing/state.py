"""What an import remembers for the next one, in a local file nobody commits.

Suggested place: `<git dir>/telemetry-csv/import-state.<source>.json` (inside `.git`, so it is
never committed and each clone or worktree keeps its own). The file records, per session file,
its device, inode, size, modification time and how far it was read, with what a parser needs to
go on from there (Codex's last cumulative totals, the model in use, …); the responses of the
windows not closed yet; the keys of recently closed responses (to recognise late copies); and the
slices emitted in the last 35 days (to recognise late records).

It is a cache: whenever anything does not match (another format version, another caller token,
other settings, a file that shrank or was replaced, a damaged state file), the import reads
everything again, and the caller skips the slices its log already holds. The caller's token
should change whenever the log changes under the importer (a pull, a reset): for example the
log's size and modification time, or the last `source_id` of this source in the log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError

FORMAT = 1
MAX_STATE_BYTES = 64 * 1024 * 1024


class StateFile:
    """The state file at `path`, valid only for the caller's `token`."""

    def __init__(self, path: str | os.PathLike[str], token: str) -> None:
        self.path = os.fspath(path)
        self.token = token
        self.problem: str | None = None  # why `load` found nothing usable

    def load(self, settings: list[Any]) -> dict[str, Any] | None:
        """The saved state, or None (and `problem` says why) when it cannot be used. Nothing is
        read through a link: at the file's name (O_NOFOLLOW) or at its folder's."""
        try:
            if not fs.require_folder(Path(self.path).parent):
                self.problem = "no state yet"
                return None
        except LogFileError as error:
            self.problem = str(error)
            return None
        try:
            fd = os.open(
                self.path, os.O_RDONLY | fs.NOFOLLOW | fs.NONBLOCK | fs.CLOEXEC | fs.BINARY
            )
        except FileNotFoundError:
            self.problem = "no state yet"
            return None
        except OSError as error:
            self.problem = f"state unreadable: {error.strerror}"
            return None
        try:
            import stat

            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STATE_BYTES:
                self.problem = "state is not a regular file of a sensible size"
                return None
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as error:
            self.problem = f"state unreadable: {error.strerror}"
            return None
        finally:
            os.close(fd)
        try:
            data = json.loads(b"".join(chunks))
        except (ValueError, RecursionError):
            self.problem = "state damaged"
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            self.problem = "state from another version"
            return None
        if data.get("token") != self.token:
            self.problem = "the log changed since the last import"
            return None
        if data.get("settings") != settings:
            self.problem = "other import settings"
            return None
        self.problem = None
        return data

    def save(self, data: dict[str, Any]) -> None:
        """Replace the state atomically (a crash leaves the old one or the new one; a torn or
        missing file only costs a full read). LogFileError (`fs.replace`) when it cannot."""
        data = {**data, "format": FORMAT, "token": self.token}
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
        path = Path(os.path.abspath(self.path))
        fs.require_folder(path.parent, create=True, mode=0o700)  # never through a link
        fs.replace(path, body)
