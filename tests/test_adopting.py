"""Adopting telemetry-csv in another repository, as docs/adopt.md says, for real: installed from
a local path, a git URL (with extras), pipx and `uv tool`; the hint `report` prints when the
price data is missing, run as printed; the pre-commit snippet `init` prints, installed with
every stage; and the hooks called from a `core.hooksPath` manager's scripts (husky), where
`pre-commit install` refuses. Installs reach PyPI for the dependencies."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from telemetry_csv.logfile.initialising import PRE_COMMIT_SNIPPET
from testing.logfiles import row, rows, write_log
from testing.platforms import posix_only
from testing.util import BIN, git, git_env

pytestmark = [pytest.mark.slow, posix_only("shell scripts as git hooks (#!)")]

LOG = ".telemetry/usage.csv"
ROW = ["claude-sonnet-4-20250514", "1500", "3200", "true", "execute", "45000", "tests"]
HINT = re.compile(r"Costs are not estimated: `([^`]*)` adds estimates\.")


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture
def installs(tmp_path: Path) -> dict[str, str]:
    """An environment whose pipx and uv keep everything under tmp_path, and never download a
    Python (uv would): the tools use this interpreter."""
    env = git_env()
    env.update(
        PATH=f"{tmp_path / 'bin'}{os.pathsep}{BIN}{os.pathsep}{env['PATH']}",
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_DEFAULT_PYTHON=sys.executable,
        USE_EMOJI="0",
        UV_TOOL_DIR=str(tmp_path / "uv-tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
    )
    return env


def a_checkout(source: Path, tmp_path: Path) -> Path:
    """A clone of the hook source (conftest.py) to install from as a local path: pip, pipx and
    uv build a local project in its own folder, and the source is shared by the whole run."""
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(source), str(checkout))
    return checkout


def a_repository_with_a_row(folder: Path, command: str, env: dict[str, str]) -> Path:
    folder.mkdir()
    git(folder, "init", "-q")
    run([command, "init"], folder, env)
    run([command, "log", *ROW], folder, env)
    return folder


def costs_after_the_hint(command: str, repo: Path, env: dict[str, str]) -> None:
    """Without the `cost` extra the report says how to add the price data, for the
    interpreter it runs in; the command it prints works, and the report then has costs."""
    report = run([command, "report"], repo, env).stdout
    [hint] = HINT.findall(report)
    assert "Estimated cost" not in report
    run(shlex.split(hint), repo, env)
    report = run([command, "report"], repo, env).stdout
    assert "Estimated cost" in report and not HINT.search(report)


def test_from_a_local_path_in_a_virtual_environment(
    tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str]
) -> None:
    source = a_checkout(hook_source[0], tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, installs)
    run([str(venv / "bin" / "pip"), "install", "-q", str(source)], tmp_path, installs)
    command = str(venv / "bin" / "telemetry-csv")
    repo = a_repository_with_a_row(tmp_path / "project", command, installs)
    costs_after_the_hint(command, repo, installs)


def test_from_a_git_url_with_extras(
    tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str]
) -> None:
    """`git+URL@REV` as pip takes it from a published repository; here the URL is file:// (with
    a host: the pip a new virtual environment has refuses `file:///` in a requirement)."""
    source, rev = hook_source
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, installs)
    wanted = f"telemetry-csv[cost,otlp] @ git+file://localhost{source}@{rev}"
    run([str(venv / "bin" / "pip"), "install", "-q", wanted], tmp_path, installs)
    command = str(venv / "bin" / "telemetry-csv")
    repo = a_repository_with_a_row(tmp_path / "project", command, installs)
    assert "Estimated cost" in run([command, "report"], repo, installs).stdout
    exported = run([command, "export", "otlp", "--dry-run"], repo, installs).stdout
    assert exported.startswith("would export 1 row of .telemetry/usage.rows")


def test_with_pipx(tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str]) -> None:
    source = a_checkout(hook_source[0], tmp_path)
    run([str(BIN / "pipx"), "install", str(source)], tmp_path, installs)
    repo = a_repository_with_a_row(tmp_path / "project", "telemetry-csv", installs)
    assert (tmp_path / "bin" / "telemetry-csv-check-hook").exists()
    costs_after_the_hint("telemetry-csv", repo, installs)  # pipx inject


def test_with_uv_tool(
    tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str]
) -> None:
    source = a_checkout(hook_source[0], tmp_path)
    run([str(BIN / "uv"), "tool", "install", str(source)], tmp_path, installs)
    repo = a_repository_with_a_row(tmp_path / "project", "telemetry-csv", installs)
    costs_after_the_hint("telemetry-csv", repo, installs)  # uv pip install --python


def snippet_for(source: Path, rev: str) -> str:
    """`init`'s snippet with its placeholders filled in, as the owner will once published."""
    text = PRE_COMMIT_SNIPPET.replace(
        "https://github.com/telemetry-csv/telemetry-csv", str(source)
    ).replace("v0.1.0", rev)
    assert str(source) in text and rev in text
    return text + "\n"


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    git(repo, "add", "-A")
    return subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=repo, env=env, capture_output=True, text=True
    )


