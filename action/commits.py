"""Which commits the action compares, and fetching just enough history to compare them.

The rows a pull request added are those at its head less those at the merge base of its head
and its base: rows the base branch gained meanwhile are not the pull request's. Which commits
those are depends on the event:

- `pull_request`, `pull_request_target`: the pull request's head and base commits (not the
  merge commit actions/checkout checks out, which would mix in the base branch's new rows);
- `merge_group`: the group's head and base;
- `push`: the commit pushed and the one the branch pointed at before; a new branch is compared
  with the default branch, and the first push of the default branch reports the whole log;
- anything else (`workflow_dispatch`, `schedule`, ...): the whole log at the commit checked
  out, unless the `base` input names something to compare with.

The `base` input overrides the event's base. actions/checkout fetches one commit by default
(and a fork's head is not a branch of this repository at all), so the commits are fetched from
`origin` by id (GitHub serves any commit reachable from its refs, `refs/pull/N/head` included),
then history is deepened, doubling, until their merge base is there; a full clone needs none
of this. When the checkout did not keep its credentials (`persist-credentials: false`), the
token is handed to git for the server's URL only, through the environment: never on a command
line, never written to `.git/config`.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow import ActionError, say

NO_COMMIT = re.compile(r"0+")  # what `before` or `after` is for a branch created or deleted
FIRST_DEPTH = 50
MAX_DEPTH = 6400  # beyond this, the rest of the history in one go (--unshallow)


class NothingToReport(Exception):
    """The event names no commit to report on (a push that deleted a branch)."""


@dataclass(frozen=True)
class Wanted:
    """What to compare, as the event and inputs say it, before anything is fetched."""

    head: str  # a commit id or a name to fetch
    base: str | None  # None: no base, the whole log at `head` is reported
    pull_request: int | None
    about: str  # for the log: "pull request #12", "push to refs/heads/main", ...


@dataclass(frozen=True)
class Compared:
    """Commits present in the repository: `base` is the merge base (or None: everything)."""

    head: str
    base: str | None

    def range(self, git: Git) -> str | None:
        """`BASE..HEAD` for `telemetry-csv report --range`, in short commit ids."""
        if self.base is None:
            return None
        return f"{git.short(self.base)}..{git.short(self.head)}"


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not NO_COMMIT.fullmatch(value) else None


def _get(payload: Mapping[str, Any], *path: str) -> Any:
    value: Any = payload
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def wanted(event_name: str, payload: Mapping[str, Any], sha: str, base_input: str) -> Wanted:
    """The head and base the event names (the `base` input winning); ActionError when the
    event names no commit to report on."""
    base: str | None = None
    number: int | None = None
    head = sha
    if event_name in ("pull_request", "pull_request_target"):
        number_value = _get(payload, "pull_request", "number")
        number = number_value if isinstance(number_value, int) else None
        head = _sha(_get(payload, "pull_request", "head", "sha")) or sha
        base = _sha(_get(payload, "pull_request", "base", "sha"))
        about = f"pull request #{number}"
    elif event_name == "merge_group":
        head = _sha(_get(payload, "merge_group", "head_sha")) or sha
        base = _sha(_get(payload, "merge_group", "base_sha"))
        about = "merge group"
    elif event_name == "push":
        ref = str(payload.get("ref") or "")
        after = payload.get("after")
        if isinstance(after, str) and NO_COMMIT.fullmatch(after):
            raise NothingToReport(f"the push deleted {ref}: there is no commit to report on")
        head = _sha(after) or sha
        base = _sha(payload.get("before"))
        default = _get(payload, "repository", "default_branch")
        if base is None and isinstance(default, str) and ref != f"refs/heads/{default}":
            base = f"refs/heads/{default}"  # a new branch: what it added to the default branch
        about = f"push to {ref}" if ref else "push"
    else:
        about = event_name or "this run"
    if base_input:
        if base_input.startswith("-") or not base_input.isprintable() or " " in base_input:
            raise ActionError(
                f"input base: {base_input!r} is not allowed; expected a commit id or a branch "
                "name (main, origin/main, refs/heads/main)"
            )
        base = base_input
    if not head:
        raise ActionError("no commit to report on: GITHUB_SHA is not set and the event names none")
    return Wanted(head=head, base=base, pull_request=number, about=about)


class Git:
    """git in the checkout, with the token (when needed) for fetching from GitHub."""

    def __init__(self, cwd: Path, token: str = "", server_url: str = ""):
        self.cwd = cwd
        self.env = dict(os.environ)
        self.env["GIT_TERMINAL_PROMPT"] = "0"  # a missing credential fails, never waits
        self.env.update(self._credentials(token, server_url))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
        if check and done.returncode != 0:
            words = done.stderr.strip().splitlines()
            raise ActionError(f"git {args[0]} failed: {words[-1] if words else done.returncode}")
        return done

    def commit(self, name: str) -> str | None:
        """The commit `name` resolves to here, if it does."""
        done = self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def short(self, commit: str) -> str:
        return self.run("rev-parse", "--short=12", commit).stdout.strip()

    def shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").stdout.strip() == "true"

    def merge_base(self, base: str, head: str) -> str | None:
        done = self.run("merge-base", base, head, check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def fetch(self, *refs: str, depth: int | None = None, unshallow: bool = False) -> None:
        options = ["--no-tags", "--quiet"]
        if unshallow:
            options.append("--unshallow")
        elif depth is not None:
            options.append(f"--depth={depth}")
        self.run("fetch", *options, "origin", *refs)

    def _credentials(self, token: str, server_url: str) -> dict[str, str]:
        """git configuration, through the environment, that sends the token to the server
        the checkout came from, unless the checkout kept credentials of its own (two
        Authorization headers would be refused)."""
        if not token or not server_url:
            return {}
        server = server_url.rstrip("/") + "/"
        url = self.run("remote", "get-url", "origin", check=False).stdout.strip()
        if not url.startswith(server):
            return {}
        if self.run(
            "config", "--get-urlmatch", "http.extraheader", url, check=False
        ).stdout.strip():
            return {}
        key = f"http.{server}.extraheader"
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
        count = int(self.env.get("GIT_CONFIG_COUNT", "0") or "0")
        return {
            "GIT_CONFIG_COUNT": str(count + 1),
            f"GIT_CONFIG_KEY_{count}": key,
            f"GIT_CONFIG_VALUE_{count}": f"AUTHORIZATION: basic {basic}",
        }


def present(git: Git, name: str) -> str:
    """The commit `name` names, fetched from origin if it is not here yet (`origin/NAME` is
    fetched as the remote's NAME)."""
    found = git.commit(name)
    if found is not None:
        return found
    try:
        git.fetch(name.removeprefix("origin/"), depth=FIRST_DEPTH if git.shallow() else None)
    except ActionError as error:
        raise ActionError(f"cannot fetch {name!r} from origin: {error}") from None
    found = git.commit("FETCH_HEAD")
    if found is None:
        raise ActionError(f"{name!r} is not a commit")
    return found


def compare(git: Git, wanted: Wanted) -> Compared:
    """Fetch the head, the base and their merge base as needed; the commits to compare."""
    head = present(git, wanted.head)
    if wanted.base is None:
        return Compared(head=head, base=None)
    base = present(git, wanted.base)
    depth = FIRST_DEPTH
    while True:
        found = git.merge_base(base, head)
        if found is not None:
            return Compared(head=head, base=found)
        if not git.shallow():
            say(
                f"{git.short(base)} and {git.short(head)} have no common history: "
                "comparing with the base itself"
            )
            return Compared(head=head, base=base)
        depth *= 2
        if depth > MAX_DEPTH:
            say("fetching the rest of the history to find the merge base")
            git.fetch(base, head, unshallow=True)
        else:
            say(f"fetching {depth} commits of history to find the merge base")
            git.fetch(base, head, depth=depth)
