"""Credentials in notes (or anywhere else) are refused by `log`, flagged by `check`, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import HEADER, run_cli
from telemetry_csv.errors import InvalidValueError
from telemetry_csv.schema import Schema
from telemetry_csv.secrets_scan import PATTERNS, find_secret

# Fake but well-shaped credentials, one or more per pattern (built from pieces so that this
# file itself does not look like it leaks anything to other scanners).
A = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA"
SECRETS = {
    "anthropic-api-key": "sk-ant-api03-" + A + A + "-" + A,
    "openai-api-key": "sk-proj-" + A + "_" + A,
    "github-token": "ghp_" + A + "1234",
    "github-fine-grained-pat": "github_pat_11ABCDEFG0" + A,
    "gitlab-pat": "glpat-" + A[:20],
    "aws-access-token": "AKIA" + "Z7Q3X9K2M4N8P6R1",
    "aws-secret-access-key": "aws_secret_access_key=" + A + "wJalrXUt",
    "slack-token": "xoxb-" + "123456789012-1234567890123-" + A[:24],
    "slack-webhook-url": "https://hooks.slack.com/services/T0000/B0000/" + A[:24],
    "private-key": "-----BEGIN RSA PRIVATE KEY-----",
    "gcp-api-key": "AIza" + A + "abc",
    "stripe-access-token": "sk_live_" + A[:24],
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + A[:20],
    "huggingface-access-token": "hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "npm-access-token": "npm_" + A + "abcd",
    "pypi-upload-token": "pypi-AgEIcHlwaS5vcmc" + A + A,
    "sendgrid-api-token": "SG." + A[:22] + "." + A + "0123456789a",
    "azure-storage-account-key": "AccountKey=" + (A * 3)[:86] + "==",
    "twilio-api-key": "SK" + "0123456789abcdef0123456789abcdef",
    "perplexity-api-key": "pplx-" + A + "0123456789abcdef",
    "age-secret-key": "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58],
    "url-with-password": "postgres://admin:hunter2@db.internal/app",
}

# Ordinary notes that must never be taken for a secret.
ORDINARY = [
    "Phase 6 tests",
    "fix flaky login test, retry once",
    "sk-learn pipeline refactor",
    "use scikit-learn's sk-learn style API",
    "ask-the-user flow; task-ordering",
    "ghp_ prefix handling in the token parser",
    "AKIA prefix docs: AKIAIOSFODNN7EXAMPLE",
    "rotate keys per AWS docs (no key here)",
    "deploy to aws us-east-1",
    "BEGIN transaction ... COMMIT",
    "-----BEGIN PUBLIC KEY----- parsing",
    "see https://github.com/org/repo/pull/12",
    "ssh://git@github.com:org/repo.git",
    "xoxo from the team",
    "SKU-12345 inventory",
    "hf_hub_download wrapper",
    "npm_config_cache cleanup",
    "eyJ is how base64 JSON starts",
    "stripe sk_test_ mode docs",
    'Review of store.py, missed the "torn" case',
    "Rename Settings.path to log_path",
    "claude-3-5-sonnet-20241022 vs gpt-4o-2024-08-06",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
]


def test_every_pattern_has_an_example() -> None:
    assert sorted(SECRETS) == sorted(p.name for p in PATTERNS)
    for pattern in PATTERNS:
        assert pattern.reference and pattern.description


@pytest.mark.parametrize(("name", "secret"), sorted(SECRETS.items()))
def test_each_shape_is_found_where_it_starts(name: str, secret: str) -> None:
    found = find_secret("done: " + secret + " oops")
    assert found is not None and found.pattern.name == name
    assert found.start == 6


@pytest.mark.parametrize("notes", ORDINARY)
def test_ordinary_notes_are_not_taken_for_secrets(notes: str) -> None:
    assert find_secret(notes) is None
    Schema().normalise(
        model="m",
        prompt_tokens=1,
        completion_tokens=1,
        task_success=True,
        task_type="plan",
        duration_ms=1,
        notes=notes,
    )


@pytest.mark.parametrize(("name", "secret"), sorted(SECRETS.items()))
def test_log_refuses_names_the_pattern_and_position_and_never_echoes(
    repo: Path, name: str, secret: str
) -> None:
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", f"oops {secret} pasted", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"({name}) at character 6" in done.stderr
    assert secret not in done.stderr and secret[8:20] not in done.stderr
    assert not (repo / ".telemetry" / "usage.csv").exists()


def test_a_secret_in_another_field_is_refused_without_echo(repo: Path) -> None:
    secret = SECRETS["github-token"]
    for args in (
        [secret, "1", "2", "true", "plan", "3"],
        ["m", "1", "2", "true", secret, "3"],
        ["m", secret, "2", "true", "plan", "3"],
    ):
        done = run_cli("log", *args, cwd=repo)
        assert done.returncode == 2
        assert secret not in done.stderr and "(value not shown)" in done.stderr


@pytest.mark.parametrize(("name", "secret"), sorted(SECRETS.items()))
def test_check_flags_without_echo(tmp_path: Path, name: str, secret: str) -> None:
    log = tmp_path / "usage.csv"
    notes = f"x {secret}"
    field = f'"{notes}"' if "," in notes or '"' in notes else notes
    log.write_text(
        HEADER
        + "2026-02-23T22:19:12+01:00,m,1,2,true,plan,3,fine\n"
        + f"2026-02-23T22:19:12+01:00,m,1,2,true,plan,3,{field}\n"
    )
    done = run_cli("check", str(log), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(f"{log}:3: notes: (value not shown)")
    assert f"({name}) at character 3" in done.stdout
    assert secret not in done.stdout


def test_check_flags_a_secret_in_the_model_field_and_the_first_line(tmp_path: Path) -> None:
    secret = SECRETS["openai-api-key"]
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + f"2026-02-23T22:19:12+01:00,{secret},1,2,true,plan,3,x\n")
    done = run_cli("check", str(log), cwd=tmp_path)
    assert done.returncode == 1 and secret not in done.stdout
    assert ":2: model: (value not shown)" in done.stdout
    assert "(openai-api-key) at character 1" in done.stdout
    log.write_text(f"2026-02-23T22:19:12+01:00,m,1,2,true,plan,3,{secret}\n")
    done = run_cli("check", str(log), cwd=tmp_path)
    assert done.returncode == 1 and secret not in done.stdout
    assert ":1: header: expected " in done.stdout and "found (value not shown)" in done.stdout


def test_library_error_carries_no_secret() -> None:
    secret = SECRETS["anthropic-api-key"]
    with pytest.raises(InvalidValueError) as caught:
        Schema().normalise(
            model="m",
            prompt_tokens=1,
            completion_tokens=1,
            task_success=True,
            task_type="plan",
            duration_ms=1,
            notes=secret,
        )
    assert secret not in str(caught.value)
    assert caught.value.field == "notes"


@pytest.mark.parametrize(
    "regex", [regex for pattern in PATTERNS for regex in pattern.regexes], ids=lambda r: r[:24]
)
def test_the_cheap_screen_sees_every_shape(regex: str) -> None:
    """`check` only runs the patterns on values the screen flags, so the screen must flag every
    string any pattern matches: generated matches, embedded in ordinary text."""
    import re

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from telemetry_csv.secrets_scan import screen

    compiled = re.compile(regex, re.ASCII)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        match=st.from_regex(compiled, fullmatch=True), before=st.sampled_from(["", "see ", "x,"])
    )
    def check(match: str, before: str) -> None:
        value = before + match + " done"
        # Notes and model names never hold a line break (the screen joins values with one).
        if "\n" not in value and compiled.search(
            value
        ):  # lookarounds may reject the generated text in context
            assert screen(["ordinary note", value, "another"]) == {1}

    check()


def test_the_screen_leaves_ordinary_notes_alone() -> None:
    from telemetry_csv.secrets_scan import screen

    flagged = screen(ORDINARY)
    assert [ORDINARY[i] for i in sorted(flagged)] == [
        note
        for note in ORDINARY
        if find_secret(note)
        or "://" in note
        or "-----BEGIN" in note
        or any(len(run) >= 16 for run in __import__("re").findall(r"[A-Za-z0-9_+/=]+", note))
    ]


def test_argument_errors_hide_secrets_and_stay_on_one_line(repo: Path) -> None:
    secret = SECRETS["github-token"]
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--max-bytes", secret, cwd=repo)
    assert done.returncode == 2 and secret not in done.stderr
    assert "(value not shown)" in done.stderr
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--no-such\noption", cwd=repo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--no-such\\noption" in done.stderr


def test_redact_replaces_every_secret_and_keeps_the_rest() -> None:
    from telemetry_csv.secrets_scan import redact

    text = f"a {SECRETS['github-token']} b {SECRETS['url-with-password']} c"
    assert redact(text) == "a (value not shown) b (value not shown)db.internal/app c"
    assert redact("nothing here") == "nothing here"
