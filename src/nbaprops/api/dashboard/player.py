"""``/ui/players/{player_id}``: a player's last games and every system's predictions of
them in one market (``?market=``, default points; the page names it and links the
other markets the player was predicted in), with one chart (the market's outcome, its
line, the median of the system that predicted most).

``player_view`` (pure) builds the page's context from ``read.player.player``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from nbaprops.api.charts import lines as line_charts
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.dashboard.track import market_links
from nbaprops.api.deps import Snap, SnapCon
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG
from nbaprops.read import params as read_params
from nbaprops.read import player as read_player

router = APIRouter()

# The games table's heading of a box-score column (a combo's heading joins its columns').
STAT_HEADINGS = {"points": "Pts", "reb": "Reb", "ast": "Ast", "fg3m": "3PM"}


def _label(p: dict[str, Any]) -> str:
    return str(p["system_id"]) + (f"@{p['alias']}" if p.get("alias") else "")


def stat_heading(market: str) -> str:
    """The games table's heading of a market's outcome (``Pts``, ``Reb``, ``P+R+A`` ...)."""
    headings = [STAT_HEADINGS.get(s, s) for s in MARKET_CATALOG[market].stats]
    return headings[0] if len(headings) == 1 else "+".join(h[0] for h in headings)


def player_view(data: dict[str, Any], markets: list[str] | None = None) -> dict[str, Any]:
    """The player page's context: the predictions (of ``data``'s market) by game and
    ``system@alias`` label, the labels in order of appearance, the games with the
    market's outcome (``stat``) and line, the chart, and the market switcher
    (``markets``: the markets the player was predicted in)."""
    market = data.get("market") or DEFAULT_MARKET
    # the outcome shown: the box score's points for points (as before markets), else the
    # market's own (``actual``, a sum for a combo)
    key = "points" if market == DEFAULT_MARKET else "actual"
    stat = "points" if market == DEFAULT_MARKET else market
    by_game: dict[str, dict[str, dict[str, Any]]] = {}
    systems: list[str] = []
    for p in data["predictions"]:
        label = _label(p)
        if label not in systems:
            systems.append(label)
        by_game.setdefault(str(p["game_id"]), {})[label] = p
    games = [{**g, "stat": g[key]} for g in data["games"]]
    actuals = [(g["game_date"], g["stat"]) for g in games if g["stat"] is not None]
    lines = [(g["game_date"], g["line"]) for g in games if g.get("line") is not None]
    series: dict[str, list[tuple[Any, Any]]] = {stat: actuals, "line": lines}
    if systems:
        # the system with the most predictions among these games draws its median
        labelled = [(_label(p), p) for p in data["predictions"]]
        most = max(systems, key=lambda s: sum(1 for label, _ in labelled if label == s))
        series[f"{most} median"] = [
            (p["game_date"], p["median"]) for label, p in labelled if label == most
        ]
    chart = line_charts.line_chart(
        series,
        title=f"{data['player_name']}: {stat}, line and prediction",
        y_label=stat,
        n={stat: len(actuals), "line": len(lines)},
    )
    return {
        "nav": "",
        "data": data,
        "games": games,
        "systems": systems,
        "by_game": by_game,
        "chart": chart,
        "market": market,
        "market_title": MARKET_CATALOG[market].title,
        "stat_heading": stat_heading(market),
        "markets": market_links(market, markets or []),
    }


@router.get("/ui/players/{player_id}", response_class=HTMLResponse, include_in_schema=False)
@cached
def player(
    request: Request,
    player_id: int = PathParam(..., ge=1, le=2**62),
    date: str | None = Query(None, max_length=40),
    market: str | None = Query(None, max_length=40),
    snap: Snap = SnapCon,
) -> HTMLResponse:
    try:
        market = read_params.check_market(market or None)
        day = read_params.optional_day(date)
        data = read_player.player(snap.con, player_id, day, market=market)
    except NbapropsError as exc:
        return error_page(request, exc, "")
    markets = read_player.predicted_markets(snap.con, player_id, day)
    return page(request, "player.html", player_view(data, markets))
