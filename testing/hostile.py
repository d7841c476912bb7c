"""Hostile repositories for the tests: a decoy folder outside the repository that nothing may
change, a repository with a valid log, things planted at the paths the tool touches (links,
FIFOs, devices, huge files, folders), and the real command run on it with every promise
checked: nothing outside changed, the rows are those before or one more, no traceback, no
credential and no control character in anything printed, a documented exit status, and one
line on stderr for an error."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from telemetry_csv.errors import COMMAND_EXITS, EXIT_CLOSED_PIPE
from telemetry_csv.logfile import folds
from telemetry_csv.secrets_scan import find_secret
from testing.logfiles import rows, write_log
from testing.util import BIN, HEADER, git, git_env

# Shaped like a real key (built from pieces, so this file holds none), and a marker: neither
# may ever appear in what the tool prints.
FAKE_KEY = "ghp_" + "Q9w8E7r6T5y4U3i2O1p0A9s8D7f6G5h4J3k2"
DECOY_TEXT = f"DECOY-CONTENT export GITHUB_TOKEN={FAKE_KEY}\n"
LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260101T000000Z.csv"
SHARDS = ".telemetry/usage.rows"
SHARD = f"{SHARDS}/20260102T000000Z-0123456789abcdef.csv"  # a loose, committed shard
FOLDED = "20260103T000000Z-fedcba9876543210.csv"  # a shard held in the fold below
_FOLD = folds.build([(FOLDED, (HEADER + rows(5)).encode())])
FOLD = f"{SHARDS}/{_FOLD.name}"
MANIFEST = f"{SHARDS}/{_FOLD.manifest_name}"
STATES = ".git/telemetry-csv"  # the local states: which shard `log` appends to, import, export

# What the tool reads, creates, appends to, renames or replaces in a repository.
TOUCHED = (
    LOG,
    BACKUP,
    ".telemetry/usage-20990101T000000Z.csv",  # a backup name that sorts last
    ".telemetry/.usage.csv.tmp",  # the temporary file's name before issue 12
    ".telemetry/usage.csv.lock",
    ".telemetry/.gitignore",
    ".telemetry/README.md",
    ".telemetry/config.toml",
    ".gitattributes",
    "pyproject.toml",
    ".telemetry",
    "report.md",  # where `report -o report.md` writes
    # The team layout: the shard folder, a shard, a fold and its manifest, a new shard's name.
    SHARDS,
    SHARD,
    FOLD,
    MANIFEST,
    # Local states in the git folder (never committed, but never written through a link either).
    STATES,
    f"{STATES}/current",
    f"{STATES}/import-state.claude-code.json",
    f"{STATES}/export-otlp.json",
    f"{STATES}/export-otlp.json.lock",
)
# Names that are folders: a link to a folder outside is the case to try there.
FOLDERS = (".telemetry", SHARDS, STATES)
# Files read as settings: a FIFO, a device or a huge file there must be one line, not a hang.
SETTINGS = (".telemetry/config.toml", "pyproject.toml", ".telemetry/.gitignore", ".gitattributes")


def make_decoy(folder: Path) -> Path:
    folder.mkdir()
    (folder / "bashrc").write_text(DECOY_TEXT)
    (folder / "dir").mkdir()
    (folder / "dir" / "usage.csv").write_text(DECOY_TEXT)
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every name under `folder` (links not followed), with its mode and its content's hash."""
    found = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(root) / name
            info = os.lstat(path)
            digest = ""
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            found[str(path.relative_to(folder))] = (info.st_mode, digest)
    return found


