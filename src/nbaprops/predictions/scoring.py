"""Score a date: the one path from a model's predictive distribution to a decision.

Predictive distribution → calibrated P(over) / P(under) / P(push) at each line →
expected value at the quoted prices (pushes return the stake) → OVER / UNDER / PASS.
The walk-forward backtest calls it fold by fold with the calibration its earlier folds
earned; the daily job calls it with the calibration a registered version carries.
Nothing here reads the warehouse.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core import odds
from nbaprops.core.metrics import OVER, UNDER
from nbaprops.models.calibration import Calibration

PASS_SIDE = "PASS"
# Columns a scored frame must have: the lines known at decision time and their prices.
LINE_COLUMNS = ("line", "line_kind", "over_price", "under_price")


def decide(
    p_over: np.ndarray,
    p_under: np.ndarray,
    over_price: np.ndarray,
    under_price: np.ndarray,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """OVER / UNDER when the expected value at the quoted price beats the margin.

    An unquoted price is taken at the conventional -110; a push returns the stake.
    """
    over_px = np.where(np.isnan(over_price), odds.FLAT_PRICE, over_price)
    under_px = np.where(np.isnan(under_price), odds.FLAT_PRICE, under_price)
    ev_over = np.asarray(odds.expected_value_with_push(p_over, p_under, over_px))
    ev_under = np.asarray(odds.expected_value_with_push(p_under, p_over, under_px))
    side = np.where(
        (ev_over > margin) & (ev_over >= ev_under),
        OVER,
        np.where(ev_under > margin, UNDER, PASS_SIDE),
    )
    ev = np.where(side == OVER, ev_over, np.where(side == UNDER, ev_under, np.nan))
    return side, ev


def score_rows(
    rows: pd.DataFrame, dist: Any, calibration: Calibration, *, ev_margin: float
) -> pd.DataFrame:
    """Probabilities, expected value and a decision for every row (one per player-game).

    ``rows`` carry the line known at decision time (NaN: no line) with its kind and
    prices; DFS lines have no prices and are decided at -110. With an ``actual``
    column (a replay) the PIT value of the outcome is kept for later calibration.
    """
    missing = [c for c in LINE_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows to score lack: {', '.join(missing)}")
    line = rows["line"].to_numpy(dtype=float)
    has_line = ~np.isnan(line)
    safe_line = np.where(has_line, line, 0.0)
    p_over_dist, p_over, p_under, p_push = calibration.probabilities(dist.cdf, safe_line)
    raw_over = 1.0 - np.clip(dist.cdf(safe_line), 0, 1)
    dfs = (rows["line_kind"] == "dfs").to_numpy()
    over_price = np.where(dfs, np.nan, rows["over_price"].to_numpy(dtype=float))
    under_price = np.where(dfs, np.nan, rows["under_price"].to_numpy(dtype=float))
    side, ev = decide(
        np.nan_to_num(np.where(has_line, p_over, np.nan)),
        np.nan_to_num(np.where(has_line, p_under, np.nan)),
        over_price,
        under_price,
        ev_margin,
    )
    median = np.asarray(dist.median, dtype=float)
    out = pd.DataFrame(
        {
            "median": median,
            "mean": np.asarray(dist.mean, dtype=float),
            "line": line,
            "over_price": over_price,
            "under_price": under_price,
            "edge": median - line,
            "p_over_raw": np.where(has_line, raw_over, np.nan),
            "p_over_dist": np.where(has_line, p_over_dist, np.nan),
            "p_over": np.where(has_line, p_over, np.nan),
            "p_under": np.where(has_line, p_under, np.nan),
            "p_push": np.where(has_line, p_push, np.nan),
            "side": np.where(has_line, side, PASS_SIDE),
            "ev": ev,
            "calibration_n": calibration.pit.n,
            "line_calibration_n": calibration.platt.n,
            "line_calibration_slope": calibration.platt.b,
        },
        index=rows.index,
    )
    if "actual" in rows.columns:
        actual = rows["actual"].to_numpy(dtype=float)
        played = ~np.isnan(actual)
        # PIT u = F(actual): for integer points, G(F(x)) with G the ECDF of earlier u is
        # exactly the empirical P(points <= x) at every half-point and whole-number line.
        out["pit"] = np.where(played, dist.cdf(np.where(played, actual, 0.0)), np.nan)
    return out
