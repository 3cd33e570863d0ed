"""Bankrolls and ledgers: what a run of bets does to a bankroll, at flat and Kelly stakes.

Split from ``core.metrics`` (issue 25). Pure over numpy arrays; results are frozen
dataclasses whose ``to_dict()`` is strict JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from nbaprops.core.metrics import (
    LOSS,
    PASS,
    PUSH,
    VOID,
    WIN,
    FloatArray,
    Record,
    bet_profit,
    float_array,
    same_length,
    wilson_interval,
)
from nbaprops.core.odds import kelly_stake

STAKINGS = ("flat", "kelly")


@dataclass(frozen=True)
class Bankroll(Record):
    """A bankroll betting every priced, decided-or-pushed bet in date order.

    ``flat`` stakes ``flat_stake`` units a bet; ``kelly`` stakes the fraction of
    fractional Kelly (from the bet's own P(win) and P(lose) and the price taken) of the
    bankroll at the start of the bet's date, so bets of one date never size off each
    other's results. A date's stakes never exceed the bankroll (scaled down if they
    would). ``max_drawdown`` is the largest fall from a running peak, as a share of it."""

    staking: str
    n_bets: int
    start: float
    final: float
    roi_on_start: float
    max_drawdown: float
    curve: tuple[tuple[str, float], ...]


def simulate_bankroll(
    dates: npt.ArrayLike,
    outcome: npt.ArrayLike,
    price: npt.ArrayLike,
    p_win: npt.ArrayLike,
    p_lose: npt.ArrayLike,
    *,
    staking: str,
    kelly_fraction: float = 0.25,
    start: float = 100.0,
    flat_stake: float = 1.0,
) -> Bankroll:
    """Simulate one staking plan; rows without a price or not bet ('pass') are skipped."""
    if staking not in STAKINGS:
        raise ValueError(f"staking must be one of {STAKINGS}, got {staking!r}")
    o = np.asarray(outcome, dtype=object)
    pr = np.asarray(price, dtype=float)
    pw = np.asarray(p_win, dtype=float)
    pl = np.asarray(p_lose, dtype=float)
    days = np.asarray(dates).astype(str)
    bet = (o != PASS) & np.isfinite(pr)
    if staking == "kelly":
        bet &= np.isfinite(pw) & np.isfinite(pl)
    o, pr, pw, pl, days = o[bet], pr[bet], pw[bet], pl[bet], days[bet]
    per_unit = np.asarray(bet_profit(o, pr), dtype=float).reshape(-1)
    share = (
        np.asarray(kelly_stake(pw, pl, pr, kelly_fraction), dtype=float).reshape(-1)
        if staking == "kelly"
        else np.zeros(len(o))
    )
    bankroll, peak, drawdown = start, start, 0.0
    curve = []
    for day in sorted(set(days.tolist())):
        on = days == day
        stakes = share[on] * bankroll if staking == "kelly" else np.full(on.sum(), flat_stake)
        total = float(stakes.sum())
        if bankroll <= 0:
            stakes = np.zeros_like(stakes)
        elif total > bankroll:
            stakes = stakes * (bankroll / total)
        bankroll += float((stakes * per_unit[on]).sum())
        peak = max(peak, bankroll)
        drawdown = max(drawdown, (peak - bankroll) / peak if peak > 0 else 0.0)
        curve.append((day, bankroll))
    return Bankroll(
        staking=staking,
        n_bets=len(o),
        start=start,
        final=bankroll,
        roi_on_start=(bankroll - start) / start,
        max_drawdown=drawdown,
        curve=tuple(curve),
    )


# --- the ledger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerSummary(Record):
    """A ledger of bets as placed: counts, hit rate with its interval, ROI per unit at the
    prices taken, units won at the flat stakes, and the final bankrolls (``start`` units
    at the start) at flat and at the recommended (capped fractional-Kelly) stakes, with
    their largest falls from a running peak."""

    n_bets: int
    wins: int
    losses: int
    pushes: int
    voids: int
    hit_rate: float
    ci_low: float
    ci_high: float
    roi: float
    units: float
    start: float
    final_flat: float
    final_kelly: float
    max_drawdown_flat: float
    max_drawdown_kelly: float
    n_dates: int


def _max_drawdown(path: FloatArray, start: float) -> float:
    if path.size == 0:
        return 0.0
    values = np.concatenate([[start], path])
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        falls = np.where(peak > 0, (peak - values) / peak, 0.0)
    return float(falls.max())


def ledger(
    dates: npt.ArrayLike,
    outcome: npt.ArrayLike,
    per_unit: npt.ArrayLike,
    stake_units: npt.ArrayLike,
    stake_share: npt.ArrayLike,
    *,
    start: float = 100.0,
) -> tuple[pd.DataFrame, LedgerSummary]:
    """Running figures of bets in the order given (sort by date first) and their summary.

    ``per_unit`` is each bet's profit per unit staked at its own line and price;
    ``stake_units`` the flat stake in units (1 unit = 1% of a 100-unit bankroll);
    ``stake_share`` the recommended stake as a share of the bankroll, sized off the
    bankroll at the start of the bet's date (bets of one date never size off each other's
    results; a date's stakes never exceed the bankroll, scaled down if they would).
    Returns per bet: profit in units, running units, running bankroll at flat
    and at the recommended stakes."""
    days = np.asarray(dates).reshape(-1).astype(str)
    o = np.asarray(outcome, dtype=object).reshape(-1)
    r = np.nan_to_num(float_array(per_unit, "per_unit"))
    units = np.nan_to_num(float_array(stake_units, "stake_units"))
    share = np.nan_to_num(float_array(stake_share, "stake_share"))
    n = same_length(dates=days, outcome=o, per_unit=r, stake_units=units, stake_share=share)
    profit_units = units * r
    running_units = np.cumsum(profit_units)
    flat = start + running_units
    kelly = np.empty(n)
    bankroll, i = start, 0
    while i < n:  # one run of equal dates at a time, stakes off the bankroll at its start
        j = i + 1
        while j < n and days[j] == days[i]:
            j += 1
        stakes = share[i:j] if bankroll > 0 else np.zeros(j - i)  # ruined: nothing to stake
        total = float(stakes.sum())
        if total > 1.0:  # a date never stakes more than the whole bankroll
            stakes = stakes / total
        kelly[i:j] = bankroll * (1.0 + np.cumsum(stakes * r[i:j]))
        bankroll, i = float(kelly[j - 1]), j
    wins, losses = int(np.sum(o == WIN)), int(np.sum(o == LOSS))
    decided = (o == WIN) | (o == LOSS)
    low, high = wilson_interval(wins, wins + losses)
    running = pd.DataFrame(
        {
            "profit_units": profit_units,
            "running_units": running_units,
            "bankroll_flat": flat,
            "bankroll_kelly": kelly,
        }
    )
    summary = LedgerSummary(
        n_bets=n,
        wins=wins,
        losses=losses,
        pushes=int(np.sum(o == PUSH)),
        voids=int(np.sum(o == VOID)),
        hit_rate=wins / (wins + losses) if wins + losses else math.nan,
        ci_low=low,
        ci_high=high,
        roi=float(r[decided].mean()) if decided.any() else math.nan,
        units=float(running_units[-1]) if n else 0.0,
        start=start,
        final_flat=float(flat[-1]) if n else start,
        final_kelly=float(kelly[-1]) if n else start,
        max_drawdown_flat=_max_drawdown(flat, start),
        max_drawdown_kelly=_max_drawdown(kelly, start),
        n_dates=len(set(days.tolist())),
    )
    return running, summary
