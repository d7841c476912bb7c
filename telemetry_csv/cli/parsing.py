"""The argument parser every command uses: one-line errors, exit status 2."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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
