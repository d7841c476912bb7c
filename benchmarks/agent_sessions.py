"""Generated coding-agent session folders for the import benchmark, shaped like real ones.

Claude Code, Codex and Gemini CLI folders under one home, about `size` bytes in all, seeded:
many projects and sessions over three months (session sizes spread like real ones: most small,
a few of tens of MiB), irregular gaps (a model's seconds, tools' minutes, people's pauses),
streaming partial copies of one response, sub-agent files replaying parent messages, forked
Codex rollouts replaying their parent, Gemini messages written several times, long tool outputs
(in Claude's records twice, as the tool result and as `toolUseResult`), text with quotes,
backslashes, line breaks and non-ASCII characters.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path

START = 1_764_547_200  # 2025-12-01T00:00:00Z
DAYS = 90
TEXTS = (
    'Fix the "flaky" test in tests/test_api.py — it fails on CI only',
    "Refactor parse_row(); keep the C:\\\\path handling\nand the old behaviour",
    "Pourquoi la requête échoue-t-elle ? 日本語のコメントも直して",
    "Add a --dry-run flag 🚀 and document it",
    "SELECT * FROM rows WHERE owner = 'me' ORDER BY created_at DESC;",
)
CODE = (
    "def parse_row(text: str) -> list[str]:\n    return text.split(',')  # naïve\n",
    'if __name__ == "__main__":\n    raise SystemExit(main())\n',
    "export const answer = (x) => `value: ${x}`; // \\u00e9\n",
)
CLAUDE_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-haiku-4-5-20251001",
)
CODEX_MODELS = ("gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini")
GEMINI_MODELS = ("gemini-2.5-pro", "gemini-2.5-flash")


def stamp(seconds: float) -> str:
    whole = int(seconds)
    import time

    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((seconds - whole) * 1000):03d}Z"
    )


def tool_output(rng: random.Random) -> str:
    """Mostly a few KiB, sometimes hundreds (a test run, a big file read)."""
    size = int(min(rng.lognormvariate(7.0, 1.4), 600_000))
    piece = rng.choice(CODE) + rng.choice(TEXTS) + "\n"
    return (piece * (size // len(piece) + 1))[:size]


def session_length(rng: random.Random) -> int:
    """Turns in a session: most sessions short, a few very long."""
    return max(2, int(rng.lognormvariate(2.5, 1.1)))


def gap(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.6:
        return rng.expovariate(1 / 6)  # the model streaming
    if roll < 0.9:
        return rng.expovariate(1 / 40)  # a tool running
    return rng.expovariate(1 / 900)  # a person reading, thinking, away


def generate(home: Path, size: int, seed: int = 13) -> dict[str, int]:
    """Write the three agents' folders; bytes written per agent."""
    rng = random.Random(seed)
    projects = [home / "work" / f"project-{index:02d}" for index in range(40)]
    written = {"claude-code": 0, "codex": 0, "gemini": 0}
    shares = {"claude-code": 0.7, "codex": 0.2, "gemini": 0.1}
    while sum(written.values()) < size:
        source = min(written, key=lambda name: written[name] / shares[name])
        project = rng.choice(projects)
        begin = START + rng.random() * DAYS * 86_400
        if source == "claude-code":
            written[source] += _claude_session(home, project, begin, rng)
        elif source == "codex":
            written[source] += _codex_session(home, project, begin, rng)
        else:
            written[source] += _gemini_session(home, project, begin, rng)
    return written


