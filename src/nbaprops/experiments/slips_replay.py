"""DFS pick'em slips replayed over a walk-forward: the figures a DFS user can act on.

DFS lines have no prices, so a DFS row's figures at -110 mean nothing. What a pick'em
player stakes is a slip: legs whose calibrated P(win) clears the slip type's break-even
(``core.slips``), paid by the operator's table. For each system and each evaluated date
the legs are suggested from that date's scored DFS rows of every market run (at most one
leg per player, same-game legs priced through the copula or refused), the slips are
built and each is graded as a whole from the box scores, its legs also alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nbaprops.core.metrics import wilson_interval
from nbaprops.core.slips import (
    LOSS,
    WIN,
    PayoutTable,
    SlipType,
    break_even,
    grade_leg,
    grade_slip,
    suggest_legs,
)

if TYPE_CHECKING:
    from nbaprops.experiments.backtest import BacktestResult


def dfs_rows(results: Sequence[BacktestResult]) -> pd.DataFrame:
    """Every market run's reported (not warm-up) DFS rows, with their market."""
    parts = []
    for r in results:
        rows = r.predictions
        rows = rows[(rows["line_kind"] == "dfs") & ~rows["warmup"].astype(bool)]
        if len(rows):
            parts.append(rows.assign(market=r.spec.market.name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def replay_slips(
    results: Sequence[BacktestResult],
    slip_type: SlipType,
    table: PayoutTable,
    *,
    margin: float,
    same_game: str,
    correlation: float,
    max_slips: int = 3,
) -> list[dict[str, Any]]:
    """Per system: the slips suggested each date and how they were paid (profit per unit
    staked at the slip table, never -110), and their legs graded alone."""
    rows = dfs_rows(results)
    if rows.empty:
        return []
    out: list[dict[str, Any]] = []
    for system_id, mine in rows.groupby("system", sort=True):
        actual = {
            (str(p), str(d)[:10], str(m)): float(a)
            for p, d, m, a in zip(
                mine["player_id"], mine["game_date"], mine["market"], mine["actual"], strict=True
            )
        }
        suggested = suggest_legs(
            mine,
            slip_type,
            margin=margin,
            same_game="refuse" if same_game == "refuse" else "price",
            correlation=correlation,
            max_slips=max_slips,
        )
        profits: list[float] = []
        claimed: list[float] = []
        leg_outcomes: list[str] = []
        results_by: dict[str, int] = {}
        graded_slips: list[dict[str, Any]] = []
        for day in suggested.values():
            for slip in day.slips:
                outcomes = [
                    grade_leg(
                        actual.get((leg.player_id, leg.game_date or "", leg.market or "")),
                        float(leg.line if leg.line is not None else math.nan),
                        leg.side,
                    )
                    for leg in slip.legs
                ]
                graded = grade_slip(outcomes, slip_type, table)
                graded_slips.append(
                    {
                        "game_date": slip.legs[0].game_date,
                        "legs": [
                            {
                                "player_id": leg.player_id,
                                "market": leg.market,
                                "line": leg.line,
                                "side": leg.side,
                                "p_win": leg.p_win,
                                "outcome": o,
                            }
                            for leg, o in zip(slip.legs, outcomes, strict=True)
                        ],
                        "claimed_ev": slip.ev,
                        "paid_as": graded.paid_as,
                        "payout": graded.payout,
                        "profit": graded.profit,
                    }
                )
                profits.append(graded.profit)
                claimed.append(slip.ev)
                leg_outcomes += outcomes
                results_by[graded.result] = results_by.get(graded.result, 0) + 1
        legs = np.asarray(leg_outcomes, dtype=object)
        wins, losses = int((legs == WIN).sum()), int((legs == LOSS).sum())
        low, high = wilson_interval(wins, wins + losses)
        n = len(profits)
        out.append(
            {
                "system": str(system_id),
                "slip_type": slip_type.name,
                "break_even": break_even(slip_type),
                "dfs_rows": len(mine),
                "markets": ", ".join(sorted(mine["market"].unique())),
                "dates_with_slips": sum(1 for d in suggested.values() if d.slips),
                "slips": n,
                "slip_results": results_by,
                "roi": float(np.mean(profits)) if n else math.nan,
                "units": float(np.sum(profits)),
                "claimed_ev": float(np.mean(claimed)) if n else math.nan,
                "legs": len(legs),
                "leg_hit_rate": wins / (wins + losses) if wins + losses else math.nan,
                "leg_ci_low": low,
                "leg_ci_high": high,
                "graded": graded_slips,
            }
        )
    return out
