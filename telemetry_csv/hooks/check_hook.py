"""telemetry-csv-check: every telemetry CSV file pre-commit passes must be a valid log.

A file's start that is exactly what HEAD has was checked when it was committed, so only the
lines after it are read (`git.committed`), and compared by id with the rows before them that
hold the same ids; `telemetry-csv check` reads everything.

A warning (a row that breaks only a rule newer than the rows committed before it, such as
invisible characters in a model name) fails the hook only on a row being added: history may
not be edited, so a committed one is shown, never a reason to refuse the next commit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.hooks import committed_starts, plain_names, run_hook

if TYPE_CHECKING:
    import argparse

    from telemetry_csv.logfile.reading import Problem

PROG = "telemetry-csv-check"


def main(argv: Sequence[str] | None = None) -> int:
    def check() -> int:
        from telemetry_csv.logfile.checking import DEFAULT_MAX_PROBLEMS

        filenames, max_problems = plain_names(argv), DEFAULT_MAX_PROBLEMS
        if filenames is None:
            args = build_parser().parse_args(argv)
            filenames, max_problems = args.filenames, args.max_problems
        if not filenames:
            return 0
        return _check(filenames, max_problems)

    return run_hook(PROG, argv, check)


def build_parser() -> argparse.ArgumentParser:
    from telemetry_csv.cli.arguments import ArgumentParser
    from telemetry_csv.cli.check import add_max_problems

    parser = ArgumentParser(
        prog=PROG, description="Check log files: one PATH:LINE: field: message per problem."
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    add_max_problems(parser)
    return parser


def _check(filenames: list[str], max_problems: int) -> int:
    from telemetry_csv.cli.check import print_check
    from telemetry_csv.config import load_settings

    named = [(Path(name), name) for name in filenames]
    settings = load_settings()
    # What HEAD has of a file was checked when it was committed: only what follows is read.
    trusted = committed_starts([path for path, _ in named], settings.root)
    return print_check(
        named,
        settings,
        max_problems=max_problems,
        summary="on problems",
        promote=BeingAdded(filenames, os.environ.get("PRE_COMMIT_FROM_REF") or "HEAD"),
        trusted=trusted,
    )


class BeingAdded:
    """Whether a warning's row is being added: its line is in no file of the checked files'
    folders at `revision` (HEAD; with pre-push, the remote's old head). A row a rotation moved
    to a new backup is not new: it was in the log. Git is asked only at the first warning."""

    def __init__(self, filenames: list[str], revision: str):
        self.folders = sorted({Path(name).parent.as_posix() for name in filenames})
        self.revision = revision
        self.committed: set[str] | None = None

    def __call__(self, problem: Problem) -> bool:
        if self.committed is None:
            self.committed = self._committed_lines()
        return problem.text not in self.committed

    def _committed_lines(self) -> set[str]:
        from telemetry_csv.git import plumbing

        commit = plumbing.commit_id(self.revision)
        if commit is None:
            return set()  # the first commit: every row is being added
        lines: set[str] = set()
        # One `git cat-file --batch` for every file: a shard folder holds hundreds.
        with plumbing.BlobReader() as blobs:
            for folder in self.folders:
                for path in plumbing.list_files(commit, folder):
                    if path.endswith(".csv"):
                        blob = blobs.read(f"{commit}:{path}") or b""
                        lines.update(blob.decode("utf-8", "replace").splitlines())
        return lines


if __name__ == "__main__":
    raise SystemExit(main())