def new_repo(root: Path) -> Path:
    """A repository with one commit holding a log, a backup, a loose shard and a fold of
    another shard with its manifest: every kind of file the readers read."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_log(root / LOG, rows(1, 2, 3))
    write_log(root / BACKUP, rows(0))
    write_log(root / SHARD, rows(4))
    (root / FOLD).write_bytes(_FOLD.data)
    (root / MANIFEST).write_bytes(_FOLD.manifest)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "a log of every kind of file")
    return root


Plant = Callable[[Path, Path], None]  # (the path in the repository, the decoy folder)


def _replace(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        import shutil

        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def _link_to(target: Callable[[Path], Path]) -> Plant:
    def plant(path: Path, decoy: Path) -> None:
        _replace(path)
        path.symlink_to(target(decoy))

    return plant


def _fifo(path: Path, decoy: Path) -> None:
    _replace(path)
    os.mkfifo(path)


def _folder(path: Path, decoy: Path) -> None:
    _replace(path)
    path.mkdir()


def _device(path: Path, decoy: Path) -> None:
    """A character device node of its own (the zero device's numbers), not a link to one: git
    cannot commit one, but a checkout on a shared machine can hold anything."""
    _replace(path)
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.stat("/dev/zero").st_rdev)
    except PermissionError:
        import pytest

        pytest.skip("creating a device node needs root")


def _huge(path: Path, decoy: Path) -> None:
    _replace(path)
    with open(path, "wb") as file:
        file.truncate(3 << 30)  # 3 GiB, sparse: reading it whole would exhaust memory


PLANTS: dict[str, Plant] = {
    "link to a file outside": _link_to(lambda decoy: decoy / "bashrc"),
    "link to a folder outside": _link_to(lambda decoy: decoy / "dir"),
    "dangling link outside": _link_to(lambda decoy: decoy / "missing"),
    "link to /dev/zero": _link_to(lambda decoy: Path("/dev/zero")),
    "fifo": _fifo,
    "device": _device,
    "folder": _folder,
    "huge file": _huge,
}


def plant(repo: Path, decoy: Path, name: str, kind: str) -> None:
    path = repo / name
    if name in FOLDERS:
        if kind not in ("link to a folder outside", "dangling link outside"):
            raise ValueError(kind)
        _replace(path)
        path.symlink_to(decoy / "dir" if kind == "link to a folder outside" else decoy / "none")
        return
    PLANTS[kind](path, decoy)


def row_count(repo: Path) -> int:
    """Data lines in the regular log, backups, shards and folds (a link or a FIFO there is not
    read); a fold only moves rows, so folding keeps the count."""
    folder = repo / ".telemetry"
    if folder.is_symlink() or not folder.is_dir():
        return 0
    count = 0
    for inner in (folder, repo / SHARDS):
        if inner.is_symlink() or not inner.is_dir():
            continue
        for path in inner.iterdir():
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode) and path.suffix == ".csv" and info.st_size < 1 << 20:
                count += max(path.read_bytes().count(b"\n") - 1, 0)
    return count


# Each command: the argv after `telemetry-csv` (or a hook's console script), and how many rows
# it adds when it succeeds.
COMMANDS: dict[str, tuple[list[str], int]] = {
    "log": (["telemetry-csv", "log", "m", "1", "2", "true", "plan", "3"], 1),
    "log rotating": (
        ["telemetry-csv", "log", "m", "1", "2", "true", "plan", "3", "--max-bytes", "1024"],
        1,
    ),
    "run": (["telemetry-csv", "run", "--model", "m", "--task-type", "plan", "--", "true"], 1),
    "init": (["telemetry-csv", "init"], 0),
    "init --git": (["telemetry-csv", "init", "--git"], 0),
    "check": (["telemetry-csv", "check"], 0),
    "report": (["telemetry-csv", "report", "--no-costs"], 0),
    "report -o": (
        ["telemetry-csv", "report", "--no-costs", "--skip-invalid", "-o", "report.md"],
        0,
    ),
    "fmt": (["telemetry-csv", "fmt"], 0),
    "repair": (["telemetry-csv", "repair"], 0),
    "check hook": (
        [
            "telemetry-csv-check-hook",
            LOG,
            BACKUP,
            ".telemetry/usage-20990101T000000Z.csv",
            SHARD,
            FOLD,
            MANIFEST,
        ],
        0,
    ),
    "fmt hook": (["telemetry-csv-fmt-hook", LOG, BACKUP, SHARD], 0),
    "append-only hook": (["telemetry-csv-append-only-hook"], 0),
    # The team layout's and the other features' commands.
    "cat": (["telemetry-csv", "cat"], 0),
    "fold": (["telemetry-csv", "fold"], 0),
    "import": (["telemetry-csv", "import", "all"], 0),  # HOME has no session: nothing new
    # Nothing listens on port 9 of the loopback: the state is locked and read, nothing is sent.
    "export": (["telemetry-csv", "export", "otlp", "--endpoint", "http://127.0.0.1:9"], 0),
    "report html": (
        ["telemetry-csv", "report", "--no-costs", "--format", "html", "-o", "report.md"],
        0,
    ),
}


def run(
    argv: Sequence[str | bytes], cwd: Path, env: Mapping[str, str | bytes] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The installed console script, with a time limit: a hang fails the test."""
    program, *rest = argv
    environment: dict[str | bytes, str | bytes] = dict(git_env())
    # `import` reads agents' session files under HOME: none here, and none of the real user's.
    environment["HOME"] = str(cwd / ".git" / "no-home")
    # `export` finds no receiver (port 9): the standard timeout variable, in milliseconds, stops
    # it after its first refused try instead of backing off for seconds; the retries and their
    # backoff are tested against a real receiver in test_export_otlp.py.
    environment["OTEL_EXPORTER_OTLP_TIMEOUT"] = "500"
    environment.update(env or {})
    return subprocess.run(
        [str(BIN / os.fsdecode(program)), *rest],
        cwd=cwd,
        env=environment,  # type: ignore[arg-type]
        capture_output=True,
        timeout=60,
        check=False,
    )


def assert_kept_promises(
    done: subprocess.CompletedProcess[bytes],
    command: str,
    *,
    decoy: Path,
    decoy_before: Mapping[str, tuple[int, str]],
    rows_before: int,
    rows_after: int,
    adds: int,
) -> None:
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    shown = f"{command}: exit {done.returncode}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    assert snapshot(decoy) == decoy_before, f"the decoy outside the repository changed; {shown}"
    assert "Traceback" not in out + err, shown
    assert "DECOY-CONTENT" not in out + err, shown
    assert find_secret(out + err) is None, shown
    for stream in (done.stdout, done.stderr):
        assert b"\x1b" not in stream and b"\xc2\x9b" not in stream, shown
    name = command.split()[0]
    if COMMAND_EXITS.get(name):
        assert done.returncode in {*COMMAND_EXITS[name], EXIT_CLOSED_PIPE}, shown
        if done.returncode in (2, 3, 4):
            # One line, after the usage (argparse's, which may wrap) where an argument is missing.
            said = [line for line in err.splitlines() if not line.startswith(("usage: ", " "))]
            assert len(said) == 1 and err.endswith("\n"), shown
    elif command.endswith("hook"):
        assert done.returncode in (0, 1), shown
    if command.startswith("run"):  # its status is the command's: the row may not be logged
        assert rows_after in (rows_before, rows_before + adds), shown
    else:
        assert rows_after == rows_before + (adds if done.returncode == 0 else 0), shown
