"""``/ui/models``: the model registry (recent versions per system and market, or all),
each version's and alias's market (``?market=`` shows one market's; default every
market), the champion of each market, promotion history, and the experiment runs
sortable by a column.

``recent_versions`` and ``models_view`` (pure) build the page's context.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nbaprops.api.dashboard.format import missing
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.dashboard.track import market_links
from nbaprops.api.deps import Snap, SnapCon
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG, MARKET_NAMES
from nbaprops.read import params as read_params
from nbaprops.read import registry as read_registry

RECENT_VERSIONS = 3  # newest versions per system and market the page lists by default
EXPERIMENT_SORTS = ("created_at", "name", "status", "primary_system", "mae", "n", "hit_rate")

router = APIRouter()


def recent_versions(
    versions: list[dict[str, Any]], keep: int = RECENT_VERSIONS
) -> list[dict[str, Any]]:
    """Per system and market, every aliased version and the ``keep`` newest (a weekly
    backfill registers a version per fold; the rest are one link away)."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for v in sorted(versions, key=lambda v: (v["system_id"], -int(v["version"]))):
        group = (v["system_id"], _market(v))
        rank = seen.get(group, 0)
        seen[group] = rank + 1
        if rank < keep or v["aliases"]:
            out.append(v)
    return out


def _market(row: dict[str, Any]) -> str:
    return str(row.get("market") or DEFAULT_MARKET)


def champions(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The champion version of each market, in catalog order."""
    found = {_market(v): v for v in versions if "champion" in (v["aliases"] or ())}
    order = {m: i for i, m in enumerate(MARKET_NAMES)}
    return [found[m] for m in sorted(found, key=lambda m: (order.get(m, len(order)), m))]


def sorted_runs(runs: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    """Runs by ``sort`` (``order`` asc or desc), runs without a value for it last."""
    present = [r for r in runs if not missing(r.get(sort))]
    absent = [r for r in runs if missing(r.get(sort))]
    present.sort(key=lambda r: r[sort], reverse=order == "desc")
    return present + absent


def models_view(
    registry: dict[str, Any],
    runs: list[dict[str, Any]],
    sort: str,
    order: str,
    versions: str,
    market: str | None = None,
) -> dict[str, Any]:
    """The registry page's context (``versions``: recent or all; ``market``: that
    market's versions, champion and alias changes only, None: every market's)."""
    registered = registry["versions"]
    every = [v for v in registered if market is None or _market(v) == market]
    history = {
        system: shown
        for system, events in registry["history"].items()
        if (shown := [e for e in events if market is None or _market(e) == market])
    }
    return {
        "nav": "models",
        "versions": every if versions == "all" else recent_versions(every),
        "n_versions": len(every),
        "all_versions": versions == "all",
        "champions": champions(every),
        "market": market,
        "market_title": MARKET_CATALOG[market].title if market else None,
        "markets": market_links(market, sorted({_market(v) for v in registered})),
        "history": history,
        "runs": sorted_runs(runs, sort, order),
        "sort": sort,
        "order": order,
        "sorts": EXPERIMENT_SORTS,
    }


@router.get("/ui/models", response_class=HTMLResponse, include_in_schema=False)
@cached
def models(
    request: Request,
    sort: str = Query("created_at", max_length=40),
    order: str = Query("desc", max_length=4),
    versions: str = Query("recent", max_length=10),
    market: str | None = Query(None, max_length=40),
    snap: Snap = SnapCon,
) -> HTMLResponse:
    try:
        # every market unless one is asked for (``all`` too)
        shown = None if market in (None, "", "all") else read_params.check_market(market)
    except NbapropsError as exc:
        return error_page(request, exc, "models")
    if versions not in ("recent", "all"):
        return error_page(request, read_params.BadRequestError("versions: recent or all"), "models")
    if sort not in EXPERIMENT_SORTS or order not in ("asc", "desc"):
        return error_page(
            request,
            read_params.BadRequestError(
                f"sort by one of {', '.join(EXPERIMENT_SORTS)}, order asc or desc"
            ),
            "models",
        )
    registry = read_registry.models(snap.con)
    runs = read_registry.experiments(snap.con, limit=1000)
    view = models_view(registry, runs, sort, order, versions, shown)
    return page(request, "models.html", view)
