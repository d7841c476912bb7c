"""`report --format html`: every number on the page is the JSON's, for every selection; the
tables are the Markdown's; hostile names stay text; nothing can be fetched; same bytes twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from html_pages import HOSTILE, Page, cell_value, resolve
from markdown_it import MarkdownIt

from telemetry_csv.errors import EXIT_BUDGET
from telemetry_csv.report.html_format import CSP
from testing.util import BIN, HEADER, git, git_env, row_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from realistic_log import write_realistic_log

ALLOWED_TAGS = {
    *("html", "head", "meta", "link", "title", "style", "body", "main", "header", "footer"),
    *("h1", "h2", "h3", "p", "ul", "li", "nav", "a", "section", "article", "strong", "code"),
    *("div", "span", "figure", "figcaption", "table", "caption", "thead", "tbody", "tr"),
    *("th", "td", "svg", "path", "rect", "line", "text", "g", "circle"),
}


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose log holds a realistic quarter of a megabyte of two years of
    rows (12 models, 11 offsets), committed in two parts, so --range has something to read."""
    root = tmp_path_factory.mktemp("html") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    log = root / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    full = root / "full.csv"
    write_realistic_log(full, 256 * 1024, seed=3)
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    full.unlink()
    log.write_text("".join(lines[:-400]), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "most rows")
    log.write_text("".join(lines), encoding="utf-8")
    git(root, "commit", "-q", "-am", "400 more")
    return root


def report(cwd: Path, *args: str, status: int = 0) -> str:
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "report", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert done.returncode == status, done.stderr
    return done.stdout


SELECTIONS = [
    [],
    ["--since", "2025-06-01", "--until", "2025-09-30"],
    ["--since", "2025-06-01T12:00:00+02:00", "--until", "2026-01-01T00:00:00-08:00"],
    ["--model", "openai/gpt-4o", "--model", "llama3.1:70b"],
    ["--task-type", "plan", "--task-type", "quick"],
    ["--tz", "Asia/Kolkata", "--days", "40", "--weeks", "30"],
    ["--tz", "America/New_York", "--no-costs"],
    ["--range", "HEAD~1..HEAD"],
    ["--group-by", "model,week"],
    ["--group-by", "provider,task_success,month", "--no-costs"],
    ["--group-by", "day", "--tz", "Pacific/Kiritimati", "--since", "2026-01-01"],
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda args: " ".join(args) or "all")
def test_every_number_on_the_page_is_the_jsons(realistic: Path, selection: list[str]) -> None:
    html = report(realistic, "--format", "html", *selection)
    document = json.loads(report(realistic, "--format", "json", "--recommend", *selection))
    page = Page(html)
    cells = page.valued_cells()
    assert len(cells) > 50
    for cell in cells:
        assert cell_value(cell) == resolve(document, cell["json"]), cell
    grouped = "--group-by" in selection
    expected = ["grouped"] if grouped else ["overview", "by-model", "by-task-type", "matrix"]
    for ident in expected:
        assert page.table(ident)["rows"], ident
    if grouped:
        # Every group is on the page, and the total: one table, all of the JSON's groups.
        rows = page.table("grouped")["rows"]
        assert len(rows) == len(document["groups"]) + 1
        assert rows[-1][0]["text"] == "All"
    # The recommendations' tables hold every model of every task type.
    models = sum(len(found["models"]) for found in document["recommendations"])
    shown = sum(
        len(page.table(f"models-{i}")["rows"]) for i in range(len(document["recommendations"]))
    )
    assert shown == models > 0


def test_budgets_on_the_page_are_the_jsons(realistic: Path) -> None:
    budgets = ["--max-cost", "100000", "--min-success-rate", "model=openai/gpt-4o:95%"]
    budgets += ["--max-p95", "task_type=quick:1h", "--allow-unpriced"]
    html = report(realistic, "--format", "html", *budgets, status=EXIT_BUDGET)
    document = json.loads(report(realistic, "--format", "json", *budgets, status=EXIT_BUDGET))
    rows = Page(html).table("budgets")["rows"]
    assert len(rows) == 3 == len(document["budgets"]["results"])
    for row in rows:
        for cell in row:
            if cell["json"]:
                assert cell_value(cell) == resolve(document, cell["json"])
    assert [row[5]["text"].split(":")[0] for row in rows] == ["holds", "broken", "holds"]
    assert '<p class="summary broken">Broken: 1 of 3 budgets.</p>' in html


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """Each Markdown table's rows (the header first), as the text a reader sees."""
    found: list[list[list[str]]] = []
    inside = False
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type in ("table_open", "table_close"):
            inside = token.type == "table_open"
            found += [[]] if inside else []
        elif inside and token.type == "tr_open":
            found[-1].append([])
        elif inside and token.type == "inline":
            found[-1][-1].append("".join(child.content for child in token.children or ()))
    return found


