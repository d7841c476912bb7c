#!/bin/sh
# Compatibility wrapper for the old script: the same positional arguments as
#   log-telemetry.sh MODEL PROMPT_TOKENS COMPLETION_TOKENS SUCCESS TASK_TYPE DURATION_MS [NOTES]
# Notes keep their commas and quotes now; nothing is stripped.
exec telemetry-csv log "$@"
