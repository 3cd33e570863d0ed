"""The market as a system: the consensus line as the point, its de-vigged price as P(over).

Nothing about the market's opinion is learned. The scoring path prices it through the
``market`` calibration (``models.calibration.MarketAnchor.market``): P(over) is the
consensus over/under prices at decision time with the book's margin removed (method
``devig_method``: multiplicative, additive, power or Shin), 0.5 on a DFS pick'em line.
What is fitted is only the spread around the point, from the league's residuals around
the season average, so the market also has a distribution: to store, to price a book's
other line when shopping, and for players no book priced, where it falls back to the
season average (as a market-maker's opening number would).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nbaprops.core.devig import METHODS
from nbaprops.core.errors import NbapropsError
from nbaprops.systems.base import FloatArray, PredictionSystem, PredictiveDistribution
from nbaprops.systems.fitting import (
    Shape,
    column,
    fit_shape,
    shape_details,
    shape_dist,
)


class MarketSystem(PredictionSystem):
    system_id: ClassVar[str] = "market"
    required_features: ClassVar[tuple[str, ...]] = ("points_avg_season", "points_std_last_10")
    calibration_kind: ClassVar[str] = "market"
    any_market: ClassVar[bool] = True
    shape_: Shape

    def __init__(self, devig_method: str = "multiplicative", random_state: int = 0) -> None:
        if devig_method not in METHODS:
            raise NbapropsError(
                f"unknown de-vig method {devig_method!r}: use one of {', '.join(METHODS)}"
            )
        self.devig_method = devig_method
        self.random_state = random_state

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        pred = column(X, self.feature("points_avg_season"))
        std = column(X, self.feature("points_std_last_10"))
        self.shape_ = fit_shape(self.market, pred, y, std)
        return {"devig_method": self.devig_method, **shape_details(self.shape_)}

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        centre = column(X, self.feature("points_avg_season")).clip(0.0)
        if "line" in X.columns:
            line = X["line"].to_numpy(dtype=float)
            centre = np.where(np.isfinite(line), line, centre)
        std = column(X, self.feature("points_std_last_10"))
        return shape_dist(self.shape_, centre, std, centre)
