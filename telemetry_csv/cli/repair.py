"""`telemetry-csv repair`: move a torn last line of the log aside so that `log` can go on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.fields import lock_timeout_seconds
from telemetry_csv.cli.output import show, shown_path

if TYPE_CHECKING:
    from telemetry_csv.logfile.repairing import RepairResult

DESCRIPTION = """\
If the log does not end with a newline (a write was cut short by a crash or a full disk),
`log` refuses to append. `repair` takes the log's lock, copies the torn last line into
usage.csv.torn-YYYYMMDDTHHMMSSZ next to the log, then cuts it from the log. Nothing is ever
deleted: look at the .torn file, log the row again if it was complete, then delete the file
or commit it. Rows before the torn line are not touched; run `telemetry-csv check` for them.
In the team layout (without --file), every shard with a torn last line is repaired the same
way (`log` has started a new shard meanwhile), and so is usage.csv."""


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
    shards: list[Path] = []
    repaired = 0
    if settings.layout == "team" and not args.file:
        from telemetry_csv.logfile.layout import ShardFiles

        found = ShardFiles.of(settings.shard_folder)
        shards = [found.folder / name for name in found.shards]
        for shard in shards:
            result = repair_log(shard, lock_timeout=timeout, lock_of=log_path)
            if result.torn_path is not None:
                _say(result, shown_path(shard))
                repaired += 1
    team = settings.layout == "team" and not args.file
    result = repair_log(log_path, lock_timeout=timeout)
    shown = shown_path(log_path)
    folder = shown_path(settings.shard_folder)
    also = (
        (f", and every shard in {folder} ends well" if shards else ", and no shard yet")
        if team
        else ""
    )
    if result.torn_path is not None:
        _say(result, shown)
    elif repaired:
        pass
    elif not result.exists:
        then = "" if team else "; the next `telemetry-csv log` starts it"
        show(f"nothing to repair: there is no {shown}{also}{then}")
    else:
        show(f"nothing to repair: {shown} ends with a complete line{also}")
    return 0


def _say(result: RepairResult, shown: str) -> None:
    assert result.torn_path is not None
    show(
        f"moved the torn line {result.line} ({result.size:,} bytes) of {shown} to "
        f"{shown_path(result.torn_path)}; the log ends with a complete line again"
    )
    show(
        "look at that file: if it held a whole row, log the row again; "
        "then delete the file or commit it"
    )
