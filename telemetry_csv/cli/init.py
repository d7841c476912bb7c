"""`telemetry-csv init`: create the log and what surrounds it; never overwrite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.parsing import command_parser, shown_path

DESCRIPTION = """\
Create .telemetry/usage.csv (header only), .telemetry/README.md and .telemetry/.gitignore at the
repository root, or wherever the configuration puts the log. Existing files are kept as they are,
so running it twice is safe."""


def build_parser():
    parser = command_parser("init", DESCRIPTION)
    parser.add_argument("--file", metavar="PATH", help="where the log goes (default: configured)")
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.initialise import PRE_COMMIT_SNIPPET, initialise

    log_path = Path(args.file) if args.file else load_settings().log_path
    for action in initialise(log_path):
        print(f"{action.done:<8} {shown_path(action.path)}")
    print("\nTo check the log at every commit, add this to .pre-commit-config.yaml:\n")
    print(PRE_COMMIT_SNIPPET)
    return 0
