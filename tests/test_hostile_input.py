"""Hostile input that is not a file: argument bytes, settings, response bodies, environment
values, standard output that fails. Each is one line on stderr, a documented exit status and
nothing written, or the documented result; and no message of the tool repeats a credential or
passes on a terminal control sequence (issue 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from telemetry_csv.messages import excerpt, safe
from telemetry_csv.secrets_scan import find_secret
from testing.hostile import (
    FAKE_KEY,
    LOG,
    assert_kept_promises,
    make_decoy,
    new_repo,
    row_count,
    run,
    snapshot,
)
from testing.logfiles import row, rows, write_log
from testing.util import git

LOG_ARGS = ["telemetry-csv", "log", "m", "1", "2", "true", "plan", "3"]
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"  # retitle the window, clear the screen, red


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with a valid log, and a decoy folder beside it."""
    return new_repo(tmp_path / "repo"), make_decoy(tmp_path / "decoy")


def tree(repo: Path) -> dict[str, tuple[int, str]]:
    return {k: v for k, v in snapshot(repo).items() if not k.startswith(".git/")}


def one_line(done: object) -> str:
    err = done.stderr.decode()  # type: ignore[attr-defined]
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# Arguments that are not UTF-8 text: refused before anything runs, whatever the command.
@pytest.mark.parametrize(
    "argv",
    [
        [*LOG_ARGS, b"notes \xff"],
        ["telemetry-csv", "log", b"m\xc3", "1", "2", "true", "plan", "3"],
        ["telemetry-csv", "run", "--notes", b"\xfe", "--model", "m", "--task-type", "plan", "--",
         "touch", "ran"],
        ["telemetry-csv", "check", b".telemetry/\xff.csv"],
        ["telemetry-csv", "report", "--tz", b"Europe/\xe9"],
        ["telemetry-csv", "fmt", "--file", b"\x80.csv"],
        ["telemetry-csv", "init", "--file", b"x\xff/usage.csv"],
        ["telemetry-csv", "repair", "--file", b"\xff.csv"],
        ["telemetry-csv", "merge-driver", b"\xff", "b", "c"],
        ["telemetry-csv", b"\xff"],
        ["telemetry-csv-check-hook", b"\xff.csv"],
    ],
    ids=lambda argv: b" ".join(a if isinstance(a, bytes) else a.encode() for a in argv[1:3]).decode(
        "utf-8", "replace"
    ),
)  # fmt: skip
def test_an_argument_that_is_not_utf8_is_refused_before_anything_runs(
    hostile: tuple[Path, Path], argv: list[str | bytes]
) -> None:
    repo, _ = hostile
    before = tree(repo)
    done = run(argv, repo)
    if argv[0] == "telemetry-csv-check-hook":
        assert done.returncode == 1
    else:
        assert done.returncode == 2
    assert "is not UTF-8 text (byte 0x" in one_line(done)
    assert tree(repo) == before and not (repo / "ran").exists()


