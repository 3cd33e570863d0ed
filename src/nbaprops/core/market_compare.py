"""The market as a forecaster: a system's P(over) against the market's own.

Split from ``core.metrics`` (issue 25); the figures are the same probability metrics,
computed on exactly the rows where both forecasts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from nbaprops.core.devig import Method, devig
from nbaprops.core.metrics import Record, date_bootstrap, probability_metrics


@dataclass(frozen=True)
class VersusMarket(Record):
    """A system's P(over) against the market's own (its de-vigged consensus prices at
    decision time) on exactly the same rows: both priced, decided (no push or void).

    ``brier_diff`` is system − market (negative: the system is better); its interval
    comes from resampling whole dates (rows of a date share news and line moves)."""

    n: int
    n_dates: int
    method: str
    brier: float
    brier_market: float
    brier_diff: float
    brier_diff_low: float
    brier_diff_high: float
    log_loss: float
    log_loss_market: float
    ece: float
    ece_market: float
    worse_than_market: bool


def versus_market(
    p_over: npt.ArrayLike,
    over_price: npt.ArrayLike,
    under_price: npt.ArrayLike,
    outcome: npt.ArrayLike,
    dates: npt.ArrayLike,
    *,
    method: str = "multiplicative",
    n_boot: int = 1000,
    seed: int = 0,
) -> VersusMarket | None:
    """Score a system's P(over) and the market's on the rows where both exist.

    Rows with a missing price on either side, a missing probability or outcome are
    left out of both; None when nothing is left. ``outcome`` is 1 for over, 0 for
    under (pushes and voids dropped by the caller or passed as NaN)."""
    p = np.asarray(p_over, dtype=float)
    over = np.asarray(over_price, dtype=float)
    under = np.asarray(under_price, dtype=float)
    y = np.asarray(outcome, dtype=float)
    days = np.asarray(dates)
    market = np.full(len(p), np.nan)
    priced = np.isfinite(over) & np.isfinite(under)
    if priced.any():
        market[priced] = np.asarray(
            devig(over[priced], under[priced], cast(Method, method))[0], dtype=float
        )
    keep = np.isfinite(p) & np.isfinite(market) & np.isfinite(y)
    if not keep.any():
        return None
    p, market, y, days = p[keep], market[keep], y[keep], days[keep]
    ours = probability_metrics(p, y)
    theirs = probability_metrics(market, y)
    diff = (p - y) ** 2 - (market - y) ** 2
    n_dates = len(np.unique(days))
    low, high = date_bootstrap(diff, days, n_boot, seed)
    mean_diff = float(diff.mean())
    return VersusMarket(
        n=int(keep.sum()),
        n_dates=n_dates,
        method=method,
        brier=ours.brier,
        brier_market=theirs.brier,
        brier_diff=mean_diff,
        brier_diff_low=low,
        brier_diff_high=high,
        log_loss=ours.log_loss,
        log_loss_market=theirs.log_loss,
        ece=ours.ece,
        ece_market=theirs.ece,
        worse_than_market=mean_diff > 0,
    )
