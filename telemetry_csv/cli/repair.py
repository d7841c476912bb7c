"""`telemetry-csv repair`: move a torn last line of the log aside so that `log` can go on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.fields import lock_timeout_seconds
from telemetry_csv.cli.output import show, shown_path

DESCRIPTION = """\
If the log does not end with a newline (a write was cut short by a crash or a full disk),
`log` refuses to append. `repair` takes the log's lock, copies the torn last line into
usage.csv.torn-YYYYMMDDTHHMMSSZ next to the log, then cuts it from the log. Nothing is ever
deleted: look at the .torn file, log the row again if it was complete, then delete the file
or commit it. Rows before the torn line are not touched; run `telemetry-csv check` for them."""


def build_parser() -> ArgumentParser:
    parser = command_parser("repair", DESCRIPTION)
    parser.add_argument("--file", metavar="PATH", help="the log to repair (default: configured)")
    parser.add_argument(
        "--lock-timeout", type=lock_timeout_seconds, metavar="SECONDS", help="default: 10"
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.logfile.repairing import repair_log

    settings = load_settings()
    log_path = Path(args.file) if args.file else settings.log_path
    timeout = settings.lock_timeout if args.lock_timeout is None else args.lock_timeout
    result = repair_log(log_path, lock_timeout=timeout)
    shown = shown_path(log_path)
    if not result.exists:
        show(f"nothing to repair: there is no {shown}; the next `telemetry-csv log` starts it")
    elif result.torn_path is None:
        show(f"nothing to repair: {shown} ends with a complete line")
    else:
        show(
            f"moved the torn line {result.line} ({result.size:,} bytes) of {shown} to "
            f"{shown_path(result.torn_path)}; the log ends with a complete line again"
        )
        show(
            "look at that file: if it held a whole row, log the row again; "
            "then delete the file or commit it"
        )
    return 0
