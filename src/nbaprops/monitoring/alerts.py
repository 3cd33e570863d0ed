"""Alerts: rows in monitoring.alert, printed by the shells (and, later, posted)."""

from __future__ import annotations

from datetime import date

import duckdb

SEVERITIES = ("CRITICAL", "WARNING", "INFO")


def raise_alert(
    con: duckdb.DuckDBPyConnection,
    severity: str,
    source: str,
    message: str,
    *,
    game_date: date | None = None,
    system_id: str | None = None,
) -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    con.execute(
        "INSERT INTO monitoring.alert VALUES (now(), ?, ?, ?, ?, ?)",
        [game_date, severity, source, system_id, message],
    )


def alerts_since(con: duckdb.DuckDBPyConnection, since: date) -> list[dict[str, object]]:
    frame = con.execute(
        "SELECT * FROM monitoring.alert WHERE raised_at >= ? ORDER BY raised_at", [since]
    ).df()
    return [
        {k: (None if v is None else str(v)) for k, v in r.items()} for r in frame.to_dict("records")
    ]
