"""The HTML report in a real browser: Debian's Chromium, headless, driven through the DevTools
protocol by Playwright (its own browser download is not used). The charts draw, nothing is
fetched, nothing is logged as an error, a phone-wide window does not scroll sideways, dark mode
changes the colours, scripts off changes nothing, and hostile model names run nothing.

Screenshots (the window, and the charts) are kept under the session's temporary folder,
`artifacts/` (paths printed).
`.ci/run` installs Chromium; without /usr/bin/chromium these tests skip, saying why.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.util import BIN, HEADER, git_env, row_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from realistic_log import write_realistic_log

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no /usr/bin/chromium: `apt-get install chromium` (.ci/run does) to run the "
        "HTML report in a real browser",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def html_report(folder: Path, log: Path, *args: str) -> Path:
    target = folder / (log.stem + ".html")
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "report", "--format", "html", str(log), "-o", str(target), *args],
        cwd=folder, capture_output=True, text=True, env=git_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two years of a team's rows, 12 models: the page at its busiest."""
    folder = tmp_path_factory.mktemp("browser")
    log = folder / "two-years.csv"
    write_realistic_log(log, 2 * 1024 * 1024, seed=11)
    return html_report(folder, log)


class Watched:
    """A page with everything it asks for and complains about recorded."""

    def __init__(self, context: Any, url: str):
        self.page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.goto(url, wait_until="load")
        self.url = url

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)  # an alert() ran: the test fails on it
        dialog.dismiss()

    def assert_quiet(self) -> None:
        assert self.errors == []
        assert self.requests == [self.url]  # the page itself, nothing else
        assert self.dialogs == []

    def shot(self, artifacts: Path, name: str) -> list[Path]:
        """The window, and the charts whole. (Not the whole page: a capture thousands of pixels
        tall fails now and then in headless Chromium without a GPU.)"""
        paths = [artifacts / f"{name}.png"]
        self.page.screenshot(path=str(paths[0]))
        if self.page.locator("#charts").count():
            paths.append(artifacts / f"{name}-charts.png")
            self.page.locator("#charts").screenshot(path=str(paths[1]))
        for path in paths:
            print(f"screenshot: {path}")
        return paths


CHART_SIZES = """() => [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const drawn = [...svg.querySelectorAll('path, rect, circle')].filter(shape => {
        const bbox = shape.getBBox();
        return bbox.width > 0 && bbox.height > 0;
    });
    return {id: svg.getAttribute('aria-labelledby'), width: box.width, height: box.height,
            right: box.right, drawn: drawn.length};
})"""


def test_charts_draw_nothing_is_fetched_nothing_fails(
    browser: Any, page_file: Path, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    watched = Watched(context, page_file.as_uri())
    charts = watched.page.evaluate(CHART_SIZES)
    ids = [chart["id"] for chart in charts]
    assert {"tokens-t", "durations-t", "costs-t", "success-0-t", "pick-0-t"} <= set(ids)
    assert len([i for i in ids if i.startswith("success-")]) == 8  # 7 models and `other`
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 40, chart
        assert chart["drawn"] > 0, chart
    bars = watched.page.evaluate(
        "() => [...document.querySelectorAll('#charts svg.wide path.bar')].map(p => p.getBBox().width)"
    )
    assert len(bars) == 8 and min(bars) > 300  # each series spans the two years
    watched.assert_quiet()
    watched.shot(artifacts, "report-light-1280")
    context.close()


def test_phone_width_does_not_scroll_sideways(
    browser: Any, page_file: Path, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    watched = Watched(context, page_file.as_uri())
    widths = watched.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 375
    for chart in watched.page.evaluate(CHART_SIZES):
        assert chart["width"] > 0 and chart["right"] <= 375, chart
    # Wide tables scroll inside their own box rather than widen the page.
    boxes = watched.page.evaluate(
        "() => [...document.querySelectorAll('.table-wrap')].map(w => w.getBoundingClientRect().right)"
    )
    assert boxes and max(boxes) <= 375
    font = watched.page.evaluate(
        "() => document.querySelector('#charts svg.wide text').getBoundingClientRect().height"
    )
    assert font >= 8  # the wide chart's labels are enlarged at this width, not shrunk away
    watched.assert_quiet()
    watched.shot(artifacts, "report-phone-375")
    context.close()


COLOURS = """() => ({
    background: getComputedStyle(document.body).backgroundColor,
    text: getComputedStyle(document.body).color,
    bar: getComputedStyle(document.querySelector('svg path.bar.c0')).fill,
    grid: getComputedStyle(document.querySelector('svg .grid')).stroke,
})"""


def test_dark_mode_changes_the_colours(browser: Any, page_file: Path, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context, page_file.as_uri())
    watched.page.emulate_media(color_scheme="light")
    light = watched.page.evaluate(COLOURS)
    watched.page.emulate_media(color_scheme="dark")
    dark = watched.page.evaluate(COLOURS)
    assert light["background"] == "rgb(255, 255, 255)"
    for key in light:
        assert light[key] != dark[key], key
    watched.assert_quiet()
    watched.shot(artifacts, "report-dark-1280")
    context.close()


def test_scripts_off_the_page_is_the_same(browser: Any, page_file: Path, artifacts: Path) -> None:
    """Mail clients run no script: the page has none, so nothing depends on one."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    watched = Watched(context, page_file.as_uri())
    charts = watched.page.evaluate(CHART_SIZES)
    assert charts and all(chart["width"] > 0 and chart["drawn"] > 0 for chart in charts)
    watched.assert_quiet()
    watched.shot(artifacts, "report-no-scripts")
    context.close()


def test_hostile_names_run_nothing(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    from html_pages import HOSTILE

    from telemetry_csv.logfile.schema import neutralise

    log = tmp_path / "hostile.csv"
    lines = [
        row_line(f"2026-11-{10 + index:02d}T10:00:00Z", neutralise(name), "100", "10",
                 "true" if index % 2 else "false", "plan", "1000")
        for index, name in enumerate(HOSTILE)
    ]  # fmt: skip
    log.write_text(HEADER + "".join(lines))
    page_path = html_report(tmp_path, log, "--group-by", "model")
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    watched = Watched(context, page_path.as_uri())
    shown = watched.page.evaluate("() => document.body.innerText")
    for name in HOSTILE:
        assert name in shown, name
    assert (
        watched.page.evaluate("() => document.querySelectorAll('script, img, iframe').length") == 0
    )
    watched.assert_quiet()  # no alert() ran, no image or script was asked for
    watched.shot(artifacts, "report-hostile-names")
    context.close()
