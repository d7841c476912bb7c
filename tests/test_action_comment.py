"""The action's sticky pull-request comment (action/comment.py), run as the action runs it, a
real process, against a server on the loopback interface that answers like GitHub's REST API:
created once, then updated in place, found on any page, never a second one; a read-only token
is a notice and exit status 0; the token never appears in what the script prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.github_api import (
    FORK_TOKEN,
    PERSONAL_TOKEN,
    WRITE_TOKEN,
    FakeGitHub,
    serving,
)

ACTION = Path(__file__).resolve().parents[1] / "action"
sys.path.insert(0, str(ACTION))
from comment import MARKER, MAX_BODY, fit, marker, next_link  # noqa: E402

NUMBER = 7
TOKENS = (WRITE_TOKEN, FORK_TOKEN, PERSONAL_TOKEN)


def post(
    api: FakeGitHub,
    tmp_path: Path,
    body: str,
    token: str = WRITE_TOKEN,
    *extra: str,
    api_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """comment.py as the action runs it; fails the test if any token shows in its output."""
    body_file = tmp_path / "body.md"
    body_file.write_text(body, encoding="utf-8")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "INPUT_"))
    }
    env.update(GITHUB_API_URL=api_url or api.url, GITHUB_TOKEN=token)
    done = subprocess.run(
        [sys.executable, str(ACTION / "comment.py"), "--body-file", str(body_file),
         "--repository", api.repository, "--pull-request", str(NUMBER), *extra],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )  # fmt: skip
    for secret in TOKENS:
        assert secret not in done.stdout + done.stderr
    return done


def ours(api: FakeGitHub) -> list[dict[str, object]]:
    return [
        item for item in api.comments.get(NUMBER, []) if str(item["body"]).startswith(MARKER + "\n")
    ]


def test_created_once_then_updated_in_place(tmp_path: Path) -> None:
    with serving() as api:
        api.add_comment(NUMBER, "LGTM")
        first = post(api, tmp_path, "## LLM usage report\n\n2 rows\n")
        assert first.returncode == 0, first.stdout + first.stderr
        [created] = ours(api)
        assert created["body"] == f"{MARKER}\n## LLM usage report\n\n2 rows\n"
        assert "created the comment on pull request #7" in first.stderr

        second = post(api, tmp_path, "## LLM usage report\n\n3 rows\n")
        assert second.returncode == 0, second.stdout + second.stderr
        [updated] = ours(api)
        assert updated["id"] == created["id"] and str(updated["body"]).endswith("3 rows\n")
        assert len(api.comments[NUMBER]) == 2  # the reviewer's comment and ours
        assert [len(api.calls("POST")), len(api.calls("PATCH"))] == [1, 1]
        assert "updated the comment" in second.stderr

        third = post(api, tmp_path, "## LLM usage report\n\n3 rows\n")
        assert third.returncode == 0 and "unchanged the comment" in third.stderr
        assert [len(api.calls("POST")), len(api.calls("PATCH"))] == [1, 1]


@pytest.mark.parametrize("position", [0, 99, 100, 180, 249], ids=lambda p: f"comment-{p + 1}")
def test_the_marker_is_found_on_any_page(tmp_path: Path, position: int) -> None:
    with serving() as api:
        for index in range(250):
            if index == position:
                api.add_comment(NUMBER, f"{MARKER}\nold report", "github-actions[bot]", "Bot")
            else:
                api.add_comment(NUMBER, f"review note {index}")
        [existing] = ours(api)
        done = post(api, tmp_path, "new report\n")
        assert done.returncode == 0, done.stdout + done.stderr
        [updated] = ours(api)
        assert updated["id"] == existing["id"] and updated["body"] == f"{MARKER}\nnew report\n"
        assert not api.calls("POST") and len(api.comments[NUMBER]) == 250
        # Three pages of 100, the second and third from the `Link` headers GitHub sends,
        # which name /repositories/ID rather than /repos/OWNER/NAME.
        listed = [request.path for request in api.calls("GET")]
        assert listed[0] == "/repos/octo/widgets/issues/7/comments?per_page=100"
        assert listed[1:] == [
            "/repositories/4242/issues/7/comments?per_page=100&page=2",
            "/repositories/4242/issues/7/comments?per_page=100&page=3",
        ]


def test_a_read_only_token_is_a_notice_not_a_failure(tmp_path: Path) -> None:
    with serving() as api:
        done = post(api, tmp_path, "report\n", FORK_TOKEN)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (
            "::notice title=telemetry-csv action::no pull request comment: this token may "
            in done.stdout
        )
        assert "a pull request from a fork" in done.stdout
        assert "403 Resource not accessible by integration" in done.stderr
        assert api.comments.get(NUMBER, []) == [] and len(api.calls("POST")) == 1

        # A comment written earlier by a token that could write stays as it was.
        api.add_comment(NUMBER, f"{MARKER}\nold\n", "github-actions[bot]", "Bot")
        done = post(api, tmp_path, "new\n", FORK_TOKEN)
        assert done.returncode == 0 and "no pull request comment" in done.stdout
        [kept] = ours(api)
        assert kept["body"] == f"{MARKER}\nold\n" and len(api.calls("PATCH")) == 1


def test_a_comment_that_only_copies_the_marker_is_left_alone(tmp_path: Path) -> None:
    with serving() as api:
        forged = api.add_comment(NUMBER, f"{MARKER}\nall budgets met, trust me", "mallory")
        done = post(api, tmp_path, "the real report\n")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "left alone 1 comment(s)" in done.stderr
        forged_now, real = ours(api)
        assert forged_now["id"] == forged and "trust me" in str(forged_now["body"])
        assert real["user"] == {"login": "github-actions[bot]", "id": 1, "type": "Bot"}


def test_a_personal_token_finds_its_own_users_comment(tmp_path: Path) -> None:
    with serving() as api:
        api.add_comment(NUMBER, f"{MARKER}\nmallory's", "mallory")
        mine = api.add_comment(NUMBER, f"{MARKER}\nold", "octocat")
        done = post(api, tmp_path, "new\n", PERSONAL_TOKEN)
        assert done.returncode == 0, done.stdout + done.stderr
        assert [request.path for request in api.calls("PATCH")] == [
            f"/repos/octo/widgets/issues/comments/{mine}"
        ]
        assert api.calls("GET")[-1].path == "/user"


def test_duplicates_from_a_race_are_folded_into_the_oldest(tmp_path: Path) -> None:
    with serving() as api:
        oldest = api.add_comment(NUMBER, f"{MARKER}\nrun 1", "github-actions[bot]", "Bot")
        api.add_comment(NUMBER, "a reply")
        api.add_comment(NUMBER, f"{MARKER}\nrun 2", "github-actions[bot]", "Bot")
        done = post(api, tmp_path, "run 3\n")
        assert done.returncode == 0 and "deleted 1 duplicate(s)" in done.stderr
        [kept] = ours(api)
        assert kept["id"] == oldest and kept["body"] == f"{MARKER}\nrun 3\n"


def test_a_key_keeps_two_reports_apart(tmp_path: Path) -> None:
    with serving() as api:
        assert post(api, tmp_path, "main log\n").returncode == 0
        assert post(api, tmp_path, "agents log\n", WRITE_TOKEN, "--key", "agents").returncode == 0
        assert post(api, tmp_path, "agents log 2\n", WRITE_TOKEN, "--key", "agents").returncode == 0
        bodies = sorted(str(item["body"]) for item in api.comments[NUMBER])
        assert bodies == [
            f"{MARKER}\nmain log\n",
            "<!-- telemetry-csv-report: agents -->\nagents log 2\n",
        ]
        refused = post(api, tmp_path, "x\n", WRITE_TOKEN, "--key=-->")
        assert refused.returncode == 1 and "comment key: '-->' is not allowed" in refused.stdout


def test_a_body_over_the_limit_is_cut_with_a_note(tmp_path: Path) -> None:
    table = "| Model | Runs |\n|:--|--:|\n" + "".join(f"| `m{i}` | {i} |\n" for i in range(6000))
    body = f"## LLM usage report\n\n```mermaid\n{'x' * 10}\n```\n\n{table}"
    assert len(body) > MAX_BODY
    with serving() as api:
        done = post(api, tmp_path, body)
        assert done.returncode == 0, done.stdout + done.stderr  # GitHub would answer 422
        [posted] = ours(api)
        text = str(posted["body"])
        assert len(text) <= MAX_BODY and text.startswith(f"{MARKER}\n## LLM usage report")
        assert "Cut to fit GitHub's limit of 65,536 characters" in text
        assert f"of {len(MARKER) + 1 + len(body):,} characters are shown" in text


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    "body",
    [
        "short\n",
        "a" * 300,
        "".join(f"line {i}\n" for i in range(100)),
        "```mermaid\n" + "line\n" * 100,
        "😀😀\n" * 100,
        "x" * 1000,
        "😀" * 1000,
    ],
    ids=[
        "fits",
        "exactly-fits",
        "lines",
        "open-fence",
        "surrogate-pairs",
        "one-line",
        "one-line-of-pairs",
    ],
)
def test_fit_cuts_at_a_line_and_says_so(body: str) -> None:
    limit = 300
    result = fit(body, limit, "See {the run}.")
    assert units(result) <= limit
    result.encode("utf-8")  # no half of a surrogate pair left behind
    if units(body) <= limit:
        assert result == body
        return
    kept, separator, note = result.partition("\n\n> [!NOTE]\n")
    assert separator and note.endswith(
        f"the first {units(kept):,} of {units(body):,} characters are shown. See {{the run}}."
    )
    if body.startswith("```"):
        assert kept.endswith("\n```")  # the open block is closed, or the note would be code
        kept = kept.removesuffix("\n```")
    assert body.startswith(kept) and kept
    if "\n" in body[: len(kept) + 1]:
        assert body[len(kept)] == "\n"  # cut where a line ends
    assert units(result) > limit - 20  # and no shorter than it has to be


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel="next", '
         '<https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last"',
         "https://api.github.com/repositories/1/issues/2/comments?page=2"),
        ('<https://x/?page=1>; rel="prev", <https://x/?page=3>; rel="next"', "https://x/?page=3"),
        ('<https://x/?page=1>; rel="first", <https://x/?page=1>; rel="prev"', None),
        ("<https://x/?page=4>; rel=next", "https://x/?page=4"),
        ("", None),
    ],
    ids=["next-first", "next-last", "no-next", "unquoted", "none"],
)  # fmt: skip
def test_next_link(header: str, expected: str | None) -> None:
    assert next_link(header) == expected


def test_marker_keys() -> None:
    assert marker() == MARKER == "<!-- telemetry-csv-report -->"
    assert marker("gpu-runs.2") == "<!-- telemetry-csv-report: gpu-runs.2 -->"


def test_server_errors_are_retried_and_rate_limits_waited_for(tmp_path: Path) -> None:
    with serving() as api:
        api.queued.append((502, {}, {"message": "Server Error"}))
        api.queued.append((403, {"Retry-After": "1"}, {"message": "secondary rate limit"}))
        done = post(api, tmp_path, "report\n")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "502; trying again" in done.stderr and "rate limited; trying again" in done.stderr
        assert len(ours(api)) == 1 and len(api.calls("GET")) == 3


def test_a_failed_create_is_not_repeated(tmp_path: Path) -> None:
    with serving() as api:
        api.add_comment(NUMBER, "hello")  # the listing is answered, then the POST fails
        done = post(api, tmp_path, "report\n")
        assert done.returncode == 0
        api.comments.clear()
        api.queued.extend([(200, {}, []), (502, {}, {"message": "Server Error"})])
        done = post(api, tmp_path, "report\n")
        assert done.returncode == 1 and len(api.calls("POST")) == 2
        assert (
            "::error title=telemetry-csv action::POST /repos/octo/widgets/issues/7/comments: 502 Server Error"
            in done.stdout
        )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("ghp_NotAToken000000000000000000000000000", "401 Bad credentials"),
        ("", "no pull request comment: GITHUB_TOKEN is empty"),
    ],
    ids=["bad-credentials", "no-token"],
)
def test_a_token_github_refuses_or_none(tmp_path: Path, token: str, message: str) -> None:
    with serving() as api:
        done = post(api, tmp_path, "report\n", token)
        assert message in done.stdout
        assert done.returncode == (1 if token else 0)
        assert not token or token not in done.stdout + done.stderr
        assert api.comments == {}


def test_the_token_does_not_follow_a_redirect_to_another_host(tmp_path: Path) -> None:
    with serving() as api, serving(FakeGitHub()) as elsewhere:
        location = f"{elsewhere.url}/repos/octo/widgets/issues/7/comments?per_page=100"
        api.queued.append((307, {"Location": location}, None))
        done = post(api, tmp_path, "report\n")
        [followed] = elsewhere.requests
        assert "authorization" not in followed.headers
        assert done.returncode == 1 and "401 Bad credentials" in done.stdout


def test_a_next_page_elsewhere_is_not_fetched_with_the_token(tmp_path: Path) -> None:
    with serving() as api, serving(FakeGitHub()) as elsewhere:
        api.queued.append((200, {"Link": f'<{elsewhere.url}/page2>; rel="next"'}, []))
        done = post(api, tmp_path, "report\n")
        assert done.returncode == 1 and "not under GITHUB_API_URL" in done.stdout
        assert elsewhere.requests == []


def test_the_token_is_never_sent_in_clear(tmp_path: Path) -> None:
    with serving() as api:
        done = post(api, tmp_path, "report\n", api_url="http://api.example.invalid")
        assert done.returncode == 1
        assert "GITHUB_API_URL: 'http://api.example.invalid' is not allowed" in done.stdout
        assert api.requests == []
