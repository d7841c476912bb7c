"""telemetry-csv-append-only: a committed row may never be edited, deleted or reordered.

Compares what is staged with HEAD (or, when pre-commit runs with `--from-ref` and `--to-ref`,
the range's merge base with its end, and then every merge inside the range with each of its
parents); while a merge is being committed, compares it with each parent. The rules are in
git/append_only.py and git/history.py. The hook asks git which files changed, so it takes no
file names from pre-commit (which never passes a deleted file), and it costs a few git calls
when none did.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.hooks import plain_names, run_hook

if TYPE_CHECKING:
    import argparse

PROG = "telemetry-csv-append-only"


def main(argv: Sequence[str] | None = None) -> int:
    def check() -> int:
        filenames = plain_names(argv)
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or None
        to_ref = os.environ.get("PRE_COMMIT_TO_REF") or None
        if filenames is None or bool(from_ref) != bool(to_ref):
            parser = build_parser()
            args = parser.parse_args(argv)
            if bool(args.from_ref) != bool(args.to_ref):
                parser.error("--from-ref and --to-ref go together")
            filenames, from_ref, to_ref = args.filenames, args.from_ref, args.to_ref
        return _check(filenames, from_ref, to_ref)

    return run_hook(PROG, argv, check)


def build_parser() -> argparse.ArgumentParser:
    from telemetry_csv.cli.arguments import ArgumentParser

    parser = ArgumentParser(
        prog=PROG,
        description="Fail if the staged log or its backups lose or rewrite rows that HEAD has; "
        "rows may only be appended. Set TELEMETRY_CSV_RETIRE_BACKUPS=1 to delete whole backups.",
    )
    parser.add_argument(
        "filenames",
        nargs="*",
        metavar="LOG",
        help="more logs to hold to the rule, with their backups (the configured log always is)",
    )
    parser.add_argument(
        "--from-ref",
        default=os.environ.get("PRE_COMMIT_FROM_REF") or None,
        metavar="REV",
        help="compare the merge base of REV and --to-ref with --to-ref, not HEAD with the index",
    )
    parser.add_argument(
        "--to-ref", default=os.environ.get("PRE_COMMIT_TO_REF") or None, metavar="REV"
    )
    return parser


def _check(filenames: list[str], from_ref: str | None, to_ref: str | None) -> int:
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import ConfigError
    from telemetry_csv.git import plumbing
    from telemetry_csv.git.append_only import check
    from telemetry_csv.git.history import RETIRE_BACKUPS, belongs_to

    work_tree = plumbing.work_tree()
    root = work_tree.root
    settings = load_settings(root)
    logs: list[str] = []
    for path in (settings.log_path, *(Path(name).absolute() for name in filenames)):
        relative = plumbing.relative_path(path, root)
        if relative is None:
            raise ConfigError(f"the log {path} is outside the repository {root}")
        if not any(belongs_to(relative, log) for log in logs):
            logs.append(relative)
    findings = check(
        root,
        settings,
        from_ref=from_ref,
        to_ref=to_ref,
        extra_logs=logs[1:],
        retire=os.environ.get(RETIRE_BACKUPS) == "1",
        work_tree=work_tree,
    )
    from telemetry_csv.cli.output import show

    for finding in findings:
        show(str(finding))
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