def test_runs_command_is_passed_on_with_its_bytes(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    argv = [
        "telemetry-csv",
        "run",
        "--model",
        "m",
        "--task-type",
        "plan",
        "--",
        "printf",
        b"%s\xff",
    ]
    before = row_count(repo)
    done = run(argv, repo)
    assert (done.returncode, done.stdout) == (0, b"%s\xff"[2:])
    assert row_count(repo) == before + 1


@pytest.mark.parametrize(
    ("duration", "field"),
    [
        ("1e400s", "duration"),
        ("9" * 5000 + "h", "duration"),
        ("99999999999999999999h", "duration"),
        ("999999999999999999h", "duration_ms"),
    ],
)
def test_a_huge_duration_is_refused_in_one_line(
    hostile: tuple[Path, Path], duration: str, field: str
) -> None:
    repo, _ = hostile
    before = tree(repo)
    argv = ["telemetry-csv", "log", "--model", "m", "--prompt-tokens", "1",
            "--completion-tokens", "1", "--task-success", "true", "--task-type", "plan",
            "--duration", duration]  # fmt: skip
    done = run(argv, repo)
    assert done.returncode == 2 and f"error: {field}: " in one_line(done)
    assert tree(repo) == before


@pytest.mark.parametrize(
    "body",
    [
        {"model": "\ud800", "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
        {"model": "gpt\udcff", "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    ],
)
def test_a_lone_surrogate_in_a_response_is_refused_in_one_line(
    hostile: tuple[Path, Path], body: dict[str, object]
) -> None:
    repo, _ = hostile
    (repo / "body.json").write_text(json.dumps(body))  # ensure_ascii: "\ud800" as an escape
    before = tree(repo)
    argv = ["telemetry-csv", "log", "--usage-json", "body.json", "--task-success", "true",
            "--task-type", "plan", "--duration", "2s"]  # fmt: skip
    done = run(argv, repo)
    assert done.returncode == 2 and "error: model: " in one_line(done)
    assert tree(repo) == before


def test_log_to_a_full_disk_logs_the_row_once_and_succeeds(hostile: tuple[Path, Path]) -> None:
    """A retrying script must not log the row twice: the row is written, so the status is 0."""
    repo, _ = hostile
    before = row_count(repo)
    with open("/dev/full", "wb") as full:
        import subprocess

        from testing.util import BIN, git_env

        done = subprocess.run(
            [str(BIN / "telemetry-csv"), *LOG_ARGS[1:]], cwd=repo, stdout=full,
            stderr=subprocess.PIPE, env=git_env(), timeout=60, check=False,
        )  # fmt: skip
        checked = subprocess.run(
            [str(BIN / "telemetry-csv"), "check"], cwd=repo, stdout=full,
            stderr=subprocess.PIPE, env=git_env(), timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 0
    assert done.stderr.decode() == (
        "telemetry-csv log: note: the row was logged, but standard output cannot be written: "
        "No space left on device\n"
    )
    assert row_count(repo) == before + 1
    assert checked.returncode == 4
    assert "check: error: cannot write standard output: No space left" in one_line(checked)


@pytest.mark.parametrize(
    ("where", "text", "says"),
    [
        ("pyproject.toml", '[tool.telemetry-csv]\nlog = "a\\u0000b/usage.csv"\n', "log = "),
        (".telemetry/config.toml", 'log = "x\\u0000.csv"\n', "log = "),
        ("pyproject.toml", 'tool = "telemetry-csv"\n', "[tool] must be a table"),
        ("pyproject.toml", "[[tool.telemetry-csv]]\nlog = 'x.csv'\n", "must be a table"),
        (".telemetry/config.toml", 'max_bytes = "10MB"\n', "max_bytes = "),
        (".telemetry/config.toml", "task_types = 'plan'\n", "task_types = "),
        (".telemetry/config.toml", "lock_timeout = true\n", "lock_timeout = "),
        (".telemetry/config.toml", "log = ['a.csv']\n", "log = "),
        (".telemetry/config.toml", 'log = "../outside/usage.csv"\n', "without .."),
        (".telemetry/config.toml", 'log = "/tmp/usage.csv"\n', "without .."),
        (".telemetry/config.toml", '"\\u001b[2Jlog" = 1\n', "unknown setting '\\x1b[2Jlog'"),
        (".telemetry/config.toml", b"log = '\xff.csv'\n", "not UTF-8"),
    ],
)
def test_a_bad_setting_is_one_line_and_nothing_is_written(
    hostile: tuple[Path, Path], where: str, text: str | bytes, says: str
) -> None:
    repo, decoy = hostile
    path = repo / where
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    before, decoy_before = tree(repo), snapshot(decoy)
    for argv in (LOG_ARGS, ["telemetry-csv", "check"], ["telemetry-csv", "init"]):
        done = run(argv, repo)
        assert done.returncode == 2, done.stderr
        assert says in one_line(done)
    assert tree(repo) == before and snapshot(decoy) == decoy_before


@pytest.mark.parametrize("missing", ["base", "ours", "theirs"])
def test_a_missing_merge_driver_input_is_one_line_and_nothing_written(
    hostile: tuple[Path, Path], missing: str
) -> None:
    repo, _ = hostile
    files = {}
    for name in ("base", "ours", "theirs"):
        files[name] = repo / f"{name}.csv"
        if name != missing:
            write_log(files[name], rows(1))
    before = tree(repo)
    done = run(["telemetry-csv", "merge-driver", *map(str, files.values()), LOG], repo)
    assert done.returncode == 4 and f"{missing.upper()} " in one_line(done)
    assert tree(repo) == before


def test_a_linked_merge_driver_input_is_not_written_through(hostile: tuple[Path, Path]) -> None:
    repo, decoy = hostile
    for name in ("base", "theirs"):
        write_log(repo / f"{name}.csv", rows(1))
    (repo / "ours.csv").symlink_to(decoy / "bashrc")
    before = snapshot(decoy)
    done = run(["telemetry-csv", "merge-driver", "base.csv", "ours.csv", "theirs.csv"], repo)
    assert done.returncode == 4 and "is a symbolic link" in one_line(done)
    assert snapshot(decoy) == before


@pytest.mark.parametrize(
    "target",
    [
        ".telemetry/usage.csv.lock",
        ".telemetry/.gitignore",
        ".telemetry/.usage.csv.0123456789ab.tmp",
        "usage-20260101T000000Z.csv",
        "reports/usage-20260301T120000Z-2.csv",
        ".telemetry/usage-29990101T000000Z.csv",
    ],
)
def test_report_never_writes_over_the_files_kept_beside_the_log(
    hostile: tuple[Path, Path], target: str
) -> None:
    repo, _ = hostile
    (repo / ".telemetry" / ".gitignore").write_text("*.lock\n.*.tmp\n")
    (repo / "reports").mkdir()
    before = tree(repo)
    done = run(["telemetry-csv", "report", "--no-costs", "-o", target], repo)
    assert done.returncode == 2 and "--output: " in one_line(done)
    assert tree(repo) == before


# Messages: credentials redacted before anything is cut, control sequences escaped.


def test_excerpt_redacts_before_it_cuts() -> None:
    text = "x" * 100 + " " + FAKE_KEY + " and more"
    for limit in range(95, 140):
        shown = excerpt(text, limit)
        assert "ghp_" not in shown and FAKE_KEY[4:12] not in shown, (limit, shown)
    assert excerpt("short", 10) == "short"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é 中文 😀", "plain é 中文 😀"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x1b]8;;http://evil\x07link", "\\x1b]8;;http://evil\\x07link"),
        ("\x9b31m", "\\x9b31m"),
        ("a\u202eevil", "a\\u202eevil"),
        ("soft\u00adhyphen", "soft\\xadhyphen"),
        ("vs\ufe0f", "vs\\ufe0f"),
        ("cr\roverwrite", "cr\\x0doverwrite"),
        ("bad \udcff byte", "bad \\udcff byte"),
        ("two\nlines", "two\nlines"),
        (f"key {FAKE_KEY}", "key [redacted: github-token]"),
    ],
)
def test_safe_shows_every_line_as_text(text: str, shown: str) -> None:
    assert safe(text) == shown


def test_runs_note_for_a_failed_command_never_repeats_the_key(hostile: tuple[Path, Path]) -> None:
    """An API error body that quotes the key it refused, past where the note is cut."""
    repo, _ = hostile
    message = "Incorrect API key provided: " + "x" * 80 + " " + FAKE_KEY + ". Check your key."
    (repo / "error.json").write_text(json.dumps({"error": {"message": message, "type": "auth"}}))
    argv = ["telemetry-csv", "run", "--model", "m", "--task-type", "plan",
            "--usage-json", "out.json", "--", "sh", "-c", "cp error.json out.json; exit 3"]  # fmt: skip
    done = run(argv, repo)
    err = done.stderr.decode()
    assert done.returncode == 3 and "the failure is logged without the response" in err
    assert find_secret(err) is None and "ghp_" not in err and FAKE_KEY[4:14] not in err, err


def test_the_model_differs_notice_is_escaped_and_redacted(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    body = {
        "model": f"gpt-4o{ESC}{FAKE_KEY}",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
    }
    (repo / "body.json").write_text(json.dumps(body))
    argv = ["telemetry-csv", "log", "--usage-json", "body.json", "--model", "gpt-4o",
            "--task-success", "true", "--task-type", "plan", "--duration", "2s"]  # fmt: skip
    done = run(argv, repo)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "using the given gpt-4o, not the response's gpt-4o\\x1b]0;pwned" in err
    assert "\x1b" not in err and "[redacted: github-token]" in err and FAKE_KEY not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["telemetry-csv", "log", f"m{ESC}", "1", "2", "true", "plan", "3"],
        ["telemetry-csv", "log", "m", "1", "2", "true", "plan", "3", f"notes {ESC}"],
        ["telemetry-csv", "check", f".telemetry/{ESC}.csv"],
        ["telemetry-csv", "report", "--tz", f"{ESC}{FAKE_KEY}"],
        ["telemetry-csv", f"{ESC}{FAKE_KEY}"],
        ["telemetry-csv", "report", "--range", f"{FAKE_KEY}..HEAD"],
        ["telemetry-csv", "log", "--usage-json", f"{ESC}/{FAKE_KEY}", "--task-success", "true",
         "--task-type", "plan", "--duration", "2s"],
        ["telemetry-csv-check-hook", f"{ESC}{FAKE_KEY}.csv"],
    ],
    ids=["model", "notes", "check-file", "tz", "command", "range", "usage-json", "hook"],
)  # fmt: skip
def test_messages_quoting_an_argument_show_it_safely(
    hostile: tuple[Path, Path], argv: list[str]
) -> None:
    repo, _ = hostile  # committed already
    done = run(argv, repo)
    assert done.returncode != 0
    for stream in (done.stdout, done.stderr):
        assert b"\x1b" not in stream and b"\x07" not in stream
        assert FAKE_KEY.encode() not in stream and b"Traceback" not in stream


def test_the_append_only_hook_redacts_the_lines_it_quotes(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile  # committed already
    edited = row(1).replace("task 1", f"task 1 {ESC}{FAKE_KEY}")
    write_log(repo / LOG, edited + rows(2, 3))
    git(repo, "add", "-A")
    done = run(["telemetry-csv-append-only-hook"], repo)
    out = done.stdout.decode()
    assert done.returncode == 1 and "a history row was changed" in out
    assert FAKE_KEY not in out and "[redacted: github-token]" in out and "\x1b" not in out


# Invisible characters: refused in new values, warnings in stored rows, escaped in reports.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "claude\u00ad-3-opus"),
        ("model", "claude-3-opus\ufe0f"),
        ("model", "claude\u2066-3-opus"),
        ("model", "claude-3-opus\U000e0041"),
        ("model", "\u3164claude"),
        ("notes", "looks fine \u202e gnp.exe"),
        ("notes", "isolate \u2067 here"),
    ],
)
def test_log_refuses_invisible_characters(
    hostile: tuple[Path, Path], field: str, value: str
) -> None:
    repo, _ = hostile
    before = tree(repo)
    argv = ["telemetry-csv", "log", "--model", "m", "--prompt-tokens", "1", "--completion-tokens",
            "2", "--task-success", "true", "--task-type", "plan", "--duration-ms", "3",
            f"--{field}", value]  # fmt: skip
    done = run(argv, repo)
    err = one_line(done)
    assert done.returncode == 2 and f"error: {field}: " in err and "invisible character U+" in err
    assert tree(repo) == before


