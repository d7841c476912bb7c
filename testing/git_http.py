"""A git server on the loopback interface that, like GitHub for a private repository, serves
fetches only with `Authorization: basic base64(x-access-token:TOKEN)`: real `git http-backend`
behind a small HTTP server, each request's Authorization headers recorded."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def basic(token: str) -> str:
    return "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


@dataclass
class GitServer:
    root: Path  # holds OWNER/NAME.git bare repositories
    token: str
    url: str = ""
    # (method, path, the Authorization headers sent) for every request
    requests: list[tuple[str, str, list[str]]] = field(default_factory=list)


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            sent = self.headers.get_all("Authorization") or []
            server.requests.append((self.command, self.path, sent))
            if [value.lower() for value in sent] != [basic(server.token).lower()]:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = self._body()
            path, _, query = self.path.partition("?")
            # The system's variables (Windows needs SYSTEMROOT to start a process), none of git's.
            env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
            env |= {
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            }
            done = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            )
            ends = [(done.stdout.find(mark), mark) for mark in (b"\r\n\r\n", b"\n\n")]
            end, mark = min((found for found in ends if found[0] >= 0), default=(0, b""))
            head, payload = done.stdout[:end], done.stdout[end + len(mark) :]
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving_git(root: Path, token: str) -> Iterator[GitServer]:
    server = GitServer(root, token)
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join()
