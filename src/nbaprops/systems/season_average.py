"""The floor: his season-to-date average, with a spread learned from the league.

Its point prediction is exactly ``points_avg_season`` (another market: that market's
season average) so its MAE is the published reference every other system must beat.
Only the spread is fitted: residual quantiles around the average, scaled by his last-10
standard deviation shrunk toward a league value; for a count market, a negative
binomial around the average (``CountShape``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from nbaprops.systems.base import FloatArray, PredictionSystem, PredictiveDistribution
from nbaprops.systems.fitting import CountShape, ResidualShape, column


class SeasonAverageSystem(PredictionSystem):
    system_id: ClassVar[str] = "season_average"
    required_features: ClassVar[tuple[str, ...]] = ("points_avg_season", "points_std_last_10")
    any_market: ClassVar[bool] = True
    shape_: ResidualShape | CountShape

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        pred = column(X, self.feature("points_avg_season"))
        if self.market.is_count:
            self.shape_ = CountShape.fit(
                pred,
                y,
                zero_inflated=self.market.zero_inflated,
                max_count=self.market.max_count,
            )
            return {"count_shape": self.shape_.to_dict()}
        self.shape_ = ResidualShape.fit(pred, y, column(X, self.feature("points_std_last_10")))
        return {"player_std_weight": self.shape_.player_weight}

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        pred = column(X, self.feature("points_avg_season")).clip(0.0)
        if isinstance(self.shape_, CountShape):
            return self.shape_.dist(pred)
        q = self.shape_.quantiles(pred, column(X, self.feature("points_std_last_10")))
        return PredictiveDistribution.from_quantiles(q, mean=pred)
