"""Pull requests as GitHub keeps them, in real git: a bare "origin" with branches, a pull
request's `refs/pull/N/head` and its test merge `refs/pull/N/merge`; a checkout made the way
actions/checkout makes one (one commit of the merge, no credentials kept); and the action's
main step run in it as the runner runs it, with the environment a job has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testing.util import git, git_env, run_cli

ACTION = Path(__file__).resolve().parent.parent / "action"


@dataclass
class Origin:
    bare: Path  # what GitHub holds
    work: Path  # a developer's clone, pushing to it

    @property
    def url(self) -> str:
        return self.bare.as_uri()  # file://, so that shallow fetches are real ones

    def tip(self, ref: str) -> str:
        return git(self.bare, "rev-parse", ref).strip()

    def log(self, note: str, *, task_success: str = "true") -> None:
        """Log one row in the developer's clone and commit it."""
        done = run_cli("log", "claude-3-opus", "1200", "300", task_success, "execute", "45000",
                       note, cwd=self.work)  # fmt: skip
        assert done.returncode == 0, done.stderr
        git(self.work, "add", "-A", ".telemetry")
        git(self.work, "commit", "-q", "-m", f"log {note}")

    def commit_empty(self, count: int, what: str = "work") -> None:
        for index in range(count):
            git(self.work, "commit", "-q", "--allow-empty", "-m", f"{what} {index}")

    def push(self, branch: str) -> str:
        git(self.work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return self.tip(f"refs/heads/{branch}")

    def open_pull_request(self, number: int, branch: str, base: str = "main") -> tuple[str, str]:
        """What GitHub does on each push to a pull request: its head ref, and a test merge of
        the head into the base. Returns (head, base) commit ids, as the event names them."""
        head, base_commit = self.tip(f"refs/heads/{branch}"), self.tip(f"refs/heads/{base}")
        git(self.bare, "update-ref", f"refs/pull/{number}/head", head)
        tree = git(self.bare, "merge-tree", "--write-tree", base_commit, head).split()[0]
        merge = git(self.bare, "commit-tree", tree, "-p", base_commit, "-p", head,
                    "-m", f"Merge {head} into {base_commit}").strip()  # fmt: skip
        git(self.bare, "update-ref", f"refs/pull/{number}/merge", merge)
        return head, base_commit


def make_origin(tmp_path: Path) -> Origin:
    """An origin whose main branch holds an initialised log with one row."""
    work = tmp_path / "developer"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    assert run_cli("init", cwd=work).returncode == 0
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "start the log")
    origin = Origin(tmp_path / "origin.git", work)
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin.bare))
    git(work, "remote", "add", "origin", origin.url)
    origin.log("on main before the branch")
    origin.push("main")
    return origin


def checkout(
    origin: Origin,
    ref: str,
    folder: Path,
    depth: int | None = 1,
    *,
    url: str = "",
    header: str = "",
) -> Path:
    """A checkout of `ref` as actions/checkout makes one: a new repository fetching that one
    ref (`depth` commits of it; None for all history) from `url` (default: the origin's), with
    the Authorization `header` for that fetch only (persist-credentials: false)."""
    folder.mkdir()
    git(folder, "init", "-q")
    git(folder, "remote", "add", "origin", url or origin.url)
    depth_option = [f"--depth={depth}"] if depth else []
    auth = ["-c", f"http.extraHeader=AUTHORIZATION: {header}"] if header else []
    git(folder, *auth, "fetch", "-q", "--no-tags", *depth_option, "origin",
        f"+{ref}:refs/remotes/checkout")  # fmt: skip
    git(folder, "checkout", "-q", "--detach", "refs/remotes/checkout")
    return folder


@dataclass
class ActionRun:
    status: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


def pull_request_event(number: int, head: str, base: str, fork: bool = False) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": head, "ref": "feature",
                     "repo": {"full_name": "fork/widgets" if fork else "octo/widgets"}},
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "octo/widgets"}},
        },
        "repository": {"full_name": "octo/widgets", "default_branch": "main"},
    }  # fmt: skip


def run_entrypoint(
    checkout_folder: Path,
    event_name: str,
    payload: dict[str, Any],
    *,
    api_url: str = "http://127.0.0.1:9",
    token: str = "",
    inputs: dict[str, str] | None = None,
    server_url: str = "https://github.com",
    sha: str = "",
) -> ActionRun:
    """action/entrypoint.py in `checkout_folder`, with a job's environment: the event, the
    token, RUNNER_TEMP, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the inputs."""
    job = checkout_folder.parent / f"job-{os.urandom(4).hex()}"
    job.mkdir()
    event_path = job / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    env = {key: value for key, value in git_env().items()
           if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}  # fmt: skip
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_SHA=sha or git(checkout_folder, "rev-parse", "HEAD").strip(),
        GITHUB_REPOSITORY="octo/widgets",
        GITHUB_API_URL=api_url,
        GITHUB_SERVER_URL=server_url,
        GITHUB_RUN_ID="4711",
        GITHUB_OUTPUT=str(job / "output"),
        GITHUB_STEP_SUMMARY=str(job / "summary.md"),
        RUNNER_TEMP=str(job),
        GITHUB_TOKEN=token,
        INPUT_COSTS="false",
    )
    for name, value in (inputs or {}).items():
        env["INPUT_" + name.upper().replace("-", "_")] = value
    done = subprocess.run(
        [sys.executable, str(ACTION / "entrypoint.py")],
        cwd=checkout_folder, capture_output=True, text=True, encoding="utf-8", env=env,
        timeout=120, check=False,
    )  # fmt: skip
    summary = job / "summary.md"
    return ActionRun(
        done.returncode,
        done.stdout,
        done.stderr,
        read_outputs(job / "output"),
        summary.read_text(encoding="utf-8") if summary.exists() else "",
    )


def read_outputs(path: Path) -> dict[str, str]:
    """Step outputs as the runner reads $GITHUB_OUTPUT: `name=value` or `name<<DELIMITER`."""
    outputs: dict[str, str] = {}
    if not path.exists():
        return outputs
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line:
            name, _, delimiter = line.partition("<<")
            value = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, _, value_text = line.partition("=")
            outputs[name] = value_text
    return outputs
