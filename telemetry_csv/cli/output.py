"""What `log` and `run` tell the user once a row is appended: notes, then one confirmation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from telemetry_csv.cli.parsing import shown_path

if TYPE_CHECKING:
    from telemetry_csv.appending import LoggedRow


def notes(logged: LoggedRow, notices: Iterable[str] = ()) -> list[str]:
    """What the user should hear about a row before its confirmation: `notices` (say, from a
    response body), what normalising the values changed, and a backup of a full log."""
    lines = [*notices, *logged.notices]
    if logged.backup is not None:
        lines.append(
            f"the log was full; backed it up to {shown_path(logged.backup)} and started a new one"
        )
    return lines


def confirmation(logged: LoggedRow, how: str | None = None) -> str:
    """`logged MODEL TYPE success, N tokens, N ms to PATH`, with `how` (for `run`, how the
    command ended) after the outcome."""
    row = logged.row
    outcome = "success" if row.task_success else "failure"
    if how:
        outcome += f" ({how})"
    return (
        f"logged {row.model} {row.task_type} {outcome}, {row.total_tokens:,} tokens, "
        f"{row.duration_ms:,} ms to {shown_path(logged.path)}"
    )
