"""telemetry-csv: a committed, validated CSV log of LLM and coding-agent usage.

Packages, from the top layer down (a module imports only from layers below it; CI checks it):

- `cli/`: the `telemetry-csv` command, one module per command; `hooks/`: the pre-commit hooks;
- `report/`: `report`; summaries as Markdown, JSON or CSV;
- `capture/`: rows from values (`log_row`, the `log` command), response bodies, around a
  command (`run`), from Python code (`track`);
- `git/`: history rules (the append-only hook), merges (`merge-driver`), commit ranges
  (`report --range`), the repository's set-up (`init`);
- `config`: the repository's settings;
- `logfile/`: the file itself; its schema, reading (`check`), writing and rotation, canonical
  form (`fmt`), repair (`repair`), the files `init` creates;
- foundations: `errors` (and the exit statuses), `fs` (every file operation), `rfc3339`,
  `durations`, `secrets_scan`, `extras` (what the optional extras need, and how to install it).

Names are imported on first use so that `import telemetry_csv` stays cheap for the `log`
command's start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "log_row": "telemetry_csv.capture.appending",
    "log_rows": "telemetry_csv.capture.appending",
    "LoggedRow": "telemetry_csv.capture.appending",
    "check_files": "telemetry_csv.logfile.checking",
    "CheckResult": "telemetry_csv.logfile.checking",
    "load_settings": "telemetry_csv.config",
    "Settings": "telemetry_csv.config",
    "TelemetryError": "telemetry_csv.errors",
    "read_rows": "telemetry_csv.logfile.reading",
    "scan_file": "telemetry_csv.logfile.reading",
    "Problem": "telemetry_csv.logfile.reading",
    "Row": "telemetry_csv.logfile.schema",
    "Schema": "telemetry_csv.logfile.schema",
    "HEADER": "telemetry_csv.logfile.schema",
    "log_files": "telemetry_csv.logfile.layout",
    "read_log": "telemetry_csv.logfile.snapshot",
    "try_log_row": "telemetry_csv.capture.tracking",
    "track": "telemetry_csv.capture.tracking",
    "TrackedTask": "telemetry_csv.capture.tracking",
    "usage_from_response": "telemetry_csv.capture.usage_bodies",
    "read_usage": "telemetry_csv.capture.usage_bodies",
    "Usage": "telemetry_csv.capture.usage_bodies",
    "run_command": "telemetry_csv.capture.running",
    "CommandResult": "telemetry_csv.capture.running",
    "recommend": "telemetry_csv.report.recommendations",
    "Recommendation": "telemetry_csv.report.recommendations",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Read from the installed metadata only when asked: importing importlib.metadata costs
        # `log` a large part of its start-up. The version is written once, in pyproject.toml.
        from importlib.metadata import version

        return version("telemetry-csv")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telemetry_csv' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
