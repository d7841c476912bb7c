"""The action's main step (action/entrypoint.py) in checkouts made the way actions/checkout
makes them, against a real bare origin holding GitHub's pull request refs, and a loopback
server that answers like GitHub's API: the history it needs fetched, the pull request's own
rows reported, the job summary, one comment updated in place, and the report's exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.git_http import basic, serving_git
from testing.github_api import FORK_TOKEN, WRITE_TOKEN, FakeGitHub, serving
from testing.pull_requests import (
    Origin,
    checkout,
    make_origin,
    pull_request_event,
    run_entrypoint,
)
from testing.util import HEADER, git

pytestmark = pytest.mark.slow  # real git clones and the real command, several per test

MARKER = "<!-- telemetry-csv-report -->"


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    """main with one row; `feature` branched from it with 70 commits, two of them rows; then
    main moved on without touching the log (so GitHub's test merge is clean)."""
    origin = make_origin(tmp_path)
    git(origin.work, "checkout", "-q", "-b", "feature")
    origin.log("first on the branch")
    origin.commit_empty(68)
    origin.log("second on the branch")
    origin.push("feature")
    git(origin.work, "checkout", "-q", "main")
    (origin.work / "README.md").write_text("later on main\n")
    git(origin.work, "add", "README.md")
    git(origin.work, "commit", "-q", "-m", "main moves on")
    origin.push("main")
    git(origin.work, "checkout", "-q", "feature")
    return origin


def pr_checkout(origin: Origin, tmp_path: Path, name: str = "workspace") -> Path:
    return checkout(origin, "refs/pull/7/merge", tmp_path / name)


def ours(api: FakeGitHub) -> list[dict[str, object]]:
    return [c for c in api.comments.get(7, []) if str(c["body"]).startswith(MARKER)]


def test_a_pull_request_gets_its_rows_in_the_summary_and_one_comment(
    origin: Origin, tmp_path: Path
) -> None:
    head, base = origin.open_pull_request(7, "feature")
    workspace = pr_checkout(origin, tmp_path)
    assert git(workspace, "rev-parse", "--is-shallow-repository").strip() == "true"
    with serving() as api:
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                             api_url=api.url, token=WRITE_TOKEN)  # fmt: skip
        assert run.status == 0, run.log
        # The head is 70 commits past the merge base: 50 were not enough, 100 were.
        assert "fetching 100 commits of history to find the merge base" in run.log
        merge_base = git(workspace, "merge-base", base, head).strip()
        expected_range = f"{merge_base[:12]}..{head[:12]}"
        assert run.outputs["range"] == expected_range
        assert f"- Source: rows added in {expected_range}, 2 rows" in run.summary
        assert "| Runs              |                       2 |" in run.summary
        [comment] = ours(api)
        body = str(comment["body"])
        assert f"rows added in {expected_range}, 2 rows" in body
        assert (
            f"<sub>As of {head[:12]} ([workflow run](https://github.com/octo/widgets/actions/runs/4711)). telemetry-csv updates this comment in place on every push.</sub>"
            in body
        )
        assert run.outputs["exit-code"] == "0" and run.outputs["comment-url"].endswith(
            f"#issuecomment-{comment['id']}"
        )
        assert Path(run.outputs["report"]).read_text(encoding="utf-8") in body

        # Another push to the pull request: a third row, a new test merge, a new checkout.
        origin.log("third on the branch")
        origin.push("feature")
        head, base = origin.open_pull_request(7, "feature")
        workspace = pr_checkout(origin, tmp_path, "workspace-2")
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                             api_url=api.url, token=WRITE_TOKEN)  # fmt: skip
        assert run.status == 0, run.log
        [updated] = ours(api)
        assert updated["id"] == comment["id"] and ", 3 rows" in str(updated["body"])
        assert len(api.calls("POST")) == 1 and len(api.calls("PATCH")) == 1


def test_a_fork_without_write_permission_gets_the_summary_and_a_notice(
    origin: Origin, tmp_path: Path
) -> None:
    head, base = origin.open_pull_request(7, "feature")
    git(origin.bare, "update-ref", "-d", "refs/heads/feature")  # the head is only in refs/pull
    workspace = pr_checkout(origin, tmp_path)
    with serving() as api:
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base, fork=True),
                             api_url=api.url, token=FORK_TOKEN)  # fmt: skip
        assert run.status == 0, run.log
        assert ", 2 rows" in run.summary
        assert (
            "::notice title=telemetry-csv action::no pull request comment: this token may not"
            in run.stdout
        )
        assert api.comments == {} and FORK_TOKEN not in run.log


