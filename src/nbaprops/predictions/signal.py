"""Slate signals and best bets: what a date's predictions say as a whole, and the picks.

The signal is a traffic light per system per date: a thin slate or a model leaning
hard to one side is a reason for caution. The backtest reports hit rate by colour,
so the signal earns its keep or is dropped. Best bets come from the champion only:
positive expected value at a real available price, a minimum edge, capped per day and
per team, ranked by expected value, with flat and fractional-Kelly stakes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from nbaprops.core import odds
from nbaprops.core.metrics import OVER, UNDER
from nbaprops.core.settings import Settings

RED, YELLOW, GREEN = "RED", "YELLOW", "GREEN"


@dataclass(frozen=True)
class SlateSignal:
    n_games: int
    n_bets: int
    over_share: float
    n_high_edge: int
    skew: str
    signal: str
    reasons: str

    def to_dict(self) -> dict[str, Any]:
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
    high = bets & (np.abs(rows["edge"].to_numpy(dtype=float)) >= settings.high_edge_points)
    n_high = int(high.sum())
    n_games = int(rows["game_id"].nunique())
    if n_bets == 0:
        skew = "BALANCED"
    elif over_share < settings.skew_under_share:
        skew = "UNDER_HEAVY"
    elif over_share > settings.skew_over_share:
        skew = "OVER_HEAVY"
    else:
        skew = "BALANCED"
    red, yellow = [], []
    if n_games <= settings.signal_min_games:
        red.append(f"{n_games} games on the slate (<= {settings.signal_min_games})")
    if n_bets and over_share < settings.signal_red_over_share:
        red.append(f"{over_share:.0%} OVER (< {settings.signal_red_over_share:.0%})")
    if n_high < settings.signal_min_high_edge:
        yellow.append(f"{n_high} high-edge bets (< {settings.signal_min_high_edge})")
    if n_bets and over_share > settings.signal_yellow_over_share:
        yellow.append(f"{over_share:.0%} OVER (> {settings.signal_yellow_over_share:.0%})")
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


# What best_bets reads from active predictions.
PICK_INPUTS = (
    "player_id",
    "team",
    "game_id",
    "recommendation",
    "line_source",
    "line",
    "bet_book",
    "bet_line",
    "bet_price",
    "p_over",
    "p_under",
    "edge",
    "ev",
    "in_sample",
)
PICK_COLUMNS = (
    "player_id",
    "player_name",
    "team",
    "game_id",
    "recommendation",
    "line",
    "bet_book",
    "bet_line",
    "bet_price",
    "p_over",
    "p_win",
    "edge",
    "ev",
    "stake_flat",
    "stake_kelly",
    "observation",  # e.g. the breakout shadow's "UNDER on a HIGH breakout-risk player"
)


def best_bets(rows: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The champion's best bets of a date from its active predictions."""
    bets = rows[
        rows["recommendation"].isin((OVER, UNDER))
        & (rows["line_source"] == "ACTUAL")
        & rows["bet_price"].notna()
        & (rows["ev"] > 0)
        & (rows["edge"].abs() >= settings.picks_min_edge)
        & ~rows["in_sample"].astype(bool)
    ].copy()
    if bets.empty:
        return pd.DataFrame(columns=list(PICK_COLUMNS))
    over = bets["recommendation"] == OVER
    bets["p_win"] = np.where(over, bets["p_over"], bets["p_under"])
    p_lose = np.where(over, bets["p_under"], bets["p_over"])
    bets["stake_flat"] = 1.0
    bets["stake_kelly"] = np.asarray(
        odds.kelly_stake(bets["p_win"], p_lose, bets["bet_price"], settings.kelly_fraction),
        dtype=float,
    )
    bets = bets.sort_values(["ev", "player_id"], ascending=[False, True], kind="stable")
    bets = bets[bets.groupby("team").cumcount() < settings.picks_max_per_team]
    bets = bets.head(settings.picks_max_per_day)
    if "player_name" not in bets.columns:
        bets["player_name"] = bets["player_id"].astype(str)
    bets["observation"] = ""
    return bets[list(PICK_COLUMNS)].reset_index(drop=True)
