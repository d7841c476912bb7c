"""action.yml itself: its wiring (every input, step output and INPUT_ variable the scripts read
is defined where it is used), then the whole composite action run step by step as the runner
runs it: the tool installed from this checkout into a virtual environment of its own, the
report, the comment, the step's exit status."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from testing.composite import ROOT, env_of, load, os_path_with, referenced, run_action
from testing.github_api import WRITE_TOKEN, serving
from testing.platforms import posix_only
from testing.pull_requests import checkout, make_origin, pull_request_event
from testing.util import HEADER, git, git_env

SPEC = load()
STEPS = SPEC["runs"]["steps"]
# What each script reads and writes, read from its source (and its sibling modules').
SCRIPTS = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "action").glob("*.py")}
# Outputs of the actions the composite uses, as their own action.yml declares them.
USES_OUTPUTS = {"actions/setup-python": {"python-path"}}


def script_of(step: dict[str, object]) -> str:
    found = re.search(r'\$GITHUB_ACTION_PATH/action/(\w+\.py)"', str(step["run"]))
    assert found, step
    return found.group(1)


def reads(script: str) -> set[str]:
    """INPUT_ names the script and the modules it imports read."""
    imported = re.findall(r"^(?:import (\w+)$|from (\w+) import)", SCRIPTS[script], re.M)
    modules = {script, *(f"{a or b}.py" for a, b in imported)}
    names: set[str] = set()
    for module in modules & set(SCRIPTS):
        for name in re.findall(r'(?:text_input|flag_input)\(\s*"([\w-]+)"', SCRIPTS[module]):
            names.add("INPUT_" + name.upper().replace("-", "_"))
    return names


def test_every_input_is_declared_and_used() -> None:
    used = set()
    for step in STEPS:
        for text in [*env_of(step).values(), *map(str, (step.get("with") or {}).values()),
                     str(step.get("if", "")), str(step.get("working-directory", ""))]:  # fmt: skip
            used |= {
                name.removeprefix("inputs.")
                for name in referenced(text)
                if name.startswith("inputs.")
            }
            used |= {name.removeprefix("inputs.") for name in re.findall(r"inputs\.[\w-]+", text)}
    assert used == set(SPEC["inputs"])


def test_every_step_output_used_is_one_the_step_writes() -> None:
    written: dict[str, set[str]] = {}
    for step in STEPS:
        if "uses" in step:
            written[step["id"]] = USES_OUTPUTS[step["uses"].split("@")[0]]
        else:
            written[step["id"]] = set(
                re.findall(r'set_output\("([\w-]+)"', SCRIPTS[script_of(step)])
            )
    texts = [str(item["value"]) for item in SPEC["outputs"].values()]
    texts += [value for step in STEPS for value in env_of(step).values()]
    for text in texts:
        for name in referenced(text):
            found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name)
            if found:
                assert found.group(2) in written[found.group(1)], name


def test_every_input_a_script_reads_is_in_its_steps_env() -> None:
    for step in STEPS:
        if "run" in step:
            assert "${{" not in step["run"]  # values reach the shell as variables only
            missing = reads(script_of(step)) - set(env_of(step))
            assert not missing, (step["id"], missing)


@pytest.mark.slow  # a virtual environment and a real pip install of this checkout
@posix_only("bash that is sure to be Git's, as the runner's `shell: bash` is (System32's is WSL's)")
def test_the_composite_action_runs_end_to_end(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    git(origin.work, "checkout", "-q", "-b", "feature")
    origin.log("on the branch")
    origin.push("feature")
    head, base = origin.open_pull_request(7, "feature")
    workspace = checkout(origin, "refs/pull/7/merge", tmp_path / "workspace")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(7, head, base)))
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    with serving() as api:
        env = {key: value for key, value in git_env().items()
               if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_", "VIRTUAL_ENV"))}  # fmt: skip
        env.update(
            PATH=os_path_with(Path(sys.executable).parent),
            GITHUB_EVENT_NAME="pull_request",
            GITHUB_EVENT_PATH=str(event),
            GITHUB_SHA=git(workspace, "rev-parse", "HEAD").strip(),
            GITHUB_REPOSITORY="octo/widgets",
            GITHUB_API_URL=api.url,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_RUN_ID="4711",
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
            RUNNER_TEMP=str(runner_temp),
        )
        inputs = {"python-version": "", "costs": "false", "args": "--days 0"}
        run = run_action(inputs, env, workspace, token=WRITE_TOKEN)
        assert run.status == 0, run.log
        assert run.ran == ["install", "report"]  # setup-python skipped: python-version ""
        assert "installed telemetry-csv " in run.log
        venv = runner_temp / "telemetry-csv-action-venv"
        assert (venv / "pyvenv.cfg").exists()
        [comment] = api.comments[7]
        assert ", 1 row" in str(comment["body"]) and "### Daily" not in str(comment["body"])
        assert run.outputs["exit-code"] == "0" and run.outputs["comment-url"]
        assert run.outputs["report"].startswith(str(runner_temp))
        assert WRITE_TOKEN not in run.log

        # A row the schema refuses: the comment says so, then the step fails with status 1.
        # A shard of its own, as `log` would start one, holding a row `log` would refuse.
        shard = origin.work / ".telemetry" / "usage.rows" / "20261120T100000Z-00000000000000aa.csv"
        shard.write_text(HEADER + "2026-11-20T10:00:00Z,claude-3-opus,10,20,maybe,execute,100,\n")
        git(origin.work, "add", "-A", ".telemetry")
        git(origin.work, "commit", "-q", "-m", "a row by hand")
        origin.push("feature")
        head, base = origin.open_pull_request(7, "feature")
        event.write_text(json.dumps(pull_request_event(7, head, base)))
        workspace = checkout(origin, "refs/pull/7/merge", tmp_path / "workspace-2")
        env["GITHUB_SHA"] = git(workspace, "rev-parse", "HEAD").strip()
        run = run_action(inputs, env, workspace, token=WRITE_TOKEN)
        assert run.status == 1 and run.outputs["exit-code"] == "1", run.log
        [comment] = api.comments[7]
        assert "task_success: 'maybe' is not allowed" in str(comment["body"])


def test_the_workflow_in_the_docs_is_the_example_file() -> None:
    """docs/github.md shows the report job of docs/examples/telemetry-pull-request.yml, which
    the validators check: the two may not drift apart."""
    text = (ROOT / "docs" / "github.md").read_text(encoding="utf-8")
    shown = yaml.safe_load(re.search(r"```yaml\n(name: telemetry\n.*?)```", text, re.S).group(1))
    with open(ROOT / "docs" / "examples" / "telemetry-pull-request.yml", encoding="utf-8") as f:
        example = yaml.safe_load(f)
    assert shown["jobs"]["report"]["permissions"] == example["jobs"]["report"]["permissions"]
    assert shown["jobs"]["report"]["steps"] == example["jobs"]["report"]["steps"]
    for key in ("name", True, "permissions", "concurrency"):  # YAML 1.1 reads `on` as True
        assert shown[key] == example[key]
