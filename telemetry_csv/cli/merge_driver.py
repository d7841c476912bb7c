"""`telemetry-csv merge-driver BASE OURS THEIRS [PATH]`: git's merge driver for the log."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import say

DESCRIPTION = """\
Merge two versions of a log without a conflict: the header once, all of our rows in order,
then the rows the other side added since the base that we do not already have. git runs it for
files with `merge=telemetry-csv` in .gitattributes, once `telemetry-csv init` (or
`telemetry-csv init --git` in a fresh clone) has registered it:

  git config merge.telemetry-csv.driver 'telemetry-csv merge-driver %O %A %B %P'

The result is written to OURS. If any version is not a valid log, or anything else stops the
merge, nothing is guessed: OURS gets git's usual conflict markers, the reason is printed, and
the exit status is 1 (git then reports a conflict, and `check` names the markers). If any of
the three files is missing, a link or not a regular file, nothing is written and the exit
status is 4. The command `init` registers falls back to `git merge-file` when this one cannot
start at all (exit status 126 or more). In the team layout (the default) new rows go to shards,
which never need it."""


def build_parser() -> ArgumentParser:
    parser = command_parser("merge-driver", DESCRIPTION)
    parser.add_argument("base", metavar="BASE", help="the common ancestor's version (%%O)")
    parser.add_argument("ours", metavar="OURS", help="our version; receives the result (%%A)")
    parser.add_argument("theirs", metavar="THEIRS", help="their version (%%B)")
    parser.add_argument(
        "path", nargs="?", default=None, metavar="PATH", help="the file's path in the tree (%%P)"
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import TelemetryError
    from telemetry_csv.git.merging import merge_files

    name = args.path or "log"
    prefix = f"telemetry-csv merge-driver: {name}"
    base, ours, theirs = Path(args.base), Path(args.ours), Path(args.theirs)
    kept = _inputs(base, ours, theirs)  # before anything is written: git names three files
    try:
        settings = load_settings()
        merged = merge_files(base, ours, theirs, settings.schema, name)
    except TelemetryError as error:
        say(f"{prefix}: not merged, left as a conflict: {error}")
        _leave_conflict(base, ours, theirs, name)
        return 1
    except Exception as error:  # a bug must not leave our side as if it were the merge
        say(f"{prefix}: not merged, left as a conflict: {error!r}")
        _leave_conflict(base, ours, theirs, name)
        return 1
    data = merged.data()
    fs.replace(ours, data, keep=kept)  # never through a link
    if merged.moved_away:
        # The driver sees one file, not the other side's tree: it cannot see the backup. The
        # append-only hook, run on the merge commit, checks that a new backup starts with them.
        say(
            f"{prefix}: left out {merged.moved_away} row(s) of the common base that the other "
            "side no longer has in this file; a rotation there moves them to a new backup, "
            "which the merge brings in (the append-only hook refuses the merge commit if no "
            "new backup starts with them)"
        )
    if len(data) > settings.max_bytes:
        from telemetry_csv.logfile.layout import unused_backup_path

        backup = unused_backup_path(Path(name)).as_posix() if args.path else "a backup name"
        then = (
            "new rows go to shards (the team layout)"
            if settings.layout == "team"
            else "then `telemetry-csv init` and `git add` the new log"
        )
        say(
            f"{prefix}: the merged log is {len(data):,} bytes, over max_bytes "
            f"({settings.max_bytes:,}); before committing, back it up: `git mv {name} "
            f"{backup}`; {then}"
        )
    return 0


def _inputs(base: Path, ours: Path, theirs: Path) -> os.stat_result:
    """Refuse (LogFileError, exit 4) unless all three are regular files, none a link; OURS's
    status, whose mode the result keeps."""
    from telemetry_csv.errors import LogFileError

    found = {}
    for label, path in (("BASE", base), ("OURS", ours), ("THEIRS", theirs)):
        info = fs.lstat_regular(path)
        if info is None:
            raise LogFileError(
                f"{label} {path}: no such file; git runs the driver with the three versions' "
                "files (%O %A %B), nothing was written"
            )
        found[label] = info
    return found["OURS"]


def _leave_conflict(base: Path, ours: Path, theirs: Path, name: str) -> None:
    """Write git's own line-by-line merge, conflict markers and all, into OURS."""
    from telemetry_csv.git import plumbing

    # merge-file exits with the number of conflicts; any result is what the user should see.
    plumbing.run(
        [
            "merge-file",
            "-L",
            f"{name} (ours)",
            "-L",
            f"{name} (base)",
            "-L",
            f"{name} (theirs)",
            str(ours),
            str(base),
            str(theirs),
        ],
        check=False,
    )
