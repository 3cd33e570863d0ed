"""``breakout``: will a role player score far above his season average tonight?

Scope and label are rules, not features: a player-game is in scope when, before it,
the player has played ``min_season_games`` games this season averaging between
``min_avg`` and ``max_avg`` points; it is a breakout when he then scores at least
``multiplier`` x that pre-game average. Both read the pre-game season average through
the feature store (``points_avg_season`` and ``season_games_played`` built by
``build_frame`` over the same spine), never the box score of the game itself.

The classifier is CatBoost on a breakout feature set (``breakout_v1``) trained with
balanced class weights. With a base rate of ~10-15% an unweighted model's
probabilities almost never reach the HIGH (0.769) or even MEDIUM (0.5) thresholds,
so every player would be LOW and the categories would say nothing. Balanced weights
put the output on a 50/50 scale: ``risk_score`` is that balanced-scale score, used
for the risk categories, and it is *not* a probability. ``p_breakout`` undoes the
weighting analytically (odds times n_positive / n_negative of the training rows), a
prior correction that gives a probability on the real base rate's scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.core.settings import Settings
from nbaprops.features.catalog import BREAKOUT_V1, FeatureSet
from nbaprops.features.frame import build_frame
from nbaprops.systems.base import (
    FeatureSetMismatchError,
    Persisted,
    frame_feature_columns,
)

if TYPE_CHECKING:
    from pandas.api.extensions import ExtensionArray

SYSTEM_ID = "breakout"
HIGH, MEDIUM, LOW = "HIGH", "MEDIUM", "LOW"
CATEGORIES = (HIGH, MEDIUM, LOW)
OBSERVATION_UNDER_HIGH = "UNDER on a HIGH breakout-risk player"

# The scope's inputs, read through the feature store like any feature (not a model set).
SCOPE_SET = FeatureSet(
    "breakout_scope",
    1,
    ("points_avg_season", "season_games_played"),
    "The breakout scope's pre-game season average and games played (not model inputs).",
)
SCOPE_COLUMNS = ("season_avg_before", "season_games_before", "in_scope", "breakout_threshold")


@dataclass(frozen=True)
class BreakoutRules:
    """Who is in scope, what a breakout is, and where the risk categories start."""

    min_avg: float = 6.0
    max_avg: float = 20.0
    min_season_games: int = 5
    multiplier: float = 1.75
    high: float = 0.769
    medium: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.min_avg <= self.max_avg:
            raise NbapropsError(
                f"breakout scope: need 0 <= min average {self.min_avg} <= max {self.max_avg}"
            )
        if not 0 < self.medium <= self.high < 1:
            raise NbapropsError(
                f"breakout thresholds: need 0 < MEDIUM {self.medium} <= HIGH {self.high} < 1"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakoutRules:
        return cls(
            min_avg=settings.breakout.breakout_min_season_avg,
            max_avg=settings.breakout.breakout_max_season_avg,
            min_season_games=settings.breakout.breakout_min_season_games,
            multiplier=settings.breakout.breakout_multiplier,
            high=settings.breakout.breakout_high,
            medium=settings.breakout.breakout_medium,
        )

    def category(self, score: npt.ArrayLike) -> npt.NDArray[np.object_]:
        s = np.asarray(score, dtype=float)
        return np.where(s >= self.high, HIGH, np.where(s >= self.medium, MEDIUM, LOW)).astype(
            object
        )


def breakout_frame(
    con: duckdb.DuckDBPyConnection,
    spine: pd.DataFrame,
    rules: BreakoutRules,
    feature_set: FeatureSet = BREAKOUT_V1,
    *,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``build_frame(spine, feature_set)`` plus the scope columns (and, when the spine
    carries ``points``, the ``breakout`` label): the one frame for training, evaluation
    and serving, whichever spine it is given."""
    frame = build_frame(con, spine, feature_set, lines=lines)
    scope = build_frame(con, spine, SCOPE_SET, with_flags=True)
    avg = scope["points_avg_season"].to_numpy(dtype=float).copy()
    avg[scope["points_avg_season__defaulted"].to_numpy(dtype=bool)] = np.nan
    games = scope["season_games_played"].to_numpy(dtype=float)
    frame["season_avg_before"] = avg
    frame["season_games_before"] = games
    with np.errstate(invalid="ignore"):
        frame["in_scope"] = (
            (games >= rules.min_season_games) & (avg >= rules.min_avg) & (avg <= rules.max_avg)
        )
    frame["breakout_threshold"] = rules.multiplier * avg
    if "points" in frame.columns:
        frame["breakout"] = label(frame["points"], frame["breakout_threshold"])
    return frame


