"""The field and destination options `log` and `run` share, declared once."""

from __future__ import annotations

import argparse


def add_field_options(parser: argparse.ArgumentParser, *, measured: bool = True) -> None:
    """--model, the token counts, --task-type, --notes and --usage-json; with `measured`, also
    --task-success, --duration-ms, --duration and --timestamp (which `run` measures instead)."""
    fields = parser.add_argument_group("fields")
    fields.add_argument("--model", help="model name, e.g. claude-3-opus or openai/gpt-4o")
    fields.add_argument("--prompt-tokens", metavar="N")
    fields.add_argument("--completion-tokens", metavar="N")
    fields.add_argument(
        "--cache-read-tokens", metavar="N", help="the part of the prompt tokens read from a cache"
    )
    fields.add_argument(
        "--cache-write-tokens", metavar="N", help="the part of the prompt tokens written to one"
    )
    if measured:
        fields.add_argument("--task-success", metavar="BOOL", help="true/false (also yes/no, 1/0)")
    fields.add_argument("--task-type", metavar="TYPE", help="plan|execute|verify|discuss|quick")
    if measured:
        fields.add_argument("--duration-ms", metavar="N", help="wall time in milliseconds")
        fields.add_argument(
            "--duration", metavar="TEXT", help="wall time with units: 45s, 1m30s, 1h2m"
        )
    fields.add_argument("--notes", metavar="TEXT", help="one line; line breaks become spaces")
    if measured:
        fields.add_argument(
            "--timestamp", metavar="RFC3339", help="default: now, local offset, to the second"
        )
    fields.add_argument(
        "--usage-json",
        metavar="FILE",
        help="take the model and token counts from an OpenAI, Anthropic or Gemini response "
        "body (JSON or a stream); options given here win over it"
        + ("; - reads standard input" if measured else ""),
    )


def add_where_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where and how")
    where.add_argument("--file", metavar="PATH", help="the log to append to (default: configured)")
    where.add_argument(
        "--max-bytes", type=int, metavar="N", help="back up the log before it passes N"
    )
    where.add_argument(
        "--lock-timeout", type=lock_timeout_seconds, metavar="SECONDS", help="default: 10"
    )
    where.add_argument("-q", "--quiet", action="store_true", help="no confirmation line")


def lock_timeout_seconds(text: str) -> float:
    """argparse's `type` for --lock-timeout: the rule the `lock_timeout` setting follows."""
    from telemetry_csv.config import lock_timeout_problem

    try:
        value: float | None = float(text)
    except ValueError:
        value = None
    problem = lock_timeout_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; {problem}")
    return float(text)
