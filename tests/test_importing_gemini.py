"""Gemini CLI chat recordings: repeated records, rewinds, checkpoints, the legacy JSON form and
its migrated copy, project folders. Expected rows worked out by hand."""

from __future__ import annotations

from pathlib import Path

from telemetry_csv import importing
from testing.agentfixtures import NOW, Layout, rows


def collect(layout: Layout, **options: object) -> importing.ImportResult:
    settings: dict[str, object] = {"root": layout.root, "now": NOW, "environ": layout.environ}
    settings.update(options)
    return importing.collect("gemini", **settings)  # type: ignore[arg-type]


def test_repeated_records_rewinds_and_the_legacy_copy(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("gemini", "basic")
    result = collect(layout)
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # The legacy .json and the .jsonl it was migrated into hold g4 twice: once. g4: 1000
        # in, 50 + 10 out; g5: 2000 in (1000 cached), 60 out. Active 09:09:50 to 09:20:00.
        (
            "2026-03-11T09:20:00Z",
            "gemini-2.5-flash",
            3000,
            120,
            True,
            "execute",
            610000,
            "gemini session 7a8b9c0d",
            1000,
            0,
        ),
        # g1 written three times (first without tokens) and again in the checkpoint: 8000 in,
        # 200 + 300 out. g2, rewound later, was billed: 9000 + 20 tool in, 150 + 50 out. g3:
        # 9500 in, 100 out. Cached 5000 + 8000 + 8500. Active 10:00:00 to 10:02:30.
        (
            "2026-03-11T10:02:30Z",
            "gemini-2.5-pro",
            26520,
            800,
            True,
            "execute",
            150000,
            "gemini session 3c4d5e6f",
            21500,
            0,
        ),
    ]
    assert result.skipped == {}


def test_project_folders_by_marker_registry_and_hash(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("gemini", "scope")
    result = collect(layout)
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # `app-2` is the root by projects.json; the folder named by the root's SHA-256 too.
        (
            "2026-03-11T10:30:20Z",
            "gemini-2.5-pro",
            100,
            1,
            True,
            "execute",
            20000,
            "gemini session aaaa0001",
            0,
            0,
        ),
        (
            "2026-03-11T10:30:20Z",
            "gemini-2.5-pro",
            200,
            2,
            True,
            "execute",
            20000,
            "gemini session aaaa0002",
            0,
            0,
        ),
        # A sub-agent's recording, in chats/<parent>/.
        (
            "2026-03-11T11:30:35Z",
            "gemini-2.5-flash",
            600,
            6,
            True,
            "execute",
            10000,
            "gemini session bbbb0006",
            0,
            0,
        ),
        # An API error after the response: a failure. Active 20 s + 20 s.
        (
            "2026-03-11T11:30:40Z",
            "gemini-2.5-pro",
            500,
            5,
            False,
            "execute",
            40000,
            "gemini session aaaa0005",
            0,
            0,
        ),
    ]
    everything = collect(layout, all_projects=True)
    assert sorted(row[2] for row in rows(everything)) == [100, 200, 300, 400, 500, 600]


def test_gemini_data_dir_and_from_path(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    data = tmp_path / "gemini-data"
    layout.copy(Path(__file__).parent / "fixtures/agents/gemini/basic/tmp", data)
    result = collect(layout, environ={"HOME": str(layout.home), "GEMINI_DATA_DIR": str(data)})
    assert [row[2] for row in rows(result)] == [3000, 26520]
    chats = data / "app" / "chats"
    assert [row[2] for row in rows(collect(layout, from_path=chats))] == [3000, 26520]
    assert [row[2] for row in rows(collect(layout, from_path=data / "app"))] == [3000, 26520]
    legacy = next(chats.glob("*.json"))
    assert [row[2] for row in rows(collect(layout, from_path=legacy))] == [1000]
