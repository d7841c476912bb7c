#!/bin/sh
# Compatibility wrapper for the old script: prints the Markdown report of the log and its backups.
# Extra arguments are passed to `telemetry-csv report` (see `telemetry-csv report --help`).
exec telemetry-csv report "$@"
