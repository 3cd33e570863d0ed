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
from nbaprops.systems.fitting import (
    Shape,
    column,
    fit_shape,
    shape_details,
    shape_dist,
)


class SeasonAverageSystem(PredictionSystem):
    system_id: ClassVar[str] = "season_average"
    required_features: ClassVar[tuple[str, ...]] = ("points_avg_season", "points_std_last_10")
    any_market: ClassVar[bool] = True
    shape_: Shape

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        pred = column(X, self.feature("points_avg_season"))
        std = column(X, self.feature("points_std_last_10"))
        self.shape_ = fit_shape(self.market, pred, y, std)
        return shape_details(self.shape_)

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        pred = column(X, self.feature("points_avg_season")).clip(0.0)
        return shape_dist(self.shape_, pred, column(X, self.feature("points_std_last_10")), pred)
