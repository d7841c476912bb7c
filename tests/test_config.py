"""Settings from pyproject.toml and .telemetry/config.toml, found from any folder of a repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.config import (
    DEFAULT_MAX_BYTES,
    find_repo_root,
    load_settings,
    lock_timeout_problem,
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


@pytest.mark.parametrize("value", [0, 0.5, 10, 3600])
def test_lock_timeout_rule_accepts(value: float) -> None:
    assert lock_timeout_problem(value) is None


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, "5", None])
def test_lock_timeout_rule_refuses(value: object) -> None:
    assert lock_timeout_problem(value) == "expected a number of seconds, 0 or more, not infinite"
