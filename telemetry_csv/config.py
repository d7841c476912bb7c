"""Where the log is and what a repository configured for it.

Settings come from `[tool.telemetry-csv]` in the repository's `pyproject.toml` and/or
`.telemetry/config.toml` (same keys, without the table header). A key set in both places is an
error rather than a silent precedence rule. The repository root is the nearest folder, from the
working directory up, that holds `.git` (a folder, or a file in worktrees and submodules);
outside a repository, the working directory stands in for it.

A repository's settings are untrusted input (anyone can commit them): the files are read only
if they are regular files inside the repository, at most `CONFIG_LIMIT` bytes, without ever
blocking; every value is checked for its type; and the log must be inside the repository,
reached through real folders only (`fs.require_real_folders`), so no setting can make the tool
write elsewhere.

`layout` says where `log` writes: "team" (the default) puts rows in small files of their own,
one per branch and commit, in the log's shard folder (`.telemetry/usage.rows/`), so that
branches never touch the same file; "single" appends to the one log file, as before.
`settings_from_texts` reads the same settings from file contents, for the append-only rules,
which compare the log of two revisions each as its own revision configured it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import ConfigError, LogFileError
from telemetry_csv.logfile.layout import log_name_problem, shard_folder
from telemetry_csv.logfile.schema import (
    DEFAULT_TASK_TYPES,
    Schema,
    is_task_type_name,
    model_problem,
)
from telemetry_csv.logfile.writing import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from telemetry_csv.limits import Budget

DEFAULT_LOG = Path(".telemetry") / "usage.csv"
CONFIG_FILE = Path(".telemetry") / "config.toml"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MIN_MAX_BYTES = 1024
KEYS = (
    "log",
    "max_bytes",
    "task_types",
    "lock_timeout",
    "layout",
    "budgets",
    "import_task_type",
    "import_success",
    "import_idle_limit",
    "codex_model",
)
CONFIG_LIMIT = 4 << 20  # bytes; a larger settings file is refused, not read
LAYOUTS = ("team", "single")
DEFAULT_LAYOUT = "team"
# `import`: the task type of imported rows, and when a slice counts as a success (docs/importing.md).
DEFAULT_IMPORT_TASK_TYPE = "execute"
IMPORT_SUCCESS_RULES = ("unless-api-error", "always")
DEFAULT_IMPORT_IDLE_LIMIT_MS = 15 * 60_000  # the keyboard time-out WakaTime uses


class Settings(NamedTuple):
    """A repository's settings, each with its default where it sets none. (A named tuple: a
    dataclass would cost `log`'s start-up more than this whole module.)"""

    root: Path  # the repository root (or the working directory outside a repository)
    log_path: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    task_types: tuple[str, ...] = DEFAULT_TASK_TYPES
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    budgets: tuple[Budget, ...] = ()  # checked by `report --budgets` only (see limits.py)
    layout: str = DEFAULT_LAYOUT  # "team": shards; "single": the one log file
    import_task_type: str | None = None  # None: execute, where it is a task type
    import_success: str = IMPORT_SUCCESS_RULES[0]
    import_idle_limit_ms: int = DEFAULT_IMPORT_IDLE_LIMIT_MS
    codex_model: str | None = None  # Codex names no model in `codex exec --json` or old rollouts

    @property
    def schema(self) -> Schema:
        return Schema(self.task_types)

    @property
    def shard_folder(self) -> Path:
        """Where the team layout's files live: beside the log, named after it."""
        return shard_folder(self.log_path)


