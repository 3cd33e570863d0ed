"""Diagnostics of the market (did the line get sharper?).

**Market sharpness** (lined, played player-games): the line's MAE against the actual
outcome (points, or the diagnosed market's: rebounds, PRA, ...) by line tier (< 12,
12–20, > 20), the share of player-games where the model's median was strictly closer
to the result than the line (a tie counts half), and a 0–100 score, the mean of

- ``a = clip((6.5 - line MAE 7d) / (6.5 - 4.0), 0, 1)`` (a line that misses by less is
  sharper), and
- ``b = clip((0.55 - model-beats-line share 7d) / 0.20, 0, 1)`` (a model that beats it
  less often faces a sharper line),

with a status dull < 30 ≤ normal < 60 ≤ sharp < 80 ≤ razor_sharp; the market regime is
TIGHT when the 7-day line MAE is < 4.5, LOOSE when ≥ 6.5, else NORMAL.

Those figures are in points, where they were calibrated. Another market reads them on
its own scale: every threshold in outcome units (6.5, 4.0, 4.5) is multiplied by its
catalog ``error_scale`` (its lines' typical miss over points'; threes 0.23, PRA 1.19),
and its tiers are its catalog ``line_tiers`` (threes < 2, 2–3, > 3; named ``lt2``,
``2to3``, ``gt3``). Points' scale is 1 and its tiers 12 and 20: its figures are exactly
those of before markets. The shares are unitless and read the same in every market.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core.markets import DEFAULT_MARKET, MARKET_CATALOG, Market
from nbaprops.monitoring.diagnostics.common import lined_played, rounded, status_of

REGIME_TIGHT = 4.5
REGIME_LOOSE = 6.5
SHARP_MAE_HIGH, SHARP_MAE_LOW = 6.5, 4.0
SHARP_BEAT_HIGH, SHARP_BEAT_SPAN = 0.55, 0.20
SHARPNESS_STATUS = ((30.0, "dull"), (60.0, "normal"), (80.0, "sharp"), (math.inf, "razor_sharp"))


def tiers_of(market: Market) -> tuple[tuple[str, float, float], ...]:
    """The market's line tiers as (name, low, high): ``lt12``, ``12to20``, ``gt20`` for
    points."""
    low, high = market.line_tiers
    return (
        (f"lt{low:g}", -math.inf, low),
        (f"{low:g}to{high:g}", low, high),
        (f"gt{high:g}", high, math.inf),
    )


def beats_line(rows: pd.DataFrame) -> float | None:
    """The share of rows where the model's median was strictly closer to the result than
    the line; a tie counts half. A system whose median is the line (the market system, or
    the anchored one before it has lined history) ties on every row: 0.5, neither beating
    the line nor beaten by it (counted as a loss, it read 0% and raised an alert a day)."""
    if rows.empty:
        return None
    model = (rows["actual"] - rows["median"]).abs().to_numpy(dtype=float)
    line = (rows["actual"] - rows["line"]).abs().to_numpy(dtype=float)
    return float(np.mean((model < line) + 0.5 * (model == line)))


def market_sharpness(
    day_rows: pd.DataFrame,
    week_rows: pd.DataFrame,
    market: Market = MARKET_CATALOG[DEFAULT_MARKET],
) -> dict[str, Any]:
    """The date's sharpness figures in ``market``, on its own scale (the module's text)."""
    scale = market.error_scale
    day_lined, week_lined = lined_played(day_rows), lined_played(week_rows)
    tiers = {}
    for name, low, high in tiers_of(market):
        t = day_lined[(day_lined["line"] >= low) & (day_lined["line"] < high)]
        tiers[name] = {
            "n": len(t),
            "line_mae": rounded((t["actual"] - t["line"]).abs().mean()) if len(t) else None,
        }
    mae_7 = (week_lined["actual"] - week_lined["line"]).abs().mean() if len(week_lined) else None
    beat_7 = beats_line(week_lined)
    score = None
    if mae_7 is not None and beat_7 is not None:
        mae_high, mae_low = SHARP_MAE_HIGH * scale, SHARP_MAE_LOW * scale
        a = np.clip((mae_high - mae_7) / (mae_high - mae_low), 0, 1)
        b = np.clip((SHARP_BEAT_HIGH - beat_7) / SHARP_BEAT_SPAN, 0, 1)
        score = float(100 * (a + b) / 2)
    regime = None
    if mae_7 is not None:
        tight, loose = REGIME_TIGHT * scale, REGIME_LOOSE * scale
        regime = "TIGHT" if mae_7 < tight else "LOOSE" if mae_7 >= loose else "NORMAL"
    return {
        "n_lined": len(day_lined),
        "line_mae": rounded((day_lined["actual"] - day_lined["line"]).abs().mean())
        if len(day_lined)
        else None,
        "line_mae_by_tier": tiers,
        "model_beats_line_share": rounded(beats_line(day_lined)),
        "n_lined_7d": len(week_lined),
        "line_mae_7d": rounded(mae_7),
        "model_beats_line_share_7d": rounded(beat_7),
        "sharpness_score": rounded(score),
        "sharpness_status": status_of(score, SHARPNESS_STATUS),
        "market_regime": regime,
    }
