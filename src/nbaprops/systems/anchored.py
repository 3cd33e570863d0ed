"""A market-anchored system: the line moved only as far as a model has earned.

It wraps a base system (``catboost_full`` by default) and predicts exactly its
distribution; what makes it anchored is its calibration kind. The scoring path then
starts from the consensus line and the market's de-vigged P(over) and adds the
model's disagreement through ``models.calibration.MarketAnchor``: a point weight and a
two-input logistic on logit(P_model) and logit(P_market), both fitted on earlier folds'
graded lined rows only, shrunk toward the market when those rows are few. With no
lined history it *is* the market; for a player without a line it is the base model.

The backtest fits the base once per fold and wraps it (``wrap``), so running the base
and its anchored version together costs one fit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Self

import pandas as pd

from nbaprops.core.devig import METHODS
from nbaprops.core.errors import NbapropsError
from nbaprops.systems.base import (
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
)


class AnchoredSystem(PredictionSystem):
    system_id: ClassVar[str] = "anchored"
    calibration_kind: ClassVar[str] = "anchored"

    def __init__(
        self,
        base: str = "catboost_full",
        devig_method: str = "multiplicative",
        random_state: int = 0,
    ) -> None:
        if base in ("anchored", "market", "ensemble"):
            raise NbapropsError(f"an anchored system needs a model as its base, not {base!r}")
        if devig_method not in METHODS:
            raise NbapropsError(
                f"unknown de-vig method {devig_method!r}: use one of {', '.join(METHODS)}"
            )
        self.base = base
        self.devig_method = devig_method
        self.random_state = random_state

    def wrap(self, fitted: PredictionSystem) -> Self:
        """Anchor an already fitted base (the same fit the base system scores with)."""
        if fitted.system_id != self.base:
            raise NbapropsError(f"anchored on {self.base}, given a fitted {fitted.system_id}")
        fitted._check_fitted()
        self.base_model_ = fitted
        self.feature_set_ = fitted.feature_set_
        self.feature_columns_ = list(fitted.feature_columns_)
        base = fitted.fitted_
        self.fitted_ = replace(
            base,
            system_id=self.system_id,
            params=self.get_params(),
            details={"base": self.base, "base_params": base.params, **base.details},
        )
        return self

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        sample_weight: Any = None,
    ) -> Self:
        from nbaprops.systems.factory import make_system

        base = make_system(self.base, random_state=self.random_state)
        return self.wrap(base.fit(X, y, sample_weight=sample_weight))

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any] | None:
        raise NotImplementedError("fit goes through the base system")

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        return self.base_model_.predict_dist(X)
