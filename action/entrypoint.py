"""The action's main step: which commits, the report, the job summary, the comment, the status.

It runs in the action's own virtual environment, where telemetry-csv is installed, from the
checkout's folder (the `working-directory` input):

1. the head and base the event names are fetched as needed, and their merge base found
   (commits.py);
2. `telemetry-csv report --range MERGE_BASE..HEAD` writes the Markdown to a file and appends it
   to the job summary; the `args` input is added to its arguments (budgets, filters);
3. on a pull request, the one sticky comment is created or updated with it (comment.py), also
   when the report failed, so that reviewers see why;
4. the step ends with the report's exit status: invalid rows, or a broken budget, fail it after
   the comment is written.

The action's own problems end it with the statuses the command uses for the same kind: 2 for
an input refused, 4 when git cannot fetch what it needs; 1 when the comment cannot be written
for any reason but the token's permissions (which are only a notice).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import commits
from comment import GitHub, publish, redact, report
from workflow import (
    ActionError,
    annotate,
    end_group,
    event,
    flag_input,
    say,
    set_output,
    start_group,
    text_input,
)

# The options the action sets itself: the comment needs Markdown, from the range it chose.
OWNED = ("--range", "--output", "--format", "--github-summary")
EXIT_INPUT = 2
EXIT_GIT = 4
EXIT_COMMENT = 1


@dataclass(frozen=True)
class Inputs:
    base: str
    args: list[str]
    costs: bool
    comment: bool
    key: str
    token: str


def read_inputs() -> Inputs:
    text = text_input("args")
    try:
        args = shlex.split(text)
    except ValueError as error:
        raise ActionError(f"input args: {text!r} cannot be split: {error}") from None
    refuse_owned(args)
    return Inputs(
        base=text_input("base"),
        args=args,
        costs=flag_input("costs", True),
        comment=flag_input("comment", True),
        key=text_input("comment-key"),
        token=os.environ.get("GITHUB_TOKEN", ""),
    )


def refuse_owned(args: list[str]) -> None:
    """Refuse in `args` the options the action gives itself (argparse would also take any
    unambiguous abbreviation of them, so those too)."""
    for arg in args:
        if arg == "--":
            return
        name = arg.partition("=")[0]
        short_output = arg.startswith("-o") and not arg.startswith("--")
        if short_output or (
            name.startswith("--") and len(name) > 2 and any(o.startswith(name) for o in OWNED)
        ):
            raise ActionError(
                f"input args: {arg!r} is not allowed; the action sets --range, --output, "
                "--format and --github-summary itself (give the base with the `base` input)"
            )


def report_file(key: str) -> Path:
    folder = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
    return folder / (f"telemetry-csv-report-{key}.md" if key else "telemetry-csv-report.md")


def run_url() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run = os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_RUN_ID", "")
    return f"{server}/{repository}/actions/runs/{run}" if repository and run else ""


def echo(title: str, text: str) -> None:
    """Show text that came from the log's rows (notes, model names) in a folded group, with
    workflow commands off, so a line in it can never act as one."""
    stop = f"telemetry-csv-{os.urandom(8).hex()}"
    start_group(title)
    print(f"::stop-commands::{stop}", flush=True)
    print(text.rstrip("\n"), flush=True)
    print(f"::{stop}::", flush=True)
    end_group()


def failure_block(status: int, stderr: str) -> str:
    """Markdown that says the report failed, and the command's own last lines about why."""
    lines = [line[:500] for line in stderr.strip().splitlines()[-20:]]
    fence = "```"
    while any(fence in line for line in lines):
        fence += "`"
    quoted = "\n".join(f"> {line}" for line in [fence + "text", *lines, fence])
    return (
        f"> [!CAUTION]\n> `telemetry-csv report` ended with exit status {status}"
        + (":\n>\n" + quoted if lines else ".")
        + "\n"
    )


