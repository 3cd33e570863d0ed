"""The web dashboard: server-rendered pages on the API's app, over the same read services.

Every page reads the published snapshot through ``api.queries`` (the functions the JSON
endpoints and the CLI call), draws its charts as inline SVG (``api.charts``) and links
one stylesheet served from the package: no JavaScript, no CDN, nothing fetched from the
internet, usable on a phone. Real lines and estimated lines never share a figure.

Pages: ``/`` (tonight: signal, best bets, every prediction filterable by system and
team), ``/ui/track`` (a system's track record), ``/ui/players/{id}``, ``/ui/models``
(registry, aliases, promotions, experiments sortable), ``/ui/health`` (phase records,
diagnostics with their causes, alerts).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from nbaprops.api import charts
from nbaprops.api import queries as q
from nbaprops.api.cache import CachedBody, SnapshotCache
from nbaprops.api.reader import SnapshotReader, UnavailableError
from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.models.registry import ALIASES
from nbaprops.warehouse.freshness import missing_predictions_message

HERE = Path(__file__).parent
ROLLING_WINDOW = 100  # bets in the rolling hit-rate window
ROLLING_MIN = 30  # bets before the rolling hit rate is drawn
RECENT_VERSIONS = 3  # newest versions per system the registry page lists by default
PAGE_CACHE_SIZE = 64  # rendered pages kept per process (of the current snapshot)
HOME_DAYS = 60  # days of the champion's record on the home page
ALERT_DAYS = 14  # days of alerts on the health page
MAX_ALERTS = 200  # alerts listed at most
ALL = "all"  # the Tonight filter value for every system
EXPERIMENT_SORTS = ("created_at", "name", "status", "primary_system", "mae", "n", "hit_rate")

# --- formatting (Jinja filters) --------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: Any, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{float(value) * 100:.{digits}f}%"


def num(value: Any, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{float(value):.{digits}f}"


def signed(value: Any, digits: int = 2) -> str:
    return "–" if _missing(value) else f"{float(value):+.{digits}f}"


def price(value: Any) -> str:
    """An American price: +120, -110."""
    return "–" if _missing(value) else f"{float(value):+.0f}"


def count(value: Any) -> str:
    return "–" if _missing(value) else f"{int(value):,}"


def day(value: Any) -> str:
    """A date or timestamp as YYYY-MM-DD."""
    return "–" if _missing(value) or value == "" else str(value)[:10]


def et(value: Any) -> str:
    """A UTC timestamp (ISO text) as US/Eastern clock time: 2024-03-12 06:30 PM."""
    if _missing(value) or value == "":
        return "–"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert("America/New_York").strftime("%Y-%m-%d %I:%M %p")


def figure(value: Any) -> str:
    """A diagnostic factor's value: whole numbers as they are, fractions to 3 places."""
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return f"{value:.3f}"
    return text(value)


def text(value: Any) -> str:
    return "–" if _missing(value) or value == "" else str(value)


FILTERS: dict[str, Callable[..., str]] = {
    "pct": pct,
    "num": num,
    "signed": signed,
    "price": price,
    "count": count,
    "text": text,
    "day": day,
    "et": et,
    "figure": figure,
}

