"""Gradient boosting on the feature set: XGBoost and CatBoost, median objectives.

Lines are set at the median, so the models minimise absolute error. Early
stopping watches only the last ``tail_fraction`` of the training window's dates
(never a random split), and the spread of points around the median is learned
from the stopped model's residuals on that same unseen-by-training slice.
With ``refit_full`` the model is then refitted on the whole window for the
stopped number of rounds, so the most recent weeks also shape the trees.

Warm starts (``warm_start_rounds``, off by default): a walk-forward may hand a fit the
previous fold's fit of the same system (``warm_from``); the early-stopped training then
continues that fit's head booster (trained only on rows before its own tail, hence
before this fold's tail too: the tail stays unseen) for at most ``warm_start_rounds``
new rounds instead of boosting from scratch, and a ``refit_full`` refit continues the
previous full-window booster for the new rounds scaled as a cold refit scales them.
Without a previous fit, with other features, or with a window too short to hold out a
tail, the fit is cold, exactly as without the option.

Measured (issue 25; catboost_full and xgboost, 2024-03-01..2024-04-14, weekly refits,
``warm_start_rounds=100``, seeds 7 and 8 warm, 7, 8 and 9 cold): MAE, Brier, ECE, hit
rate and ROI moved from the cold runs by about as much as they move between cold seeds
(xgboost's seed-7 hit rate and ROI just below the cold seeds' range), the predictions
differ from the cold ones by as much as cold seeds differ from each other, and the run
took 2.2-2.5x less CPU. It stays off by default: a continued booster may add only a few
rounds a fold (xgboost added 1 to 3 in bench_walkforward: early stopping on a tail it
already fits), so over a whole season each fold's model would stay mostly the first
fold's; check a full season before relying on it.
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
from nbaprops.systems.fitting import (
    Shape,
    column,
    fit_shape,
    shape_details,
    shape_dist,
    temporal_tail,
)

_STD_FEATURE = "points_std_last_10"
# Below this many tail rows the residual shape is fitted in-sample instead.
_MIN_TAIL_ROWS = 200

# The trained model's type (an XGBoost Booster, a CatBoostRegressor).
ModelT = TypeVar("ModelT")


class BoostedSystem(PredictionSystem, Generic[ModelT]):
    """Shared fit/predict flow; subclasses train one model on (head, tail) arrays."""

    tail_fraction: float
    refit_full: bool
    warm_start_rounds: int | None
    model_: ModelT  # the fitted booster
    shape_: Shape
    head_model_: ModelT  # the booster of the head alone (kept for a warm start)
    head_rounds_: int

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
        init: ModelT | None = None,
    ) -> tuple[ModelT, int]:
        """Train (early-stopped on ``valid`` when given); return the model and its rounds
        (with ``init``, a booster to continue: at most ``rounds`` or ``warm_start_rounds``
        new rounds, the rounds returned counting the booster's own)."""

    @abstractmethod
    def _raw_predict(self, model: ModelT, x: npt.NDArray[np.float32]) -> FloatArray:
        """The model's median prediction."""

    def _matrix(self, X: pd.DataFrame) -> npt.NDArray[np.float32]:
        return np.asarray(self.features(X).to_numpy(dtype=np.float32))

    def _std(self, X: pd.DataFrame) -> FloatArray | None:
        name = self.feature(_STD_FEATURE)
        return column(X, name) if name in self.feature_columns_ else None

    @property
    def mean_objective(self) -> bool:
        """A count market's booster learns the mean (its negative binomial's centre); a
        continuous market's, the median (lines are set at the median)."""
        return self.market.is_count

    supports_sample_weight: ClassVar[bool] = True

    def warm_from(self, previous: PredictionSystem) -> None:
        """Continue ``previous`` (the same system's fit of the previous fold) at the next
        ``fit``, when ``warm_start_rounds`` asks for warm starts; otherwise nothing."""
        if (
            self.warm_start_rounds
            and type(previous) is type(self)
            and getattr(previous, "head_model_", None) is not None
        ):
            self._previous = previous

    def _warm_start(self) -> BoostedSystem[ModelT] | None:
        """The previous fit to continue (taken once: a fit never holds on to it)."""
        previous = self.__dict__.pop("_previous", None)
        if previous is None or previous.feature_columns_ != self.feature_columns_:
            return None
        return previous  # type: ignore[no-any-return]

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
        previous = self._warm_start()
        details: dict[str, Any] = {}
        if tail.sum() >= _MIN_TAIL_ROWS and (~tail).sum() >= _MIN_TAIL_ROWS:
            head = ~tail
            valid = (x[tail], target[tail])
            head_w = None if w is None else w[head]
            if previous is None:
                model, rounds = self._train(x[head], target[head], head_w, valid, None)
            else:
                model, rounds = self._train(
                    x[head], target[head], head_w, valid, None, previous.head_model_
                )
                details["warm_started_from"] = previous.fitted_.train_end
                details["warm_rounds"] = int(rounds - previous.head_rounds_)
            held = np.clip(self._raw_predict(model, x[tail]), 0.0, None)
            self.shape_ = fit_shape(
                self.market, held, target[tail], None if std is None else std[tail]
            )
            if self.warm_start_rounds:  # what the next fold's warm start continues
                self.head_model_, self.head_rounds_ = model, int(rounds)
            if self.refit_full and previous is None:
                rounds = math.ceil(rounds / (1.0 - self.tail_fraction))
                model, rounds = self._train(x, target, w, None, rounds)
            elif self.refit_full and previous is not None:
                added = math.ceil(details["warm_rounds"] / (1.0 - self.tail_fraction))
                model, rounds = self._train(x, target, w, None, added, previous.model_)
            stopped_on = f"{dates[tail].min().date()}..{dates[tail].max().date()}"
        else:
            model, rounds = self._train(x, target, w, None, None)
            fitted = np.clip(self._raw_predict(model, x), 0.0, None)
            self.shape_ = fit_shape(self.market, fitted, target, std)
            stopped_on = "none (window too short)"
        self.model_ = model
        return {
            "rounds": int(rounds),
            "train_rows": len(rows),
            "early_stopping_slice": stopped_on,
            "window_start": str(dates.min().date()),
            **shape_details(self.shape_),
            **details,
        }

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        point = np.clip(self._raw_predict(self.model_, self._matrix(X)), 0.0, None)
        return shape_dist(self.shape_, point, self._std(X))
