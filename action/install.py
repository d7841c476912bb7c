"""Install telemetry-csv from the action's own checkout into a virtual environment of its own.

The action's checkout is this file's repository, at the ref the workflow named in `uses:`, so
the tool that runs is the one the action was released with. It goes into a virtual
environment under RUNNER_TEMP, never into the job's Python: the workflow's own packages and
`PATH` stay as they were. With the `costs` input on, the `cost` extra (genai-prices) comes too.
The environment's interpreter is the step output `python`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from workflow import ActionError, annotate, flag_input, say, set_output

SOURCE = Path(__file__).resolve().parent.parent


def main() -> int:
    try:
        if sys.version_info < (3, 11):  # noqa: UP036 -- python-version "" may bring any
            raise ActionError(
                f"python-version: telemetry-csv needs Python 3.11 or later; this is "
                f"{sys.version_info.major}.{sys.version_info.minor}"
            )
        costs = flag_input("costs", True)
        folder = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
        builder = venv.EnvBuilder(with_pip=True)
        home = folder / "telemetry-csv-action-venv"
        builder.create(home)
        python = builder.ensure_directories(home).env_exe
        requirement = f"{SOURCE}[cost]" if costs else str(SOURCE)
        say(f"installing {requirement} into {home}")
        pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
        done = subprocess.run([*pip, "--quiet", requirement], check=False)
        if done.returncode != 0:
            raise ActionError(f"pip could not install {requirement} (exit {done.returncode})")
        version = subprocess.run(
            [python, "-m", "telemetry_csv", "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        if version.returncode != 0:
            raise ActionError(f"the installed telemetry-csv does not run: {version.stderr.strip()}")
        say(f"installed {version.stdout.strip()}")
    except ActionError as error:
        annotate("error", str(error))
        return 2
    set_output("python", python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