def find_repo_root(start: Path) -> Path | None:
    """The nearest folder from `start` up that holds `.git`, or None outside a repository."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if os.path.exists(folder / ".git"):
            return folder
    return None


def load_settings(start: Path | None = None) -> Settings:
    """The settings that apply in `start` (default: the working directory)."""
    start = Path.cwd() if start is None else start
    repository = find_repo_root(start)
    root = repository or start.resolve()
    cache = _TableCache(repository)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path, table in ((root / "pyproject.toml", True), (root / CONFIG_FILE, False)):
        for key, value in _read_table(path, table, root, cache).items():
            if key in values:
                raise ConfigError(
                    f"{key} is set in both {origin[key]} and {path.name}; keep it in one place"
                )
            values[key] = value
            origin[key] = path.name
    settings = _settings_from(root, values, origin)
    cache.save()
    return settings


def settings_from_texts(root: Path, pyproject: str | None, config: str | None) -> Settings:
    """The settings that a `pyproject.toml` and a `.telemetry/config.toml` with these contents
    hold (None: no such file), as `load_settings` reads them from files: the append-only rules
    read a revision's settings from git's objects."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    cache = _TableCache(root)
    for name, text, table in (("pyproject.toml", pyproject, True), ("config.toml", config, False)):
        for key, value in ({} if text is None else _parse_table(name, text, table, cache)).items():
            if key in values:
                raise ConfigError(
                    f"{key} is set in both {origin[key]} and {name}; keep it in one place"
                )
            values[key] = value
            origin[key] = name
    settings = _settings_from(root, values, origin)
    cache.save()
    return settings


def _read_table(path: Path, in_pyproject: bool, root: Path, cache: _TableCache) -> dict[str, Any]:
    data = fs.read_bounded(path, CONFIG_LIMIT, within=root)
    if data is None:
        return {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"cannot read {path}: not UTF-8 text (byte {error.start + 1}); TOML files are UTF-8"
        ) from None
    return _parse_table(str(path), text, in_pyproject, cache)


# The ways TOML can name the key `tool.telemetry-csv` (bare or quoted parts, blanks around the
# dot) or open the `tool` table that may hold it: a `[tool]` header, or `tool = {…}` inline.
# Text, compiled on first use: most repositories never need it.
_OUR_TABLE = (
    r"""(?:tool|"tool"|'tool')[ \t]*\.[ \t]*(?:telemetry-csv|"telemetry-csv"|'telemetry-csv')"""
    r"""|^[ \t]*\[\[?[ \t]*(?:tool|"tool"|'tool')[ \t]*\]"""
    r"""|(?:tool|"tool"|'tool')[ \t]*="""
)


def may_hold_our_table(text: str) -> bool:
    """Whether a pyproject.toml can hold a `[tool.telemetry-csv]` table: False only where no
    spelling of it appears (escapes could spell it otherwise, so any escape is a maybe). Most
    pyproject files have no table of ours, and many that name the tool only list it as a
    dependency: they skip the TOML parser, whose import alone costs `log` a tenth of its
    start-up."""
    if "\\u" in text or "\\U" in text:
        return True
    return "telemetry-csv" in text and re.search(_OUR_TABLE, text, re.MULTILINE) is not None


def _parse_table(path: str, text: str, in_pyproject: bool, cache: _TableCache) -> dict[str, Any]:
    if in_pyproject and not may_hold_our_table(text):
        return {}
    table = cache.get(in_pyproject, text)
    if table is None:
        table = _toml_table(path, text, in_pyproject)
        cache.add(in_pyproject, text, table)
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}; allowed settings are {', '.join(KEYS)}"
        )
    return table


def _toml_table(path: str, text: str, in_pyproject: bool) -> dict[str, Any]:
    """The table of ours in a settings file's text: `[tool.telemetry-csv]` in a pyproject.toml,
    the whole document in config.toml."""
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    tool = document.get("tool", {}) if in_pyproject else {}
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    table = tool.get("telemetry-csv", {}) if in_pyproject else document
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.telemetry-csv] must be a table")
    return table