def test_notes_keep_emoji_made_with_joiners_and_variation_selectors(
    hostile: tuple[Path, Path],
) -> None:
    repo, _ = hostile
    done = run([*LOG_ARGS, "shipped \u2764\ufe0f by 👩\u200d💻"], repo)
    assert done.returncode == 0, done.stderr
    rows_now = run(["telemetry-csv", "cat"], repo).stdout.decode()
    assert ",shipped \u2764\ufe0f by 👩\u200d💻" in rows_now


def test_committed_invisible_characters_are_warnings_and_show_in_reports(
    hostile: tuple[Path, Path],
) -> None:
    repo, _ = hostile
    write_log(repo / LOG, rows(1, 2) + row(3).replace("claude-3-opus", "claude-3\u00ad-opus"))
    checked = run(["telemetry-csv", "check"], repo)
    out = checked.stdout.decode()
    assert checked.returncode == 0, out
    assert f"{LOG}:4: model: warning: invisible character U+00AD (SOFT HYPHEN)" in out
    assert "6 valid rows: no problems, 1 warning(s)" in out  # with a backup, a shard, a fold
    report = run(["telemetry-csv", "report", "--no-costs"], repo).stdout.decode()
    assert "`claude-3\\xad-opus`" in report and "\u00ad" not in report


