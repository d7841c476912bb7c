"""A server on the loopback interface that answers the REST calls of the action's comment
script the way GitHub's API does: issue comments listed 100 a page at most, with `Link`
headers that point at `/repositories/{id}/...` (as GitHub's do, not at the `/repos/OWNER/NAME`
URL asked for), created with POST, updated with PATCH, deleted with DELETE; `GET /user`; 401
for an unknown token, 403 "Resource not accessible by integration" for a token that may not
write, 422 for a body over 65,536 characters. Every request is recorded for the tests."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPOSITORY_ID = 4242
NOT_ALLOWED = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
    "status": "403",
}


@dataclass(frozen=True)
class Account:
    login: str
    kind: str  # "Bot" or "User"
    can_write: bool
    has_user: bool  # GET /user answers (a personal token) or is refused (an app's token)


# The tokens the server knows: GITHUB_TOKEN of a branch in the repository, the read-only one of
# a pull request from a fork, and a personal access token.
ACCOUNTS = {
    "ghs_WriteToken0123456789abcdefghijklmnopq": Account("github-actions[bot]", "Bot", True, False),
    "ghs_ForkToken0123456789abcdefghijklmnopqr": Account(
        "github-actions[bot]", "Bot", False, False
    ),
    "ghp_PersonalToken0123456789abcdefghijklmn": Account("octocat", "User", True, True),
}
WRITE_TOKEN, FORK_TOKEN, PERSONAL_TOKEN = ACCOUNTS


@dataclass
class Request:
    method: str
    path: str  # with the query
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    repository: str = "octo/widgets"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # Answers sent, in order, before any real one: (status, headers, JSON body).
    queued: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    next_id: int = 1000
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_comment(
        self, number: int, body: str, login: str = "someone", kind: str = "User"
    ) -> int:
        with self.lock:
            return self._store(number, body, Account(login, kind, True, True))["id"]  # type: ignore[no-any-return]

    def _store(self, number: int, body: str, account: Account) -> dict[str, Any]:
        self.next_id += 1
        comment_id = self.next_id
        owner, name = self.repository.split("/")
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{owner}/{name}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.url}/repos/{self.repository}/issues/{number}",
            "body": body,
            "user": {"login": account.login, "id": 1, "type": account.kind},
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-20T10:00:00Z",
            "author_association": "NONE" if account.kind == "Bot" else "MEMBER",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def find(self, comment_id: int) -> tuple[int, dict[str, Any]] | None:
        for number, items in self.comments.items():
            for item in items:
                if item["id"] == comment_id:
                    return number, item
        return None

    def calls(self, method: str) -> list[Request]:
        return [request for request in self.requests if request.method == method]

    # -- answering -----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append(Request(method, target, headers, body))
        if self.queued:
            return self.queued.pop(0)
        if not headers.get("user-agent"):
            return 403, {}, {"message": "Request forbidden by administrative rules."}
        token = re.sub(r"^(Bearer|token) ", "", headers.get("authorization", ""))
        account = ACCOUNTS.get(token)
        if account is None:
            return 401, {}, {"message": "Bad credentials", "status": "401"}
        parts = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parts.query)
        path = parts.path
        owner_repo = f"/repos/{self.repository}"
        if path == "/user" and method == "GET":
            if not account.has_user:
                return 403, {}, NOT_ALLOWED
            return 200, {}, {"login": account.login, "id": 1, "type": account.kind}
        listing = re.fullmatch(
            rf"(?:{re.escape(owner_repo)}|/repositories/{REPOSITORY_ID})/issues/(\d+)/comments",
            path,
        )
        if listing and method == "GET":
            return self._page(int(listing.group(1)), query)
        if listing and method == "POST" and path.startswith(owner_repo):
            if not account.can_write:
                return 403, {}, NOT_ALLOWED
            problem = self._too_long(body)
            if problem:
                return problem
            with self.lock:
                return 201, {}, self._store(int(listing.group(1)), body["body"], account)
        single = re.fullmatch(rf"{re.escape(owner_repo)}/issues/comments/(\d+)", path)
        if single:
            found = self.find(int(single.group(1)))
            if found is None:
                return 404, {}, {"message": "Not Found", "status": "404"}
            if method in ("PATCH", "DELETE") and not account.can_write:
                return 403, {}, NOT_ALLOWED
            number, comment = found
            if method == "PATCH":
                problem = self._too_long(body)
                if problem:
                    return problem
                comment["body"] = body["body"]
                comment["updated_at"] = "2026-11-20T11:00:00Z"
                return 200, {}, comment
            if method == "DELETE":
                self.comments[number].remove(comment)
                return 204, {}, None
            if method == "GET":
                return 200, {}, comment
        return 404, {}, {"message": "Not Found", "status": "404"}

    def _page(self, number: int, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        items = self.comments.get(number, [])
        pages = max((len(items) + per_page - 1) // per_page, 1)
        chosen = items[(page - 1) * per_page : page * per_page]
        base = f"{self.url}/repositories/{REPOSITORY_ID}/issues/{number}/comments"
        links = []
        if page < pages:
            links.append(f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{base}?per_page={per_page}&page={pages}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?per_page={per_page}&page=1>; rel="first"')
            links.append(f'<{base}?per_page={per_page}&page={page - 1}>; rel="prev"')
        return 200, ({"Link": ", ".join(links)} if links else {}), chosen

    @staticmethod
    def _too_long(body: Any) -> tuple[int, dict[str, str], Any] | None:
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return 422, {}, {"message": 'Invalid request.\n\n"body" wasn\'t supplied.'}
        if len(text) > 65_536:
            return (
                422,
                {},
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                },
            )
        return None


def _handler(api: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra, data = api.answer(self.command, self.path, headers, body)
            payload = b"" if data is None else json.dumps(data).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the requests are recorded; the test's output stays quiet

    return Handler


@contextmanager
def serving(api: FakeGitHub | None = None) -> Iterator[FakeGitHub]:
    """A FakeGitHub answering on 127.0.0.1 (its `url` set) for the length of the block."""
    api = api or FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
