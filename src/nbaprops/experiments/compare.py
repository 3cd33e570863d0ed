"""Two runs side by side on exactly the same player-games, with the difference's interval.

Runs hold different rows (other windows, other spines); comparing their headline
figures would let a population difference pass for a model difference. Here only
the player-games both predicted count, and every difference carries a paired
bootstrap 95% interval (Poisson weights, seeded, so it is reproducible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.core.values import json_safe

_KEY = ["player_id", "game_date"]


@dataclass(frozen=True)
class ComparedFigure:
    """One figure of both runs on the same rows: A, B, A − B and its 95% interval."""

    figure: str
    rows: str
    n: int
    a: float
    b: float
    diff: float
    ci_low: float
    ci_high: float
    n_a: int | None = None  # for hit rate and ROI: each run's own bets among the rows
    n_b: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], json_safe(self.__dict__))


def _ratio(w: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ num) / (w @ den)


def _paired(
    num_a: np.ndarray,
    den_a: np.ndarray,
    num_b: np.ndarray,
    den_b: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[float, float, float, float, float]:
    """Point values of sum(num)/sum(den) for A and B, their difference and its interval."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a = float(num_a.sum() / den_a.sum()) if den_a.sum() else math.nan
        b = float(num_b.sum() / den_b.sum()) if den_b.sum() else math.nan
    n = len(num_a)
    if n == 0 or math.isnan(a) or math.isnan(b):
        return a, b, a - b, math.nan, math.nan
    diffs = []
    left = n_boot
    while left > 0:
        size = min(left, max(1, 2_000_000 // n))
        w = rng.poisson(1.0, size=(size, n)).astype(float)
        diffs.append(_ratio(w, num_a, den_a) - _ratio(w, num_b, den_b))
        left -= size
    d = np.concatenate(diffs)
    d = d[np.isfinite(d)]
    if not len(d):
        return a, b, a - b, math.nan, math.nan
    low, high = np.quantile(d, [0.025, 0.975])
    return a, b, a - b, float(low), float(high)


def _bets(
    actual: np.ndarray, line: np.ndarray, side: np.ndarray, over: np.ndarray, under: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per played row: won, decided, priced (1/0) and profit per unit at the quoted price.

    As in the metrics module's ``roi_actual``, ROI covers the decided bets that have a
    quoted price; an unpriced bet counts toward the hit rate only.
    """
    outcome = m.grade_bets(actual, line, side, np.ones(len(actual), dtype=bool))
    won = (outcome == m.WIN).astype(float)
    decided = won + (outcome == m.LOSS)
    price = np.where(side == m.OVER, over, under)
    priced = decided * np.isfinite(price)
    profit = np.nan_to_num(np.asarray(m.bet_profit(outcome, price), dtype=float)) * priced
    return won, decided, priced, profit


def compare_predictions(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    lines: str = "sportsbook",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Figures of runs A and B on the player-games both predicted (played rows only)."""
    rng = np.random.default_rng(seed)
    cols = ["median", "p_over", "side"]
    left = a[a["played"]][
        [*_KEY, "actual", "line", "line_kind", "over_price", "under_price", *cols]
    ]
    right = b[b["played"]][[*_KEY, "line", *cols]]
    both = left.merge(right, on=_KEY, suffixes=("_a", "_b"))
    out: dict[str, Any] = {
        "rows_a": int(a["played"].sum()),
        "rows_b": int(b["played"].sum()),
        "common": len(both),
        "figures": [],
    }
    if both.empty:
        return out
    actual = both["actual"].to_numpy(dtype=float)
    ones = np.ones(len(both))
    err_a = np.abs(both["median_a"].to_numpy(dtype=float) - actual)
    err_b = np.abs(both["median_b"].to_numpy(dtype=float) - actual)
    figures = [
        ComparedFigure("mae", "all", len(both), *_paired(err_a, ones, err_b, ones, n_boot, rng))
    ]
    # The same line for both (a run's lines come from one warehouse at one decision rule).
    same_line = both["line_a"].notna() & (both["line_a"] == both["line_b"])
    lined = both[same_line & (both["line_kind"] == lines)].rename(columns={"line_a": "line"})
    out["lined_common"] = len(lined)
    if len(lined):
        actual = lined["actual"].to_numpy(dtype=float)
        line = lined["line"].to_numpy(dtype=float)
        ones = np.ones(len(lined))
        ea = np.abs(lined["median_a"].to_numpy(dtype=float) - actual)
        eb = np.abs(lined["median_b"].to_numpy(dtype=float) - actual)
        figures.append(
            ComparedFigure("mae", lines, len(lined), *_paired(ea, ones, eb, ones, n_boot, rng))
        )
        graded = (actual != line).astype(float)
        over = (actual > line).astype(float)
        pa = np.nan_to_num(lined["p_over_a"].to_numpy(dtype=float))
        pb = np.nan_to_num(lined["p_over_b"].to_numpy(dtype=float))
        figures.append(
            ComparedFigure(
                "brier",
                lines,
                int(graded.sum()),
                *_paired(
                    graded * (pa - over) ** 2,
                    graded,
                    graded * (pb - over) ** 2,
                    graded,
                    n_boot,
                    rng,
                ),
            )
        )
        over_price = lined["over_price"].to_numpy(dtype=float)
        under_price = lined["under_price"].to_numpy(dtype=float)
        won_a, dec_a, priced_a, profit_a = _bets(
            actual, line, lined["side_a"].to_numpy(dtype=object), over_price, under_price
        )
        won_b, dec_b, priced_b, profit_b = _bets(
            actual, line, lined["side_b"].to_numpy(dtype=object), over_price, under_price
        )
        figures.append(
            ComparedFigure(
                "hit_rate",
                lines,
                len(lined),
                *_paired(won_a, dec_a, won_b, dec_b, n_boot, rng),
                n_a=int(dec_a.sum()),
                n_b=int(dec_b.sum()),
            )
        )
        figures.append(
            ComparedFigure(
                "roi_actual",
                lines,
                len(lined),
                *_paired(profit_a, priced_a, profit_b, priced_b, n_boot, rng),
                n_a=int(priced_a.sum()),
                n_b=int(priced_b.sum()),
            )
        )
    out["figures"] = [f.to_dict() for f in figures]
    return out