def test_invalid_rows_fail_the_step_after_the_comment_says_why(
    origin: Origin, tmp_path: Path
) -> None:
    # A shard of its own, as `log` would start one, holding a row `log` would refuse.
    shard = origin.work / ".telemetry" / "usage.rows" / "20261120T100000Z-00000000000000aa.csv"
    shard.write_text(HEADER + "2026-11-20T10:00:00Z,claude-3-opus,10,20,maybe,execute,100,\n")
    git(origin.work, "add", "-A", ".telemetry")
    git(origin.work, "commit", "-q", "-m", "a row by hand")
    origin.push("feature")
    head, base = origin.open_pull_request(7, "feature")
    workspace = pr_checkout(origin, tmp_path)
    with serving() as api:
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                             api_url=api.url, token=WRITE_TOKEN)  # fmt: skip
    assert run.status == 1, run.log
    assert run.outputs["exit-code"] == "1" and run.outputs["report"] == ""
    [comment] = ours(api)
    body = str(comment["body"])
    assert "`telemetry-csv report` ended with exit status 1" in body
    assert "task_success: 'maybe' is not allowed; expected true or false" in body
    assert "ended with exit status 1" in run.summary and "'maybe'" in run.summary
    assert (
        "::error title=telemetry-csv action::telemetry-csv report ended with exit status 1: "
        in run.stdout
    )


@pytest.mark.parametrize(
    ("args", "shown", "hidden"),
    [
        ("--days 0 --weeks 0", "### By model", "### Daily"),
        ("--model 'claude-3-opus' --charts", "```mermaid", "No rows"),
    ],
    ids=["hide-calendar", "filter-and-charts"],
)
def test_args_reach_the_report(
    origin: Origin, tmp_path: Path, args: str, shown: str, hidden: str
) -> None:
    head, base = origin.open_pull_request(7, "feature")
    workspace = pr_checkout(origin, tmp_path)
    run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                         inputs={"args": args, "comment": "false"})  # fmt: skip
    assert run.status == 0, run.log
    assert shown in run.summary and hidden not in run.summary
    assert "comment: false, so no pull request comment" in run.log


@pytest.mark.parametrize(
    "args",
    ["--format json", "-o out.md", "--output=out.md", "--rang main..HEAD", "--github-summary"],
)
def test_args_the_action_sets_itself_are_refused(origin: Origin, tmp_path: Path, args: str) -> None:
    head, base = origin.open_pull_request(7, "feature")
    workspace = pr_checkout(origin, tmp_path)
    run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                         inputs={"args": args})  # fmt: skip
    assert run.status == 2
    assert "::error title=telemetry-csv action::input args: " in run.stdout
    assert "is not allowed; the action sets --range, --output, --format" in run.stdout


def test_costs_on_adds_estimates(origin: Origin, tmp_path: Path) -> None:
    head, base = origin.open_pull_request(7, "feature")
    workspace = pr_checkout(origin, tmp_path)
    event = pull_request_event(7, head, base)
    off = run_entrypoint(workspace, "pull_request", event, inputs={"comment": "false"})
    on = run_entrypoint(workspace, "pull_request", event,
                        inputs={"comment": "false", "costs": "true"})  # fmt: skip
    assert off.status == on.status == 0, off.log + on.log
    assert "Estimated cost" not in off.summary and "Estimated cost" in on.summary


@pytest.mark.parametrize("depth", [1, None], ids=["shallow", "full-history"])
def test_a_push_reports_what_it_added(origin: Origin, tmp_path: Path, depth: int | None) -> None:
    before = origin.tip("refs/heads/feature")
    origin.log("pushed")
    after = origin.push("feature")
    workspace = checkout(origin, "refs/heads/feature", tmp_path / "workspace", depth)
    payload = {"ref": "refs/heads/feature", "before": before, "after": after,
               "repository": {"full_name": "octo/widgets", "default_branch": "main"}}  # fmt: skip
    run = run_entrypoint(workspace, "push", payload)
    assert run.status == 0, run.log
    assert run.outputs["range"] == f"{before[:12]}..{after[:12]}"
    assert ", 1 row" in run.summary and "not a pull request" in run.log


def test_a_new_branch_is_compared_with_the_default_branch(origin: Origin, tmp_path: Path) -> None:
    after = origin.tip("refs/heads/feature")
    workspace = checkout(origin, "refs/heads/feature", tmp_path / "workspace")
    payload = {"ref": "refs/heads/feature", "before": "0" * 40, "after": after, "created": True,
               "repository": {"full_name": "octo/widgets", "default_branch": "main"}}  # fmt: skip
    run = run_entrypoint(workspace, "push", payload)
    assert run.status == 0, run.log
    assert ", 2 rows" in run.summary  # the branch's rows, not main's


