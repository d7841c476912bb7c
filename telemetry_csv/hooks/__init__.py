"""pre-commit hooks, one module each, each with `main(argv) -> int` (listed in
.pre-commit-hooks.yaml), each a thin wrapper over the code its command runs.

- `check_hook`: `check` on the files pre-commit passes;
- `fmt_hook`: `fmt` on them, as a fixer (`Fixing NAME`, exit 1 when it changed a file);
- `append_only_hook`: the history rules of `git/history.py` on what a commit or range changes;
- `import_hook`: `import all` after each commit (`importing/recording.py`).

A hook prints `PATH:LINE: ...` for what it finds and returns 1, or returns 0. A fixer rewrites
the files and returns 1, so the user sees the change and stages it again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def run_hook(prog: str, argv: Sequence[str] | None, body: Callable[[], int]) -> int:
    """Run a hook's work; a user-fixable error (bad settings, not a git repository, an argument
    that is not UTF-8…) becomes one line on standard error, made safe like the commands' (see
    cli/output.py), and the hook fails. Every line a hook prints goes through `output.show`."""
    from telemetry_csv.cli.argument_errors import require_text
    from telemetry_csv.errors import TelemetryError

    try:
        require_text(sys.argv[1:] if argv is None else argv)
        return body()
    except TelemetryError as error:
        from telemetry_csv.cli.main import print_error

        print_error(f"{prog}: error: {error}")
        return 1


def committed_starts(paths: list[Path], root: Path) -> dict[Path, int]:
    """`git.committed.committed_starts` of the files that may have one worth trusting: not of
    shards, which are small and never change once committed (a staged shard is a new one, or
    one the append-only hook refuses), so that a commit of new shards asks git nothing here."""
    from telemetry_csv.logfile.layout import log_of_shard

    paths = [path for path in paths if log_of_shard(path) is None]
    if not paths:
        return {}
    from telemetry_csv.git.committed import committed_starts as starts

    return starts(paths, root)


def plain_names(argv: Sequence[str] | None) -> list[str] | None:
    """The arguments, when none is an option: file names, as pre-commit passes them at every
    commit. Then a hook's options are their defaults and argparse, whose import and parser cost
    a hook a large part of its start-up, is not needed; None otherwise (argparse parses them)."""
    names = list(sys.argv[1:] if argv is None else argv)
    return None if any(name.startswith("-") for name in names) else names
