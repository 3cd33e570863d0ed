"""``xgboost``: XGBoost (hist, 2 threads) on the whole feature set, median objective."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from nbaprops.systems.base import FloatArray
from nbaprops.systems.boosting import BoostedSystem

if TYPE_CHECKING:
    import xgboost as xgb


class XGBoostSystem(BoostedSystem["xgb.Booster"]):
    """XGBoost (hist, 2 threads) with an absolute-error or median-quantile objective.

    ``warm_start_rounds`` (default None: every fold boosts from scratch): in a
    walk-forward, continue the previous fold's booster (XGBoost ``xgb_model``) for at
    most this many new rounds, early-stopped on the tail as a cold fit is
    (``boosting``'s warm starts).
    """

    system_id: ClassVar[str] = "xgboost"
    fit_cost: ClassVar[float] = 7.0
    libraries: ClassVar[tuple[str, ...]] = ("xgboost",)

    def __init__(
        self,
        objective: str = "reg:absoluteerror",
        n_estimators: int = 500,
        learning_rate: float = 0.16,
        max_depth: int = 6,
        min_child_weight: float = 20.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        max_bin: int = 128,
        early_stopping_rounds: int = 20,
        tail_fraction: float = 0.1,
        refit_full: bool = False,
        n_jobs: int = 2,
        random_state: int = 0,
        warm_start_rounds: int | None = None,
    ) -> None:
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.early_stopping_rounds = early_stopping_rounds
        self.tail_fraction = tail_fraction
        self.refit_full = refit_full
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.warm_start_rounds = warm_start_rounds

    def _train(
        self,
        x: npt.NDArray[np.float32],
        y: FloatArray,
        weight: FloatArray | None,
        valid: tuple[npt.NDArray[np.float32], FloatArray] | None,
        rounds: int | None,
        init: xgb.Booster | None = None,
    ) -> tuple[xgb.Booster, int]:
        import xgboost as xgb

        if self.objective not in ("reg:absoluteerror", "reg:quantileerror"):
            raise ValueError(f"xgboost objective must be a median loss, not {self.objective!r}")
        params: dict[str, str | float | int] = {
            "objective": self.objective,
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "max_bin": self.max_bin,
            "tree_method": "hist",
            "nthread": self.n_jobs,
            "seed": self.random_state,
            "eval_metric": "mae",
        }
        if self.objective == "reg:quantileerror":
            params["quantile_alpha"] = 0.5
        dtrain = xgb.QuantileDMatrix(x, label=y, weight=weight, max_bin=self.max_bin)
        most = self.n_estimators if init is None else self.warm_start_rounds
        if valid is None:
            booster = xgb.train(params, dtrain, num_boost_round=rounds or most, xgb_model=init)
            return booster, booster.num_boosted_rounds()
        dvalid = xgb.DMatrix(valid[0], label=valid[1])
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=most,
            xgb_model=init,
            evals=[(dvalid, "tail")],
            early_stopping_rounds=self.early_stopping_rounds,
            verbose_eval=False,
        )
        best = int(getattr(booster, "best_iteration", booster.num_boosted_rounds() - 1)) + 1
        return booster[:best], best

    def _raw_predict(self, model: xgb.Booster, x: npt.NDArray[np.float32]) -> FloatArray:
        import xgboost as xgb

        return np.asarray(model.predict(xgb.DMatrix(x)), dtype=np.float64)
