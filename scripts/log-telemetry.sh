#!/bin/sh
# Compatibility wrapper for the old script, with its arguments:
#   log-telemetry.sh MODEL PROMPT_TOKENS COMPLETION_TOKENS SUCCESS TASK_TYPE DURATION_MS [NOTES]
# As the old script did, the seventh argument is the note whatever it looks like (`-q`,
# `--help`, `--file=x.csv` are notes), and an eighth or later argument is ignored. Each value
# goes to its own option as `--option=VALUE`, the one form that takes a value starting with `-`.
# Notes keep their commas and quotes now; nothing is stripped. docs/migrate.md has the rest.
if [ "$#" -lt 6 ]; then
    exec telemetry-csv log "$@"  # names every missing field, with the usage line
fi
if [ "$#" -ge 7 ]; then
    exec telemetry-csv log --model="$1" --prompt-tokens="$2" --completion-tokens="$3" \
        --task-success="$4" --task-type="$5" --duration-ms="$6" --notes="$7"
fi
exec telemetry-csv log --model="$1" --prompt-tokens="$2" --completion-tokens="$3" \
    --task-success="$4" --task-type="$5" --duration-ms="$6"