class _TableCache:
    """The tables parsed from settings files, by the exact text they were parsed from, kept
    between runs in the repository's git folder (`.git/telemetry-csv/settings-cache`).

    Importing the TOML parser costs `log` and each hook about 5 ms, a tenth of `log`'s
    start-up, in every repository that configures the tool; the settings rarely change. A
    table is used only for the very text it came from, so an edit, whatever its size or time,
    is parsed afresh. The cache is local state, never committed or cloned: it is read like the
    shard state (no link, no FIFO, bounded) and written whole and atomically; one that cannot
    be read, or holds anything but plain values, is no cache, and failing to write it changes
    nothing but the next run's time. Outside a repository, or in a work tree whose `.git` is a
    file (a linked work tree, a submodule), there is none."""

    VERSION = 1
    LIMIT = 1 << 20  # bytes of the cache file
    TEXT_LIMIT = 64 << 10  # a longer settings file is parsed every time
    ENTRIES = 4  # the settings of HEAD and of the index, and those being edited

    def __init__(self, root: Path | None) -> None:
        self.folder = None if root is None else root / ".git" / "telemetry-csv"
        self.entries: list[tuple[bool, str, dict[str, Any]]] | None = None  # read when asked
        self.changed = False

    def get(self, in_pyproject: bool, text: str) -> dict[str, Any] | None:
        if self.entries is None:
            self.entries = self._read()
        for entry in self.entries:
            if entry[0] == in_pyproject and entry[1] == text:
                return entry[2]
        return None

    def add(self, in_pyproject: bool, text: str, table: dict[str, Any]) -> None:
        """Keep a table just parsed (saved by `save`, once the settings proved valid)."""
        if len(text) > self.TEXT_LIMIT or not _plain(table):
            return  # TOML's dates and times are no plain values: parsed every time
        entries = [entry for entry in self.entries or () if entry[:2] != (in_pyproject, text)]
        self.entries = [(in_pyproject, text, table), *entries][: self.ENTRIES]
        self.changed = True

    def save(self) -> None:
        """Write the tables added, if any: only after settings that are valid, so that a
        command refused for its settings writes nothing."""
        if self.folder is None or not self.changed:
            return
        import marshal

        try:
            if fs.require_folder(self.folder.parent):  # `.git` a real folder, not a file
                fs.require_folder(self.folder, create=True)
                data = marshal.dumps((self.VERSION, self.entries))
                fs.replace(self.folder / "settings-cache", data)
        except (OSError, LogFileError):
            pass

    def _read(self) -> list[tuple[bool, str, dict[str, Any]]]:
        if self.folder is None:
            return []
        import marshal

        try:
            if not fs.require_folder(self.folder):
                return []
            data = fs.read_bounded(self.folder / "settings-cache", self.LIMIT)
            found = marshal.loads(data) if data is not None else None
        except (LogFileError, EOFError, ValueError, TypeError):
            return []
        if not (type(found) is tuple and len(found) == 2 and found[0] == self.VERSION):
            return []
        entries = found[1]
        if type(entries) is not list or not all(
            type(entry) is tuple
            and len(entry) == 3
            and type(entry[0]) is bool
            and type(entry[1]) is str
            and type(entry[2]) is dict
            and _plain(entry[2])
            for entry in entries
        ):
            return []
        return entries


def _plain(value: object) -> bool:
    """Whether `value` holds only what a TOML table of ours may: text, numbers, booleans, and
    lists and tables of them."""
    if type(value) in (str, int, float, bool):
        return True
    if type(value) is list:
        return all(map(_plain, value))
    if type(value) is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return False


