"""The optional extras (`cost`, `otlp`): what each requires, and the one command that installs
it for the interpreter running now, however telemetry-csv itself was installed.

The package is not on PyPI, so `pip install 'telemetry-csv[cost]'` finds nothing; the command
names the extra's own requirements instead. pipx's environments are changed with `pipx inject`
(they have no pip of their own), uv's (`uv tool`) with `uv pip install --python`, any other
with that interpreter's `-m pip`.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence

DISTRIBUTION = "telemetry-csv"


def requirements(extra: str, fallback: Sequence[str]) -> list[str]:
    """The extra's requirements as the installed metadata lists them (`fallback` when run from
    a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        listed = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return list(fallback)
    marker = f'extra == "{extra}"'
    found = [line.split(";", 1)[0].replace(" ", "") for line in listed if marker in line]
    return found or list(fallback)


def install_command(wanted: Sequence[str]) -> str:
    """A shell command that installs `wanted` into the environment of the running interpreter."""
    import importlib.util

    names = " ".join(map(shlex.quote, wanted))
    if os.path.isfile(os.path.join(sys.prefix, "pipx_metadata.json")):
        return f"pipx inject {shlex.quote(os.path.basename(sys.prefix))} {names}"
    python = shlex.quote(sys.executable)
    if importlib.util.find_spec("pip") is None:
        return f"uv pip install --python {python} {names}"
    return f"{python} -m pip install {names}"
