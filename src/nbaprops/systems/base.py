"""The one contract every prediction system keeps, and the distribution it returns.

A system is fitted on a feature frame from ``build_frame`` (feature columns plus key
and label columns) and binds itself to that frame's feature set: predicting on, or
loading for, a different feature set is refused rather than silently misaligned.
Probabilities come from the predictive distribution and are uncalibrated; the
backtest calibrates them on earlier folds (invariant 6).
"""

from __future__ import annotations

import inspect
import json
import math
import pickle
import platform
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Self, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.errors import NbapropsError
from nbaprops.core.markets import DEFAULT_MARKET, Market, get_market
from nbaprops.features.catalog import FEATURE_SETS, FEATURES, FeatureSet, market_of_key

FloatArray = npt.NDArray[np.float64]

QUANTILES: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
MEDIAN_INDEX = QUANTILES.index(0.5)
_LEVELS = np.asarray(QUANTILES)
# Narrowest tail scale (points): keeps the tails proper when the outer quantiles tie.
_MIN_TAIL_SCALE = 0.5
_ARTEFACT_FORMAT = 1


class FeatureSetMismatchError(NbapropsError, ValueError):
    """A frame or artefact is bound to other features than the system was fitted on."""


def _floats(values: npt.ArrayLike, n: int, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
    return arr


@dataclass(frozen=True)
class PredictiveDistribution:
    """Per-row predictive distribution, held as 19 quantiles (0.05 … 0.95) and, for a
    count market, also as its probability mass function.

    Continuous (``pmf`` None): between quantiles the CDF is linear (uniform density);
    beyond 0.05 and 0.95 it has exponential tails whose scale matches the neighbouring
    quantile gap, so the density is continuous at the outer quantiles. Points are never
    negative: any left-tail mass below 0 sits at exactly 0 (a scoreless night).

    Discrete (``pmf`` an n x (K+1) array over the counts 0 … K, each row summing to 1,
    mass beyond K already put on K): the CDF is the exact step function
    P(X <= floor(x)), so a half line's P(over) and a whole line's P(push) are exact;
    the quantiles are the discrete ones (the smallest count whose CDF reaches the level)
    and the median is the 0.5 quantile. Build it with ``from_pmf``.
    """

    mean: FloatArray
    median: FloatArray
    quantiles: FloatArray
    pmf: FloatArray | None = None

    def __post_init__(self) -> None:
        q = np.array(self.quantiles, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != len(QUANTILES):
            raise ValueError(f"quantiles must be n x {len(QUANTILES)}, got {q.shape}")
        n = q.shape[0]
        mean = _floats(self.mean, n, "mean").copy()
        median = _floats(self.median, n, "median").copy()
        if not (np.isfinite(q).all() and np.isfinite(mean).all()):
            raise ValueError("a predictive distribution must be finite")
        if (np.diff(q, axis=1) < -1e-9).any():
            raise ValueError("quantiles must be non-decreasing per row")
        if not np.allclose(median, q[:, MEDIAN_INDEX]):
            raise ValueError("median must equal the 0.5 quantile")
        arrays = [q, mean, median]
        if self.pmf is not None:
            pmf = np.array(self.pmf, dtype=np.float64)
            _check_pmf(pmf, n)
            cum = _cumulative(pmf)
            if not np.array_equal(q, _discrete_quantiles(cum)):
                raise ValueError("quantiles must be the discrete quantiles of the pmf")
            arrays += [pmf, cum]
            object.__setattr__(self, "pmf", pmf)
            object.__setattr__(self, "_cum", cum)
        for arr in arrays:
            arr.setflags(write=False)
        object.__setattr__(self, "quantiles", q)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "median", median)

    @classmethod
    def from_quantiles(
        cls, quantiles: npt.ArrayLike, mean: npt.ArrayLike | None = None
    ) -> PredictiveDistribution:
        """Repair raw quantiles (clip at 0, sort crossings) and derive median and mean."""
        q = np.asarray(quantiles, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != len(QUANTILES):
            raise ValueError(f"quantiles must be n x {len(QUANTILES)}, got {q.shape}")
        q = np.sort(np.clip(q, 0.0, None), axis=1)
        mu = _mean_of(q) if mean is None else np.clip(_floats(mean, len(q), "mean"), 0.0, None)
        return cls(mean=mu, median=q[:, MEDIAN_INDEX].copy(), quantiles=q)

    @classmethod
    def from_pmf(
        cls, pmf: npt.ArrayLike, mean: npt.ArrayLike | None = None
    ) -> PredictiveDistribution:
        """A discrete distribution from its mass over 0 … K (one row per prediction).

        Rows are renormalised to sum to 1 (they must already sum to 1 within 1e-6).
        The mean defaults to sum k·pmf(k); a caller may pass the mean of the model the
        pmf was truncated from (mass beyond K moved onto K), which is what a point model
        predicted.
        """
        p = np.array(pmf, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] < 1:
            raise ValueError(f"pmf must be n x (K+1), got {p.shape}")
        _check_pmf(p, p.shape[0])
        p /= p.sum(axis=1, keepdims=True)
        cum = _cumulative(p)
        q = _discrete_quantiles(cum)
        mu = p @ np.arange(p.shape[1], dtype=np.float64) if mean is None else mean
        mu = _floats(mu, len(p), "mean").copy()
        if not np.isfinite(mu).all():
            raise ValueError("a predictive distribution must be finite")
        return cls._derived(mu, q[:, MEDIAN_INDEX].copy(), q, p, cum)

    @classmethod
    def _derived(
        cls, mean: FloatArray, median: FloatArray, q: FloatArray, pmf: FloatArray, cum: FloatArray
    ) -> PredictiveDistribution:
        """A discrete distribution from parts derived from a checked pmf (no re-checking:
        at 100,000 rows the checks would double the cost of building it)."""
        dist = object.__new__(cls)
        for name, arr in (
            ("mean", mean),
            ("median", median),
            ("quantiles", q),
            ("pmf", pmf),
            ("_cum", cum),
        ):
            arr.setflags(write=False)
            object.__setattr__(dist, name, arr)
        return dist

    @property
    def is_discrete(self) -> bool:
        """Whether the distribution is a pmf over counts (a count market)."""
        return self.pmf is not None

    def __len__(self) -> int:
        return int(self.quantiles.shape[0])

    def take(self, rows: npt.ArrayLike) -> PredictiveDistribution:
        """The distribution of a subset of rows (index array or boolean mask)."""
        idx = np.asarray(rows)
        if self.pmf is not None:
            cum: FloatArray = self.__dict__["_cum"]
            return self._derived(
                self.mean[idx], self.median[idx], self.quantiles[idx], self.pmf[idx], cum[idx]
            )
        return PredictiveDistribution(
            mean=self.mean[idx],
            median=self.median[idx],
            quantiles=self.quantiles[idx],
        )

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        """P(points <= x) per row; ``x`` is a scalar or one value per row."""
        if self.pmf is not None:
            return self._step_cdf(_floats(x, len(self), "x"))
        q = self.quantiles
        n = len(self)
        xs = _floats(x, n, "x")
        out = np.full(n, np.nan)
        ok = np.isfinite(xs)
        below = (q <= xs[:, None]).sum(axis=1)
        lo_gap = np.maximum(q[:, 1] - q[:, 0], _MIN_TAIL_SCALE)
        hi_gap = np.maximum(q[:, -1] - q[:, -2], _MIN_TAIL_SCALE)
        left = ok & (below == 0)
        out[left] = _LEVELS[0] * np.exp(-(q[left, 0] - xs[left]) / lo_gap[left])
        right = ok & (below == len(QUANTILES))
        out[right] = 1.0 - (1.0 - _LEVELS[-1]) * np.exp(-(xs[right] - q[right, -1]) / hi_gap[right])
        mid = ok & ~left & ~right
        k = below[mid]
        rows = np.flatnonzero(mid)
        q0, q1 = q[rows, k - 1], q[rows, k]
        out[mid] = _LEVELS[k - 1] + (_LEVELS[k] - _LEVELS[k - 1]) * (xs[mid] - q0) / (q1 - q0)
        out[ok & (xs < 0)] = 0.0
        return out

    def _step_cdf(self, xs: FloatArray) -> FloatArray:
        """P(X <= floor(x)): 0 below 0, 1 at or beyond K, NaN where x is NaN.

        ``floor`` forgives 1e-9 of float error below a whole number (3 - 1e-12 is 3).
        """
        cum: FloatArray = self.__dict__["_cum"]
        out = np.full(len(xs), np.nan)
        ok = np.isfinite(xs)
        top = cum.shape[1] - 1
        k = np.floor(np.where(ok, xs, 0.0) + 1e-9)
        out[ok & (k < 0)] = 0.0
        out[ok & (k >= top)] = 1.0
        inside = np.flatnonzero(ok & (k >= 0) & (k < top))
        out[inside] = cum[inside, k[inside].astype(np.intp)]
        return out

    def prob_over(self, lines: npt.ArrayLike) -> FloatArray:
        """P(points > line) per row (NaN where the line is NaN)."""
        return 1.0 - self.cdf(lines)

    def prob_push(self, lines: npt.ArrayLike) -> FloatArray:
        """P(outcome == line) per row: the mass at a whole line, 0 on a half line.

        A continuous distribution has no atoms: 0 everywhere (NaN where the line is NaN).
        On a discrete one a whole line at or beyond K gets the mass on K, which holds
        the whole tail.
        """
        xs = _floats(lines, len(self), "lines")
        ok = np.isfinite(xs)
        out = np.where(ok, 0.0, np.nan)
        if self.pmf is None:
            return out
        k = np.round(np.where(ok, xs, 0.5))
        whole = ok & np.isclose(xs, k) & (k >= 0)
        rows = np.flatnonzero(whole)
        cols = np.minimum(k[rows], self.pmf.shape[1] - 1).astype(np.intp)
        out[rows] = self.pmf[rows, cols]
        return out


def _check_pmf(pmf: FloatArray, n: int) -> None:
    if pmf.ndim != 2 or pmf.shape[0] != n or pmf.shape[1] < 1:
        raise ValueError(f"pmf must be {n} x (K+1), got {pmf.shape}")
    if not np.isfinite(pmf).all() or (pmf < 0).any():
        raise ValueError("a pmf must be finite and non-negative")
    if not np.allclose(pmf.sum(axis=1), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError("each pmf row must sum to 1 (within 1e-6)")


def _cumulative(pmf: FloatArray) -> FloatArray:
    """P(X <= k) for k = 0 … K: capped at 1, exactly 1 at K."""
    cum = np.minimum(np.cumsum(pmf, axis=1), 1.0)
    cum[:, -1] = 1.0
    return cum


# Float error a discrete quantile forgives: P(X <= k) this close below a level reaches it.
_QUANTILE_TOLERANCE = 1e-12


def _discrete_quantiles(cum: FloatArray) -> FloatArray:
    """The smallest k with P(X <= k) >= level, per row and level (``cum`` is P(X <= k)).

    That k counts the cells still below the level; each cell's count of levels it has
    reached, histogrammed per row and summed up to a level, gives those counts at once.
    """
    n, n_levels = cum.shape[0], len(QUANTILES)
    reached = np.searchsorted(_LEVELS - _QUANTILE_TOLERANCE, cum, side="right")
    reached += (np.arange(n) * (n_levels + 1))[:, None]
    hist = np.bincount(reached.ravel(), minlength=n * (n_levels + 1)).reshape(n, n_levels + 1)
    return np.cumsum(hist, axis=1)[:, :n_levels].astype(np.float64)


def _mean_of(q: FloatArray) -> FloatArray:
    """Mean of the distribution ``cdf`` describes: uniform segments plus the two tails."""
    steps = np.diff(_LEVELS)
    middle = (steps * (q[:, 1:] + q[:, :-1]) / 2).sum(axis=1)
    lo_gap = np.maximum(q[:, 1] - q[:, 0], _MIN_TAIL_SCALE)
    hi_gap = np.maximum(q[:, -1] - q[:, -2], _MIN_TAIL_SCALE)
    q05 = q[:, 0]
    left = _LEVELS[0] * (q05 - lo_gap * (1.0 - np.exp(-q05 / lo_gap)))
    right = (1.0 - _LEVELS[-1]) * (q[:, -1] + hi_gap)
    return np.asarray(middle + left + right, dtype=np.float64)


@dataclass(frozen=True)
class Provenance:
    """What a fitted system was trained on, with what, and when (saved beside it)."""

    system_id: str
    fitted_at: str
    feature_set: str
    feature_columns: tuple[str, ...]
    n_train_rows: int
    train_start: str | None
    train_end: str | None
    params: dict[str, Any]
    versions: dict[str, str]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], _jsonable(asdict(self)))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def library_versions(*packages: str) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("numpy", "pandas", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def feature_set_key(expected: FeatureSet | str) -> str:
    return expected.key if isinstance(expected, FeatureSet) else str(expected)


def frame_feature_columns(X: pd.DataFrame) -> list[str]:
    """The catalog features among a frame's columns, in frame order."""
    return [c for c in X.columns if c in FEATURES]


def _frame_feature_set(X: pd.DataFrame, columns: list[str]) -> str:
    if "feature_set" in X.columns and len(X):
        keys = pd.unique(X["feature_set"].astype(str))
        if len(keys) != 1:
            raise FeatureSetMismatchError(f"frame mixes feature sets: {', '.join(keys)}")
        return str(keys[0])
    for key, fs in FEATURE_SETS.items():
        if set(fs.features) == set(columns):
            return key
    return "custom"


def market_feature(name: str, market: Market) -> str:
    """The feature of ``market`` in the role the points feature ``name`` plays
    (``points_avg_season`` -> ``rebounds_avg_season``); other features are shared."""
    if market.name == DEFAULT_MARKET or not name.startswith("points_"):
        return name
    return f"{market.prefix}_{name.removeprefix('points_')}"


def frame_dates(X: pd.DataFrame) -> pd.Series:
    if "game_date" not in X.columns:
        raise ValueError("frame lacks the key column game_date")
    return pd.to_datetime(X["game_date"])


class Persisted:
    """Save and load with a JSON provenance sidecar; loading checks the feature set first."""

    system_id: ClassVar[str]
    libraries: ClassVar[tuple[str, ...]] = ()  # whose versions a fit records
    feature_set_: str
    fitted_: Provenance

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments as stored (constructors store arguments only)."""
        names = [
            p
            for p in inspect.signature(type(self).__init__).parameters
            if p not in {"self", "kwargs"}
        ]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _provenance(
        self, X: pd.DataFrame, key: str, columns: list[str], details: dict[str, Any]
    ) -> Provenance:
        """What a fit records: when, on which features and dates, with which parameters."""
        dates = frame_dates(X)
        return Provenance(
            system_id=self.system_id,
            fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            feature_set=key,
            feature_columns=tuple(columns),
            n_train_rows=len(X),
            train_start=dates.min().date().isoformat(),
            train_end=dates.max().date().isoformat(),
            params=self.get_params(),
            versions=library_versions(*self.libraries),
            details=details,
        )

    def _check_frame_tag(self, X: pd.DataFrame) -> None:
        """A frame that names its feature set must name the one this fit was bound to."""
        if "feature_set" in X.columns and len(X):
            keys = set(pd.unique(X["feature_set"].astype(str)))
            if keys != {self.feature_set_}:
                raise FeatureSetMismatchError(
                    f"{self.system_id} was fitted on {self.feature_set_}; frame is "
                    f"{', '.join(sorted(keys))}"
                )

    def _check_fitted(self) -> None:
        if not hasattr(self, "fitted_"):
            raise NbapropsError(f"{self.system_id} is not fitted: call fit first")

    def save(self, path: Path | str) -> Path:
        """Pickle the fitted system to ``path`` and its provenance to ``<path>.json``."""
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        sidecar = {
            "format": _ARTEFACT_FORMAT,
            "system_id": self.system_id,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "feature_set": self.feature_set_,
            "provenance": self.fitted_.to_dict(),
        }
        _sidecar(path).write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | str, *, expected_feature_set: FeatureSet | str) -> Self:
        """Load a saved system, refusing it when bound to another feature set.

        The sidecar is checked before anything is unpickled, so a mismatched
        artefact is never executed.
        """
        path = Path(path)
        expected = feature_set_key(expected_feature_set)
        meta_path = _sidecar(path)
        if not path.is_file() or not meta_path.is_file():
            raise NbapropsError(f"{path}: no saved system (needs the file and {meta_path.name})")
        meta = json.loads(meta_path.read_text())
        if meta.get("feature_set") != expected:
            raise FeatureSetMismatchError(
                f"{path}: fitted on feature set {meta.get('feature_set')!r}, "
                f"expected {expected!r}; refit it on {expected!r}"
            )
        with path.open("rb") as fh:
            obj = pickle.load(fh)
        if not isinstance(obj, cls) or obj.feature_set_ != expected:
            raise FeatureSetMismatchError(f"{path}: artefact does not match its sidecar")
        return obj


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# Every concrete system class by its id, filled as each class is defined (``factory``
# imports them all): a composite finds its members' classes here, not in the factory.
_CLASSES: dict[str, type[PredictionSystem]] = {}


def registered_class(system_id: str) -> type[PredictionSystem]:
    """The system class registered under ``system_id`` (one clear error if none)."""
    try:
        return _CLASSES[system_id]
    except KeyError:
        raise NbapropsError(
            f"unknown system {system_id!r}: use one of {', '.join(_CLASSES)}"
        ) from None


class PredictionSystem(Persisted, ABC):
    """Base of every feature-frame system: validation, binding and provenance live here.

    Subclasses set ``system_id`` and ``required_features`` and implement ``_fit`` and
    ``_predict_dist``; they receive the caller's frame and must not modify it.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        system_id = cls.__dict__.get("system_id")
        if isinstance(system_id, str):  # a concrete system names itself
            _CLASSES[system_id] = cls

    # Named for points; a system that predicts any market (``any_market``) reads each
    # one's own features in the same roles (``market_feature``: points_X -> <market>_X).
    required_features: ClassVar[tuple[str, ...]] = ()
    any_market: ClassVar[bool] = False
    # How its P(over) meets the line (``predictions.history.calibration_kind``): its own
    # distribution, the market's price, or anchored to the market.
    calibration_kind: ClassVar[str] = "distribution"
    # Whether ``fit`` honours per-row sample weights (e.g. recency weighting).
    supports_sample_weight: ClassVar[bool] = False
    # Rough seconds a fit takes on a season of history (benchmarks/bench_walkforward.py):
    # fits run side by side start the longest first.
    fit_cost: ClassVar[float] = 1.0

    feature_columns_: list[str]
    market_: str

    @classmethod
    def required_for(cls, market: Market) -> tuple[str, ...]:
        """The features it needs to predict ``market``."""
        return tuple(market_feature(f, market) for f in cls.required_features)

    @property
    def market(self) -> Market:
        """The market it was fitted to predict (its feature set's; points before a fit)."""
        return get_market(getattr(self, "market_", DEFAULT_MARKET))

    def feature(self, name: str) -> str:
        """The fitted market's feature in the role ``name`` plays for points."""
        return market_feature(name, self.market)

    def fit(
        self,
        X: pd.DataFrame,
        y: npt.ArrayLike | pd.Series,
        sample_weight: npt.ArrayLike | None = None,
    ) -> Self:
        weight = None
        if sample_weight is not None:
            if not self.supports_sample_weight:
                raise NbapropsError(f"{self.system_id} does not take sample weights")
            weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if len(weight) != len(X) or not np.isfinite(weight).all() or (weight < 0).any():
                raise ValueError("sample_weight needs one finite, non-negative value per row")
        columns = frame_feature_columns(X)
        if not columns:
            raise ValueError("frame has no catalog feature columns")
        key = _frame_feature_set(X, columns)
        market = get_market(market_of_key(key))
        if market.name != DEFAULT_MARKET and not self.any_market:
            raise NbapropsError(f"{self.system_id} predicts points only, not {market.name}")
        missing = [f for f in self.required_for(market) if f not in columns]
        if missing:
            raise FeatureSetMismatchError(
                f"{self.system_id} needs features the frame lacks: {', '.join(missing)}"
            )
        target = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(target) != len(X):
            raise ValueError(f"y has {len(target)} values for {len(X)} rows")
        if len(X) == 0:
            raise ValueError(f"{self.system_id}: cannot fit on an empty frame")
        if not np.isfinite(target).all():
            raise ValueError("y must be finite (drop unplayed games before fitting)")
        known = FEATURE_SETS.get(key)
        if known is not None and set(known.features) != set(columns):
            raise FeatureSetMismatchError(
                f"frame says {key} but its feature columns differ: "
                f"missing {sorted(set(known.features) - set(columns))}, "
                f"extra {sorted(set(columns) - set(known.features))}"
            )
        self.feature_set_ = key
        self.feature_columns_ = columns
        self.market_ = market.name
        if weight is None:
            details = self._fit(X, target) or {}
        else:  # only a system declaring supports_sample_weight gets here (checked above)
            details = self._fit(X, target, weight) or {}  # type: ignore[call-arg]
        self.fitted_ = self._provenance(X, key, columns, details)
        return self

    def check_frame(self, X: pd.DataFrame) -> None:
        """Refuse a frame whose features differ from those fitted on, naming the difference."""
        self._check_fitted()
        columns = frame_feature_columns(X)
        missing = [c for c in self.feature_columns_ if c not in columns]
        extra = [c for c in columns if c not in self.feature_columns_]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"extra {', '.join(extra)}")
            raise FeatureSetMismatchError(
                f"{self.system_id} was fitted on {self.feature_set_}; frame has " + "; ".join(parts)
            )
        self._check_frame_tag(X)

    def predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        self.check_frame(X)
        if len(X) == 0:
            return PredictiveDistribution.from_quantiles(np.empty((0, len(QUANTILES))))
        return self._predict_dist(X)

    def predict(self, X: pd.DataFrame) -> FloatArray:
        """Point prediction: the predictive median (lines are set at the median)."""
        return np.array(self.predict_dist(X).median)

    def prob_over(self, X: pd.DataFrame, lines: npt.ArrayLike) -> FloatArray:
        """Uncalibrated P(points > line) per row."""
        return self.predict_dist(X).prob_over(lines)

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The fitted feature columns, in fitted order (a view, never written to)."""
        return X[self.feature_columns_]

    @abstractmethod
    def _fit(self, X: pd.DataFrame, y: FloatArray) -> dict[str, Any] | None:
        """Fit on a validated frame; return details worth keeping in the provenance."""

    @abstractmethod
    def _predict_dist(self, X: pd.DataFrame) -> PredictiveDistribution:
        """Predict on a validated, non-empty frame."""