def test_the_first_push_of_the_default_branch_reports_the_whole_log(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    after = origin.tip("refs/heads/main")
    workspace = checkout(origin, "refs/heads/main", tmp_path / "workspace")
    payload = {"ref": "refs/heads/main", "before": "0" * 40, "after": after,
               "repository": {"full_name": "octo/widgets", "default_branch": "main"}}  # fmt: skip
    run = run_entrypoint(workspace, "push", payload)
    assert run.status == 0, run.log
    assert run.outputs["range"] == "" and "the whole log" in run.log
    assert "| Runs              |                       1 |" in run.summary


def test_a_deleted_branch_has_nothing_to_report(origin: Origin, tmp_path: Path) -> None:
    workspace = checkout(origin, "refs/heads/main", tmp_path / "workspace")
    payload = {"ref": "refs/heads/gone", "before": origin.tip("refs/heads/feature"),
               "after": "0" * 40, "deleted": True}  # fmt: skip
    run = run_entrypoint(workspace, "push", payload)
    assert run.status == 0 and "the push deleted refs/heads/gone" in run.stdout


@pytest.mark.parametrize("base", ["main", "origin/main", "refs/heads/main"])
def test_the_base_input_on_any_event(origin: Origin, tmp_path: Path, base: str) -> None:
    workspace = checkout(origin, "refs/heads/feature", tmp_path / "workspace")
    run = run_entrypoint(workspace, "workflow_dispatch", {}, inputs={"base": base})
    assert run.status == 0, run.log
    assert ", 2 rows" in run.summary


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("--upload-pack=evil", "input base: '--upload-pack=evil' is not allowed"),
        ("no-such-branch", "cannot fetch 'no-such-branch' from origin"),
    ],
    ids=["option-like", "unknown"],
)
def test_a_base_that_cannot_be_used(
    origin: Origin, tmp_path: Path, base: str, message: str
) -> None:
    workspace = checkout(origin, "refs/heads/feature", tmp_path / "workspace")
    run = run_entrypoint(workspace, "workflow_dispatch", {}, inputs={"base": base})
    assert run.status in (2, 4) and message in run.stdout, run.log


# A private repository: GitHub serves its history only with the token. actions/checkout with
# `persist-credentials: false` (what zizmor asks for) leaves none behind for the action's
# fetches, so the action hands git the token itself, for that server only.


@pytest.mark.parametrize("kept", [False, True], ids=["credentials-not-kept", "credentials-kept"])
def test_a_private_repository_is_fetched_with_the_token(
    origin: Origin, tmp_path: Path, kept: bool
) -> None:
    head, base = origin.open_pull_request(7, "feature")
    with serving_git(tmp_path, WRITE_TOKEN) as server:
        url = f"{server.url}/origin.git"
        workspace = checkout(origin, "refs/pull/7/merge", tmp_path / "workspace",
                             url=url, header=basic(WRITE_TOKEN))  # fmt: skip
        if kept:  # as actions/checkout leaves it with persist-credentials: true
            git(workspace, "config", f"http.{server.url}/.extraheader",
                f"AUTHORIZATION: {basic(WRITE_TOKEN)}")  # fmt: skip
        before = len(server.requests)
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                             token=WRITE_TOKEN, server_url=server.url,
                             inputs={"comment": "false"})  # fmt: skip
        assert run.status == 0, run.log
        assert ", 2 rows" in run.summary
        fetches = server.requests[before:]
        assert fetches and all(len(sent) == 1 for _, _, sent in fetches)  # never two headers
    config = (workspace / ".git" / "config").read_text()
    assert (WRITE_TOKEN in config or basic(WRITE_TOKEN)[6:] in config) == kept
    assert WRITE_TOKEN not in run.log and basic(WRITE_TOKEN)[6:] not in run.log


def test_a_private_repository_without_a_token_fails_clearly(origin: Origin, tmp_path: Path) -> None:
    head, base = origin.open_pull_request(7, "feature")
    with serving_git(tmp_path, WRITE_TOKEN) as server:
        workspace = checkout(origin, "refs/pull/7/merge", tmp_path / "workspace",
                             url=f"{server.url}/origin.git", header=basic(WRITE_TOKEN))  # fmt: skip
        run = run_entrypoint(workspace, "pull_request", pull_request_event(7, head, base),
                             server_url=server.url, inputs={"comment": "false"})  # fmt: skip
    assert run.status == 4, run.log
    assert (
        f"::error title=telemetry-csv action::cannot fetch '{head}' from origin: git fetch failed"
        in run.stdout
    )
