"""The documentation's code blocks, found, classified and run (tests/test_docs.py).

The convention, for every Markdown file of the documentation (README.md, docs/, benchmarks/):

- A ```` ```console ```` block is run: each line starting with `$ ` is a command (a line
  ending in `\\` goes on to the next), and the lines after it, up to the next command, are its
  output, standard output and standard error together. The blocks of one page run in order in
  one temporary git repository (`/tmp/demo` in what they show), so a page can build on what
  it did before; each block runs in one shell, so `cd` and `set` last to its end. Output is
  compared after normalising what differs from run to run (`normalise`); an output line `...`
  stands for any number of lines.
- An HTML comment right before a block's fence says more about it:
  `<!-- illustrative: WHY -->` marks a shell block that is not run (it needs a network, a
  coding agent, GitHub, minutes of time, a crash...), and `<!-- setup ... -->` holds commands
  run, unseen, before the block (copying a fixture, say).
- Any other block that holds a shell command (```` ```sh ````, ```` ```bash ````, or any block
  with a `$ ` line) must be marked illustrative: tests fail on a shell block that is neither.

With TELEMETRY_CSV_DOCS_UPDATE=1 in the environment, the test writes each block's real output
(its paths normalised) into the file instead of comparing: how outputs are produced.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELL_LANGUAGES = {"console", "sh", "bash", "shell", "zsh", "shell-session"}
SHOWN_REPOSITORY = "/tmp/demo"  # where the pages' examples say they run
SHOWN_ENVIRONMENT = "/path/to/venv"  # the virtual environment telemetry-csv is installed in
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = "@@@telemetry-csv-docs@@@"


def documentation_files() -> list[Path]:
    """Every Markdown file of the documentation."""
    return sorted(
        [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "benchmarks").glob("*.md")]
    )


@dataclass
class Block:
    path: Path
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    indent: str
    language: str
    lines: list[str]  # the content, without the fence's indentation
    comment: str = ""  # the HTML comment right before the fence, without <!-- -->

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.start + 1}"

    @property
    def illustrative(self) -> bool:
        return self.comment.startswith("illustrative:") and bool(self.comment[13:].strip())

    @property
    def setup(self) -> str:
        return self.comment[len("setup") :] if self.comment.startswith("setup") else ""

    @property
    def shell(self) -> bool:
        return self.language in SHELL_LANGUAGES or any(line.startswith("$ ") for line in self.lines)

    @property
    def runs(self) -> bool:
        return self.language == "console" and not self.illustrative


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        content = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in lines[index + 1 : end]
        ]
        found.append(
            Block(
                path,
                index,
                end,
                indent,
                match.group("info").strip().split(" ")[0].lstrip("{."),
                content,
                _comment_before(lines, index),
            )
        )
        index = end + 1
    return found


def _comment_before(lines: list[str], fence: int) -> str:
    """The HTML comment that ends on the line right before the fence, if any."""
    if fence == 0 or not lines[fence - 1].rstrip().endswith("-->"):
        return ""
    start = fence - 1
    while start >= 0 and "<!--" not in lines[start]:
        start -= 1
    if start < 0:
        return ""
    text = "\n".join(lines[start:fence])  # as written: a setup may hold YAML
    return text[text.index("<!--") + 4 : text.rindex("-->")].strip()


def indented_commands(path: Path) -> list[int]:
    """Line numbers of `$ ` commands in indented code blocks, outside fences: every command
    block is fenced, so that it is either run or marked."""
    found = []
    inside = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        match = _FENCE.match(line)
        if match:
            fence = match.group("fence")
            if not inside:
                inside = fence
            elif line.strip().startswith(inside):
                inside = ""
            continue
        if not inside and re.match(r"^( {4,}|\t)\$ ", line):
            found.append(number)
    return found


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


def steps(block: Block) -> list[Step]:
    found: list[Step] = []
    continued = False
    for line in block.lines:
        if continued:
            found[-1].command += "\n" + line
            continued = line.endswith("\\")
        elif line.startswith("$ "):
            found.append(Step(line[2:]))
            continued = line.endswith("\\")
        elif found:
            found[-1].expected.append(line)
    return found


def environment(home: Path) -> dict[str, str]:
    """What the examples run with: the telemetry-csv under test first on PATH, a home of their
    own, git's identity, UTC (so a local offset is +00:00), and argparse's help at a fixed width."""
    from testing.util import BIN, git_env

    env = git_env()
    env.update(
        PATH=f"{BIN}{os.pathsep}{env['PATH']}",
        HOME=str(home),
        TZ="UTC",
        PYTHONUNBUFFERED="1",
        COLUMNS="100",
        FIXTURES=str(ROOT / "tests" / "fixtures"),
        SOURCE=str(ROOT),
        GIT_AUTHOR_NAME="Ada",
        GIT_COMMITTER_NAME="Ada",
        GIT_AUTHOR_EMAIL="ada@example.com",
        GIT_COMMITTER_EMAIL="ada@example.com",
    )
    for name in ("GITHUB_STEP_SUMMARY", "OTEL_EXPORTER_OTLP_ENDPOINT", "PRE_COMMIT_HOME"):
        env.pop(name, None)
    return env


def run_block(block: Block, repo: Path, env: dict[str, str]) -> list[list[str]]:
    """Run the block's commands in one shell in `repo`; each command's output lines, with the
    paths that differ from run to run shown as the pages show them."""
    listed = steps(block)
    script = ["exec 2>&1"]
    if block.setup:
        script.append(f"{{\n{block.setup}\n}} >/dev/null")
    for step in listed:
        # `$?` survives the marker, so that a page can show `echo $?`.
        script += [f"s=$?; printf '\\n%s\\n' '{_MARKER}'; (exit $s)", step.command]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    text = shown_paths(done.stdout, repo)
    parts = text.split(f"\n{_MARKER}\n")[1:]
    assert len(parts) == len(listed), f"{block.where}: the block's shell stopped early:\n{text}"
    outputs = []
    for part in parts:
        lines = [line.rstrip() for line in part.split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        outputs.append(lines)
    return outputs


def shown_paths(text: str, repo: Path) -> str:
    from testing.util import BIN

    for real, shown in (
        (str(repo.resolve()), SHOWN_REPOSITORY),
        (str(repo), SHOWN_REPOSITORY),
        (str(BIN.parent), SHOWN_ENVIRONMENT),
        (str(ROOT), "/path/to/telemetry-csv"),
    ):
        text = text.replace(real, shown)
    return text


# What differs from one run to the next, and how both sides are written before comparing.
_NORMALISE = [
    (re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)"), "<TIME>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<TIME>"),
    (re.compile(r"\d{8}T\d{6}Z(-[0-9a-f]{16})?"), "<STAMP>"),
    (re.compile(r"\d{4}-\d\d-\d\d"), "<DAY>"),
    (re.compile(r"\d{4}-W\d\d"), "<WEEK>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b"), "<ID>"),
    (re.compile(r"<?\$\d[\d,]*\.\d+"), "$<COST>"),
    (re.compile(r"genai-prices \d+\.\d+\.\d+"), "genai-prices <VERSION>"),
]
_MEASURED = re.compile(r"\d[\d,]*(\.\d+)? ?ms\b")  # in `run`'s line: the time it measured
_RULE = re.compile(r":?-+:?")


def normalise(lines: list[str]) -> list[str]:
    """Times, stamps, days, weeks, commit ids, prices and measured durations replaced by
    placeholders; Markdown table rows without their padding (a wider price widens a column)."""
    result = []
    for line in lines:
        for pattern, placeholder in _NORMALISE:
            line = pattern.sub(placeholder, line)
        if re.search(r"\(exit \d+\)|\bin \d", line):
            line = _MEASURED.sub("<N> ms", line)
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            line = "|" + "|".join("---" if _RULE.fullmatch(cell) else cell for cell in cells) + "|"
        result.append(line.rstrip())
    return result


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line after `normalise`; an expected line `...` matches any number of lines."""
    want, got = normalise(expected), normalise(actual)

    def from_(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(from_(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and want[i] == got[j] and from_(i + 1, j + 1)

    return from_(0, 0)


def write_outputs(path: Path, results: list[tuple[Block, list[list[str]]]]) -> None:
    """Put each block's real output into the file (TELEMETRY_CSV_DOCS_UPDATE=1)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for block, outputs in sorted(results, key=lambda item: -item[0].start):
        new: list[str] = []
        for step, output in zip(steps(block), outputs, strict=True):
            new += [
                f"$ {part}" if n == 0 else part for n, part in enumerate(step.command.split("\n"))
            ]
            new += output
        lines[block.start + 1 : block.end] = [
            (block.indent + line) if line else line for line in new
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def command_help(name: str) -> None:
    """Print, for cog, the `--help` of `telemetry-csv NAME` (or the top level's, for ""), as
    a terminal 100 columns wide shows it, in a text block."""
    import contextlib
    import importlib
    import io

    import cog  # type: ignore[import-not-found]

    from telemetry_csv.cli import main

    os.environ["COLUMNS"] = "100"
    if name:
        module = importlib.import_module(f"telemetry_csv.cli.{main.COMMANDS[name][0]}")
        text = module.build_parser().format_help()
    else:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            main.main(["--help"])
        text = output.getvalue()
    cog.outl("```text")
    cog.out(text.rstrip("\n") + "\n")
    cog.outl("```")


def exit_status_tables() -> None:
    """Print, for cog, the table of every exit status and which command ends with which."""
    import cog

    from telemetry_csv.errors import (
        COMMAND_EXITS,
        EXIT_CLOSED_PIPE,
        EXIT_STATUSES,
        exit_status_markdown,
    )

    cog.outl(exit_status_markdown())
    cog.outl("")
    cog.outl("Which command ends with which status, in its own words where it says more:")
    cog.outl("")
    cog.outl("| command | statuses |")
    cog.outl("| --- | --- |")
    for command, statuses in COMMAND_EXITS.items():
        if not statuses:
            cog.outl(f"| `{command}` | the command's own status (`telemetry-csv run --help`) |")
            continue
        shown = [
            f"{status}: {meaning}" if meaning else str(status)
            for status, meaning in sorted({**statuses, EXIT_CLOSED_PIPE: ""}.items())
        ]
        cog.outl(f"| `{command}` | {'; '.join(shown).replace('|', chr(92) + '|')} |")
    assert set(EXIT_STATUSES)  # every status is in the first table
