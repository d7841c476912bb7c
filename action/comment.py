"""One sticky pull-request comment, created once and then updated in place on every push.

The comment is the one whose body starts with a hidden marker (`<!-- telemetry-csv-report -->`,
or `<!-- telemetry-csv-report: KEY -->` for a second report in the same pull request). It is
looked for on every page of the pull request's comments (GitHub lists at most 100 a page and
names the next page in a `Link: <...>; rel="next"` header), and only among comments the token's
own account could have written: a bot's (GITHUB_TOKEN writes as `github-actions[bot]`, an app
as `NAME[bot]`) or, for a personal token, its user's. Anyone can paste the marker into a comment
of their own; such a comment is never edited. Should two runs race and both create a comment,
the next run keeps the oldest and deletes the other.

A token that may not write (a pull request from a fork gets a read-only GITHUB_TOKEN, and so
does Dependabot's; a workflow without `pull-requests: write` too) ends in one notice and exit
status 0: the report is still in the job summary. Every other failure exits 1, after retrying
what GitHub asks to be retried (rate limits, 5xx answers to requests that are safe to repeat).

The token is read from GITHUB_TOKEN, sent only to GITHUB_API_URL (https, or http on the
loopback interface for tests; never after a redirect to another host) and never printed.
Standard library only (urllib, json): it runs before and apart from the package.

    GITHUB_TOKEN=... python action/comment.py --body-file report.md [--pull-request N]
"""

from __future__ import annotations

import argparse
import email.message
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from workflow import ActionError, annotate, event, say

# GitHub refuses a comment body longer than this: "body is too long (maximum is 65536
# characters)". Measured here in UTF-16 code units, never fewer than characters, so a body that
# fits by either count fits.
MAX_BODY = 65_536
MARKER = "<!-- telemetry-csv-report -->"
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
API_VERSION = "2022-11-28"
USER_AGENT = "telemetry-csv-action"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
# Waits before repeating a request GitHub failed with a 5xx, and the longest wait a rate limit
# may ask for before we give up instead.
BACKOFF = (1.0, 3.0)
MAX_WAIT = 60.0
TIMEOUT = 30.0


class CommentError(ActionError):
    """The comment could not be written for a reason other than the token's permissions."""


class ApiError(CommentError):
    def __init__(self, method: str, path: str, status: int, message: str):
        self.status = status
        self.github_message = message
        super().__init__(f"{method} {path}: {status or 'no answer'} {message}".rstrip())


class NotAllowedError(ApiError):
    """403 without a rate limit: the token may not do this (read-only, or no permission)."""


@dataclass(frozen=True)
class Outcome:
    action: str  # "created", "updated", "unchanged" or "not allowed"
    url: str  # the comment's html_url; "" when not allowed
    removed: int = 0  # duplicate comments of ours deleted


