"""Slate signals: what a date's predictions say as a whole.

The signal is a traffic light per system per date: a thin slate or a model leaning
hard to one side is a reason for caution (a RED slate halves the stakes of its picks,
``predictions.picks``). The backtest reports hit rate by colour, so the signal earns
its keep or is dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core.metrics import OVER, UNDER
from nbaprops.core.settings import Settings

RED, YELLOW, GREEN = "RED", "YELLOW", "GREEN"
# What the signal reads of a stored prediction row.
SIGNAL_INPUTS = ("recommendation", "edge", "game_id")


@dataclass(frozen=True)
class SlateSignal:
    n_games: int
    n_bets: int
    over_share: float
    n_high_edge: int
    skew: str
    signal: str
    reasons: str

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["over_share"] = None if np.isnan(self.over_share) else self.over_share
        return out


def slate_signal(rows: pd.DataFrame, settings: Settings) -> SlateSignal:
    """The signal of one system's rows of one date (``side`` or ``recommendation``,
    ``edge``, ``game_id``); only bets on real lines count."""
    side_col = "recommendation" if "recommendation" in rows.columns else "side"
    side = rows[side_col].to_numpy(dtype=object)
    bets = np.isin(side, (OVER, UNDER))
    n_bets = int(bets.sum())
    n_over = int((side == OVER).sum())
    over_share = n_over / n_bets if n_bets else float("nan")
    high = bets & (np.abs(rows["edge"].to_numpy(dtype=float)) >= settings.picks.high_edge_points)
    n_high = int(high.sum())
    n_games = int(rows["game_id"].nunique())
    if n_bets == 0:
        skew = "BALANCED"
    elif over_share < settings.picks.skew_under_share:
        skew = "UNDER_HEAVY"
    elif over_share > settings.picks.skew_over_share:
        skew = "OVER_HEAVY"
    else:
        skew = "BALANCED"
    red, yellow = [], []
    if n_games <= settings.picks.signal_min_games:
        red.append(f"{n_games} games on the slate (<= {settings.picks.signal_min_games})")
    if n_bets and over_share < settings.picks.signal_red_over_share:
        red.append(f"{over_share:.0%} OVER (< {settings.picks.signal_red_over_share:.0%})")
    if n_high < settings.picks.signal_min_high_edge:
        yellow.append(f"{n_high} high-edge bets (< {settings.picks.signal_min_high_edge})")
    if n_bets and over_share > settings.picks.signal_yellow_over_share:
        yellow.append(f"{over_share:.0%} OVER (> {settings.picks.signal_yellow_over_share:.0%})")
    signal = RED if red else YELLOW if yellow else GREEN
    reasons = "; ".join(red or yellow) or "a full slate without a lean"
    return SlateSignal(n_games, n_bets, over_share, n_high, skew, signal, reasons)


def store_signal(
    con: duckdb.DuckDBPyConnection, day: date, system_id: str, version: int, sig: SlateSignal
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO predictions.signal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            day,
            system_id,
            version,
            sig.n_games,
            sig.n_bets,
            None if np.isnan(sig.over_share) else sig.over_share,
            sig.n_high_edge,
            sig.skew,
            sig.signal,
            sig.reasons,
        ],
    )
