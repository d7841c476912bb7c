"""What every benchmark that runs the tool and git as processes needs: their environment, and
git itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def bench_env() -> dict[str, str]:
    """This environment without PYTHONDONTWRITEBYTECODE, so modules load from .pyc files as an
    installed package's do; git with a fixed identity and no user or system configuration."""
    found = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    found.update(
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return found


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its standard output."""
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env=bench_env()
    )
    return done.stdout.decode()
