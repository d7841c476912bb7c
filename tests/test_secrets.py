"""Credentials in notes (or anywhere else) are refused by `log`, flagged by `check`, never shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.errors import InvalidValueError
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.secrets_scan import PATTERNS, find_secret, redact, screen
from testing.util import HEADER, git, run_cli

STAMP = "2026-02-23T22:19:12+01:00"

# Fake but well-shaped credentials, one or more per pattern (built from pieces so that this
# file itself does not look like it leaks anything to other scanners or to push protection).
A = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA"
HEX = "3f9c1e7a5b2d8f4c6a0e9b7d1c3f5a8e"
EXAMPLES = [
    ("anthropic-api-key", "sk-ant-" + "api03-" + A + A + "-" + A),
    ("anthropic-api-key", "sk-ant-" + "admin01-" + A + A[:12]),
    ("anthropic-api-key", "sk-ant-" + "oat01-" + A + A[:11] + "-" + A[:20] + "AA"),
    ("anthropic-api-key", "sk-ant-" + "ort01-" + A + "_" + A + "AA"),
    ("openai-api-key", "sk-" + "proj-" + A + "_" + A),
    ("openai-api-key", "sk-" + A + "T3Blbk"),
    ("openrouter-api-key", "sk-" + "or-v1-" + HEX + HEX[::-1]),
    ("groq-api-key", "gsk_" + A + "Wq8Zr2Lm5Nx7Pv3Kt9Hy"),
    ("xai-api-key", "xai-" + A + A + A[:16]),
    ("replicate-api-token", "r8_" + A + "Kp4Wq"),
    ("github-token", "ghp_" + A + "1234"),
    ("github-fine-grained-pat", "github_pat_11ABCDEFG0" + A),
    ("gitlab-pat", "glpat-" + A[:20]),
    ("aws-access-token", "AKIA" + "Z7Q3X9K2M4N8P6R1"),
    ("aws-secret-access-key", "aws_secret_access_key=" + A + "wJalrXUt"),
    ("slack-token", "xoxb-" + "123456789012-1234567890123-" + A[:24]),
    ("slack-token", "xoxc-" + "1234567890-1234567890123-1234567890123-" + HEX + HEX),
    ("slack-token", "xoxd-" + "hX7q%2Bz9Lm%2Fk4Rt-Wp3" + A + "%3D%3D"),  # URL-encoded
    ("slack-webhook-url", "https://hooks.slack.com/services/T0000/B0000/" + A[:24]),
    ("private-key", "-----BEGIN RSA PRIVATE KEY-----"),
    ("gcp-api-key", "AIza" + A + "abc"),
    # Hyphens every few characters, so only the screen's literal can see it.
    ("google-oauth-client-secret", "GOCSPX-" + "Xy7Qm-Lp3Rt9-Vb2Nc8Wd4-Zs6Hk"),
    ("google-oauth-access-token", "ya29." + "a0AfB_byC" + A + "-" + A[:20]),
    ("stripe-access-token", "sk_" + "live_" + A[:24]),
    ("webhook-signing-secret", "whsec_" + A),
    ("webhook-signing-secret", "whsec_" + "MfKQ9r8GKYqr+TwjUPD8/ILPZIo2LaLa" + "="),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + A[:20]),
    ("huggingface-access-token", "hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH"),
    ("npm-access-token", "npm_" + A + "abcd"),
    ("pypi-upload-token", "pypi-" + "AgEIcHlwaS5vcmc" + A + A),
    ("sendgrid-api-token", "SG." + A[:22] + "." + A + "0123456789a"),
    ("azure-storage-account-key", "AccountKey=" + (A * 3)[:86] + "=="),
    ("twilio-api-key", "SK" + "0123456789abcdef0123456789abcdef"),
    ("perplexity-api-key", "pplx-" + A + "0123456789abcdef"),
    ("age-secret-key", "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58]),
    ("url-with-password", "postgres://admin:" + "hunter2@db.internal/app"),
    ("url-with-password", "redis://:" + "hunter2@cache.internal:6379/0"),
]
SECRETS: dict[str, str] = {}  # the first example of each pattern
for _name, _secret in EXAMPLES:
    SECRETS.setdefault(_name, _secret)

# Words that end in a key's prefix, before something long: no boundary, no key.
PREFIX_INSIDE_A_WORD = [
    "task-" + HEX + " done",
    "risk-" + A + " assessed",
    "disk-" + HEX + "-usage check",
    "flask-" + A,
    "diskSK" + HEX,
    "TASK" + HEX,
    "bigsk_" + A,
    "maxai-" + A,
    "ver8_" + A + "Kp4Wq",
]

# Ordinary notes that must never be taken for a secret.
ORDINARY = [
    "Phase 6 tests",
    "fix flaky login test, retry once",
    "sk-learn pipeline refactor",
    "use scikit-learn's sk-learn style API",
    "ask-the-user flow; task-ordering",
    *PREFIX_INSIDE_A_WORD,
    "xai/grok-4-0709 vs grok-code-fast-1",
    "ya29 prefix documented; whsec_ prefix too",
    "GOCSPX- is how Google's client secrets start",
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


@pytest.mark.parametrize(("name", "secret"), EXAMPLES, ids=[secret[:12] for _, secret in EXAMPLES])
def test_each_shape_is_found_where_it_starts(name: str, secret: str) -> None:
    for before, after in (("done: ", " oops"), ("(", ")"), ("key=", ",")):
        found = find_secret(before + secret + after)
        assert found is not None and found.pattern.name == name
        assert found.start == len(before)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("key" + SECRETS["aws-access-token"], 3),
        ("id=" + SECRETS["aws-access-token"], 3),
        (SECRETS["aws-access-token"] + "_prod", 0),
        ("x" + SECRETS["aws-access-token"] + "abc", 1),
    ],
)
def test_an_aws_key_id_glued_to_other_text_is_found(text: str, start: int) -> None:
    found = find_secret(text)
    assert found is not None and found.pattern.name == "aws-access-token"
    assert found.start == start


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


@pytest.mark.parametrize(("name", "secret"), EXAMPLES, ids=[secret[:12] for _, secret in EXAMPLES])
def test_log_refuses_names_the_pattern_and_position_and_never_echoes(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, secret: str
) -> None:
    status = main(["log", "m", "1", "2", "true", "plan", "3", f"oops {secret} pasted"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"({name}) at character 6" in err
    assert secret not in err and secret[8:20] not in err
    assert not (repo / ".telemetry" / "usage.csv").exists()


def test_the_installed_command_refuses_a_secret(repo: Path) -> None:
    secret = SECRETS["anthropic-api-key"]
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", f"oops {secret}", cwd=repo)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "(anthropic-api-key) at character 6" in done.stderr
    assert secret not in done.stderr
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


def test_check_flags_every_shape_without_echo(tmp_path: Path) -> None:
    """One log holding every example among ordinary rows: each is flagged at its line, by
    its pattern, and none is echoed; the ordinary rows around them pass."""
    schema = Schema()
    lines = [HEADER.rstrip("\n")]
    expected = {}
    for note in ORDINARY:
        lines.append(schema.format_line(Row(STAMP, "m", 1, 2, True, "plan", 3, note)))
    for name, secret in EXAMPLES:
        lines.append(schema.format_line(Row(STAMP, "m", 1, 2, True, "plan", 3, f"x {secret}")))
        expected[len(lines)] = name
        lines.append(schema.format_line(Row(STAMP, "m", 1, 2, True, "plan", 3, "fine")))
    log = tmp_path / "usage.csv"
    log.write_text("\n".join(lines) + "\n")
    done = run_cli("check", str(log), cwd=tmp_path)
    assert done.returncode == 1
    flagged = {}
    *problems, summary = done.stdout.splitlines()
    assert summary.endswith(f"{len(EXAMPLES)} problem(s)")
    for problem in problems:
        where, field, message = problem.split(": ", 2)
        assert field == "notes" and message.startswith("(value not shown) is not allowed")
        flagged[int(where.rsplit(":", 1)[1])] = message
    assert sorted(flagged) == sorted(expected)
    for number, name in expected.items():
        assert f"({name}) at character 3" in flagged[number]
    for _, secret in EXAMPLES:
        assert secret not in done.stdout and secret[8:20] not in done.stdout


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
@pytest.mark.slow
def test_the_cheap_screen_sees_every_shape(regex: str) -> None:
    """`check` only runs the patterns on values the screen flags, so the screen must flag every
    string any pattern matches: generated matches, embedded in ordinary text."""
    import re

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

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


# The ordinary notes the screen hands to the patterns, and why: each holds a run of 16 key-like
# characters (letters, digits, _ + / =) or one of its rare literals. Every other ordinary
# note is judged without running a single regex.
SCREENED_ORDINARY = {
    *PREFIX_INSIDE_A_WORD,  # runs of 16 or more after a word
    "GOCSPX- is how Google's client secrets start",  # the literal GOCSPX-
    "AKIA prefix docs: AKIAIOSFODNN7EXAMPLE",
    "-----BEGIN PUBLIC KEY----- parsing",  # the literal -----BEGIN
    "see https://github.com/org/repo/pull/12",  # the literal ://
    "ssh://git@github.com:org/repo.git",
    "npm_config_cache cleanup",  # exactly 16
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}


def test_the_screen_leaves_most_ordinary_notes_to_no_regex_at_all() -> None:
    from telemetry_csv.secrets_scan import _may_hold_secret

    flagged = screen(ORDINARY)
    assert {ORDINARY[index] for index in flagged} == SCREENED_ORDINARY
    # find_secret's screen for one value says what the batch screen says.
    assert [_may_hold_secret(note) for note in ORDINARY] == [
        index in flagged for index in range(len(ORDINARY))
    ]


def test_the_screen_numbers_values_in_a_batch() -> None:
    values = ["a", SECRETS["github-token"], "b", "", "c " + SECRETS["google-oauth-client-secret"]]
    assert screen(values) == {1, 4}
    assert screen([]) == set() and screen(["", "short"]) == set()


def test_argument_errors_hide_secrets_and_stay_on_one_line(repo: Path) -> None:
    secret = SECRETS["github-token"]
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--max-bytes", secret, cwd=repo)
    assert done.returncode == 2 and secret not in done.stderr
    assert done.stderr == (
        "telemetry-csv log: error: argument --max-bytes: invalid int value: "
        "'[redacted: github-token]' (see --help)\n"
    )
    done = run_cli("log", "m", "1", "2", "--no-such\noption", "true", "plan", "3", cwd=repo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--no-such\\noption" in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["report", "--range", SECRETS["anthropic-api-key"] + "..HEAD"],
            "telemetry-csv report: error: '[redacted: anthropic-api-key]' is not a commit",
        ),
        (
            ["log", "m", "1", "2", "true", "plan", "3", "--usage-json", SECRETS["github-token"]],
            "telemetry-csv log: error: --usage-json [redacted: github-token]: cannot read it",
        ),
        (
            [SECRETS["openai-api-key"]],
            "telemetry-csv: error: unknown command '[redacted: openai-api-key]'; choose from",
        ),
        (
            [
                "run",
                "--task-type",
                "plan",
                "--usage-json",
                SECRETS["xai-api-key"],
                "--",
                sys.executable,
                "-c",
                "pass",
            ],
            "telemetry-csv run: error: not logged: --usage-json [redacted: xai-api-key]: ",
        ),
    ],
    ids=["report-range", "log-usage-json", "unknown-command", "run-usage-json"],
)
def test_errors_that_quote_what_was_typed_redact_the_secret(
    repo: Path, args: list[str], expected: str
) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    done = run_cli(*args, cwd=repo)
    assert done.returncode != 0 or args[0] == "run"
    assert done.stderr.startswith(expected), done.stderr
    assert done.stderr.count("\n") == 1
    for _, secret in EXAMPLES:
        assert secret not in done.stderr and secret[8:20] not in done.stderr


def test_a_successful_log_compiles_no_secret_pattern(repo: Path) -> None:
    """The scanner's regexes are compiled only for text its screen flags, or for an error to
    print: a normal `log` pays for neither."""
    probe = (
        "import sys\n"
        "from telemetry_csv.cli.main import main\n"
        "from telemetry_csv import secrets_scan\n"
        "status = main(sys.argv[1:])\n"
        "print(status, len(secrets_scan._compiled))\n"
    )
    base = [sys.executable, "-c", probe, "log", "-q", "m", "1", "2", "true", "plan", "3"]
    ordinary = subprocess.run(
        [*base, "fix flaky login test"], cwd=repo, capture_output=True, text=True
    )
    assert ordinary.stdout == "0 0\n", ordinary.stderr
    refused = subprocess.run(
        [*base, SECRETS["groq-api-key"]], cwd=repo, capture_output=True, text=True
    )
    assert refused.stdout.split()[0] == "2" and int(refused.stdout.split()[1]) > 0


@pytest.mark.parametrize(("name", "secret"), EXAMPLES, ids=[secret[:12] for _, secret in EXAMPLES])
def test_redact_names_the_pattern_in_place_of_each_secret(name: str, secret: str) -> None:
    host = secret.split("@", 1)[1] if name == "url-with-password" else ""  # kept: not secret
    assert redact(f"given {secret} here") == f"given [redacted: {name}]{host} here"


def test_redact_replaces_every_secret_and_keeps_the_rest() -> None:
    text = f"a {SECRETS['github-token']} b {SECRETS['url-with-password']} c"
    assert (
        redact(text)
        == "a [redacted: github-token] b [redacted: url-with-password]db.internal/app c"
    )
    assert redact("nothing here") == "nothing here"
    assert redact("task-" + HEX) == "task-" + HEX
