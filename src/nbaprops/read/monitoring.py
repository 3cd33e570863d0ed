"""What monitoring stored: the diagnostics of a date with their causes and factors,
and the alerts raised since a date.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import duckdb

from nbaprops.core.db import records
from nbaprops.monitoring.alerts import alerts_since
from nbaprops.monitoring.diagnostics import stored_diagnostics
from nbaprops.read.convert import scalar
from nbaprops.read.params import NotFoundError, scrub

ALERTS_DEFAULT_DAYS = 7  # alerts since this many days ago when no date is given


def diagnostics(con: duckdb.DuckDBPyConnection, day: date | None = None) -> dict[str, Any]:
    """The stored diagnostics of a date (default: the latest diagnosed), per system."""
    if day is None:
        day = scalar(con, "SELECT max(game_date) FROM monitoring.diagnostic")
        if day is None:
            raise NotFoundError("no diagnostics yet; run `nbaprops diagnose`")
    rows = records(stored_diagnostics(con, day, day))
    details = dict(
        con.execute(
            "SELECT system_id, details FROM monitoring.diagnostic WHERE game_date = ?", [day]
        ).fetchall()
    )
    for r in rows:
        detail = json.loads(details.get(r["system_id"]) or "{}")
        r["factors"] = detail.get("factors", [])
    return scrub({"date": day, "diagnostics": rows})


def alerts(
    con: duckdb.DuckDBPyConnection, since: date | None = None, today: date | None = None
) -> dict[str, Any]:
    """Stored alerts raised on or after ``since`` (default: a week before today)."""
    first = since or (today or date.today()) - timedelta(days=ALERTS_DEFAULT_DAYS)
    return {"since": first, "alerts": scrub(alerts_since(con, first))}
