"""How many inputs the property and fuzz tests really generated, per test.

    .venv/bin/python benchmarks/fuzz_inputs.py [PYTEST_ARGS...]

Runs the hypothesis tests under pytest with `--hypothesis-show-statistics` and prints, for each,
the passing, failing and invalid examples of its generate phase. This replaces the `test_zz_*`
tests that printed counters: a figure is not a test, and a counter kept in a module only
counted when the whole file ran in order.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_FILES = [
    "tests/test_fuzz_reading.py",
    "tests/test_fuzz_report.py",
    "tests/test_properties.py",
    "tests/test_reading_blocks.py",
]
TEST_NAME = re.compile(r"^(tests/\S+::\S+):$")
EXAMPLES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid test cases")


def generated(output: str) -> list[tuple[str, int, int, int]]:
    """(test, passing, failing, invalid) for each test's generate phase in pytest's output."""
    found = []
    test = phase = None
    for line in output.splitlines():
        if match := TEST_NAME.match(line.strip()):
            test = match.group(1)
        elif "- during " in line:
            phase = line.split("- during ")[1].split()[0]  # explicit, reuse, generate...
        elif test and phase == "generate" and (match := EXAMPLES.search(line)):
            found.append((test, *(int(number) for number in match.groups())))
    return found


def main(argv: list[str]) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--hypothesis-show-statistics", *(argv or TEST_FILES)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    rows = generated(done.stdout)
    if done.returncode != 0 or not rows:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        return 1
    width = max(len(test) for test, *_ in rows)
    print(f"{'test':<{width}}  passing  failing  invalid")
    for test, passing, failing, invalid in rows:
        print(f"{test:<{width}}  {passing:>7,}  {failing:>7,}  {invalid:>7,}")
    print(f"{'total':<{width}}  {sum(row[1] for row in rows):>7,}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
