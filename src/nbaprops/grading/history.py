"""Graded predictions before a date, read from the predictions and grading tables.

The daily job's side of ``predictions.history.GradedHistory``: the rows a walk-forward
keeps in memory are, for a backfill, its own earlier predictions once graded. Scoped
to one experiment (a backfill's registered fold versions), the calibration each fold
learns is the one the backtest of the same spec learns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd


@dataclass(frozen=True)
class TableHistory:
    con: duckdb.DuckDBPyConnection
    experiment_id: str | None = None  # only versions registered by this run
    market: str | None = None  # only this market's rows (None: any; a run has one)

    def graded_before(self, system_id: str, day: date) -> pd.DataFrame:
        frame = self.con.execute(
            """
            SELECT p.system_id AS system, p.player_id, p.game_date, p.median, p.line,
                   p.quantiles[10] AS median_model, p.line_kind, p.over_price, p.under_price,
                   p.p_over_dist, p.p_push, p.recommendation AS side, p.ev, p.ev_calibrated,
                   p.bet_line, p.bet_price, g.pit, g.actual_points AS actual,
                   g.direction_vs_consensus <> 'void' AS played
            FROM predictions.prediction p
            JOIN grading.grade g USING (prediction_id)
            JOIN models.version v ON v.system_id = p.system_id AND v.version = p.model_version
            WHERE p.system_id = $system AND p.game_date < $day AND p.is_active
              AND NOT p.in_sample
              AND ($experiment IS NULL OR v.experiment_id = $experiment)
              AND ($market IS NULL OR p.market = $market)
            ORDER BY p.game_date, p.player_id
            """,
            {
                "system": system_id,
                "day": day,
                "experiment": self.experiment_id,
                "market": self.market,
            },
        ).df()
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
        return frame
