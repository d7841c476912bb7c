"""`telemetry-csv check [FILES...]`: validate logs; one `PATH:LINE: field: message` per problem.
The check hook (hooks/check_hook.py) prints through `print_check` too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from telemetry_csv.cli.output import shown_path
from telemetry_csv.cli.selection import refuse_files_with_log_option

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from telemetry_csv.config import Settings
    from telemetry_csv.logfile.checking import CheckResult
    from telemetry_csv.logfile.reading import Problem

DESCRIPTION = """\
Validate log files line by line, in constant memory. Without FILES, checks every file of the
repository's log: usage.csv and its backups (usage-*.csv), and the shards and folds in
usage.rows/, counting each shard's rows once and checking each fold against its manifest.
Files that writers change meanwhile are read consistently, without a lock."""


def add_max_problems(parser: argparse.ArgumentParser) -> None:
    from telemetry_csv.logfile.checking import DEFAULT_MAX_PROBLEMS

    parser.add_argument(
        "--max-problems",
        type=int,
        default=DEFAULT_MAX_PROBLEMS,
        metavar="N",
        help=f"show at most N problems; all are counted (default: {DEFAULT_MAX_PROBLEMS})",
    )


def build_parser() -> argparse.ArgumentParser:
    # Imported here: the check hook prints through `print_check` without parsing arguments.
    from telemetry_csv.cli.arguments import command_parser

    parser = command_parser("check", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to check")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to find (default: configured)"
    )
    add_max_problems(parser)
    parser.add_argument("--max-bytes", type=int, metavar="N", help="flag files larger than N bytes")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no summary"
    )
    return parser


def print_check(
    named: Sequence[tuple[Path, str]],
    settings: Settings,
    *,
    max_problems: int,
    max_bytes: int | None = None,
    summary: Literal["always", "on problems", "never"] = "always",
    promote: Callable[[Problem], bool] | None = None,
    trusted: Mapping[Path, int] | None = None,
) -> int:
    """Check the files, print each problem and warning shown, then the summary line (always,
    only when something is wrong, as a hook does, or never); 0 if there is no problem (there
    may be warnings), else 1. `promote`: see `check_files`. `trusted`: for some files, how many
    bytes at their start were checked already (see `check_files`)."""
    from telemetry_csv.logfile.checking import check_files

    display: dict[Path | str, str] = dict(named)
    result = check_files(
        [path for path, _ in named],
        settings.schema,
        max_bytes=max_bytes or settings.max_bytes,
        max_problems=max(max_problems, 0),
        display=display,
        promote=promote,
        trusted={path: start for path, start in (trusted or {}).items()},
    )
    return print_result(result, summary)


def print_result(
    result: CheckResult, summary: Literal["always", "on problems", "never"] = "always"
) -> int:
    from telemetry_csv.cli.output import show

    for problem in result.problems:
        show(str(problem))
    if (
        summary == "always"
        or (summary == "on problems" and not result.ok)
        or (summary == "on problems" and result.warning_count)
    ):
        show(result.summary())
    return 0 if result.ok else 1


def check_log(
    log_path: Path, settings: Settings, *, max_problems: int, max_bytes: int | None = None
) -> CheckResult:
    """Check every file of the log at `log_path`, read consistently (logfile/snapshot.py)."""
    from telemetry_csv.errors import LogFileError
    from telemetry_csv.logfile.checking import check_snapshot
    from telemetry_csv.logfile.snapshot import Snapshot, read_consistently

    def read(snapshot: Snapshot) -> CheckResult:
        if not snapshot.exists():
            raise LogFileError(
                f"no log at {shown_path(log_path)}; create it with `telemetry-csv init`"
            )
        return check_snapshot(
            snapshot,
            settings.schema,
            max_bytes=max_bytes or settings.max_bytes,
            max_problems=max(max_problems, 0),
        )

    return read_consistently(read, log_path, display=shown_path)


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings

    settings = load_settings()
    refuse_files_with_log_option(args.files, args.file)
    summary: Literal["always", "never"] = "never" if args.quiet else "always"
    if args.files:
        from telemetry_csv.cli.selection import require_existing

        require_existing(args.files)
        named = [(Path(name), name) for name in args.files]
        return print_check(
            named,
            settings,
            max_problems=args.max_problems,
            max_bytes=args.max_bytes,
            summary=summary,
        )
    log_path = Path(args.file) if args.file else settings.log_path
    result = check_log(log_path, settings, max_problems=args.max_problems, max_bytes=args.max_bytes)
    return print_result(result, summary)
