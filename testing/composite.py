"""action.yml's steps run the way the Actions runner runs a composite action's `run:` steps:
each in `bash --noprofile --norc -eo pipefail`, with its `env:` and `working-directory:`,
GITHUB_ACTION_PATH and a fresh GITHUB_OUTPUT file, its outputs readable by later steps, a
failed step ending the action.

Only the expressions the action uses are understood (`inputs.X`, `steps.ID.outputs.X`,
`github.token`, and `if:` as `X != ''` or `X == 'v'`); anything else fails the test, which
keeps action.yml as plain as this. A `uses:` step cannot run here: a test gives the inputs that
skip it (python-version: "" skips actions/setup-python).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from testing.pull_requests import read_outputs

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"(\S+)\s*(==|!=)\s*'([^']*)'")


def load() -> dict[str, Any]:
    with open(ROOT / "action.yml", encoding="utf-8") as stream:
        spec: dict[str, Any] = yaml.safe_load(stream)
    return spec


@dataclass
class Composite:
    inputs: dict[str, str]
    token: str = ""
    steps: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        spec = load()
        if name == "github.token":
            return self.token
        if name.startswith("inputs."):
            key = name.removeprefix("inputs.")
            if key in self.inputs:
                return self.inputs[key]
            return self.substitute(str(spec["inputs"][key].get("default", "")))
        found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name)
        if found:
            return self.steps.get(found.group(1), {}).get(found.group(2), "")
        raise AssertionError(f"an expression this runner does not know: {name}")

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda found: self.value(found.group(1)), text)

    def holds(self, condition: str) -> bool:
        found = CONDITION.fullmatch(condition.strip())
        assert found, f"a condition this runner does not know: {condition}"
        equal = self.value(found.group(1)) == found.group(3)
        return equal if found.group(2) == "==" else not equal


@dataclass
class CompositeRun:
    status: int  # the failed step's exit status, or 0
    log: str
    outputs: dict[str, str]
    ran: list[str]  # the ids of the steps that ran


def run_action(
    inputs: dict[str, str], env: dict[str, str], cwd: Path, token: str = ""
) -> CompositeRun:
    """Every step of action.yml in order, in `cwd` (the workspace), with the job's `env`."""
    spec = load()
    assert spec["runs"]["using"] == "composite"
    state = Composite(inputs, token)
    log, ran = [], []
    status = 0
    for index, step in enumerate(spec["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if "if" in step and not state.holds(step["if"]):
            continue
        assert "uses" not in step, f"step {step_id} uses an action; give inputs that skip it"
        assert step["shell"] == "bash"
        output = Path(env["RUNNER_TEMP"]) / f"output-{step_id}"
        output.write_text("")
        step_env = dict(env)
        step_env.update(
            {name: state.substitute(str(value)) for name, value in step.get("env", {}).items()}
        )
        step_env.update(GITHUB_ACTION_PATH=str(ROOT), GITHUB_OUTPUT=str(output))
        folder = cwd / state.substitute(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", state.substitute(step["run"])],
            cwd=folder, env=step_env, capture_output=True, text=True, encoding="utf-8",
            timeout=600, check=False,
        )  # fmt: skip
        ran.append(step_id)
        log.append(done.stdout + done.stderr)
        state.steps[step_id] = read_outputs(output)
        if done.returncode != 0:
            status = done.returncode
            break
    outputs = {name: state.substitute(item["value"]) for name, item in spec["outputs"].items()}
    return CompositeRun(status, "".join(log), outputs, ran)


def referenced(text: str) -> set[str]:
    """The names every `${{ }}` in `text` refers to."""
    return {found.group(1) for found in EXPRESSION.finditer(text)}


def env_of(step: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in step.get("env", {}).items()}


def os_path_with(python_folder: Path) -> str:
    return os.pathsep.join([str(python_folder), os.environ.get("PATH", "")])
