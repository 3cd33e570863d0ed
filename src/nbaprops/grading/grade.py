"""Grade a date: every active prediction against the box score, its line and the close,
and every bet at its own line and price (``grading.bets``).

Hit rates use ``ACTUAL`` lines only; estimated lines count for error only. A player
with no box-score row in a final game did not play: his prediction is void, with the
reason; a final game with no box-score rows at all is not loaded yet and stays pending.
Grading is idempotent: regrading writes the same rows, and a box-score
correction updates a grade in place (the caller logs which).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.db import transaction, upsert_grades
from nbaprops.core.markets import outcome_sql
from nbaprops.core.odds import FLAT_PRICE
from nbaprops.grading.bets import BetGradeResult, grade_bets_date
from nbaprops.systems.base import MEDIAN_INDEX, PredictiveDistribution

GRADE_COLUMNS = (
    "prediction_id",
    "system_id",
    "game_date",
    "player_id",
    "actual_points",
    "actual_minutes",
    "abs_error",
    "signed_error",
    "direction_vs_consensus",
    "void_reason",
    "line_source",
    "profit_consensus",
    "profit_best",
    "closing_line",
    "closing_over_price",
    "closing_under_price",
    "clv_line",
    "clv_prob",
    "pit",
    "graded_at",
    "regraded",
    "market",
)
# The model's call against the consensus line: a direction, not a bet (bets are graded
# at their own line and price in ``grading.bets``).
_DIRECTION = {m.WIN: "right", m.LOSS: "wrong", m.PUSH: "push", m.VOID: "void", m.PASS: "pass"}
# Grading completeness below this share writes an alert.
MIN_GRADED_SHARE = 0.80


@dataclass(frozen=True)
class GradeResult:
    day: date
    graded: int
    void: int
    pending: int  # not final yet, or final without box scores: left ungraded
    regraded: list[str]  # prediction ids whose grade changed (box-score corrections)
    completeness: pd.DataFrame
    bets: BetGradeResult | None = None  # the date's bets, graded as placed


def _to_grade(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Each active prediction of ``day`` with its outcome in its own market and that
    market's closing consensus line."""
    return con.execute(
        # the outcome expression is built from the market catalog's constants
        f"""
        SELECT p.prediction_id, p.system_id, p.market, p.game_date, p.player_id, p.game_id,
               p.line_source, p.line, p.over_price, p.under_price, p.median, p.quantiles,
               p.recommendation, p.bet_line, p.bet_price,
               {outcome_sql("p.market", "pg")} AS actual_points,
               CAST(pg.minutes AS DOUBLE) AS actual_minutes,
               g.status AS game_status,
               EXISTS (SELECT 1 FROM core.player_game b WHERE b.game_id = p.game_id)
                   AS has_box_score,
               cl.line AS closing_line, cl.over_price AS closing_over_price,
               cl.under_price AS closing_under_price
        FROM predictions.prediction p
        LEFT JOIN core.player_game pg
          ON pg.player_id = p.player_id AND pg.game_date = p.game_date
        LEFT JOIN core.game g ON g.game_id = p.game_id
        LEFT JOIN core.market_line cl
          ON cl.market = p.market AND cl.player_id = p.player_id
         AND cl.game_date = p.game_date
        WHERE p.game_date = ? AND p.is_active
        ORDER BY p.prediction_id
        """,  # noqa: S608
        [day],
    ).df()


