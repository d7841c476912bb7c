#!/bin/sh
# Compatibility wrapper for the old script, with its arguments:
#   telemetry-report.sh [markdown|json]      telemetry-report.sh --format markdown|json
# json prints the old script's JSON (summary, by_task_type) from the report's data; markdown
# the Markdown report of the whole log; the report's other formats (csv, html) as they are. Arguments after the format go to `telemetry-csv
# report` (see its --help). docs/migrate.md says how the output differs from the old one.
format=markdown
case "${1-}" in
    --format)
        format="${2-markdown}"
        shift
        [ "$#" -gt 0 ] && shift
        ;;
    --format=*)
        format="${1#--format=}"
        shift
        ;;
    -*) ;;  # an option of `telemetry-csv report`
    ?*)
        format="$1"
        shift
        ;;
esac
case "$format" in
    json) exec telemetry-csv report --format legacy-json "$@" ;;
    markdown) exec telemetry-csv report "$@" ;;
    csv | html | legacy-json) exec telemetry-csv report --format "$format" "$@" ;;
    *)
        echo "telemetry-report.sh: error: format '$format' is not allowed; expected markdown or json (or csv, html)" >&2
        exit 2
        ;;
esac
