"""Weighted recent averages with rest, venue and pace adjustments, fitted by LAD.

Two small least-absolute-deviation fits keep it robust: first the blend of last-3,
last-5, last-10 and season averages (plus an intercept, which absorbs the gap
between a mean and a median), then multiplicative adjustments for a back-to-back,
long rest, home court and the game's pace relative to his team's own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nbaprops.systems.base import FloatArray, PredictionSystem, PredictiveDistribution
from nbaprops.systems.fitting import ResidualShape, column, fit_lad, named

_AVERAGES = ("points_avg_last_3", "points_avg_last_5", "points_avg_last_10", "points_avg_season")
_ADJUSTMENTS = ("back_to_back", "long_rest", "home", "pace")


def pace_ratio(X: pd.DataFrame) -> FloatArray:
    """Expected game pace over his team's recent pace, minus 1 (his form was built there)."""
    team = column(X, "team_pace_last_10").clip(80.0, 120.0)
    opp = column(X, "opponent_pace_last_10").clip(80.0, 120.0)
    return np.asarray(((team + opp) / (2.0 * team) - 1.0).clip(-0.15, 0.15))


class MovingAverageSystem(PredictionSystem):
    system_id: ClassVar[str] = "moving_average"
    required_features: ClassVar[tuple[str, ...]] = (
        *_AVERAGES,
        "points_std_last_10",
        "days_rest",
        "back_to_back",
        "home_away",
        "team_pace_last_10",
        "opponent_pace_last_10",
    )

    def __init__(self, long_rest_days: int = 3, random_state: int = 0) -> None:
        self.long_rest_days = long_rest_days
        self.random_state = random_state

    def _base_design(self, X: pd.DataFrame) -> FloatArray:
        return np.column_stack([*(column(X, c) for c in _AVERAGES), np.ones(len(X))])

    def _adjustments(self, X: pd.DataFrame) -> FloatArray:
        return np.column_stack(
            [
                column(X, "back_to_back"),
                (column(X, "days_rest") >= self.long_rest_days).astype(float),
                column(X, "home_away"),
                pace_ratio(X),
            ]
        )

    def _point(self, X: pd.DataFrame) -> FloatArray:
        base = np.clip(self._base_design(X) @ self.weights_, 0.0, None)
        factor = 1.0 + self._adjustments(X) @ self.adjust_
        return np.asarray(np.clip(base * factor, 0.0, None))

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        self.weights_ = fit_lad(self._base_design(X), y)
        base = np.clip(self._base_design(X) @ self.weights_, 0.0, None)
        adj = self._adjustments(X)
        coef = fit_lad(np.column_stack([base, base[:, None] * adj]), y)
        self.adjust_ = np.clip(coef[1:] / max(coef[0], 1e-6), -1.5, 1.5)
        self.weights_ = self.weights_ * coef[0]
        self.shape_ = ResidualShape.fit(self._point(X), y, column(X, "points_std_last_10"))
        return {
            "weights": named([*_AVERAGES, "intercept"], self.weights_),
            "adjustments": named(_ADJUSTMENTS, self.adjust_),
        }

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        point = self._point(X)
        q = self.shape_.quantiles(point, column(X, "points_std_last_10"))
        return PredictiveDistribution.from_quantiles(q)
