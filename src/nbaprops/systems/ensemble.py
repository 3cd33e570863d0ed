"""A stacker over member systems: non-negative weights summing to 1.

It is a composite (``CompositeSystem``): by default its members are every other system
of the run. How a walk-forward builds it (every step on data dated before the fold):

1. ``compose(fits, record)`` takes the members' fits of the fold and their graded
   out-of-fold rows before it (``record``: member id -> rows with ``player_id``,
   ``game_date``, ``median``, ``actual``, ``played``).
2. ``oof_member_frame`` lines the members' medians up in columns ``pred_<system_id>``
   (``member_column``) with the actual points; ``fit_weights`` learns the weights from
   it: the simplex point minimising MAE (``method="min_mae"``) or weights proportional
   to 1/MAE (``"inverse_mae"``). With fewer than ``min_rows`` usable rows (the first
   fold has none) it uses equal weights, where fitted weights would be noise. Rows
   where any member's prediction is missing are ignored.
3. ``predict_dist_from({system_id: dist, ...})`` is the weighted average of the
   members' quantiles (so it stays monotone), with the weighted mean as its mean;
   ``predict_dist(X)`` computes the members' distributions itself (a saved ensemble
   holds its fitted members, so it predicts alone, like any system).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.systems.base import (
    FeatureSetMismatchError,
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
    Provenance,
    library_versions,
)
from nbaprops.systems.composite import CompositeSystem

PREFIX = "pred_"
METHODS = ("min_mae", "inverse_mae")


def member_column(system_id: str) -> str:
    """The column of ``X_members`` holding a member's out-of-fold median."""
    return f"{PREFIX}{system_id}"


def oof_member_frame(record: Mapping[str, pd.DataFrame], members: Sequence[str]) -> pd.DataFrame:
    """The members' out-of-fold medians side by side (``pred_<id>``) with the actual
    points, one row per played player-date every member predicted."""
    past = [rows for rows in record.values() if len(rows)]
    if not past:
        return pd.DataFrame()
    rows = pd.concat(past, ignore_index=True)
    rows = rows[rows["played"]]
    wide = rows.pivot_table(
        index=["player_id", "game_date"], columns="system", values="median", aggfunc="first"
    )
    actual = rows.groupby(["player_id", "game_date"])["actual"].first()
    wide = wide.reindex(columns=list(members)).dropna()
    wide.columns = [member_column(c) for c in wide.columns]
    wide["actual"] = actual.reindex(wide.index)
    return wide.reset_index()


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


class EnsembleSystem(CompositeSystem):
    """Weighted stack of member systems' predictive distributions."""

    system_id: ClassVar[str] = "ensemble"
    needs_record: ClassVar[bool] = True
    members_from_run: ClassVar[bool] = True

    def __init__(
        self,
        members: tuple[str, ...] = (),
        method: str = "min_mae",
        min_rows: int = 200,
        max_rows: int = 50_000,
        random_state: int = 0,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        self.members = tuple(members)
        self.method = method
        self.min_rows = min_rows
        self.max_rows = max_rows
        self.random_state = random_state

    def fit_weights(self, X_members: pd.DataFrame, y: npt.ArrayLike | pd.Series) -> dict[str, Any]:
        """Learn weights from earlier folds' out-of-fold medians (``pred_<id>`` columns;
        equal weights below ``min_rows`` usable rows); returns what the fit records."""
        members = self.members
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
        return {
            "weights": {m: round(w, 4) for m, w in self.weights_.items()},
            "member_mae": (
                {m: round(float(v), 4) for m, v in zip(members, maes, strict=True)}
                if maes is not None
                else None
            ),
            "stacked_rows": int(ok.sum()),
        }

    def _compose(
        self, members: Mapping[str, PredictionSystem], record: Mapping[str, pd.DataFrame]
    ) -> Provenance:
        oof = oof_member_frame({m: record[m] for m in self.members if m in record}, self.members)
        if len(oof):
            details = self.fit_weights(oof[[member_column(m) for m in self.members]], oof["actual"])
        else:
            details = self.fit_weights(pd.DataFrame(), np.array([]))
        first = members[self.members[0]].fitted_
        return Provenance(
            system_id=self.system_id,
            fitted_at=first.fitted_at,
            feature_set=first.feature_set,
            feature_columns=first.feature_columns,
            n_train_rows=first.n_train_rows,
            train_start=first.train_start,
            train_end=first.train_end,
            params=self.get_params(),
            versions=library_versions("scipy"),
            details=details,
        )

    def needed_members(self) -> tuple[str, ...]:
        self._weights_for(self.members)
        return tuple(m for m, w in self.weights_.items() if w > 0)

    def _weights_for(self, available: Sequence[str]) -> list[tuple[str, float]]:
        if not hasattr(self, "weights_"):
            raise NbapropsError("the ensemble has no weights yet: compose or fit it first")
        missing = [m for m, w in self.weights_.items() if w > 0 and m not in available]
        if missing:
            raise FeatureSetMismatchError(
                f"ensemble needs member predictions it was not given: {', '.join(missing)}"
            )
        return [(m, w) for m, w in self.weights_.items() if w > 0]

    def predict_stacked(self, X_members: pd.DataFrame) -> FloatArray:
        """Weighted member medians from a frame of ``pred_`` columns."""
        present = [c[len(PREFIX) :] for c in X_members.columns if c.startswith(PREFIX)]
        weighted = self._weights_for(present)
        total = np.zeros(len(X_members))
        for m, w in weighted:
            total += w * X_members[member_column(m)].to_numpy(dtype=np.float64)
        return total

    def predict_dist_from(
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

    def describe(self) -> dict[str, Any]:
        self._check_fitted()
        return dict(self.fitted_.details)
