"""The argument parser every command uses: one-line errors (exit status 2), and the exit
statuses of `errors.COMMAND_EXITS` at the end of each command's help."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# Re-exported: every parser's error, defined where cli/main.py can take it without argparse.
from telemetry_csv.cli.argument_errors import ArgumentsError as ArgumentsError


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        hint = suggestion(message, self)
        raise ArgumentsError(f"{self.prog}: error: {one_line(message)}{hint} (see --help)")

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        # argparse would swallow a write error; let a closed pipe reach main like any output.
        stream = file or sys.stdout
        if stream is not None:
            stream.write(self.format_help())


def suggestion(message: str, parser: argparse.ArgumentParser) -> str:
    """ "; did you mean --model?" for an option argparse did not know (`--modle`), or a choice it
    refused (`--format jsn`), when a known one is close; else nothing."""
    import re

    unknown = re.match(r"unrecognized arguments: (.*)", message)
    if unknown:
        words = [word.split("=", 1)[0] for word in unknown.group(1).split()]
        known = list(parser._option_string_actions)
        close = [
            f"{word} -> {match[0]}"
            for word in words
            if word.startswith("-") and (match := closest(word, known))
        ]
        if len(close) == 1:
            return f"; did you mean {close[0].split(' -> ')[1]}?"
        return f"; did you mean {', '.join(close)}?" if close else ""
    choice = re.search(r"invalid choice: '(.*)' \(choose from (.*)\)$", message)
    if choice:
        match = closest(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        return f"; did you mean {match[0]}?" if match else ""
    return ""


def closest(word: str, candidates: Sequence[str]) -> list[str]:
    """The candidate nearest to `word`, if any is near enough (difflib, as git's and pip's
    "did you mean" do it): one or none."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)


def one_line(message: str) -> str:
    """argparse quotes arguments as they were typed: keep its message on one line (control
    characters escaped; cli/main.py redacts credentials when it prints it)."""
    import re

    return re.sub(r"[\x00-\x1f\x7f]", lambda match: repr(match.group())[1:-1], message)


def command_parser(name: str, description: str, usage: str | None = None) -> ArgumentParser:
    """The parser of `telemetry-csv NAME`, whose help ends with the command's exit statuses."""
    from telemetry_csv.errors import COMMAND_EXITS, exit_status_help

    return ArgumentParser(
        prog=f"telemetry-csv {name}",
        description=description,
        usage=usage,
        epilog=exit_status_help(COMMAND_EXITS[name]) if COMMAND_EXITS.get(name) else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_row_selection(parser: argparse.ArgumentParser, title: str) -> argparse._ArgumentGroup:
    """FILE..., --file and the options that choose rows, as every command that reads the whole
    log takes them (report, export): one definition, so they cannot drift apart. Returns the
    group, for a command's own selection options."""
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to read, in order")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to read too (default: configured)"
    )
    rows = parser.add_argument_group(title)
    rows.add_argument(
        "--range",
        metavar="BASE..HEAD",
        help="only the rows these commits added, read from git (e.g. origin/main..HEAD)",
    )
    rows.add_argument("--since", metavar="DATE|TIME", help="from this day (inclusive) or instant")
    rows.add_argument("--until", metavar="DATE|TIME", help="to this day (inclusive) or instant")
    rows.add_argument(
        "--model", action="append", default=[], metavar="NAME", help="only this model (repeatable)"
    )
    rows.add_argument(
        "--task-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="only this type (repeatable)",
    )
    rows.add_argument(
        "--skip-invalid", action="store_true", help="leave out invalid rows and count them"
    )
    return rows
