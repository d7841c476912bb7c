"""`telemetry-csv import`: session files into the log, each slice exactly once, whoever imports.

The command runs as users run it (the installed script, in real git repositories, with the
agents' folders in a temporary home); the growing-session test calls the library with a chosen
`now`, since the windows it watches close with the clock.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.config import load_settings
from telemetry_csv.importing.recording import import_sessions, state_folder
from telemetry_csv.logfile.layout import log_files
from telemetry_csv.logfile.reading import read_rows
from testing.agentfixtures import Layout, claude_project, instant
from testing.util import BIN, EXTENDED_HEADER, HEADER, git, git_env, logged_text, shards

LOG = ".telemetry/usage.csv"
SESSION = "claude-code session 11111111"
SONNET = "claude-sonnet-4-5-20250929"
# The Claude Code fixture's three slices (hand-computed in tests/test_importing_claude.py), as
# the log stores them.
CLAUDE_ROWS = [
    f'2026-03-11T10:40:30Z,{SONNET},36618,600,true,execute,55000,"{SESSION}, branch main",'
    "claude-code,20260311T10Z-de32cf1fcf1664c3,34300,2300",
    f'2026-03-11T11:05:00Z,claude-haiku-4-5-20251001,50,10,true,execute,0,"{SESSION}, branch '
    'main",claude-code,20260311T11Z-e0f8fb70e0ee720b,0,0',
    f'2026-03-11T11:06:00Z,{SONNET},13107,60,true,execute,60000,"{SESSION}, branch feature/x",'
    "claude-code,20260311T11Z-9c7e01a5bbb4665c,13000,100",
]


def environment(layout: Layout) -> dict[str, str]:
    env = git_env()
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_DATA_DIR", "GEMINI_CLI_HOME"):
        env.pop(name, None)
    env["HOME"] = str(layout.home)
    env["XDG_CONFIG_HOME"] = str(layout.home / ".config")
    return env


def cli(layout: Layout, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "telemetry-csv"), *args],
        cwd=cwd or layout.root,
        capture_output=True,
        text=True,
        env=environment(layout),
        timeout=120,
        check=False,
    )


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """A home with Claude Code's basic session, and a git repository at its working folder."""
    found = Layout(tmp_path)
    found.install("claude-code", "basic")
    git(found.root, "init", "-q", "-b", "main")
    return found


def log_lines(root: Path) -> list[str]:
    """The log's lines as one file would hold them, whatever the layout (the team layout's
    shards, or the one file)."""
    return logged_text(root / LOG).splitlines()


def test_import_adds_each_closed_slice_once(layout: Layout) -> None:
    done = cli(layout, "import", "claude-code")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "telemetry-csv import: added 3 rows from claude-code\n"
    assert done.stderr == ""
    assert log_lines(layout.root) == [EXTENDED_HEADER.strip(), *CLAUDE_ROWS]
    assert (layout.root / ".git" / "telemetry-csv" / "import-state.claude-code.json").is_file()

    again = cli(layout, "import", "claude-code")
    assert again.stdout == "telemetry-csv import: added 0 rows from claude-code\n"
    assert log_lines(layout.root) == [EXTENDED_HEADER.strip(), *CLAUDE_ROWS]
    assert cli(layout, "check").returncode == 0


