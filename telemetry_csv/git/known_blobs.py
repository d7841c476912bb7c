"""Which blob ids a work tree's files are known to have: the hooks of one commit hash a log once.

The fmt and check hooks each ask whether a log's first bytes are HEAD's blob, and append-only
whether the whole file is the staged blob and whether its start is HEAD's: each answer is a
hash of the whole file. The first hook that hashes a file records here the ids of its start
and of its whole, with the file's identity (device, inode, size, modification and change times
in nanoseconds); the hooks after it trust a record only while the file's identity is exactly
the recorded one, and hash the file again whenever anything differs.

Git's care for racily clean files (Documentation/technical/racy-git.txt) applies: a change
within the file system clock's resolution may leave the times as they were. So a record is
kept only when the file's modification and change times are both strictly before a stamp the
file system gave just before the file was read (the modification time of the records' new file,
created then), and the file's identity was the same before and after the read. Any change from
then on gives the file a change time at or after the stamp, which matches no record.

The records live in `.git/telemetry-csv/known-blobs`, and only where `.git` is a real folder
(not in a linked work tree, whose `.git` is a file); the file is replaced whole through
`fs.NewFile` (never through a link, never half written). A records file that is missing,
too large, not in this format or unreadable means no records: every file is hashed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError

FOLDER = "telemetry-csv"
NAME = "known-blobs"
_FORMAT = b"telemetry-csv known-blobs 1\n"
_LIMIT = 1 << 16  # far more than the records kept
_KEEP = 64  # records kept: a few per file a commit touches

Identity = tuple[int, int, int, int, int]
_Record = tuple[str, Identity, int, str]  # path, identity, size of the start, its object id


def identity(info: os.stat_result) -> Identity:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class KnownBlobs:
    """The records of one repository (`root`: its top folder); read once, on first use."""

    def __init__(self, root: Path):
        self.folder: Path | None = None
        git_dir = root / ".git"
        try:
            if stat.S_ISDIR(os.lstat(git_dir).st_mode):
                self.folder = git_dir / FOLDER
        except OSError:
            pass
        self._records: list[_Record] | None = None

    def ids(self, path: str, info: os.stat_result) -> dict[int, str]:
        """The object ids of the starts of the file at `path` (a git path) known for exactly
        the state `info` (its fstat) describes: {how many bytes: id}."""
        key = identity(info)
        return {
            size: oid for name, known, size, oid in self._load() if (name, known) == (path, key)
        }

    def stamp(self) -> fs.NewFile | None:
        """The records' new file, created now: its modification time is the stamp that the
        times of a file read after this call must precede. None where there are no records."""
        if self.folder is None:
            return None
        try:
            fs.require_folder(self.folder, create=True)
            return fs.NewFile(self.folder / NAME, mode=0o644)
        except (OSError, LogFileError):
            return None

    def record(
        self,
        new: fs.NewFile,
        path: str,
        before: os.stat_result,
        after: os.stat_result,
        ids: dict[int, str],
    ) -> None:
        """Keep `ids` (see `ids`) of the file at `path`, read between its fstat `before` and
        its fstat `after`, when the file cannot have changed unseen (see the module); `new`,
        from `stamp` before the read, is written or discarded."""
        try:
            if new.fd is None:
                return
            stamped = os.fstat(new.fd)
            stamp = stamped.st_mtime_ns
            key = identity(after)
            # The stamp and the file's times compare only on one file system (one clock, one
            # granularity: a work tree on another mount, NFS say, keeps its own).
            if (
                identity(before) != key
                or after.st_dev != stamped.st_dev
                or max(after.st_mtime_ns, after.st_ctime_ns) >= stamp
            ):
                new.discard()
                return
            records = [record for record in self._load() if record[0] != path]
            records += [(path, key, size, oid) for size, oid in sorted(ids.items())]
            self._records = records = records[-_KEEP:]
            new.write(_FORMAT + b"".join(_line(record) for record in records))
            new.commit(durable=False)  # a cache: lost in a crash, it is only rebuilt
        except (OSError, LogFileError):
            new.discard()

    def _load(self) -> list[_Record]:
        if self._records is None:
            self._records = []
            if self.folder is not None:
                try:
                    data = fs.read_bounded(self.folder / NAME, _LIMIT)
                except (OSError, LogFileError):
                    data = None
                self._records = _parse(data or b"")
        return self._records


def _line(record: _Record) -> bytes:
    path, key, size, oid = record
    # The path as hex: a git path may hold spaces, tabs or line breaks.
    return b"%s %d %d %d %d %d %d %s\n" % (
        os.fsencode(path).hex().encode(),
        *key,
        size,
        oid.encode(),
    )


def _parse(data: bytes) -> list[_Record]:
    if not data.startswith(_FORMAT):
        return []
    records: list[_Record] = []
    try:
        for line in data[len(_FORMAT) :].decode("ascii").splitlines():
            hexpath, dev, ino, size, mtime, ctime, start, oid = line.split(" ")
            if len(oid) not in (40, 64) or any(char not in "0123456789abcdef" for char in oid):
                return []
            path = os.fsdecode(bytes.fromhex(hexpath))
            records.append(
                (path, (int(dev), int(ino), int(size), int(mtime), int(ctime)), int(start), oid)
            )
    except ValueError:  # not ASCII, not hex, not numbers, not eight fields
        return []
    return records
