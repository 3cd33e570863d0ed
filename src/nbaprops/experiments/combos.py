"""Combos (PRA, P+R, P+A, R+A) modelled consistently with their components.

A combo is a sum of correlated single-stat outcomes. Its direct model (one model of the
sum, ``backtest --markets pra``) is compared here with a *joint simulation*: each
component drawn from its own walk-forward predictive distribution, the draws tied by a
Gaussian copula, and P(over line) read off the simulated sum.

* The component distributions are the walk-forward's own (``component_backtest`` is the
  backtest of a spec that also keeps each row's predictive quantiles and, for a count
  market, its pmf; a run folder's ``predictions.parquet`` holds neither).
* The copula's correlation matrix is estimated from the components' out-of-sample PITs
  (normal scores of the PIT of each outcome under its own predictive distribution), per
  player type, on rows dated strictly before each evaluated week: point in time.
* Player type (``player_type``): tertile of the predicted rebounds + assists share of the
  predicted PRA (from the component models' predicted means, known before the game),
  the tertile edges also taken from earlier rows only. Low share: scorers; high share:
  rebounders and playmakers.
* A component is drawn by its inverse CDF at the copula's uniforms: for a continuous
  distribution the exact inverse of ``PredictiveDistribution.cdf`` (linear between the
  19 quantiles, exponential tails, mass below 0 at 0); for a count the smallest count
  whose CDF reaches the uniform.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import get_market
from nbaprops.core.metrics import date_bootstrap, probability_metrics
from nbaprops.core.settings import Settings
from nbaprops.experiments.backtest import (
    BacktestResult,
    MemorySink,
    prepare_frames,
    run_on_frames,
)
from nbaprops.experiments.folds import Fold
from nbaprops.experiments.spec import ExperimentSpec
from nbaprops.predictions.scoring import ScoringModel
from nbaprops.systems.base import QUANTILES, PredictiveDistribution
from nbaprops.systems.composite import CompositeSystem

FloatArray = npt.NDArray[np.float64]

KEY = ["system", "player_id", "game_date"]
LEVELS: FloatArray = np.asarray(QUANTILES, dtype=np.float64)
# As PredictiveDistribution.cdf: the narrowest tail scale beyond the outer quantiles.
MIN_TAIL_SCALE = 0.5
# Monte-Carlo draws per row and the seed: the standard error of a simulated P(over) is at
# most 0.5 / sqrt(4000) = 0.008 per row, and it averages out over rows (see docs).
DEFAULT_DRAWS = 4000
DEFAULT_SEED = 26
# Player types: tertiles of the predicted (rebounds + assists) share of predicted PRA.
N_TYPES = 3
# Fewest earlier rows a type's correlation is estimated from; below it, all types pooled.
MIN_TYPE_ROWS = 200


# --- the components' predictive distributions, as the walk-forward made them -----------


@dataclass
class _DistributionSink(MemorySink):
    """The backtest's own sink, also keeping every scored row's predictive quantiles and,
    for a count market, its pmf (re-predicted from the same fitted model on the same
    serving rows and checked equal to the scored quantiles)."""

    evaluation: pd.DataFrame = field(default_factory=pd.DataFrame)
    kept: list[pd.DataFrame] = field(default_factory=list)

    def write_day(
        self, fold: Fold, day: date, scored: pd.DataFrame | None, models: Sequence[ScoringModel]
    ) -> None:
        super().write_day(fold, day, scored, models)
        if scored is None:
            return
        day_rows = self.evaluation[(self.evaluation["game_date"] == day).to_numpy()]
        for model in models:
            mine = scored[(scored["system"] == model.system_id).to_numpy()]
            quantiles = np.vstack(list(mine["quantiles"])).astype(np.float64)
            pmf: list[Any] = [None] * len(mine)
            if not isinstance(model.model, CompositeSystem):
                dist = model.model.predict_dist(day_rows)
                if not np.allclose(dist.quantiles, quantiles, atol=1e-9):
                    raise NbapropsError(f"{model.system_id} {day}: re-predicted quantiles differ")
                if dist.pmf is not None:
                    pmf = list(np.asarray(dist.pmf, dtype=np.float64))
            self.kept.append(
                pd.DataFrame(
                    {
                        "system": model.system_id,
                        "player_id": mine["player_id"].to_numpy(),
                        "game_date": mine["game_date"].to_numpy(),
                        "mean": mine["mean"].to_numpy(dtype=float),
                        "median_model": mine["median_model"].to_numpy(dtype=float),
                        "quantiles": list(quantiles),
                        "pmf": pmf,
                    }
                )
            )


def component_backtest(
    spec: ExperimentSpec, con: Any, settings: Settings
) -> tuple[BacktestResult, pd.DataFrame]:
    """``backtest.run_backtest`` for ``spec`` (same frames, folds, fits, seeds, scorer and
    summary) that also returns every scored row's predictive distribution: system,
    player_id, game_date, mean, median_model, quantiles (19 levels) and pmf (a count
    market's, else None). Nothing is written."""
    frames = prepare_frames(con, spec)
    sink = _DistributionSink(settings, keep_quantiles=True, evaluation=frames.evaluation)
    # the backtest itself (same plan, fits, scorer and summary), with this sink
    result = run_on_frames(frames, spec, settings=settings, sink=sink)
    dists = pd.concat(sink.kept, ignore_index=True)
    dists["game_date"] = pd.to_datetime(dists["game_date"])
    return result, dists


# --- inverse CDFs, PITs, normal scores --------------------------------------------------


def continuous_ppf(quantiles: npt.ArrayLike, u: npt.ArrayLike) -> FloatArray:
    """The inverse of ``PredictiveDistribution.cdf`` for a continuous row: ``quantiles`` is
    n x 19, ``u`` is n x D uniforms in (0, 1); n x D values.

    Linear between the quantiles; beyond 0.05 and 0.95 the exponential tails with scale
    max(neighbouring gap, 0.5); values below 0 are 0 (that mass sits at a scoreless 0).
    """
    q = np.asarray(quantiles, dtype=np.float64)
    uu = np.asarray(u, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != len(QUANTILES) or uu.ndim != 2 or uu.shape[0] != len(q):
        raise ValueError(f"need n x {len(QUANTILES)} quantiles and n x D uniforms")
    k = np.searchsorted(LEVELS, uu, side="right")  # levels at or below u
    lo_gap = np.maximum(q[:, 1] - q[:, 0], MIN_TAIL_SCALE)[:, None]
    hi_gap = np.maximum(q[:, -1] - q[:, -2], MIN_TAIL_SCALE)[:, None]
    inner = np.clip(k, 1, len(QUANTILES) - 1)
    q0 = np.take_along_axis(q, inner - 1, axis=1)
    q1 = np.take_along_axis(q, inner, axis=1)
    l0 = LEVELS[inner - 1]
    out = q0 + (uu - l0) / (LEVELS[1] - LEVELS[0]) * (q1 - q0)
    with np.errstate(divide="ignore"):
        left = q[:, :1] + lo_gap * np.log(uu / LEVELS[0])
        right = q[:, -1:] - hi_gap * np.log((1.0 - uu) / (1.0 - LEVELS[-1]))
    out = np.where(k == 0, left, out)
    out = np.where(k == len(QUANTILES), right, out)
    return cast(FloatArray, np.clip(out, 0.0, None))


def _cumulative(pmf: FloatArray) -> FloatArray:
    cum = np.minimum(np.cumsum(pmf, axis=1), 1.0)
    cum[:, -1] = 1.0
    return cast(FloatArray, cum)


def discrete_ppf(pmf: npt.ArrayLike, u: npt.ArrayLike) -> FloatArray:
    """The smallest count k with P(X <= k) >= u, per row (``pmf`` n x (K+1), ``u`` n x D)."""
    p = np.asarray(pmf, dtype=np.float64)
    uu = np.asarray(u, dtype=np.float64)
    if p.ndim != 2 or uu.ndim != 2 or uu.shape[0] != len(p):
        raise ValueError("need an n x (K+1) pmf and n x D uniforms")
    cum = _cumulative(p)
    width = cum.shape[1]
    offset = 2.0 * np.arange(len(p), dtype=np.float64)[:, None]  # rows apart, sorted
    flat = np.searchsorted((cum + offset).ravel(), (uu + offset).ravel(), side="left")
    k = flat.reshape(uu.shape) - (np.arange(len(p)) * width)[:, None]
    return np.minimum(k, width - 1).astype(np.float64)


def randomized_pit(pmf: npt.ArrayLike, actual: npt.ArrayLike, v: npt.ArrayLike) -> FloatArray:
    """A count's randomized PIT: P(X < y) + v * P(X = y), uniform when the pmf is right
    (the stored PIT of a count is P(X <= y), which is not). NaN where y is NaN."""
    p = np.asarray(pmf, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    vv = np.asarray(v, dtype=np.float64)
    cum = _cumulative(p)
    out = np.full(len(y), np.nan)
    ok = np.isfinite(y)
    k = np.clip(np.where(ok, y, 0.0), 0, cum.shape[1] - 1).astype(np.intp)
    rows = np.arange(len(y))
    below = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    mass = cum[rows, k] - below
    out[ok] = (below + vv * mass)[ok]
    return out


def normal_scores(pit: npt.ArrayLike) -> FloatArray:
    """Phi^-1 of PITs, clipped to [1e-6, 1 - 1e-6] so a tail outcome stays finite."""
    from scipy.special import ndtri

    u = np.clip(np.asarray(pit, dtype=np.float64), 1e-6, 1.0 - 1e-6)
    return cast(FloatArray, ndtri(u))


def copula_correlation(z: npt.ArrayLike) -> FloatArray:
    """The Gaussian copula's correlation matrix from normal scores (rows x components):
    their Pearson correlation, repaired to a proper correlation matrix (eigenvalues at
    least 1e-6, unit diagonal). Fewer than 3 rows: the identity (independence)."""
    zz = np.asarray(z, dtype=np.float64)
    k = zz.shape[1]
    zz = zz[np.isfinite(zz).all(axis=1)]
    if len(zz) < 3:
        return np.eye(k)
    corr = np.atleast_2d(np.corrcoef(zz, rowvar=False))
    corr = np.where(np.isfinite(corr), corr, 0.0)
    values, vectors = np.linalg.eigh((corr + corr.T) / 2)
    fixed = (vectors * np.maximum(values, 1e-6)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    out = fixed / d[:, None] / d[None, :]
    np.fill_diagonal(out, 1.0)
    return cast(FloatArray, out)


# --- player types -----------------------------------------------------------------------


def rebound_assist_share(
    points_mean: npt.ArrayLike, rebounds_mean: npt.ArrayLike, assists_mean: npt.ArrayLike
) -> FloatArray:
    """Predicted (rebounds + assists) / predicted PRA, from the component models' means
    (known before the game); NaN where a mean is missing or the PRA is not positive."""
    pts = np.asarray(points_mean, dtype=np.float64)
    ra = np.asarray(rebounds_mean, dtype=np.float64) + np.asarray(assists_mean, dtype=np.float64)
    total = pts + ra
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, ra / total, np.nan)
    return cast(FloatArray, share)


def type_edges(share: npt.ArrayLike) -> FloatArray:
    """The tertile edges of the share (of earlier rows); NaN edges when none is known."""
    s = np.asarray(share, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return np.full(N_TYPES - 1, np.nan)
    return np.quantile(s, np.arange(1, N_TYPES) / N_TYPES).astype(np.float64)


def player_type(share: npt.ArrayLike, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """0 (scorer) … N_TYPES - 1 (rebounder / playmaker) by the edges; -1 where unknown."""
    s = np.asarray(share, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if not np.isfinite(e).all():
        return np.full(len(s), -1, dtype=np.int64)
    out = np.searchsorted(e, s, side="right").astype(np.int64)
    return np.where(np.isfinite(s), out, -1)


@dataclass(frozen=True)
class CopulaFit:
    """The correlations used from ``start`` on, fitted on rows dated before it only."""

    start: pd.Timestamp
    n_rows: int  # earlier rows with every component's PIT
    edges: FloatArray  # the type tertile edges of the earlier rows' shares
    pooled: FloatArray  # k x k, every earlier row
    by_type: dict[int, FloatArray]  # k x k per type with at least MIN_TYPE_ROWS rows
    type_rows: dict[int, int]

    def matrix(self, kind: int) -> FloatArray:
        return self.by_type.get(kind, self.pooled)


def fit_copula(history: pd.DataFrame, start: pd.Timestamp, z_columns: Sequence[str]) -> CopulaFit:
    """Fit the copula for rows from ``start`` on: ``history`` has game_date, share and the
    components' normal scores (``z_columns``); only rows dated strictly before ``start``
    are read."""
    before = history[(history["game_date"] < start).to_numpy()]
    z = before[list(z_columns)].to_numpy(dtype=np.float64)
    complete = np.isfinite(z).all(axis=1)
    before, z = before[complete], z[complete]
    edges = type_edges(before["share"].to_numpy(dtype=np.float64))
    kinds = player_type(before["share"].to_numpy(dtype=np.float64), edges)
    by_type: dict[int, FloatArray] = {}
    type_rows: dict[int, int] = {}
    for kind in range(N_TYPES):
        mine = kinds == kind
        type_rows[kind] = int(mine.sum())
        if mine.sum() >= MIN_TYPE_ROWS:
            by_type[kind] = copula_correlation(z[mine])
    return CopulaFit(start, len(z), edges, copula_correlation(z), by_type, type_rows)


# --- the joint simulation ---------------------------------------------------------------


@dataclass(frozen=True)
class Marginal:
    """One component's predictive distributions over n rows: 19 quantiles, and a count
    market's pmf (then it is drawn from the pmf)."""

    quantiles: FloatArray
    pmf: FloatArray | None = None

    def ppf(self, u: FloatArray) -> FloatArray:
        if self.pmf is not None:
            return discrete_ppf(self.pmf, u)
        return continuous_ppf(self.quantiles, u)

    def mean(self) -> FloatArray:
        """Each row's own mean (of the pmf, or of the distribution the quantiles describe:
        ``PredictiveDistribution``'s, which may differ from the point model's mean)."""
        if self.pmf is not None:
            return self.pmf @ np.arange(self.pmf.shape[1], dtype=np.float64)
        return np.asarray(PredictiveDistribution.from_quantiles(self.quantiles).mean)

    def take(self, rows: npt.NDArray[np.intp]) -> Marginal:
        return Marginal(self.quantiles[rows], None if self.pmf is None else self.pmf[rows])


@dataclass(frozen=True)
class Simulated:
    """Per row: P(sum > line), P(sum == line), the simulated sum's mean and variance, its
    CDF at the line and just below a whole line (P(sum <= line - 0.5)), and the PIT of the
    outcome, P(sum <= actual) (NaN without an outcome)."""

    p_over: FloatArray
    p_push: FloatArray
    mean: FloatArray
    var: FloatArray
    cdf_line: FloatArray
    cdf_below: FloatArray
    pit: FloatArray


def simulate_sum(
    marginals: Sequence[Marginal],
    correlations: npt.ArrayLike,
    lines: npt.ArrayLike,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    chunk: int = 256,
    actual: npt.ArrayLike | None = None,
) -> Simulated:
    """Draw each row's components jointly (Gaussian copula, ``correlations`` one k x k
    matrix or n x k x k), sum them, and read P(over) / P(push) at each row's line.

    Deterministic for a seed: rows are drawn in chunks from one generator, in order.
    """
    from scipy.special import ndtr

    k = len(marginals)
    n = len(marginals[0].quantiles)
    line = np.asarray(lines, dtype=np.float64).reshape(-1)
    if line.shape != (n,) or any(len(m.quantiles) != n for m in marginals):
        raise ValueError("every marginal and the lines need one entry per row")
    corr = np.asarray(correlations, dtype=np.float64)
    if corr.ndim == 2:
        corr = np.broadcast_to(corr, (n, k, k))
    if corr.shape != (n, k, k):
        raise ValueError(f"correlations must be {k} x {k} or n x {k} x {k}")
    chol = np.linalg.cholesky(corr)
    rng = np.random.default_rng(seed)
    outcome = np.full(n, np.nan) if actual is None else np.asarray(actual, dtype=np.float64)
    whole = np.isclose(line, np.round(line))
    below_line = np.where(whole, line - 0.5, line)
    out = Simulated(*(np.full(n, np.nan) for _ in range(7)))
    for lo in range(0, n, chunk):
        rows = np.arange(lo, min(lo + chunk, n))
        normal = rng.standard_normal((len(rows), draws, k))
        z = np.einsum("rij,rdj->rdi", chol[rows], normal)
        u = ndtr(z)
        total = np.zeros((len(rows), draws))
        for j, marginal in enumerate(marginals):
            total += marginal.take(rows).ppf(u[:, :, j])
        here = line[rows][:, None]
        out.p_over[rows] = (total > here + 1e-9).mean(axis=1)
        out.p_push[rows] = (np.abs(total - here) <= 1e-9).mean(axis=1)
        out.mean[rows] = total.mean(axis=1)
        out.var[rows] = total.var(axis=1)
        out.cdf_line[rows] = (total <= here + 1e-9).mean(axis=1)
        out.cdf_below[rows] = (total <= below_line[rows][:, None] + 1e-9).mean(axis=1)
        out.pit[rows] = (total <= outcome[rows][:, None] + 1e-9).mean(axis=1)
    for arr in (out.p_over, out.p_push, out.cdf_line, out.cdf_below):
        arr[~np.isfinite(line)] = np.nan
    out.pit[~np.isfinite(outcome)] = np.nan
    return out


def _marginal(rows: pd.DataFrame) -> Marginal:
    quantiles = np.vstack(list(rows["quantiles"])).astype(np.float64)
    pmfs = rows["pmf"].to_numpy()
    has = np.array([p is not None and len(p) > 0 for p in pmfs], dtype=bool)
    if has.all() and len(rows):
        return Marginal(quantiles, np.vstack(list(pmfs)).astype(np.float64))
    if has.any():
        raise NbapropsError("a component has a pmf on some rows only")
    return Marginal(quantiles)


def component_scores(rows: pd.DataFrame, *, seed: int = DEFAULT_SEED) -> FloatArray:
    """Normal scores of one component's out-of-sample PITs (NaN where not played): the
    stored PIT for a continuous distribution, the randomized PIT for a count."""
    played = rows["played"].astype(bool).to_numpy() & np.isfinite(
        rows["actual"].to_numpy(dtype=np.float64)
    )
    marginal = _marginal(rows)
    if marginal.pmf is None:
        pit = np.where(played, rows["pit"].to_numpy(dtype=np.float64), np.nan)
    else:
        v = np.random.default_rng(seed).uniform(size=len(rows))
        actual = np.where(played, rows["actual"].to_numpy(dtype=np.float64), np.nan)
        pit = randomized_pit(marginal.pmf, actual, v)
    return normal_scores(pit)


def joint_probabilities(
    combo: pd.DataFrame,
    components: Mapping[str, pd.DataFrame],
    shares: pd.Series,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> tuple[pd.DataFrame, list[CopulaFit]]:
    """The combo's P(over) / P(push) by joint simulation of its components, point in time.

    ``combo``: the combo run's predictions (KEY columns, fold, warmup, line, played,
    actual). ``components``: per component, its run's predictions with its distributions
    (KEY, played, actual, pit, mean, quantiles, pmf). ``shares``: the rebounds + assists
    share of predicted PRA by KEY (``rebound_assist_share``; missing: pooled copula).
    Each system (the ``system`` column) is simulated and calibrated on its own rows only.

    Each combo fold is simulated with copulas fitted on the component rows dated before
    the fold's first date (warm-up folds included: they are out of sample too). Its rows
    are then calibrated as the backtest calibrates a system (``models.calibration``):
    the PIT stage on the earlier folds' simulated PITs of the combo's outcome, the
    line-aware stage on their decided lined rows, fold by fold in order.

    One row per combo row (every fold) with every component's distribution and a line or
    an outcome: ``p_over_sim`` / ``p_push_sim`` (the copula, raw), ``p_over_sim_dist``
    (after the PIT stage), ``p_over_sim_cal`` (both stages, as ``p_over``),
    ``p_over_indep`` / ``p_push_indep`` (correlation 0, the same draws), the simulated
    sum's mean and variance, the components' summed means (the point models' and the
    distributions' own), the row's player type and correlations.
    """
    names = list(components)
    if len(names) < 2:
        raise NbapropsError("a combo needs at least two components")
    systems = pd.unique(combo["system"])
    if len(systems) > 1:  # each system its own copulas and calibration
        parts, all_fits = [], []
        for system in systems:
            out, fits = joint_probabilities(
                combo[(combo["system"] == system).to_numpy()],
                {c: f[(f["system"] == system).to_numpy()] for c, f in components.items()},
                shares,
                draws=draws,
                seed=seed,
            )
            parts.append(out)
            all_fits.extend(fits)
        return pd.concat(parts, ignore_index=True), all_fits
    z_columns = [f"z_{c}" for c in names]
    history: pd.DataFrame | None = None
    for i, c in enumerate(names):
        rows = components[c]
        part = rows[KEY].copy()
        part[z_columns[i]] = component_scores(rows, seed=seed + i)
        history = part if history is None else history.merge(part, on=KEY, how="inner")
    assert history is not None
    history["game_date"] = pd.to_datetime(history["game_date"])
    share_of = shares.reindex(pd.MultiIndex.from_frame(history[KEY]))
    history["share"] = share_of.to_numpy(dtype=np.float64)

    combo = combo.copy()
    combo["game_date"] = pd.to_datetime(combo["game_date"])
    starts = combo.groupby("fold")["game_date"].min().sort_values()
    played = combo["played"].astype(bool).to_numpy() & np.isfinite(
        combo["actual"].to_numpy(dtype=np.float64)
    )
    wanted = combo[played | combo["line"].notna().to_numpy()]
    wanted = wanted[[*KEY, "fold", "warmup", "line", "played", "actual"]]
    for c in names:
        dist = components[c][[*KEY, "mean", "quantiles", "pmf"]].copy()
        dist["game_date"] = pd.to_datetime(dist["game_date"])
        prefixed = dist.add_prefix(f"{c}__").rename(columns={f"{c}__{k}": k for k in KEY})
        wanted = wanted.merge(prefixed, on=KEY, how="inner")
    wanted = wanted.sort_values(["game_date", "system", "player_id"]).reset_index(drop=True)
    if wanted.empty:
        raise NbapropsError("no combo row has every component's distribution")
    share = shares.reindex(pd.MultiIndex.from_frame(wanted[KEY])).to_numpy(dtype=np.float64)
    k = len(names)
    corr = np.empty((len(wanted), k, k))
    kinds = np.full(len(wanted), -1, dtype=np.int64)
    fits = []
    for fold, start in starts.items():
        mine = (wanted["fold"] == fold).to_numpy()
        if not mine.any():
            continue
        fit = fit_copula(history, pd.Timestamp(start), z_columns)
        fits.append(fit)
        kinds[mine] = player_type(share[mine], fit.edges)
        for row in np.flatnonzero(mine):
            corr[row] = fit.matrix(int(kinds[row]))
    marginals = [
        _marginal(wanted[[f"{c}__quantiles", f"{c}__pmf"]].set_axis(["quantiles", "pmf"], axis=1))
        for c in names
    ]
    line = wanted["line"].to_numpy(dtype=np.float64)
    outcome = np.where(
        wanted["played"].astype(bool), wanted["actual"].to_numpy(dtype=np.float64), np.nan
    )
    sim = simulate_sum(marginals, corr, line, draws=draws, seed=seed, actual=outcome)
    indep = simulate_sum(marginals, np.eye(k), line, draws=draws, seed=seed)
    out = wanted[[*KEY, "fold", "warmup", "line"]].copy()
    out["player_type"] = kinds
    for a in range(k):
        for b in range(a + 1, k):
            out[f"rho_{names[a]}_{names[b]}"] = corr[:, a, b]
    out["p_over_sim"] = sim.p_over
    out["p_push_sim"] = sim.p_push
    out["pit_sim"] = sim.pit
    out["p_over_sim_dist"], out["p_over_sim_cal"] = _calibrated(wanted, starts, sim, line, outcome)
    out["p_over_indep"] = indep.p_over
    out["p_push_indep"] = indep.p_push
    out["sim_mean"] = sim.mean
    out["sim_var"] = sim.var
    out["indep_var"] = indep.var
    out["components_dist_mean"] = sum(m.mean() for m in marginals)
    out["components_mean"] = sum(wanted[f"{c}__mean"].to_numpy(dtype=np.float64) for c in names)
    return out, fits


def _calibrated(
    rows: pd.DataFrame, starts: pd.Series, sim: Simulated, line: FloatArray, outcome: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The backtest's two calibration stages on the simulated distributions, fold by fold:
    fitted on the earlier folds' rows only (their PITs; their decided lined rows with the
    PIT-stage P(over) each was priced with then)."""
    from nbaprops.models.calibration import Calibration

    p_dist = np.full(len(rows), np.nan)
    p_cal = np.full(len(rows), np.nan)
    fold = rows["fold"].to_numpy()
    done = np.zeros(len(rows), dtype=bool)
    for f in starts.index:
        mine = fold == f
        if not mine.any():
            continue
        history = pd.DataFrame(
            {
                "pit": sim.pit[done],
                "played": np.isfinite(outcome[done]),
                "line": line[done],
                "actual": outcome[done],
                "p_over_dist": p_dist[done],
            }
        )
        cal = Calibration.from_history(history[history["played"]])
        at_line = cal.pit(sim.cdf_line[mine])
        p_dist[mine] = np.clip(1.0 - at_line, 0.0, 1.0)
        p_cal[mine] = cal.platt(p_dist[mine])
        done |= mine
    ok = np.isfinite(line)
    return np.where(ok, p_dist, np.nan), np.where(ok, p_cal, np.nan)


# --- scoring the combo's P(over) against outcomes ---------------------------------------


@dataclass(frozen=True)
class PairedBrier:
    """Mean Brier difference a − b on the same rows, 95% interval resampling whole dates."""

    n: int
    n_dates: int
    diff: float
    low: float
    high: float


def paired_brier(
    p_a: npt.ArrayLike,
    p_b: npt.ArrayLike,
    outcome: npt.ArrayLike,
    dates: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> PairedBrier:
    """Brier(a) − Brier(b) per row, averaged, with the date bootstrap the backtest report
    uses for "Brier − market" (``core.market_compare.versus_market``)."""
    a = np.asarray(p_a, dtype=np.float64)
    b = np.asarray(p_b, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    days = np.asarray(dates)
    diff = (a - y) ** 2 - (b - y) ** 2
    if len(diff) == 0:
        return PairedBrier(0, 0, math.nan, math.nan, math.nan)
    low, high = date_bootstrap(diff, days, n_boot, seed)
    return PairedBrier(len(diff), len(np.unique(days)), float(diff.mean()), low, high)


def scores(p: npt.ArrayLike, outcome: npt.ArrayLike) -> dict[str, float]:
    """N, Brier, log loss and ECE (10 bins) of P(over) (``core.metrics``)."""
    figures = probability_metrics(np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0), outcome)
    return {
        "n": float(figures.n),
        "brier": figures.brier,
        "log_loss": figures.log_loss,
        "ece": figures.ece,
    }


def combo_name_of(components: Sequence[str]) -> str | None:
    """The combo market summing exactly these components (None if there is none)."""
    for name in ("pra", "pr", "pa", "ra"):
        if tuple(get_market(name).components) == tuple(components):
            return name
    return None