def marker(key: str = "") -> str:
    """The hidden first line that identifies the comment; `key` tells two reports apart."""
    if not key:
        return MARKER
    if not KEY.fullmatch(key):
        raise ActionError(
            f"comment key: {key!r} is not allowed; expected letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return f"<!-- telemetry-csv-report: {key} -->"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_FENCE = re.compile(r" {0,3}(```|~~~)")


def fit(body: str, limit: int = MAX_BODY, where: str = "") -> str:
    """`body` if it fits in a comment; else its first lines, a code block left open closed
    again, and a note saying it was cut (and `where` the whole of it is)."""
    total = _units(body)
    if total <= limit:
        return body

    def note(shown: int) -> str:
        return (
            "\n\n> [!NOTE]\n> Cut to fit GitHub's limit of 65,536 characters for a comment: "
            f"the first {shown:,} of {total:,} characters are shown. {where}".rstrip()
        )

    # The note's number is known last; leave room for its longest value.
    room = limit - _units(note(total)) - _units("\n```")
    kept: list[str] = []
    used = 0
    fence = ""
    for line in body.splitlines(keepends=True):
        size = _units(line)
        if used + size > room:
            if not kept:  # one huge first line: cut inside it, never inside a surrogate pair
                part = line.encode("utf-16-le")[: max(room, 0) * 2].decode("utf-16-le", "ignore")
                kept.append(part)
                used += _units(part)
            break
        kept.append(line)
        used += size
        found = _FENCE.match(line)
        if found:
            fence = "" if fence and found.group(1) == fence else fence or found.group(1)
    text = "".join(kept).rstrip("\n")
    if fence:
        text += "\n" + fence
    return text + note(_units(text))


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """urllib copies every header onto a redirect, Authorization included: keep it only when
    the redirect stays on the same scheme, host and port."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            for name in [name for name in new.headers if name.lower() == "authorization"]:
                del new.headers[name]
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass(frozen=True)
class Response:
    status: int
    headers: email.message.Message
    data: Any


class GitHub:
    """The few REST calls the comment needs, with the token and GitHub's headers."""

    def __init__(self, api_url: str, token: str):
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            raise ActionError(
                f"GITHUB_API_URL: {api_url!r} is not allowed; expected an https:// URL "
                "(the token is never sent in clear)"
            )
        self.api_url = api_url.rstrip("/")
        self.origin = _origin(self.api_url)
        self.token = token
        self.opener = urllib.request.build_opener(_SameOriginRedirects())

    def call(self, method: str, url: str, payload: Mapping[str, Any] | None = None) -> Response:
        """One request; `url` is a path under the API or a URL GitHub gave (a Link)."""
        full = url if "://" in url else self.api_url + url
        path = urllib.parse.urlsplit(full).path
        if _origin(full) != self.origin:
            raise CommentError(f"{method} {full}: not under GITHUB_API_URL; the token stays home")
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        waits = list(BACKOFF)
        while True:
            request = urllib.request.Request(full, data=data, method=method)
            request.add_header("Accept", "application/vnd.github+json")
            request.add_header("X-GitHub-Api-Version", API_VERSION)
            request.add_header("User-Agent", USER_AGENT)
            request.add_header("Authorization", f"Bearer {self.token}")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with self.opener.open(request, timeout=TIMEOUT) as answer:
                    body = answer.read()
                    return Response(answer.status, answer.headers, _json(body))
            except urllib.error.HTTPError as error:
                message = _message(error.read())
                wait = _rate_limit_wait(error.code, error.headers)
                if wait is not None:
                    if wait > MAX_WAIT or not waits:
                        raise ApiError(
                            method, path, error.code, f"{message} (rate limited)"
                        ) from None
                    waits.pop(0)
                    say(f"rate limited; trying again in {wait:.0f}s")
                    time.sleep(wait)
                    continue
                if error.code >= 500 and method != "POST" and waits:
                    # A POST is not repeated: it may have created the comment already.
                    wait = waits.pop(0)
                    say(f"{method} {path}: {error.code}; trying again in {wait:.0f}s")
                    time.sleep(wait)
                    continue
                kind = NotAllowedError if error.code == 403 else ApiError
                raise kind(method, path, error.code, message) from None
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                if method != "POST" and waits:
                    wait = waits.pop(0)
                    say(f"{method} {path}: {reason}; trying again in {wait:.0f}s")
                    time.sleep(wait)
                    continue
                raise ApiError(method, path, 0, f"({reason})") from None

    def pages(self, url: str) -> Iterator[Any]:
        """Every item of a listing, page by page, following `Link: <...>; rel="next"`."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None and next_url not in seen:
            seen.add(next_url)
            answer = self.call("GET", next_url)
            if not isinstance(answer.data, list):
                raise CommentError(f"GET {next_url}: expected a list of comments")
            yield from answer.data
            next_url = next_link(answer.headers.get("Link", ""))

    def own_login(self) -> str | None:
        """The login of the token's user; None for a token that has none (GITHUB_TOKEN's,
        or any app's: those write as a bot)."""
        try:
            answer = self.call("GET", "/user")
        except ApiError as error:
            if error.status in (401, 403, 404):
                return None
            raise
        login = answer.data.get("login") if isinstance(answer.data, dict) else None
        return login if isinstance(login, str) else None


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _message(body: bytes) -> str:
    """GitHub's own words for an error (`{"message": ...}`), else the start of the body."""
    data = _json(body)
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return body[:200].decode("utf-8", "replace").strip()


def _rate_limit_wait(status: int, headers: email.message.Message) -> float | None:
    """Seconds GitHub asks us to wait, if this answer is a rate limit rather than a refusal."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("Retry-After")
    if retry_after is not None and retry_after.strip().isdigit():
        return float(retry_after.strip())
    if headers.get("X-RateLimit-Remaining") == "0":
        reset = headers.get("X-RateLimit-Reset", "")
        return max(float(reset) - time.time(), 0.0) + 1 if reset.isdigit() else MAX_WAIT + 1
    return 60.0 if status == 429 else None


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")


def next_link(header: str) -> str | None:
    """The URL of `rel="next"` in a `Link` header (RFC 8288), if there is one."""
    for found in _LINK.finditer(header):
        for parameter in found.group(2).split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return found.group(1)
    return None


def publish(
    github: GitHub, repository: str, number: int, body: str, key: str = "", where: str = ""
) -> Outcome:
    """Create the pull request's comment, or update ours in place. A `body` too long for a
    comment is cut, with a note that says so and `where` the whole of it can be read."""
    first_line = marker(key)
    body = fit(f"{first_line}\n{body}", where=where)
    base = f"/repos/{repository}/issues"
    mine: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    try:
        for item in github.pages(f"{base}/{number}/comments?per_page=100"):
            if not isinstance(item, dict):
                continue
            text = item.get("body") or ""
            if text != first_line and not text.startswith(first_line + "\n"):
                continue
            user = item.get("user") or {}
            (mine if user.get("type") == "Bot" else others).append(item)
        if others:
            login = github.own_login()
            foreign = [item for item in others if (item.get("user") or {}).get("login") != login]
            mine += [item for item in others if item not in foreign]
            if foreign:
                say(
                    f"left alone {len(foreign)} comment(s) that start with the marker but were "
                    "not written by this token's account"
                )
        mine.sort(key=lambda item: int(item.get("id") or 0))
        if not mine:
            created = github.call("POST", f"{base}/{number}/comments", {"body": body})
            return Outcome("created", _url(created.data))
        kept, *duplicates = mine
        removed = 0
        for duplicate in duplicates:
            github.call("DELETE", f"{base}/comments/{duplicate['id']}")
            removed += 1
        if kept.get("body") == body:
            return Outcome("unchanged", str(kept.get("html_url") or ""), removed)
        updated = github.call("PATCH", f"{base}/comments/{kept['id']}", {"body": body})
        return Outcome("updated", _url(updated.data), removed)
    except NotAllowedError as error:
        say(f"GitHub said: {error}")
        return Outcome("not allowed", "")


def _url(data: Any) -> str:
    return str(data.get("html_url") or "") if isinstance(data, dict) else ""


NOT_ALLOWED = (
    "no pull request comment: this token may not write one (a pull request from a fork, and "
    "Dependabot's, get a read-only GITHUB_TOKEN; otherwise give the job `permissions: "
    "pull-requests: write`). The report is in the job summary."
)


def pull_request_number(payload: Mapping[str, Any]) -> int | None:
    """The pull request the event is about, if any."""
    for name in ("pull_request", "issue"):
        item = payload.get(name)
        if isinstance(item, dict) and isinstance(item.get("number"), int):
            return int(item["number"])
    number = payload.get("number")
    return number if isinstance(number, int) and "pull_request" in payload else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comment.py",
        description="Create or update the one telemetry-csv comment of a pull request. The "
        "token comes from GITHUB_TOKEN, the API from GITHUB_API_URL.",
    )
    parser.add_argument("--body-file", required=True, metavar="FILE", help="Markdown to post")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    parser.add_argument(
        "--pull-request", type=int, metavar="N", help="default: the event's pull request"
    )
    parser.add_argument("--key", default="", help="tells two reports in one pull request apart")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    try:
        repository = args.repository or os.environ.get("GITHUB_REPOSITORY", "")
        number = args.pull_request or pull_request_number(event())
        if not repository:
            raise ActionError("no repository: give --repository or set GITHUB_REPOSITORY")
        if number is None:
            annotate("notice", "no pull request comment: this event is not about a pull request")
            return 0
        if not token:
            annotate("notice", "no pull request comment: GITHUB_TOKEN is empty")
            return 0
        try:
            with open(args.body_file, encoding="utf-8") as stream:
                body = stream.read()
        except OSError as error:
            raise ActionError(f"cannot read {args.body_file}: {error.strerror}") from None
        github = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), token)
        outcome = publish(github, repository, number, body, args.key)
    except ActionError as error:
        annotate("error", redact(str(error), token))
        return 1
    report(outcome, number)
    return 0


def report(outcome: Outcome, number: int) -> None:
    """One line for the log: what happened to the comment."""
    if outcome.action == "not allowed":
        annotate("notice", NOT_ALLOWED)
        return
    removed = f" (deleted {outcome.removed} duplicate(s))" if outcome.removed else ""
    say(f"{outcome.action} the comment on pull request #{number}: {outcome.url}{removed}")


def redact(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


if __name__ == "__main__":
    raise SystemExit(main())
