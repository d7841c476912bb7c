"""A work tree's git state read from its git folder, without starting git: for `log`.

`log` must stay about as fast as taking a file lock, and starting git costs more than all of
`log` (so does importing `subprocess`, which this module leaves to the rare cases that need it). So HEAD is read from `HEAD` and the ref it names (a loose ref file, else `packed-refs`),
and the index's state from its file status (git replaces the index file whenever it writes it).
The git folder is found from the work tree's `.git`: a folder, or a file `gitdir: PATH` (linked
worktrees, submodules), whose `commondir` file says where the shared refs live. Anything unusual
(the reftable ref storage, `GIT_DIR` in the environment, a HEAD that does not parse) is asked of
git itself (`plumbing`). `frozen` runs git, once, when the writer needs to know (sharding.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_OID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_GIT_ENVIRONMENT = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE")


class Worktree:
    """The git state of the work tree at `root` (implements `sharding.Repository`)."""

    def __init__(self, root: Path, git_dir: Path, common_dir: Path):
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir

    @classmethod
    def at(cls, root: Path) -> Worktree | None:
        """The work tree whose top folder is `root`, or None if `root` holds no `.git`."""
        if any(name in os.environ for name in _GIT_ENVIRONMENT):
            return cls._asked(root)
        dot_git = root / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            try:
                text = dot_git.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return cls._asked(root)
            if not text.startswith("gitdir: "):
                return cls._asked(root)
            git_dir = root / text[len("gitdir: ") :].strip()
        else:
            return None
        common_dir = git_dir
        try:
            common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
            common_dir = git_dir / common
        except FileNotFoundError:
            pass
        except OSError:
            return cls._asked(root)
        return cls(root, git_dir, common_dir)

    @classmethod
    def _asked(cls, root: Path) -> Worktree | None:
        from telemetry_csv.git import plumbing

        out = plumbing.run(
            ["rev-parse", "--absolute-git-dir", "--git-common-dir"], root, check=False
        )
        lines = os.fsdecode(out).splitlines()
        if len(lines) != 2:
            return None
        git_dir = Path(lines[0])
        return cls(
            root, git_dir, git_dir / lines[1] if not os.path.isabs(lines[1]) else Path(lines[1])
        )

    def head(self) -> str | None:
        try:
            data = (self.git_dir / "HEAD").read_bytes()
        except OSError:
            return self._asked_head()
        for _ in range(5):  # a symbolic ref may name another one
            if _OID.fullmatch(data.strip()):
                return data.strip().decode()
            if not data.startswith(b"ref: ") or (self.common_dir / "reftable").exists():
                return self._asked_head()
            ref = data[5:].strip().decode("utf-8", "replace")
            if ".." in ref or not ref.startswith("refs/"):
                return self._asked_head()
            loose = self._loose_ref(ref)
            if loose is None:
                return self._packed_ref(ref)
            data = loose
        return self._asked_head()

    def _loose_ref(self, ref: str) -> bytes | None:
        for folder in (self.git_dir, self.common_dir):
            try:
                return (folder / ref).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
        return None

    def _packed_ref(self, ref: str) -> str | None:
        """The ref's id from packed-refs; None when it is not there either (an unborn branch)."""
        try:
            data = (self.common_dir / "packed-refs").read_bytes()
        except FileNotFoundError:
            return None
        wanted = b" " + ref.encode() + b"\n"
        at = data.find(wanted)
        if at < 0:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        oid = data[start:at]
        return oid.decode() if _OID.fullmatch(oid) else self._asked_head()

    def _asked_head(self) -> str | None:
        from telemetry_csv.git import plumbing

        return plumbing.commit_id("HEAD", self.root)

    def _index_path(self) -> Path:
        index = os.environ.get("GIT_INDEX_FILE")
        return Path(index) if index else self.git_dir / "index"

    def index_signature(self) -> str:
        return _signature(self._index_path())

    def index_lock(self) -> str | None:
        lock = self.git_dir / "index.lock"
        signature = _signature(lock)
        return None if signature == "-" else signature

    def state_path(self) -> Path:
        return self.git_dir / "telemetry-csv" / "current"

    def frozen(self, path: Path, head: str | None) -> tuple[str, int] | None:
        # Imported here: starting git (and importing subprocess) is for when HEAD moved.
        from telemetry_csv.git import plumbing

        relative = plumbing.relative_path(path, self.root)
        if relative is None:
            return None
        names = [f":{relative}", *([f"{head}:{relative}"] if head else [])]
        for found in plumbing.object_sizes(names, self.root):
            if found is not None:
                return found
        return None


def _signature(path: Path) -> str:
    """What tells one version of a file git replaces whole from the next: its inode, size and
    times; "-" when there is no such file."""
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"