def label(points: pd.Series, threshold: pd.Series) -> pd.Series:
    """1.0 for a breakout, 0.0 for none, NaN when he did not play or has no threshold."""
    pts = points.to_numpy(dtype=float)
    thr = threshold.to_numpy(dtype=float)
    out = np.where(pts >= thr, 1.0, 0.0)
    out[np.isnan(pts) | np.isnan(thr)] = np.nan
    return pd.Series(out, index=points.index)


class BreakoutClassifier(Persisted):
    """CatBoost classifier of a breakout game, bound to the feature set it was fitted on."""

    system_id: ClassVar[str] = SYSTEM_ID
    libraries: ClassVar[tuple[str, ...]] = ("catboost",)

    feature_columns_: list[str]
    n_positive_: int
    n_negative_: int

    def __init__(
        self,
        iterations: int = 300,
        learning_rate: float = 0.05,
        depth: int = 4,
        l2_leaf_reg: float = 5.0,
        balanced: bool = True,
        thread_count: int = 2,
        random_state: int = 0,
    ) -> None:
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.balanced = balanced
        self.thread_count = thread_count
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:
        from catboost import CatBoostClassifier

        columns = frame_feature_columns(X)
        if not columns:
            raise ValueError("frame has no catalog feature columns")
        target = np.asarray(y, dtype=float).reshape(-1)
        if len(target) != len(X):
            raise ValueError(f"y has {len(target)} values for {len(X)} rows")
        if np.isnan(target).any() or not np.isin(target, (0.0, 1.0)).all():
            raise ValueError("y must be 0 or 1 (drop out-of-scope and unplayed rows first)")
        n_pos = int(target.sum())
        if n_pos == 0 or n_pos == len(target):
            raise NbapropsError(
                f"breakout: training rows need both classes ({n_pos} breakouts in {len(target)})"
            )
        keys: npt.NDArray[np.object_] | ExtensionArray | list[str] = (
            pd.unique(X["feature_set"].astype(str)) if "feature_set" in X.columns else []
        )
        if len(keys) > 1:
            raise FeatureSetMismatchError(f"frame mixes feature sets: {', '.join(keys)}")
        key = str(keys[0]) if len(keys) else "custom"
        model = CatBoostClassifier(
            iterations=self.iterations,
            learning_rate=self.learning_rate,
            depth=self.depth,
            l2_leaf_reg=self.l2_leaf_reg,
            auto_class_weights="Balanced" if self.balanced else None,
            thread_count=self.thread_count,
            random_seed=self.random_state,
            allow_writing_files=False,
            verbose=False,
        )
        model.fit(X[columns].to_numpy(dtype=np.float32), target.astype(int))
        self.model_ = model
        self.feature_set_ = key
        self.feature_columns_ = columns
        self.n_positive_ = n_pos
        self.n_negative_ = len(target) - n_pos
        self.fitted_ = self._provenance(
            X, key, columns, {"n_breakouts": n_pos, "base_rate": n_pos / len(target)}
        )
        return self

    @property
    def base_rate_(self) -> float:
        return self.n_positive_ / (self.n_positive_ + self.n_negative_)

    def check_frame(self, X: pd.DataFrame) -> None:
        self._check_fitted()
        missing = [c for c in self.feature_columns_ if c not in X.columns]
        if missing:
            raise FeatureSetMismatchError(
                f"breakout was fitted on {self.feature_set_}; frame lacks {', '.join(missing)}"
            )
        self._check_frame_tag(X)

    def risk_score(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        """The balanced-scale score the risk categories read (not a probability)."""
        self.check_frame(X)
        if len(X) == 0:
            return np.empty(0)
        x = X[self.feature_columns_].to_numpy(dtype=np.float32)
        return np.asarray(self.model_.predict_proba(x)[:, 1], dtype=np.float64)

    def p_breakout(self, score: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """P(breakout) from a risk score: the class weighting undone (prior correction)."""
        s: npt.NDArray[np.float64] = np.clip(np.asarray(score, dtype=float), 1e-9, 1 - 1e-9)
        if not self.balanced:
            return s
        odds = s / (1 - s) * (self.n_positive_ / self.n_negative_)
        p: npt.NDArray[np.float64] = odds / (1 + odds)
        return p
