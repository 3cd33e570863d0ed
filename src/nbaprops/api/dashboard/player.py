"""``/ui/players/{player_id}``: a player's last games and every system's predictions of
them, with one chart (points, the line, the median of the system that predicted most).

``player_view`` (pure) builds the page's context from ``read.player.player``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from nbaprops.api.charts import lines as line_charts
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.deps import Snap, SnapCon
from nbaprops.core.errors import NbapropsError
from nbaprops.read import params as read_params
from nbaprops.read import player as read_player

router = APIRouter()


def _label(p: dict[str, Any]) -> str:
    return str(p["system_id"]) + (f"@{p['alias']}" if p.get("alias") else "")


def player_view(data: dict[str, Any]) -> dict[str, Any]:
    """The player page's context: the predictions by game and ``system@alias`` label,
    the labels in order of appearance, and the chart."""
    by_game: dict[str, dict[str, dict[str, Any]]] = {}
    systems: list[str] = []
    for p in data["predictions"]:
        label = _label(p)
        if label not in systems:
            systems.append(label)
        by_game.setdefault(str(p["game_id"]), {})[label] = p
    games = data["games"]
    points = [(g["game_date"], g["points"]) for g in games if g["points"] is not None]
    lines = [(g["game_date"], g["line"]) for g in games if g.get("line") is not None]
    series: dict[str, list[tuple[Any, Any]]] = {"points": points, "line": lines}
    if systems:
        # the system with the most predictions among these games draws its median
        labelled = [(_label(p), p) for p in data["predictions"]]
        most = max(systems, key=lambda s: sum(1 for label, _ in labelled if label == s))
        series[f"{most} median"] = [
            (p["game_date"], p["median"]) for label, p in labelled if label == most
        ]
    chart = line_charts.line_chart(
        series,
        title=f"{data['player_name']}: points, line and prediction",
        y_label="points",
        n={"points": len(points), "line": len(lines)},
    )
    return {
        "nav": "",
        "data": data,
        "games": games,
        "systems": systems,
        "by_game": by_game,
        "chart": chart,
    }


@router.get("/ui/players/{player_id}", response_class=HTMLResponse, include_in_schema=False)
@cached
def player(
    request: Request,
    player_id: int = PathParam(..., ge=1, le=2**62),
    date: str | None = Query(None, max_length=40),
    snap: Snap = SnapCon,
) -> HTMLResponse:
    try:
        data = read_player.player(snap.con, player_id, read_params.optional_day(date))
    except NbapropsError as exc:
        return error_page(request, exc, "")
    return page(request, "player.html", player_view(data))
