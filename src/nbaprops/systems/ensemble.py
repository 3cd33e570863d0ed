"""A stacker over member systems: non-negative weights summing to 1.

How the backtest uses it (every step on data dated before the fold):

1. For each earlier fold, collect each member's out-of-fold median in a column
   ``pred_<system_id>`` (``member_column(system_id)``), with the actual points.
2. ``EnsembleSystem(members=...).fit(X_members, y)`` learns the weights: the
   simplex point minimising MAE (``method="min_mae"``) or weights
   proportional to 1/MAE (``"inverse_mae"``). With no rows yet (the first fold)
   it uses equal weights (an empty ``pd.DataFrame()`` will do, given ``members``),
   and so it does below ``min_rows`` usable rows, where fitted weights would be noise.
   Rows where any member's prediction is missing are ignored.
3. For the fold itself, predict every member on the fold's frame and call
   ``predict_dist_from_members({system_id: dist, ...})``: the result is the
   weighted average of the members' quantiles (so it stays monotone), with the
   weighted mean as its mean. ``prob_over_from_members(dists, lines)`` is the
   matching uncalibrated P(points > line); ``predict(X_members)`` is the
   weighted median prediction from a frame of member medians.

Its "feature set" is the stack of member columns (``stack_key(members)``), which
``save`` records and ``load(expected_feature_set=...)`` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.systems.base import (
    FeatureSetMismatchError,
    FloatArray,
    Persisted,
    PredictiveDistribution,
    Provenance,
    library_versions,
)

PREFIX = "pred_"
METHODS = ("min_mae", "inverse_mae")


def member_column(system_id: str) -> str:
    """The column of ``X_members`` holding a member's out-of-fold median."""
    return f"{PREFIX}{system_id}"


def stack_key(members: Sequence[str]) -> str:
    """The ensemble's feature-set key: which member predictions it stacks."""
    return "stack:" + "+".join(members)


def _simplex_lad(preds: FloatArray, y: FloatArray, iterations: int = 60) -> FloatArray:
    """Weights >= 0 summing to 1 that minimise sum |y - preds @ w|.

    Iteratively reweighted least squares; each step is a tiny non-negative least
    squares on the m x m normal equations, with the sum-to-one constraint as a
    heavily weighted extra equation. Milliseconds where an exact LP takes seconds.
    """
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import nnls

    m = preds.shape[1]
    w = np.full(m, 1.0 / m)
    epsilon = 1e-3 * max(float(np.mean(np.abs(y))), 1.0)
    ones = np.ones((m, m))
    for _ in range(iterations):
        inv = 1.0 / np.maximum(np.abs(y - preds @ w), epsilon)
        gram = preds.T @ (preds * inv[:, None])
        rhs = preds.T @ (inv * y)
        big = 1e3 * float(np.trace(gram)) / m
        lower = cholesky(gram + big * ones + 1e-9 * big * np.eye(m), lower=True)
        w, _ = nnls(lower.T, solve_triangular(lower, rhs + big, lower=True))
        if w.sum() <= 0:
            return np.full(m, 1.0 / m)
        w = w / w.sum()
    return np.asarray(w, dtype=np.float64)


