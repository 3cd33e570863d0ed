"""Grade the breakout shadow: did each scored role player break out, and how well did
the risk score rank them (AUC over time)?

A breakout is points >= the threshold stored with the prediction (the multiplier x
his pre-game season average), so a grade never depends on a later setting. A player
with no box-score row in a final game did not play: void. A final game without any
box-score row is not loaded yet and stays pending. Regrading is idempotent; a
box-score correction updates a grade in place and counts the change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.db import transaction

CATEGORIES = ("HIGH", "MEDIUM", "LOW")


@dataclass(frozen=True)
class BreakoutGradeResult:
    day: date
    graded: int
    void: int
    pending: int
    regraded: int


def grade_breakout_date(con: duckdb.DuckDBPyConnection, day: date) -> BreakoutGradeResult:
    """Grade every active shadow row of ``day`` whose game is final and loaded."""
    rows = con.execute(
        """
        SELECT b.prediction_id, b.system_id, b.model_version, b.game_date, b.player_id,
               b.breakout_threshold, CAST(pg.points AS DOUBLE) AS actual_points,
               g.status = 'final'
                 AND EXISTS (SELECT 1 FROM core.player_game x WHERE x.game_id = b.game_id)
                 AS ready
        FROM predictions.breakout b
        LEFT JOIN core.game g ON g.game_id = b.game_id
        LEFT JOIN core.player_game pg ON pg.player_id = b.player_id AND pg.game_id = b.game_id
        WHERE b.game_date = ? AND b.is_active
        """,
        [day],
    ).df()
    ready = rows["ready"].fillna(False).astype(bool).to_numpy() if len(rows) else np.array([])
    pending = int((~ready).sum()) if len(rows) else 0
    rows = rows[ready].reset_index(drop=True) if len(rows) else rows
    if rows.empty:
        return BreakoutGradeResult(day, 0, 0, pending, 0)
    played = rows["actual_points"].notna()
    rows["breakout"] = np.where(
        played, rows["actual_points"] >= rows["breakout_threshold"], None
    ).astype(object)
    rows["result"] = np.where(played, "graded", "void")
    before = con.execute(
        "SELECT prediction_id, actual_points, breakout FROM grading.breakout_grade "
        "WHERE prediction_id IN (SELECT unnest(?))",
        [rows["prediction_id"].tolist()],
    ).df()
    changed = 0
    if len(before):
        merged = rows.merge(before, on="prediction_id", suffixes=("", "_old"))
        diff = ~(
            (merged["actual_points"] == merged["actual_points_old"])
            | (merged["actual_points"].isna() & merged["actual_points_old"].isna())
        )
        changed = int(diff.sum())
    out = rows[
        [
            "prediction_id",
            "system_id",
            "model_version",
            "game_date",
            "player_id",
            "actual_points",
            "breakout",
            "result",
        ]
    ].copy()
    out["breakout"] = out["breakout"].map(lambda v: None if v is None else bool(v))
    con.register("_breakout_grades", out)
    try:
        with transaction(con):
            con.execute(
                """
                INSERT INTO grading.breakout_grade
                SELECT prediction_id, system_id, model_version, CAST(game_date AS DATE),
                       player_id, actual_points, CAST(breakout AS BOOLEAN), result, now(), 0
                FROM _breakout_grades
                ON CONFLICT (prediction_id) DO UPDATE SET
                    actual_points = excluded.actual_points, breakout = excluded.breakout,
                    result = excluded.result, graded_at = excluded.graded_at,
                    regraded = regraded + CASE
                        WHEN actual_points IS DISTINCT FROM excluded.actual_points THEN 1
                        ELSE 0 END
                """
            )
    finally:
        con.unregister("_breakout_grades")
    n_played = int(played.sum())
    return BreakoutGradeResult(day, n_played, len(out) - n_played, pending, changed)


def ungraded_breakout_dates(
    con: duckdb.DuckDBPyConnection, before: date, lookback_days: int
) -> list[date]:
    """Dates before ``before`` (within the lookback) with active shadow rows not graded."""
    return [
        r[0]
        for r in con.execute(
            """
            SELECT DISTINCT b.game_date FROM predictions.breakout b
            LEFT JOIN grading.breakout_grade g USING (prediction_id)
            WHERE b.is_active AND b.game_date < ? AND b.game_date >= ? - CAST(? AS INTEGER)
              AND g.prediction_id IS NULL
            ORDER BY 1
            """,
            [before, before, lookback_days],
        ).fetchall()
    ]


def graded_breakout_rows(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    """Active, graded (played) shadow rows of [start, end], in-sample rows excluded."""
    frame = con.execute(
        """
        SELECT b.game_date, b.player_id, b.system_id, b.model_version, b.risk_score,
               b.p_breakout, b.risk, b.season_avg_before, g.actual_points,
               CAST(g.breakout AS DOUBLE) AS breakout
        FROM predictions.breakout b JOIN grading.breakout_grade g USING (prediction_id)
        WHERE b.is_active AND NOT b.in_sample AND g.result = 'graded'
          AND b.game_date BETWEEN ? AND ?
        ORDER BY b.game_date, b.player_id
        """,
        [start, end],
    ).df()
    if len(frame):
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def _auc(rows: pd.DataFrame) -> float:
    if rows.empty:
        return math.nan
    return m.roc_auc(rows["risk_score"].to_numpy(), rows["breakout"].to_numpy())


def _rate(rows: pd.DataFrame) -> dict[str, Any]:
    k, n = int(rows["breakout"].sum()), len(rows)
    low, high = m.wilson_interval(k, n)
    return {"n": n, "breakouts": k, "rate": k / n if n else None, "ci95": [low, high]}


def breakout_report(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, Any]:
    """The shadow's graded figures over a range: AUC overall and by month (AUC over
    time), base rate, breakout rate per risk category, and voids counted."""
    rows = graded_breakout_rows(con, start, end)
    voids = con.execute(
        "SELECT count(*) FROM predictions.breakout b JOIN grading.breakout_grade g "
        "USING (prediction_id) WHERE b.is_active AND g.result = 'void' "
        "AND b.game_date BETWEEN ? AND ?",
        [start, end],
    ).fetchone()
    n = len(rows)
    out: dict[str, Any] = {
        "start": str(start),
        "end": str(end),
        "n": n,
        "voids": int(voids[0]) if voids else 0,
        "dates": int(rows["game_date"].nunique()) if n else 0,
        "base_rate": float(rows["breakout"].mean()) if n else None,
        "auc": _auc(rows),
        "by_risk": {c: _rate(rows[rows["risk"] == c]) for c in CATEGORIES} if n else {},
        "by_month": [],
    }
    if n:
        month = pd.to_datetime(rows["game_date"]).dt.strftime("%Y-%m")
        for label, part in rows.groupby(month, sort=True):
            out["by_month"].append(
                {
                    "month": str(label),
                    "n": len(part),
                    "base_rate": float(part["breakout"].mean()),
                    "auc": _auc(part),
                    "n_high": int((part["risk"] == "HIGH").sum()),
                }
            )
    return out
