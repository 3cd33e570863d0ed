"""What monitoring stored: the diagnostics of a date (one market, or every market) with
their causes and factors, and the alerts raised since a date.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import duckdb

from nbaprops.core.db import records
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.monitoring.alerts import alerts_since
from nbaprops.monitoring.diagnostics import stored_diagnostics
from nbaprops.read.params import NotFoundError, scrub

ALERTS_DEFAULT_DAYS = 7  # alerts since this many days ago when no date is given


def diagnostics(
    con: duckdb.DuckDBPyConnection,
    day: date | None = None,
    market: str | None = DEFAULT_MARKET,
) -> dict[str, Any]:
    """The stored diagnostics of a date (default: the latest diagnosed) in ``market``
    (default points; None: every market), per system and market, each row naming its
    market."""
    if day is None:
        latest = con.execute(
            "SELECT max(game_date) FROM monitoring.diagnostic "
            "WHERE CAST(? AS VARCHAR) IS NULL OR market = ?",
            [market, market],
        ).fetchone()
        day = None if latest is None else latest[0]
        if day is None:
            if market in (None, DEFAULT_MARKET):
                raise NotFoundError("no diagnostics yet; run `nbaprops diagnose`")
            raise NotFoundError(
                f"no diagnostics of {market} yet; run `nbaprops diagnose --market {market}`"
            )
    rows = records(stored_diagnostics(con, day, day, market))
    details = {
        (system, mk): detail
        for system, mk, detail in con.execute(
            "SELECT system_id, market, details FROM monitoring.diagnostic WHERE game_date = ?",
            [day],
        ).fetchall()
    }
    for r in rows:
        detail = json.loads(details.get((r["system_id"], r["market"])) or "{}")
        r["factors"] = detail.get("factors", [])
    return scrub({"date": day, "market": market, "diagnostics": rows})


def alerts(
    con: duckdb.DuckDBPyConnection, since: date | None = None, today: date | None = None
) -> dict[str, Any]:
    """Stored alerts raised on or after ``since`` (default: a week before today)."""
    first = since or (today or date.today()) - timedelta(days=ALERTS_DEFAULT_DAYS)
    return {"since": first, "alerts": scrub(alerts_since(con, first))}