# --- chart data ------------------------------------------------------------------------


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
    return charts.line_chart(
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
    """The track-record charts of ``queries.track_record``'s output, as inline SVG."""
    daily = record["daily"]
    out = {"roi": roi_chart(daily, record["line_kind"])}
    rolling = charts.rolling_hit_rate(
        [(b["date"], b["won"]) for b in record["bets"]],
        window=ROLLING_WINDOW,
        min_bets=ROLLING_MIN,
    )
    out["rolling"] = charts.band_chart(
        rolling,
        title=f"Rolling hit rate, last {ROLLING_WINDOW} bets",
        n=len(record["bets"]),
        note=f"drawn once {ROLLING_MIN} bets are in the window; Wilson 95% band",
    )
    monthly = record["monthly"]
    out["mae"] = charts.grouped_bar_chart(
        [m["month"] for m in monthly],
        {
            "model MAE": [m["model_mae"] for m in monthly],
            "line MAE": [m["line_mae"] for m in monthly],
        },
        n=[m["n"] for m in monthly],
        title="MAE against the line's, by month",
        y_label="points",
    )
    out["reliability"] = charts.reliability_chart(
        record["reliability"],
        title="Calibration of P(over)",
        note="pushes excluded; circle area grows with N",
    )
    out["edge"] = charts.interval_bar_chart(record["by_edge"], title="Hit rate by |edge|")
    clv = running_clv(daily)
    out["clv"] = charts.line_chart(
        {"mean CLV": clv},
        title="Closing line value, running mean",
        y_label="points",
        n={"mean CLV": sum(d["clv_n"] for d in daily)},
        reference=0.0,
        reference_label="no value",
        note="points of line gained on the side taken, against the last pre-tip consensus",
    )
    return out


def edge_chart(rows: list[dict[str, Any]], system: str) -> str:
    """Tonight's bets of one system by |edge| bucket and side (counts)."""
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
    return charts.grouped_bar_chart(
        labels,
        sides,
        n=totals,
        title=f"Tonight's calls by |edge|, {system}",
        x_label="|edge| (points)",
        y_label="calls",
        y_format="count",
    )


def recent_versions(
    versions: list[dict[str, Any]], keep: int = RECENT_VERSIONS
) -> list[dict[str, Any]]:
    """Per system, every aliased version and the ``keep`` newest (a weekly backfill
    registers a version per fold; the rest are one link away)."""
    out, seen = [], {}
    for v in sorted(versions, key=lambda v: (v["system_id"], -int(v["version"]))):
        rank = seen.get(v["system_id"], 0)
        seen[v["system_id"]] = rank + 1
        if rank < keep or v["aliases"]:
            out.append(v)
    return out


# --- the pages -------------------------------------------------------------------------


def sent_values(request: Request) -> list[str]:
    """Every query and path parameter value of a request (what an error may echo)."""
    return [v for _, v in request.query_params.multi_items()] + [
        str(v) for v in request.path_params.values()
    ]


@dataclass(frozen=True)
class Snap:
    """A page's read-only cursor and the key of the snapshot it reads."""

    con: duckdb.DuckDBPyConnection
    key: Hashable | None


def add_dashboard(app: FastAPI, reader: SnapshotReader, settings: Settings) -> None:
    """Mount the static assets and the pages on ``app`` (left out of the OpenAPI schema)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(FILTERS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    pages = SnapshotCache(PAGE_CACHE_SIZE)

    def read() -> Iterator[Snap]:
        with reader.keyed_cursor() as (cur, _, key):
            yield Snap(cur, key)

    Con = Depends(read)

    def cached(build: Callable[..., HTMLResponse]) -> Callable[..., Response]:
        """Serve a page rendered from a published snapshot from the cache until the
        next snapshot (pages of the live warehouse, and errors, are never kept)."""

        @functools.wraps(build)
        def serve(**kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            snap: Snap = kwargs["snap"]
            if snap.key is None:
                return build(**kwargs)

            def render() -> CachedBody:
                rendered = build(**kwargs)
                return CachedBody.of(
                    bytes(rendered.body), "text/html; charset=utf-8", rendered.status_code
                )

            asked = (request.url.path, tuple(sorted(request.query_params.multi_items())))
            entry = pages.fetch(snap.key, asked, render, keep=lambda e: e.status_code == 200)
            return entry.response(request.headers.get("accept-encoding"))

        return serve

    def page(
        request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {"warehouse": reader.warehouse_name, **context},
            status_code=status,
        )

    def error(request: Request, exc: Exception, nav: str) -> HTMLResponse:
        status = (
            400
            if isinstance(exc, q.BadRequestError)
            else 404
            if isinstance(exc, q.NotFoundError)
            else 503
            if isinstance(exc, UnavailableError)
            else 400
        )
        return page(
            request,
            "error.html",
            {
                "nav": nav,
                "message": q.clip_echoes(str(exc), sent_values(request)),
                "status": status,
            },
            status,
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    @cached
    def tonight(
        request: Request,
        date: str | None = Query(None, max_length=40),
        system: str | None = Query(None, max_length=100),
        team: str | None = Query(None, max_length=10),
        snap: Snap = Con,
    ) -> HTMLResponse:
        con = snap.con
        try:
            day = q.optional_day(date) or q.latest_prediction_date(con)
            everything = q.predictions(con, day)["predictions"]
            if not everything:
                raise q.NotFoundError(missing_predictions_message(con, day))
            if system not in (None, "", ALL):
                q.check_system(con, system)
        except NbapropsError as exc:
            return error(request, exc, "tonight")
        try:
            computed = q.signals(con, settings, day)["signals"]
        except q.NotFoundError:
            computed = {}
        aliased = {k: v for k, v in computed.items() if k.rpartition("@")[2] in ALIASES}
        signals = {
            "aliased": sorted(aliased.items()),
            "others": sorted((k, v) for k, v in computed.items() if k not in aliased),
        }
        try:
            picks = q.picks(con, settings, day)
        except q.NotFoundError as exc:
            picks = q.no_picks(settings, day, str(exc))
        injuries = q.availability(con, settings, day)
        systems = sorted({p["system_id"] for p in everything})
        teams = sorted({p["team"] for p in everything if p["team"]})
        champion = picks["system"] or next(
            (p["system_id"] for p in everything if p["alias"] == "champion"), None
        )
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
        home_charts = {"edge": edge_chart(everything, chart_system)}
        if champion:
            kinds = sorted(
                {
                    p["line_kind"]
                    for p in everything
                    if p["system_id"] == champion and p["line_kind"]
                },
                key=lambda k: k != "sportsbook",
            )
            kind = kinds[0] if kinds else "sportsbook"
            daily = q.daily_record(
                con, champion, kind, day - timedelta(days=HOME_DAYS), day - timedelta(days=1)
            )
            home_charts["roi"] = roi_chart(daily, kind)
        counts = {
            "lined": sum(1 for p in rows if p["line_source"] == "ACTUAL"),
            "estimated": sum(1 for p in rows if p["line_source"] == "ESTIMATED"),
            "bets": sum(1 for p in rows if p["recommendation"] in ("OVER", "UNDER")),
        }
        return page(
            request,
            "tonight.html",
            {
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
            },
        )

    @app.get("/ui/track", response_class=HTMLResponse, include_in_schema=False)
    @cached
    def track(
        request: Request,
        system: str | None = Query(None, max_length=100),
        kind: str | None = Query(None, max_length=20),
        start: str | None = Query(None, max_length=40),
        end: str | None = Query(None, max_length=40),
        snap: Snap = Con,
    ) -> HTMLResponse:
        con = snap.con
        systems = q.graded_systems(con)
        try:
            chosen = system or (systems[0] if systems else None)
            if chosen is None:
                raise q.NotFoundError("nothing graded yet; run `nbaprops grade` after a slate")
            record = q.track_record(
                con, chosen, kind, q.optional_day(start, "start"), q.optional_day(end, "end")
            )
        except NbapropsError as exc:
            return error(request, exc, "track")
        try:
            ledgers = q.bets(
                con, record["start"], record["end"], chosen, unit_share=settings.betting.unit_share
            )["systems"]
        except q.NotFoundError:
            ledgers = []
        mine = [x for x in ledgers if x["system"] == chosen]
        return page(
            request,
            "track.html",
            {
                "nav": "track",
                "systems": systems,
                "record": record,
                "charts": track_charts(record),
                "ledger": mine[0] if mine else None,
            },
        )

    @app.get("/ui/players/{player_id}", response_class=HTMLResponse, include_in_schema=False)
    @cached
    def player(
        request: Request,
        player_id: int = PathParam(..., ge=1, le=2**62),
        date: str | None = Query(None, max_length=40),
        snap: Snap = Con,
    ) -> HTMLResponse:
        con = snap.con
        try:
            data = q.player(con, player_id, q.optional_day(date))
        except NbapropsError as exc:
            return error(request, exc, "")
        by_game: dict[str, dict[str, dict[str, Any]]] = {}
        systems: list[str] = []
        for p in data["predictions"]:
            label = p["system_id"] + (f"@{p['alias']}" if p.get("alias") else "")
            if label not in systems:
                systems.append(label)
            by_game.setdefault(str(p["game_id"]), {})[label] = p
        games = data["games"]
        points = [(g["game_date"], g["points"]) for g in games if g["points"] is not None]
        lines = [(g["game_date"], g["line"]) for g in games if g.get("line") is not None]
        series: dict[str, list[tuple[Any, Any]]] = {"points": points, "line": lines}
        if systems:
            # the system with the most predictions among these games draws its median
            labelled = [
                (p["system_id"] + (f"@{p['alias']}" if p.get("alias") else ""), p)
                for p in data["predictions"]
            ]
            most = max(systems, key=lambda s: sum(1 for label, _ in labelled if label == s))
            series[f"{most} median"] = [
                (p["game_date"], p["median"]) for label, p in labelled if label == most
            ]
        chart = charts.line_chart(
            series,
            title=f"{data['player_name']}: points, line and prediction",
            y_label="points",
            n={"points": len(points), "line": len(lines)},
        )
        return page(
            request,
            "player.html",
            {
                "nav": "",
                "data": data,
                "games": games,
                "systems": systems,
                "by_game": by_game,
                "chart": chart,
            },
        )

    @app.get("/ui/models", response_class=HTMLResponse, include_in_schema=False)
    @cached
    def models(
        request: Request,
        sort: str = Query("created_at", max_length=40),
        order: str = Query("desc", max_length=4),
        versions: str = Query("recent", max_length=10),
        snap: Snap = Con,
    ) -> HTMLResponse:
        con = snap.con
        if versions not in ("recent", "all"):
            return error(request, q.BadRequestError("versions: recent or all"), "models")
        if sort not in EXPERIMENT_SORTS or order not in ("asc", "desc"):
            return error(
                request,
                q.BadRequestError(
                    f"sort by one of {', '.join(EXPERIMENT_SORTS)}, order asc or desc"
                ),
                "models",
            )
        registry = q.models(con)
        every = registry["versions"]
        shown = every if versions == "all" else recent_versions(every)
        runs = q.experiments(con, limit=1000)
        present = [r for r in runs if not _missing(r.get(sort))]
        absent = [r for r in runs if _missing(r.get(sort))]
        present.sort(key=lambda r: r[sort], reverse=order == "desc")
        return page(
            request,
            "models.html",
            {
                "nav": "models",
                "versions": shown,
                "n_versions": len(every),
                "all_versions": versions == "all",
                "history": registry["history"],
                "runs": present + absent,
                "sort": sort,
                "order": order,
                "sorts": EXPERIMENT_SORTS,
            },
        )

    @app.get("/ui/health", response_class=HTMLResponse, include_in_schema=False)
    @cached
    def health(request: Request, snap: Snap = Con) -> HTMLResponse:
        con = snap.con
        status = q.health(con, reader.warehouse_name, "snapshot", settings)
        try:
            diagnosis = q.diagnostics(con)
        except q.NotFoundError:
            diagnosis = {"date": None, "diagnostics": []}
        last = diagnosis["date"] or status["freshness"]["last_prediction_date"] or date.today()
        since = last - timedelta(days=ALERT_DAYS)
        raised = q.alerts(con, since)["alerts"]
        # alerts of the game dates in the window (a rediagnosed season raises its
        # old dates today), newest game date first
        recent = sorted(
            (a for a in raised if not a["game_date"] or str(a["game_date"]) >= str(since)),
            key=lambda a: (str(a["game_date"] or ""), a["raised_at"]),
            reverse=True,
        )
        alerts = {
            "since": since,
            "alerts": recent[:MAX_ALERTS],
            "more": len(recent) > MAX_ALERTS,
            "total": len(recent),
        }
        return page(
            request,
            "health.html",
            {
                "nav": "health",
                "status": status,
                "diagnosis": diagnosis,
                "alerts": alerts,
                "alert_days": ALERT_DAYS,
            },
        )
