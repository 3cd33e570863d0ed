"""``/ui/track``: a system's track record in one market (``?market=``, default points;
the page names it and links every market graded) on one kind of real line, with its
charts.

``track_view`` (pure) turns ``read.track.track_record`` and the period's ledger into
the page's context; ``cumulative_roi``, ``running_clv`` and ``roi_chart`` are shared
with the home page.
"""

from __future__ import annotations

from datetime import date
from itertools import accumulate
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nbaprops.api.charts import bars as bar_charts
from nbaprops.api.charts import lines as line_charts
from nbaprops.api.charts import reliability as reliability_charts
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.deps import AppSettings, Snap, SnapCon
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG, MARKET_NAMES
from nbaprops.core.settings import Settings
from nbaprops.read import params as read_params
from nbaprops.read import picks as read_picks
from nbaprops.read import track as read_track

ROLLING_WINDOW = 100  # bets in the rolling hit-rate window
ROLLING_MIN = 30  # bets before the rolling hit rate is drawn

router = APIRouter()


# --- view model ------------------------------------------------------------------------


def cumulative_roi(daily: list[dict[str, Any]]) -> dict[str, list[tuple[date, float]]]:
    """ROI to date after each day: cumulative profit over cumulative decided bets."""
    bets = list(accumulate(d["bets"] for d in daily))
    out: dict[str, list[tuple[date, float]]] = {}
    for key, label in (("profit_consensus", "at consensus"), ("profit_best", "at best price")):
        profit = list(accumulate(d[key] for d in daily))
        out[label] = [(d["date"], p / b) for d, p, b in zip(daily, profit, bets, strict=True) if b]
    return out


def running_clv(daily: list[dict[str, Any]]) -> list[tuple[date, float]]:
    """Mean closing line value (points) of every bet up to each day."""
    out, total, n = [], 0.0, 0
    for d in daily:
        if d["clv_n"] and d["clv_line"] is not None:
            total += d["clv_line"] * d["clv_n"]
            n += d["clv_n"]
        if n:
            out.append((d["date"], total / n))
    return out


def roi_chart(daily: list[dict[str, Any]], kind: str) -> str:
    n_bets = sum(d["bets"] for d in daily)
    return line_charts.line_chart(
        cumulative_roi(daily),
        title=f"Cumulative ROI, {kind} lines",
        y_label="ROI",
        y_format="percent",
        n={"at consensus": n_bets, "at best price": n_bets},
        reference=0.0,
        reference_label="break-even",
        note=(
            "profit per decided bet; pushes and voids excluded"
            if kind == "sportsbook"
            else "DFS lines carry no prices: both at -110"
        ),
    )


def track_charts(record: dict[str, Any]) -> dict[str, str]:
    """The track-record charts of ``read.track.track_record``'s output, as inline SVG."""
    daily = record["daily"]
    unit = record.get("market") or DEFAULT_MARKET  # MAE and CLV in the market's own unit
    out = {"roi": roi_chart(daily, record["line_kind"])}
    rolling = line_charts.rolling_hit_rate(
        [(b["date"], b["won"]) for b in record["bets"]],
        window=ROLLING_WINDOW,
        min_bets=ROLLING_MIN,
    )
    out["rolling"] = line_charts.band_chart(
        rolling,
        title=f"Rolling hit rate, last {ROLLING_WINDOW} bets",
        n=len(record["bets"]),
        note=f"drawn once {ROLLING_MIN} bets are in the window; Wilson 95% band",
    )
    monthly = record["monthly"]
    out["mae"] = bar_charts.grouped_bar_chart(
        [m["month"] for m in monthly],
        {
            "model MAE": [m["model_mae"] for m in monthly],
            "line MAE": [m["line_mae"] for m in monthly],
        },
        n=[m["n"] for m in monthly],
        title="MAE against the line's, by month",
        y_label=unit,
    )
    out["reliability"] = reliability_charts.reliability_chart(
        record["reliability"],
        title="Calibration of P(over)",
        note="pushes excluded; circle area grows with N",
    )
    out["edge"] = bar_charts.interval_bar_chart(record["by_edge"], title="Hit rate by |edge|")
    clv = running_clv(daily)
    out["clv"] = line_charts.line_chart(
        {"mean CLV": clv},
        title="Closing line value, running mean",
        y_label=unit,
        n={"mean CLV": sum(d["clv_n"] for d in daily)},
        reference=0.0,
        reference_label="no value",
        note="points of line gained on the side taken, against the last pre-tip consensus",
    )
    return out


def market_links(market: str | None, available: list[str]) -> list[dict[str, str]]:
    """A page's market switcher: the ``available`` markets and the one shown, in catalog
    order, each with its title (``current`` names the one shown; None: every market is
    shown, none is current)."""
    shown = set(available) | ({market} if market else set())
    return [
        {"name": m, "title": MARKET_CATALOG[m].title, "current": "yes" if m == market else ""}
        for m in MARKET_NAMES
        if m in shown
    ]


def track_view(
    systems: list[str],
    record: dict[str, Any],
    ledgers: list[dict[str, Any]],
    markets: list[str] | None = None,
) -> dict[str, Any]:
    """The track page's context: the record (of one market), its charts, the system's
    own ledger and the market switcher (``markets``: the markets graded)."""
    mine = [x for x in ledgers if x["system"] == record["system"]]
    market = record.get("market") or DEFAULT_MARKET
    return {
        "nav": "track",
        "systems": systems,
        "record": record,
        "charts": track_charts(record),
        "ledger": mine[0] if mine else None,
        "market": market,
        "market_title": MARKET_CATALOG[market].title,
        "markets": market_links(market, markets or []),
    }


# --- route -----------------------------------------------------------------------------


@router.get("/ui/track", response_class=HTMLResponse, include_in_schema=False)
@cached
def track(
    request: Request,
    system: str | None = Query(None, max_length=100),
    kind: str | None = Query(None, max_length=20),
    start: str | None = Query(None, max_length=40),
    end: str | None = Query(None, max_length=40),
    market: str | None = Query(None, max_length=40),
    snap: Snap = SnapCon,
    settings: Settings = AppSettings,
) -> HTMLResponse:
    con = snap.con
    try:
        market = read_params.check_market(market or None)
        systems = read_track.graded_systems(con, market)
        chosen = system or (systems[0] if systems else None)
        if chosen is None:
            of = "" if market == DEFAULT_MARKET else f" in {market}"
            raise read_params.NotFoundError(
                f"nothing graded yet{of}; run `nbaprops grade` after a slate"
            )
        record = read_track.track_record(
            con,
            chosen,
            kind,
            read_params.optional_day(start, "start"),
            read_params.optional_day(end, "end"),
            market=market,
        )
    except NbapropsError as exc:
        return error_page(request, exc, "track")
    try:
        ledgers = read_picks.bets(
            con,
            record["start"],
            record["end"],
            chosen,
            unit_share=settings.betting.unit_share,
            market=market,
        )["systems"]
    except read_params.NotFoundError:
        ledgers = []
    view = track_view(systems, record, ledgers, read_track.graded_markets(con))
    return page(request, "track.html", view)
