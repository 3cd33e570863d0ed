"""``/``, tonight: the slate's signals, the champion's picks, every prediction of the date
filterable by system and team, the injury report, and two charts, of one market at a
time (``?market=``, default points; the page names it and links every other market with
champion predictions on the date).

The route reads; ``champion_of`` and ``champion_kind`` (pure) say whose record the ROI
chart draws, and ``tonight_view`` (pure) builds the page's context from the data read.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nbaprops.api.charts import bars as bar_charts
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.dashboard.track import market_links, roi_chart
from nbaprops.api.deps import AppSettings, Snap, SnapCon
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG
from nbaprops.core.settings import Settings
from nbaprops.models.registry import ALIASES
from nbaprops.read import availability as read_availability
from nbaprops.read import params as read_params
from nbaprops.read import picks as read_picks
from nbaprops.read import predictions as read_predictions
from nbaprops.read import status as read_status
from nbaprops.read import track as read_track
from nbaprops.warehouse.freshness import missing_predictions_message

HOME_DAYS = 60  # days of the champion's record on the home page
ALL = "all"  # the Tonight filter value for every system

router = APIRouter()


# --- view model ------------------------------------------------------------------------


def edge_chart(rows: list[dict[str, Any]], system: str, market: str = DEFAULT_MARKET) -> str:
    """Tonight's bets of one system by |edge| bucket and side (counts), the edge in the
    market's own unit."""
    edges = (0.0, 1.0, 2.0, 3.0, 5.0, math.inf)
    labels = [f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi:g}" for lo, hi in pairwise(edges)]
    sides: dict[str, list[int]] = {"OVER": [0] * len(labels), "UNDER": [0] * len(labels)}
    for r in rows:
        if r["system_id"] != system or r["recommendation"] not in sides or r["edge_points"] is None:
            continue
        e = abs(float(r["edge_points"]))
        for i, (lo, hi) in enumerate(pairwise(edges)):
            if lo <= e < hi:
                sides[r["recommendation"]][i] += 1
    totals = [o + u for o, u in zip(sides["OVER"], sides["UNDER"], strict=True)]
    return bar_charts.grouped_bar_chart(
        labels,
        sides,
        n=totals,
        title=f"Tonight's calls by |edge|, {system}",
        x_label=f"|edge| ({market})",
        y_label="calls",
        y_format="count",
    )


def champion_of(picks: dict[str, Any], everything: list[dict[str, Any]]) -> str | None:
    """The system whose picks the page shows: the picks' system, else the first system
    with a champion prediction on the date."""
    system: str | None = picks["system"]
    return system or next((p["system_id"] for p in everything if p["alias"] == "champion"), None)


def champion_kind(everything: list[dict[str, Any]], champion: str) -> str:
    """The line kind of the champion's record on the page: sportsbook when it has
    sportsbook lines tonight, else its other kind (sportsbook with none)."""
    kinds = sorted(
        {p["line_kind"] for p in everything if p["system_id"] == champion and p["line_kind"]},
        key=lambda k: k != "sportsbook",
    )
    return kinds[0] if kinds else "sportsbook"


def tonight_view(
    day: date,
    everything: list[dict[str, Any]],
    computed: dict[str, Any],
    picks: dict[str, Any],
    injuries: dict[str, Any],
    *,
    system: str | None,
    team: str | None,
    champion: str | None,
    kind: str | None = None,
    daily: list[dict[str, Any]] | None = None,
    market: str = DEFAULT_MARKET,
    markets: list[str] | None = None,
) -> dict[str, Any]:
    """The home page's context from the date's predictions of one ``market``, signals
    (``computed``), picks and injury report; ``daily`` is the champion's daily record on
    ``kind`` lines (the ROI chart), given when there is a champion; ``markets`` are the
    date's markets with champion predictions (the switcher)."""
    # a label is system@alias, with " (market)" after it for a market other than points
    aliased = {k: v for k, v in computed.items() if k.rpartition("@")[2].split(" ")[0] in ALIASES}
    signals = {
        "aliased": sorted(aliased.items()),
        "others": sorted((k, v) for k, v in computed.items() if k not in aliased),
    }
    systems = sorted({p["system_id"] for p in everything})
    teams = sorted({p["team"] for p in everything if p["team"]})
    # the champion's rows unless asked otherwise: a slate of every system is long
    default = champion or (systems[0] if systems else None)
    shown = (default if not system else None if system == ALL else system) or None
    team = team or None
    rows = [
        p
        for p in everything
        if (shown is None or (p["system_id"] == shown and (system or p["alias"] == "champion")))
        and (team is None or p["team"] == team)
    ]
    rows.sort(key=lambda p: (p["system_id"], -abs(p["edge_points"] or 0.0), p["player_name"]))
    chart_system = shown or champion or (systems[0] if systems else "")
    home_charts = {"edge": edge_chart(everything, chart_system, market)}
    if champion:
        home_charts["roi"] = roi_chart(daily or [], kind or "sportsbook")
    counts = {
        "lined": sum(1 for p in rows if p["line_source"] == "ACTUAL"),
        "estimated": sum(1 for p in rows if p["line_source"] == "ESTIMATED"),
        "bets": sum(1 for p in rows if p["recommendation"] in ("OVER", "UNDER")),
    }
    return {
        "nav": "tonight",
        "day": day,
        "signals": signals,
        "picks": picks,
        "rows": rows,
        "n_all": len(everything),
        "counts": counts,
        "systems": systems,
        "teams": teams,
        "system": shown or ALL,
        "team": team,
        "all": ALL,
        "charts": home_charts,
        "champion": champion,
        "injuries": injuries,
        "market": market,
        "market_title": MARKET_CATALOG[market].title,
        "unit": "pts" if market == DEFAULT_MARKET else market,
        "markets": market_links(market, markets or []),
    }


# --- route -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@cached
def tonight(
    request: Request,
    date: str | None = Query(None, max_length=40),
    system: str | None = Query(None, max_length=100),
    team: str | None = Query(None, max_length=10),
    market: str | None = Query(None, max_length=40),
    snap: Snap = SnapCon,
    settings: Settings = AppSettings,
) -> HTMLResponse:
    con = snap.con
    try:
        market = read_params.check_market(market or None)
        day = read_params.optional_day(date) or read_status.latest_prediction_date(con, market)
        everything = read_predictions.predictions(con, day, market=market)["predictions"]
        if not everything:
            what = "predictions" if market == DEFAULT_MARKET else f"{market} predictions"
            raise read_params.NotFoundError(missing_predictions_message(con, day, what))
        if system not in (None, "", ALL):
            read_params.check_system(con, system)
    except NbapropsError as exc:
        return error_page(request, exc, "tonight")
    try:
        computed = read_predictions.signals(con, settings, day, market)["signals"]
    except read_params.NotFoundError:
        computed = {}
    try:
        picks = read_picks.picks(con, settings, day, market)
    except read_params.NotFoundError as exc:
        picks = read_picks.no_picks(settings, day, str(exc), market)
    injuries = read_availability.availability(con, settings, day)
    champion = champion_of(picks, everything)
    kind, daily = None, None
    if champion:
        kind = champion_kind(everything, champion)
        daily = read_track.daily_record(
            con,
            champion,
            kind,
            day - timedelta(days=HOME_DAYS),
            day - timedelta(days=1),
            market,
        )
    view = tonight_view(
        day,
        everything,
        computed,
        picks,
        injuries,
        system=system,
        team=team,
        champion=champion,
        kind=kind,
        daily=daily,
        market=market,
        markets=read_picks.champion_markets_on(con, day),
    )
    return page(request, "tonight.html", view)