def comment_body(report_text: str, status: int, stderr: str, head: str) -> str:
    parts = []
    if report_text:
        parts.append(report_text.rstrip("\n") + "\n")
    else:
        parts.append("## LLM usage report\n\nNo report could be made for this commit.\n")
    if status != 0:
        parts.append(failure_block(status, stderr))
    url = run_url()
    run = f" ([workflow run]({url}))" if url else ""
    parts.append(
        f"<sub>As of {head}{run}. telemetry-csv updates this comment in place on every push."
        "</sub>\n"
    )
    return "\n".join(parts)


def append_summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY", "")
    if path:
        with open(path, "a", encoding="utf-8", newline="\n") as stream:
            stream.write("\n" + text)


def main() -> int:
    try:
        inputs = read_inputs()
        payload = event()
        wanted = commits.wanted(
            os.environ.get("GITHUB_EVENT_NAME", ""),
            payload,
            os.environ.get("GITHUB_SHA", ""),
            inputs.base,
        )
    except commits.NothingToReport as nothing:
        annotate("notice", str(nothing))
        return 0
    except ActionError as error:
        annotate("error", str(error))
        return EXIT_INPUT
    git = commits.Git(Path.cwd(), inputs.token, os.environ.get("GITHUB_SERVER_URL", ""))
    try:
        compared = commits.compare(git, wanted)
        commit_range = compared.range(git)
        head = git.short(compared.head)
    except ActionError as error:
        annotate("error", redact(str(error), inputs.token))
        return EXIT_GIT
    say(
        f"{wanted.about}: "
        + (f"the rows {commit_range} added" if commit_range else "the whole log")
    )

    done, output, report_text = run_report(inputs, commit_range)
    set_output("report", str(output) if report_text else "")
    set_output("exit-code", str(done.returncode))
    set_output("range", commit_range or "")

    status = done.returncode
    url = ""
    if not inputs.comment:
        say("comment: false, so no pull request comment")
    elif wanted.pull_request is None:
        say("not a pull request: the report is in the job summary only")
    else:
        number = wanted.pull_request
        body = comment_body(report_text, done.returncode, done.stderr, head)
        url, failed = post_comment(inputs, number, body)
        if failed:
            status = status or EXIT_COMMENT
    set_output("comment-url", url)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [""]
        annotate(
            "error", f"telemetry-csv report ended with exit status {done.returncode}: {last[0]}"
        )
    return status


def run_report(
    inputs: Inputs, commit_range: str | None
) -> tuple[subprocess.CompletedProcess[str], Path, str]:
    """`telemetry-csv report` into a file and the job summary: what it did, the file, and the
    Markdown ("" if it wrote none)."""
    output = report_file(inputs.key)
    output.unlink(missing_ok=True)
    command = [sys.executable, "-m", "telemetry_csv", "report"]
    if commit_range:
        command += ["--range", commit_range]
    if not inputs.costs:
        command.append("--no-costs")
    command += [*inputs.args, "--output", str(output)]
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        command.append("--github-summary")
    say("running " + shlex.join(["telemetry-csv", *command[3:]]))
    done = subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False
    )
    if done.stdout or done.stderr:
        echo("telemetry-csv report said", done.stdout + done.stderr)
    report_text = output.read_text(encoding="utf-8") if output.exists() else ""
    if report_text:
        echo("the report", report_text)
    if done.returncode != 0:
        append_summary(failure_block(done.returncode, done.stderr))
    return done, output, report_text


def post_comment(inputs: Inputs, number: int, body: str) -> tuple[str, bool]:
    """Create or update the comment: its URL ("" if none), and whether that failed."""
    if not inputs.token:
        annotate("notice", "no pull request comment: the github-token input is empty")
        return "", False
    where = f"The whole report is in the job summary of [the workflow run]({run_url()})."
    try:
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        if not repository:
            raise ActionError("GITHUB_REPOSITORY is not set")
        github = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), inputs.token)
        outcome = publish(github, repository, number, body, inputs.key, where if run_url() else "")
    except ActionError as error:
        message = redact(str(error), inputs.token)
        annotate("error", f"cannot write the pull request comment: {message}")
        return "", True
    report(outcome, number)
    return outcome.url, False


if __name__ == "__main__":
    raise SystemExit(main())
