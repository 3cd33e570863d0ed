"""Feature and prediction drift between two periods, ranked most drifted first.

When hit rates move, the first question is whether the inputs moved. Each feature is
tested with the feature store's own check (``features.checks``: KS below 1,000 rows,
normalised Wasserstein above, PSI always) on the store's frames of each period's
player-games. The model's stored outputs (active, out-of-sample predictions: median,
mean, P(over)) go through the same test, plus a KS test and the difference of means,
and the share of OVER among its bets is compared with a two-proportion test.

Drift is of one market at a time (``market``, default points): the features tested are
that market's feature set's (rebounds tests ``rebounds_v1``), and the stored outputs are
read in that market only (``market = ?``, bound): another market's outputs never enter
its figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from nbaprops.core import metrics as m
from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET
from nbaprops.core.values import finite_or_none
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.checks import (
    KS_ALPHA,
    FeatureDrift,
    drift_report,
    feature_drift,
    period_frame,
)
from nbaprops.systems.factory import SYSTEM_IDS

PREDICTION_QUANTITIES = ("median", "mean", "p_over")
PSI_MODERATE = 0.1  # the levels population_stability_index documents
PSI_MAJOR = 0.25


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start}:{self.end}"


def psi_level(psi: float) -> str:
    return "major" if psi >= PSI_MAJOR else "moderate" if psi >= PSI_MODERATE else "stable"


@dataclass(frozen=True)
class DriftRow:
    """One tested quantity: a feature, or one system's prediction quantity."""

    kind: str  # feature | prediction
    name: str
    system: str | None
    n_reference: int
    n_current: int
    mean_reference: float | None
    mean_current: float | None
    difference: float | None  # current - reference
    method: str  # the feature store's test: ks or wasserstein
    statistic: float
    p_value: float | None
    psi: float
    psi_level: str
    drifted: bool
    ks_statistic: float | None = None  # predictions: KS whatever the row count
    ks_p_value: float | None = None
    rank: int = 0


@dataclass(frozen=True)
class OverShare:
    """The share of OVER among a system's bets (OVER or UNDER calls) in each period."""

    system: str
    n_bets_reference: int
    n_over_reference: int
    share_reference: float | None
    ci_reference: tuple[float | None, float | None]
    n_bets_current: int
    n_over_current: int
    share_current: float | None
    ci_current: tuple[float | None, float | None]
    difference: float | None
    p_value: float | None  # two-proportion z test
    drifted: bool


@dataclass(frozen=True)
class DriftResult:
    reference: Period
    current: Period
    feature_set: str
    systems: list[str]
    n_reference_rows: int
    n_current_rows: int
    rows: list[DriftRow]  # ranked: drifted first, then by PSI
    over_shares: list[OverShare]
    n_features_drifted: int
    share_features_drifted: float
    dataset_drift: bool
    notes: list[str]
    market: str = DEFAULT_MARKET
    # what the plot draws (not part of the JSON): {system: {quantity: (reference, current)}}
    samples: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(
        default_factory=dict, repr=False
    )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("samples")
        out["reference"] = self.reference.label
        out["current"] = self.current.label
        return out

    @property
    def features(self) -> list[DriftRow]:
        return [r for r in self.rows if r.kind == "feature"]


def rank_rows(rows: list[DriftRow]) -> list[DriftRow]:
    """Most drifted first: rows flagged by their test, then by PSI (scale-free)."""
    ordered = sorted(rows, key=lambda r: (not r.drifted, -r.psi, r.kind, r.name))
    return [DriftRow(**{**asdict(r), "rank": i}) for i, r in enumerate(ordered, start=1)]


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def quantity_drift(
    kind: str,
    name: str,
    system: str | None,
    reference: np.ndarray,
    current: np.ndarray,
    test: FeatureDrift | None = None,
) -> DriftRow:
    """The feature store's test on one quantity (``test`` when already run), with both
    means and their difference; predictions also get a KS test whatever their N."""
    reference = reference[~np.isnan(reference)]
    current = current[~np.isnan(current)]
    test = test or feature_drift(name, reference, current)
    ks = stats.ks_2samp(reference, current) if kind == "prediction" else None
    ref_mean, cur_mean = _mean(reference), _mean(current)
    return DriftRow(
        kind=kind,
        name=name,
        system=system,
        n_reference=test.n_reference,
        n_current=test.n_current,
        mean_reference=ref_mean,
        mean_current=cur_mean,
        difference=None if ref_mean is None or cur_mean is None else cur_mean - ref_mean,
        method=test.method,
        statistic=test.statistic,
        p_value=test.p_value,
        psi=test.psi,
        psi_level=psi_level(test.psi),
        drifted=test.drifted,
        ks_statistic=None if ks is None else float(ks.statistic),
        ks_p_value=None if ks is None else float(ks.pvalue),
    )


