"""MkDocs hooks (mkdocs.yml): the speed figures are written beside their scripts, in
benchmarks/*.md, and linked from docs/ as `../benchmarks/NAME.md`, which is right on GitHub. The
site gets them as pages of its own, `benchmarks/NAME.md`, and those links point there (and
theirs, `../docs/NAME.md`, to the pages), so that strict mode checks them like any other link."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

_TO_BENCHMARKS = re.compile(r"\]\(\.\./benchmarks/")
_TO_DOCS = re.compile(r"\]\(\.\./docs/")


def on_files(files: Files, config: Any) -> Files:
    root = Path(config["config_file_path"]).parent
    for path in sorted((root / "benchmarks").glob("*.md")):
        files.append(File.generated(config, f"benchmarks/{path.name}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith("benchmarks/"):
        return _TO_DOCS.sub("](../", markdown)  # ../docs/X.md on GitHub is ../X.md in the site
    return _TO_BENCHMARKS.sub("](benchmarks/", markdown)
