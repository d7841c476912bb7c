"""The installed command end to end, as a subprocess, in a real repository."""

from __future__ import annotations

from pathlib import Path

from testing.util import HEADER, run_cli


def test_init_log_check_from_a_subfolder(repo: Path) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    assert run_cli("init", cwd=sub).returncode == 0
    done = run_cli(
        "log", "claude-3-opus", "1500", "3200", "true", "execute", "45000", "Phase 6 tests", cwd=sub
    )
    assert done.returncode == 0, done.stderr
    text = (repo / ".telemetry" / "usage.csv").read_text()
    assert text.startswith(HEADER)
    assert text.endswith(",claude-3-opus,1500,3200,true,execute,45000,Phase 6 tests\n")
    checked = run_cli("check", cwd=sub)
    assert checked.returncode == 0, checked.stdout
    assert "1 valid row" in checked.stdout
