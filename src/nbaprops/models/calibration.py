"""Distribution recalibration fitted on earlier folds only.

A system's raw predictive CDF is recalibrated through the empirical distribution of
its probability-integral-transform values u = F_raw(actual) on earlier folds:
P(points <= x) = G(F_raw(x)), with G the ECDF of those u. It needs no lines (every
graded player-game counts), and because points are integers it is exact for the
half-point and whole-number lines books post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PitCalibrator:
    """ECDF of earlier folds' PIT values; identity when there is no history."""

    pit: np.ndarray  # sorted PIT values from earlier folds

    @classmethod
    def fit(cls, pit_values: np.ndarray) -> PitCalibrator:
        values = np.asarray(pit_values, dtype=float)
        values = values[np.isfinite(values)]
        return cls(np.sort(np.clip(values, 0.0, 1.0)))

    @property
    def n(self) -> int:
        return len(self.pit)

    def __call__(self, raw_cdf: np.ndarray) -> np.ndarray:
        raw = np.clip(np.asarray(raw_cdf, dtype=float), 0.0, 1.0)
        if self.n == 0:
            return raw
        # Share of earlier PIT values at or below the raw CDF, with a small prior toward
        # the raw value so extreme tails are not forced to exactly 0 or 1.
        below = np.searchsorted(self.pit, raw, side="right")
        prior = 10.0
        return (below + prior * raw) / (self.n + prior)


def prob_over_under_push(
    cdf_at: Callable[[np.ndarray], np.ndarray],
    lines: np.ndarray,
    calibrator: PitCalibrator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated P(over), P(under), P(push) for each line (push only on whole lines)."""
    lines = np.asarray(lines, dtype=float)
    whole = np.isclose(lines, np.round(lines))
    at_line = calibrator(cdf_at(lines))
    below_line = calibrator(cdf_at(np.where(whole, lines - 0.5, lines)))
    p_push = np.where(whole, np.clip(at_line - below_line, 0.0, 1.0), 0.0)
    p_under = np.where(whole, below_line, at_line)
    p_over = np.clip(1.0 - at_line, 0.0, 1.0)
    return p_over, p_under, p_push


# Fewest earlier graded lined rows before the line-aware stage is fitted.
MIN_LINED_ROWS = 150


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class PlattCalibrator:
    """P(over | line) = sigmoid(a + b * logit(p)), fitted on earlier folds' graded lines.

    The distribution calibration above is learned on every player-game; against a
    line, which already carries most of the information, a model's disagreement is
    worth less than its own spread says. This stage learns how much less (b < 1
    shrinks toward the market) from lined outcomes of earlier folds only.
    """

    a: float
    b: float
    n: int

    @classmethod
    def identity(cls) -> PlattCalibrator:
        return cls(0.0, 1.0, 0)

    @classmethod
    def fit(cls, p_over: np.ndarray, went_over: np.ndarray) -> PlattCalibrator:
        p = np.asarray(p_over, dtype=float)
        y = np.asarray(went_over, dtype=float)
        ok = np.isfinite(p) & np.isfinite(y)
        p, y = p[ok], y[ok]
        if len(p) < MIN_LINED_ROWS:
            return cls.identity()
        x = _logit(p)
        a, b = 0.0, 1.0
        for _ in range(50):  # Newton steps on the logistic log-likelihood, lightly ridged
            z = np.clip(a + b * x, -30, 30)
            q = 1 / (1 + np.exp(-z))
            w = q * (1 - q)
            g = np.array([np.sum(q - y), np.sum((q - y) * x) + 1.0 * (b - 1.0)])
            h = np.array(
                [[np.sum(w) + 1e-6, np.sum(w * x)], [np.sum(w * x), np.sum(w * x * x) + 1.0]]
            )
            step = np.linalg.solve(h, g)
            a, b = a - step[0], b - step[1]
            if np.max(np.abs(step)) < 1e-8:
                break
        return cls(float(a), float(b), len(p))

    def __call__(self, p_over: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return np.asarray(p_over, dtype=float)
        z = self.a + self.b * _logit(np.asarray(p_over, dtype=float))
        return 1 / (1 + np.exp(-z))


@dataclass(frozen=True)
class Calibration:
    """Both stages together: what a registered version carries and the backtest applies.

    Fitted from out-of-sample rows only (a walk-forward's earlier folds), so the daily
    job, loading a version, prices a line exactly as the backtest priced it.
    """

    pit: PitCalibrator
    platt: PlattCalibrator

    @classmethod
    def identity(cls) -> Calibration:
        return cls(PitCalibrator.fit(np.array([])), PlattCalibrator.identity())

    @classmethod
    def from_history(cls, rows: pd.DataFrame) -> Calibration:
        """Fit on out-of-sample rows with ``pit``, ``played``, ``line``, ``actual`` and
        ``p_over_dist`` (the PIT-calibrated P(over) those rows were priced with)."""
        if rows.empty:
            return cls.identity()
        pit = PitCalibrator.fit(rows["pit"].to_numpy(dtype=float))
        lined = rows[rows["played"] & rows["line"].notna() & (rows["actual"] != rows["line"])]
        platt = PlattCalibrator.fit(
            lined["p_over_dist"].to_numpy(dtype=float),
            (lined["actual"] > lined["line"]).to_numpy(dtype=float),
        )
        return cls(pit, platt)

    def probabilities(
        self, cdf_at: Callable[[np.ndarray], np.ndarray], lines: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(P(over) after the PIT stage, P(over), P(under), P(push)) at each line."""
        p_over_dist, _, p_push = prob_over_under_push(cdf_at, lines, self.pit)
        p_over = self.platt(p_over_dist)
        p_under = np.clip(1.0 - p_over - p_push, 0.0, 1.0)
        return p_over_dist, p_over, p_under, p_push

    def to_dict(self) -> dict[str, Any]:
        return {
            "pit": [float(v) for v in self.pit.pit],
            "platt": {"a": self.platt.a, "b": self.platt.b, "n": self.platt.n},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        platt = data["platt"]
        return cls(
            PitCalibrator(np.asarray(data["pit"], dtype=float)),
            PlattCalibrator(float(platt["a"]), float(platt["b"]), int(platt["n"])),
        )