def _settings_from(root: Path, values: dict[str, Any], origin: dict[str, str]) -> Settings:
    def fail(key: str, allowed: str) -> ConfigError:
        return ConfigError(f"{origin[key]}: {key} = {values[key]!r} is not allowed; {allowed}")

    log = values.get("log", str(DEFAULT_LOG))
    if not isinstance(log, str) or not log.strip():
        raise fail("log", "expected a path relative to the repository root")
    if "\0" in log or PurePath(log).is_absolute() or ".." in PurePath(log).parts:
        raise fail("log", "expected a path inside the repository, relative to its root, without ..")
    problem = log_name_problem(Path(log).name)
    if problem:
        raise fail("log", problem)
    what = f"{origin['log']}: log = {log!r}" if "log" in values else f"the log {log}"
    log_path = fs.require_real_folders(root, log, what)
    max_bytes = values.get("max_bytes", DEFAULT_MAX_BYTES)
    problem = max_bytes_problem(max_bytes)
    if problem:
        raise fail("max_bytes", problem)
    task_types = values.get("task_types", list(DEFAULT_TASK_TYPES))
    if (
        not isinstance(task_types, list)
        or not task_types
        or not all(isinstance(t, str) and is_task_type_name(t) for t in task_types)
        or len(set(task_types)) != len(task_types)
    ):
        raise fail(
            "task_types",
            'expected a non-empty list of distinct names like "plan" '
            "(lower-case letters, digits, - and _, starting with a letter, at most 32 characters)",
        )
    lock_timeout = values.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
    problem = lock_timeout_problem(lock_timeout)
    if problem:
        raise fail("lock_timeout", problem)
    import_task_type = values.get("import_task_type")
    if import_task_type is not None and import_task_type not in task_types:
        raise fail("import_task_type", f"expected one of the task types: {'|'.join(task_types)}")
    import_success = values.get("import_success", IMPORT_SUCCESS_RULES[0])
    if import_success not in IMPORT_SUCCESS_RULES:
        raise fail("import_success", f"expected {' or '.join(IMPORT_SUCCESS_RULES)}")
    idle_limit_ms: int | None = DEFAULT_IMPORT_IDLE_LIMIT_MS
    if "import_idle_limit" in values:  # parsed only when set: `log` never loads the parser
        idle_limit_ms = _duration_ms(values["import_idle_limit"])
    if idle_limit_ms is None:
        raise fail("import_idle_limit", "expected a duration above 0 such as 15m, 5m or 1h30m")
    codex_model = values.get("codex_model")
    if codex_model is not None and (
        not isinstance(codex_model, str) or model_problem(codex_model) is not None
    ):
        raise fail("codex_model", "expected a model name such as gpt-5-codex")
    budgets: tuple[Budget, ...] = ()
    if "budgets" in values:  # imported only then: `log` starts without it
        from telemetry_csv.limits import budgets_from_table

        budgets = budgets_from_table(values["budgets"], origin["budgets"])
    for budget in budgets:
        if (
            budget.scope
            and budget.scope.kind == "task_type"
            and budget.scope.name not in task_types
        ):
            raise ConfigError(
                f"{budget.source}: {budget.scope.name!r} is not a configured task type; "
                f"expected one of {', '.join(task_types)}"
            )
    layout = values.get("layout", DEFAULT_LAYOUT)
    if layout not in LAYOUTS:
        raise fail(
            "layout",
            'expected "team" (rows in files of their own per branch, never a merge conflict) '
            'or "single" (one file)',
        )
    return Settings(
        root=root,
        log_path=log_path,
        max_bytes=max_bytes,
        task_types=tuple(task_types),
        lock_timeout=float(lock_timeout),
        import_task_type=import_task_type,
        import_success=import_success,
        import_idle_limit_ms=idle_limit_ms,
        codex_model=codex_model,
        budgets=budgets,
        layout=layout,
    )


def _duration_ms(value: object) -> int | None:
    """A duration setting in milliseconds (text with units, as `--duration` takes), or None."""
    if not isinstance(value, str):
        return None
    from telemetry_csv.durations import parse_duration
    from telemetry_csv.errors import InvalidValueError

    try:
        milliseconds = parse_duration(value)
    except InvalidValueError:
        return None
    return milliseconds if milliseconds > 0 else None


def max_bytes_problem(value: object) -> str | None:
    """Why a size limit is not allowed, or None: the one rule for the setting and `--max-bytes`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_MAX_BYTES:
        return f"expected a whole number of bytes, at least {MIN_MAX_BYTES}"
    return None


def validate_max_bytes(value: int) -> int:
    problem = max_bytes_problem(value)
    if problem:
        raise ConfigError(f"max_bytes: {value} is not allowed; {problem}")
    return value


def lock_timeout_problem(value: object) -> str | None:
    """Why a wait for the log's lock is not allowed, or None: the one rule for the setting,
    `--lock-timeout` and `log_row`. filelock takes a negative timeout as "wait for ever" and
    fails on nan, so only finite seconds, 0 or more, are allowed."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value < float("inf")  # also false for nan
    ):
        return "expected a number of seconds, 0 or more, not infinite"
    return None


def validate_lock_timeout(value: float) -> float:
    problem = lock_timeout_problem(value)
    if problem:
        raise ConfigError(f"lock_timeout: {value} is not allowed; {problem}")
    return float(value)
