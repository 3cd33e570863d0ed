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

import numpy as np


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
