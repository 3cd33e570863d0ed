"""The floor: his season-to-date average, with a spread learned from the league.

Its point prediction is exactly ``points_avg_season`` so its MAE is the published
reference every other system must beat. Only the spread is fitted: residual
quantiles around the average, scaled by his last-10 standard deviation shrunk
toward a league value.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from nbaprops.systems.base import FloatArray, PredictionSystem, PredictiveDistribution
from nbaprops.systems.fitting import ResidualShape, column


class SeasonAverageSystem(PredictionSystem):
    system_id: ClassVar[str] = "season_average"
    required_features: ClassVar[tuple[str, ...]] = ("points_avg_season", "points_std_last_10")

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        pred = column(X, "points_avg_season")
        self.shape_ = ResidualShape.fit(pred, y, column(X, "points_std_last_10"))
        return {"player_std_weight": self.shape_.player_weight}

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        pred = column(X, "points_avg_season").clip(0.0)
        q = self.shape_.quantiles(pred, column(X, "points_std_last_10"))
        return PredictiveDistribution.from_quantiles(q, mean=pred)
