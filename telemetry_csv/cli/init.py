"""`telemetry-csv init`: create the log and what surrounds it; never overwrite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import shown_path

DESCRIPTION = """\
Create .telemetry/README.md and .telemetry/.gitignore at the repository root, or wherever the
configuration puts the log. Existing files are kept as they are, so running it twice is safe.
`telemetry-csv log` then writes each branch's rows to small files of their own in
.telemetry/usage.rows/, which git merges without conflicts, with no set-up in any clone (the
team layout, docs/teams.md). With `layout = "single"` in the settings, or with --file, it
creates the one log file, .telemetry/usage.csv, instead.

It also adds lines to .gitattributes (LF line endings; `merge=telemetry-csv` for usage.csv) and,
inside a git repository, registers the merge driver for usage.csv in .git/config, falling back
to git's line merge with conflict markers when the driver cannot run. .git/config is not
committed: where usage.csv is still written to, run `telemetry-csv init --git` in each clone."""


def build_parser() -> ArgumentParser:
    parser = command_parser("init", DESCRIPTION)
    parser.add_argument("--file", metavar="PATH", help="where the log goes (default: configured)")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="replace the folder's README.md with the current template (git has the old one)",
    )
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
    team = settings.layout == "team" and not args.file
    actions = []
    if not args.git:
        actions = initialise(
            log_path,
            lock_timeout=settings.lock_timeout,
            create_log=not team,
            update_readme=args.update_readme,
        )
        for action in actions:
            note = f": {action.note}" if action.note else ""
            print(f"{action.done:<8} {shown_path(action.path)}{note}")
    for step in set_up_git(log_path, settings.root, only_git=args.git):
        detail = f": {step.detail}" if step.detail else ""
        print(f"{step.done:<8} {step.what}{detail}")
    if args.git:
        return 0
    rows = shown_path(settings.shard_folder)
    if team and any(action.path == log_path for action in actions):
        print(
            f"\nThis repository already has {shown_path(log_path)}. From now on "
            f"`telemetry-csv log` writes new rows to small files in {rows}/, one per branch "
            "and commit, so pull requests that log rows never conflict. "
            f"{shown_path(log_path)} and its backups stay as they are and are still read by "
            "check, report and cat. Teammates with an older telemetry-csv keep appending to "
            "it, which stays safe. To keep writing the one file instead, set "
            'layout = "single" (see docs/teams.md).'
        )
    elif team:
        print(
            f"\nRows go to {rows}/, one small file per branch and commit, so pull requests "
            "that log rows never conflict (docs/teams.md)."
        )
    print("\nTo check the log at every commit, add this to .pre-commit-config.yaml:\n")
    print(PRE_COMMIT_SNIPPET)
    return 0
