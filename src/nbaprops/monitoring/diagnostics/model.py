"""Diagnostics of the model (did it drift from its own walk-forward reference?).

**Model drift**: hit rates over 7/14/30 days with N (real lines only), MAE and mean
signed error (prediction − actual) over 7 days on lined played rows with a bias direction
at ±0.5, and a 0–100 drift score of the last 30 days against the version's own
walk-forward reference rows (stored with its registry version; the same lined, played
population on both sides): ``100 × (0.4·mae + 0.4·direction + 0.2·bias)`` where
``mae = clip(ΔMAE / 1.0)``, ``direction = clip(drop in the share of games called on the
right side of the line / 0.10)``, ``bias = clip((|bias| - |reference bias|) / 1.5)``.
Severity none < 20 ≤ minor < 40 ≤ moderate < 70 ≤ severe. A version whose reference
holds fewer than ``MIN_REFERENCE_ROWS`` lined rows has no drift score (said so).

The figures in outcome units (the ±0.5 bias, the 1.0 of MAE, the 1.5 of bias) are set
in points; another market multiplies them by its catalog ``error_scale`` (threes 0.23:
a 7-day bias past ±0.115 threes is a direction). Points' scale is 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from nbaprops.core import metrics as m
from nbaprops.monitoring.diagnostics.common import lined_played, rounded, status_of

BIAS_POINTS = 0.5
DRIFT_SEVERITY = ((20.0, "none"), (40.0, "minor"), (70.0, "moderate"), (math.inf, "severe"))
MIN_REFERENCE_ROWS = 100
MIN_DRIFT_ROWS = 50  # lined played rows in the 30-day window before a drift score
WINDOWS = (7, 14, 30)


def _hit_rate(rows: pd.DataFrame) -> tuple[float | None, int, list[float | None]]:
    bets = rows[(rows["line_source"] == "ACTUAL") & rows["result"].isin(["right", "wrong"])]
    wins, n = int((bets["result"] == "right").sum()), len(bets)
    low, high = m.wilson_interval(wins, n)
    return (wins / n if n else None), n, [rounded(low), rounded(high)]


def _direction(rows: pd.DataFrame) -> float | None:
    """Share of lined played games (no push) where the median was on the result's side."""
    rows = rows[rows["actual"] != rows["line"]]
    if rows.empty:
        return None
    return float(
        (np.sign(rows["median"] - rows["line"]) == np.sign(rows["actual"] - rows["line"])).mean()
    )


def _errors(rows: pd.DataFrame) -> tuple[float | None, float | None]:
    if rows.empty:
        return None, None
    err = rows["median"] - rows["actual"]
    return float(err.abs().mean()), float(err.mean())


def model_drift(
    windows: dict[int, pd.DataFrame], reference: pd.DataFrame | None, scale: float = 1.0
) -> dict[str, Any]:
    """Hit rates, errors and the drift score against ``reference``; ``scale`` is the
    market's ``error_scale`` (the module's text)."""
    out: dict[str, Any] = {}
    for days, rows in windows.items():
        rate, n, ci = _hit_rate(rows)
        out[f"hit_rate_{days}d"], out[f"bets_{days}d"], out[f"hit_rate_{days}d_ci"] = (
            rounded(rate),
            n,
            ci,
        )
    week = lined_played(windows[7])
    mae, bias = _errors(week)
    out["n_lined_7d"] = len(week)
    out["mae_7d"], out["mean_signed_error_7d"] = rounded(mae), rounded(bias)
    out["bias"] = (
        None
        if bias is None
        else "over"
        if bias > BIAS_POINTS * scale
        else "under"
        if bias < -BIAS_POINTS * scale
        else "neutral"
    )
    month = lined_played(windows[30])
    out["n_lined_30d"] = len(month)
    out["drift_score"] = None
    out["drift_severity"] = None
    ref = None
    if reference is not None:
        ref = reference[reference["line"].notna() & reference["played"].astype(bool)]
        ref = ref[ref["actual"].notna()]
    out["n_reference"] = 0 if ref is None else len(ref)
    if ref is None or len(ref) < MIN_REFERENCE_ROWS:
        out["drift_reason"] = (
            f"reference holds {out['n_reference']} lined rows (< {MIN_REFERENCE_ROWS})"
        )
        return out
    if len(month) < MIN_DRIFT_ROWS:
        out["drift_reason"] = f"{len(month)} lined rows in 30 days (< {MIN_DRIFT_ROWS})"
        return out
    ref_mae, ref_bias = _errors(ref)
    cur_mae, cur_bias = _errors(month)
    ref_dir, cur_dir = _direction(ref), _direction(month)
    if ref_mae is None or cur_mae is None or ref_bias is None or cur_bias is None:
        out["drift_reason"] = "no lined rows to compare"
        return out
    c_mae = float(np.clip((cur_mae - ref_mae) / (1.0 * scale), 0, 1))
    c_dir = (
        float(np.clip((ref_dir - cur_dir) / 0.10, 0, 1))
        if ref_dir is not None and cur_dir is not None
        else 0.0
    )
    c_bias = float(np.clip((abs(cur_bias) - abs(ref_bias)) / (1.5 * scale), 0, 1))
    score = 100 * (0.4 * c_mae + 0.4 * c_dir + 0.2 * c_bias)
    out.update(
        {
            "drift_score": rounded(score),
            "drift_severity": status_of(score, DRIFT_SEVERITY),
            "reference": {
                "mae": rounded(ref_mae),
                "mean_signed_error": rounded(ref_bias),
                "direction_share": rounded(ref_dir),
            },
            "current_30d": {
                "mae": rounded(cur_mae),
                "mean_signed_error": rounded(cur_bias),
                "direction_share": rounded(cur_dir),
            },
            "components": {"mae": c_mae, "direction": c_dir, "bias": c_bias},
        }
    )
    return out
