"""Drive the dashboard in Debian's Chromium (headless, never a downloaded browser) with
Playwright: serve an app on loopback, walk the pages at a desktop and a phone width,
check what rendered, and save screenshots. Used by the browser test and by
``scripts/screenshots.py``."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

CHROMIUM = os.environ.get("NBAPROPS_CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)
MAX_SHOT_HEIGHT = 2400  # px of a page kept in its screenshot (a slate is long)
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def chromium_missing() -> str | None:
    """Why Debian's Chromium cannot be driven here (one line), or None if it can."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    where = "NBAPROPS_CHROMIUM" if "NBAPROPS_CHROMIUM" in os.environ else "the default path"
    return (
        f"Debian's Chromium is not an executable at {CHROMIUM} ({where}), so the browser "
        "test cannot run: install it with `apt-get install chromium` (`bash scripts/test` "
        "does, as root or with sudo) or set NBAPROPS_CHROMIUM"
    )


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Walk:
    """What one viewport's walk saw."""

    viewport: str
    slate_rows: int = 0
    slate_numbers: list[str] = field(default_factory=list)
    chart_descs: list[str] = field(default_factory=list)
    player_url: str = ""
    player_rows: int = 0
    overflow: dict[str, int] = field(default_factory=dict)  # page -> px wider than viewport
    screenshots: list[Path] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    # the bets as the viewport shows them: one dict per bet (the text a user can see of
    # it, and how far it sticks out to the right of the viewport, px)
    bets: list[dict[str, Any]] = field(default_factory=list)
    cut_titles: list[str] = field(default_factory=list)  # chart titles ending in "…"


def _shot(page: Any, out: Path, name: str, walk: Walk) -> None:
    path = out / f"{name}-{walk.viewport}.png"
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], MAX_SHOT_HEIGHT)}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    walk.screenshots.append(path)
    walk.overflow[name] = int(
        page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    )


# The bets a user sees: the desktop table's rows or the phone's cards, whichever is
# displayed; for each, its visible text and how far it reaches past the viewport's edge.
_VISIBLE_BETS = """
() => {
  const shown = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
  const rows = [...document.querySelectorAll('table#best-bets tbody tr, ul#bet-cards li')]
    .filter(shown);
  return rows.map((el) => ({
    kind: el.tagName === 'LI' ? 'card' : 'row',
    text: el.innerText,
    overflow: Math.max(0, Math.ceil(el.getBoundingClientRect().right - window.innerWidth)),
    scrolls: el.scrollWidth > el.clientWidth + 1,
  }));
}
"""
_CUT_TITLES = """
() => [...document.querySelectorAll('svg.chart text.chart-title')]
  .map((t) => t.textContent).filter((t) => t.endsWith('\u2026'))
"""


def walk_dashboard(
    base: str, day: str, out: Path, viewports: tuple[str, ...] = ("desktop", "phone")
) -> list[Walk]:
    """Open tonight's page, check the slate table and a chart, click through to a player,
    then visit the other pages; one screenshot per page and viewport."""
    from playwright.sync_api import sync_playwright

    missing = chromium_missing()
    if missing:
        raise RuntimeError(missing)
    out.mkdir(parents=True, exist_ok=True)
    walks = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(FLAGS))
        try:
            for name in viewports:
                walk = Walk(name)
                context = browser.new_context(**VIEWPORTS[name])
                page = context.new_page()
                page.on(
                    "console",
                    lambda m, w=walk: m.type == "error" and w.console_errors.append(m.text),
                )
                page.on("requestfailed", lambda r, w=walk: w.failed_requests.append(r.url))
                page.goto(f"{base}/?date={day}", wait_until="load")
                page.wait_for_selector("table#slate tbody tr")
                walk.slate_rows = page.locator("table#slate tbody tr").count()
                walk.slate_numbers = page.locator("table#slate tbody tr td.num").all_inner_texts()
                walk.chart_descs = [
                    d or ""
                    for d in page.locator("figure.chart-card svg.chart > desc").all_text_contents()
                ]
                walk.bets = page.evaluate(_VISIBLE_BETS)
                walk.cut_titles = page.evaluate(_CUT_TITLES)
                _shot(page, out, "tonight", walk)
                page.locator(
                    "table#best-bets a.player-link:visible, ul#bet-cards a.player-link:visible, "
                    "table#slate a.player-link:visible"
                ).first.click()
                page.wait_for_url(re.compile(r".*/ui/players/\d+.*"))
                page.wait_for_selector("table#player-games tbody tr")
                walk.player_url = page.url
                walk.player_rows = page.locator("table#player-games tbody tr").count()
                _shot(page, out, "player", walk)
                for key, url in (
                    ("track", "/ui/track"),
                    ("models", "/ui/models"),
                    ("health", "/ui/health"),
                ):
                    page.goto(base + url, wait_until="load")
                    page.wait_for_selector("main h1")
                    walk.cut_titles += page.evaluate(_CUT_TITLES)
                    _shot(page, out, key, walk)
                context.close()
                walks.append(walk)
        finally:
            browser.close()
    return walks
