"""telemetry-csv-append-only: a committed row may never be edited, deleted or reordered.

Compares the staged log and its backups with their versions in HEAD (or, when pre-commit runs
with `--from-ref` and `--to-ref`, the range's merge base with its end): rows may only be added
at the end, except that a rotation may move them, whole and in order, to the start of a backup
new in the same commit. A committed backup may not be deleted unless TELEMETRY_CSV_RETIRE_BACKUPS=1
is set. The hook asks git which of these files changed, so it takes no file names from
pre-commit (which never passes a deleted file), and it costs a few git calls when none did.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser
from telemetry_csv.hooks import run_hook

PROG = "telemetry-csv-append-only"


def main(argv: Sequence[str] | None = None) -> int:
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

    def check() -> int:
        args = parser.parse_args(argv)
        if bool(args.from_ref) != bool(args.to_ref):
            parser.error("--from-ref and --to-ref go together")
        return _check(args.filenames, args.from_ref, args.to_ref)

    return run_hook(PROG, argv, check)


def _check(filenames: list[str], from_ref: str | None, to_ref: str | None) -> int:
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import ConfigError
    from telemetry_csv.git import plumbing
    from telemetry_csv.git.history import (
        RETIRE_BACKUPS,
        Deletion,
        Rewrite,
        belongs_to,
        check_log,
        comparison,
    )

    root = plumbing.toplevel()
    compared = comparison(from_ref, to_ref, root)
    if compared is None:
        return 0  # the first commit: every file is new
    settings = load_settings(root)
    logs: list[str] = []
    for path in (settings.log_path, *(Path(name).absolute() for name in filenames)):
        relative = plumbing.relative_path(path, root)
        if relative is None:
            raise ConfigError(f"the log {path} is outside the repository {root}")
        if not any(belongs_to(relative, log) for log in logs):
            logs.append(relative)
    findings: list[Rewrite | Deletion] = []
    for log in logs:
        findings += check_log(
            log,
            settings.schema,
            compared,
            cwd=root,
            retire_backups=os.environ.get(RETIRE_BACKUPS) == "1",
        )
    from telemetry_csv.cli.output import show

    for finding in findings:
        show(str(finding))
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