def _claude_session(home: Path, project: Path, begin: float, rng: random.Random) -> int:
    session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    folder = (
        home / ".claude" / "projects" / "".join(c if c.isalnum() else "-" for c in str(project))
    )
    folder.mkdir(parents=True, exist_ok=True)
    nested = rng.random() < 0.3
    branch = rng.choice(("main", "feature/import", "fix/ci-cache", "dev"))
    base = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": str(project),
        "sessionId": session,
        "version": "2.1.3",
        "gitBranch": branch,
    }
    lines: list[str] = [
        json.dumps({"type": "summary", "summary": rng.choice(TEXTS), "leafUuid": session})
    ]
    side: list[str] = []
    now = begin
    model = rng.choice(CLAUDE_MODELS)
    cached = rng.randrange(5_000, 30_000)
    for turn in range(session_length(rng)):
        now += gap(rng)
        lines.append(
            json.dumps(
                {
                    **base,
                    "type": "user",
                    "message": {"role": "user", "content": rng.choice(TEXTS)},
                    "uuid": f"u{turn}",
                    "timestamp": stamp(now),
                },
                ensure_ascii=False,
            )
        )
        for step in range(rng.randrange(1, 6)):
            message_id = f"msg_{rng.getrandbits(64):016x}"
            request_id = f"req_{rng.getrandbits(64):016x}"
            cached += rng.randrange(200, 4_000)
            usage = {
                "input_tokens": rng.randrange(1, 40),
                "cache_creation_input_tokens": rng.randrange(0, 3_000),
                "cache_read_input_tokens": cached,
                "output_tokens": 1,
                "service_tier": "standard",
            }
            blocks = [
                {"type": "thinking", "thinking": rng.choice(TEXTS), "signature": "c2ln" * 40},
                {"type": "text", "text": rng.choice(TEXTS)},
                {
                    "type": "tool_use",
                    "id": f"toolu_{turn}_{step}",
                    "name": "Bash",
                    "input": {"command": "pytest -q", "description": rng.choice(TEXTS)},
                },
            ]
            final = rng.randrange(20, 3_000)
            for index, block in enumerate(blocks[: rng.randrange(1, 4)]):
                now += rng.expovariate(1 / 3)
                usage = {**usage, "output_tokens": final if index else rng.randrange(1, 20)}
                record = {
                    **base,
                    "type": "assistant",
                    "requestId": request_id,
                    "uuid": f"a{turn}-{step}-{index}",
                    "timestamp": stamp(now),
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [block],
                        "stop_reason": None,
                        "usage": usage,
                    },
                }
                lines.append(json.dumps(record, ensure_ascii=False))
            now += gap(rng)
            output = tool_output(rng)
            lines.append(
                json.dumps(
                    {
                        **base,
                        "type": "user",
                        "uuid": f"t{turn}-{step}",
                        "timestamp": stamp(now),
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "tool_use_id": f"toolu_{turn}_{step}",
                                    "type": "tool_result",
                                    "content": output,
                                }
                            ],
                        },
                        "toolUseResult": {"stdout": output, "stderr": "", "interrupted": False},
                    },
                    ensure_ascii=False,
                )
            )
            if rng.random() < 0.05:
                lines.append(
                    json.dumps(
                        {
                            "type": "progress",
                            "timestamp": stamp(now),
                            "data": {"type": "hook_progress", "hookName": "PostToolUse"},
                            "sessionId": session,
                            "cwd": str(project),
                        }
                    )
                )
            if nested and rng.random() < 0.1:
                # A sub-agent: its own answer, and a replay of the parent's last message.
                replay = {
                    **record,
                    "isSidechain": True,
                    "requestId": f"req_{rng.getrandbits(64):016x}",
                    "timestamp": stamp(now + 1),
                }
                side.append(json.dumps(replay, ensure_ascii=False))
                own = {
                    **record,
                    "isSidechain": True,
                    "requestId": f"req_{rng.getrandbits(64):016x}",
                    "timestamp": stamp(now + 20),
                    "message": {**record["message"], "id": f"msg_{rng.getrandbits(64):016x}"},
                }
                side.append(json.dumps(own, ensure_ascii=False))
    if nested:
        path = folder / f"{session}.jsonl"
        agents = folder / session / "subagents"
        if side:
            agents.mkdir(parents=True, exist_ok=True)
            (agents / f"agent-{rng.getrandbits(32):08x}.jsonl").write_text("\n".join(side) + "\n")
    else:
        path = folder / f"{session}.jsonl"
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return len(text.encode()) + sum(len(line) + 1 for line in side)


