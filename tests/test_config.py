"""Settings from pyproject.toml and .telemetry/config.toml, found from any folder of a repository."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv.config import (
    DEFAULT_MAX_BYTES,
    find_repo_root,
    load_settings,
    lock_timeout_problem,
    may_hold_our_table,
)
from telemetry_csv.errors import ConfigError
from telemetry_csv.logfile.schema import DEFAULT_TASK_TYPES


def test_defaults_at_the_repository_root(repo: Path) -> None:
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    settings = load_settings(sub)
    assert settings.root == repo.resolve()
    assert settings.log_path == repo.resolve() / ".telemetry" / "usage.csv"
    assert settings.max_bytes == DEFAULT_MAX_BYTES == 10_485_760
    assert settings.task_types == DEFAULT_TASK_TYPES


def test_outside_a_repository_the_working_directory_is_the_root(tmp_path: Path) -> None:
    assert find_repo_root(tmp_path) is None
    assert load_settings(tmp_path).log_path == tmp_path.resolve() / ".telemetry" / "usage.csv"


def test_a_git_file_marks_a_worktree_root(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    (tmp_path / "sub").mkdir()
    assert find_repo_root(tmp_path / "sub") == tmp_path.resolve()


def test_pyproject_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.telemetry-csv]\nlog = "ops/llm.csv"\n'
        'max_bytes = 2048\ntask_types = ["review", "deploy"]\nlock_timeout = 2.5\n'
    )
    settings = load_settings(repo)
    assert settings.log_path == repo.resolve() / "ops" / "llm.csv"
    assert settings.max_bytes == 2048
    assert settings.task_types == ("review", "deploy")
    assert settings.lock_timeout == 2.5
    assert settings.schema.task_types == ("review", "deploy")


def test_config_file_in_the_telemetry_folder(repo: Path) -> None:
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text('task_types = ["plan", "review"]\n')
    assert load_settings(repo).task_types == ("plan", "review")


def test_a_key_in_both_places_is_an_error(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.telemetry-csv]\nmax_bytes = 2048\n")
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text("max_bytes = 4096\n")
    with pytest.raises(
        ConfigError, match=r"max_bytes is set in both pyproject\.toml and config\.toml"
    ):
        load_settings(repo)


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        (
            "max_bytes = 10",
            "max_bytes = 10 is not allowed; expected a whole number of bytes, at least 1024",
        ),
        ('max_bytes = "10MiB"', "max_bytes = '10MiB' is not allowed"),
        ("task_types = []", "task_types = [] is not allowed"),
        ('task_types = ["Plan"]', "lower-case letters"),
        ('task_types = ["plan", "plan"]', "distinct"),
        ("lock_timeout = -1", "lock_timeout = -1 is not allowed"),
        ("lock_timeout = nan", "lock_timeout = nan is not allowed; expected a number of seconds"),
        ("lock_timeout = inf", "lock_timeout = inf is not allowed; expected a number of seconds"),
        ('lock_timeout = "5"', "lock_timeout = '5' is not allowed"),
        ("log = 3", "log = 3 is not allowed"),
        ("colour = true", "unknown setting 'colour'; allowed settings are log, max_bytes"),
        ("max_bytes = ", "not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_errors(repo: Path, toml: str, fragment: str) -> None:
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text(toml + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo)
    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


def test_pyproject_without_our_table_is_ignored(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert load_settings(repo).max_bytes == DEFAULT_MAX_BYTES


@pytest.mark.parametrize(
    "text",
    [
        "[tool.telemetry-csv]\nmax_bytes = 2048\n",
        '[ tool . "telemetry-csv" ]\nmax_bytes = 2048\n',
        "[\t'tool'.'telemetry-csv']\nmax_bytes = 2048\n",
        "[tool]\ntelemetry-csv = { max_bytes = 2048 }\n",
        '[tool]\n"telemetry-csv".max_bytes = 2048\n',
        "tool.telemetry-csv.max_bytes = 2048\n[project]\nname = 'x'\n",
        "tool = { telemetry-csv = { max_bytes = 2048 } }\n",
        '[tool."telemetry\\u002dcsv"]\nmax_bytes = 2048\n',
        '[tool."telemetry-csv"]\nmax_bytes = 2048\n',
    ],
)
def test_every_spelling_of_our_table_is_read(repo: Path, text: str) -> None:
    if "[project]" not in text:  # a file that names the tool elsewhere too
        text += '[project]\ndependencies = ["telemetry-csv"]\n'
    (repo / "pyproject.toml").write_text(text)
    assert load_settings(repo).max_bytes == 2048


_PART = st.sampled_from(["{}", '"{}"', "'{}'"])
_BLANK = st.sampled_from(["", " ", "\t", " \t "])


@given(
    tool=_PART,
    ours=_PART | st.just('"telemetry\\u002dcsv"'),
    blanks=st.lists(_BLANK, min_size=4, max_size=4),
    form=st.sampled_from(["header", "dotted", "under tool", "inline"]),
)
def test_the_prefilter_never_skips_a_table_of_ours(
    tool: str, ours: str, blanks: list[str], form: str
) -> None:
    """Whatever spelling TOML allows for `tool.telemetry-csv`, the prefilter lets it through
    to the parser (the parser is the judge of what the file holds)."""
    key_tool, key_ours = tool.format("tool"), ours.format("telemetry-csv")
    a, b, c, d = blanks
    text = {
        "header": f"[{a}{key_tool}{b}.{c}{key_ours}{d}]\nmax_bytes = 1\n",
        "dotted": f"{a}{key_tool}{b}.{c}{key_ours}{d}.max_bytes = 1\n",
        "under tool": f"[{a}{key_tool}{b}]\n{c}{key_ours}{d}.max_bytes = 1\n",
        "inline": f"{a}{key_tool}{b}= {{ {c}{key_ours}{d}= {{ max_bytes = 1 }} }}\n",
    }[form]
    # A file that names the tool elsewhere too: root keys first, then the other tables.
    text += '[project]\nname = "telemetry-csv"\n'
    assert tomllib.loads(text)["tool"]["telemetry-csv"] == {"max_bytes": 1}
    assert may_hold_our_table(text)


@pytest.mark.parametrize(
    "text",
    [
        '[project]\ndependencies = ["telemetry-csv>=1"]\n',
        '[project.optional-dependencies]\ndev = ["telemetry-csv"]\n[tool.ruff]\nline-length = 9\n',
        '[tool.poetry.group.dev.dependencies]\ntelemetry-csv = "^1.0"\n',
        '[project]\nname = "telemetry-csv"\n[project.scripts]\ntelemetry-csv = "m:main"\n',
    ],
)
def test_a_pyproject_that_only_names_the_tool_is_not_parsed(repo: Path, text: str) -> None:
    """`log` in a repository that lists the tool as a dependency starts without the TOML
    parser (its import is a tenth of `log`'s start-up)."""
    assert not may_hold_our_table(text)
    (repo / "pyproject.toml").write_text(text)
    script = (
        "import sys\nfrom telemetry_csv.config import load_settings\n"
        "print(load_settings().max_bytes, 'tomllib' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == [str(DEFAULT_MAX_BYTES), "False"]


@pytest.mark.parametrize("value", [0, 0.5, 10, 3600])
def test_lock_timeout_rule_accepts(value: float) -> None:
    assert lock_timeout_problem(value) is None


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, "5", None])
def test_lock_timeout_rule_refuses(value: object) -> None:
    assert lock_timeout_problem(value) == "expected a number of seconds, 0 or more, not infinite"


