"""A small reader of the dashboard's HTML for tests (stdlib only): tables by id, links,
inline charts, and every URL a page asks the browser to load."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Page:
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # id -> body rows' cells
    links: list[str] = field(default_factory=list)  # every <a href>
    assets: list[str] = field(default_factory=list)  # <link href>, <script/img src>
    svgs: list[dict[str, str]] = field(default_factory=list)  # class, aria-label, desc
    errors: list[str] = field(default_factory=list)  # text of role="alert" elements


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._table: str | None = None
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._svg_depth = 0
        self._svg: dict[str, str] | None = None
        self._in_desc = False
        self._alert: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.page.tables[self._table] = []
        elif tag == "tbody" and self._table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and "href" in a:
            self.page.links.append(a["href"])
        elif tag == "link" and "href" in a:
            self.page.assets.append(a["href"])
        elif tag in ("script", "img", "iframe") and "src" in a:
            self.page.assets.append(a["src"])
        if tag == "svg":
            self._svg_depth += 1
            if self._svg_depth == 1:
                self._svg = {"class": a.get("class", ""), "label": a.get("aria-label", "")}
                self._svg["desc"] = ""
        elif tag == "desc" and self._svg is not None:
            self._in_desc = True
        if a.get("role") == "alert":
            self._alert = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.page.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "desc":
            self._in_desc = False
        elif tag == "svg":
            self._svg_depth -= 1
            if self._svg_depth == 0 and self._svg is not None:
                self.page.svgs.append(self._svg)
                self._svg = None
        elif tag in ("p", "div") and self._alert is not None:
            self.page.errors.append(" ".join("".join(self._alert).split()))
            self._alert = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_desc and self._svg is not None:
            self._svg["desc"] += data
        if self._alert is not None:
            self._alert.append(data)


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page
