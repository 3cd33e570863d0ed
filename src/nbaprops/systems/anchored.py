"""A market-anchored system: the line moved only as far as a model has earned.

It is a composite of one member, its base system (``catboost_full`` by default), and
predicts exactly its distribution; what makes it anchored is its calibration kind. The
scoring path then starts from the consensus line and the market's de-vigged P(over)
and adds the model's disagreement through ``models.calibration.MarketAnchor``: a point
weight and a two-input logistic on logit(P_model) and logit(P_market), both fitted on
earlier folds' graded lined rows only, shrunk toward the market when those rows are
few. With no lined history it *is* the market; for a player without a line it is the
base model.

A walk-forward fits the base once per fold and composes the anchored system over that
fit, so running the base and its anchored version together costs one fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

import pandas as pd

from nbaprops.core.devig import METHODS
from nbaprops.core.errors import NbapropsError
from nbaprops.systems.base import (
    PredictionSystem,
    PredictiveDistribution,
    Provenance,
    registered_class,
)
from nbaprops.systems.composite import CompositeSystem


class AnchoredSystem(CompositeSystem):
    system_id: ClassVar[str] = "anchored"
    calibration_kind: ClassVar[str] = "anchored"
    any_market: ClassVar[bool] = True  # whatever its base predicts

    def __init__(
        self,
        base: str = "catboost_full",
        devig_method: str = "multiplicative",
        random_state: int = 0,
    ) -> None:
        cls = registered_class(base)
        if issubclass(cls, CompositeSystem) or cls.calibration_kind != "distribution":
            # a composite or the market itself has no model disagreement to anchor
            raise NbapropsError(f"an anchored system needs a model as its base, not {base!r}")
        if devig_method not in METHODS:
            raise NbapropsError(
                f"unknown de-vig method {devig_method!r}: use one of {', '.join(METHODS)}"
            )
        self.base = base
        self.devig_method = devig_method
        self.random_state = random_state
        self.members = (base,)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Artefacts saved before composites held ``members_`` kept ``base_model_``."""
        if "base_model_" in state and "members_" not in state:
            state["members_"] = {str(state["base"]): state.pop("base_model_")}
        state.setdefault("members", (str(state["base"]),))
        self.__dict__.update(state)

    @property
    def base_model_(self) -> PredictionSystem:
        """The fitted base it anchors (the same fit the base system scores with)."""
        return self.members_[self.base]

    def _compose(
        self, members: Mapping[str, PredictionSystem], record: Mapping[str, pd.DataFrame]
    ) -> Provenance:
        base = members[self.base].fitted_
        return replace(
            base,
            system_id=self.system_id,
            params=self.get_params(),
            details={"base": self.base, "base_params": base.params, **base.details},
        )

    def predict_dist_from(
        self, dists: Mapping[str, PredictiveDistribution]
    ) -> PredictiveDistribution:
        return dists[self.base]
