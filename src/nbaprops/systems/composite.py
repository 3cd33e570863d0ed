"""Systems built from other fitted systems: a composite declares its ``members``.

A composite (the market-anchored system, the ensemble) is a ``PredictionSystem`` like
any other: it is fitted, saved, registered, loaded and predicted through the same
contract. What sets it apart is where its fit comes from. ``compose`` builds it from
its members' fits (and, when ``needs_record``, from their graded out-of-fold rows
before the fold), so a walk-forward fits each member once and every composite over
it reuses that fit; ``fit`` on a frame alone fits fresh members first, then composes
(with no record, so an ensemble gets equal weights). A composite holds its fitted
members, so a saved composite predicts by itself.

``predict_dist_from`` combines members' distributions already computed on the same
rows: the one scoring path uses it when the members it was given are the very fits
it holds (``shares_fits``), and predicts them itself otherwise.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.systems.base import (
    FeatureSetMismatchError,
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
    Provenance,
    registered_class,
)


class CompositeSystem(PredictionSystem):
    """A system whose fit is composed from its members' fits."""

    # Whether composing needs the members' graded out-of-fold rows (an ensemble's weights).
    needs_record: ClassVar[bool] = False
    # Whether its members default to every other system of the run (the ensemble).
    members_from_run: ClassVar[bool] = False

    # The ids of the systems it is built from (its declared dependencies).
    members: tuple[str, ...]
    members_: dict[str, PredictionSystem]
    random_state: int

    def compose(
        self,
        fitted: Mapping[str, PredictionSystem],
        record: Mapping[str, pd.DataFrame] | None = None,
    ) -> Self:
        """Build this system from its members' fits (and their graded rows, ``record``:
        member id -> rows dated before the fold, as ``GradedHistory`` gives them)."""
        if not self.members:
            raise NbapropsError(f"{self.system_id} needs its members (system ids)")
        missing = [m for m in self.members if m not in fitted]
        if missing:
            raise NbapropsError(f"{self.system_id} needs fits of {', '.join(missing)}")
        members = {m: fitted[m] for m in self.members}
        for member in members.values():
            member._check_fitted()
        sets = sorted({member.feature_set_ for member in members.values()})
        if len(sets) != 1:
            raise FeatureSetMismatchError(
                f"{self.system_id}: its members were fitted on different feature sets "
                f"({', '.join(sets)})"
            )
        first = members[self.members[0]]
        self.members_ = members
        self.feature_set_ = first.feature_set_
        self.feature_columns_ = list(first.feature_columns_)
        self.market_ = first.market.name
        self.fitted_ = self._compose(members, record or {})
        return self

    @abstractmethod
    def _compose(
        self, members: Mapping[str, PredictionSystem], record: Mapping[str, pd.DataFrame]
    ) -> Provenance:
        """Learn what the composite adds to its members; return its provenance."""

    @abstractmethod
    def predict_dist_from(
        self, dists: Mapping[str, PredictiveDistribution]
    ) -> PredictiveDistribution:
        """Its distribution from its members' distributions on the same rows."""

    def needed_members(self) -> tuple[str, ...]:
        """The members whose distributions ``predict_dist_from`` reads."""
        return self.members

    def shares_fits(self, fits: Mapping[str, object]) -> bool:
        """Whether ``fits`` holds the very member fits this composite was built from."""
        self._check_fitted()
        return all(fits.get(m) is self.members_[m] for m in self.needed_members())

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any] | None:
        """Fit fresh members on the frame, then compose them (no out-of-fold record)."""
        fitted: dict[str, PredictionSystem] = {
            m: registered_class(m)(random_state=self.random_state).fit(X, y)  # type: ignore[call-arg]
            for m in self.members
        }
        self.compose(fitted)
        return dict(self.fitted_.details)

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        return self.predict_dist_from(
            {m: self.members_[m].predict_dist(X) for m in self.needed_members()}
        )
