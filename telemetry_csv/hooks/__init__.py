"""pre-commit hooks, one module each, each with `main(argv) -> int` (listed in .pre-commit-hooks.yaml).

A hook prints `PATH:LINE: ...` for what it finds and returns 1, or returns 0. A fixer rewrites
the files and returns 1, so the user sees the change and stages it again.
"""

from __future__ import annotations

import sys

from telemetry_csv.errors import TelemetryError


def report_error(prog: str, error: TelemetryError) -> int:
    """A user-fixable error (bad settings, not a git repository…) as one line; the hook fails."""
    print(f"{prog}: error: {error}", file=sys.stderr)
    return 1
