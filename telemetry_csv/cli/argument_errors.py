"""The error of arguments a command refuses, and the check that every argument is text: what
cli/main.py and the hooks need before any parser, without importing argparse (whose import costs
`log` a large part of its start-up)."""

from __future__ import annotations

from collections.abc import Sequence

from telemetry_csv.errors import TelemetryError


class ArgumentsError(TelemetryError):
    """Arguments argparse refused; `str(error)` is the whole line, the program name included.
    Raised rather than printed so that cli/main.py prints it, redacted, like any other error;
    `usage`, when given, is printed on the line before it, as argparse does."""

    def __init__(self, message: str, *, usage: str = ""):
        super().__init__(message)
        self.usage = usage


def require_text(args: Sequence[str]) -> None:
    """Refuse an argument that is not UTF-8 text (Python keeps each byte that is not as a lone
    surrogate, U+DC80 to U+DCFF), naming its number and the first bad byte, never the argument
    itself."""
    for number, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as error:
            code = ord(arg[error.start])
            what = f"byte {code - 0xDC00:#04x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
            raise ArgumentsError(
                f"argument {number} is not UTF-8 text ({what} at character {error.start + 1}); "
                "give arguments as UTF-8"
            ) from None
