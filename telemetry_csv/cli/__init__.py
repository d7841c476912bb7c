"""The `telemetry-csv` command: each module parses one command's arguments, calls the library
and prints; nothing here decides a rule.

- `main`: finds the command (`COMMANDS`), maps errors to one redacted line and an exit status;
- one module per command: `init`, `log`, `run`, `check`, `report`, `cat`, `fold`, `fmt`,
  `repair`, `merge_driver`, `export`, `import_sessions` (`import`);
- `arguments`: the parser every command uses (one-line errors, exit statuses in `--help`);
  `argument_errors`: its error, and the check that arguments are text (no argparse needed);
  `fields`: the field options `log` and `run` share; `selection`: which files a command reads;
  `output`: confirmations and lines on standard error; `report_output`: `report -o` and the job
  summary.
"""
