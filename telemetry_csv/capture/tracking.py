"""Logging from Python code that must not fail because telemetry failed.

`try_log_row` is `log_row` that returns None instead of raising. `track` times a block of code
and logs one row when it ends: success if the block finished, failure if it raised (the
exception goes on unchanged). Inside the block, the yielded `TrackedTask` takes the model,
token counts and notes as they become known, from numbers or straight from API responses.

Failures to log are reported on the `telemetry_csv` logger (a warning, which Python prints on
standard error when the application has not configured logging) and kept on the task.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from telemetry_csv.capture.appending import LoggedRow, log_row
from telemetry_csv.errors import TelemetryError

if TYPE_CHECKING:
    from telemetry_csv.capture.usage_bodies import Usage
    from telemetry_csv.config import Settings

logger = logging.getLogger("telemetry_csv")


def try_log_row(**values: object) -> LoggedRow | None:
    """`log_row(**values)`, except that a failure of any kind is logged and None returned."""
    logged, _ = _log_or_error(values)
    return logged


def _log_or_error(values: dict[str, Any]) -> tuple[LoggedRow | None, Exception | None]:
    try:
        return log_row(**values), None
    except (TelemetryError, OSError) as error:
        logger.warning("telemetry-csv: row not logged: %s", error)
        return None, error
    except Exception as error:  # a bug of ours must not become the caller's failure either
        logger.warning("telemetry-csv: row not logged: unexpected error", exc_info=True)
        return None, error


@dataclass
class TrackedTask:
    """One task being timed; set its fields inside the `with` block."""

    task_type: str
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notes: str = ""
    # None: true unless the block raises. Set False for a task that failed without raising.
    task_success: bool | None = None
    # Set when the block ends.
    duration_ms: int | None = None
    logged: LoggedRow | None = None
    error: Exception | None = None  # why the row was not logged, if it was not
    responses: int = 0  # how many responses add_response counted
    _strict: bool = field(default=False, repr=False)

    def add_usage(self, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Count the tokens of one more model call. Counts the log would refuse (1.5, -1) are
        not counted: a warning, or InvalidValueError with `strict=True`."""
        from telemetry_csv.logfile.schema import normalise_count

        try:
            prompt = normalise_count("prompt_tokens", prompt_tokens)
            completion = normalise_count("completion_tokens", completion_tokens)
        except TelemetryError as error:
            if self._strict:
                raise
            logger.warning("telemetry-csv: usage not counted: %s", error)
            return
        self.prompt_tokens += prompt
        self.completion_tokens += completion

    def add_response(self, response: object) -> Usage | None:
        """Count one more API response: a dict, JSON text, a list of streamed chunks, or an
        OpenAI / Anthropic / google-genai SDK object. The first model seen names the task unless
        `model` was set. Returns what was counted, or None (with a warning) if the response has
        no usage this package recognises or cannot be read at all; with `strict=True` the error
        is raised instead.
        """
        from telemetry_csv.capture.usage_bodies import UsageJsonError, usage_from_response

        try:
            usage = usage_from_response(response)
        except Exception as error:  # an SDK object's model_dump() may fail any way it likes
            if self._strict:
                raise
            if isinstance(error, UsageJsonError):
                logger.warning("telemetry-csv: response not counted: %s", error)
            else:
                logger.warning(
                    "telemetry-csv: response not counted: unexpected %s: %s",
                    type(error).__name__,
                    error,
                    exc_info=True,
                )
            return None
        self.add_usage(usage.prompt_tokens, usage.completion_tokens)
        if self.model is None:
            self.model = usage.model
        self.responses += 1
        return usage


class track:
    """Time a block and log it as one row when it ends; usable with `with` and `async with`.

        with telemetry_csv.track("execute", model="claude-sonnet-4-5") as task:
            response = client.messages.create(...)
            task.add_response(response)

    The row's task_success is false if the block raises (the exception propagates unchanged),
    otherwise `task.task_success` if set, else true. A failure to log never raises (it is
    logged and kept in `task.error`) unless `strict=True` and the block itself succeeded.
    """

    def __init__(
        self,
        task_type: str,
        *,
        model: str | None = None,
        notes: str = "",
        path: Path | str | None = None,
        settings: Settings | None = None,
        max_bytes: int | None = None,
        lock_timeout: float | None = None,
        strict: bool = False,
    ) -> None:
        self.task = TrackedTask(task_type=task_type, model=model, notes=notes, _strict=strict)
        self._where = {
            "path": path,
            "settings": settings,
            "max_bytes": max_bytes,
            "lock_timeout": lock_timeout,
        }
        self._start: float | None = None

    def __enter__(self) -> TrackedTask:
        self._start = time.monotonic()
        return self.task

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._finish(raised=exc_type is not None)

    async def __aenter__(self) -> TrackedTask:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        import asyncio

        # The append waits for the log's lock and fsyncs: keep that off the event loop.
        await asyncio.to_thread(self._finish, raised=exc_type is not None)

    def _finish(self, *, raised: bool) -> None:
        assert self._start is not None, "track() was exited without being entered"
        task = self.task
        task.duration_ms = round((time.monotonic() - self._start) * 1000)
        success = False if raised else (True if task.task_success is None else task.task_success)
        values = {
            "model": task.model,
            "prompt_tokens": task.prompt_tokens,
            "completion_tokens": task.completion_tokens,
            "task_success": success,
            "task_type": task.task_type,
            "duration_ms": task.duration_ms,
            "notes": task.notes,
            **self._where,
        }
        task.logged, task.error = _log_or_error(values)
        if task._strict and not raised and task.error is not None:
            raise task.error
