"""Points = expected minutes x points per minute, adjusted for the matchup.

Each factor is a small LAD fit on the training frame:

1. expected minutes from his last-10 minutes, a back-to-back, long rest, his
   recent DNP rate and minutes freed by absent teammates (fitted on the
   ``minutes`` label when the frame carries it, else his last-10 minutes);
2. points per minute: last-10 rate shrunk toward his season rate and the league's;
3. matchup: opponent defensive rating against the league's recent average, game
   pace against his team's own, the market's implied team total against his
   team's recent scoring (when a game line exists), and home court.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nbaprops.systems.base import (
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
    frame_dates,
)
from nbaprops.systems.fitting import ResidualShape, column, fit_lad, named
from nbaprops.systems.moving_average import pace_ratio

_MATCHUP = ("defense", "pace", "market_total", "home")
# Catalog defaults of the game-line features: all three at once means no line.
_NO_LINE = {"game_total": 224.0, "team_spread": 0.0, "implied_team_total": 112.0}


class MatchupSystem(PredictionSystem):
    system_id: ClassVar[str] = "matchup"
    fit_cost: ClassVar[float] = 1.3
    required_features: ClassVar[tuple[str, ...]] = (
        "points_per_minute_last_10",
        "points_avg_season",
        "points_std_last_10",
        "minutes_avg_last_10",
        "days_rest",
        "back_to_back",
        "dnp_rate_last_10",
        "teammates_out_minutes",
        "opponent_def_rating",
        "team_pace_last_10",
        "opponent_pace_last_10",
        "team_off_rating_last_10",
        "home_away",
        *_NO_LINE,
    )

    def __init__(
        self, reference_days: int = 60, long_rest_days: int = 3, random_state: int = 0
    ) -> None:
        self.reference_days = reference_days
        self.long_rest_days = long_rest_days
        self.random_state = random_state

    def _minutes_design(self, X: pd.DataFrame) -> FloatArray:
        m10 = column(X, "minutes_avg_last_10")
        return np.column_stack(
            [
                m10,
                m10 * column(X, "back_to_back"),
                m10 * (column(X, "days_rest") >= self.long_rest_days),
                m10 * column(X, "dnp_rate_last_10"),
                column(X, "teammates_out_minutes").clip(0.0, 120.0) / 10.0,
                np.ones(len(X)),
            ]
        )

    def _rate_design(self, X: pd.DataFrame, minutes: FloatArray) -> FloatArray:
        season_rate = column(X, "points_avg_season") / column(X, "minutes_avg_last_10").clip(5.0)
        return np.column_stack(
            [
                minutes * column(X, "points_per_minute_last_10").clip(0.0, 1.5),
                minutes * season_rate.clip(0.0, 1.5),
                minutes,
                np.ones(len(X)),
            ]
        )

    def _matchup(self, X: pd.DataFrame) -> FloatArray:
        defense = column(X, "opponent_def_rating") / self.league_def_rating_ - 1.0
        has_line = ~np.all(
            np.column_stack([column(X, c) == v for c, v in _NO_LINE.items()]), axis=1
        )
        own = column(X, "team_off_rating_last_10") * column(X, "team_pace_last_10") / 100.0
        market = np.where(has_line, column(X, "implied_team_total") / own.clip(80.0) - 1.0, 0.0)
        return np.column_stack(
            [
                defense.clip(-0.15, 0.15),
                pace_ratio(X),
                market.clip(-0.25, 0.25),
                column(X, "home_away"),
            ]
        )

    def _point(self, X: pd.DataFrame) -> FloatArray:
        minutes = np.clip(self._minutes_design(X) @ self.minutes_coef_, 0.0, 48.0)
        base = np.clip(self._rate_design(X, minutes) @ self.rate_coef_, 0.0, None)
        return np.asarray(np.clip(base * (1.0 + self._matchup(X) @ self.matchup_coef_), 0.0, None))

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        dates = frame_dates(X)
        recent = (dates >= dates.max() - pd.Timedelta(days=self.reference_days)).to_numpy()
        self.league_def_rating_ = float(np.mean(column(X, "opponent_def_rating")[recent]))
        design = self._minutes_design(X)
        labelled = "minutes" in X.columns and np.isfinite(column(X, "minutes")).all()
        if labelled:
            self.minutes_coef_ = fit_lad(design, column(X, "minutes"))
        else:
            self.minutes_coef_ = np.eye(design.shape[1])[0]
        minutes = np.clip(design @ self.minutes_coef_, 0.0, 48.0)
        self.rate_coef_ = fit_lad(self._rate_design(X, minutes), y)
        base = np.clip(self._rate_design(X, minutes) @ self.rate_coef_, 0.0, None)
        coef = fit_lad(np.column_stack([base, base[:, None] * self._matchup(X)]), y)
        self.matchup_coef_ = np.clip(coef[1:] / max(coef[0], 1e-6), -1.5, 1.5)
        self.rate_coef_ = self.rate_coef_ * coef[0]
        self.shape_ = ResidualShape.fit(self._point(X), y, column(X, "points_std_last_10"))
        return {
            "minutes_from_label": bool(labelled),
            "league_def_rating": round(self.league_def_rating_, 3),
            "matchup": named(_MATCHUP, self.matchup_coef_),
        }

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        point = self._point(X)
        q = self.shape_.quantiles(point, column(X, "points_std_last_10"))
        return PredictiveDistribution.from_quantiles(q)
