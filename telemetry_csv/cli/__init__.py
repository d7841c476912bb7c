"""The `telemetry-csv` command: argument parsing and printing around the library."""
