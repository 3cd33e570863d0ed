"""Feature checks: completeness of a date's serving frame and drift between two periods."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, serving_spine

# The predict step refuses a date whose serving frame is less complete than this.
COMPLETENESS_GATE = 0.90
KS_MAX_ROWS = 1_000  # below this many rows (either period) use KS; above, Wasserstein
KS_ALPHA = 0.05
WASSERSTEIN_THRESHOLD = 0.1  # distance in reference standard deviations
DATASET_DRIFT_SHARE = 0.5


@dataclass(frozen=True)
class Completeness:
    day: str
    feature_set: str
    n_rows: int
    n_complete: int
    share_complete: float
    passes_gate: bool
    defaulted_share_by_feature: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def completeness(
    con: duckdb.DuckDBPyConnection, day: date, feature_set: FeatureSet
) -> Completeness:
    """Share of the date's serving spine with every required feature computed."""
    frame = build_frame(con, serving_spine(con, day), feature_set, with_flags=True)
    n = len(frame)
    complete = int((frame["n_required_defaulted"] == 0).sum()) if n else 0
    share = complete / n if n else 0.0
    by_feature = {
        name: float(frame[f"{name}__defaulted"].mean()) if n else 0.0
        for name in feature_set.features
    }
    return Completeness(
        str(day), feature_set.key, n, complete, share, share >= COMPLETENESS_GATE, by_feature
    )


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    n_reference: int
    n_current: int
    method: str  # ks or wasserstein
    statistic: float
    p_value: float | None
    psi: float
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    features: list[FeatureDrift]
    n_drifted: int
    share_drifted: float
    dataset_drift: bool

    def to_dict(self) -> dict:
        return asdict(self)


def population_stability_index(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI over the reference's quantile bins (0.1 moderate shift, 0.25 major)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    eps = 1e-4
    if len(edges) < 2:  # constant reference: compare "equal to it" vs "not"
        ref = np.array([1.0, 0.0])
        same = float(np.mean(np.isclose(current, edges[0]))) if len(current) else 1.0
        cur = np.array([same, 1.0 - same])
        ref, cur = np.clip(ref, eps, None), np.clip(cur, eps, None)
        return float(np.sum((cur - ref) * np.log(cur / ref)))
    edges[0], edges[-1] = -np.inf, np.inf
    ref = np.histogram(reference, edges)[0] / len(reference)
    cur = np.histogram(current, edges)[0] / len(current)
    ref, cur = np.clip(ref, eps, None), np.clip(cur, eps, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def feature_drift(name: str, reference: np.ndarray, current: np.ndarray) -> FeatureDrift:
    reference = reference[~np.isnan(reference)]
    current = current[~np.isnan(current)]
    psi = population_stability_index(reference, current)
    if min(len(reference), len(current)) < KS_MAX_ROWS:
        result = stats.ks_2samp(reference, current)
        p = float(result.pvalue)
        return FeatureDrift(
            name,
            len(reference),
            len(current),
            "ks",
            float(result.statistic),
            p,
            psi,
            p < KS_ALPHA,
        )
    scale = float(np.std(reference)) or 1.0
    distance = float(stats.wasserstein_distance(reference, current)) / scale
    return FeatureDrift(
        name,
        len(reference),
        len(current),
        "wasserstein",
        distance,
        None,
        psi,
        distance > WASSERSTEIN_THRESHOLD,
    )


def drift_report(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str] | tuple[str, ...]
) -> DriftReport:
    """Per-feature drift and whether the dataset drifted (>= half the features)."""
    if reference.empty or current.empty:
        raise ValueError("both periods need rows to compare")
    rows = [
        feature_drift(
            f,
            reference[f].to_numpy(dtype=float),
            current[f].to_numpy(dtype=float),
        )
        for f in features
    ]
    n = sum(r.drifted for r in rows)
    share = n / len(rows) if rows else 0.0
    return DriftReport(rows, n, share, share >= DATASET_DRIFT_SHARE)
