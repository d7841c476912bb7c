"""`telemetry-csv COMMAND ...`: find the command, parse its arguments, run it, map errors.

Only the chosen command's module is imported, so `telemetry-csv log` loads neither the report
nor the hooks. A `TelemetryError` becomes one line on stderr and its exit status; a traceback
means a bug in telemetry-csv, never a user mistake.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# name: (module under telemetry_csv.cli, one-line summary for --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "create .telemetry/ with the log, its README and .gitignore"),
    "log": ("log", "append one validated row to the log"),
    "check": ("check", "validate the log and its backups (PATH:LINE: field: message)"),
    "report": ("report", "summarise the log and its backups as Markdown, JSON or CSV"),
    "run": ("run", "run a command, then log its duration and success"),
    "fmt": ("fmt", "rewrite logs canonically (LF, no BOM, quoting) without changing a value"),
    "merge-driver": ("merge_driver", "git merge driver: merge two logs without a conflict"),
}

USAGE = "usage: telemetry-csv [-h] [--version] COMMAND [ARGS...]"


def _help() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        USAGE,
        "",
        "A committed, validated CSV log of LLM and coding-agent usage.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `telemetry-csv COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_help())
        return 0 if args else 2
    if args[0] == "--version":
        from telemetry_csv import __version__

        print(f"telemetry-csv {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        print(
            f"telemetry-csv: error: unknown command {name!r}; "
            f"choose from {', '.join(COMMANDS)} (see --help)",
            file=sys.stderr,
        )
        return 2
    import importlib

    from telemetry_csv.errors import TelemetryError

    module = importlib.import_module(f"telemetry_csv.cli.{COMMANDS[name][0]}")
    try:
        return module.run(args[1:])
    except TelemetryError as error:
        print(f"telemetry-csv {name}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"telemetry-csv {name}: interrupted", file=sys.stderr)
        return 130
