"""Alerts: rows in monitoring.alert, printed by the shells and, when a webhook URL is
set, POSTed to it as JSON (one request per batch of new alerts). ``post_json`` is the
one way monitoring POSTs (the alerts and the picks webhooks): a timeout, and a failure
returned, never raised."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

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
    market: str | None = None,
) -> dict[str, Any]:
    """Store an alert; returns it as the webhook and the shells show it. ``market``: the
    prop market it is about (a diagnosis's), None for an alert about no market."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    raised_at = datetime.now(UTC)
    con.execute(
        "INSERT INTO monitoring.alert "
        "(raised_at, game_date, severity, source, system_id, message, market) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [raised_at, game_date, severity, source, system_id, message, market],
    )
    return {
        "raised_at": raised_at.isoformat(),
        "game_date": None if game_date is None else str(game_date),
        "severity": severity,
        "source": source,
        "system_id": system_id,
        "message": message,
        "market": market,
    }


def alerts_since(con: duckdb.DuckDBPyConnection, since: date | datetime) -> list[dict[str, Any]]:
    frame = con.execute(
        "SELECT * FROM monitoring.alert WHERE raised_at >= ? ORDER BY raised_at", [since]
    ).df()
    return [
        {k: (None if v is None else str(v)) for k, v in r.items()} for r in frame.to_dict("records")
    ]


@dataclass(frozen=True)
class Delivery:
    url: str
    n_alerts: int
    ok: bool
    status: int | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_alerts": self.n_alerts,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
        }


def post_alerts(url: str, alerts: list[dict[str, Any]], timeout_s: float = 5.0) -> Delivery:
    """POST ``{"source": "nbaprops", "alerts": [...]}``; a failed delivery is reported,
    never raised (the alerts are already stored rows)."""
    ok, status, error = post_json(url, {"source": "nbaprops", "alerts": alerts}, timeout_s)
    return Delivery(url, len(alerts), ok, status, error)


def post_json(
    url: str,
    payload: Any,
    timeout_s: float = 5.0,
    *,
    opener: Callable[..., Any] | None = None,
) -> tuple[bool, int | None, str | None]:
    """POST ``payload`` as JSON with a timeout: (delivered, HTTP status, error). Never
    raises for a receiver that is down, slow, refusing or not a URL at all. ``opener``
    replaces ``urllib.request.urlopen`` (tests)."""
    body = json.dumps(payload, default=str).encode()
    try:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with (opener or urllib.request.urlopen)(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return False, exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, None, str(reason)
    if not 200 <= status < 300:
        return False, status, f"HTTP {status}"
    return True, status, None