def _codex_session(home: Path, project: Path, begin: float, rng: random.Random) -> int:
    import time

    session = str(uuid.UUID(int=(int(begin * 1000) << 80) | rng.getrandbits(80)))
    day = time.strftime("%Y/%m/%d", time.gmtime(begin))
    folder = home / ".codex" / "sessions" / day
    folder.mkdir(parents=True, exist_ok=True)
    model = rng.choice(CODEX_MODELS)
    lines = [
        json.dumps(
            {
                "timestamp": stamp(begin),
                "type": "session_meta",
                "payload": {
                    "id": session,
                    "timestamp": stamp(begin),
                    "cwd": str(project),
                    "originator": "codex_cli_rs",
                    "cli_version": "0.98.0",
                    "instructions": rng.choice(TEXTS) * 20,
                    "source": "cli",
                    "git": {"branch": rng.choice(("main", "dev")), "commit_hash": "3f9a1c2"},
                },
            }
        )
    ]
    totals = [0, 0, 0, 0]
    now = begin
    for _ in range(session_length(rng)):
        now += gap(rng)
        lines.append(
            json.dumps(
                {
                    "timestamp": stamp(now),
                    "type": "turn_context",
                    "payload": {
                        "cwd": str(project),
                        "model": model,
                        "approval_policy": "on-request",
                    },
                }
            )
        )
        lines.append(
            json.dumps(
                {
                    "timestamp": stamp(now),
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": rng.choice(TEXTS)}],
                    },
                },
                ensure_ascii=False,
            )
        )
        for _ in range(rng.randrange(1, 5)):
            now += gap(rng)
            lines.append(
                json.dumps(
                    {
                        "timestamp": stamp(now),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call_output",
                            "call_id": "call_1",
                            "output": tool_output(rng),
                        },
                    },
                    ensure_ascii=False,
                )
            )
            step = [rng.randrange(5_000, 40_000), 0, rng.randrange(50, 2_000), 0]
            step[1] = rng.randrange(0, step[0])
            step[3] = rng.randrange(0, step[2])
            totals = [a + b for a, b in zip(totals, step, strict=True)]
            usage = dict(
                zip(
                    (
                        "input_tokens",
                        "cached_input_tokens",
                        "output_tokens",
                        "reasoning_output_tokens",
                    ),
                    totals,
                    strict=True,
                )
            )
            last = dict(
                zip(
                    (
                        "input_tokens",
                        "cached_input_tokens",
                        "output_tokens",
                        "reasoning_output_tokens",
                    ),
                    step,
                    strict=True,
                )
            )
            for repeat in range(1 + (rng.random() < 0.3)):  # re-emitted unchanged counters
                lines.append(
                    json.dumps(
                        {
                            "timestamp": stamp(now + repeat),
                            "type": "event_msg",
                            "payload": {
                                "type": "token_count",
                                "info": {
                                    "total_token_usage": usage,
                                    "last_token_usage": last,
                                    "model_context_window": 272000,
                                },
                                "rate_limits": {"primary": {"used_percent": 12.0}},
                            },
                        }
                    )
                )
    text = "\n".join(lines) + "\n"
    (
        folder / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', time.gmtime(begin))}-{session}.jsonl"
    ).write_text(text)
    size = len(text.encode())
    if rng.random() < 0.1:  # a fork: the parent's history replayed at the fork, then its own turn
        child = str(uuid.UUID(int=(int(now * 1000) << 80) | rng.getrandbits(80)))
        fork = [
            json.dumps(
                {
                    "timestamp": stamp(now + 60),
                    "type": "session_meta",
                    "payload": {
                        "id": child,
                        "forked_from_id": session,
                        "timestamp": stamp(now + 60),
                        "cwd": str(project),
                        "source": "cli",
                    },
                }
            )
        ]
        for line in lines:
            record = json.loads(line)
            record["timestamp"] = stamp(now + 60.001)
            fork.append(json.dumps(record, ensure_ascii=False))
        forked = "\n".join(fork) + "\n"
        (
            folder
            / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', time.gmtime(now + 60))}-{child}.jsonl"
        ).write_text(forked)
        size += len(forked.encode())
    return size


def _gemini_session(home: Path, project: Path, begin: float, rng: random.Random) -> int:
    import time

    session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    folder = home / ".gemini" / "tmp" / project.name / "chats"
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder.parent / ".project_root"
    if not marker.exists():
        marker.write_text(str(project))
    lines = [
        json.dumps(
            {
                "sessionId": session,
                "projectHash": "0" * 64,
                "startTime": stamp(begin),
                "lastUpdated": stamp(begin),
                "kind": "main",
            }
        )
    ]
    now = begin
    model = rng.choice(GEMINI_MODELS)
    for turn in range(session_length(rng)):
        now += gap(rng)
        lines.append(
            json.dumps(
                {
                    "id": f"u{turn}",
                    "timestamp": stamp(now),
                    "type": "user",
                    "content": [{"text": rng.choice(TEXTS)}],
                },
                ensure_ascii=False,
            )
        )
        now += gap(rng)
        message = {
            "id": f"g{turn}",
            "timestamp": stamp(now),
            "type": "gemini",
            "content": rng.choice(TEXTS),
            "tokens": None,
            "model": model,
        }
        lines.append(json.dumps(message, ensure_ascii=False))
        prompt = rng.randrange(2_000, 60_000)
        message["tokens"] = {
            "input": prompt,
            "output": rng.randrange(10, 2_000),
            "cached": rng.randrange(0, prompt),
            "thoughts": rng.randrange(0, 500),
            "tool": 0,
            "total": 0,
        }
        message["toolCalls"] = [
            {
                "id": f"c{turn}",
                "name": "run_shell_command",
                "args": {"command": "npm test"},
                "result": [{"functionResponse": {"response": {"output": tool_output(rng)}}}],
                "status": "success",
                "timestamp": stamp(now),
            }
        ]
        for _ in range(rng.randrange(1, 3)):  # written again as the tool calls complete
            lines.append(json.dumps(message, ensure_ascii=False))
    text = "\n".join(lines) + "\n"
    name = f"session-{time.strftime('%Y-%m-%dT%H-%M', time.gmtime(begin))}-{session[:8]}.jsonl"
    (folder / name).write_text(text)
    return len(text.encode())


def all_files(home: Path) -> list[Path]:
    found = []
    for folder, _, names in os.walk(home):
        found.extend(Path(folder) / name for name in names if name.endswith(".jsonl"))
    return sorted(found)
