"""The HTML report read back with the standard library's parser: its tables (each cell's text
and JSON value), every element and attribute, and the text a reader sees."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

# Valid model names (no whitespace, comma or double quote) that would be markup if not escaped.
HOSTILE = [
    "<script>alert(1)</script>",
    "</style><svg/onload=alert(2)>",
    "<img/src=x/onerror=alert(3)>",
    "'onmouseover='alert(4)",
    "https://evil.example/x.js",
    "javascript:alert(5)",
    "&lt;b&gt;&amp;",
    "]]><!--<title>",
    "@cf/meta/llama",
]


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[dict[str, Any]] = []  # id, header, rows (lists of Cell dicts)
        self.text: list[str] = []  # every piece of text outside <style>
        self._cell: dict[str, Any] | None = None
        self._in_style = False
        self._in_head = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "style":
            self._in_style = True
        elif tag == "table":
            self.tables.append({"id": attributes.get("id"), "header": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = {
                "text": "",
                "json": attributes.get("data-json"),
                "value": attributes.get("data-value"),
                "scope": attributes.get("scope"),
            }

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag in ("td", "th") and self._cell is not None and self.tables:
            table = self.tables[-1]
            if self._cell["scope"] == "col":
                table["header"].append(self._cell["text"])
            else:
                table["rows"][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell["text"] += data

    def table(self, ident: str) -> dict[str, Any]:
        found = [table for table in self.tables if table["id"] == ident]
        assert len(found) == 1, (ident, [table["id"] for table in self.tables])
        table = found[0]
        table["rows"] = [row for row in table["rows"] if row]  # the header row holds only th
        return table

    def valued_cells(self) -> list[dict[str, Any]]:
        return [
            cell
            for table in self.tables
            for row in table["rows"]
            for cell in row
            if cell["json"] is not None
        ]


def resolve(document: Any, path: str) -> Any:
    """`by_model[2].duration_ms.p50` in a JSON document."""
    value = document
    for part in path.split("."):
        name, _, rest = part.partition("[")
        if name:
            value = value[name]
        while rest:
            index, _, rest = rest.partition("]")
            value = value[int(index)]
            rest = rest.lstrip("[")
    return value


def cell_value(cell: dict[str, Any]) -> Any:
    return json.loads(cell["value"])