def test_the_snippet_installs_every_stage_its_hooks_need(
    repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    import yaml

    source, rev = hook_source
    config = yaml.safe_load(snippet_for(source, rev))
    declared = {
        hook["id"]: hook for hook in yaml.safe_load((source / ".pre-commit-hooks.yaml").read_text())
    }
    used = [hook["id"] for hook in config["repos"][0]["hooks"]]
    assert sorted(used) == sorted(declared)  # every hook this repository offers
    needed = {stage for hook in used for stage in declared[hook]["stages"]} - {"manual"}
    assert needed == set(config["default_install_hook_types"])

    (repo / ".pre-commit-config.yaml").write_text(snippet_for(source, rev))
    installed = subprocess.run(
        [str(BIN / "pre-commit"), "install"], cwd=repo, env=pre_commit_env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    for stage in needed:
        assert (repo / ".git" / "hooks" / stage).is_file(), stage
    write_log(repo / LOG, rows(1, 2))
    assert commit(repo, pre_commit_env, "first").returncode == 0
    write_log(repo / LOG, rows(1) + row(2).replace(",1002,", ",9002,"))
    refused = commit(repo, pre_commit_env, "edits history")
    assert refused.returncode == 1
    assert "a history row was changed" in refused.stdout + refused.stderr


HUSKY_HOOK = '#!/bin/sh\nexec pre-commit hook-impl --hook-type={stage} -- "$@"\n'


def test_called_from_a_core_hooks_path_manager(
    tmp_path: Path, repo: Path, hook_source: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    """husky and its kind set core.hooksPath; `pre-commit install` then refuses, and the hook
    scripts in that folder call pre-commit instead, one line each (docs/adopt.md)."""
    source, rev = hook_source
    (repo / ".pre-commit-config.yaml").write_text(snippet_for(source, rev))
    git(repo, "config", "core.hooksPath", ".husky")
    refused = subprocess.run(
        [str(BIN / "pre-commit"), "install"], cwd=repo, env=pre_commit_env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "Cowardly refusing to install hooks with `core.hooksPath` set." in refused.stdout
    husky = repo / ".husky"
    husky.mkdir()
    for stage in ("pre-commit", "pre-merge-commit", "pre-push", "post-commit"):
        (husky / stage).write_text(HUSKY_HOOK.format(stage=stage))
        (husky / stage).chmod(0o755)

    write_log(repo / LOG, rows(1, 2))
    assert commit(repo, pre_commit_env, "first").returncode == 0
    broken = row(3).replace(",true,", ",maybe,")
    write_log(repo / LOG, rows(1, 2) + broken)
    failed = commit(repo, pre_commit_env, "a bad row")
    assert failed.returncode == 1
    assert ".telemetry/usage.csv:4: task_success: 'maybe' is not allowed" in failed.stderr

    # pre-push: a pushed range that edits history is refused before it leaves.
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    write_log(repo / LOG, rows(1, 2))
    run(["git", "push", "-q", "origin", "main"], repo, pre_commit_env)  # through the hook
    write_log(repo / LOG, rows(2, 1))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "reorders rows")
    pushed = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=repo, env=pre_commit_env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert pushed.returncode == 1
    assert "rows may only be added at the end" in pushed.stdout + pushed.stderr


def test_the_readme_s_first_set_up_command(
    tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str]
) -> None:
    """The README's first command, as it stands there, in a fresh clone: it installs the tool
    and checks and reports on the committed sample log. (The second runs this suite: CI.)"""
    from tests.test_docs import SET_UP

    source, _ = hook_source
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(source), str(clone))
    done = run(["bash", "-c", SET_UP[0]], clone, installs)
    assert done.stdout.startswith("checked 1 file, 5 valid rows: no problems\n## LLM usage report")


@pytest.mark.parametrize("tool", ["pipx", "uv"])
def test_pipx_and_uv_from_a_git_url_with_the_cost_extra(
    tmp_path: Path, hook_source: tuple[Path, str], installs: dict[str, str], tool: str
) -> None:
    source, rev = hook_source
    wanted = f"telemetry-csv[cost] @ git+file://localhost{source}@{rev}"
    command = [str(BIN / "pipx"), "install", wanted]
    if tool == "uv":
        command = [str(BIN / "uv"), "tool", "install", wanted]
    run(command, tmp_path, installs)
    repo = a_repository_with_a_row(tmp_path / "project", "telemetry-csv", installs)
    assert "Estimated cost" in run(["telemetry-csv", "report"], repo, installs).stdout
