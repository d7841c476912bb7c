"""The compatibility wrappers take the old scripts' arguments and call the real command."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testing.platforms import SHELL, posix_only
from testing.util import BIN, EXTENDED_HEADER, git_env, logged_text

pytestmark = posix_only(f"{SHELL}: the wrappers are shell scripts run as programs (#!)")

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = git_env()
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(SCRIPTS / name), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_log_script_keeps_commas_the_old_one_stripped(repo: Path) -> None:
    done = run_script(
        "log-telemetry.sh",
        "claude-3-opus", "1500", "3200", "true", "execute", "45000", "tests, docs, \"and\" more",
        cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = logged_text(repo / ".telemetry" / "usage.csv")
    assert text.startswith(EXTENDED_HEADER)
    assert text.endswith(',execute,45000,"tests, docs, ""and"" more",,,,\n')


def test_log_script_refuses_bad_input_like_the_command(repo: Path) -> None:
    done = run_script(
        "log-telemetry.sh", "claude-3-opus", "1,500", "3", "true", "plan", "4", cwd=repo
    )
    assert done.returncode == 2
    assert "prompt_tokens: '1,500' is not allowed" in done.stderr
    assert not logged_text(repo / ".telemetry" / "usage.csv")
