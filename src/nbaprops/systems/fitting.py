"""Small, deterministic fitting tools the systems share.

- ``fit_lad``: least absolute deviation by iteratively reweighted least squares, so
  simple systems estimate the median (lines are set at the median) without an LP.
- ``ResidualShape``: the spread of points around a system's point prediction,
  learned from residuals, so every point system gets an honest distribution.
- ``CountShape``: the count analogue for small-count markets (rebounds, assists,
  threes): a negative binomial (zero-inflated for threes) around the predicted mean,
  its dispersion fitted by maximum likelihood, giving a pmf-backed distribution.
- ``temporal_tail``: the end-of-window slice used for early stopping and for
  residuals (never a random split: invariant 3).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.markets import Market
from nbaprops.features.catalog import FEATURES
from nbaprops.systems.base import MEDIAN_INDEX, QUANTILES, FloatArray, PredictiveDistribution

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


# Smallest predicted mean a count distribution takes (a prediction of 0 or below still
# leaves some chance of a count) and the largest (keeps the pmf recurrence finite).
MIN_COUNT_MEAN = 0.05
MAX_COUNT_MEAN = 1_000.0
# Smallest dispersion: at the floor the negative binomial is a Poisson to 6 digits.
MIN_ALPHA = 1e-6
MAX_ALPHA = 50.0
MAX_ZERO_SHARE = 0.5
# How steeply the dispersion may fall or rise with the mean (alpha ∝ mean^slope):
# -1 is a variance proportional to the mean (NB1), 0 a constant alpha (NB2).
SLOPE_BOUNDS = (-2.0, 1.0)


@dataclass(frozen=True)
class CountShape:
    """A negative binomial around a predicted mean, for a count market.

    The point model predicts the mean mu of each count; the shape supplies the rest.
    Negative binomial NB(m, alpha): mean m, variance m + alpha·m², so alpha -> 0 is a
    Poisson. Zero-inflated (ZINB, threes): P(0) = pi + (1 - pi)·NB(0; m),
    P(k) = (1 - pi)·NB(k; m) for k > 0, with the NB part's mean m = mu / (1 - pi), so
    the ZINB's mean is still exactly mu and the point prediction keeps its meaning.

    The dispersion may vary with the mean: alpha(mu) = alpha·(mu / ref_mean)^slope
    (``slope`` 0: one alpha). alpha, slope and pi are fitted by maximum likelihood on
    (prediction, outcome) pairs the predicting model did not train on. ``dist`` returns
    the pmf over 0 … max_count with the mass beyond max_count put on max_count.
    """

    alpha: float  # the dispersion at ref_mean
    pi: float  # the zero-inflation share (0 unless zero_inflated)
    max_count: int
    zero_inflated: bool
    slope: float = 0.0  # d log alpha / d log mu
    ref_mean: float = 1.0  # where alpha is quoted (the median fitted mean)
    n: int = 0  # rows fitted on
    log_likelihood: float = float("nan")  # total log-likelihood at the fit

    def __post_init__(self) -> None:
        if not MIN_ALPHA <= self.alpha <= MAX_ALPHA:
            raise ValueError(f"alpha {self.alpha} outside [{MIN_ALPHA}, {MAX_ALPHA}]")
        if not 0.0 <= self.pi <= MAX_ZERO_SHARE or (self.pi > 0 and not self.zero_inflated):
            raise ValueError(f"zero share {self.pi} needs zero_inflated and [0, 0.5]")
        if not SLOPE_BOUNDS[0] <= self.slope <= SLOPE_BOUNDS[1] or self.ref_mean <= 0:
            raise ValueError(f"slope {self.slope} / ref_mean {self.ref_mean} out of range")
        if self.max_count < 1:
            raise ValueError("max_count must be at least 1")

    @classmethod
    def fit(
        cls,
        mean_pred: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        zero_inflated: bool,
        max_count: int,
        vary_alpha: bool = True,
    ) -> CountShape:
        """Maximum-likelihood alpha (with ``vary_alpha`` its slope in the mean, and with
        ``zero_inflated`` pi) given predicted means.

        Means are clipped to [MIN_COUNT_MEAN, MAX_COUNT_MEAN]; outcomes must be
        non-negative whole numbers. With no rows the shape is a Poisson.
        """
        from scipy.optimize import minimize, minimize_scalar

        mu, counts = _count_pairs(mean_pred, y)
        if len(mu) == 0:
            return cls(MIN_ALPHA, 0.0, max_count, zero_inflated)
        ref = float(np.median(mu))
        const = _log_factorial_sum(counts)
        lo, hi = np.log(MIN_ALPHA), np.log(MAX_ALPHA)
        res = minimize_scalar(
            lambda t: -_loglik(mu, counts, np.exp(t), 0.0, const),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-5},
        )
        alpha = float(np.exp(res.x))
        if _loglik(mu, counts, MIN_ALPHA, 0.0, const) >= _loglik(mu, counts, alpha, 0.0, const):
            alpha = MIN_ALPHA  # Poisson data lands on the floor
        slope, pi = 0.0, 0.0
        if vary_alpha or zero_inflated:
            log_ratio = np.log(mu / ref)

            def nll(v: FloatArray) -> float:
                a = np.clip(np.exp(v[0] + v[1] * log_ratio), MIN_ALPHA, MAX_ALPHA)
                return -_loglik(mu, counts, a, float(v[2]), const) / len(mu)

            res = minimize(
                nll,
                np.array([np.log(max(alpha, 1e-3)), 0.0, 0.02 if zero_inflated else 0.0]),
                method="L-BFGS-B",
                bounds=[
                    (lo, hi),
                    SLOPE_BOUNDS if vary_alpha else (0.0, 0.0),
                    (0.0, MAX_ZERO_SHARE if zero_inflated else 0.0),
                ],
                options={"ftol": 1e-12, "gtol": 1e-9},
            )
            if -res.fun * len(mu) > _loglik(mu, counts, alpha, 0.0, const):
                alpha = float(np.clip(np.exp(res.x[0]), MIN_ALPHA, MAX_ALPHA))
                slope, pi = float(res.x[1]), float(res.x[2])
        shape = cls(alpha, pi, max_count, zero_inflated, slope=slope, ref_mean=ref, n=len(mu))
        ll = _loglik(mu, counts, shape.alphas(mu), pi, const)
        return replace(shape, log_likelihood=ll)

    def alphas(self, mean_pred: npt.ArrayLike) -> FloatArray:
        """The dispersion at each (clipped) predicted mean."""
        mu = _count_means(mean_pred)
        if self.slope == 0.0:
            return np.full(len(mu), self.alpha)
        return np.clip(self.alpha * (mu / self.ref_mean) ** self.slope, MIN_ALPHA, MAX_ALPHA)

    def log_pmf(self, mean_pred: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
        """log P(Y = y) per row under the untruncated (ZI)NB (for held-out scoring)."""
        mu, counts = _count_pairs(mean_pred, y)
        return _log_pmf(mu, counts, self.alphas(mu), self.pi)

    def pmf(self, mean_pred: npt.ArrayLike) -> FloatArray:
        """P(X = k) for k = 0 … max_count per row (the tail beyond on max_count)."""
        mu = _count_means(mean_pred)
        alpha, pi, top = self.alphas(mu), self.pi, self.max_count
        m = mu / (1.0 - pi)  # the NB part's mean: the ZINB's mean stays mu
        am = alpha * m
        scaled = m / (1.0 + am)
        # NB(0) = (1 + alpha·m)^(-1/alpha); NB(k) / NB(k-1) = (1 + (k-1)·alpha) / k · scaled
        out = np.empty((len(m), top + 1))
        out[:, 0] = np.exp(-np.log1p(am) / alpha)
        ks = np.arange(top, dtype=np.float64)
        if self.slope == 0.0:
            np.multiply(
                scaled[:, None], ((1.0 + self.alpha * ks) / (ks + 1.0))[None, :], out=out[:, 1:]
            )
        else:
            np.multiply(alpha[:, None], ks[None, :], out=out[:, 1:])
            out[:, 1:] += 1.0
            out[:, 1:] *= scaled[:, None] / (ks + 1.0)[None, :]
        np.cumprod(out[:, 1:], axis=1, out=out[:, 1:])
        out[:, 1:] *= out[:, [0]]
        if pi > 0.0:
            out *= 1.0 - pi
            out[:, 0] += pi
        out[:, top] = np.maximum(1.0 - out[:, :top].sum(axis=1), 0.0)
        return out

    def dist(self, mean_pred: npt.ArrayLike) -> PredictiveDistribution:
        """The discrete predictive distribution per row.

        Its ``mean`` is the clipped predicted mean (the untruncated (ZI)NB's mean, the
        point prediction), not the truncated pmf's (smaller by the mass beyond
        max_count times its excess, negligible at the catalog's max_count).
        """
        return PredictiveDistribution.from_pmf(self.pmf(mean_pred), mean=_count_means(mean_pred))

    def to_dict(self) -> dict[str, Any]:
        """The fitted parameters for the provenance."""
        return {
            "family": "zinb" if self.zero_inflated else "nb",
            "alpha": round(self.alpha, 6),
            "slope": round(self.slope, 6),
            "ref_mean": round(self.ref_mean, 6),
            "pi": round(self.pi, 6),
            "max_count": self.max_count,
            "n": self.n,
            "log_likelihood": round(self.log_likelihood, 3)
            if np.isfinite(self.log_likelihood)
            else None,
        }


def _count_means(mean_pred: npt.ArrayLike) -> FloatArray:
    mu = np.asarray(mean_pred, dtype=np.float64).reshape(-1)
    if not np.isfinite(mu).all():
        raise ValueError("predicted means must be finite")
    return np.clip(mu, MIN_COUNT_MEAN, MAX_COUNT_MEAN)


def _count_pairs(mean_pred: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    mu = _count_means(mean_pred)
    counts = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(counts) != len(mu):
        raise ValueError(f"{len(counts)} outcomes for {len(mu)} predicted means")
    if not np.isfinite(counts).all() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("outcomes must be non-negative whole numbers")
    return mu, counts


def _log_factorial_sum(counts: FloatArray) -> float:
    from scipy.special import gammaln

    return float(np.sum(gammaln(counts + 1.0)))


def _rising(counts: FloatArray, alpha: FloatArray | float) -> FloatArray:
    """sum_{j<y} log(1 + j·alpha) per row, = log Γ(y + 1/alpha) - log Γ(1/alpha) + y·log alpha.

    One alpha: the product form, from a table (exact as alpha -> 0, the Poisson limit).
    """
    ys = counts.astype(np.intp)
    top = int(ys.max(initial=0))
    if np.ndim(alpha) == 0:
        table = np.concatenate([[0.0], np.cumsum(np.log1p(float(alpha) * np.arange(top)))])
        return np.asarray(table[ys], dtype=np.float64)
    from scipy.special import gammaln

    a = np.asarray(alpha, dtype=np.float64)
    r = 1.0 / a  # per-row alphas: the gamma-function form (absolute error < 1e-8 at the floor)
    return np.asarray(gammaln(counts + r) - gammaln(r) + counts * np.log(a), dtype=np.float64)


def _nb_terms(
    mu: FloatArray, counts: FloatArray, alpha: FloatArray | float, pi: float
) -> FloatArray:
    """log NB(y; m = mu / (1 - pi), alpha) + log y! per row:
    sum_{j<y} log(1 + j·alpha) - log(1 + alpha·m)/alpha + y·(log m - log(1 + alpha·m))."""
    m = mu / (1.0 - pi)
    log1p_am = np.log1p(alpha * m)
    return np.asarray(
        _rising(counts, alpha) - log1p_am / alpha + counts * (np.log(m) - log1p_am),
        dtype=np.float64,
    )


def _zero_inflate(nb: FloatArray, counts: FloatArray, pi: float) -> FloatArray:
    if pi <= 0.0:
        return nb
    zero = counts == 0
    out = np.asarray(np.log1p(-pi) + nb, dtype=np.float64)
    out[zero] = np.log(pi + (1.0 - pi) * np.exp(nb[zero]))
    return out


def _log_pmf(
    mu: FloatArray, counts: FloatArray, alpha: FloatArray | float, pi: float
) -> FloatArray:
    """log ZINB(y; mean mu, alpha, pi) per row (pi = 0: the NB)."""
    from scipy.special import gammaln

    nb = _nb_terms(mu, counts, alpha, pi) - gammaln(counts + 1.0)
    return _zero_inflate(nb, counts, pi)


def _loglik(
    mu: FloatArray, counts: FloatArray, alpha: FloatArray | float, pi: float, const: float
) -> float:
    """Total log-likelihood (``const`` = sum log y!, the same for every parameter)."""
    return float(_zero_inflate(_nb_terms(mu, counts, alpha, pi), counts, pi).sum() - const)


# The spread a fitted system holds around its point (``fit_shape``).
Shape = ResidualShape | CountShape


def fit_shape(
    market: Market, point: FloatArray, y: FloatArray, player_std: FloatArray | None
) -> Shape:
    """The spread around a system's point for its market: residual quantiles, or for a
    count market a negative binomial around the point (then a mean)."""
    if market.is_count:
        return CountShape.fit(
            point, y, zero_inflated=market.zero_inflated, max_count=market.max_count
        )
    return ResidualShape.fit(point, y, player_std)


def shape_details(shape: Shape) -> dict[str, Any]:
    """What a fit records of its shape."""
    if isinstance(shape, CountShape):
        return {"count_shape": shape.to_dict()}
    return {"player_std_weight": shape.player_weight}


def shape_dist(
    shape: Shape,
    point: FloatArray,
    player_std: FloatArray | None,
    mean: FloatArray | None = None,
) -> PredictiveDistribution:
    """The distribution a shape gives around ``point`` (``mean``: a continuous shape's
    mean when it is not the quantiles' own)."""
    if isinstance(shape, CountShape):
        return shape.dist(point)
    return PredictiveDistribution.from_quantiles(shape.quantiles(point, player_std), mean=mean)