@pytest.mark.parametrize("selection", [[], ["--days", "3", "--weeks", "2", "--no-costs"]])
def test_the_tables_are_the_markdown_reports(realistic: Path, selection: list[str]) -> None:
    page = Page(report(realistic, "--format", "html", *selection))
    markdown = markdown_tables(report(realistic, *selection))
    idents = ["overview", "by-model", "by-task-type", "matrix", "daily", "weekly"]
    assert len(markdown) == len(idents)
    for ident, expected in zip(idents, markdown, strict=True):
        table = page.table(ident)
        assert [table["header"], *([cell["text"] for cell in row] for row in table["rows"])] == (
            expected
        ), ident


def test_self_contained_no_script_and_a_strict_policy(realistic: Path) -> None:
    html = report(realistic, "--format", "html")
    page = Page(html)
    policies = [
        attributes["content"]
        for tag, attributes in page.tags
        if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policies == [CSP]
    assert CSP.startswith("default-src 'none';") and "script-src" not in CSP
    assert "style-src 'unsafe-inline'" in CSP and "img-src data:" in CSP
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    links = [attributes for tag, attributes in page.tags if "href" in attributes]
    assert links and all(
        str(attributes["href"]).startswith("#") or attributes["href"] == "data:,"
        for attributes in links
    )
    assert not [attributes for _, attributes in page.tags if "src" in attributes]
    assert html.count("<svg") >= 4 + 5  # four charts (costs on), a pick chart per task type


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    from telemetry_csv.logfile.schema import neutralise

    log = tmp_path / "hostile.csv"
    lines = [
        row_line(
            f"2026-11-{20 + index % 5:02d}T10:00:00Z",
            neutralise(name),
            str(100 * (index + 1)),
            "10",
            "true" if index % 3 else "false",
            ("plan", "execute", "verify")[index % 3],
            str(1000 * (index + 1)),
            "'<script>alert(9)</script>'",
        )
        for index, name in enumerate(HOSTILE * 3)
    ]
    log.write_text(HEADER + "".join(lines))
    return log


@pytest.mark.parametrize("options", [[], ["--group-by", "model,task_type"]])
def test_hostile_names_are_text_never_markup(
    hostile_log: Path, tmp_path: Path, options: list[str]
) -> None:
    html = report(tmp_path, "--format", "html", str(hostile_log), *options)
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    for _, attributes in page.tags:
        assert not [name for name in attributes if name.startswith("on")], attributes
        assert str(attributes.get("href", "#")).startswith("#") or attributes["href"] == "data:,"
    assert "alert(9)" not in html  # notes are not shown at all
    text = "".join(page.text)
    for name in HOSTILE:
        assert name in text, name
    names = {cell["text"] for cell in page.valued_cells() if cell["json"].endswith(".model")}
    assert set(HOSTILE) <= names


def test_the_same_rows_give_the_same_bytes(realistic: Path) -> None:
    first = report(realistic, "--format", "html", "--group-by", "week")
    assert report(realistic, "--format", "html", "--group-by", "week") == first
    assert report(realistic, "--format", "html") == report(realistic, "--format", "html")


def test_an_empty_log_and_a_filter_that_matches_nothing(tmp_path: Path) -> None:
    log = tmp_path / "empty.csv"
    log.write_text(HEADER)
    html = report(tmp_path, "--format", "html", str(log))
    assert "No rows yet: the log has no rows." in html and "<svg" not in html
    log.write_text(HEADER + row_line())
    html = report(tmp_path, "--format", "html", str(log), "--model", "nothing-like-it")
    assert "No rows match the filters." in html and "<svg" not in html


def test_output_file_and_the_job_summary_gets_markdown(realistic: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    target = tmp_path / "report.html"
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "report", "--format", "html", "-o", str(target),
         "--github-summary"],
        cwd=realistic, capture_output=True, text=True, check=False,
        env={**git_env(), "GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout == "", done.stderr
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert summary.read_text().startswith("## LLM usage report")
