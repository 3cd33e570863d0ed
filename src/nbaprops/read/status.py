"""The warehouse's state: health (freshness, phase records, aliased models), the
phase records of the last run dates, and the latest predicted date.

The daily run's phase names live here (``PHASES``): ``pipeline.daily`` writes the
records, this module reads them, and both order them the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from nbaprops.core.db import records
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.core.settings import Settings
from nbaprops.read.convert import scalar
from nbaprops.read.params import NotFoundError, scrub
from nbaprops.warehouse.freshness import report as freshness_report
from nbaprops.warehouse.migrate import (
    current_version,
    has_core_tables,
    has_phase_records,
    has_registries,
)

# The phases of the daily run, in order (``pipeline.daily`` runs them; the phase records
# are read here).
PHASES = (
    "ingest",
    "grade",
    "diagnose",
    "bootstrap",
    "predict",
    "breakout_shadow",
    "signal",
    "publish",
)
# The first phase of a live run (``run daily --live``): fetch the date's sources, ingest them.
FETCH_PHASE = "fetch"
# The phase a run that could not open the warehouse records in the sidecar file.
START_PHASE = "start"


def phase_history(
    con: duckdb.DuckDBPyConnection,
    days: int = 14,
    unstarted: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Phase records of the last ``days`` run dates: the latest run of each date, all
    its phases together (a run is as recent as its latest record). ``unstarted``: the
    sidecar's records not yet folded in (``unstarted_runs``), each a run of its own."""
    frame = con.execute(
        """
        WITH runs AS (
            SELECT run_id, run_date,
                   max(greatest(coalesce(created_at, started_at, finished_at),
                                coalesce(started_at, created_at, finished_at),
                                coalesce(finished_at, started_at, created_at))) AS seen
            FROM pipeline.phase_run GROUP BY run_id, run_date
        ), latest AS (
            SELECT run_id, run_date, seen FROM runs
            QUALIFY row_number() OVER (PARTITION BY run_date
                                       ORDER BY seen DESC NULLS LAST, run_id) = 1
        )
        SELECT p.run_id, p.run_date, p.phase, p.status, p.rows, p.started_at,
               p.finished_at, p.error, l.seen
        FROM pipeline.phase_run p JOIN latest l USING (run_id, run_date)
        WHERE p.run_date >= (SELECT max(run_date) FROM pipeline.phase_run) - CAST(? AS INTEGER)
        """,
        [days - 1],
    ).df()
    rows = [_plain_phase({str(k): v for k, v in r.items()}) for r in frame.to_dict("records")]
    seen = {r["run_date"]: r.pop("seen") for r in rows}
    for record in unstarted or []:
        when = record.get("finished_at") or record.get("started_at")
        earlier = seen.get(record["run_date"])
        if earlier is not None and (when is None or pd.Timestamp(earlier) > pd.Timestamp(when)):
            continue  # a later run of the date took the warehouse
        rows = [r for r in rows if r["run_date"] != record["run_date"]]
        seen[record["run_date"]] = when
        rows.append(
            {
                "run_id": record["run_id"],
                "run_date": record["run_date"],
                "phase": record.get("phase", START_PHASE),
                "status": record.get("status", "FAILED"),
                "rows": None,
                "started_at": record.get("started_at"),
                "finished_at": record.get("finished_at"),
                "error": record["error"],
            }
        )
    order = [START_PHASE, FETCH_PHASE, *PHASES]
    rows.sort(
        key=lambda r: (
            r["run_date"],
            -(order.index(r["phase"]) if r["phase"] in order else len(order)),
        ),
        reverse=True,
    )
    return rows


def _plain_phase(r: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for k, v in r.items():
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            row[k] = None
        elif k == "rows":
            row[k] = int(v)
        elif k == "run_date":
            row[k] = pd.Timestamp(v).date().isoformat()
        elif isinstance(v, pd.Timestamp):
            row[k] = v.isoformat()
        else:
            row[k] = str(v)
    return row


def health(
    con: duckdb.DuckDBPyConnection,
    warehouse: str,
    source: str,
    settings: Settings,
) -> dict[str, Any]:
    """The warehouse's name (never its path), how fresh it is, the last phase records
    and the model version behind each alias. ``status`` is ``stale`` when ``predict``
    would refuse the latest predicted date (``warehouse.freshness``), else ``ok``. Each
    alias is of one market (a system may hold a champion per market)."""
    freshness = {
        "last_box_score_date": scalar(con, "SELECT max(game_date) FROM core.player_game"),
        "last_line_snapshot": scalar(con, "SELECT max(snapshot_time) FROM core.prop_line_snapshot"),
        "last_prediction_date": None,
        "last_graded_date": None,
    }
    phases: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    if has_phase_records(con):
        freshness["last_prediction_date"] = scalar(
            con, "SELECT max(game_date) FROM predictions.prediction WHERE is_active"
        )
        freshness["last_graded_date"] = scalar(con, "SELECT max(game_date) FROM grading.grade")
        phases = scrub(phase_history(con))
    if has_registries(con):
        models = records(
            con.execute(
                "SELECT system_id, alias, version, set_at, market FROM models.alias "
                "ORDER BY system_id, market <> 'points', market, alias"
            ).df()
        )
    status = "ok"
    if has_core_tables(con):
        fresh = freshness_report(con, settings)
        freshness["as_of"] = fresh.day
        freshness["state"] = fresh.state
        freshness["sources"] = [
            {"source": s.source, "state": s.state, "latest": s.latest, "detail": s.detail}
            for s in fresh.sources
        ]
        status = fresh.state
    return {
        "status": status,
        "warehouse": warehouse,
        "source": source,
        "schema_version": current_version(con),
        "freshness": freshness,
        "phases": phases,
        "models": models,
    }


def latest_prediction_date(con: duckdb.DuckDBPyConnection, market: str | None = None) -> date:
    """The latest date with active predictions (of ``market``; None: of any market)."""
    if market is None:
        day = scalar(con, "SELECT max(game_date) FROM predictions.prediction WHERE is_active")
    else:
        row = con.execute(
            "SELECT max(game_date) FROM predictions.prediction WHERE is_active AND market = ?",
            [market],
        ).fetchone()
        day = row[0] if row else None
    if day is None:
        if market in (None, DEFAULT_MARKET):
            raise NotFoundError("no predictions yet; run `nbaprops run daily`")
        raise NotFoundError(
            f"no {market} predictions yet; run `nbaprops run daily --markets {market}`"
        )
    return day
