"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright) on
the real-data warehouse, at a desktop and a phone width: the slate table and a chart
render with real numbers, a click reaches a player page, nothing is fetched from
outside, nothing overflows the phone's width, and every page is screenshotted.

Without Chromium the test fails with one line saying why (never a skip, never a pass),
before the warehouse it needs is built."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nbaprops.api.app import create_app
from nbaprops.core.settings import Settings
from tests.api.browser import chromium_missing, serve, walk_dashboard
from tests.api.served import DAY

pytestmark = [pytest.mark.data, pytest.mark.slow]

PAGES = ("tonight", "player", "track", "models", "health")


def test_the_dashboard_renders_real_numbers_in_chromium_at_desktop_and_phone_width(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    served: Settings = request.getfixturevalue("served")
    client: TestClient = request.getfixturevalue("client")
    out = Path(os.environ.get("NBAPROPS_SCREENSHOT_DIR") or tmp_path / "screenshots")
    champion = client.get(f"/predictions?date={DAY}&alias=champion").json()
    medians = {f"{p['median']:.1f}" for p in champion["predictions"]}
    with serve(create_app(served)) as base:
        walks = walk_dashboard(base, str(DAY), out)
    assert [w.viewport for w in walks] == ["desktop", "phone"]
    for walk in walks:
        assert walk.slate_rows == champion["n"] > 100
        # the numbers the browser shows are the stored medians
        assert medians & set(walk.slate_numbers)
        assert any(re.search(r"N=\d+", d) for d in walk.chart_descs), walk.chart_descs
        assert re.search(r"/ui/players/\d+", walk.player_url)
        assert walk.player_rows == 20
        assert walk.failed_requests == []
        assert walk.console_errors == []
        assert [p.name for p in walk.screenshots] == [f"{p}-{walk.viewport}.png" for p in PAGES]
        assert all(p.stat().st_size > 10_000 for p in walk.screenshots)
    phone = walks[1]
    assert phone.overflow == dict.fromkeys(PAGES, 0), phone.overflow
    # every bet shows, without sideways scrolling, the bet as placed, P(win), the
    # calibrated EV, the stake and the record: a table row on a desktop, a card on a phone
    picks = client.get(f"/picks?date={DAY}").json()
    bets = [p for p in picks["picks"] if p["status"] == "BET"]
    assert bets
    desktop = walks[0]
    assert [b["kind"] for b in desktop.bets] == ["row"] * len(bets)
    assert [b["kind"] for b in phone.bets] == ["card"] * len(bets)
    for walk in walks:
        assert walk.cut_titles == [], walk.cut_titles
        for shown, pick in zip(walk.bets, bets, strict=True):
            text = " ".join(shown["text"].split())
            book = pick["bet_book"] or ""
            wanted = [
                pick["player_name"],
                f"{pick['side']} {pick['bet_line']:.1f}",
                book,
                f"{pick['bet_price']:+.0f}",
                f"{100 * pick['p_win']:.1f}%",
                f"{pick['ev_calibrated_pct']:+.1f}%",
                f"{pick['stake_units']:.2f}u",
                f"{pick['record']['n']:,} comparable" if pick["record"]["n"] else "no comparable",
            ]
            missing = [w for w in wanted if w not in text]
            assert not missing, (walk.viewport, missing, text)
        if walk.viewport == "phone":
            assert all(b["overflow"] == 0 and not b["scrolls"] for b in walk.bets), walk.bets
