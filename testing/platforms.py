"""Which operating system the tests run on, and marks for the tests that need what only some
systems have. Every mark names what is missing, so a skipped test says why in the report
(`pytest -rs`).

What the package itself does where a call is missing is written beside the call (fs.py,
capture/running.py, cli/main.py); docs/github.md lists it for users.
"""

from __future__ import annotations

import shutil
import sys

import pytest

WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"
LINUX = sys.platform.startswith("linux")


# The browser the page tests drive: CI installs Debian's `chromium` on Linux only.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here (CI installs Debian's chromium on Linux only)"
)


def posix_only(reason: str) -> pytest.MarkDecorator:
    """Skip on Windows: the test needs `reason` (a POSIX call, signal or file type)."""
    return pytest.mark.skipif(WINDOWS, reason=f"Windows has no {reason}")


def linux_only(reason: str) -> pytest.MarkDecorator:
    """Skip outside Linux: the test needs `reason`."""
    return pytest.mark.skipif(not LINUX, reason=f"Linux only: {reason}")


# The reasons that recur, in one wording.
FORK = "os.fork"
SIGNALS = "POSIX signals (SIGQUIT, SIGHUP, SIGKILL, SIGXFSZ) or process groups (os.killpg)"
FILE_SIZE_LIMIT = "RLIMIT_FSIZE and SIGXFSZ (the resource module), used to crash at a chosen byte"
FIFOS = "FIFOs (os.mkfifo)"
MODES = "POSIX permission bits (chmod 0o444/0o555 read-only files and folders, kept modes)"
SYMLINKS = (
    "O_NOFOLLOW, on which the symbolic-link refusals rely (and creating a link needs Developer "
    "Mode or administrator rights there)"
)
LINKS = "symbolic links for every user (creating one needs Developer Mode or administrator rights)"
SHELL = "POSIX sh and its utilities (sh -c, cp, touch, true) as commands"
CLOSED_PIPES = "SIGPIPE: a write to a closed pipe fails with EINVAL there, not EPIPE"
