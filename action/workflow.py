"""What a step of a GitHub Actions job reads and writes: the event that started the workflow,
the action's inputs, its step outputs and the workflow commands that annotate the log.

Standard library only: the action's scripts import this beside them (`python action/X.py`
puts `action/` first on `sys.path`) before or without the package being installed.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from typing import Any

PROGRAM = "telemetry-csv action"


class ActionError(Exception):
    """A problem the workflow's author can fix: printed as one `::error::` line, exit 1."""


def event() -> Mapping[str, Any]:
    """The webhook payload of the event that started the workflow ({} outside Actions)."""
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            payload = json.load(stream)
    except (OSError, ValueError) as error:
        raise ActionError(
            f"cannot read the event payload GITHUB_EVENT_PATH={path}: {error}"
        ) from None
    return payload if isinstance(payload, dict) else {}


def text_input(name: str, default: str = "") -> str:
    """An input as action.yml hands it on: `INPUT_NAME` (dashes become underscores)."""
    return os.environ.get("INPUT_" + name.upper().replace("-", "_"), default).strip()


def flag_input(name: str, default: bool) -> bool:
    """A true/false input; anything else is refused rather than guessed."""
    value = text_input(name, "true" if default else "false").lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off", ""):
        return False
    raise ActionError(f"input {name}: {value!r} is not allowed; expected true or false")


def set_output(name: str, value: str) -> None:
    """A step output, written to $GITHUB_OUTPUT in the multi-line form with a delimiter the
    value cannot contain, so a value can never add outputs of its own."""
    path = os.environ.get("GITHUB_OUTPUT", "")
    if not path:
        return
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    with open(path, "a", encoding="utf-8", newline="\n") as stream:
        stream.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _escape(text: str) -> str:
    # Workflow command data: a newline would end the command and start a log line of its own.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotate(level: str, message: str) -> None:
    """A `::notice::`, `::warning::` or `::error::` line: shown in the log and on the run's
    summary page. Outside Actions it reads as an ordinary line."""
    print(f"::{level} title={PROGRAM}::{_escape(message)}", flush=True)


def say(message: str) -> None:
    """A plain line in the step's log."""
    print(f"{PROGRAM}: {message}", file=sys.stderr, flush=True)


def start_group(title: str) -> None:
    print(f"::group::{_escape(title)}", flush=True)


def end_group() -> None:
    print("::endgroup::", flush=True)
