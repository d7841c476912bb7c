"""Whole hostile repositories, as a clone can hold them: a link, a FIFO, a device, a huge file
or a folder at each path the tool touches (the log, a backup, the temporary file's old name,
the lock, .gitignore, .gitattributes, the settings, README.md, `.telemetry` itself, a report's
destination; the shard folder, a shard, a fold and its manifest; the shard, import and export
states in the git folder and the folder that holds them). Every command and hook runs for
real on them, and must keep every promise (testing/hostile.py): nothing outside the repository
changes (a decoy folder is checksummed), the rows are those before or one more, no traceback,
no credential or control character printed, a documented exit status, one line for an error,
no hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testing.hostile import (
    COMMANDS,
    FOLD,
    FOLDERS,
    MANIFEST,
    PLANTS,
    SHARD,
    SHARDS,
    STATES,
    TOUCHED,
    assert_kept_promises,
    make_decoy,
    new_repo,
    plant,
    row_count,
    run,
    snapshot,
)

pytestmark = pytest.mark.slow  # real processes, many of them


FILE, DANGLING, FOLDER_LINK = (
    "link to a file outside",
    "dangling link outside",
    "link to a folder outside",
)
# Per path, the kinds that try what the tool does there: a link outside (written through?), a
# dangling one (created through?), a FIFO or /dev/zero (a hang, or a MemoryError, when read),
# a huge file and a folder (where it is read whole or written).
CASES = {
    ".telemetry/usage.csv": [
        FILE,
        DANGLING,
        "fifo",
        "device",
        "link to /dev/zero",
        FOLDER_LINK,
        "folder",
    ],
    ".telemetry/usage-20260101T000000Z.csv": [FILE, "fifo", "link to /dev/zero"],
    ".telemetry/usage-20990101T000000Z.csv": [FILE, DANGLING],
    ".telemetry/.usage.csv.tmp": [FILE, DANGLING],
    ".telemetry/usage.csv.lock": [FILE, DANGLING, "fifo", "device"],
    ".telemetry/.gitignore": [FILE, DANGLING, "fifo", "link to /dev/zero", "huge file", "folder"],
    ".telemetry/README.md": [FILE, DANGLING],
    ".telemetry/config.toml": [FILE, "fifo", "device", "link to /dev/zero", "huge file", "folder"],
    ".gitattributes": [FILE, DANGLING, "fifo", "link to /dev/zero", "huge file"],
    "pyproject.toml": [FILE, "fifo", "link to /dev/zero", "huge file"],
    ".telemetry": [FOLDER_LINK, DANGLING],
    "report.md": [FILE, DANGLING, "fifo"],
    # The team layout: rows are read from shards and folds, written to new shards and folds.
    SHARDS: [FOLDER_LINK, DANGLING],
    SHARD: [FILE, DANGLING, "fifo", "link to /dev/zero", "huge file"],
    FOLD: [FILE, "fifo", "link to /dev/zero"],
    MANIFEST: [FILE, "fifo", "link to /dev/zero", "huge file"],
    # Local states in the git folder.
    STATES: [FOLDER_LINK, DANGLING],
    f"{STATES}/current": [FILE, DANGLING, "fifo"],
    f"{STATES}/import-state.claude-code.json": [FILE, DANGLING, "fifo", "link to /dev/zero"],
    f"{STATES}/export-otlp.json": [FILE, DANGLING, "fifo", "link to /dev/zero"],
    f"{STATES}/export-otlp.json.lock": [FILE, DANGLING],
}
assert set(CASES) == set(TOUCHED)


def _cases() -> list[tuple[str, str]]:
    return [(name, kind) for name, kinds in CASES.items() for kind in kinds]


def check_every_command(repo: Path, decoy: Path, commands: list[str]) -> None:
    for command in commands:
        argv, adds = COMMANDS[command]
        decoy_before = snapshot(decoy)
        rows_before = row_count(repo)
        done = run(argv, repo)
        assert_kept_promises(
            done,
            command,
            decoy=decoy,
            decoy_before=decoy_before,
            rows_before=rows_before,
            rows_after=row_count(repo),
            adds=adds,
        )


@pytest.mark.parametrize(("name", "kind"), _cases(), ids=lambda value: value.replace(" ", "-"))
def test_every_command_on_a_hostile_path(tmp_path: Path, name: str, kind: str) -> None:
    decoy = make_decoy(tmp_path / "decoy")
    repo = new_repo(tmp_path / "repo")
    plant(repo, decoy, name, kind)
    check_every_command(repo, decoy, list(COMMANDS))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    planted=st.lists(
        st.tuples(st.sampled_from(TOUCHED), st.sampled_from(sorted(PLANTS))),
        min_size=1,
        max_size=4,
        unique_by=lambda pair: pair[0],
    ),
    commands=st.lists(st.sampled_from(sorted(COMMANDS)), min_size=1, max_size=5),
)
def test_repositories_with_several_hostile_paths(
    tmp_path_factory: pytest.TempPathFactory,
    planted: list[tuple[str, str]],
    commands: list[str],
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    decoy = make_decoy(folder / "decoy")
    repo = new_repo(folder / "repo")
    # Folders first, shortest first; nothing is planted below a folder made a link (that would
    # write into the decoy).
    for name, kind in sorted(planted, key=lambda pair: (pair[0] not in FOLDERS, len(pair[0]))):
        if any((repo / folder).is_symlink() for folder in FOLDERS if name.startswith(f"{folder}/")):
            continue
        if name in FOLDERS:
            kind = "link to a folder outside" if "folder" in kind else "dangling link outside"
        plant(repo, decoy, name, kind)
    check_every_command(repo, decoy, commands)
