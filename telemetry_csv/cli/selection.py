"""Which files a command reads: those given, or the log (`--file`, or the configured one) and all
its backups, shards and folds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.cli.output import shown_path

if TYPE_CHECKING:
    from telemetry_csv.config import Settings


def files_to_read(
    files: list[str], log_option: str | None, settings: Settings
) -> list[tuple[Path, str]]:
    """The files a command works on, each with the name to show: those given, or else every file
    of the log (`--file`, or the configured one): its backups, itself, its folds and shards."""
    refuse_files_with_log_option(files, log_option)
    if files:
        require_existing(files)
        return [(Path(name), name) for name in files]
    from telemetry_csv.errors import LogFileError
    from telemetry_csv.logfile.layout import log_files

    log_path = Path(log_option) if log_option else settings.log_path
    paths = log_files(log_path)
    if not paths and not log_path.parent.is_dir():
        raise LogFileError(f"no log at {shown_path(log_path)}; create it with `telemetry-csv init`")
    return [(path, shown_path(path)) for path in paths]


def refuse_files_with_log_option(files: list[str], log_option: str | None) -> None:
    """`--file` picks the log whose backups are read too; next to FILES it would be ignored
    without a word, and the user would believe the other log was read."""
    if files and log_option:
        from telemetry_csv.errors import TelemetryError

        raise TelemetryError(
            "--file reads a log and its backups; give either FILES or --file, not both"
        )


def require_existing(files: list[str]) -> None:
    """A file named on the command line that is not there is a missing file (exit status 4, as
    the table of exit statuses has it), said before anything is read, not a problem in it."""
    import os

    from telemetry_csv.errors import LogFileError

    for name in files:
        if not os.path.lexists(name):
            raise LogFileError(f"{name}: no such file")
