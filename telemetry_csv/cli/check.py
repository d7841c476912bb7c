"""`telemetry-csv check [FILES...]`: validate logs; one `PATH:LINE: field: message` per problem."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.parsing import command_parser, files_to_read

DESCRIPTION = """\
Validate log files line by line, in constant memory. Without FILES, checks the repository's
log and all its backups (usage.csv and usage-*.csv in its folder).

exit status: 0 no problems, 1 problems found, 2 bad arguments"""


def build_parser():
    from telemetry_csv.checking import DEFAULT_MAX_PROBLEMS

    parser = command_parser("check", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to check")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to find (default: configured)"
    )
    parser.add_argument(
        "--max-problems",
        type=int,
        default=DEFAULT_MAX_PROBLEMS,
        metavar="N",
        help=f"show at most N problems; all are counted (default: {DEFAULT_MAX_PROBLEMS})",
    )
    parser.add_argument("--max-bytes", type=int, metavar="N", help="flag files larger than N bytes")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no summary"
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.checking import check_files
    from telemetry_csv.config import load_settings

    settings = load_settings()
    named = files_to_read(args.files, args.file, settings)
    display: dict[Path | str, str] = dict(named)
    result = check_files(
        [path for path, _ in named],
        settings.schema,
        max_bytes=args.max_bytes or settings.max_bytes,
        max_problems=max(args.max_problems, 0),
        display=display,
    )
    for problem in result.problems:
        print(problem)
    if not args.quiet:
        print(result.summary())
    return 0 if result.ok else 1
