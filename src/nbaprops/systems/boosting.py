"""Gradient boosting on the feature set: XGBoost and CatBoost, median objectives.

Lines are set at the median, so the models minimise absolute error. Early
stopping watches only the last ``tail_fraction`` of the training window's dates
(never a random split), and the spread of points around the median is learned
from the stopped model's residuals on that same unseen-by-training slice.
With ``refit_full`` the model is then refitted on the whole window for the
stopped number of rounds, so the most recent weeks also shape the trees.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.systems.base import (
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
    frame_dates,
)
from nbaprops.systems.fitting import ResidualShape, column, temporal_tail

_STD_FEATURE = "points_std_last_10"
# Below this many tail rows the residual shape is fitted in-sample instead.
_MIN_TAIL_ROWS = 200

# The trained model's type (an XGBoost Booster, a CatBoostRegressor).
ModelT = TypeVar("ModelT")


class BoostedSystem(PredictionSystem, Generic[ModelT]):
    """Shared fit/predict flow; subclasses train one model on (head, tail) arrays."""

    tail_fraction: float
    refit_full: bool

    def _window(self, X: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], FloatArray | None]:
        """Rows to train on and their sample weights (all rows, unweighted by default)."""
        return np.ones(len(X), dtype=bool), None

    @abstractmethod
    def _train(
        self,
        x: npt.NDArray[np.float32],
        y: FloatArray,
        weight: FloatArray | None,
        valid: tuple[npt.NDArray[np.float32], FloatArray] | None,
        rounds: int | None,
    ) -> tuple[ModelT, int]:
        """Train (early-stopped on ``valid`` when given); return the model and its rounds."""

    @abstractmethod
    def _raw_predict(self, model: ModelT, x: npt.NDArray[np.float32]) -> FloatArray:
        """The model's median prediction."""

    def _matrix(self, X: pd.DataFrame) -> npt.NDArray[np.float32]:
        return np.asarray(self.features(X).to_numpy(dtype=np.float32))

    def _std(self, X: pd.DataFrame) -> FloatArray | None:
        return column(X, _STD_FEATURE) if _STD_FEATURE in self.feature_columns_ else None

    supports_sample_weight: ClassVar[bool] = True

    def _fit(
        self, X: pd.DataFrame, y: FloatArray, sample_weight: FloatArray | None = None
    ) -> dict[str, Any]:
        keep, weight = self._window(X)
        if sample_weight is not None:
            weight = sample_weight if weight is None else weight * sample_weight
        rows = np.flatnonzero(keep)
        x = self._matrix(X)[rows]
        target = y[rows]
        w = None if weight is None else weight[rows]
        dates = frame_dates(X).iloc[rows]
        tail = temporal_tail(dates, self.tail_fraction)
        std = self._std(X)
        std = None if std is None else std[rows]
        if tail.sum() >= _MIN_TAIL_ROWS and (~tail).sum() >= _MIN_TAIL_ROWS:
            head = ~tail
            model, rounds = self._train(
                x[head], target[head], None if w is None else w[head], (x[tail], target[tail]), None
            )
            held = np.clip(self._raw_predict(model, x[tail]), 0.0, None)
            self.shape_ = ResidualShape.fit(held, target[tail], None if std is None else std[tail])
            if self.refit_full:
                rounds = math.ceil(rounds / (1.0 - self.tail_fraction))
                model, rounds = self._train(x, target, w, None, rounds)
            stopped_on = f"{dates[tail].min().date()}..{dates[tail].max().date()}"
        else:
            model, rounds = self._train(x, target, w, None, None)
            fitted = np.clip(self._raw_predict(model, x), 0.0, None)
            self.shape_ = ResidualShape.fit(fitted, target, std)
            stopped_on = "none (window too short)"
        self.model_ = model
        return {
            "rounds": int(rounds),
            "train_rows": len(rows),
            "early_stopping_slice": stopped_on,
            "window_start": str(dates.min().date()),
            "player_std_weight": self.shape_.player_weight,
        }

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        point = np.clip(self._raw_predict(self.model_, self._matrix(X)), 0.0, None)
        return PredictiveDistribution.from_quantiles(self.shape_.quantiles(point, self._std(X)))
