"""His own most similar past games, weighted by similarity, blended with his form.

For each row the candidates are the player's own training games dated strictly
before the row's game date. Similarity is a Gaussian kernel over standardised
context (form, role, opponent defence and pace, rest, venue) plus how long ago
the game was. The similarity-weighted mean of those games' points is shrunk by its
effective sample size and blended with his last-10, last-5 and season averages; bandwidth,
shrinkage and blend are fitted on the last training rows (each against its own
earlier games only).

Speed: rows are grouped by player and each group is one vectorised distance
matrix against that player's history (hundreds of games at most).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.systems.base import (
    FloatArray,
    PredictionSystem,
    PredictiveDistribution,
    frame_dates,
)
from nbaprops.systems.fitting import ResidualShape, column, fit_lad, named

# Context dimensions and their weights after standardising (form and role dominate).
_CONTEXT = (
    ("points_avg_last_5", 1.0),
    ("minutes_avg_last_10", 1.0),
    ("opponent_def_rating", 0.5),
    ("opponent_pace_last_10", 0.5),
    ("days_rest", 0.5),
    ("home_away", 0.5),
)
_BLEND = ("similar", "last_10", "last_5", "season", "intercept")


class SimilaritySystem(PredictionSystem):
    system_id: ClassVar[str] = "similarity"
    fit_cost: ClassVar[float] = 2.5
    required_features: ClassVar[tuple[str, ...]] = (
        *(name for name, _ in _CONTEXT),
        "points_avg_last_10",
        "points_avg_season",
        "points_std_last_10",
    )

    def __init__(
        self,
        k: int = 25,
        recency_days: float = 365.0,
        bandwidths: tuple[float, ...] = (1.0, 2.0, 4.0),
        shrinkages: tuple[float, ...] = (2.0, 5.0, 15.0),
        fit_rows: int = 50_000,
        random_state: int = 0,
    ) -> None:
        self.k = k
        self.recency_days = recency_days
        self.bandwidths = bandwidths
        self.shrinkages = shrinkages
        self.fit_rows = fit_rows
        self.random_state = random_state

    def _context(self, X: pd.DataFrame) -> npt.NDArray[np.float32]:
        raw = np.column_stack([column(X, name) for name, _ in _CONTEXT])
        raw[:, 4] = raw[:, 4].clip(1.0, 4.0)
        z = (raw - self.centre_) / self.spread_ * np.sqrt(self.dim_weights_)
        return np.asarray(z, dtype=np.float32)

    def _neighbours(
        self, pid: npt.NDArray[np.int64], day: npt.NDArray[np.int64], ctx: npt.NDArray[np.float32]
    ) -> tuple[FloatArray, FloatArray]:
        """Squared distances (inf where absent) and points of each row's k nearest earlier games."""
        n, k = len(pid), self.k
        d2 = np.full((n, k), np.inf)
        pts = np.zeros((n, k))
        order = np.argsort(pid, kind="stable")
        bounds = np.flatnonzero(np.diff(pid[order])) + 1
        for rows in np.split(order, bounds):
            if not len(rows):
                continue
            player = pid[rows[0]]
            lo = np.searchsorted(self.hist_pid_, player, side="left")
            hi = np.searchsorted(self.hist_pid_, player, side="right")
            if hi == lo:
                continue
            h_ctx, h_day = self.hist_ctx_[lo:hi], self.hist_day_[lo:hi]
            diff = ctx[rows, None, :] - h_ctx[None, :, :]
            dist = (diff.astype(np.float64) ** 2).sum(axis=2)
            gap = (day[rows, None] - h_day[None, :]) / self.recency_days
            dist += gap**2
            dist[h_day[None, :] >= day[rows, None]] = np.inf
            m = min(k, hi - lo)
            if hi - lo > k:
                nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
            else:
                nearest = np.broadcast_to(np.arange(hi - lo), (len(rows), m))
            d2[rows, :m] = np.take_along_axis(dist, nearest, axis=1)
            pts[rows, :m] = self.hist_pts_[lo:hi][nearest]
        return d2, pts

    @staticmethod
    def _similar(
        d2: FloatArray, pts: FloatArray, bandwidth: float, shrinkage: float
    ) -> tuple[FloatArray, FloatArray]:
        w = np.exp(-d2 / (2.0 * bandwidth**2))
        total = w.sum(axis=1)
        mean = np.where(total > 0, (w * pts).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
        n_eff = np.where(total > 0, total**2 / np.maximum((w**2).sum(axis=1), 1e-300), 0.0)
        return mean, n_eff / (n_eff + shrinkage)

    @staticmethod
    def _design(X: pd.DataFrame, similar: FloatArray, trust: FloatArray) -> FloatArray:
        last10 = column(X, "points_avg_last_10")
        return np.column_stack(
            [
                trust * similar + (1.0 - trust) * last10,
                last10,
                column(X, "points_avg_last_5"),
                column(X, "points_avg_season"),
                np.ones(len(X)),
            ]
        )

    def _keys(self, X: pd.DataFrame) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        if "player_id" not in X.columns:
            raise ValueError("similarity needs the key column player_id")
        pid = X["player_id"].to_numpy(dtype=np.int64)
        day = (frame_dates(X).to_numpy().astype("datetime64[D]")).astype(np.int64)
        return pid, day

    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any]:
        raw = np.column_stack([column(X, name) for name, _ in _CONTEXT])
        raw[:, 4] = raw[:, 4].clip(1.0, 4.0)
        self.centre_ = raw.mean(axis=0)
        self.spread_ = np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0)
        self.dim_weights_ = np.array([w for _, w in _CONTEXT])
        pid, day = self._keys(X)
        ctx = self._context(X)
        order = np.lexsort((day, pid))
        self.hist_pid_ = pid[order]
        self.hist_day_ = day[order]
        self.hist_ctx_ = ctx[order]
        self.hist_pts_ = y[order].astype(np.float32)
        recent = np.argsort(day, kind="stable")[-min(self.fit_rows, len(X)) :]
        d2, pts = self._neighbours(pid[recent], day[recent], ctx[recent])
        sub = X.iloc[recent]
        best: tuple[float, float, float, FloatArray] | None = None
        for bandwidth in self.bandwidths:
            for shrinkage in self.shrinkages:
                similar, trust = self._similar(d2, pts, bandwidth, shrinkage)
                design = self._design(sub, similar, trust)
                coef = fit_lad(design, y[recent])
                mae = float(np.mean(np.abs(y[recent] - design @ coef)))
                if best is None or mae < best[0] - 1e-9:
                    best = (mae, bandwidth, shrinkage, coef)
        assert best is not None
        _, self.bandwidth_, self.shrinkage_, self.coef_ = best
        self.shape_ = ResidualShape.fit(
            self._point_from(sub, d2, pts), y[recent], column(sub, "points_std_last_10")
        )
        return {
            "bandwidth": self.bandwidth_,
            "shrinkage": self.shrinkage_,
            "blend": named(_BLEND, self.coef_),
            "fit_rows": len(recent),
        }

    def _point_from(self, X: pd.DataFrame, d2: FloatArray, pts: FloatArray) -> FloatArray:
        similar, trust = self._similar(d2, pts, self.bandwidth_, self.shrinkage_)
        return np.asarray(np.clip(self._design(X, similar, trust) @ self.coef_, 0.0, None))

    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        pid, day = self._keys(X)
        d2, pts = self._neighbours(pid, day, self._context(X))
        point = self._point_from(X, d2, pts)
        q = self.shape_.quantiles(point, column(X, "points_std_last_10"))
        return PredictiveDistribution.from_quantiles(q)
