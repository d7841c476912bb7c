"""The documentation is complete and true: every command, option, hook, console script and
exit status is in it; every command block is run (and its output compared) or marked
illustrative; the README stays short, with the set-up commands CI runs. The convention for
blocks is in testing/docs.py."""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from testing import docs
from testing.docs import ROOT, Block, documentation_files

README = ROOT / "README.md"
DOCS = ROOT / "docs"


def test_every_shell_block_is_run_or_marked_illustrative() -> None:
    unmarked = [
        block.where
        for path in documentation_files()
        for block in docs.blocks(path)
        if block.shell and not block.runs and not block.illustrative
    ]
    assert not unmarked, (
        "shell blocks that are neither ```console (run by tests/test_docs.py) nor marked "
        f"<!-- illustrative: WHY -->: {unmarked}"
    )


def test_commands_are_in_fenced_blocks() -> None:
    indented = {
        str(path.relative_to(ROOT)): lines
        for path in documentation_files()
        if (lines := docs.indented_commands(path))
    }
    assert not indented, f"`$ ` commands in indented code blocks; fence them: {indented}"


def test_every_illustrative_marker_says_why() -> None:
    empty = [
        block.where
        for path in documentation_files()
        for block in docs.blocks(path)
        if block.comment.startswith("illustrative") and not block.illustrative
    ]
    assert not empty, f"`<!-- illustrative: WHY -->` needs its reason: {empty}"


PAGES = [path for path in documentation_files() if any(b.runs for b in docs.blocks(path))]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_console_blocks_print_what_the_page_shows(tmp_path: Path, page: Path) -> None:
    """A page's ```console blocks, in order, in one fresh repository; outputs compared after
    normalising times, stamps, ids and prices (docs.normalise)."""
    repo = tmp_path / "demo"
    repo.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = docs.environment(home)
    import subprocess

    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=env, check=True)
    results: list[tuple[Block, list[list[str]]]] = []
    failures = []
    for block in docs.blocks(page):
        if not block.runs:
            continue
        outputs = docs.run_block(block, repo, env)
        for step, actual in zip(docs.steps(block), outputs, strict=True):
            if not docs.matches(step.expected, actual):
                failures.append((block, step, actual))
                results.append((block, outputs))
    if os.environ.get("TELEMETRY_CSV_DOCS_UPDATE") == "1" and failures:
        unique = {id(block): (block, outputs) for block, outputs in results}
        docs.write_outputs(page, list(unique.values()))
        return
    report = [
        f"{block.where}: $ {step.command}\n--- the page shows\n"
        + "\n".join(step.expected)
        + "\n--- it printed\n"
        + "\n".join(actual)
        for block, step, actual in failures
    ]
    assert not failures, "\n\n".join(report)


def _all_docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in documentation_files())


def _parsers() -> dict[str, object]:
    from telemetry_csv.cli.main import COMMANDS

    return {
        name: importlib.import_module(f"telemetry_csv.cli.{module}").build_parser()
        for name, (module, _) in COMMANDS.items()
    }


def test_every_command_and_option_is_in_the_command_reference() -> None:
    reference = (DOCS / "commands.md").read_text(encoding="utf-8")
    missing = []
    for name, parser in _parsers().items():
        if f"## `telemetry-csv {name}`" not in reference:
            missing.append(name)
        for action in parser._actions:  # type: ignore[attr-defined]
            missing += [
                f"{name} {option}"
                for option in action.option_strings
                if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", reference)
            ]
    assert not missing, f"undocumented in docs/commands.md: {missing}"


def test_every_hook_and_console_script_is_documented() -> None:
    hooks_page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    missing = [hook["id"] for hook in hooks if f"`{hook['id']}`" not in hooks_page]
    text = _all_docs_text()
    missing += [
        script for script in scripts if not re.search(rf"`{re.escape(script)}(?![\w-])[^`]*`", text)
    ]
    assert not missing, f"undocumented: {missing}"
    for hook in hooks:  # the stages the page says it runs at are the hook's
        assert all(stage in hooks_page for stage in hook.get("stages", [])), hook["id"]


def test_every_exit_status_is_documented() -> None:
    from telemetry_csv.errors import COMMAND_EXITS, EXIT_STATUSES

    page = (DOCS / "exit-statuses.md").read_text(encoding="utf-8")
    missing = [status for status in EXIT_STATUSES if f"\n| {status} | " not in page]
    missing += [command for command in COMMAND_EXITS if f"| `{command}` |" not in page]
    assert not missing, f"undocumented in docs/exit-statuses.md: {missing}"


def test_the_hooks_descriptions_say_what_they_do() -> None:
    """fmt never adds a missing final newline: the last line may be a torn row."""
    hooks = {
        hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    assert "never adds a missing final newline" in hooks["telemetry-csv-fmt"]["description"]


def test_every_page_is_in_the_site() -> None:
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            listed.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)

    walk(site["nav"])
    pages = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    assert sorted(page for page in listed if not page.startswith("benchmarks/")) == pages
    # The benchmarks' pages come from benchmarks/ (scripts/mkdocs_hooks.py), every one of them.
    benchmarks = sorted(f"benchmarks/{path.name}" for path in (ROOT / "benchmarks").glob("*.md"))
    assert sorted(page for page in listed if page.startswith("benchmarks/")) == benchmarks


SET_UP = [
    "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/telemetry-csv check "
    "&& .venv/bin/telemetry-csv report",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m "
    "pytest -q -n 4",
]


def test_the_readme_is_short_and_starts_with_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 220
    blocks = [block for block in docs.blocks(README) if block.shell]
    assert ["\n".join(block.lines) for block in blocks[:2]] == SET_UP
    assert all(block.illustrative for block in blocks[:2])
    # CI runs the README's test command exactly (after its own installs).
    ci = (ROOT / ".ci" / "run").read_text()
    assert SET_UP[1].split(" && ")[-1] in ci.splitlines()
    first_log = next(
        line for block in docs.blocks(README) for line in block.lines if " log " in line
    )
    assert re.fullmatch(r"\$ telemetry-csv log [\w.-]+ \d+ \d+ true \w+ \d+ \"[^\"]+\"", first_log)


def test_the_readme_links_point_at_files_that_exist() -> None:
    """The README is not part of the site (mkdocs checks the pages' links); its own are here."""
    text = README.read_text(encoding="utf-8")
    broken = [
        target
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
        if "://" not in target and not (ROOT / target).exists()
    ]
    assert not broken
