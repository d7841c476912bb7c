"""`report` on hostile files: the same fuzzing as `check` (see test_fuzz_reading.py). Always an
answer and exit 0 or 1 (1 only for invalid rows), never a traceback, bounded time and memory."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_fuzz_reading import CLI, HEADER, ROW, hostile_files, peak

from conftest import git_env
from telemetry_csv.cli.main import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("telemetry_csv.cli.report") is None,
    reason="report is not merged into this branch yet",
)
FUZZED = {"in-process": 0, "cli": 0}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_files())
def test_report_in_process_never_raises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    FUZZED["in-process"] += 1
    path = tmp_path / "usage.csv"
    path.write_bytes(data)
    for extra in ([], ["--skip-invalid", "--format", "json"], ["--format", "csv"]):
        status = main(["report", *extra, str(path)])
        out, err = capsys.readouterr()
        assert status in (0, 1), (extra, err)
        if status == 1:
            assert err.count("\n") == 1 and err.startswith("telemetry-csv report: error: ")
            assert "--skip-invalid" not in extra
        else:
            assert out and not err.startswith("Traceback")


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_files())
def test_report_command_answers_every_hostile_file(tmp_path: Path, data: bytes) -> None:
    FUZZED["cli"] += 1
    path = tmp_path / "usage.csv"
    path.write_bytes(data)
    done = subprocess.run(
        [CLI, "report", str(path)],
        capture_output=True,
        text=True,
        env=git_env(),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert done.returncode == 0 or done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("one 64 MiB line", lambda: HEADER.encode() + b"x" * (64 << 20)),
        ("a million CRLF rows", lambda: (HEADER + ROW * 400_000).replace("\n", "\r\n").encode()),
        ("400,000 valid rows", lambda: (HEADER + ROW * 400_000).encode()),
    ],
)
def test_report_on_huge_files_in_bounded_memory(tmp_path: Path, name: str, content) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(content())
    baseline = peak(sys.executable, "-c", "import telemetry_csv.cli.report", cwd=tmp_path)[2]
    status, seconds, rss, output = peak(CLI, "report", "--skip-invalid", str(path), cwd=tmp_path)
    print(
        f"\nreport on {name}: exit {status}, {seconds}s, peak RSS {rss} MiB "
        f"(interpreter with report imported: {baseline} MiB)"
    )
    assert status == 0 and "Traceback" not in output
    assert rss < baseline + 100  # report keeps its aggregates (percentiles), not the file
    assert seconds < 60


def test_zz_report_how_many_files_were_fuzzed() -> None:
    print(f"\nfuzzed files through report: {FUZZED}")
