"""Small, deterministic fitting tools the systems share.

- ``fit_lad``: least absolute deviation by iteratively reweighted least squares, so
  simple systems estimate the median (lines are set at the median) without an LP.
- ``ResidualShape``: the spread of points around a system's point prediction,
  learned from residuals, so every point system gets an honest distribution.
- ``temporal_tail``: the end-of-window slice used for early stopping and for
  residuals (never a random split: invariant 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.features.catalog import FEATURES
from nbaprops.systems.base import MEDIAN_INDEX, QUANTILES, FloatArray

_LEVELS = np.asarray(QUANTILES)


def fit_lad(
    design: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    iterations: int = 40,
    epsilon: float = 0.05,
    ridge: float = 1e-6,
) -> FloatArray:
    """Coefficients minimising sum |y - design @ coef| (IRLS; no intercept is added)."""
    a = np.asarray(design, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    scale = np.maximum(np.abs(a).max(axis=0), 1e-12)
    a = a / scale
    w = np.ones(len(t))
    eye = ridge * np.eye(a.shape[1])
    coef = np.zeros(a.shape[1])
    for _ in range(iterations):
        aw = a * w[:, None]
        coef = np.linalg.solve(a.T @ aw + eye * len(t), aw.T @ t)
        w = 1.0 / np.maximum(np.abs(t - a @ coef), epsilon)
    return np.asarray(coef / scale, dtype=np.float64)


def temporal_tail(dates: pd.Series | npt.ArrayLike, fraction: float) -> npt.NDArray[np.bool_]:
    """Rows on the last ``fraction`` of distinct dates (empty when there are < 2 dates)."""
    d = pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy()
    unique = np.unique(d)
    if len(unique) < 2 or fraction <= 0:
        return np.zeros(len(d), dtype=bool)
    n_tail = min(max(1, round(len(unique) * fraction)), len(unique) - 1)
    return np.asarray(d >= unique[len(unique) - n_tail])


def named(names: tuple[str, ...] | list[str], values: npt.ArrayLike) -> dict[str, float]:
    """Coefficients as a JSON-ready mapping for the provenance."""
    return {n: round(float(v), 4) for n, v in zip(names, np.asarray(values), strict=True)}


def column(X: pd.DataFrame, name: str) -> FloatArray:
    """One feature as float64 (a copy, so callers may clip it freely).

    A missing value takes the catalog default, as ``build_frame`` would have given it.
    """
    values = X[name].to_numpy(dtype=np.float64, copy=True)
    missing = np.isnan(values)
    if missing.any():
        values[missing] = FEATURES[name].default if name in FEATURES else 0.0
    return values


@dataclass(frozen=True)
class ResidualShape:
    """Quantiles of standardised residuals, by level of the point prediction.

    The scale blends a league spread growing with sqrt(prediction) and the player's
    own recent standard deviation (``player_weight`` of it, fitted by pinball loss):
    a volatile scorer gets wider intervals than a steady one at the same median.
    Residual quantiles vary smoothly across bins of the prediction, which lets the
    shape be skewed with a mass near 0 for bench players and wide for stars.
    """

    centres: FloatArray
    z: FloatArray
    league_spread: float
    player_weight: float

    def scale(self, pred: FloatArray, player_std: FloatArray | None) -> FloatArray:
        league = self.league_spread * np.sqrt(np.clip(pred, 0.0, None) + 1.0)
        if player_std is None or self.player_weight == 0.0:
            return league
        own = np.clip(np.nan_to_num(player_std, nan=0.0), 0.5, None)
        return (1.0 - self.player_weight) * league + self.player_weight * own

    def quantiles(self, pred: FloatArray, player_std: FloatArray | None = None) -> FloatArray:
        s = self.scale(pred, player_std)
        z = np.column_stack(
            [np.interp(pred, self.centres, self.z[:, j]) for j in range(len(QUANTILES))]
        )
        return pred[:, None] + s[:, None] * z

    @classmethod
    def fit(
        cls,
        pred: FloatArray,
        y: FloatArray,
        player_std: FloatArray | None = None,
        *,
        pin_median: bool = True,
        n_bins: int = 8,
        weights: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6),
        max_rows: int = 60_000,
    ) -> ResidualShape:
        """Fit on (prediction, outcome) pairs the predicting model did not train on.

        With ``pin_median`` the residual median is moved to 0 so the distribution's
        median is exactly the system's point prediction.
        """
        pred = np.clip(np.asarray(pred, dtype=np.float64), 0.0, None)
        y = np.asarray(y, dtype=np.float64)
        if len(pred) > max_rows:
            keep = np.linspace(0, len(pred) - 1, max_rows).astype(int)
            pred, y = pred[keep], y[keep]
            player_std = None if player_std is None else player_std[keep]
        root = np.sqrt(pred + 1.0)
        if player_std is not None:
            own = np.clip(np.nan_to_num(player_std, nan=0.0), 0.5, None)
            spread = float(np.median(own / root)) if len(own) else 1.0
        else:
            spread = float(np.median(np.abs(y - pred) / root)) * 1.5 if len(y) else 1.0
        spread = spread if np.isfinite(spread) and spread > 0 else 1.0
        candidates = weights if player_std is not None else (0.0,)
        best: ResidualShape | None = None
        best_loss = np.inf
        for w in candidates:
            shape = cls._fit_bins(pred, y, player_std, spread, w, pin_median, n_bins)
            # shape.quantiles(pred, player_std), all levels at once (same formula)
            q = pred[:, None] + shape.scale(pred, player_std)[:, None] * _interp_columns(
                pred, shape.centres, shape.z
            )
            loss = _pinball_into(y, np.clip(q, 0.0, None, out=q))
            if loss < best_loss - 1e-9:
                best, best_loss = shape, loss
        assert best is not None
        return best

    @classmethod
    def _fit_bins(
        cls,
        pred: FloatArray,
        y: FloatArray,
        player_std: FloatArray | None,
        spread: float,
        weight: float,
        pin_median: bool,
        n_bins: int,
    ) -> ResidualShape:
        probe = cls(np.zeros(1), np.zeros((1, len(QUANTILES))), spread, weight)
        r = (y - pred) / probe.scale(pred, player_std)
        if len(pred) < 50:
            z = np.quantile(r, _LEVELS)[None, :] if len(r) else _normal_z()[None, :]
            centres = np.zeros(1)
        else:
            edges = np.unique(np.quantile(pred, np.linspace(0, 1, n_bins + 1)))
            which = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, len(edges) - 2)
            # Every bin's quantiles at once: sort by (bin, value), then read each bin's
            # order statistics as np.quantile / np.median would.
            # (``which`` rises with ``pred``, so sorting ``pred`` also groups it by bin).
            n_edges = max(len(edges) - 1, 1)
            counts = np.bincount(which[(which >= 0) & (which < n_edges)], minlength=n_edges)
            kept = np.flatnonzero(counts >= 20)
            if len(kept):
                starts = (np.cumsum(counts) - counts)[kept]
                sizes = counts[kept]
                by_r = np.argsort(r, kind="stable")
                by_r = by_r[np.argsort(which[by_r].astype(np.int16), kind="stable")]
                z = _sorted_quantiles(r[by_r], starts, sizes, _LEVELS)
                centres = _sorted_medians(np.sort(pred), starts, sizes)
            else:
                z = np.quantile(r, _LEVELS)[None, :]
                centres = np.zeros(1)
        z = np.sort(z, axis=1)
        if pin_median:
            z = z - z[:, [MEDIAN_INDEX]]
        return cls(centres=centres, z=z, league_spread=spread, player_weight=weight)


def _sorted_quantiles(
    values: FloatArray,
    starts: npt.NDArray[np.intp],
    sizes: npt.NDArray[np.intp],
    levels: FloatArray,
) -> FloatArray:
    """np.quantile(values[s : s + n], levels) for each (s, n): ``values`` sorted per block.

    numpy's default ('linear') rule: virtual index (n - 1) * level, then its lerp.
    """
    virtual = (sizes[:, None] - 1) * levels[None, :]
    below = np.floor(virtual)
    gamma = virtual - below
    lo = below.astype(np.intp)
    hi = np.minimum(lo + 1, sizes[:, None] - 1)
    a = values[starts[:, None] + lo]
    b = values[starts[:, None] + hi]
    diff = b - a
    out = a + diff * gamma
    return np.asarray(np.where(gamma >= 0.5, b - diff * (1.0 - gamma), out), dtype=np.float64)


def _sorted_medians(
    values: FloatArray, starts: npt.NDArray[np.intp], sizes: npt.NDArray[np.intp]
) -> FloatArray:
    """np.median(values[s : s + n]) for each (s, n): ``values`` sorted per block."""
    a = values[starts + (sizes - 1) // 2]
    b = values[starts + sizes // 2]
    return np.asarray(np.where(sizes % 2 == 1, a, (a + b) / 2.0), dtype=np.float64)


def _interp_columns(x: FloatArray, xp: FloatArray, fp: FloatArray) -> FloatArray:
    """np.interp(x, xp, fp[:, j]) for every column j at once (numpy's own formula)."""
    if len(xp) == 1 or not np.all(np.diff(xp) > 0):
        return np.column_stack([np.interp(x, xp, fp[:, j]) for j in range(fp.shape[1])])
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])[:, None]
    out = slope[j] * (x - xp[j])[:, None] + fp[j]
    out[x <= xp[0]] = fp[0]
    out[x >= xp[-1]] = fp[-1]
    return out


def _pinball_into(y: FloatArray, quantiles: FloatArray) -> float:
    """``pinball_loss(y, quantiles)``, the same operations, overwriting ``quantiles``."""
    diff = np.subtract(y[:, None], quantiles, out=quantiles)
    over = _LEVELS * diff
    np.maximum(over, np.multiply(_LEVELS - 1.0, diff, out=diff), out=over)
    return float(np.mean(over))


def _normal_z() -> FloatArray:
    from scipy.stats import norm

    return np.asarray(norm.ppf(_LEVELS), dtype=np.float64)


def pinball_loss(y: FloatArray, quantiles: FloatArray) -> float:
    """Mean pinball loss over the 19 levels (what a good quantile set minimises)."""
    diff = y[:, None] - quantiles
    return float(np.mean(np.maximum(_LEVELS * diff, (_LEVELS - 1.0) * diff)))