def _interval(k: int, n: int) -> tuple[float | None, float | None]:
    low, high = m.wilson_interval(k, n)
    return finite_or_none(low), finite_or_none(high)


def over_share(system: str, reference: pd.Series, current: pd.Series) -> OverShare:
    """OVER / (OVER + UNDER) in each period, with Wilson intervals and a z test."""
    counts = []
    for calls in (reference, current):
        bets = calls[calls.isin(m.SIDES)]
        counts.append((len(bets), int((bets == m.OVER).sum())))
    (n_ref, k_ref), (n_cur, k_cur) = counts
    share_ref = k_ref / n_ref if n_ref else None
    share_cur = k_cur / n_cur if n_cur else None
    diff = p_value = None
    if share_ref is not None and share_cur is not None:
        diff = share_cur - share_ref
        pooled = (k_ref + k_cur) / (n_ref + n_cur)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
        p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else 1.0
    return OverShare(
        system,
        n_ref,
        k_ref,
        share_ref,
        _interval(k_ref, n_ref),
        n_cur,
        k_cur,
        share_cur,
        _interval(k_cur, n_cur),
        diff,
        p_value,
        p_value is not None and p_value < KS_ALPHA,
    )


def stored_predictions(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    systems: list[str] | None = None,
    market: str = DEFAULT_MARKET,
) -> pd.DataFrame:
    """Active, out-of-sample predictions of a period in ``market`` (what the daily job
    served)."""
    return con.execute(
        """
        SELECT system_id AS system, game_date, player_id, median, mean, p_over, recommendation
        FROM predictions.prediction
        WHERE is_active AND NOT in_sample AND game_date BETWEEN ? AND ?
          AND market = ?
          AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, system_id))
        ORDER BY system_id, game_date, player_id
        """,
        [period.start, period.end, market, systems, systems],
    ).df()


def check_system(system: str) -> None:
    if system not in SYSTEM_IDS:
        raise NbapropsError(f"unknown system {system!r} (known: {', '.join(SYSTEM_IDS)})")


def market_feature_set(market: str, feature_set: FeatureSet | None) -> tuple[str, FeatureSet]:
    """The market (by its catalog name) and the feature set drift tests for it: the given
    one, which must be of that market, else the market's own (``Market.feature_set``)."""
    from nbaprops.core.markets import get_market
    from nbaprops.features.catalog import get_feature_set

    name = get_market(market).name
    if feature_set is None:
        return name, get_feature_set(get_market(name).feature_set)
    if feature_set.market != name:
        raise NbapropsError(
            f"feature set {feature_set.key} is of the {feature_set.market} market, not "
            f"{name}; give --feature-set of {name} (default {get_market(name).feature_set})"
        )
    return name, feature_set


def drift_of_frames(
    reference: Period,
    current: Period,
    ref_frame: pd.DataFrame,
    cur_frame: pd.DataFrame,
    features: list[str] | tuple[str, ...],
    ref_preds: pd.DataFrame,
    cur_preds: pd.DataFrame,
    *,
    feature_set: str,
    systems: list[str] | None = None,
    market: str = DEFAULT_MARKET,
) -> DriftResult:
    """The ranked drift of two periods' feature frames and stored predictions (pure).

    ``systems`` are tested whether or not they have predictions; None means every
    system with predictions in both periods.
    """
    report = drift_report(ref_frame, cur_frame, features)
    rows = [
        quantity_drift(
            "feature",
            f.feature,
            None,
            ref_frame[f.feature].to_numpy(dtype=float),
            cur_frame[f.feature].to_numpy(dtype=float),
            f,
        )
        for f in report.features
    ]
    notes: list[str] = []
    if systems is None:
        systems = sorted(set(ref_preds["system"]) & set(cur_preds["system"]))
        if not systems:
            notes.append(
                "no system has stored predictions in both periods: prediction drift and "
                "OVER share not reported"
            )
    samples: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    shares = []
    for name in systems:
        ref = ref_preds[ref_preds["system"] == name]
        cur = cur_preds[cur_preds["system"] == name]
        samples[name] = {}
        for quantity in PREDICTION_QUANTITIES:
            a = ref[quantity].to_numpy(dtype=float)
            b = cur[quantity].to_numpy(dtype=float)
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            samples[name][quantity] = (a, b)
            if len(a) and len(b):
                rows.append(quantity_drift("prediction", quantity, name, a, b))
            else:
                notes.append(f"{name}: no {quantity} in one period (no real lines): not tested")
        shares.append(over_share(name, ref["recommendation"], cur["recommendation"]))
    return DriftResult(
        reference=reference,
        current=current,
        feature_set=feature_set,
        systems=list(systems),
        n_reference_rows=len(ref_frame),
        n_current_rows=len(cur_frame),
        rows=rank_rows(rows),
        over_shares=shares,
        n_features_drifted=report.n_drifted,
        share_features_drifted=report.share_drifted,
        dataset_drift=report.dataset_drift,
        notes=notes,
        market=market,
        samples=samples,
    )


