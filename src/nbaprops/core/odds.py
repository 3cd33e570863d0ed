"""Odds maths, once: American and decimal prices, implied and no-vig probabilities, and
expected value with pushes. Every stage that prices a bet calls these."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# The conventional price when none is quoted (DFS lines, books without prices).
FLAT_PRICE = -110.0


def as_output(values: npt.ArrayLike) -> float | FloatArray:
    """A float for scalar input, an array otherwise, so vectorised helpers read naturally."""
    arr = np.asarray(values, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def american_to_decimal(price: npt.ArrayLike) -> float | FloatArray:
    """Decimal odds (stake included) from American; NaN stays NaN (no price quoted).

    Prices strictly between -100 and +100 do not exist, so they raise rather than
    silently produce odds below evens.
    """
    p = np.asarray(price, dtype=float)
    bad = np.isfinite(p) & (np.abs(p) < 100)
    if np.any(bad):
        raise ValueError(f"American prices must be <= -100 or >= +100, got {p[bad][:5].tolist()}")
    with np.errstate(divide="ignore", invalid="ignore"):
        dec = np.where(p > 0, 1.0 + p / 100.0, 1.0 + 100.0 / np.abs(p))
    return as_output(np.where(np.isfinite(p), dec, np.nan))


def implied_probability(price: npt.ArrayLike) -> float | FloatArray:
    """Break-even win probability of a price, vig included."""
    dec = np.asarray(american_to_decimal(price), dtype=float)
    return as_output(1.0 / dec)


def no_vig_probabilities(
    over_price: npt.ArrayLike, under_price: npt.ArrayLike
) -> tuple[float | FloatArray, float | FloatArray]:
    """(P(over), P(under)) the market implies once its margin is removed proportionally."""
    po = np.asarray(implied_probability(over_price), dtype=float)
    pu = np.asarray(implied_probability(under_price), dtype=float)
    total = po + pu
    return as_output(po / total), as_output(pu / total)


def expected_value(p_win: npt.ArrayLike, price: npt.ArrayLike) -> float | FloatArray:
    """Expected profit per 1-unit stake: p·(decimal − 1) − (1 − p), ignoring pushes."""
    p = np.asarray(p_win, dtype=float)
    dec = np.asarray(american_to_decimal(price), dtype=float)
    return as_output(p * dec - 1.0)


def expected_value_with_push(
    p_win: npt.ArrayLike, p_lose: npt.ArrayLike, price: npt.ArrayLike
) -> float | FloatArray:
    """Expected profit per 1-unit stake when a push returns the stake:
    P(win)·(decimal − 1) − P(lose). With no push, equal to ``expected_value``."""
    dec = np.asarray(american_to_decimal(price), dtype=float)
    return as_output(np.asarray(p_win, dtype=float) * (dec - 1.0) - np.asarray(p_lose, dtype=float))


def kelly_stake(
    p_win: npt.ArrayLike, p_lose: npt.ArrayLike, price: npt.ArrayLike, fraction: float = 1.0
) -> float | FloatArray:
    """Share of bankroll to stake: ``fraction`` of the Kelly optimum (P(win)·b − P(lose)) / b
    with b = decimal − 1; a push returns the stake. Never negative (no edge: no stake)."""
    b = np.asarray(american_to_decimal(price), dtype=float) - 1.0
    f = (np.asarray(p_win, dtype=float) * b - np.asarray(p_lose, dtype=float)) / b
    return as_output(np.clip(f, 0.0, None) * fraction)


def kelly_from_ev(
    ev: npt.ArrayLike, price: npt.ArrayLike, fraction: float = 1.0
) -> float | FloatArray:
    """``fraction`` of the Kelly stake from a bet's expected value per unit at its price:
    the optimum (P(win)·b − P(lose)) / b is EV / b, pushes included. Never negative; NaN
    EV stakes nothing."""
    b = np.asarray(american_to_decimal(price), dtype=float) - 1.0
    f = np.asarray(ev, dtype=float) / b
    return as_output(np.clip(np.nan_to_num(f, nan=0.0), 0.0, None) * fraction)
