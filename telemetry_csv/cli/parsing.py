"""The argument parser every command uses: one-line errors, exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from telemetry_csv.errors import TelemetryError

if TYPE_CHECKING:
    from telemetry_csv.config import Settings


class ArgumentsError(TelemetryError):
    """Arguments argparse refused; `str(error)` is the whole line, the program name included.
    Raised rather than printed so that cli/main.py prints it, redacted, like any other error."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(f"{self.prog}: error: {one_line(message)} (see --help)")

    def print_help(self, file: IO[str] | None = None) -> None:
        # argparse would swallow a write error; let a closed pipe reach main like any output.
        stream = file or sys.stdout
        if stream is not None:
            stream.write(self.format_help())


def one_line(message: str) -> str:
    """argparse quotes arguments as they were typed: keep its message on one line (control
    characters escaped; cli/main.py redacts credentials when it prints it)."""
    import re

    return re.sub(r"[\x00-\x1f\x7f]", lambda match: repr(match.group())[1:-1], message)


def command_parser(name: str, description: str, usage: str | None = None) -> ArgumentParser:
    return ArgumentParser(
        prog=f"telemetry-csv {name}",
        description=description,
        usage=usage,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def shown_path(path: Path | str) -> str:
    """A path as the user would type it from here: relative unless that means climbing far."""
    text = os.fspath(path)
    if not os.path.isabs(text):
        return text
    relative = os.path.relpath(text)
    ups = relative.split(os.sep).count(os.pardir)
    return relative if ups <= 3 else text


def files_to_read(
    files: list[str], log_option: str | None, settings: Settings
) -> list[tuple[Path, str]]:
    """The files a command works on, each with the name to show: those given, or else the log
    (`--file`, or the configured one) and all its backups."""
    refuse_files_with_log_option(files, log_option)
    if files:
        return [(Path(name), name) for name in files]
    from telemetry_csv.errors import LogFileError
    from telemetry_csv.store import log_files

    log_path = Path(log_option) if log_option else settings.log_path
    paths = log_files(log_path)
    if not paths:
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
