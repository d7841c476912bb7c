"""The README's Python example runs as shown (apart from times) and appends the rows it says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from testing.util import FIXTURES, logged_lines

README = Path(__file__).parent.parent / "README.md"


def test_readme_python_example(repo: Path) -> None:
    text = README.read_text()
    section = text[text.index("## From Python") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", 10)]
    shutil.copy(FIXTURES / "anthropic-message.json", repo / "response.json")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    shown = section[section.index("Its output") : section.index("and the rows it appended")]
    expected = [line[4:] for line in shown.splitlines() if line.startswith("    ")]
    # Only the times vary: the timestamp, and the duration printed after task_success.
    times = re.compile(r"timestamp='[^']*'|duration_ms=\d+|(?<= )\d+$")
    lines = (done.stdout + done.stderr).splitlines()
    # The one warning goes to standard error; in the README both streams are shown as they
    # interleave on a terminal.
    printed = [lines[0], lines[1], lines[2], done.stderr.strip(), lines[3]]
    assert [times.sub("", line) for line in printed] == [times.sub("", line) for line in expected]
    rows = logged_lines(repo / ".telemetry" / "usage.csv")
    assert [row.split(",", 1)[1] for row in rows] == [
        "claude-sonnet-4-5-20250929,13062,512,true,execute,"
        + rows[0].split(",")[6]
        + ",fix flaky test,,,,",
        "claude-sonnet-4-5,1200,80,false,verify," + rows[1].split(",")[6] + ",,,,,",
        "gpt-4o,900,120,true,quick,2300,,,,,",
    ]