def grade_rows(rows: pd.DataFrame, graded_at: pd.Timestamp) -> pd.DataFrame:
    """Grades of predictions joined with their outcome and closing line (pure)."""
    actual = rows["actual_points"].to_numpy(dtype=float)
    played = ~np.isnan(actual)
    is_actual = (rows["line_source"] == "ACTUAL").to_numpy()
    side = np.where(is_actual, rows["recommendation"].to_numpy(dtype=object), "PASS")
    side = np.where(np.isin(side, (m.OVER, m.UNDER)), side, "PASS")
    line = rows["line"].to_numpy(dtype=float)
    outcome = m.grade_bets(actual, line, side, played)
    over = side == m.OVER
    consensus_price = np.where(
        over, rows["over_price"].to_numpy(dtype=float), rows["under_price"].to_numpy(dtype=float)
    )
    consensus_price = np.where(np.isnan(consensus_price), FLAT_PRICE, consensus_price)
    best_line, best_price = m.as_placed(
        side, line, rows["over_price"], rows["under_price"], rows["bet_line"], rows["bet_price"]
    )
    _, profit_best = m.graded_as_placed(actual, side, played, best_line, best_price)
    clv_line, clv_prob = m.closing_line_value(
        side,
        best_line,
        best_price,
        rows["closing_line"].to_numpy(dtype=float),
        rows["closing_over_price"].to_numpy(dtype=float),
        rows["closing_under_price"].to_numpy(dtype=float),
    )
    median = rows["median"].to_numpy(dtype=float)
    pit = np.full(len(rows), np.nan)
    if played.any():
        q = np.stack(rows.loc[played, "quantiles"].to_numpy())
        pit[played] = PredictiveDistribution(
            mean=q.mean(axis=1), median=q[:, MEDIAN_INDEX], quantiles=q
        ).cdf(actual[played])
    direction = np.array([_DIRECTION[o] for o in outcome], dtype=object)
    direction = np.where(~played, "void", direction)
    out = pd.DataFrame(
        {
            "prediction_id": rows["prediction_id"],
            "system_id": rows["system_id"],
            "game_date": rows["game_date"],
            "player_id": rows["player_id"],
            "actual_points": actual,
            "actual_minutes": rows["actual_minutes"].to_numpy(dtype=float),
            "abs_error": np.abs(actual - median),
            "signed_error": actual - median,
            "direction_vs_consensus": direction,
            "void_reason": np.where(played, None, "did not play (no box-score row)"),
            "line_source": rows["line_source"],
            "profit_consensus": np.asarray(m.bet_profit(outcome, consensus_price), dtype=float),
            "profit_best": profit_best,
            "closing_line": rows["closing_line"].to_numpy(dtype=float),
            "closing_over_price": rows["closing_over_price"].to_numpy(dtype=float),
            "closing_under_price": rows["closing_under_price"].to_numpy(dtype=float),
            "clv_line": clv_line,
            "clv_prob": clv_prob,
            "pit": pit,
            "graded_at": graded_at,
            "regraded": 0,
            "market": rows.get("market", "points"),
        }
    )
    return out[list(GRADE_COLUMNS)]


def grade_date(con: duckdb.DuckDBPyConnection, day: date) -> GradeResult:
    """Grade every active prediction of ``day`` whose game is final (idempotent)."""
    rows = _to_grade(con, day)
    # A final game without a single box-score row has not been loaded yet: its players
    # are pending, never void (voiding them would hide a missing day as "did not play").
    final = (
        ((rows["game_status"] == "final") & rows["has_box_score"]).to_numpy()
        if len(rows)
        else np.array([], bool)
    )
    pending = int((~final).sum())
    rows = rows[final].reset_index(drop=True)
    grades = grade_rows(rows, pd.Timestamp.now(tz="UTC")) if len(rows) else pd.DataFrame()
    regraded: list[str] = []
    with transaction(con):
        if len(grades):
            regraded = upsert_grades(
                con,
                "grading.grade",
                grades,
                key="prediction_id",
                watched=(
                    "actual_points",
                    "actual_minutes",
                    "direction_vs_consensus",
                    "closing_line",
                ),
            )
        completeness = _completeness(con, day)
    bets = grade_bets_date(con, day)
    return GradeResult(
        day,
        int((grades["direction_vs_consensus"] != "void").sum()) if len(grades) else 0,
        int((grades["direction_vs_consensus"] == "void").sum()) if len(grades) else 0,
        pending,
        regraded,
        completeness,
        bets,
    )


def _completeness(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Predicted, graded, void and missing per system for the date (stored)."""
    con.execute(
        """
        INSERT OR REPLACE INTO grading.completeness
            (game_date, system_id, market, predicted, graded, void, missing, graded_share,
             computed_at)
        SELECT p.game_date, p.system_id, p.market, count(*) AS predicted,
               count(*) FILTER (WHERE g.direction_vs_consensus IS NOT NULL
                                 AND g.direction_vs_consensus <> 'void') AS graded,
               count(*) FILTER (WHERE g.direction_vs_consensus = 'void') AS void,
               count(*) FILTER (WHERE g.direction_vs_consensus IS NULL) AS missing,
               count(g.direction_vs_consensus) / count(*) AS graded_share,
               now()
        FROM predictions.prediction p
        LEFT JOIN grading.grade g USING (prediction_id)
        WHERE p.game_date = ? AND p.is_active AND NOT p.in_sample
        GROUP BY p.game_date, p.system_id, p.market
        """,
        [day],
    )
    return con.execute(
        "SELECT * FROM grading.completeness WHERE game_date = ? ORDER BY system_id, market",
        [day],
    ).df()