def test_all_sources_and_a_quiet_import_with_nothing_new(layout: Layout) -> None:
    layout.install("codex", "basic")
    layout.install("gemini", "basic")
    done = cli(layout, "import", "all")
    assert done.stdout == (
        "telemetry-csv import: added 7 rows (claude-code 3, codex 2, gemini 2)\n"
    ), done.stderr
    assert {row.source for row in read_rows(log_files(layout.root / LOG))} == {
        "claude-code",
        "codex",
        "gemini",
    }
    quiet = cli(layout, "import", "all", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_an_8_column_log_is_backed_up_whole_before_the_first_import(layout: Layout) -> None:
    log = layout.root / LOG
    log.parent.mkdir()
    (log.parent / "config.toml").write_text('layout = "single"\n')
    legacy = HEADER + "2026-03-01T10:00:00Z,m,1,2,true,plan,3,typed by hand\n"
    log.write_text(legacy)
    done = cli(layout, "import", "claude-code")
    assert done.returncode == 0, done.stderr
    [backup] = log.parent.glob("usage-*.csv")
    assert done.stdout == (
        "telemetry-csv import: added 3 rows from claude-code (the log was backed up to "
        f"{backup.name} first)\n"
    )
    assert backup.read_text() == legacy
    assert log.read_text().splitlines() == [EXTENDED_HEADER.strip(), *CLAUDE_ROWS]
    assert len(list(read_rows(log_files(log)))) == 4


def test_in_the_team_layout_an_8_column_log_stays_and_rows_go_to_a_new_shard(
    layout: Layout,
) -> None:
    log = layout.root / LOG
    log.parent.mkdir()
    legacy = HEADER + "2026-03-01T10:00:00Z,m,1,2,true,plan,3,typed by hand\n"
    log.write_text(legacy)
    done = cli(layout, "import", "claude-code")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "telemetry-csv import: added 3 rows from claude-code\n"
    assert log.read_text() == legacy and not list(log.parent.glob("usage-*.csv"))
    [shard] = shards(log)
    assert shard.read_text().splitlines() == [EXTENDED_HEADER.strip(), *CLAUDE_ROWS]
    assert len(list(read_rows(log_files(log)))) == 4
    assert cli(layout, "check").returncode == 0


def test_dry_run_prints_the_rows_and_writes_nothing(layout: Layout) -> None:
    done = cli(layout, "import", "claude-code", "--dry-run", "--task-type", "plan")
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert printed[:-1] == [line.replace(",execute,", ",plan,") for line in CLAUDE_ROWS]
    assert printed[-1] == "telemetry-csv import: would add 3 rows from claude-code"
    assert not (layout.root / ".telemetry").exists()
    assert not (layout.root / ".git" / "telemetry-csv").exists()


def test_a_log_that_changed_is_read_and_what_it_holds_is_left_out(layout: Layout) -> None:
    assert cli(layout, "import", "claude-code").returncode == 0
    # A reset that dropped the import state's rows is what makes a state useless: here the log
    # is rewritten by hand to hold only the first slice (as a `git checkout` of an older log).
    [shard] = shards(layout.root / LOG)
    shard.write_text(EXTENDED_HEADER + CLAUDE_ROWS[0] + "\n")
    done = cli(layout, "import", "claude-code")
    assert done.stdout == (
        "telemetry-csv import: added 2 rows from claude-code; 1 already in the log\n"
    )
    assert log_lines(layout.root)[1:] == [CLAUDE_ROWS[0], *CLAUDE_ROWS[1:]]


def test_a_growing_session_adds_only_its_new_closed_slices(layout: Layout) -> None:
    """The library the command calls, with the clock chosen, on the repository's own log."""
    session = (
        layout.home / ".claude" / "projects" / claude_project(layout.root)
    ) / "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa.jsonl"
    whole = session.read_text().splitlines(keepends=True)
    session.write_text("".join(whole[:10]))
    settings = load_settings(layout.root)
    env = {"HOME": str(layout.home)}

    def imported(at: str) -> int:
        return import_sessions(settings, ["claude-code"], now=instant(at), environ=env).added

    assert imported("2026-03-11T11:10:00Z") == 0  # nothing closed yet
    assert imported("2026-03-11T11:20:00Z") == 1  # the 10:00 window
    with session.open("a") as stream:
        stream.write(whole[10])
    assert imported("2026-03-11T11:50:00Z") == 0  # 11:00 still open
    assert imported("2026-03-11T12:20:00Z") == 2  # its two slices, the haiku one too
    assert imported("2026-03-11T13:20:00Z") == 0
    assert log_lines(layout.root)[1:] == CLAUDE_ROWS


def test_damaged_session_files_are_skipped_and_counted(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "damaged")
    git(layout.root, "init", "-q")
    done = cli(layout, "import", "claude-code")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith("telemetry-csv import: added ") and "; skipped: " in line
    assert "corrupt line (not JSON)" in line
    assert cli(layout, "check").returncode == 0


def test_outside_a_repository_every_import_reads_everything(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    for expected in ("added 3 rows", "added 0 rows from claude-code; 3 already in the log"):
        done = cli(layout, "import", "claude-code")
        assert expected in done.stdout, done.stderr
    assert not (layout.root / ".git").exists()


def test_a_linked_worktree_keeps_its_own_state(layout: Layout) -> None:
    (layout.root / "README").write_text("x\n")
    git(layout.root, "add", "-A")
    git(layout.root, "commit", "-qm", "first")
    linked = layout.root.parent / "linked"
    git(layout.root, "worktree", "add", "-q", str(linked))
    folder = state_folder(linked)
    assert folder is not None and folder.parent.parent.name == "worktrees"
    assert folder != state_folder(layout.root)


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["import", "cursor"], "", "argument SOURCE: invalid choice: 'cursor'"),
        (["import", "codex", "--since", "yesterday"], "", "--since: 'yesterday' is not allowed"),
        (["import", "codex", "--task-type", "deploy"], "", "--task-type: 'deploy' is not allowed"),
        (["import", "all", "--from", "x"], "", "--from PATH reads one agent's files"),
        (["import", "codex", "--idle-limit", "15"], "", "--idle-limit: '15' is not allowed"),
        (["import", "codex"], 'import_task_type = "deploy"\n', "import_task_type = 'deploy' is "
         "not allowed; expected one of the task types"),
        (["import", "codex"], 'import_success = "maybe"\n', "import_success = 'maybe' is not "
         "allowed; expected unless-api-error or always"),
        (["import", "codex"], 'import_idle_limit = 900\n', "import_idle_limit = 900 is not "
         "allowed; expected a duration"),
        (["import", "codex"], 'codex_model = "gpt 5"\n', "codex_model = 'gpt 5' is not allowed"),
        (["import", "codex"], 'task_types = ["plan"]\n', "give --task-type, or set "
         "import_task_type"),
    ],
)  # fmt: skip
def test_bad_arguments_and_settings_are_one_line_and_status_2(
    layout: Layout, args: list[str], config: str, message: str
) -> None:
    if config:
        (layout.root / ".telemetry").mkdir()
        (layout.root / ".telemetry" / "config.toml").write_text(config)
    done = cli(layout, *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not log_files(layout.root / LOG)  # no log, no shard


def test_a_from_path_that_does_not_exist_is_an_error(layout: Layout) -> None:
    done = cli(layout, "import", "codex", "--from", "no/such/folder")
    assert (done.returncode, done.stdout) == (4, "")
    assert (
        done.stderr
        == "telemetry-csv import: error: --from no/such/folder: no such file or folder\n"
    )


def test_settings_give_the_defaults(layout: Layout) -> None:
    (layout.root / ".telemetry").mkdir()
    (layout.root / ".telemetry" / "config.toml").write_text(
        'import_task_type = "discuss"\nimport_success = "always"\nimport_idle_limit = "1m"\n'
    )
    layout.install("claude-code", "errors")
    assert cli(layout, "import", "claude-code").returncode == 0
    found = list(read_rows(log_files(layout.root / LOG)))
    assert {row.task_type for row in found} == {"discuss"}
    assert all(row.task_success for row in found)


# Two clones of one repository on one machine import the same sessions, then meet.


def clone(origin: Path, where: Path, layout: Layout) -> Path:
    git(where.parent, "clone", "-q", str(origin), where.name)
    for args in (["init", "--git"],):
        done = cli(layout, *args, cwd=where)
        assert done.returncode == 0, done.stderr
    return where


@pytest.mark.slow
@pytest.mark.parametrize("same_settings", [True, False], ids=["same rows", "other task type"])
@pytest.mark.parametrize("files", ["team", "single"])
def test_two_clones_importing_the_same_sessions_count_them_once(
    tmp_path: Path, same_settings: bool, files: str
) -> None:
    """In the single layout the merge driver keeps identical lines once; in the team layout each
    clone's rows are a shard of its own, both kept, and every reader counts each id once."""
    layout = Layout(tmp_path, root_name="first")
    layout.install("claude-code", "basic")
    layout.install("codex", "basic")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(origin), "seed")
    if files == "single":
        (seed / ".telemetry").mkdir()
        (seed / ".telemetry" / "config.toml").write_text('layout = "single"\n')
    assert cli(layout, "init", cwd=seed).returncode == 0
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "telemetry-csv init")
    git(seed, "push", "-q", "origin", "main")
    first = clone(origin, layout.root, layout)
    second = clone(origin, tmp_path / "work" / "first" / "second", layout)  # inside the worktree
    # Sessions run in the first clone's folder; the second clone lies inside it, so
    # --all-projects there takes the same sessions.
    assert cli(layout, "import", "all", cwd=first).returncode == 0
    args = [] if same_settings else ["--task-type", "plan"]
    assert cli(layout, "import", "all", "--all-projects", *args, cwd=second).returncode == 0
    for repo, message in ((first, "first import"), (second, "second import")):
        git(repo, "add", ".telemetry")  # the log, or the new shard
        git(repo, "commit", "-qm", message)
    git(first, "push", "-q", "origin", "main")
    pulled = subprocess.run(
        ["git", "pull", "-q", "--no-rebase", "origin", "main"],
        cwd=second,
        capture_output=True,
        text=True,
        env=environment(layout),
        check=False,
    )
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    git(second, "push", "-q", "origin", "main")
    git(first, "pull", "-q", "--no-rebase", "origin", "main")
    for repo in (first, second):
        rows = list(read_rows(log_files(repo / LOG)))
        # Identical lines merge as one in the one file; the team layout keeps both shards.
        assert len(rows) == (5 if same_settings and files == "single" else 10)
        if files == "team":
            assert len(shards(repo / LOG)) == 2
        report = cli(layout, "report", "--format", "json", "--no-costs", cwd=repo)
        document = json.loads(report.stdout)
        assert document["rows"] == 5, report.stderr
        assert document["totals"]["prompt_tokens"] == 36618 + 50 + 13107 + 12000 + 8000
        assert cli(layout, "check", cwd=repo).returncode == 0
        # Importing again adds nothing: the pull changed the log, so everything is read again
        # and every id is found in it.
        again = cli(layout, "import", "all", "--all-projects", cwd=repo)
        assert "added 0 rows" in again.stdout, again.stderr
