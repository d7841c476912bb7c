"""`report` on hostile files: the same fuzzing as `check` (see test_fuzz_reading.py). Always an
answer and exit 0 or 1 (1 only for invalid rows), never a traceback, bounded time and memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_fuzz_reading import CLI, baseline_rss, hostile_files, peak

from telemetry_csv.cli.main import main
from testing.util import run_cli

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_files())
def test_report_in_process_never_raises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
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
    path = tmp_path / "usage.csv"
    path.write_bytes(data)
    done = run_cli("report", str(path), cwd=tmp_path, timeout=60)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert done.returncode == 0 or done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "rows", "skipped"),
    [
        ("one 64 MiB line", 0, 1),
        ("400,000 CRLF rows", 400_000, 0),
        ("400,000 valid rows", 400_000, 0),
    ],
)
def test_report_on_huge_files_in_bounded_memory(
    huge_file, name: str, rows: int, skipped: int
) -> None:
    path = huge_file(name)
    status, seconds, rss, output = peak(
        CLI, "report", "--skip-invalid", "--format", "json", path.name, cwd=path.parent
    )
    baseline = baseline_rss("telemetry_csv.cli.report")
    assert status == 0 and "Traceback" not in output
    document, _ = json.JSONDecoder().raw_decode(output)
    assert (document["rows"], document["skipped"]["rows"]) == (rows, skipped)
    assert rss < baseline + 100  # report keeps its aggregates (percentiles), not the file
    assert seconds < 60
