"""``/ui/models``: the model registry (recent versions per system, or all), aliases,
promotion history, and the experiment runs sortable by a column.

``recent_versions`` and ``models_view`` (pure) build the page's context.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from nbaprops.api.dashboard.format import missing
from nbaprops.api.dashboard.render import cached, error_page, page
from nbaprops.api.deps import Snap, SnapCon
from nbaprops.read import params as read_params
from nbaprops.read import registry as read_registry

RECENT_VERSIONS = 3  # newest versions per system the registry page lists by default
EXPERIMENT_SORTS = ("created_at", "name", "status", "primary_system", "mae", "n", "hit_rate")

router = APIRouter()


def recent_versions(
    versions: list[dict[str, Any]], keep: int = RECENT_VERSIONS
) -> list[dict[str, Any]]:
    """Per system, every aliased version and the ``keep`` newest (a weekly backfill
    registers a version per fold; the rest are one link away)."""
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for v in sorted(versions, key=lambda v: (v["system_id"], -int(v["version"]))):
        rank = seen.get(v["system_id"], 0)
        seen[v["system_id"]] = rank + 1
        if rank < keep or v["aliases"]:
            out.append(v)
    return out


def sorted_runs(runs: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    """Runs by ``sort`` (``order`` asc or desc), runs without a value for it last."""
    present = [r for r in runs if not missing(r.get(sort))]
    absent = [r for r in runs if missing(r.get(sort))]
    present.sort(key=lambda r: r[sort], reverse=order == "desc")
    return present + absent


def models_view(
    registry: dict[str, Any], runs: list[dict[str, Any]], sort: str, order: str, versions: str
) -> dict[str, Any]:
    """The registry page's context (``versions``: recent or all)."""
    every = registry["versions"]
    return {
        "nav": "models",
        "versions": every if versions == "all" else recent_versions(every),
        "n_versions": len(every),
        "all_versions": versions == "all",
        "history": registry["history"],
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
    snap: Snap = SnapCon,
) -> HTMLResponse:
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
    return page(request, "models.html", models_view(registry, runs, sort, order, versions))