def test_the_tz_value_is_escaped_in_the_markdown(hostile: tuple[Path, Path]) -> None:
    repo, _ = hostile
    tz = "Bad/Zone\n\n# Injected heading [click](http://evil.example) `code` <b>x</b>\x1b[31m"
    done = run(["telemetry-csv", "report", "--no-costs", "--tz", "local"], repo, {"TZ": tz})
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    line = next(line for line in out.splitlines() if line.startswith("- Days and weeks in"))
    assert "\\x0a\\x0a\\# Injected heading \\[click\\](http://evil.example) \\`code\\`" in line
    assert "\n# Injected" not in out and "\x1b" not in out and "<b>" not in out


# Hostile argument bytes and environment values, generated.

_PIECES = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [ESC.encode(), FAKE_KEY.encode(), b"\xff\xfe", b"\xe2\x80\xae", b"\xc2\xad", b"\xc2\x9b",
         b"--notes", b"--file", b"-q", b"../../decoy/bashrc", b"1e999s", b"=cmd|' /C calc'!A0",
         "\ud800".encode("utf-8", "surrogatepass")]
    ),
)  # fmt: skip
_ARGUMENT = st.lists(_PIECES, min_size=1, max_size=3).map(b"".join).filter(lambda b: b"\0" not in b)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    command=st.sampled_from(["log", "run", "check", "report", "fmt", "init", "merge-driver"]),
    arguments=st.lists(_ARGUMENT, max_size=8),
)
# A file named with a line break: the error naming it must stay one line (found by this test).
@example(command="check", arguments=[b"\n"])
@example(command="report", arguments=[b"a\nb"])
def test_generated_argument_bytes(
    tmp_path_factory: pytest.TempPathFactory, command: str, arguments: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("argv")
    repo, decoy = new_repo(folder / "repo"), make_decoy(folder / "decoy")
    argv: list[str | bytes] = ["telemetry-csv", command, *arguments]
    if command == "run":
        argv += ["--", "true"]
    decoy_before, rows_before = snapshot(decoy), row_count(repo)
    done = run(argv, repo)
    adds = 1 if command in ("log", "run") else 0
    assert_kept_promises(
        done, command if command != "merge-driver" else "merge-driver", decoy=decoy,
        decoy_before=decoy_before, rows_before=rows_before, rows_after=row_count(repo), adds=adds,
    )  # fmt: skip


_ENV_VALUE = _ARGUMENT.map(lambda b: os.fsdecode(b))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(
        ["TZ", "GITHUB_STEP_SUMMARY", "PRE_COMMIT_FROM_REF", "TELEMETRY_CSV_RETIRE_BACKUPS",
         "LC_ALL", "LANG", "HOME"]
    ),
    value=_ENV_VALUE,
)  # fmt: skip
def test_generated_environment_values(
    tmp_path_factory: pytest.TempPathFactory, name: str, value: str
) -> None:
    folder = tmp_path_factory.mktemp("env")
    repo, decoy = new_repo(folder / "repo"), make_decoy(folder / "decoy")  # committed
    env = {name: value}
    if name == "PRE_COMMIT_FROM_REF":
        env["PRE_COMMIT_TO_REF"] = "HEAD"
    if name == "GITHUB_STEP_SUMMARY" and value.startswith("../"):
        env[name] = str(decoy / "bashrc")  # outside, but named by the environment on purpose
    for argv, label, adds in (
        (["telemetry-csv", "report", "--no-costs", "--tz", "local", "--github-summary"], "report", 0),
        (LOG_ARGS, "log", 1),
        (["telemetry-csv-append-only-hook"], "append-only hook", 0),
    ):  # fmt: skip
        decoy_before, rows_before = snapshot(decoy), row_count(repo)
        done = run(argv, repo, env)
        if env.get("GITHUB_STEP_SUMMARY") == str(decoy / "bashrc"):
            decoy_before = snapshot(decoy)  # the job summary is appended where it is named
        assert_kept_promises(
            done, label, decoy=decoy, decoy_before=decoy_before, rows_before=rows_before,
            rows_after=row_count(repo), adds=adds,
        )  # fmt: skip


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8:strict", "cp1252"])
def test_any_encoding_of_the_terminal(hostile: tuple[Path, Path], encoding: str) -> None:
    """A note or a report with characters the terminal's encoding lacks is escaped, never a
    UnicodeEncodeError (an unknown PYTHONIOENCODING stops the interpreter before any of ours)."""
    repo, _ = hostile
    env = {"PYTHONIOENCODING": encoding}
    logged = run([*LOG_ARGS[:2], "modèle-中", *LOG_ARGS[3:], "=notes ✓"], repo, env)
    assert logged.returncode == 0 and b"Traceback" not in logged.stderr, logged.stderr
    report = run(["telemetry-csv", "report", "--no-costs"], repo, env)
    assert report.returncode == 0 and b"Traceback" not in report.stderr, report.stderr
    refused = run(["telemetry-csv", "log", "modèle\u00ad", *LOG_ARGS[3:]], repo, env)
    assert refused.returncode == 2 and refused.stderr.count(b"\n") == 1, refused.stderr


def test_run_refuses_a_linked_log_before_the_command_runs(hostile: tuple[Path, Path]) -> None:
    repo, decoy = hostile
    (repo / LOG).unlink()
    (repo / LOG).symlink_to(decoy / "bashrc")
    before = snapshot(decoy)
    argv = ["telemetry-csv", "run", "--model", "m", "--task-type", "plan", "--", "touch", "ran"]
    done = run(argv, repo)
    assert done.returncode == 4 and "is a symbolic link" in one_line(done)
    assert not (repo / "ran").exists() and snapshot(decoy) == before