# The parsed settings kept between runs (config._TableCache).

LOAD_SCRIPT = (
    "import sys\nfrom telemetry_csv.config import load_settings\n"
    "settings = load_settings()\n"
    "print(settings.max_bytes, settings.task_types, 'tomllib' in sys.modules)"
)


def _load_in_a_process(repo: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_second_run_reads_the_settings_without_the_toml_parser(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.telemetry-csv]\nmax_bytes = 2048\n'
    )
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text('task_types = ["plan", "ship"]\n')
    first = _load_in_a_process(repo)
    assert first == "2048 ('plan', 'ship') True"
    assert (repo / ".git" / "telemetry-csv" / "settings-cache").is_file()
    assert _load_in_a_process(repo) == "2048 ('plan', 'ship') False"


def test_an_edit_of_the_same_size_and_time_is_read_afresh(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text("[tool.telemetry-csv]\nmax_bytes = 2048\n")
    assert load_settings(repo).max_bytes == 2048
    before = pyproject.stat()
    pyproject.write_text("[tool.telemetry-csv]\nmax_bytes = 4096\n")
    os.utime(pyproject, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load_settings(repo).max_bytes == 4096
    assert load_settings(repo).max_bytes == 4096


def test_settings_that_are_refused_leave_no_cache(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.telemetry-csv]\nmax_bytes = 1\n")
    with pytest.raises(ConfigError, match="max_bytes"):
        load_settings(repo)
    (repo / "pyproject.toml").write_text("[tool.telemetry-csv]\nmax_byte = 2048\n")
    with pytest.raises(ConfigError, match="unknown setting 'max_byte'"):
        load_settings(repo)
    assert not (repo / ".git" / "telemetry-csv").exists()


@pytest.mark.parametrize(
    "hostile", ["link to a file", "FIFO", "garbage", "code object", "wrong types", "linked folder"]
)
def test_a_cache_that_is_no_plain_file_of_ours_is_no_cache(
    repo: Path, tmp_path: Path, hostile: str
) -> None:
    """Whatever sits where the cache goes, the settings come from the file itself, nothing
    outside the repository is read as settings or written, and nothing hangs."""
    text = "[tool.telemetry-csv]\nmax_bytes = 2048\n"
    (repo / "pyproject.toml").write_text(text)
    folder = repo / ".git" / "telemetry-csv"
    outside = tmp_path / "outside"
    outside.mkdir()
    lie = marshal.dumps((1, [(True, text, {"max_bytes": 999_999})]))
    if hostile == "linked folder":
        (outside / "settings-cache").write_bytes(lie)
        folder.symlink_to(outside)
    else:
        folder.mkdir()
        cache = folder / "settings-cache"
        if hostile == "link to a file":
            (outside / "settings-cache").write_bytes(lie)
            cache.symlink_to(outside / "settings-cache")
        elif hostile == "FIFO":
            os.mkfifo(cache)
        elif hostile == "garbage":
            cache.write_bytes(b"\x00\xffnot marshal" * 100)
        elif hostile == "code object":
            code = compile("1", "x", "eval")
            cache.write_bytes(marshal.dumps((1, [(True, text, {"max_bytes": code})])))
        else:
            cache.write_bytes(marshal.dumps((1, [(True, text, ["max_bytes", 999_999])])))
    assert load_settings(repo).max_bytes == 2048
    assert load_settings(repo).max_bytes == 2048
    if hostile in ("link to a file", "linked folder"):
        assert (outside / "settings-cache").read_bytes() == lie  # never written through
    if hostile != "linked folder":
        assert load_settings(repo).max_bytes == 2048
        assert not (folder / "settings-cache").is_symlink()
