"""Leakage tripwire: loud warnings for figures too good to be honest.

Split from ``core.metrics`` (issue 25); the thresholds are the honest references the
backtest report checks its own figures against.
"""

from __future__ import annotations

import math

LEAKAGE_MAE_FLOOR = 4.5
LEAKAGE_HIT_RATE = 0.58
LEAKAGE_MIN_BETS = 1000
LEAKAGE_R2 = 0.6
# Another market has no published MAE reference: its model's MAE on lined rows may not
# fall this far below the line's own MAE on the same rows (the market's best estimate).
LEAKAGE_MAE_SHARE_OF_LINE = 0.9

_LEAK_CAUSES = (
    "likely causes: a rolling window that includes the same game, season stats computed "
    "over future games, odds snapshots taken after tip-off, or random instead of "
    "date-grouped splits"
)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def leakage_alarms(
    lined_mae: float | None,
    hit_rate: float | None,
    n_bets: int,
    r2: float | None,
    *,
    market: str = "points",
    line_mae: float | None = None,
) -> list[str]:
    """Loud warnings for figures too good to be honest; an empty list means none tripped.

    Honest references for points: the line's own MAE is ~4.9-5.0, single games hold
    little R²; for every market sustained hit rates sit near 53%. Another market is held
    to its own line: a model MAE under ``LEAKAGE_MAE_SHARE_OF_LINE`` of the line's MAE on
    the same rows (``line_mae``) trips it. ``hit_rate`` is a fraction (0.58, not 58); a
    value above 1 raises. None or NaN means "not measured" and trips nothing.
    """
    mae, rate, r_squared = _or_nan(lined_mae), _or_nan(hit_rate), _or_nan(r2)
    if rate > 1 or rate < 0:
        raise ValueError(f"hit_rate must be a fraction in [0, 1], got {hit_rate}")
    alarms = []
    if market != "points":
        floor = LEAKAGE_MAE_SHARE_OF_LINE * _or_nan(line_mae)
        if mae < floor:
            alarms.append(
                f"LEAKAGE ALARM: {market} MAE {mae:.2f} on lined players is below "
                f"{LEAKAGE_MAE_SHARE_OF_LINE:.0%} of the line's own ({_or_nan(line_mae):.2f}); "
                f"{_LEAK_CAUSES}."
            )
        if rate > LEAKAGE_HIT_RATE and n_bets >= LEAKAGE_MIN_BETS:
            alarms.append(
                f"LEAKAGE ALARM: hit rate {rate:.1%} over {n_bets:,} bets exceeds "
                f"{LEAKAGE_HIT_RATE:.0%} (honest systems sit near 53%); {_LEAK_CAUSES}."
            )
        return alarms
    if mae < LEAKAGE_MAE_FLOOR:
        alarms.append(
            f"LEAKAGE ALARM: points MAE {mae:.2f} on lined players is below "
            f"{LEAKAGE_MAE_FLOOR} (the line itself scores ~4.9-5.0); {_LEAK_CAUSES}."
        )
    if rate > LEAKAGE_HIT_RATE and n_bets >= LEAKAGE_MIN_BETS:
        alarms.append(
            f"LEAKAGE ALARM: hit rate {rate:.1%} over {n_bets:,} bets exceeds "
            f"{LEAKAGE_HIT_RATE:.0%} (honest systems sit near 53%); {_LEAK_CAUSES}."
        )
    if r_squared > LEAKAGE_R2:
        alarms.append(
            f"LEAKAGE ALARM: R² {r_squared:.2f} on single-game points exceeds {LEAKAGE_R2} "
            f"(single games are too noisy for that); {_LEAK_CAUSES}."
        )
    return alarms
