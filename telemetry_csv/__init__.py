"""telemetry-csv: a committed, validated CSV log of LLM and coding-agent usage.

The library behind the `telemetry-csv` command. Names are imported on first use so that
`import telemetry_csv` stays cheap for the `log` command's start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "log_row": "telemetry_csv.appending",
    "LoggedRow": "telemetry_csv.appending",
    "check_files": "telemetry_csv.checking",
    "CheckResult": "telemetry_csv.checking",
    "load_settings": "telemetry_csv.config",
    "Settings": "telemetry_csv.config",
    "TelemetryError": "telemetry_csv.errors",
    "read_rows": "telemetry_csv.reading",
    "scan_file": "telemetry_csv.reading",
    "Problem": "telemetry_csv.reading",
    "Row": "telemetry_csv.schema",
    "Schema": "telemetry_csv.schema",
    "HEADER": "telemetry_csv.schema",
    "log_files": "telemetry_csv.store",
    "try_log_row": "telemetry_csv.tracking",
    "track": "telemetry_csv.tracking",
    "TrackedTask": "telemetry_csv.tracking",
    "usage_from_response": "telemetry_csv.usage_json",
    "read_usage": "telemetry_csv.usage_json",
    "Usage": "telemetry_csv.usage_json",
    "run_command": "telemetry_csv.running",
    "CommandResult": "telemetry_csv.running",
    "recommend": "telemetry_csv.report.recommendations",
    "Recommendation": "telemetry_csv.report.recommendations",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telemetry_csv' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