class EnsembleSystem(Persisted):
    """Weighted stack of member systems' predictive distributions."""

    system_id: ClassVar[str] = "ensemble"

    def __init__(
        self,
        members: tuple[str, ...] | None = None,
        method: str = "min_mae",
        min_rows: int = 200,
        max_rows: int = 50_000,
        random_state: int = 0,
    ) -> None:
        self.members = members
        self.method = method
        self.min_rows = min_rows
        self.max_rows = max_rows
        self.random_state = random_state

    def _member_ids(self, X_members: pd.DataFrame) -> tuple[str, ...]:
        if self.members is not None:
            return tuple(self.members)
        found = tuple(c[len(PREFIX) :] for c in X_members.columns if c.startswith(PREFIX))
        if not found:
            raise ValueError(f"X_members has no {PREFIX}<system_id> columns")
        return found

    def fit(self, X_members: pd.DataFrame, y: npt.ArrayLike | pd.Series) -> Self:
        """Learn weights from earlier folds' out-of-fold medians (equal weights if none)."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        members = self._member_ids(X_members)
        columns = [member_column(m) for m in members]
        missing = [c for c in columns if c not in X_members.columns]
        if missing and len(X_members) == 0:
            X_members = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
        elif missing:
            raise FeatureSetMismatchError(f"X_members lacks {', '.join(missing)}")
        target = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(target) != len(X_members):
            raise ValueError(f"y has {len(target)} values for {len(X_members)} rows")
        preds = X_members[columns].to_numpy(dtype=np.float64)
        ok = np.isfinite(preds).all(axis=1) & np.isfinite(target)
        preds, target = preds[ok], target[ok]
        if len(preds) > self.max_rows:
            rng = np.random.default_rng(self.random_state)
            pick = np.sort(rng.choice(len(preds), self.max_rows, replace=False))
            preds, target = preds[pick], target[pick]
        maes = np.abs(preds - target[:, None]).mean(axis=0) if len(preds) else None
        if maes is None or len(preds) < self.min_rows:
            weights = np.full(len(members), 1.0 / len(members))
        elif self.method == "inverse_mae":
            inv = 1.0 / np.maximum(maes, 1e-9)
            weights = inv / inv.sum()
        else:
            weights = _simplex_lad(preds, target)
        self.weights_ = {m: float(w) for m, w in zip(members, weights, strict=True)}
        self.feature_set_ = stack_key(members)
        self.feature_columns_ = columns
        dates = pd.to_datetime(X_members["game_date"]) if "game_date" in X_members.columns else None
        has_dates = dates is not None and len(dates) > 0
        self.fitted_ = Provenance(
            system_id=self.system_id,
            fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            feature_set=self.feature_set_,
            feature_columns=tuple(columns),
            n_train_rows=int(ok.sum()),
            train_start=dates.min().date().isoformat() if has_dates else None,
            train_end=dates.max().date().isoformat() if has_dates else None,
            params=self.get_params(),
            versions=library_versions("scipy"),
            details={
                "weights": {m: round(w, 4) for m, w in self.weights_.items()},
                "member_mae": (
                    {m: round(float(v), 4) for m, v in zip(members, maes, strict=True)}
                    if maes is not None
                    else None
                ),
            },
        )
        return self

    def _weights_for(self, available: Sequence[str]) -> list[tuple[str, float]]:
        self._check_fitted()
        missing = [m for m, w in self.weights_.items() if w > 0 and m not in available]
        if missing:
            raise FeatureSetMismatchError(
                f"ensemble needs member predictions it was not given: {', '.join(missing)}"
            )
        return [(m, w) for m, w in self.weights_.items() if w > 0]

    def predict(self, X_members: pd.DataFrame) -> FloatArray:
        """Weighted member medians (the point prediction) from a frame of ``pred_`` columns."""
        present = [c[len(PREFIX) :] for c in X_members.columns if c.startswith(PREFIX)]
        weighted = self._weights_for(present)
        total = np.zeros(len(X_members))
        for m, w in weighted:
            total += w * X_members[member_column(m)].to_numpy(dtype=np.float64)
        return total

    def predict_dist_from_members(
        self, dists: Mapping[str, PredictiveDistribution]
    ) -> PredictiveDistribution:
        """Weighted average of the members' quantiles and means (rows aligned)."""
        weighted = self._weights_for(list(dists))
        sizes = {len(dists[m]) for m, _ in weighted}
        if len(sizes) != 1:
            raise ValueError(f"member distributions differ in length: {sorted(sizes)}")
        quantiles = sum(w * dists[m].quantiles for m, w in weighted)
        mean = sum(w * dists[m].mean for m, w in weighted)
        return PredictiveDistribution.from_quantiles(np.asarray(quantiles), mean=np.asarray(mean))

    def prob_over_from_members(
        self, dists: Mapping[str, PredictiveDistribution], lines: npt.ArrayLike
    ) -> FloatArray:
        """Uncalibrated P(points > line) from the stacked distribution."""
        return self.predict_dist_from_members(dists).prob_over(lines)

    def describe(self) -> dict[str, Any]:
        self._check_fitted()
        return dict(self.fitted_.details)
