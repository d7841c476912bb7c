"""Which repository and commit the exported rows come from, said without credentials.

A remote URL may carry a password or token (`https://user:TOKEN@host/org/repo.git`, or
`?private_token=...`). Only the browser address of the repository is kept: scheme, host and path,
never the user part, the query or the fragment. Remotes that are local paths are not sent at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from telemetry_csv.git import plumbing

_SCP_LIKE = re.compile(r"(?:[^@/]+@)?(?P<host>[^:/\[\]]+):(?!//)(?P<path>.+)")
_NETWORK_SCHEMES = {"http", "https", "ssh", "git", "git+ssh", "ssh+git"}


class Repository(NamedTuple):
    url: str | None  # vcs.repository.url.full
    name: str | None  # vcs.repository.name
    commit: str | None  # vcs.ref.head.revision
    branch: str | None  # vcs.ref.head.name


def clean_url(remote: str) -> str | None:
    """A remote's browser URL (`https://host/org/repo`), without credentials, query or `.git`;
    None for a local path or anything that names no host."""
    text = remote.strip()
    if "://" not in text:
        match = _SCP_LIKE.fullmatch(text)
        # A one-letter "host" is a Windows drive (`C:/repos/x`), as git reads it too.
        if match is None or text.startswith(("/", ".", "~")) or len(match["host"]) == 1:
            return None
        return _https(match["host"], None, match["path"])
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _NETWORK_SCHEMES or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if scheme in ("http", "https"):
        default = 80 if scheme == "http" else 443
        netloc = parts.hostname if port in (None, default) else f"{parts.hostname}:{port}"
        return _join(scheme, netloc, parts.path)
    return _https(parts.hostname, None, parts.path)


def _https(host: str, port: int | None, path: str) -> str | None:
    return _join("https", host if port is None else f"{host}:{port}", path)


def _join(scheme: str, netloc: str, path: str) -> str | None:
    path = path.strip("/")
    path = path.removesuffix(".git").rstrip("/")
    if not netloc or not path:
        return None
    return f"{scheme}://{netloc.lower()}/{path}"


def describe(root: Path, head: str | None = None) -> Repository:
    """The repository at `root`: its URL (from `origin`, else its first remote), name, the
    commit `head` names (default HEAD) and the branch checked out; what git cannot tell is None."""
    if not plumbing.is_repository(root):
        return Repository(None, None, None, None)
    remotes = plumbing.run(["remote"], root, check=False).decode().split()
    url = None
    if remotes:
        remote = "origin" if "origin" in remotes else remotes[0]
        raw = plumbing.run(["remote", "get-url", remote], root, check=False).decode().strip()
        url = clean_url(raw) if raw else None
    name = url.rsplit("/", 1)[-1] if url else None
    commit = plumbing.commit_id(head or "HEAD", root)
    branch = None
    if head is None:
        found = plumbing.run(["symbolic-ref", "-q", "--short", "HEAD"], root, check=False)
        branch = found.decode().strip() or None
    return Repository(url, name, commit, branch)