def drift_between(
    con: duckdb.DuckDBPyConnection,
    reference: Period,
    current: Period,
    feature_set: FeatureSet | None = None,
    *,
    system: str | None = None,
    market: str = DEFAULT_MARKET,
    on_step: Callable[[str], None] | None = None,
) -> DriftResult:
    """Per-feature and prediction drift of ``current`` against ``reference`` in ``market``.

    ``feature_set`` defaults to the market's (``core.markets``); one of another market
    is refused (its features would not be the ones the market's models use).

    Feature frames come from the feature store (``features.checks.period_frame``: the
    historical spine of each period). With ``system`` its predictions must exist in
    both periods; without it every system with predictions in both is reported (and
    none is fine: features only).
    """
    step = on_step or (lambda _label: None)
    market, feature_set = market_feature_set(market, feature_set)
    if system is not None:
        check_system(system)
    ref_frame = period_frame(con, reference.start, reference.end, feature_set, "--reference")
    step("reference frame")
    cur_frame = period_frame(con, current.start, current.end, feature_set, "--current")
    step("current frame")
    wanted = None if system is None else [system]
    ref_preds = stored_predictions(con, reference, wanted, market)
    cur_preds = stored_predictions(con, current, wanted, market)
    if system is not None:
        for label, period, preds in (
            ("--reference", reference, ref_preds),
            ("--current", current, cur_preds),
        ):
            if preds.empty:
                of = "" if market == DEFAULT_MARKET else f"{market} "
                raise NbapropsError(
                    f"system {system} has no active {of}predictions in {label} "
                    f"{period.label}; "
                    f"predict them first (`nbaprops backfill predictions --start "
                    f"{period.start} --end {period.end}`)"
                )
    step("stored predictions")
    result = drift_of_frames(
        reference,
        current,
        ref_frame,
        cur_frame,
        feature_set.features,
        ref_preds,
        cur_preds,
        feature_set=feature_set.key,
        systems=wanted,
        market=market,
    )
    step("tests")
    return result


def plot_drift(result: DriftResult, path: Path, *, top: int = 25) -> Path:
    """PSI per feature (bars, most drifted on top) and each system's prediction
    histograms (reference vs current)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features = sorted(result.features, key=lambda r: r.psi, reverse=True)[:top]
    n_sys = len(result.systems)
    height = 1.0 + 0.28 * max(len(features), 4) + 2.6 * n_sys
    fig = plt.figure(figsize=(11, height))
    ratios = [0.28 * max(len(features), 4) + 0.6] + [2.4] * n_sys
    grid = fig.add_gridspec(1 + n_sys, len(PREDICTION_QUANTITIES), height_ratios=ratios)
    ax = fig.add_subplot(grid[0, :])
    names = [r.name for r in features][::-1]
    values = [r.psi for r in features][::-1]
    colours = ["tab:red" if r.drifted else "tab:blue" for r in features][::-1]
    ax.barh(names, values, color=colours)
    for level, style in ((PSI_MODERATE, ":"), (PSI_MAJOR, "--")):
        ax.axvline(level, color="k", lw=0.8, ls=style, label=f"PSI {level:g}")
    ax.set_xlabel("PSI (red: drifted by its KS / Wasserstein test)")
    ax.set_title(
        f"{result.market} feature drift {result.reference.label} -> {result.current.label} "
        f"({result.feature_set}; {result.n_reference_rows:,} vs {result.n_current_rows:,} "
        f"player-games; {result.n_features_drifted}/{len(result.features)} drifted)",
        fontsize=9,
    )
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7)
    shares = {s.system: s for s in result.over_shares}
    for i, system in enumerate(result.systems, start=1):
        share = shares.get(system)
        for j, quantity in enumerate(PREDICTION_QUANTITIES):
            sub = fig.add_subplot(grid[i, j])
            a, b = result.samples.get(system, {}).get(quantity, (np.array([]), np.array([])))
            if len(a) and len(b):
                both = np.concatenate([a, b])
                bins = np.linspace(float(both.min()), float(both.max()) + 1e-9, 31)
                sub.hist(a, bins=bins, density=True, alpha=0.5, label=f"reference (N={len(a):,})")
                sub.hist(b, bins=bins, density=True, alpha=0.5, label=f"current (N={len(b):,})")
                sub.legend(fontsize=6)
            sub.set_title(f"{system}: {quantity}", fontsize=8)
            sub.tick_params(labelsize=6)
            if j == 0 and share is not None:
                sub.set_ylabel(
                    f"OVER share {_pct(share.share_reference)} -> {_pct(share.share_current)}",
                    fontsize=7,
                )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
