"""``/diagnostics`` and ``/alerts``: what monitoring stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from nbaprops.api.deps import Con, MarketQ, Read
from nbaprops.api.schemas import ERRORS, Alerts, Diagnostics
from nbaprops.read import monitoring as read_monitoring
from nbaprops.read import params as read_params

router = APIRouter()


@router.get("/diagnostics", response_model=Diagnostics, responses=ERRORS)
def diagnostics(
    date: str | None = Query(
        None, description="Date (default: the latest diagnosed in the market)."
    ),
    market: str = MarketQ,
    r: Read = Con,
) -> dict[str, Any]:
    """Stored diagnostics of one market per system with the attributed cause and its
    factors."""
    market = read_params.check_market(market)
    return read_monitoring.diagnostics(r.con, read_params.optional_day(date), market)


@router.get("/alerts", response_model=Alerts, responses=ERRORS)
def alerts(
    since: str | None = Query(None, description="Raised on or after (default: 7 days ago)."),
    r: Read = Con,
) -> dict[str, Any]:
    """Stored alerts (diagnostics, grading) since a date."""
    return read_monitoring.alerts(r.con, read_params.optional_day(since, "since"))
