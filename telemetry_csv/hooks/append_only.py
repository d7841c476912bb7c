"""telemetry-csv-append-only: a committed row may never be edited, deleted or reordered.

Compares each staged log with its version in HEAD (or, when pre-commit runs with `--from-ref`
and `--to-ref`, the range's merge base with its end): rows may only be added at the end, except
that a rotation may move them, whole and in order, into a backup new in the same commit.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.hooks import report_error

PROG = "telemetry-csv-append-only"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fail if a staged log rewrites rows that HEAD has; rows may only be appended.",
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    parser.add_argument(
        "--from-ref",
        default=os.environ.get("PRE_COMMIT_FROM_REF"),
        metavar="REV",
        help="compare the merge base of REV and --to-ref with --to-ref, not HEAD with the index",
    )
    parser.add_argument("--to-ref", default=os.environ.get("PRE_COMMIT_TO_REF"), metavar="REV")
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0
    if bool(args.from_ref) != bool(args.to_ref):
        parser.error("--from-ref and --to-ref go together")

    from telemetry_csv import git
    from telemetry_csv.append_only import check_paths, comparison
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import TelemetryError

    try:
        root = git.toplevel()
        compared = comparison(args.from_ref, args.to_ref, root)
        if compared is None:
            return 0  # the first commit: every file is new
        paths = [git.relative_path(Path(name), root) for name in args.filenames]
        rewrites = check_paths(
            [path for path in paths if path is not None],
            load_settings(root).schema,
            compared,
            cwd=root,
        )
    except TelemetryError as error:
        return report_error(PROG, error)
    for rewrite in rewrites:
        print(rewrite)
    return 1 if rewrites else 0


if __name__ == "__main__":
    raise SystemExit(main())
