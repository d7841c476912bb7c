"""`telemetry-csv fmt [FILES...]`: rewrite logs in their canonical bytes, never changing a value."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_csv.cli.parsing import command_parser, files_to_read

DESCRIPTION = """\
Rewrite log files the canonical way: CRLF line endings become LF, a byte order mark is
removed, fields are quoted only where needed (notes holding a comma or a quote). No value
changes. A line that cannot be read as the header or a valid row is left exactly as it is and
reported. So is a last line without a newline: it may be a row torn by an interrupted write,
so fmt does not pass it off as complete; `telemetry-csv repair` moves it aside. Without FILES,
formats the repository's log and all its backups.

exit status: 0 every file is canonical now, 1 some lines were left as they were,
             2 bad arguments"""


def build_parser():
    parser = command_parser("fmt", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to format")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to find (default: configured)"
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.formatting import format_file

    settings = load_settings()
    named = files_to_read(args.files, args.file, settings)
    changed = left = 0
    for path, name in named:
        result = format_file(
            path, settings.schema, display=name, lock_timeout=settings.lock_timeout
        )
        if result.changed:
            changed += 1
            print(f"reformatted {name}")
        for problem in result.problems:
            print(problem)
        left += len({problem.line for problem in result.problems})  # a line may have two
    files = f"{len(named)} file{'s' if len(named) != 1 else ''}"
    print(f"{changed} of {files} reformatted, {left} line(s) left as they were")
    return 1 if left else 0
