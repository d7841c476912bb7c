"""The argument parser every command uses: one-line errors, exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, NoReturn


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def print_help(self, file: IO[str] | None = None) -> None:
        # argparse would swallow a write error; let a closed pipe reach main like any output.
        stream = file or sys.stdout
        if stream is not None:
            stream.write(self.format_help())


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
