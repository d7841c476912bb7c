"""telemetry-csv-import: add the usage coding agents recorded for this repository, after each
commit (the hook's default stage is `post-commit`; docs/importing.md weighs the stages).

Nothing to remember: every commit imports what closed since the last one, and the new rows go in
with the next commit that stages them (`git add .telemetry`: in the team layout they are in a
new shard, an untracked file). With nothing new it reads only the import states, so a commit is
not slowed down. Run at the `pre-commit` stage instead, with `layout = "single"`, it is a fixer:
pre-commit sees the log change and fails the commit once, so the rows can be staged with it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from telemetry_csv.hooks import run_hook

PROG = "telemetry-csv-import"


def main(argv: Sequence[str] | None = None) -> int:
    from telemetry_csv.importing import SOURCES
    from telemetry_csv.importing.recording import ALL

    parser = argparse.ArgumentParser(
        prog=PROG, description="Import agents' session files into the repository's log."
    )
    parser.add_argument("source", nargs="?", default=ALL, choices=(*SOURCES, ALL))
    parser.add_argument("--task-type", metavar="T", help="default: import_task_type, execute")
    parser.add_argument("--all-projects", action="store_true")
    return run_hook(PROG, argv, lambda: _import(parser.parse_args(argv)))


def _import(args: argparse.Namespace) -> int:
    from telemetry_csv.cli.import_sessions import report
    from telemetry_csv.config import load_settings
    from telemetry_csv.importing.recording import import_sessions, sources_of

    outcome = import_sessions(
        load_settings(),
        sources_of(args.source),
        task_type=args.task_type,
        all_projects=args.all_projects,
    )
    report(outcome, quiet=True, prefix=PROG)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
