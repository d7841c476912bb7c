"""`telemetry-csv init`: create the log and what surrounds it; never overwrite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import show, shown_path

DESCRIPTION = """\
Create .telemetry/usage.csv (header only), .telemetry/README.md and .telemetry/.gitignore at the
repository root, or wherever the configuration puts the log. Existing files are kept as they are,
so running it twice is safe.

It also adds a line to .gitattributes (`.telemetry/*.csv merge=telemetry-csv text eol=lf`) and,
inside a git repository, registers the merge driver in .git/config, so two branches that both
logged rows merge without a conflict. .git/config is not committed: in a fresh clone, run
`telemetry-csv init --git` once."""


def build_parser() -> ArgumentParser:
    parser = command_parser("init", DESCRIPTION)
    parser.add_argument("--file", metavar="PATH", help="where the log goes (default: configured)")
    parser.add_argument(
        "--git",
        action="store_true",
        help="only the git set-up: .gitattributes and the merge driver (for a fresh clone)",
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings
    from telemetry_csv.git.setup import set_up_git
    from telemetry_csv.logfile.initialising import PRE_COMMIT_SNIPPET, initialise

    settings = load_settings()
    log_path = Path(args.file) if args.file else settings.log_path
    if not args.git:
        for action in initialise(log_path, lock_timeout=settings.lock_timeout):
            show(f"{action.done:<8} {shown_path(action.path)}")
    for step in set_up_git(log_path, settings.root, only_git=args.git):
        detail = f": {step.detail}" if step.detail else ""
        show(f"{step.done:<8} {step.what}{detail}")
    if not args.git:
        show("\nTo check the log at every commit, add this to .pre-commit-config.yaml:\n")
        show(PRE_COMMIT_SNIPPET)
    return 0
