"""``/ui/health``: the warehouse's health, the latest diagnosis (every market's rows of
the latest diagnosed date) with its causes, and the alerts of the game dates of the last
two weeks.

``alerts_start`` and ``health_view`` (pure) build the page's context.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from nbaprops.api.dashboard.render import cached, page
from nbaprops.api.deps import AppSettings, Snap, SnapCon, reader_of
from nbaprops.core.settings import Settings
from nbaprops.read import monitoring as read_monitoring
from nbaprops.read import params as read_params
from nbaprops.read import status as read_status

ALERT_DAYS = 14  # days of alerts on the health page
MAX_ALERTS = 200  # alerts listed at most

router = APIRouter()


def alerts_start(status: dict[str, Any], diagnosis: dict[str, Any], today: date) -> date:
    """The first game date whose alerts the page lists: ``ALERT_DAYS`` before the
    latest diagnosed date (else the latest predicted, else today)."""
    last: date = diagnosis["date"] or status["freshness"]["last_prediction_date"] or today
    return last - timedelta(days=ALERT_DAYS)


def health_view(
    status: dict[str, Any], diagnosis: dict[str, Any], raised: list[dict[str, Any]], since: date
) -> dict[str, Any]:
    """The health page's context: the alerts of the game dates since ``since`` (a
    rediagnosed season raises its old dates today), newest game date first, at most
    ``MAX_ALERTS``."""
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
    return {
        "nav": "health",
        "status": status,
        "diagnosis": diagnosis,
        "alerts": alerts,
        "alert_days": ALERT_DAYS,
    }


@router.get("/ui/health", response_class=HTMLResponse, include_in_schema=False)
@cached
def health(
    request: Request, snap: Snap = SnapCon, settings: Settings = AppSettings
) -> HTMLResponse:
    con = snap.con
    status = read_status.health(con, reader_of(request).warehouse_name, "snapshot", settings)
    try:
        # the latest diagnosed date, every market's rows of it (each row names its market)
        diagnosis = read_monitoring.diagnostics(con, market=None)
    except read_params.NotFoundError:
        diagnosis = {"date": None, "diagnostics": []}
    since = alerts_start(status, diagnosis, date.today())
    raised = read_monitoring.alerts(con, since)["alerts"]
    return page(request, "health.html", health_view(status, diagnosis, raised, since))
