"""A real writer process for the concurrency and crash tests (run as a script, never imported
by pytest): it appends rows with unique ids and reports each one only after `log_row` returned.

usage: python writer_process.py LOG MAX_BYTES WRITER COUNT
COUNT < 0 means: append until killed. LOG `-` means the configured log, as `log` writes it
(in the team layout, its shards), run from the repository. Each report is one `os.write` of a whole line, so a
writer killed at any moment never leaves half a report.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telemetry_csv.capture.appending import log_row

PADDING = "padded so that a 1 KiB log rotates every few rows"


def append_rows(
    log: Path | None,
    max_bytes: int,
    writer: str,
    count: int,
    report_fd: int,
    padding: str = PADDING,
) -> None:
    seq = 0
    while count < 0 or seq < count:
        logged = log_row(
            model="claude-3-opus",
            prompt_tokens=seq,
            completion_tokens=1,
            task_success=True,
            task_type="execute",
            duration_ms=1,
            notes=f"id={writer}:{seq} {padding}",
            path=log,
            max_bytes=max_bytes,
        )
        report = f"done {writer}:{seq}"
        if logged.backup is not None:
            report += f" rotated {logged.backup.name}"
        os.write(report_fd, (report + "\n").encode())
        seq += 1


if __name__ == "__main__":
    log, max_bytes, writer, count = sys.argv[1:5]
    path = None if log == "-" else Path(log)
    append_rows(path, int(max_bytes), writer, int(count), sys.stdout.fileno())
