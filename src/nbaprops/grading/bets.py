"""Grade a date's bets as placed: each at its own book, line and price.

A bet (a pick whose status is BET) wins, loses or pushes against its own line, never
against the consensus; a player with no box-score row in a final game did not play and
the bet is void (the stake comes back). Profit is kept per unit, at the flat stake in
units and at the recommended stake as a share of the bankroll. Like predictions,
grading is idempotent and a box-score correction updates a grade in place (the caller
logs which).
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

BET_GRADE_COLUMNS = (
    "pick_id",
    "system_id",
    "game_date",
    "player_id",
    "actual_points",
    "result",
    "void_reason",
    "profit_per_unit",
    "profit_units",
    "profit_share",
    "graded_at",
    "regraded",
    "market",
)
# Outcome names of a bet as the ledger shows them.
BET_RESULTS = {m.WIN: "WIN", m.LOSS: "LOSS", m.PUSH: "PUSH", m.VOID: "VOID"}


@dataclass(frozen=True)
class BetGradeResult:
    day: date
    graded: int
    void: int
    pending: int  # the game is not final or its box scores are not loaded: ungraded
    regraded: list[str]  # pick ids whose grade changed (box-score corrections)


def grade_bet_rows(rows: pd.DataFrame, graded_at: pd.Timestamp) -> pd.DataFrame:
    """Grades of bets joined with their outcome (pure): ``actual_points`` (NaN: did not
    play), ``side``, ``bet_line``, ``bet_price``, ``stake_flat``, ``stake_kelly``."""
    actual = rows["actual_points"].to_numpy(dtype=float)
    played = ~np.isnan(actual)
    outcome, per_unit = m.graded_as_placed(
        actual, rows["side"], played, rows["bet_line"], rows["bet_price"]
    )
    out = pd.DataFrame(
        {
            "pick_id": rows["pick_id"].to_numpy(),
            "system_id": rows["system_id"].to_numpy(),
            "game_date": rows["game_date"].to_numpy(),
            "player_id": rows["player_id"].to_numpy(),
            "actual_points": actual,
            "result": [BET_RESULTS[o] for o in outcome],
            "void_reason": np.where(played, None, "did not play (no box-score row)"),
            "profit_per_unit": per_unit,
            "profit_units": per_unit * rows["stake_flat"].to_numpy(dtype=float),
            "profit_share": per_unit * rows["stake_kelly"].to_numpy(dtype=float),
            "graded_at": graded_at,
            "regraded": 0,
            "market": rows["market"].to_numpy() if "market" in rows else "points",
        }
    )
    return out[list(BET_GRADE_COLUMNS)]


def _to_grade(con: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Each active bet of ``day`` with its outcome in its own market."""
    return con.execute(
        # the outcome expression is built from the market catalog's constants
        f"""
        SELECT b.pick_id, b.system_id, b.market, b.game_date, b.player_id, b.side,
               b.bet_line, b.bet_price, b.stake_flat, b.stake_kelly,
               {outcome_sql("b.market", "pg")} AS actual_points,
               g.status = 'final'
                 AND EXISTS (SELECT 1 FROM core.player_game x WHERE x.game_id = b.game_id)
                 AS final
        FROM predictions.bet b
        LEFT JOIN core.player_game pg
          ON pg.player_id = b.player_id AND pg.game_date = b.game_date
        LEFT JOIN core.game g ON g.game_id = b.game_id
        WHERE b.game_date = ? AND b.is_active
        ORDER BY b.pick_id
        """,  # noqa: S608
        [day],
    ).df()


def grade_bets_date(con: duckdb.DuckDBPyConnection, day: date) -> BetGradeResult:
    """Grade every active bet of ``day`` whose game is final (idempotent)."""
    rows = _to_grade(con, day)
    final = rows["final"].fillna(False).to_numpy(dtype=bool) if len(rows) else np.array([], bool)
    pending = int((~final).sum())
    rows = rows[final].reset_index(drop=True)
    grades = grade_bet_rows(rows, pd.Timestamp.now(tz="UTC")) if len(rows) else pd.DataFrame()
    regraded: list[str] = []
    if len(grades):
        with transaction(con):
            regraded = upsert_grades(
                con,
                "grading.bet_grade",
                grades,
                key="pick_id",
                watched=("actual_points", "result"),
            )
    void = int((grades["result"] == "VOID").sum()) if len(grades) else 0
    return BetGradeResult(day, len(grades) - void, void, pending, regraded)
