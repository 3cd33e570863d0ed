"""``catboost_full``: CatBoost on all earlier history, MAE or median-quantile loss."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from nbaprops.systems.base import FloatArray
from nbaprops.systems.boosting import BoostedSystem

if TYPE_CHECKING:
    from catboost import CatBoostRegressor


class CatBoostSystem(BoostedSystem["CatBoostRegressor"]):
    """CatBoost on all earlier history (MAE or median-quantile loss).

    ``warm_start_rounds`` (default None: every fold boosts from scratch): in a
    walk-forward, continue the previous fold's booster (CatBoost ``init_model``) for at
    most this many new rounds, early-stopped on the tail as a cold fit is
    (``boosting``'s warm starts).
    """

    system_id: ClassVar[str] = "catboost_full"
    fit_cost: ClassVar[float] = 10.0
    any_market: ClassVar[bool] = True
    libraries: ClassVar[tuple[str, ...]] = ("catboost",)

    def __init__(
        self,
        loss_function: str = "MAE",
        iterations: int = 750,
        learning_rate: float = 0.12,
        depth: int = 6,
        border_count: int = 64,
        early_stopping_rounds: int = 20,
        tail_fraction: float = 0.1,
        refit_full: bool = False,
        thread_count: int = 2,
        random_state: int = 0,
        warm_start_rounds: int | None = None,
    ) -> None:
        self.loss_function = loss_function
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.border_count = border_count
        self.early_stopping_rounds = early_stopping_rounds
        self.tail_fraction = tail_fraction
        self.refit_full = refit_full
        self.thread_count = thread_count
        self.random_state = random_state
        self.warm_start_rounds = warm_start_rounds

    def _train(
        self,
        x: npt.NDArray[np.float32],
        y: FloatArray,
        weight: FloatArray | None,
        valid: tuple[npt.NDArray[np.float32], FloatArray] | None,
        rounds: int | None,
        init: CatBoostRegressor | None = None,
    ) -> tuple[CatBoostRegressor, int]:
        from catboost import CatBoostRegressor, Pool

        if self.loss_function not in ("MAE", "Quantile:alpha=0.5", "Quantile"):
            raise ValueError(f"catboost loss must be a median loss, not {self.loss_function!r}")
        model = CatBoostRegressor(
            # a count market learns the mean its negative binomial is centred on
            loss_function="RMSE" if self.mean_objective else self.loss_function,
            eval_metric="RMSE" if self.mean_objective else "MAE",
            iterations=rounds or (self.iterations if init is None else self.warm_start_rounds),
            learning_rate=self.learning_rate,
            depth=self.depth,
            border_count=self.border_count,
            thread_count=self.thread_count,
            random_seed=self.random_state,
            allow_writing_files=False,
            verbose=False,
        )
        train = Pool(x, label=y, weight=weight)
        if valid is None:
            model.fit(train, init_model=init)
            return model, model.tree_count_
        model.fit(
            train,
            init_model=init,
            eval_set=Pool(valid[0], label=valid[1]),
            early_stopping_rounds=self.early_stopping_rounds,
            use_best_model=True,
        )
        return model, model.tree_count_

    def _raw_predict(self, model: CatBoostRegressor, x: npt.NDArray[np.float32]) -> FloatArray:
        return np.asarray(model.predict(x), dtype=np.float64)
