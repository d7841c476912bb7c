"""Session folders nobody vouches for: links, FIFOs, unreadable and vanishing files, lines
still being written, lines too long to hold. The import goes on and says what it skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from telemetry_csv import importing
from telemetry_csv.importing import collecting, discovery, feed, lines
from telemetry_csv.importing.feed import Feed
from telemetry_csv.importing.slicing import Accumulator
from testing.agentfixtures import NOW, Layout, claude_project, instant, rows


def collect(layout: Layout, **options: object) -> importing.ImportResult:
    settings: dict[str, object] = {"root": layout.root, "now": NOW, "environ": layout.environ}
    settings.update(options)
    return importing.collect("claude-code", **settings)  # type: ignore[arg-type]


def project_folder(layout: Layout) -> Path:
    return layout.home / ".claude" / "projects" / claude_project(layout.root)


def record(layout: Layout, ts: str, message_id: str, tokens: int) -> str:
    return (
        json.dumps(
            {
                "type": "assistant",
                "cwd": str(layout.root),
                "sessionId": "77777777-eeee-4eee-8eee-eeeeeeeeeeee",
                "version": "2.1.3",
                "gitBranch": "main",
                "timestamp": ts,
                "requestId": f"req-{message_id}",
                "message": {
                    "id": message_id,
                    "model": "claude-sonnet-4-5-20250929",
                    "usage": {"input_tokens": tokens, "output_tokens": 1},
                },
            }
        )
        + "\n"
    )


def test_links_fifos_and_odd_entries_are_skipped_without_reading_them(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    folder = project_folder(layout)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "stolen.jsonl"
    secret.write_text(record(layout, "2026-03-11T10:05:00.000Z", "msg_stolen", 999))
    (folder / "link.jsonl").symlink_to(secret)
    (folder / "linked-folder").symlink_to(outside)
    os.mkfifo(folder / "pipe.jsonl")
    (folder / "notes.txt").write_text("not a session\n")
    # In a child process with a time limit: a FIFO that is opened for reading blocks forever.
    script = textwrap.dedent(
        """
        import json, sys
        from telemetry_csv import importing
        r = importing.collect("claude-code", root=sys.argv[1], now=float(sys.argv[2]),
                              environ={"HOME": sys.argv[3]})
        print(json.dumps({"rows": [p.fields()[2] for p in r.slices], "skipped": r.skipped}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(layout.root), str(NOW), str(layout.home)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer["rows"] == [36618, 50, 13107]  # nothing from the linked file
    assert answer["skipped"] == {lines.SYMLINK: 2, lines.NOT_REGULAR: 1}


def test_a_file_swapped_for_a_fifo_or_link_after_the_scan_is_refused(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    (found,) = discovery.scan("claude-code", environ=layout.environ).files
    path = Path(found.path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(OSError):
        found.open()  # O_NONBLOCK: refused at once, not blocked
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(OSError) as caught:
        found.open()
    assert lines.reason_for(caught.value) == lines.SYMLINK


def test_a_file_that_vanishes_before_it_is_read_is_counted(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    (found,) = discovery.scan("claude-code", environ=layout.environ).files
    Path(found.path).unlink()
    sink = Feed(Accumulator(), root=None, idle_limit_ms=60_000)
    assert collecting._read_changed("claude-code", found, None, sink) is None
    assert sink.skipped == {lines.VANISHED: 1}
    # Replaced by a shorter file under the same name (which may get the same inode number):
    # not the file that was scanned either.
    Path(found.path).write_text("{}\n")
    assert collecting._read_changed("claude-code", found, None, sink) is None
    assert sink.skipped == {lines.VANISHED: 2}


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder every user may enter, for a child process that drops root's rights."""
    folder = Path(tempfile.mkdtemp(prefix="telemetry-import-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_an_unreadable_file_is_counted_and_the_rest_imported(open_folder: Path) -> None:
    layout = Layout(open_folder)
    layout.install("claude-code", "basic")
    layout.install("claude-code", "errors")
    for path in [open_folder, *open_folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    project_folder(layout).joinpath("44444444-cccc-4ccc-8ccc-cccccccccccc.jsonl").chmod(0)
    # Root reads anything: the child imports everything it needs, then becomes `nobody`.
    script = textwrap.dedent(
        """
        import hashlib, json, os, sys, datetime, bisect
        from telemetry_csv import importing, secrets_scan
        from telemetry_csv.logfile import schema
        from telemetry_csv.importing import claude, collecting, slicing, discovery, feed
        secrets_scan.find_secret("warm up the patterns")
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        r = importing.collect("claude-code", root=sys.argv[1], now=float(sys.argv[2]),
                              environ={"HOME": sys.argv[3]})
        print(json.dumps({"rows": [p.fields()[2] for p in r.slices], "skipped": r.skipped}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(layout.root), str(NOW), str(layout.home)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer == {"rows": [36618, 50, 13107], "skipped": {lines.DENIED: 1}}


def test_a_line_still_being_written_is_read_once_it_is_complete(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    folder = project_folder(layout)
    folder.mkdir(parents=True)
    session = folder / "77777777-eeee-4eee-8eee-eeeeeeeeeeee.jsonl"
    second = record(layout, "2026-03-11T10:00:10.000Z", "msg_07B", 20)
    session.write_text(record(layout, "2026-03-11T10:00:00.000Z", "msg_07A", 10) + second[:50])
    state = importing.StateFile(tmp_path / "state.json", "t")
    first = collect(layout, state=state, now=instant("2026-03-11T10:00:11Z"))
    assert first.slices == [] and first.skipped == {feed.INCOMPLETE: 1}
    first.save_state()
    with session.open("a") as stream:
        stream.write(second[50:])
    result = collect(layout, state=state)
    assert [row[2] for row in rows(result)] == [30] and result.skipped == {}


def test_a_last_line_without_its_newline_that_is_complete_counts(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    folder = project_folder(layout)
    folder.mkdir(parents=True)
    session = folder / "77777777-eeee-4eee-8eee-eeeeeeeeeeee.jsonl"
    session.write_text(
        record(layout, "2026-03-11T10:00:00.000Z", "msg_07A", 10)
        + record(layout, "2026-03-11T10:00:10.000Z", "msg_07B", 20).rstrip("\n")
    )
    state = importing.StateFile(tmp_path / "state.json", "t")
    result = collect(layout, state=state)
    assert [row[2] for row in rows(result)] == [30] and result.skipped == {}
    result.save_state()
    with session.open("a") as stream:  # the writer ends the line and goes on
        stream.write("\n" + record(layout, "2026-03-11T12:50:00.000Z", "msg_07C", 40))
    result = collect(layout, state=state, now=NOW + 3600)
    assert [row[2] for row in rows(result)] == [40] and result.skipped == {}


@pytest.mark.slow
def test_a_huge_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    folder = project_folder(layout)
    folder.mkdir(parents=True)
    session = folder / "77777777-eeee-4eee-8eee-eeeeeeeeeeee.jsonl"
    with session.open("w") as stream:
        stream.write(record(layout, "2026-03-11T10:00:00.000Z", "msg_07A", 10))
        stream.write('{"type":"user","message":{"content":"')
        chunk = "x" * (1 << 20)
        for _ in range(96):  # three times the limit
            stream.write(chunk)
        stream.write('"}}\n')
        stream.write(record(layout, "2026-03-11T10:00:10.000Z", "msg_07B", 20))
    tracemalloc.start()
    try:
        result = collect(layout)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [row[2] for row in rows(result)] == [30]
    assert result.skipped == {lines.TOO_LONG: 1}
    assert peak < 3 * lines.MAX_LINE_BYTES  # the 96 MiB line was never held


def test_unknown_codex_records_and_corrupt_lines_are_counted(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "basic")
    rollout = next((layout.home / ".codex").rglob("rollout-*.jsonl"))
    with rollout.open("a") as stream:
        stream.write('{"timestamp":"2026-03-11T10:40:00.000Z","type":"ghost_item","payload":{}}\n')
        stream.write(
            '{"timestamp":"2026-03-11T10:41:00.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":"many"}}}}\n'
        )
        stream.write("\x00\x01garbage\n")
    result = importing.collect("codex", root=layout.root, now=NOW, environ=layout.environ)
    assert [row[2] for row in rows(result)] == [12000, 8000]
    from telemetry_csv.importing import codex

    assert result.skipped == {feed.UNKNOWN_TYPE: 1, codex.BAD_TOTALS: 1, feed.CORRUPT: 1}


def test_import_refuses_in_one_line_where_open_has_no_dir_fd() -> None:
    """Windows: no `dir_fd`, so no way to read a folder without following a link swapped in."""
    import subprocess
    import sys

    # A child interpreter where os.open takes no dir_fd, as on Windows (the real os module,
    # only its table of what takes dir_fd emptied before the package is imported).
    code = (
        "import os, sys; os.supports_dir_fd = set()\n"
        "from telemetry_csv.cli.main import main\n"
        "sys.exit(main(['import', 'claude-code', '--dry-run', '--all-projects']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "dir_fd" in done.stderr
    assert "Traceback" not in done.stderr
