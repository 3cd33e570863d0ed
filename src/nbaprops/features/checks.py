"""Feature checks: completeness of a date's serving frame and drift between two periods."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from nbaprops.core.errors import NbapropsError
from nbaprops.features.catalog import FeatureSet
from nbaprops.features.frame import build_frame, serving_spine, training_spine

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


def period_frame(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    feature_set: FeatureSet,
    label: str = "period",
) -> pd.DataFrame:
    """The feature store's frame of every historical player-game in [first, last] (the
    training spine: the rows a drift check compares); an empty period is a user error."""
    frame = build_frame(con, training_spine(con, first, last), feature_set)
    if frame.empty:
        raise NbapropsError(f"{label} {first}:{last} has no player-games")
    return frame


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


# validate_feature_distributions: what counts as a broken evaluation frame.
DISTRIBUTION_MIN_ROWS = 30  # fewer evaluation rows than this: too few to judge shapes
# An evaluation constant at a value fewer than this share of training rows take is broken.
CONSTANT_MAX_TRAIN_SHARE = 0.5
# More than this share of evaluation values outside the training range is broken.
OUT_OF_RANGE_MAX_SHARE = 0.5


class FeatureDistributionError(NbapropsError):
    """An evaluation frame's features do not look like the training frame's."""


def validate_feature_distributions(
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    features: list[str] | tuple[str, ...],
    *,
    min_rows: int = DISTRIBUTION_MIN_ROWS,
) -> DriftReport:
    """Refuse an evaluation whose frame is broken rather than merely from another month.

    Real features drift every season, and the usual tests cannot tell that from a bug:
    on the real breakout walk-forwards of 2023-24 and 2024-25, PSI between a fold and
    its training window reaches 4.6 in the first fold of a season (days since a
    breakout, the season z-score start over) and 5.0 in the last playoff rounds
    (opponent ratings of four teams), and KS / Wasserstein flag most folds at these
    sizes. Those figures are returned (``drift_report``), never failed on. What fails
    is what a bug looks like:

    - a feature missing from either frame, or with a NaN or infinite value;
    - a feature constant in the evaluation frame at a value fewer than half of the
      training rows take (replaced by a default or a fill value; a binary feature
      that is honestly all 0, such as back-to-backs in the playoffs, passes);
    - a feature constant in training that varies in the evaluation frame;
    - more than half of a feature's evaluation values outside the training range
      (a unit or scale change).

    The shape checks need ``min_rows`` evaluation rows; fewer are only checked for
    missing and non-finite values.
    """
    problems: list[str] = []
    for name in features:
        for label, frame in (("training", train), ("evaluation", evaluation)):
            if name not in frame.columns:
                problems.append(f"{name} is missing from the {label} frame")
            elif len(frame) and not np.isfinite(frame[name].to_numpy(dtype=float)).all():
                problems.append(f"{name} has NaN or infinite values in the {label} frame")
    if problems:
        raise FeatureDistributionError("feature distribution check failed: " + "; ".join(problems))
    if train.empty or len(evaluation) < min_rows:
        return DriftReport([], 0, 0.0, False)
    for name in features:
        ref = train[name].to_numpy(dtype=float)
        cur = evaluation[name].to_numpy(dtype=float)
        ref_const, cur_const = bool(np.ptp(ref) == 0), bool(np.ptp(cur) == 0)
        if cur_const and not ref_const:
            share = float(np.mean(np.isclose(ref, cur[0])))
            if share < CONSTANT_MAX_TRAIN_SHARE:
                problems.append(
                    f"{name} is constant ({cur[0]:g}) in the evaluation frame, a value "
                    f"{share:.1%} of training rows take"
                )
        elif ref_const and not cur_const:
            problems.append(
                f"{name} is constant ({ref[0]:g}) in training but varies in the evaluation frame"
            )
        elif not ref_const:
            outside = float(np.mean((cur < ref.min()) | (cur > ref.max())))
            if outside > OUT_OF_RANGE_MAX_SHARE:
                problems.append(
                    f"{name}: {outside:.0%} of evaluation values lie outside the training range "
                    f"[{ref.min():g}, {ref.max():g}]"
                )
    if problems:
        raise FeatureDistributionError(
            f"feature distribution check failed ({len(train):,} training vs "
            f"{len(evaluation):,} evaluation rows): " + "; ".join(problems)
        )
    return drift_report(train, evaluation, features)
