"""Diagnostics of the data (is it there, fresh and complete?).

**Data quality**: the date's feature completeness and defaulted-feature rate, days since
the last box score and the last line snapshot, every date of the season (from the
system's first prediction of the season) with games but no predictions, no complete
grading, or final games without box scores — the whole season, never a recent window —,
failed phases over 7 days, and days since the version's training end against the
retrain cadence.

The season's inputs (game dates, predictions, grading, box scores, line snapshots,
failed phases) are read once per run here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import get_feature_set
from nbaprops.models.registry import ModelVersion
from nbaprops.monitoring.diagnostics.common import rounded

COMPLETENESS_WARN = 0.90
FRESHNESS_DAYS = 2  # box score / line snapshot older than this (on a date with games)
# Dates whose games the daily job must cover. The NBA Cup final is left out: it does
# not count toward player statistics, so the box-score source never holds it.
GAME_SEASON_TYPES = ("regular", "playin", "playoffs")


@dataclass
class Season:
    """What the season of the diagnosed dates holds, read once per run."""

    game_dates: list[date]  # dates with (non-preseason) games
    final_without_box: set[date]  # final games with no box-score row at all
    first_prediction: dict[str, date]  # per system, in the season
    prediction_dates: dict[str, set[date]]
    graded_ok: dict[str, set[date]]  # completeness at or above the settings' share
    box_dates: list[date]  # dates with box-score rows (sorted)
    line_dates: list[date]  # dates with line snapshots (sorted)


def season_of(con: duckdb.DuckDBPyConnection, day: date) -> str:
    row = con.execute(
        "SELECT season FROM core.game WHERE game_date <= ? ORDER BY game_date DESC LIMIT 1",
        [day],
    ).fetchone()
    if row is None:
        raise NbapropsError(f"no games on or before {day}: nothing to diagnose")
    return str(row[0])


def read_season(
    con: duckdb.DuckDBPyConnection,
    season: str,
    last: date,
    min_graded_share: float,
    market: str = DEFAULT_MARKET,
) -> Season:
    """The season's inputs; predictions and grading completeness of ``market`` only."""
    types = list(GAME_SEASON_TYPES)
    games = con.execute(
        """
        SELECT g.game_date, bool_or(g.status = 'final' AND NOT EXISTS (
                   SELECT 1 FROM core.player_game b WHERE b.game_id = g.game_id)) AS no_box
        FROM core.game g
        WHERE g.season = ? AND list_contains(?, g.season_type) AND g.game_date <= ?
        GROUP BY 1 ORDER BY 1
        """,
        [season, types, last],
    ).fetchall()
    first_day = games[0][0] if games else last
    preds = con.execute(
        """
        SELECT DISTINCT system_id, game_date FROM predictions.prediction
        WHERE is_active AND NOT in_sample AND game_date BETWEEN ? AND ?
          AND market = ? -- diagnostics are of one market
        """,
        [first_day, last, market],
    ).fetchall()
    graded = con.execute(
        """
        SELECT system_id, game_date FROM grading.completeness
        WHERE game_date BETWEEN ? AND ? AND predicted > 0 AND market = ?
          AND (graded + void) / predicted >= ?
        """,
        [first_day, last, market, min_graded_share],
    ).fetchall()
    prediction_dates: dict[str, set[date]] = {}
    for system, day in preds:
        prediction_dates.setdefault(system, set()).add(day)
    graded_ok: dict[str, set[date]] = {}
    for system, day in graded:
        graded_ok.setdefault(system, set()).add(day)
    box = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.player_game WHERE game_date <= ? ORDER BY 1",
            [last],
        ).fetchall()
    ]
    lines = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT game_date FROM core.prop_line_snapshot WHERE game_date <= ? "
            "ORDER BY 1",
            [last],
        ).fetchall()
    ]
    return Season(
        game_dates=[g[0] for g in games],
        final_without_box={g[0] for g in games if g[1]},
        first_prediction={s: min(d) for s, d in prediction_dates.items()},
        prediction_dates=prediction_dates,
        graded_ok=graded_ok,
        box_dates=box,
        line_dates=lines,
    )


def _days_since(dates: list[date], day: date) -> int | None:
    i = int(np.searchsorted(np.array(dates, dtype="datetime64[D]"), np.datetime64(day), "right"))
    return None if i == 0 else (day - dates[i - 1]).days


def recent_phase_failures(con: duckdb.DuckDBPyConnection, day: date) -> list[dict[str, Any]]:
    rows = con.execute(
        """
        SELECT run_date, phase, status, error FROM pipeline.phase_run
        WHERE run_date BETWEEN ? AND ?
        QUALIFY row_number() OVER (PARTITION BY run_date, phase
                                   ORDER BY coalesce(started_at, finished_at) DESC NULLS LAST) = 1
        """,
        [day - timedelta(days=6), day],
    ).fetchall()
    return [
        {"run_date": str(r[0]), "phase": r[1], "status": r[2], "error": r[3]}
        for r in rows
        if r[2] == "FAILED"
    ]


def data_quality(
    day: date,
    system: str,
    day_rows: pd.DataFrame,
    season: Season,
    version: ModelVersion | None,
    phase_failures: list[dict[str, Any]],
    settings: Settings,
) -> dict[str, Any]:
    n = len(day_rows)
    n_features = None
    if version is not None:
        n_features = len(version.feature_columns) or None
    if n_features is None and version is not None:
        n_features = len(get_feature_set(version.feature_set_key).features)
    defaulted = (
        float(day_rows["n_defaulted"].sum() / (n * n_features)) if n and n_features else None
    )
    # Share of the date's feature values computed from history (not defaulted); rows with
    # every feature computed are reported beside it (optional features default often).
    completeness = None if defaulted is None else 1.0 - defaulted
    rows_complete = float((day_rows["n_defaulted"] == 0).mean()) if n else None
    start = season.first_prediction.get(system)
    dates = [d for d in season.game_dates if start is not None and start <= d <= day]
    predicted = season.prediction_dates.get(system, set())
    graded = season.graded_ok.get(system, set())
    no_predictions = [d for d in dates if d not in predicted]
    no_grading = [d for d in dates if d in predicted and d not in graded]
    no_box = sorted(d for d in season.final_without_box if d <= day)
    missing = sorted(set(no_predictions) | set(no_grading) | set(no_box))
    before = [d for d in season.game_dates if start is None or d < start]
    staleness = None if version is None else (day - version.train_end).days
    cadence = settings.alerts.retrain_cadence_days
    return {
        "n_predictions": n,
        "feature_completeness": rounded(completeness),
        "defaulted_rate": rounded(defaulted),
        "rows_fully_complete": rounded(rows_complete),
        "days_since_box_score": _days_since(season.box_dates, day),
        "days_since_line": _days_since(season.line_dates, day),
        "season_first_prediction": None if start is None else str(start),
        "season_dates_before_first_prediction": len(before),
        "missing_dates": [str(d) for d in missing],
        "dates_without_predictions": [str(d) for d in no_predictions],
        "dates_without_grading": [str(d) for d in no_grading],
        "dates_without_box_scores": [str(d) for d in no_box],
        "phase_failures": phase_failures,
        "staleness_days": staleness,
        "retrain_cadence_days": cadence,
        "stale": staleness is not None and staleness > settings.alerts.alert_stale_factor * cadence,
        "train_end": None if version is None else str(version.train_end),
    }
