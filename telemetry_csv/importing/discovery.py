"""Where each agent keeps its session files, and finding them without trusting the folders.

- Claude Code: `projects/` under each folder of `CLAUDE_CONFIG_DIR` (a comma-separated list of
  config folders, or of `projects` folders), else under `$XDG_CONFIG_HOME/claude` (default
  `~/.config/claude`) and `~/.claude`; every `*.jsonl` at any depth, which covers the legacy flat
  layout (`projects/<project>/<session>.jsonl`) and the nested one
  (`projects/<project>/<session>/…`, with `subagents/agent-*.jsonl`).
- Codex: `rollout-*.jsonl` at any depth under `$CODEX_HOME/sessions` and
  `$CODEX_HOME/archived_sessions` (`CODEX_HOME` defaults to `~/.codex`); a file present in both
  is read once, from `sessions`.
- Gemini CLI: `<data>/<project>/chats/`, recursively (sub-agents write to `chats/<parent>/`),
  both `*.jsonl` and legacy `*.json`, where `<data>` is `GEMINI_DATA_DIR` (comma-separated
  allowed), else `$GEMINI_CLI_HOME/.gemini/tmp`, else `~/.gemini/tmp`.

`from_path` replaces all of these with one file or folder. Folders are walked through
descriptors opened with `O_NOFOLLOW`: a symbolic link inside a scanned folder is never followed
(it is counted as skipped), so nothing outside the folder is ever read; FIFOs, devices and sockets
are skipped without being opened.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import NamedTuple

from telemetry_csv.importing import lines

CLAUDE = "claude-code"
CODEX = "codex"
GEMINI = "gemini"
SOURCES = (CLAUDE, CODEX, GEMINI)

MAX_DEPTH = 16  # far deeper than any agent's layout; deeper folders are counted and skipped
TOO_DEEP = f"folder nested deeper than {MAX_DEPTH} levels"


class FoundFile(NamedTuple):
    """A session file as the scan saw it; `parts` lead from `base` to it, one name each."""

    path: str
    base: str
    parts: tuple[str, ...]
    device: int
    inode: int
    size: int
    mtime_ns: int
    project: str  # the agent's project folder name ('' where the layout has none)
    project_root: str | None  # the project's folder as the agent recorded it, where known

    def open(self) -> int:
        """A descriptor for this very file (same device and inode), or OSError."""
        fd = lines.open_below(self.base, self.parts)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (self.device, self.inode) or info.st_size < self.size:
            # Replaced since the scan (an inode number can be reused at once): as if it
            # vanished; the next import sees the new file.
            os.close(fd)
            raise FileNotFoundError(errno.ENOENT, "replaced since the scan", self.path)
        return fd


class Scan(NamedTuple):
    files: list[FoundFile]
    skipped: dict[str, int]


def scan(
    source: str,
    *,
    from_path: str | None = None,
    root: str | None = None,
    environ: dict[str, str] | None = None,
) -> Scan:
    """The session files of `source`, sorted by path. `root` (resolved) lets Claude Code's
    project folders that cannot hold sessions of that folder be left out unread."""
    env = os.environ if environ is None else environ
    skipped: dict[str, int] = {}
    found: list[FoundFile] = []
    if from_path is not None:
        _scan_from(source, from_path, found, skipped)
    elif source == CLAUDE:
        for folder in claude_folders(env):
            _walk(folder, _claude_file, found, skipped, project_filter=_claude_filter(root))
    elif source == CODEX:
        found = _codex_files(codex_home(env), skipped)
    elif source == GEMINI:
        for folder in gemini_folders(env):
            _scan_gemini(folder, found, skipped)
    else:
        raise ValueError(f"unknown source {source!r}")
    found.sort(key=lambda file: file.path)
    return Scan(found, skipped)


def _home(env: dict[str, str] | os._Environ[str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def _resolved_unique(candidates: list[str]) -> list[str]:
    seen: set[str] = set()
    folders = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real not in seen and os.path.isdir(real):
            seen.add(real)
            folders.append(real)
    return folders


def claude_folders(env: dict[str, str] | os._Environ[str]) -> list[str]:
    """The `projects` folders to scan, resolved, each once."""
    home = _home(env)
    listed = env.get("CLAUDE_CONFIG_DIR", "")
    candidates = []
    if listed.strip():
        for raw in listed.split(","):
            entry = os.path.expanduser(raw.strip()) if raw.strip() else ""
            if not entry:
                continue
            if os.path.basename(os.path.normpath(entry)) == "projects":
                candidates.append(entry)
            else:
                candidates.append(os.path.join(entry, "projects"))
    else:
        xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        candidates = [
            os.path.join(xdg, "claude", "projects"),
            os.path.join(home, ".claude", "projects"),
        ]
    return _resolved_unique(candidates)


def codex_home(env: dict[str, str] | os._Environ[str]) -> str:
    return env.get("CODEX_HOME") or os.path.join(_home(env), ".codex")


def gemini_folders(env: dict[str, str] | os._Environ[str]) -> list[str]:
    listed = env.get("GEMINI_DATA_DIR", "")
    if listed.strip():
        candidates = [
            os.path.expanduser(item.strip()) for item in listed.split(",") if item.strip()
        ]
    else:
        home = env.get("GEMINI_CLI_HOME") or _home(env)
        candidates = [os.path.join(home, ".gemini", "tmp")]
    return _resolved_unique(candidates)


def _claude_file(name: str) -> bool:
    return name.endswith(".jsonl")


def _codex_file(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(".jsonl")


def _gemini_file(name: str) -> bool:
    return name.endswith((".jsonl", ".json"))


def mangle(path: str) -> str:
    """Claude Code's project folder name for a working directory, in a form both spellings
    share: every character but ASCII letters and digits becomes `-` (older versions replaced
    only `/`), and runs of `-` become one (JavaScript turns a character outside the BMP into
    two). Mangling a folder name again gives the same result, so names and paths compare."""
    text = "".join(c if c.isascii() and c.isalnum() else "-" for c in path)
    while "--" in text:
        text = text.replace("--", "-")
    return text


def _claude_filter(root: str | None) -> Callable[[str], bool] | None:
    """Which project folders may hold sessions run in `root` or below it. The folder name is
    only a hint (it is ambiguous: `a/b-c` and `a-b/c` mangle alike), so this only leaves out
    folders that certainly cannot match; the records' `cwd` decide. Long paths are shortened by
    Claude Code, so a long root filters nothing."""
    if root is None:
        return None
    prefix = mangle(root)
    if len(prefix) > 150:
        return None

    def accept(folder: str) -> bool:
        name = mangle(folder)
        if not name.startswith(prefix):
            return False
        return len(name) == len(prefix) or prefix.endswith("-") or name[len(prefix)] == "-"

    return accept


def _walk(
    base: str,
    accept: Callable[[str], bool],
    found: list[FoundFile],
    skipped: dict[str, int],
    *,
    project_filter: Callable[[str], bool] | None = None,
    project_level: bool = True,
    project_root: str | None = None,
    project: str = "",
) -> None:
    try:
        fd = lines.open_folder(base)
    except OSError as error:
        _count(skipped, lines.reason_for(error))
        return
    try:
        _walk_fd(
            fd,
            base,
            (),
            accept,
            found,
            skipped,
            project_filter,
            project_level,
            project_root,
            project,
        )
    finally:
        os.close(fd)


def _walk_fd(
    fd: int,
    base: str,
    parts: tuple[str, ...],
    accept: Callable[[str], bool],
    found: list[FoundFile],
    skipped: dict[str, int],
    project_filter: Callable[[str], bool] | None,
    project_level: bool,
    project_root: str | None,
    project: str,
) -> None:
    try:
        entries = list(os.scandir(fd))
    except OSError as error:
        _count(skipped, lines.reason_for(error))
        return
    for entry in entries:
        name = entry.name
        try:
            if entry.is_symlink():
                if entry.is_dir() or accept(name):
                    _count(skipped, lines.SYMLINK)
                continue
            if entry.is_dir(follow_symlinks=False):
                here = project
                if project_level and not parts:
                    if project_filter is not None and not project_filter(name):
                        continue
                    here = name
                if len(parts) >= MAX_DEPTH:
                    _count(skipped, TOO_DEEP)
                    continue
                try:
                    inner = lines.open_folder(name, fd)
                except OSError as error:
                    _count(skipped, lines.reason_for(error))
                    continue
                try:
                    _walk_fd(
                        inner,
                        base,
                        (*parts, name),
                        accept,
                        found,
                        skipped,
                        project_filter,
                        project_level,
                        project_root,
                        here,
                    )
                finally:
                    os.close(inner)
                continue
            if not accept(name):
                continue
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            _count(skipped, lines.reason_for(error))
            continue
        if not stat.S_ISREG(info.st_mode):
            _count(skipped, lines.NOT_REGULAR)
            continue
        file_parts = (*parts, name)
        found.append(
            FoundFile(
                os.path.join(base, *file_parts),
                base,
                file_parts,
                info.st_dev,
                info.st_ino,
                info.st_size,
                info.st_mtime_ns,
                project,
                project_root,
            )
        )


def _codex_files(home: str, skipped: dict[str, int]) -> list[FoundFile]:
    active: list[FoundFile] = []
    archived: list[FoundFile] = []
    for name, into in (("sessions", active), ("archived_sessions", archived)):
        folder = os.path.join(home, name)
        if os.path.isdir(folder):
            _walk(os.path.realpath(folder), _codex_file, into, skipped, project_level=False)
    # The archive holds sessions moved out of `sessions/`; where a copy is in both, the active
    # one is the one still being written. File names carry the session's id, so they compare
    # across the two layouts (dated folders, or flat).
    names = {file.parts[-1] for file in active}
    return active + [file for file in archived if file.parts[-1] not in names]


def _scan_gemini(data: str, found: list[FoundFile], skipped: dict[str, int]) -> None:
    try:
        fd = lines.open_folder(data)
    except OSError as error:
        _count(skipped, lines.reason_for(error))
        return
    try:
        entries = sorted(
            entry.name for entry in os.scandir(fd) if entry.is_dir(follow_symlinks=False)
        )
        registry = _gemini_registry(os.path.dirname(data))
        for project in entries:
            chats = os.path.join(data, project, "chats")
            try:
                chats_info = os.lstat(chats)
            except OSError:
                continue
            if stat.S_ISLNK(chats_info.st_mode):
                _count(skipped, lines.SYMLINK)
                continue
            if not stat.S_ISDIR(chats_info.st_mode):
                continue
            root = _gemini_project_root(fd, project, registry)
            _walk(
                chats,
                _gemini_file,
                found,
                skipped,
                project_level=False,
                project_root=root,
                project=project,
            )
    except OSError as error:
        _count(skipped, lines.reason_for(error))
    finally:
        os.close(fd)


def _gemini_registry(gemini_home: str) -> dict[str, str]:
    """`projects.json`: project folder name -> project root, as newer Gemini CLIs record it."""
    import json

    try:
        fd = lines.open_below(gemini_home, ("projects.json",))
    except OSError:
        return {}
    try:
        data = os.read(fd, 4 * 1024 * 1024)
    finally:
        os.close(fd)
    try:
        projects = json.loads(data).get("projects")
    except (ValueError, AttributeError, RecursionError):
        return {}
    if not isinstance(projects, dict):
        return {}
    return {
        slug: path
        for path, slug in projects.items()
        if isinstance(slug, str) and isinstance(path, str)
    }


def _gemini_project_root(data_fd: int, project: str, registry: dict[str, str]) -> str | None:
    """The folder a Gemini project folder belongs to: its `.project_root` marker, else the
    registry; a legacy folder named by the SHA-256 of the path gives no path (see `gemini`)."""
    try:
        project_fd = lines.open_folder(project, data_fd)
    except OSError:
        return registry.get(project)
    try:
        marker = lines.open_file(".project_root", project_fd)
    except OSError:
        return registry.get(project)
    finally:
        os.close(project_fd)
    try:
        text = os.read(marker, 64 * 1024).decode("utf-8", "replace").strip()
    finally:
        os.close(marker)
    return text or registry.get(project)


def _scan_from(source: str, path: str, found: list[FoundFile], skipped: dict[str, int]) -> None:
    accept = {CLAUDE: _claude_file, CODEX: _claude_file, GEMINI: _gemini_file}.get(source)
    if accept is None:
        raise ValueError(f"unknown source {source!r}")
    try:
        info = os.stat(path)
    except OSError as error:
        _count(skipped, lines.reason_for(error))
        return
    real = os.path.realpath(path)
    if stat.S_ISDIR(info.st_mode):
        if source == GEMINI:
            _scan_gemini_from(real, found, skipped)
        else:
            _walk(real, accept, found, skipped, project_level=source == CLAUDE)
        return
    if not stat.S_ISREG(info.st_mode):
        _count(skipped, lines.NOT_REGULAR)
        return
    folder, name = os.path.split(real)
    project_root = None
    if source == GEMINI and os.path.basename(folder) == "chats":
        project_root = _marker_root(os.path.dirname(folder))
    found.append(
        FoundFile(
            real,
            folder,
            (name,),
            info.st_dev,
            info.st_ino,
            info.st_size,
            info.st_mtime_ns,
            os.path.basename(folder),
            project_root,
        )
    )


def _scan_gemini_from(folder: str, found: list[FoundFile], skipped: dict[str, int]) -> None:
    """A Gemini data folder, a project folder, or a `chats` folder."""
    if os.path.isdir(os.path.join(folder, "chats")):
        root = _marker_root(folder)
        _walk(
            os.path.join(folder, "chats"),
            _gemini_file,
            found,
            skipped,
            project_level=False,
            project_root=root,
            project=os.path.basename(folder),
        )
    elif os.path.basename(folder) == "chats":
        parent = os.path.dirname(folder)
        _walk(
            folder,
            _gemini_file,
            found,
            skipped,
            project_level=False,
            project_root=_marker_root(parent),
            project=os.path.basename(parent),
        )
    else:
        _scan_gemini(folder, found, skipped)


def _marker_root(project_folder: str) -> str | None:
    try:
        fd = lines.open_folder(os.path.dirname(project_folder))
    except OSError:
        return None
    try:
        return _gemini_project_root(fd, os.path.basename(project_folder), {})
    finally:
        os.close(fd)


def _count(skipped: dict[str, int], reason: str) -> None:
    skipped[reason] = skipped.get(reason, 0) + 1
